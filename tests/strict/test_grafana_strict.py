"""Tests for the strict Grafana provisioning and dashboard checks."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from obsgen.targets.grafana.strict import (
    check_provisioning_dollars,
    escape_provisioning,
    unescape_provisioning,
    validate_dashboard,
    validate_dashboard_provider_file,
    validate_datasources_file,
)
from tests import upstream


def _yaml(name: str) -> object:
    return yaml.safe_load(upstream.path("grafana", name).read_text())


def _json(name: str) -> dict:
    return json.loads(upstream.path("grafana", name).read_text())


def _paths(errors: list) -> set[str]:
    return {e.path for e in errors}


# --- upstream datasource files -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "grafana-tempo-datasource-provisioning-datasources.yml",
    "intro-to-mltp-datasources.yaml",
    "tempo-v2.8.4-integration-microservices-datasource.yml",
])
def test_upstream_datasource_files_accepted_strictly(name: str) -> None:
    assert validate_datasources_file(_yaml(name)) == []


def test_tempo_example_sets_http_method_the_tempo_plugin_ignores() -> None:
    doc = _yaml("tempo-single-binary-grafana-datasources.yaml")
    assert _paths(validate_datasources_file(doc)) == {"datasources[1].jsonData.httpMethod",
                                                      "datasources[2].jsonData.httpMethod"}
    assert validate_datasources_file(doc, strict_json_data=False) == []


def test_otel_demo_files_reference_each_other() -> None:
    jaeger = _yaml("otel-demo-datasource-jaeger.yaml")
    prom = _yaml("otel-demo-datasource-prometheus-default.yaml")
    errors = validate_datasources_file(jaeger)
    assert [e.path for e in errors] == ["datasources[0].jsonData.tracesToLogsV2.datasourceUid"]
    assert "dangling" in errors[0].message
    # the logs datasource lives in another otel-demo file; the traces one is the jaeger file above
    assert validate_datasources_file(jaeger, known_uids=["webstore-logs"]) == []
    assert validate_datasources_file(prom, known_uids=["webstore-traces"]) == []


def test_uid_match_is_case_sensitive_but_name_fallback_resolves() -> None:
    # intro-to-mltp: serviceMap.datasourceUid 'Mimir' is not the uid 'mimir' (Grafana's DatasourceSrv map
    # lookup is case-sensitive) but it is the datasource *name*, which Grafana falls back to.
    doc = _yaml("intro-to-mltp-datasources.yaml")
    assert doc["datasources"][1]["jsonData"]["serviceMap"]["datasourceUid"] == "Mimir"
    assert validate_datasources_file(doc) == []
    doc["datasources"][2]["name"] = "Metrics"
    errors = validate_datasources_file(doc)
    assert [e.path for e in errors] == ["datasources[1].jsonData.serviceMap.datasourceUid"]
    assert "case-sensitive" in errors[0].message


# --- datasource unit rules ----------------------------------------------------------------------------

def _ds_file() -> dict:
    return {
        "apiVersion": 1,
        "datasources": [
            {"name": "Tempo", "type": "tempo", "uid": "tempo", "access": "proxy", "url": "http://tempo:3200",
             "jsonData": {"tracesToMetrics": {"datasourceUid": "prom", "tags": [{"key": "service.name",
                                                                                  "value": "service"}],
                                              "queries": [{"name": "rate",
                                                           "query": "sum(rate(x{$$__tags}[5m]))"}]},
                          "serviceMap": {"datasourceUid": "prom"}, "streamingEnabled": {"search": True}}},
            {"name": "Prometheus", "type": "prometheus", "uid": "prom", "isDefault": True,
             "jsonData": {"exemplarTraceIdDestinations": [{"name": "traceID", "datasourceUid": "tempo"}],
                          "httpMethod": "POST", "timeInterval": "15s"}},
            {"name": "Loki", "type": "loki", "uid": "loki",
             "jsonData": {"derivedFields": [{"name": "TraceID", "matcherType": "regex",
                                             "matcherRegex": "trace_id=(\\w+)", "url": "$${__value.raw}",
                                             "datasourceUid": "tempo"}]}},
        ],
    }


def test_minimal_datasource_file_ok() -> None:
    assert validate_datasources_file(_ds_file()) == []


def test_dangling_datasource_uid() -> None:
    doc = _ds_file()
    doc["datasources"][0]["jsonData"]["serviceMap"]["datasourceUid"] = "mimir"
    errors = validate_datasources_file(doc)
    assert [e.path for e in errors] == ["datasources[0].jsonData.serviceMap.datasourceUid"]
    assert validate_datasources_file(doc, known_uids={"mimir"}) == []


def test_unescaped_tags_in_traces_to_metrics_query() -> None:
    doc = _ds_file()
    doc["datasources"][0]["jsonData"]["tracesToMetrics"]["queries"][0]["query"] = "sum(rate(x{$__tags}[5m]))"
    errors = check_provisioning_dollars(doc)
    assert [e.path for e in errors] == ["datasources[0].jsonData.tracesToMetrics.queries[0].query"]
    assert "'$$__tags'" in errors[0].message
    assert errors[0] in validate_datasources_file(doc)


def test_unknown_json_data_keys_and_types() -> None:
    doc = _ds_file()
    doc["datasources"][0]["jsonData"]["tracesToLogsV2"] = {"datasourceUid": "loki", "filterByTraceId": True}
    doc["datasources"][1]["jsonData"]["httpMethod"] = "PUT"
    doc["datasources"][2]["jsonData"]["derivedFields"][0]["regex"] = "x"
    doc["datasources"][2]["jsonData"]["derivedFields"][0]["matcherType"] = "glob"
    assert _paths(validate_datasources_file(doc)) == {
        "datasources[0].jsonData.tracesToLogsV2.filterByTraceId",
        "datasources[1].jsonData.httpMethod",
        "datasources[2].jsonData.derivedFields[0].regex",
        "datasources[2].jsonData.derivedFields[0].matcherType",
    }
    assert validate_datasources_file(doc, strict_json_data=False) == []


def test_datasource_file_structure_rules() -> None:
    doc = _ds_file()
    doc["datasources"][0]["isDefault"] = True
    doc["datasources"][2]["name"] = "Tempo"
    doc["datasources"][2]["uid"] = "tempo"
    doc["datasources"][0]["access"] = "server"
    doc["datasources"][1]["jsondata"] = {}
    del doc["datasources"][1]["type"]
    messages = [str(e) for e in validate_datasources_file(doc)]
    assert any("isDefault" in m for m in messages)
    assert any("name 'Tempo' used 2 times" in m for m in messages)
    assert any("uid 'tempo' used 2 times" in m for m in messages)
    assert "datasources[0].access: access must be 'proxy' or 'direct'" in messages
    assert "datasources[1].jsondata: unknown datasource key" in messages
    assert "datasources[1].type: type is required" in messages


def test_datasource_api_version_required() -> None:
    doc = _ds_file()
    doc["apiVersion"] = 2
    assert _paths(validate_datasources_file(doc)) == {"apiVersion"}


# --- `$` escaping -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["$${__value.raw}", "${GRAFANA_TOKEN}", "price: 5$", "^a.*$", "$$beast", "a $ b"])
def test_dollars_accepted(text: str) -> None:
    assert check_provisioning_dollars({"k": [text]}) == []


@pytest.mark.parametrize("text", ["${__value.raw}", "$__rate_interval", "$HOME", "${lower}", "x${__span.spanId}"])
def test_dollars_rejected(text: str) -> None:
    errors = check_provisioning_dollars({"k": [text]})
    assert [e.path for e in errors] == ["k[0]"]


@pytest.mark.parametrize("text", ["", "plain", "${__value.raw}", "$$", "a$b$$c", "$"])
def test_escape_round_trip(text: str) -> None:
    escaped = escape_provisioning(text)
    assert unescape_provisioning(escaped) == text
    assert check_provisioning_dollars(escaped) == []


# --- dashboard providers ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", upstream.names("grafana", "provider-*.yaml"))
def test_upstream_provider_files_accepted(name: str) -> None:
    assert validate_dashboard_provider_file(_yaml(name)) == []


def test_provider_rules() -> None:
    doc = {"apiVersion": 1, "providers": [
        {"name": "a", "folder": "Obs", "options": {"path": "/d", "foldersFromFilesStructure": True}},
        {"name": "a", "type": "git", "options": {}},
        {"orgId": 1, "options": {"path": "/x"}, "folderUID": "x"},
    ]}
    assert _paths(validate_dashboard_provider_file(doc)) == {
        "providers[0].options.foldersFromFilesStructure",
        "providers[0].name", "providers[1].name", "providers[1].type", "providers[1].options.path",
        "providers[2].name", "providers[2].folderUID",
    }


# --- dashboards ---------------------------------------------------------------------------------------

def test_upstream_service_graph_dashboard_accepted() -> None:
    doc = _json("dashboard-tempo-service-graph.json")
    assert validate_dashboard(doc, known_datasource_uids=[]) == []


def test_upstream_mltp_dashboard_only_fails_on_exported_id_and_legacy_style() -> None:
    # Exported from a live Grafana, so it carries the database id 3; provisioning wants null. Its top-level
    # "style" (pre-8 dark/light theme) is not in Grafana's dashboard schema any more.
    doc = _json("dashboard-intro-to-mltp-erroring-endpoints-spanmetrics.json")
    errors = validate_dashboard(doc, known_datasource_uids=["mimir", "tempo"])
    assert [(e.path, e.message) for e in errors] == [
        ("style", "unknown dashboard key"), ("id", "id must be null for provisioned dashboards")]
    doc["id"] = None
    del doc["style"]
    assert validate_dashboard(doc, known_datasource_uids=["mimir", "tempo"]) == []
    assert _paths(validate_dashboard(doc, known_datasource_uids=["tempo"])) == {
        "panels[0].datasource.uid", "panels[0].targets[0].datasource.uid", "panels[1].datasource.uid",
        "panels[1].targets[0].datasource.uid", "templating.list[0].datasource.uid",
    }


def _dash() -> dict:
    ds = {"type": "prometheus", "uid": "${datasource}"}
    return {
        "id": None, "uid": "obsgen-red", "title": "RED", "schemaVersion": 41,
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": [
            {"id": 1, "type": "timeseries", "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}, "datasource": ds,
             "targets": [{"refId": "A", "expr": "up", "datasource": ds}]},
            {"id": 2, "type": "text", "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}},
            {"id": 3, "type": "row", "collapsed": True, "gridPos": {"x": 0, "y": 8, "w": 24, "h": 1},
             "panels": [{"id": 4, "type": "stat", "gridPos": {"x": 0, "y": 0, "w": 24, "h": 4},
                         "datasource": {"type": "tempo", "uid": "tempo"}, "targets": [{"refId": "A"}]}]},
        ],
    }


def test_minimal_dashboard_ok() -> None:
    assert validate_dashboard(_dash(), known_datasource_uids=["tempo"]) == []


def test_overlapping_grid_pos() -> None:
    doc = _dash()
    doc["panels"][1]["gridPos"] = {"x": 6, "y": 2, "w": 12, "h": 4}
    errors = validate_dashboard(doc)
    assert [e.path for e in errors] == ["panels[1].gridPos"]
    assert "overlaps panel at panels[0]" in errors[0].message


def test_grid_width_and_row_shape() -> None:
    doc = _dash()
    doc["panels"][1]["gridPos"]["w"] = 13
    doc["panels"][2]["gridPos"]["w"] = 12
    assert _paths(validate_dashboard(doc)) == {"panels[1].gridPos", "panels[2].gridPos"}


@pytest.mark.parametrize(("uid", "ok"), [("a.b", False), ("x" * 41, False), ("x" * 40, True), ("a_b-C9", True)])
def test_dashboard_uid_rules(uid: str, ok: bool) -> None:
    doc = _dash()
    doc["uid"] = uid
    assert (validate_dashboard(doc) == []) is ok


def test_keys_outside_grafanas_dashboard_schema() -> None:
    """Keys @grafana/schema 12.2 does not declare (hand-written or older dashboard JSON carries them: pre-5.0
    ``style``, a panel's ``editable``, the time picker's ``time_options``) and a null nowDelay."""
    doc = _dash()
    doc.update(style="dark", timepicker={"nowDelay": None, "time_options": [], "refresh_intervals": ["1m"]})
    doc["panels"][0]["editable"] = True
    doc["panels"][2]["transparent"] = False  # a panel key, but rows have no such key
    doc["panels"][2]["panels"][0]["span"] = 4
    assert _paths(validate_dashboard(doc)) == {
        "style", "timepicker.nowDelay", "timepicker.time_options", "panels[0].editable", "panels[2].transparent",
        "panels[2].panels[0].span",
    }
    doc = _dash()
    doc["timepicker"] = {"hidden": False, "nowDelay": "1m", "quick_ranges": [], "refresh_intervals": ["1m"]}
    assert validate_dashboard(doc) == []


def test_dashboard_scalar_rules() -> None:
    doc = _dash()
    doc.update(id=7, title=" ", schemaVersion=43)
    assert _paths(validate_dashboard(doc)) == {"id", "title", "schemaVersion"}


def test_duplicate_panel_ids_missing_targets_and_variables() -> None:
    doc = _dash()
    doc["panels"][2]["panels"][0]["id"] = 1
    del doc["panels"][0]["targets"]
    doc["templating"]["list"].append({"name": "datasource", "type": "query"})
    messages = [str(e) for e in validate_dashboard(doc)]
    assert "panels: panel id 1 used 2 times" in messages
    assert "panels[0].targets: timeseries panel has no targets" in messages
    assert "templating.list[1].name: duplicate template variable 'datasource'" in messages


def test_datasource_reference_rules() -> None:
    doc = _dash()
    doc["panels"][0]["datasource"] = "Prometheus"
    doc["panels"][0]["targets"][0]["datasource"] = {"type": "prometheus", "uid": "${ds}"}
    doc["panels"][2]["panels"][0]["datasource"]["uid"] = "loki"
    assert _paths(validate_dashboard(doc, known_datasource_uids=["tempo"])) == {
        "panels[0].datasource", "panels[0].targets[0].datasource.uid",
        "panels[2].panels[0].datasource.uid",
    }
    original = copy.deepcopy(_dash())
    assert validate_dashboard(original, known_datasource_uids=None) == []


def test_variables_repeats_and_variable_uses() -> None:
    doc = _dash()
    doc["templating"]["list"] += [
        {"name": "service", "type": "query", "query": "label_values(up, job)", "multi": False},
        {"name": "slo", "type": "query", "query": "label_values(up, slo)", "multi": True, "includeAll": True},
    ]
    doc["panels"][0]["targets"][0]["expr"] = "up{job=~`${service:regex}`} * $__interval_ms"
    doc["panels"][2]["repeat"] = "slo"
    assert validate_dashboard(doc, known_datasource_uids=["tempo"]) == []
    doc["panels"][2]["repeat"] = "service"  # one value: nothing to repeat over
    doc["panels"][0]["targets"][0]["expr"] = "up{job=~`${sevrice:regex}`}"  # a typo Grafana would leave in
    doc["templating"]["list"].append({"name": "x", "type": "query", "qeury": "up"})
    assert [(e.path, e.message) for e in validate_dashboard(doc, known_datasource_uids=["tempo"])] == [
        ("templating.list[3].qeury", "unknown template variable key"),
        ("templating.list[3].query", "a query variable needs a query"),
        ("panels[0].targets[0].expr", "'${sevrice:regex}' is not a variable of this dashboard"),
        ("panels[2].repeat", "repeat over 'service', which holds one value only (not multi)"),
    ]
