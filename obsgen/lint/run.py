"""Lint one file or text: read it as its tool does, tell its kind, check it, position every finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath

from obsgen.diagnostics import Diagnostic
from obsgen.lint import kinds, report, source
from obsgen.lint.kinds import Options


@dataclass
class Result:
    """What linting one file found. ``checked`` is False when the file could not be read or its kind told."""

    file: str
    kind: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    checked: bool = False
    io_error: bool = False

    @property
    def ok(self) -> bool:
        """True when the file was checked and has no errors (warnings allowed)."""
        return self.checked and not any(d.is_error for d in self.diagnostics)


def _looks_json(text: str, display: str, kind: str | None) -> bool:
    if PurePath(display).suffix.lower() == ".json":
        return True
    return kind == kinds.DASHBOARD and text.lstrip().startswith(("{", "["))


def lint_text(text: str, display: str, *, kind: str | None = None, options: Options | None = None) -> Result:
    """Lint one document given as text; ``display`` names it in diagnostics."""
    options = options or Options()
    result = Result(display, kind)
    try:
        if _looks_json(text, display, kind):
            parsed = source.read_json(text, display)
            keys = list(parsed.data) if isinstance(parsed.data, dict) else []
            result.kind = kind or kinds.detect(keys, is_json=True)
        else:
            node = source.compose_yaml(text, display)
            keys = source.top_level_keys(node)
            result.kind = kind or kinds.detect(keys, is_json=False)
            if result.kind is None:
                parsed = source.Source(display, None)
            else:
                parsed = source.build_yaml(node, display, yaml12=result.kind not in kinds.YAML_11_KINDS)
    except source.ReadError as exc:
        result.diagnostics.append(exc.diagnostic)
        return result
    if result.kind is None:
        result.diagnostics.append(Diagnostic(
            report.UNKNOWN_KIND, f"cannot tell what kind of config this is: {kinds.describe_unknown(keys)}",
            file=display, line=1, column=1, hint=f"pass --kind ({', '.join(kinds.KINDS)})",
        ))
        return result
    check = kinds.checker(result.kind, keys, options)
    result.diagnostics += [report.to_diagnostic(err, parsed) for err in check(parsed.data)]
    result.checked = True
    return result


def lint_file(path: str, *, kind: str | None = None, options: Options | None = None) -> Result:
    """Lint one file; a file that cannot be read is an I/O error (``io_error``), not a finding."""
    try:
        text = source.read_text(path, path)
    except source.ReadError as exc:
        return Result(path, kind, [exc.diagnostic], io_error=exc.io)
    return lint_text(text, path, kind=kind, options=options)
