"""SLO panels read the series the SLO alerts are computed from: the traffic-weighted error ratio the
rules record over the SLO's window, never an unweighted average of the 5m ratio."""

from __future__ import annotations

import json
import re

import pytest

from obsgen.plan import naming
from obsgen.targets.grafana.dashboards import target as dashboards
from obsgen.targets.prometheus import target as rules
from obsgen.targets.prometheus.rules import slo_meta as rules_slo_meta
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
    # the templated service dashboard's repeated SLO row reads the period burn rate of the row's SLO by label
    budget = [e for t, e in exprs if t == "Error budget left"]
    assert budget == [f"1 - {rules_slo_meta.PERIOD_BURN_RATE}{{slo=~`${{slo:regex}}`}}"]
    # the overview reads the SLO metadata recordings by label; the period burn rate behind its compliance
    # and budget columns is the SLO window's recorded ratio
    overview = [e for t, e in exprs if t == "SLO status over each SLO's window"]
    assert len(overview) == 3  # objective, compliance, budget columns
    assert overview[0] == rules_slo_meta.OBJECTIVE and overview[2] == f"1 - {rules_slo_meta.PERIOD_BURN_RATE}"
    assert rules_slo_meta.PERIOD_BURN_RATE in overview[1] and rules_slo_meta.OBJECTIVE in overview[1]
    # one period burn rate per SLO window, over every SLO with that window (rules.slo_meta)
    burn = [r.expr for f in rules.rule_files(plan) for g in f.groups for r in g.rules
            if getattr(r, "record", None) == rules_slo_meta.PERIOD_BURN_RATE
            and (rules_slo_meta.WINDOW_LABEL, slo.window.prom()) in r.labels]
    assert burn == [f'{series}{{slo_window="{slo.window.prom()}"}}\n/ on (service_name, slo, slo_kind) group_left ()\n'
                    f'  (1 - {rules_slo_meta.OBJECTIVE})']


def test_the_overview_slo_queries_do_not_grow_with_the_slos() -> None:
    """One selector per column whatever the SLO count (issue #15: an ``or`` branch per SLO made 120-550 KB
    queries); the SLOs' names reach the table through the series' labels, not the query text."""
    plan = plan_of(ROOT / "specs" / "shop.yaml")
    overview = [e for t, e in _exprs(plan) if t == "SLO status over each SLO's window"]
    assert overview and all(len(e) < 200 for e in overview), overview
    assert not any(slo.name in e for slo in plan.slos for e in overview)
