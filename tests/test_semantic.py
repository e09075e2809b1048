"""Semantic checks that guard the rendered artifacts (beyond the invalid-spec catalogue)."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsgen import naming
from obsgen.generate import plan_spec


def _codes(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    spec = tmp_path / "s.yaml"
    spec.write_text(text, encoding="utf-8")
    return [(d.code, d.path) for d in plan_spec(spec).diagnostics]


@pytest.mark.parametrize("label", sorted(naming.COLLECTOR_SPAN_METRICS.intrinsic_labels | {"slo", "severity", "le"}))
def test_routing_labels_may_not_reuse_labels_obsgen_sets_or_reads(tmp_path: Path, label: str) -> None:
    found = _codes(tmp_path, f"services: {{api: {{}}}}\nalerting: {{labels: {{{label}: x}}}}\n")
    assert ("OBS202", f"alerting.labels.{label}") in found


def test_routing_label_team_is_fine(tmp_path: Path) -> None:
    assert _codes(tmp_path, "services: {api: {}}\nalerting: {labels: {team: sre}}\n") == []


def test_series_budget_warns_with_biggest_contributors(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "attributes: {country: {values: [a, b, c, d, e, f, g, h, i, j]}}\n"
        "span_metrics: {dimensions: [country], series_budget: 100}\n"
        "services:\n  big: {endpoints: [GET /a, GET /b, GET /c]}\n  small: {endpoints: [GET /a]}\n",
        encoding="utf-8",
    )
    diags = plan_spec(spec).diagnostics
    assert [d.code for d in diags] == ["OBS503"]
    assert "big (" in diags[0].message and diags[0].message.index("big") < diags[0].message.index("small")
    assert (diags[0].line, diags[0].column) == (2, 54)
