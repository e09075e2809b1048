"""Rule groups evaluated less often than every minute (the SLO window's own ratio, the costliest rule): no alert
reads them, even through another recording, and they are written often enough that an instant read within
Prometheus' default 5m lookback always finds their last sample."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.spec.durations import parse_duration
from obsgen.targets.prometheus import promql
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
MINUTE_NS = 60 * 10**9
LOOKBACK_NS = 5 * MINUTE_NS  # Prometheus' --query.lookback-delta default (cmd/prometheus/main.go)


def _groups(spec: Path) -> list[dict]:
    result = generate(spec, targets=["rules"])
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    return [g for a in result.artifacts if a.path.startswith("prometheus/rules/")
            for g in yaml.safe_load(a.text)["groups"]]


def _read_by_alerts(groups: list[dict]) -> set[str]:
    """Every metric an alert reads, directly or through recordings that read it."""
    reads: dict[str, set[str]] = {}
    todo: list[str] = []
    for g in groups:
        for r in g["rules"]:
            names = promql.metric_names_used(promql.parse(str(r["expr"])))
            if "alert" in r:
                todo += names
            else:
                reads.setdefault(r["record"], set()).update(names)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += reads.get(name, ())
    return seen


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_slow_groups_feed_no_alert_and_stay_within_the_lookback(spec: Path) -> None:
    groups = _groups(spec)
    slow = [g for g in groups if parse_duration(g["interval"]).ns > MINUTE_NS]
    alerting = _read_by_alerts(groups)
    for g in slow:
        recorded = {r["record"] for r in g["rules"]}
        assert not recorded & alerting, f"{g['name']} ({g['interval']}) records what an alert reads"
        # a minute left for the evaluation before the last sample leaves the lookback
        assert parse_duration(g["interval"]).ns + MINUTE_NS <= LOOKBACK_NS, g["name"]
    # exactly the ratios over an SLO's own window (30d) that no alert reads are slow
    slo_windows = {r["labels"]["slo_window"] for g in groups for r in g["rules"]
                   if r.get("record") == "slo:obsgen_objective:ratio"}
    expected = {g["name"] for g in groups if g["name"].rsplit("-", 1)[-1] in slo_windows
                and "-slo-window-" in g["name"] and not {r["record"] for r in g["rules"]} & alerting}
    assert {g["name"] for g in slow} == expected
    if spec.stem == "shop":
        assert [g["name"] for g in slow] == ["shop-slo-window-30d"]
