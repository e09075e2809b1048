"""The harness's own pieces, without servers: Grafana's interpolation, the loopback rewrite, the sender's traces."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from obsgen.generate import load_spec
from tests.e2e import grafana_interp as gi
from tests.e2e import loopback
from tests.e2e.cases import CASES
from tests.e2e.sender import CONSUMER, PRODUCER, SERVER, Failure, Traffic

ROOT = Path(__file__).resolve().parents[2]


# -- Grafana's built-ins and variables ---------------------------------------------------------------


@pytest.mark.parametrize(("range_ms", "scrape_ms", "interval", "rate", "rng"), [
    (3_600_000, 15_000, "15s", "60s", "3600s"),  # 1h / 1000 px = 3.6s -> 5s, below the 15s scrape interval
    (21_600_000, 15_000, "20s", "60s", "21600s"),  # 6h: 21.6s -> 20s; 4 x scrape still wins
    (86_400_000, 15_000, "1m", "75s", "86400s"),  # 24h: 86.4s -> 1m; interval + scrape wins
    (3_600_000, 60_000, "1m", "240s", "3600s"),  # a 1m scrape interval: 4 x 1m
])
def test_builtins_follow_grafanas_rules(range_ms: int, scrape_ms: int, interval: str, rate: str, rng: str) -> None:
    b = gi.TimeContext(range_ms, scrape_ms).builtins()
    assert (b["__interval"], b["__rate_interval"], b["__range"]) == (interval, rate, rng)
    assert b["__range_s"] == str(range_ms // 1000)


def test_every_variable_syntax_is_substituted() -> None:
    expr = ('rate(x{a="$svc", b="${svc}", c="[[svc]]", d="${svc:raw}"}[$__rate_interval])'
            ' and label_replace(y, "z", "$1", "", "")')
    out = gi.substitute(expr, {"svc": "api", "__rate_interval": "60s"})
    assert out == 'rate(x{a="api", b="api", c="api", d="api"}[60s]) and label_replace(y, "z", "$1", "", "")'
    with pytest.raises(KeyError, match="other"):
        gi.substitute("x{a=\"$other\"}", {})


def test_values_are_escaped_as_grafanas_prometheus_datasource_does() -> None:
    single = gi.Variable("svc", multi=False, include_all=False, values=("it's", "a\\b"))
    assert [v.default for _, v in single.choices()] == ["it\\\\'s", "a\\\\b"]
    multi = gi.Variable("svc", multi=True, include_all=True, values=("Edge Gateway (prod)", "search"))
    choices = {label: v.default for label, v in multi.choices()}
    assert choices["Edge Gateway (prod)"] == "Edge Gateway \\\\(prod\\\\)"
    assert choices["All"] == "(Edge Gateway \\\\(prod\\\\)|search)"
    custom_all = gi.Variable("svc", multi=False, include_all=True, values=("a",), all_value=".*")
    assert {label: v.default for label, v in custom_all.choices()}["All"] == ".*"


def test_an_explicit_format_wins_over_the_data_sources_escaping() -> None:
    single = dict(gi.Variable("svc", multi=False, include_all=False, values=('a"b\\c.d',)).choices())
    out = gi.substitute("x{a=~`${svc:regex}`, b=\"$svc\", c=\"${svc:raw}\"}", {"svc": single['a"b\\c.d']})
    assert out == 'x{a=~`a"b\\\\c\\.d`, b="a"b\\\\c.d", c="a"b\\c.d"}'
    multi = dict(gi.Variable("s", multi=True, include_all=True, values=("a.b", "c")).choices())
    assert gi.substitute("${s:regex}", {"s": multi["All"]}) == "(a\\.b|c)"
    with pytest.raises(ValueError, match="lucene"):
        gi.substitute("${svc:lucene}", {"svc": single['a"b\\c.d']})


def test_a_variable_whose_query_names_another_is_asked_per_value_and_repeats_take_one_value() -> None:
    dashboard = {
        "templating": {"list": [
            {"type": "query", "name": "service", "query": {"query": "label_values(spans, service_name)"}},
            {"type": "query", "name": "slo", "multi": True, "includeAll": True,
             "query": {"query": "label_values(objective{service_name=~`${service:regex}`}, slo)"}},
        ]},
        "panels": [{"type": "row", "repeat": "slo", "panels": []}],
    }
    slos = {"api": ["api-avail", "api-lat"], "db.x": ["db-avail"]}

    def label_values(label: str, match: Sequence[str]) -> list[str]:
        if label == "service_name":
            return ["api", "db.x"]
        (selector,) = match
        return [s for name, found in slos.items() for s in found if f"`{name.replace('.', chr(92) + '.')}`" in selector]

    variables = gi.dashboard_variables(dashboard, label_values, {})
    got = [(choice, promql) for choice, promql in gi.expansions("burn{slo=~`${slo:regex}`}", variables, {})]
    assert got == [({"slo": "api-avail"}, "burn{slo=~`api-avail`}"), ({"slo": "api-lat"}, "burn{slo=~`api-lat`}"),
                   ({"slo": "db-avail"}, "burn{slo=~`db-avail`}")]


def test_query_variables_take_their_values_from_label_values() -> None:
    dashboard = {"templating": {"list": [
        {"type": "datasource", "name": "ds", "query": "prometheus"},
        {"type": "query", "name": "svc", "query": {"query": "label_values(up{job=\"x\"}, service_name)"},
         "regex": "/^[a-m]/"},
        {"type": "custom", "name": "q", "query": "0.5,0.99"},
    ]}}
    asked: list[tuple[str, list[str]]] = []

    def label_values(label: str, match: list[str]) -> list[str]:
        asked.append((label, list(match)))
        return ["api", "zeta", "billing"]

    variables = gi.dashboard_variables(dashboard, label_values, {})
    assert asked == [("service_name", ['up{job="x"}'])]
    assert [(v.name, v.values) for v in variables] == [("svc", ("api", "billing")), ("q", ("0.5", "0.99"))]
    got = [promql for _, promql in gi.expansions('histogram_quantile($q, x{s="$svc"}[$__range])', variables,
                                                 {"__range": "3600s"})]
    assert got == ['histogram_quantile(0.5, x{s="api"}[3600s])', 'histogram_quantile(0.99, x{s="api"}[3600s])',
                   'histogram_quantile(0.5, x{s="billing"}[3600s])', 'histogram_quantile(0.99, x{s="billing"}[3600s])']


# -- the loopback rewrite -----------------------------------------------------------------------------

PORTS = loopback.CollectorPorts(grpc=1001, http=1002, health=1003, telemetry=1004, metrics_exporter=1005)


@pytest.mark.parametrize("path", ["generated/shop/otel-collector/config.yaml",
                                  "tests/golden/large/otel-collector/config.yaml",
                                  "tests/golden/scaleout/otel-collector/gateway.yaml",
                                  "tests/golden/scaleout/otel-collector/sampler.yaml"])
def test_collector_rewrite_leaves_no_other_host(path: str) -> None:
    rendered = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    assert loopback.leftover_hosts(rendered)  # the rendered file names deployment hosts
    out = loopback.rewrite_collector(rendered, PORTS, sink_grpc="127.0.0.1:2000",
                                     remote_write_url="http://127.0.0.1:2001/api/v1/write",
                                     samplers=["127.0.0.1:3000", "127.0.0.1:3001"])
    assert loopback.leftover_hosts(out) == []
    assert out["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "127.0.0.1:1002"
    assert out["processors"] == rendered["processors"]  # sampling and limits untouched
    assert out["service"]["pipelines"] == rendered["service"]["pipelines"]
    if "load_balancing" in out["exporters"]:
        assert out["exporters"]["load_balancing"]["resolver"] == {
            "static": {"hostnames": ["127.0.0.1:3000", "127.0.0.1:3001"]}}
        assert out["exporters"]["load_balancing"]["routing_key"] == "traceID"


def test_leftover_hosts_finds_what_a_rewrite_missed() -> None:
    assert loopback.leftover_hosts({"a": {"endpoint": "tempo:4317"}, "b": ["http://x:9/y"], "c": "127.0.0.1:4"}) == [
        ".a.endpoint: tempo:4317", ".b[0]: http://x:9/y"]


def test_prometheus_rewrite_and_header_flags() -> None:
    text = (ROOT / "tests/golden/scaleout/prometheus/prometheus.yaml").read_text(encoding="utf-8")
    assert loopback.server_flags(text) == ["--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage",
                                           "--storage.tsdb.retention.time=31d"]
    targets = loopback.ScrapeTargets("127.0.0.1:10", ["127.0.0.1:11", "127.0.0.1:12"], None)
    out = loopback.rewrite_prometheus(yaml.safe_load(text), targets, "10s")
    jobs = {j["job_name"]: j for j in out["scrape_configs"]}
    assert jobs["otelcol-gateway"]["static_configs"] == [{"targets": ["127.0.0.1:10"]}]
    assert jobs["otelcol-sampler"] == {"job_name": "otelcol-sampler",
                                       "static_configs": [{"targets": ["127.0.0.1:11", "127.0.0.1:12"]}]}
    assert out["rule_files"] == ["rules/*.yaml"]
    large = (ROOT / "tests/golden/large/prometheus/prometheus.yaml").read_text(encoding="utf-8")
    # scrape delivery: no receiver
    assert loopback.server_flags(large) == ["--enable-feature=exemplar-storage", "--storage.tsdb.retention.time=31d"]
    out = loopback.rewrite_prometheus(yaml.safe_load(large), loopback.ScrapeTargets("127.0.0.1:10", [],
                                                                                    "127.0.0.1:20"), "10s")
    assert [j["static_configs"] for j in out["scrape_configs"]] == [[{"targets": ["127.0.0.1:10"]}],
                                                                    [{"targets": ["127.0.0.1:20"]}]]


# -- the sender ---------------------------------------------------------------------------------------


def _traces(name: str, phase: str, n: int) -> tuple[Traffic, list[list[dict[str, object]]]]:
    case = CASES[name]
    _, spec, _ = load_spec(case.spec)
    assert spec is not None
    traffic = Traffic(spec, case.failure, seed=3)
    return traffic, [traffic.trace(phase)[1] for _ in range(n)]


def _spans(resource_spans: list[dict[str, object]]) -> list[tuple[str, dict[str, object]]]:
    out = []
    for rs in resource_spans:
        service = rs["resource"]["attributes"][0]["value"]["stringValue"]  # type: ignore[index]
        for ss in rs["scopeSpans"]:  # type: ignore[attr-defined]
            out.extend((service, span) for span in ss["spans"])
    return out


def test_healthy_traces_cover_every_declared_call_without_errors() -> None:
    traffic, traces = _traces("large", "healthy", 60)
    spans = [s for t in traces for s in _spans(t)]
    assert not [s for _, s in spans if "status" in s]
    by_id = {s["spanId"]: (svc, s) for svc, s in spans}
    edges = set()
    for svc, span in spans:
        parent = by_id.get(span.get("parentSpanId", ""))
        if span["kind"] in (SERVER, CONSUMER) and parent:
            edges.add((parent[0], svc))
    assert ("orders", "notifier") in edges  # producer -> consumer, through kafka
    assert any(s["kind"] == PRODUCER for _, s in spans)
    assert ("Edge Gateway (prod)", "search") in edges
    db_names = {a["value"]["stringValue"] for _, s in spans for a in s["attributes"] if a["key"] == "db.name"}
    assert {"postgres", "elasticsearch"} <= db_names
    assert json.loads(json.dumps(traces)) == traces  # what goes on the wire
    assert len(traffic.tally.traces) == 60


def test_failing_phase_fails_and_slows_exactly_what_the_case_says() -> None:
    traffic, _ = _traces("shop", "failing", 300)
    failure: Failure = traffic.failure
    errors = [s for s in traffic.tally.server_spans if s.error]
    assert errors and {s.service for s in errors} == {failure.errors}
    slow = [s for s in traffic.tally.server_spans if s.duration_s > failure.delay_s]
    assert slow and {s.service for s in slow} <= {"main-service", "frontend"}  # the caller and those above it
    healthy, _ = _traces("shop", "healthy", 300)
    assert not [s for s in healthy.tally.server_spans if s.error or s.duration_s > 0.25]
