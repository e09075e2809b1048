"""obsgen's words for every pydantic error type the spec models can produce: a code, a message, a hint.

pydantic's own text ("Input should be a valid list", "Dictionary should have at least 1 item after
validation, not 0") names Python types and says nothing about the spec. Each error type obsgen's
models can raise has an entry in ``WORDING``; tests/test_user_errors.py plants wrong values at every
field of the models and fails on an error type missing here or on pydantic wording in the output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import annotated_types
from pydantic.fields import FieldInfo

from obsgen.spec.durations import DurationError
from obsgen.spec.locations import Loc, field_at


class Wording(NamedTuple):
    """What a user reads for one pydantic error."""

    code: str
    message: str
    hint: str


class ErrorFacts(NamedTuple):
    """One pydantic error and what obsgen knows about the place it happened."""

    kind: str
    loc: Loc
    value: object
    ctx: dict[str, Any]
    raw: str
    """pydantic's message: only read for our own validators' text (value_error), never shown otherwise."""

    @property
    def key(self) -> str:
        """The last key of the location (what a user calls the field)."""
        keys = [p for p in self.loc if isinstance(p, str)]
        return keys[-1] if keys else "the spec"

    @property
    def field(self) -> FieldInfo | None:
        """The model field at the location (None for an unknown key)."""
        return field_at(self.loc)

    @property
    def about(self) -> str:
        """The field's documentation, to say what belongs there."""
        info = self.field
        text = (info.description or "").strip() if info is not None else ""
        return f"{self.key}: {text}" if text else ""


def what(value: object) -> str:
    """A YAML user's name for a value's kind, with the value when it is short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        text = repr(value)
        return f"the number {text if len(text) <= 40 else text[:37] + '...'}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "a value of another kind"


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _bounds(facts: ErrorFacts) -> str:
    """'allowed: 0 to 100' from the field's constraints (or the error's own limit)."""
    low = high = ""
    info = facts.field
    metadata: list[object] = list(info.metadata) if info is not None else []
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            low = f"at least {item.ge}"
        elif isinstance(item, annotated_types.Gt):
            low = f"above {item.gt}"
        elif isinstance(item, annotated_types.Le):
            high = f"at most {item.le}"
        elif isinstance(item, annotated_types.Lt):
            high = f"below {item.lt}"
    ctx = facts.ctx
    if not low and not high:  # an item of a list field: only the error's own limit is known
        for name, text in (("ge", "at least"), ("gt", "above"), ("le", "at most"), ("lt", "below")):
            if name in ctx:
                if name in ("ge", "gt"):
                    low = f"{text} {ctx[name]}"
                else:
                    high = f"{text} {ctx[name]}"
    return "allowed: " + " and ".join(p for p in (low, high) if p) if low or high else ""


def _quote_hint(facts: ErrorFacts) -> str:
    if isinstance(facts.value, bool | int | float) or facts.value is None:
        return ("YAML read this as a number, boolean or null; put it in quotes to make it text, e.g. "
                f"{facts.key}: \"{_yaml_text(facts.value)}\"")
    return ""


def _yaml_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _choices(facts: ErrorFacts) -> list[str]:
    return re.findall(r"'([^']*)'", str(facts.ctx.get("expected", "")))


def _one_of(facts: ErrorFacts) -> Wording:
    from obsgen.spec.errors import suggest

    choices = _choices(facts)
    if not choices:  # Literal[True]: a switch that is only ever written as true
        return Wording("OBS202", f"only true is meaningful here, got {what(facts.value)}",
                       f"remove '{facts.key}' to leave it off")
    close = suggest(str(facts.value), choices) if isinstance(facts.value, str) else ""
    quoted = ", ".join(f"'{c}'" for c in choices)
    return Wording("OBS202", f"{what(facts.value)} is not one of {quoted}",
                   _join(close, facts.about) or f"write one of {quoted}")


def _not_a_number(kind: str) -> Callable[[ErrorFacts], Wording]:
    def word(facts: ErrorFacts) -> Wording:
        hint = _join(_bounds(facts), facts.about)
        if isinstance(facts.value, str):
            hint = _join("write the number without quotes", hint)
        return Wording("OBS202", f"expected {kind}, got {what(facts.value)}", hint or "write a number")
    return word


_LIMITS = {"greater_than": ("gt", "must be above"), "greater_than_equal": ("ge", "is below the minimum"),
           "less_than": ("lt", "must be below"), "less_than_equal": ("le", "is above the maximum")}


def _range(facts: ErrorFacts) -> Wording:
    name, words = _LIMITS[facts.kind]
    return Wording("OBS205", f"{what(facts.value)} {words} {facts.ctx.get(name, '')}".rstrip(),
                   _join(_bounds(facts), facts.about) or "use a value in range")


def _too_short(facts: ErrorFacts) -> Wording:
    if facts.loc == ("services",):
        return Wording("OBS205", "'services' is empty: a spec describes at least one service",
                       "for example: services: {api: {}}")
    minimum = facts.ctx.get("min_length", 1)
    kind = ("entry" if isinstance(facts.value, dict) else "item") + ("" if minimum == 1 else "s")
    kind = kind.replace("entrys", "entries")
    return Wording("OBS205", f"'{facts.key}' needs at least {minimum} {kind}, got none",
                   _join(facts.about, "or remove the key to use the default") or "add an item")


def _too_long_text(facts: ErrorFacts) -> Wording:
    limit = facts.ctx.get("max_length", 0)
    length = len(facts.value) if isinstance(facts.value, str) else 0
    return Wording("OBS205", f"text of {length:,} characters is longer than the limit of {limit:,}",
                   f"'{facts.key}' holds at most {limit:,} characters; shorten it")


def _pattern(facts: ErrorFacts) -> Wording:
    from obsgen.spec.errors import _pattern_hint
    from obsgen.spec.types import ATTRIBUTE_PATTERN, IDENT_PATTERN

    pattern = str(facts.ctx.get("pattern", ""))
    noun = {IDENT_PATTERN: "name", ATTRIBUTE_PATTERN: "attribute key"}.get(pattern) or _PATTERN_NOUNS.get(
        pattern, f"value for '{facts.key}'")
    return Wording("OBS203", f"{what(facts.value)} is not a valid {noun}",
                   _PATTERN_HINTS.get(pattern) or _pattern_hint(pattern))


_PATTERN_HINTS = {
    r"^\d{1,9}\.\d{1,9}\.\d{1,9}$": "a version is MAJOR.MINOR.PATCH, each at most 9 digits, e.g. 2.10.8",
    r"^\d+\.\d+\.\d+$": "a version is MAJOR.MINOR.PATCH, e.g. 3.5.0",
    r"^[A-Z_][A-Z0-9_]*$": "the name of an environment variable: capital letters, digits and '_', e.g. S3_ACCESS_KEY",
    r"^[A-Za-z0-9.-]+(:\d{1,5})?$": "host or host:port, without a scheme or path, e.g. minio:9000",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "letters, digits and '_', not starting with a digit",
}


_PATTERN_NOUNS = {
    r"^\d{1,9}\.\d{1,9}\.\d{1,9}$": "version",
    r"^\d+\.\d+\.\d+$": "version",
    r"^[A-Z_][A-Z0-9_]*$": "environment variable name",
    r"^[A-Za-z0-9.-]+(:\d{1,5})?$": "host:port",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "label or field name",
}


# Hints for our own validators' messages (value_error), by the start of the message.
_VALUE_HINTS: tuple[tuple[str, str], ...] = (
    ("a duration", "Go durations: a number and a unit (ns, us, ms, s, m, h, d), e.g. 500ms, 30s, 1h30m"),
    ("a policy needs exactly one kind key", "split it into one policy per kind, or combine kinds with 'and'"),
    ("an SLO needs", "for example: availability: 99.9, or latency: {threshold: 300ms}"),
    ("'..' is not allowed in a name", ""),
    ("control characters", "write it on one line; a value with line breaks cannot be a name or a label"),
    ("must not be empty", "write some text, or remove the key"),
    ("leading or trailing whitespace", "remove the spaces around the text"),
    ("expected a number, not a boolean", "YAML reads yes/no/on/off/true/false as booleans; write the number"),
)


def _value_error(facts: ErrorFacts) -> Wording:
    from obsgen.spec.errors import _pattern_hint
    from obsgen.spec.types import IDENT_PATTERN

    error = facts.ctx.get("error")
    if isinstance(error, DurationError):
        message = str(error)
        return Wording("OBS204", message, _VALUE_HINTS[0][1])
    message = facts.raw.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if message.startswith("'..' is not allowed in a name"):
        return Wording("OBS203", message, _pattern_hint(IDENT_PATTERN))
    if message.startswith("a policy needs exactly one kind"):
        return Wording("OBS206", message, _VALUE_HINTS[1][1])
    if message.startswith("a duration"):
        return Wording("OBS204", message, _VALUE_HINTS[0][1])
    for start, hint in _VALUE_HINTS:
        if message.startswith(start):
            return Wording("OBS202", message, hint or facts.about)
    return Wording("OBS202", message, facts.about or "see docs/spec.md for what this key takes")


def _missing(facts: ErrorFacts) -> Wording:
    return Wording("OBS201", f"missing required key {facts.key!r}",
                   facts.about or f"add '{facts.key}:'")


def _list(facts: ErrorFacts) -> Wording:
    item = _yaml_text(facts.value)
    if isinstance(facts.value, dict) or not item or len(item) > 40:
        hint = "write the items as a YAML list: one '- item' line each, or [a, b]"
    else:
        hint = f"a list even for one item: [{item}]"
    return Wording("OBS202", f"expected a list, got {what(facts.value)}", _join(hint, facts.about))


def _mapping(facts: ErrorFacts) -> Wording:
    from obsgen.spec.errors import allowed_keys

    keys = allowed_keys(facts.loc)
    if keys:
        hint = f"write 'key: value' lines; keys here: {', '.join(keys)}"
    else:
        hint = "write 'name: value' lines (or {name: value})"
    if facts.loc == ("services",) and isinstance(facts.value, list):
        hint = "services is a mapping from each service's name to its settings: services: {api: {}, db: {}}"
    return Wording("OBS202", f"expected a mapping, got {what(facts.value)}", _join(hint, facts.about))


def _text(facts: ErrorFacts) -> Wording:
    return Wording("OBS202", f"expected text, got {what(facts.value)}",
                   _quote_hint(facts) or facts.about or "write one line of text")


def _bool(facts: ErrorFacts) -> Wording:
    return Wording("OBS202", f"expected true or false, got {what(facts.value)}",
                   "write true or false without quotes")


def _finite(facts: ErrorFacts) -> Wording:
    return Wording("OBS205", "must be a finite number (YAML reads .inf, .nan and 1e400 as non-finite)",
                   _bounds(facts) or "write an ordinary number")


def _huge_int(facts: ErrorFacts) -> Wording:
    return Wording("OBS205", "number with too many digits", _bounds(facts) or "write a smaller number")


WORDING: dict[str, Callable[[ErrorFacts], Wording]] = {
    "missing": _missing,
    "string_type": _text,
    "string_too_long": _too_long_text,
    "string_too_short": lambda f: Wording("OBS205", "must not be empty", "write some text, or remove the key"),
    "string_pattern_mismatch": _pattern,
    "int_type": _not_a_number("a whole number"),
    "int_parsing": _not_a_number("a whole number"),
    "int_from_float": _not_a_number("a whole number"),
    "int_parsing_size": _huge_int,
    "float_type": _not_a_number("a number"),
    "float_parsing": _not_a_number("a number"),
    "finite_number": _finite,
    "bool_type": _bool,
    "greater_than": _range,
    "greater_than_equal": _range,
    "less_than": _range,
    "less_than_equal": _range,
    "too_short": _too_short,
    "list_type": _list,
    "dict_type": _mapping,
    "model_type": _mapping,
    "model_attributes_type": _mapping,
    "enum": _one_of,
    "literal_error": _one_of,
    "value_error": _value_error,
    "assertion_error": _value_error,
}


def word(facts: ErrorFacts) -> Wording:
    """obsgen's wording for one error; an error type without an entry still gets no pydantic text."""
    entry = WORDING.get(facts.kind)
    if entry is not None:
        return entry(facts)
    return Wording("OBS202", f"{what(facts.value)} is not valid here",
                   facts.about or "see docs/spec.md for what this key takes")
