"""The plain-JSON dashboard builders: what each writes where the goldens (all Grafana 12.2) do not reach."""

from __future__ import annotations

import pytest

from obsgen.targets.grafana.dashboards import panel_kinds
from obsgen.targets.grafana.dashboards.dashboard_model import schema_version
from obsgen.targets.grafana.dashboards.field_config import override, threshold_steps
from obsgen.targets.grafana.dashboards.panel_model import GridPos, Placed, Row, panels_json, transformation
from obsgen.targets.grafana.dashboards.query_targets import DataSourceRef, PrometheusTarget
from obsgen.targets.grafana.strict import validate_dashboard

PROM = DataSourceRef("prometheus", "prom")


@pytest.mark.parametrize(("grafana", "version"), [
    ("12.2.0", 42), ("12.3.1", 42), ("13.0.0", 42), ("12.1.9", 41), ("12.0.0", 41), ("11.6.3", 39), ("11.0.0", 39),
    ("10.4.2", 36),
])
def test_schema_version_never_newer_than_the_target_grafana_knows(grafana: str, version: int) -> None:
    assert schema_version(grafana) == version


def test_prometheus_target_writes_range_as_the_negation_of_instant() -> None:
    range_query = PrometheusTarget("up", "A", PROM, exemplar=True).to_json()
    instant = PrometheusTarget("up", "B", PROM, instant=True, format="table").to_json()
    assert (range_query["range"], range_query["instant"], range_query["exemplar"]) == (True, False, True)
    assert (instant["range"], instant["instant"], instant["format"]) == (False, True, "table")
    assert range_query["datasource"] == {"type": "prometheus", "uid": "prom"}


def test_stat_draws_a_sparkline_only_for_a_range_query() -> None:
    steps = threshold_steps("green")
    spark = panel_kinds.stat("s", PROM, PrometheusTarget("up", "A", PROM), unit="short", thresholds=steps)
    flat = panel_kinds.stat("s", PROM, PrometheusTarget("up", "A", PROM, instant=True), unit="short",
                            thresholds=steps, decimals=1)
    assert spark.options["graphMode"] == "area" and "decimals" not in spark.field_defaults
    assert flat.options["graphMode"] == "none" and flat.field_defaults["decimals"] == 1


def test_panels_are_numbered_in_grid_order_and_rows_carry_no_query_keys() -> None:
    graph = panel_kinds.timeseries("t", PROM, [PrometheusTarget("up", "A", PROM)], unit="s",
                                   thresholds=threshold_steps("green", [(1.0, "red")]), thresholds_style="dashed",
                                   description="d", overrides=[override("byName", "x", unit="s")])
    table = panel_kinds.table("u", PROM, [PrometheusTarget("up", "A", PROM, instant=True, format="table")],
                              thresholds=threshold_steps("green"), sort_by="Value",
                              transformations=[transformation("merge", {}, ["A"])])
    panels = panels_json([Placed(Row("r", repeat="slo"), GridPos(1, 24, 0, 0)), Placed(graph, GridPos(8, 12, 0, 1)),
                          Placed(table, GridPos(8, 12, 12, 1)), Placed(Row("plain"), GridPos(1, 24, 0, 9))])
    assert [p["id"] for p in panels] == [1, 2, 3, 4]
    assert panels[0] == {"collapsed": False, "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}, "id": 1, "panels": [],
                         "repeat": "slo", "title": "r", "type": "row"}
    assert "repeat" not in panels[3]
    assert panels[1]["description"] == "d" and "description" not in panels[2]
    assert panels[1]["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    assert panels[2]["options"]["sortBy"] == [{"desc": True, "displayName": "Value"}]
    assert panels[2]["transformations"] == [{"filter": {"id": "byRefId", "options": "A"}, "id": "merge",
                                             "options": {}}]
    doc = {"uid": "u", "title": "t", "id": None, "panels": panels, "schemaVersion": 42, "editable": False,
           "templating": {"list": [{"name": "slo", "type": "custom", "multi": True, "includeAll": True}]}}
    assert validate_dashboard(doc, known_datasource_uids=["prom"]) == []
