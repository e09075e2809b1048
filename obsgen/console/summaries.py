"""The one summary line each command ends with (stderr), worded in one place."""

from __future__ import annotations

from pathlib import Path

from obsgen.console.paths import render_command, shown_dir
from obsgen.diagnostics import Diagnostic


def plural(count: int, word: str) -> str:
    """``1 file``, ``2 files``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def validate_summary(specs: list[str], diags: list[Diagnostic], failed: set[str]) -> str:
    """``specs/shop.yaml: valid (0 warnings)``; for several specs one line for all of them."""
    errors = sum(1 for d in diags if d.is_error)
    warnings = len(diags) - errors
    counts = f"{plural(errors, 'error')}, {plural(warnings, 'warning')}" if errors else plural(warnings, "warning")
    if len(specs) == 1:
        return f"{specs[0]}: {'invalid' if failed else 'valid'} ({counts})"
    valid = len(specs) - len(failed)
    return f"{plural(len(specs), 'spec')}: {valid} valid, {len(failed)} invalid ({counts})"


def render_summary(count: int, out_dir: Path, added: int, changed: int, removed: int) -> str:
    """``rendered 41 files into generated/shop/ (3 changed)``."""
    parts = [f"{n} {word}" for n, word in ((added, "added"), (changed, "changed"), (removed, "removed")) if n]
    return f"rendered {plural(count, 'file')} into {shown_dir(out_dir)} ({', '.join(parts) or 'none changed'})"


def up_to_date(out_dir: Path) -> str:
    """``generated/shop/ is up to date``."""
    return f"{shown_dir(out_dir)} is up to date"


def stale_advice(spec: Path, out: Path | None) -> str:
    """``run `obsgen render SPEC [--out DIR]```, repeating the paths exactly as given."""
    return f"run `{render_command(spec, out)}`"


def stale(spec: Path, out_dir: Path, out: Path | None, differing: int) -> str:
    """``generated/shop/ is stale (3 files differ); run `obsgen render specs/shop.yaml```."""
    verb = "differs" if differing == 1 else "differ"
    return f"{shown_dir(out_dir)} is stale ({plural(differing, 'file')} {verb}); {stale_advice(spec, out)}"


def diff_summary(added: int, removed: int, changed: int) -> str:
    """The last line of ``obsgen diff``."""
    return f"{added} file(s) added, {removed} removed, {changed} changed"
