"""Grafana provisioning: datasources wired by the spec's UIDs, trace links built from naming, `$` escaping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate, plan_spec
from obsgen.plan import Plan, naming
from obsgen.targets.grafana import datasources
from obsgen.targets.grafana import provider as dashboard_provider
from obsgen.targets.grafana.strict import (
    check_provisioning_dollars,
    unescape_provisioning,
    validate_dashboard_provider_file,
    validate_datasources_file,
)
from obsgen.targets.prometheus import promql
from obsgen.targets.prometheus import quote as promql_quote
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
IDS = [s.stem for s in SPECS]


def _plan(path: Path) -> Plan:
    result = plan_spec(path)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


def _shop(tmp_path: Path, *replacements: tuple[str, str]) -> Plan:
    text = (ROOT / "specs" / "shop.yaml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    return _plan(path)


def _file(plan: Plan) -> dict:
    doc = yaml.safe_load(datasources.render_datasources(plan).text)
    assert isinstance(doc, dict)
    return doc


def _by_type(doc: dict) -> dict[str, dict]:
    return {ds["type"]: ds for ds in doc["datasources"]}


def _refs(value: object) -> Iterator[str]:
    """Every datasourceUid anywhere in the document."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if key == "datasourceUid":
                assert isinstance(sub, str)
                yield sub
            else:
                yield from _refs(sub)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_renders_and_passes_strict_models(spec: Path) -> None:
    result = generate(spec, targets=["datasources"])
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
    paths = {a.path for a in result.artifacts}
    assert {datasources.PATH, dashboard_provider.PATH} <= paths
    for art in result.artifacts:
        if art.checker is not None:
            assert art.checker(yaml.safe_load(art.text)) == []


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_every_referenced_uid_exists_and_uids_come_from_the_spec(spec: Path) -> None:
    plan = _plan(spec)
    doc = _file(plan)
    uids = {ds["uid"] for ds in doc["datasources"]}
    refs = set(_refs(doc))
    assert refs and refs <= uids
    backends = plan.spec.backends
    expected = {backends.tempo.datasource_uid, backends.prometheus.datasource_uid}
    if backends.loki is not None:
        expected.add(backends.loki.datasource_uid)
    assert uids == expected
    assert validate_datasources_file(doc) == []


def _substitute(query: str, tags: str) -> str:
    """What Grafana runs: provisioning un-escaped, then its own variables substituted."""
    text = unescape_provisioning(query)
    assert "$$" not in text
    text = text.replace("$__tags", tags).replace("$__rate_interval", "1m")
    assert "$" not in text, text
    return text


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_trace_to_metrics_queries_use_only_what_the_source_produces(spec: Path) -> None:
    plan = _plan(spec)
    sm = plan.span_metrics
    block = _by_type(_file(plan))["tempo"]["jsonData"]["tracesToMetrics"]
    tag_labels = {t["value"] for t in block["tags"]}
    produced_labels = set(sm.intrinsic_labels) | set(plan.dimension_labels())
    assert tag_labels <= produced_labels
    # $__tags expands to the mapped tags present on the span: all of them, or none.
    all_tags = ", ".join(f"{label}={promql_quote.quote('checkout')}" for label in sorted(tag_labels))
    queries = block["queries"]
    assert [q["name"] for q in queries] == ["Request rate", "Error rate", "Latency p99"]
    for q in queries:
        for tags in (all_tags, ""):
            expr = promql.parse(_substitute(q["query"], tags))
            metrics = promql.metric_names_used(expr)
            assert metrics and metrics <= sm.produced_metrics, (q, metrics)
            labels = promql.label_names_used(expr) - {"__name__"}
            allowed = produced_labels | ({naming.LE_LABEL} if sm.duration_bucket in metrics else set())
            assert labels <= allowed, (q, labels - allowed)
    error = promql.parse(_substitute(queries[1]["query"], all_tags))
    matchers = {(m.name, m.value) for vs in promql.selectors(error) for m in vs.matchers}
    assert (sm.status_code_label, naming.STATUS_ERROR) in matchers


def test_queries_follow_the_source() -> None:
    collector = _by_type(_file(_plan(ROOT / "specs" / "shop.yaml")))["tempo"]["jsonData"]["tracesToMetrics"]
    tempo = _by_type(_file(_plan(ROOT / "tests" / "specs" / "shop-tempo-source.yaml")))["tempo"]["jsonData"]
    tempo_block = tempo["tracesToMetrics"]
    assert naming.COLLECTOR_SPAN_METRICS.calls in collector["queries"][0]["query"]
    assert naming.TEMPO_SPAN_METRICS.calls in tempo_block["queries"][0]["query"]
    assert collector["tags"] == [{"key": "service.name", "value": naming.COLLECTOR_SPAN_METRICS.service_label}]
    assert tempo_block["tags"] == [{"key": "service.name", "value": naming.TEMPO_SPAN_METRICS.service_label}]


@pytest.mark.parametrize(("spec", "label"), [
    (ROOT / "specs" / "shop.yaml", "trace_id"),
    (ROOT / "tests" / "specs" / "shop-tempo-source.yaml", "traceID"),
])
def test_exemplar_destination_is_the_sources_exemplar_label(spec: Path, label: str) -> None:
    plan = _plan(spec)
    prom = _by_type(_file(plan))["prometheus"]
    destinations = prom["jsonData"]["exemplarTraceIdDestinations"]
    assert destinations == [{"name": label, "datasourceUid": plan.spec.backends.tempo.datasource_uid,
                             "urlDisplayLabel": "View trace"}]
    assert label == plan.span_metrics.exemplar_label
    assert prom["isDefault"] is True
    assert prom["jsonData"]["timeInterval"] == plan.spec.backends.prometheus.scrape_interval.prom()


def test_tempo_links_service_map_node_graph_streaming() -> None:
    plan = _plan(ROOT / "specs" / "shop.yaml")
    jd = _by_type(_file(plan))["tempo"]["jsonData"]
    assert jd["serviceMap"] == {"datasourceUid": plan.spec.backends.prometheus.datasource_uid}
    assert jd["nodeGraph"] == {"enabled": True}
    assert jd["streamingEnabled"] == {"search": True, "metrics": True}
    tq = jd["traceQuery"]
    assert tq["timeShiftEnabled"] is True and not tq["spanStartTimeShift"].startswith("-")
    logs = jd["tracesToLogsV2"]
    assert logs["spanStartTimeShift"].startswith("-") and not logs["spanEndTimeShift"].startswith("-")
    assert logs["filterByTraceID"] is True and logs["customQuery"] is False
    assert logs["tags"] == [{"key": "service.name", "value": "service_name"}]


def test_trace_to_logs_tags_follow_the_spec_and_otlp_uses_structured_metadata() -> None:
    plan = _plan(ROOT / "tests" / "specs" / "distributed.yaml")
    jd = _by_type(_file(plan))["tempo"]["jsonData"]
    logs = jd["tracesToLogsV2"]
    assert logs["tags"] == [{"key": "deployment.environment", "value": "env"},
                            {"key": "service.name", "value": "service_name"}]
    assert logs["customQuery"] is True and logs["filterByTraceID"] is False
    assert unescape_provisioning(logs["query"]) == '{${__tags}} | trace_id="${__trace.traceId}"'


def _derived(plan: Plan) -> dict[str, dict]:
    fields = _by_type(_file(plan))["loki"]["jsonData"]["derivedFields"]
    return {f["name"]: f for f in fields}


def _js_like(regex: str) -> re.Pattern[str]:
    return re.compile(unescape_provisioning(regex))


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_loki_derived_fields_json() -> None:
    plan = _plan(ROOT / "specs" / "shop.yaml")
    fields = _derived(plan)
    label = fields["TraceID"]
    assert label["matcherType"] == "label"
    assert _js_like(label["matcherRegex"]).search("trace_id")
    assert not _js_like(label["matcherRegex"]).search("parent_trace_id")
    line = fields["TraceID in JSON line"]
    match = _js_like(line["matcherRegex"]).search(json.dumps({"level": "info", "trace_id": TRACE_ID, "msg": "x"}))
    assert match and match.group(1) == TRACE_ID
    for f in fields.values():
        assert f["datasourceUid"] == plan.spec.backends.tempo.datasource_uid
        assert unescape_provisioning(f["url"]) == "${__value.raw}"


def test_loki_derived_fields_logfmt_and_otlp(tmp_path: Path) -> None:
    plan = _shop(tmp_path, ("log_format: json", "log_format: logfmt"),
                 ("trace_id_field: trace_id", "trace_id_field: tid"))
    fields = _derived(plan)
    assert set(fields) == {"TraceID", "TraceID in logfmt line"}
    regex = _js_like(fields["TraceID in logfmt line"]["matcherRegex"])
    for line in (f"level=info tid={TRACE_ID} msg=x", f'tid="{TRACE_ID}" level=info'):
        match = regex.search(line)
        assert match and match.group(1) == TRACE_ID
    assert not regex.search(f"ptid={TRACE_ID}")
    otlp = _derived(_plan(ROOT / "tests" / "specs" / "distributed.yaml"))
    assert set(otlp) == {"TraceID"}


def test_no_loki(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "specs" / "minimal.yaml").read_text() + "backends: {loki: null}\n"
    path = tmp_path / "noloki.yaml"
    path.write_text(text)
    doc = _file(_plan(path))
    assert set(_by_type(doc)) == {"tempo", "prometheus"}
    assert "tracesToLogsV2" not in _by_type(doc)["tempo"]["jsonData"]
    assert validate_datasources_file(doc) == []


def test_tenant_header() -> None:
    plan = _plan(ROOT / "tests" / "specs" / "distributed.yaml")
    tempo = _by_type(_file(plan))["tempo"]
    assert tempo["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert tempo["secureJsonData"] == {"httpHeaderValue1": plan.spec.backends.tempo.tenant}


def test_every_dollar_is_escaped(tmp_path: Path) -> None:
    plan = _shop(tmp_path,
                 ("url: http://loki:3100", "url: 'http://loki:3100/$x${Y}'"),
                 ("url: http://prometheus:9090\n", "url: 'http://prom/$$'\n"))
    text = datasources.render_datasources(plan).text
    doc = yaml.safe_load(text)
    assert check_provisioning_dollars(doc) == []
    ds = _by_type(doc)
    assert unescape_provisioning(ds["loki"]["url"]) == "http://loki:3100/$x${Y}"
    assert unescape_provisioning(ds["prometheus"]["url"]) == "http://prom/$$"
    # Grafana variables are written for provisioning, never left to env expansion.
    for q in ds["tempo"]["jsonData"]["tracesToMetrics"]["queries"]:
        assert "$$__tags" in q["query"] and "$$__rate_interval" in q["query"]
    assert validate_datasources_file(doc) == []


def test_dashboard_provider(tmp_path: Path) -> None:
    plan = _plan(ROOT / "tests" / "specs" / "distributed.yaml")
    doc = yaml.safe_load(dashboard_provider.render_provider(plan).text)
    assert validate_dashboard_provider_file(doc) == []
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == plan.spec.backends.grafana.dashboards_path
    assert provider["folder"] == plan.spec.backends.grafana.folder
    plan = _shop(tmp_path, ("  prometheus:\n    url:", "  grafana:\n    folder: 'Cost $avings'\n"
                                                      "    dashboards_path: /d/$HOME\n  prometheus:\n    url:"))
    doc = yaml.safe_load(dashboard_provider.render_provider(plan).text)
    assert validate_dashboard_provider_file(doc) == []
    assert unescape_provisioning(doc["providers"][0]["folder"]) == "Cost $avings"
    assert unescape_provisioning(doc["providers"][0]["options"]["path"]) == "/d/$HOME"
