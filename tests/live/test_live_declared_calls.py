"""The overview's declared-topology tables, in a real Prometheus with obsgen's rules loaded.

Declared calls come from the recorded ``edge:obsgen_declared_call:info`` series (the rules target), not
from the query text. In the failing scenario main-service -> crm-system has no traffic at all and the
undeclared frontend -> payments-service shows up in the service graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from obsgen.generate import generate
from obsgen.targets.grafana.dashboards.queries import ServiceGraphQueries
from tests.conftest import ROOT
from tests.live import synthetic

pytestmark = pytest.mark.prometheus

T = synthetic.T_END
RANGE = "1h"


def _query(expr: str) -> str:
    return expr.replace("$__range", RANGE)


@pytest.fixture(scope="module")
def failing(live_prometheus: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    result = generate(ROOT / "specs" / "shop.yaml", "shop.yaml")
    assert result.ok and result.plan is not None
    rules = tmp_path_factory.mktemp("declared") / "rules"
    rules.mkdir()
    files = []
    for art in result.artifacts:
        if art.path.startswith("prometheus/rules/"):
            path = rules / Path(art.path).name
            path.write_text(art.text, encoding="utf-8")
            files.append(path)
    return result.plan, live_prometheus("failing", files)


def test_every_declared_call_is_listed_with_its_traffic_or_zero(failing: tuple[Any, Any]) -> None:
    plan, server = failing
    rows = server.query(_query(ServiceGraphQueries().declared_edge_traffic()), T)
    got = {(r["metric"]["client"], r["metric"]["server"]): float(r["value"][1]) for r in rows}
    assert set(got) == set(plan.declared_calls) and len(rows) == len(plan.declared_calls)
    assert got[("main-service", "crm-system")] == 0.0  # declared, never seen
    assert all(rate > 0 for edge, rate in got.items() if edge != ("main-service", "crm-system"))


def test_observed_calls_the_spec_does_not_declare(failing: tuple[Any, Any]) -> None:
    _, server = failing
    rows = server.query(_query(ServiceGraphQueries().undeclared_edges(True)), T)
    assert {(r["metric"]["client"], r["metric"]["server"]) for r in rows} == {("frontend", "payments-service")}
