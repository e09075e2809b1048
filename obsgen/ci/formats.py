"""Diagnostics for CI: GitHub Actions workflow commands (``--format github``) and SARIF 2.1.0
(``--format sarif``) for GitHub code scanning and other SARIF consumers.

The escaping is the runner's own contract, as actions/toolkit writes it in
packages/core/src/command.ts (``escapeData``, ``escapeProperty``; read at commit 4b9afa4c).

Both name files relative to the working directory (the repository root in CI), which is what a
GitHub annotation and a code-scanning alert attach to; a file outside it keeps an absolute path.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path, PurePath
from urllib.parse import quote

from obsgen.diagnostics import CODES, Diagnostic, Severity, sort_key
from obsgen.diagnostics import _one_line as one_line

FORMATS = ("text", "json", "github", "sarif")
"""Every ``--format`` choice; ``text`` and ``json`` are printed by the commands themselves."""

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"


def relative_path(file: str, base: Path | None = None) -> str:
    """``file`` as a POSIX path relative to ``base`` (default: the working directory) when it lies
    below it, else absolute. Not resolved through symlinks: a path the user typed stays recognisable."""
    root = os.path.abspath(base if base is not None else os.getcwd())
    absolute = os.path.abspath(file)
    if os.path.commonpath([root, absolute]) == root:
        return PurePath(os.path.relpath(absolute, root)).as_posix()
    return PurePath(absolute).as_posix()


# --------------------------------------------------------------------------------------------
# GitHub Actions workflow commands


def escape_data(text: str) -> str:
    """Escape a workflow command's message, as actions/toolkit packages/core/src/command.ts
    ``escapeData`` does: ``%`` first (so the escapes themselves survive), then CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value (command.ts ``escapeProperty``): as the message,
    plus ``:`` and ``,``, which otherwise end the value or the property list."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _message(diag: Diagnostic) -> str:
    """The finding in words: ``path: message`` and the hint on its own line (multi-line is allowed in
    both formats: workflow commands carry it escaped, SARIF as is)."""
    # control characters from the input are shown escaped, as in the text form: the only line break
    # is the one before the hint
    text = f"{one_line(diag.path)}: {one_line(diag.message)}" if diag.path else one_line(diag.message)
    return f"{text}\nhint: {one_line(diag.hint)}" if diag.hint else text


def github_command(diag: Diagnostic, base: Path | None = None) -> str:
    """One ``::error``/``::warning`` line for ``diag``; properties without a value are left out, as
    the runner's annotation then simply has no file or position."""
    props: list[tuple[str, str]] = []
    if diag.file:
        props.append(("file", relative_path(diag.file, base)))
        if diag.line:
            props.append(("line", str(diag.line)))
            if diag.column:
                props.append(("col", str(diag.column)))
    props.append(("title", diag.code))
    command = "error" if diag.severity is Severity.ERROR else "warning"
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{command} {joined}::{escape_data(_message(diag))}"


def github_commands(diags: list[Diagnostic], base: Path | None = None) -> str:
    """Workflow commands for every diagnostic, in the stable diagnostic order, one per line."""
    return "".join(github_command(d, base) + "\n" for d in sorted(diags, key=sort_key))


def github_stale(spec: str, out_dir: str, advice: str) -> str:
    """The annotation ``render --check`` adds for stale output: on the spec, since the generated
    files that would change may not exist in the checkout at all."""
    props = f"file={escape_property(relative_path(spec))},title={escape_property('stale output')}"
    return f"::error {props}::{escape_data(f'{out_dir} is stale; {advice}')}\n"


# --------------------------------------------------------------------------------------------
# SARIF 2.1.0


def _version() -> str:
    try:
        return metadata.version("obsgen")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


def _rules() -> list[dict[str, object]]:
    return [{"id": code, "shortDescription": {"text": text}} for code, text in CODES.items()]


def _artifact_location(file: str, base: Path | None) -> dict[str, str]:
    """A relative reference resolved against the checkout root (``%SRCROOT%``), as code scanning
    expects; a file outside the working directory as an absolute ``file:`` URI. Percent-encoded:
    the property is a URI, not a path."""
    path = relative_path(file, base)
    if PurePath(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


def _result(diag: Diagnostic, rule_index: dict[str, int], base: Path | None) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": diag.code,
        "ruleIndex": rule_index[diag.code],
        "level": "error" if diag.severity is Severity.ERROR else "warning",
        "message": {"text": _message(diag)},
    }
    if diag.file:
        physical: dict[str, object] = {"artifactLocation": _artifact_location(diag.file, base)}
        if diag.line:
            region: dict[str, int] = {"startLine": diag.line}
            if diag.column:
                region["startColumn"] = diag.column
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    return result


def sarif_log(diags: list[Diagnostic], base: Path | None = None) -> str:
    """A SARIF 2.1.0 log with one run of obsgen: the whole code catalogue as rules, one result per
    diagnostic in the stable order. Byte-identical for the same diagnostics (no times, no host)."""
    rule_index = {code: index for index, code in enumerate(CODES)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "obsgen", "version": _version(), "rules": _rules()}},
            # columns are counted in characters (code points), SARIF's default, stated for readers
            "columnKind": "unicodeCodePoints",
            "results": [_result(d, rule_index, base) for d in sorted(diags, key=sort_key)],
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def format_report(diags: list[Diagnostic], fmt: str) -> str:
    """The ``github`` or ``sarif`` rendering of ``diags``."""
    if fmt == "github":
        return github_commands(diags)
    if fmt == "sarif":
        return sarif_log(diags)
    raise ValueError(f"format {fmt!r} is printed by the command itself")
