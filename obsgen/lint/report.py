"""Turn a strict model's findings into positioned diagnostics: code, position in the file, hint."""

from __future__ import annotations

import re

from obsgen.check.strict import StrictError
from obsgen.diagnostics import Diagnostic, Severity
from obsgen.lint.source import Loc, Source

UNKNOWN_KIND = "OBS800"
UNKNOWN_KEY = "OBS801"
WRONG_VALUE = "OBS802"
MISSING = "OBS803"
UNKNOWN_COMPONENT = "OBS804"
BROKEN_REFERENCE = "OBS805"
OBSGEN_RULE = "OBS806"

# First match wins: the strict models phrase each finding in the words of the tool that rejects it.
_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (OBSGEN_RULE, re.compile(r"^lint\(")),
    (UNKNOWN_KEY, re.compile(r"has invalid keys|field not found|not found in type|unknown [\w .-]*key\b"
                             r"|not a Tempo \d\.x key|is not accepted from v")),
    (UNKNOWN_COMPONENT, re.compile(r"unknown type: |has been removed, use|unknown sampling policy type"
                                   r"|invalid component id|invalid pipeline id|ambiguous ID")),
    (BROKEN_REFERENCE, re.compile(r"references |not configured|does not support the \w+ signal|connector \".*\" "
                                  r"used as|is not a composite sub-policy|dangling|does not resolve"
                                  r"|not provisioned|multiple times")),
    (MISSING, re.compile(r"\brequired\b|\brequires\b|must specify|at least one|no \w+ (configuration )?specified"
                         r"|\bneeds\b|cannot be empty|must not be empty|must contain at least")),
)
_HINTS = {
    UNKNOWN_KEY: "the tool refuses keys it does not know: check the spelling and the version that added or "
                 "removed the key",
    UNKNOWN_COMPONENT: "`otelcol components` lists the component types a Collector build registers",
    BROKEN_REFERENCE: "every id a pipeline names must be defined; a connector is an exporter in one pipeline and a "
                      "receiver in another",
    OBSGEN_RULE: "an obsgen rule, not an upstream rejection: the tool starts, but the config does not do what "
                 "it seems to",
}
_INDEX = re.compile(r"\[(\d+)\]")
_LINT_PREFIX = re.compile(r"^lint\([a-z_]+\): ")


def classify(message: str) -> str:
    """The diagnostic code for a strict-model message."""
    for code, pattern in _CLASSES:
        if pattern.search(message):
            return code
    return WRONG_VALUE


def resolve_path(data: object, path: str) -> Loc:
    """The location tuple a dotted ``a.b[2].c`` path names in ``data``.

    Keys may themselves hold dots (``metrics/spanmetrics``, ``service.name``), so each step takes the
    longest key of the mapping at hand that the rest of the path starts with. What is not in the data (a
    missing required key) is split on dots and kept, so the position falls back to the enclosing node.
    """
    loc: list[str | int] = []
    node, rest = data, path
    while rest:
        if loc and rest.startswith("."):
            rest = rest[1:]
        index = _INDEX.match(rest)
        if index is not None and isinstance(node, list):
            position = int(index.group(1))
            loc.append(position)
            node = node[position] if position < len(node) else None
            rest = rest[index.end():]
            continue
        if isinstance(node, dict):
            keys = [k for k in node if isinstance(k, str) and rest.startswith(k)
                    and (len(rest) == len(k) or rest[len(k)] in ".[")]
            if keys:
                key = max(keys, key=len)
                loc.append(key)
                node, rest = node[key], rest[len(key):]
                continue
        for part in re.split(r"\.|(?=\[)", rest):
            if part:
                index = _INDEX.fullmatch(part)
                loc.append(int(index.group(1)) if index else part)
        break
    return tuple(loc)


def _value_at(data: object, loc: Loc) -> object:
    for part in loc:
        in_list = isinstance(part, int) and isinstance(data, list) and part < len(data)
        in_dict = isinstance(part, str) and isinstance(data, dict) and part in data
        if not (in_list or in_dict):
            return None
        data = data[part]  # type: ignore[index]
    return data


def to_diagnostic(error: StrictError, source: Source) -> Diagnostic:
    """A positioned diagnostic for one strict-model finding in ``source``."""
    code = classify(error.message)
    loc = resolve_path(source.data, error.path)
    # A key that is wrong, or a block that is, is shown at its key; a wrong scalar at the value itself.
    at_key = code == UNKNOWN_KEY or isinstance(_value_at(source.data, loc), dict | list)
    line, column = source.where(loc, key=at_key)
    message = _LINT_PREFIX.sub("", error.message)  # the code (OBS806) and severity already say it
    return Diagnostic(
        code, message, Severity.WARNING if code == OBSGEN_RULE else Severity.ERROR, source.file, line, column,
        error.path, _HINTS.get(code, ""),
    )
