"""Every example spec's Grafana artifacts, rendered in memory once per test session."""

from __future__ import annotations

import functools
from pathlib import Path

from obsgen.generate import generate
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


@functools.cache
def grafana_artifacts(spec: Path) -> dict[str, str]:
    """Path -> text of the spec's Grafana provisioning files and dashboards (rendered, strict-checked).

    Every target is rendered: the cross-artifact checks need the rules the dashboards read.
    """
    result = generate(spec)
    assert result.ok, [d.format() for d in result.sorted_diagnostics()]
    return {a.path: a.text for a in result.artifacts if a.path.startswith("grafana/")}


def dashboards(spec: Path) -> dict[str, str]:
    """Dashboard path -> JSON text."""
    return {p: t for p, t in grafana_artifacts(spec).items() if p.startswith("grafana/dashboards/")}
