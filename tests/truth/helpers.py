"""Helpers for the issue-16 tests: plan a spec written inline, render one target."""

from __future__ import annotations

import textwrap
from pathlib import Path

from obsgen.generate import plan_spec
from obsgen.plan import Plan


def make_plan(tmp_path: Path, text: str, name: str = "spec.yaml") -> Plan:
    """Plan a spec; fails on any error diagnostic."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    result = plan_spec(path)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


def diagnostics(tmp_path: Path, text: str) -> list[tuple[str, str, str]]:
    """(code, dotted path, severity) of every diagnostic of a spec."""
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    result = plan_spec(path)
    return [(d.code, d.path, d.severity.value) for d in result.diagnostics]
