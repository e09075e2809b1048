"""SLO panels read the series the SLO alerts are computed from: the traffic-weighted error ratio the
rules record over the SLO's window, never an unweighted average of the 5m ratio."""

from __future__ import annotations

import json
import re

import pytest

from obsgen.plan import naming
from obsgen.targets.grafana.dashboards import target as dashboards
from obsgen.targets.prometheus import target as rules
from tests.conftest import ROOT
from tests.targets.test_dashboards import SPECS, all_panels, plan_of

_RECORDED = re.compile(r"\b(?:service|endpoint|edge|slo):obsgen_[a-z0-9_]+:[a-z_]+\d+[smhdw]\b")


def _exprs(plan: object) -> list[tuple[str, str]]:
    out = []
    for artifact in dashboards.render(plan):  # type: ignore[arg-type]
        for panel in all_panels(json.loads(artifact.text).get("panels") or []):
            out += [(panel.get("title", ""), t["expr"]) for t in panel.get("targets") or [] if "expr" in t]
    return out


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_dashboards_read_only_recorded_series_and_never_average_a_ratio(spec: object) -> None:
    plan = plan_of(spec)  # type: ignore[arg-type]
    recorded = {r.record for f in rules.rule_files(plan) for g in f.groups for r in g.rules if hasattr(r, "record")}
    for title, expr in _exprs(plan):
        assert set(_RECORDED.findall(expr)) <= recorded, (title, expr)
        # an average of a recorded ratio over time weighs every 5m alike, whatever its traffic
        assert not re.search(r"avg_over_time\(\s*\w+:obsgen_[\w:]*ratio", expr), (title, expr)


def test_budget_and_compliance_read_the_slo_window_series_the_rules_record() -> None:
    plan = plan_of(ROOT / "specs" / "shop.yaml")
    exprs = _exprs(plan)
    slo = next(s for svc in plan.instrumented for s in svc.slos if s.name == "payments-availability")
    series = naming.recorded("slo", "sli_error", naming.slo_window_text(slo.window))
    mine = f'{series}{{slo="payments-availability",slo_kind="availability"}}'
    budget = [e for t, e in exprs if t == "payments-availability: error budget left"]
    assert budget and all(mine in e for e in budget)
    overview = [e for t, e in exprs if t == "SLO status over each SLO's window"]
    assert len(overview) == 3 and all(mine in e for e in overview[1:])  # objective, compliance, budget columns
