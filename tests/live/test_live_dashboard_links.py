"""The overview's services table links each row to that service's dashboard, in a real Prometheus.

Rows get a ``dashboard`` label from the query itself: one regex ``label_replace`` for services whose
UID is ``<system>-svc-<name>``, a join with constant series for the others. Evaluated over literal
rows (no data needed), including a service the spec does not declare.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.targets.grafana.dashboards.overview import DASHBOARD_LABEL, _dashboard_label
from obsgen.targets.grafana.dashboards.queries import constant_series, union
from obsgen.targets.grafana.dashboards.uids import dashboard_uid
from obsgen.targets.prometheus import promql
from tests.conftest import ROOT
from tests.live import synthetic

T = synthetic.T_END


def _plan(tmp_path: Path, names: dict[str, str], copies: int = 0) -> Plan:
    """The shop with some services reporting other names; ``copies`` more services named ``Clone_<i>``."""
    doc = yaml.safe_load((ROOT / "specs" / "shop.yaml").read_text(encoding="utf-8"))
    for key, name in names.items():
        doc["services"][key]["service_name"] = name
    template = doc["services"]["inventory-system"]
    for i in range(copies):
        clone = copy.deepcopy(template)
        clone["service_name"] = f"Clone_{i}"
        clone.pop("slos", None)
        doc["services"][f"clone-{i}"] = clone
    spec = tmp_path / "shop.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = plan_spec(spec)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


def test_a_thousand_renamed_services_do_not_nest_the_query(tmp_path: Path) -> None:
    plan = _plan(tmp_path, {}, copies=1000)
    promql.parse(_dashboard_label(plan, "x"))  # one label_replace per service nested 1,000 levels deep


@pytest.mark.prometheus
def test_each_row_links_to_its_own_dashboard(tmp_path: Path, live_prometheus: Any) -> None:
    plan = _plan(tmp_path, {"payments-service": "Payments_API", "crm-system": "crm (legacy) $1"})
    label = plan.span_metrics.service_label
    expected = {s.name: dashboard_uid(plan, s.key, "service") for s in plan.instrumented}
    assert expected["Payments_API"] != f"{plan.name}-svc-Payments_API"  # both kinds of name are covered
    assert expected["frontend"] == f"{plan.name}-svc-frontend"
    rows = [*expected, "undeclared-service"]
    literal = union([constant_series(i + 1, [(label, name)]) for i, name in enumerate(rows)])

    server = live_prometheus("healthy")
    result = server.query(_dashboard_label(plan, literal), T)

    got = {r["metric"][label]: (r["metric"].get(DASHBOARD_LABEL), float(r["value"][1])) for r in result}
    assert len(result) == len(rows), result
    assert got == {name: (expected.get(name), float(i + 1)) for i, name in enumerate(rows)}
