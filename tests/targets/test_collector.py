"""The OpenTelemetry Collector target: layouts, policies, sizing, ids per version, escaping."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from obsgen.emit.artifacts import Artifact
from obsgen.generate import parse_artifact, plan_spec
from obsgen.plan import Plan, naming
from obsgen.spec.durations import parse_duration
from obsgen.spec.versions import version_tuple
from obsgen.targets.collector import target as collector
from obsgen.targets.collector.strict.config import validate_collector_config
from obsgen.targets.collector.values import (
    collector_literal,
    escape_values,
    memory_sizing,
    trace_buffer_sizing,
)
from tests.conftest import ROOT

BASE = """
services:
  api:
    endpoints:
      - {route: POST /orders, critical: true}
      - GET /orders
    calls: [db]
    slos:
      - name: api-latency
        latency: {threshold: 750ms, percentile: 99}
  db:
    kind: database
attributes:
  tier: {values: [free, paid]}
  amount: {type: int}
  debug: {type: bool}
"""


def make_plan(tmp_path: Path, extra: str = "", base: str = BASE) -> Plan:
    """Plan a spec made of ``base`` plus ``extra`` YAML; fails on any error diagnostic."""
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(base) + textwrap.dedent(extra))
    result = plan_spec(path)
    errors = [d.format() for d in result.diagnostics if d.is_error]
    assert result.plan is not None, errors
    return result.plan


def rendered(plan: Plan) -> dict[str, dict]:
    """Render the target and parse every artifact; the strict checker must accept each."""
    out = {}
    for art in collector.render(plan):
        doc = parse_artifact(art)
        assert art.checker is not None
        assert art.checker(doc) == [], art.path
        out[art.path] = doc
    return out


def single(plan: Plan) -> dict:
    """The single-tier config."""
    docs = rendered(plan)
    assert list(docs) == ["otel-collector/config.yaml"]
    return docs["otel-collector/config.yaml"]


def unescape(value: object) -> object:
    """What the Collector reads after confmap: every ``$$`` becomes ``$`` (no env refs in spec text)."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, dict):
        return {k: unescape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unescape(v) for v in value]
    return value


def policies(doc: dict) -> list[dict]:
    """The top-level tail-sampling policies, as the Collector reads them."""
    return unescape(doc["processors"]["tail_sampling"]["policies"])  # type: ignore[return-value]


def one_policy(tmp_path: Path, policy_yaml: str) -> dict:
    """Render a spec with one top-level policy and return it."""
    plan = make_plan(tmp_path, "sampling:\n  policies:\n" + textwrap.indent(textwrap.dedent(policy_yaml), "    "))
    found = policies(single(plan))
    assert len(found) == 1
    return found[0]


# ------------------------------------------------------------------------------------------------
# Policy rendering, one case per upstream type and per shorthand

POLICY_CASES = [
    ("- name: all\n  always_sample: true\n", {"name": "all", "type": "always_sample"}),
    (
        "- name: slow\n  latency: {threshold: 1500ms, upper_threshold: 1m}\n",
        {"name": "slow", "type": "latency", "latency": {"threshold_ms": 1500, "upper_threshold_ms": 60000}},
    ),
    (
        "- name: big\n  numeric_attribute: {key: amount, min: 10, max: 99}\n",
        {"name": "big", "type": "numeric_attribute",
         "numeric_attribute": {"key": "amount", "min_value": 10, "max_value": 99}},
    ),
    (
        "- name: pct\n  probabilistic: {percentage: 12.5, hash_salt: tier-2}\n",
        {"name": "pct", "type": "probabilistic",
         "probabilistic": {"sampling_percentage": 12.5, "hash_salt": "tier-2"}},
    ),
    (
        "- name: codes\n  status_code: [ERROR, OK]\n",
        {"name": "codes", "type": "status_code", "status_code": {"status_codes": ["ERROR", "OK"]}},
    ),
    (
        "- name: paid\n  string_attribute: {key: tier, values: [paid]}\n",
        {"name": "paid", "type": "string_attribute", "string_attribute": {"key": "tier", "values": ["paid"]}},
    ),
    (
        "- name: re\n  string_attribute: {key: tier, values: ['^(free|paid)$'], regex: true}\n",
        {"name": "re", "type": "string_attribute",
         "string_attribute": {"key": "tier", "values": ["^(free|paid)$"], "enabled_regex_matching": True}},
    ),
    (
        "- name: rate\n  rate_limiting: {spans_per_second: 250}\n",
        {"name": "rate", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 250}},
    ),
    (
        "- name: bytes\n  bytes_limiting: {bytes_per_second: 1000, burst_capacity: 5000}\n",
        {"name": "bytes", "type": "bytes_limiting",
         "bytes_limiting": {"bytes_per_second": 1000, "burst_capacity": 5000}},
    ),
    (
        "- name: spans\n  span_count: {min: 2, max: 40}\n",
        {"name": "spans", "type": "span_count", "span_count": {"min_spans": 2, "max_spans": 40}},
    ),
    (
        "- name: ts\n  trace_state: {key: vendor, values: [keep]}\n",
        {"name": "ts", "type": "trace_state", "trace_state": {"key": "vendor", "values": ["keep"]}},
    ),
    (
        "- name: dbg\n  boolean_attribute: {key: debug, value: false}\n",
        {"name": "dbg", "type": "boolean_attribute", "boolean_attribute": {"key": "debug", "value": False}},
    ),
    (
        "- name: ottl\n  ottl_condition: {span: ['name == \"x\"'], spanevent: ['name == \"e\"'], error_mode: silent}\n",
        {"name": "ottl", "type": "ottl_condition",
         "ottl_condition": {"error_mode": "silent", "span": ['name == "x"'], "spanevent": ['name == "e"']}},
    ),
    (
        "- name: both\n  and:\n    - string_attribute: {key: tier, values: [paid]}\n"
        "    - probabilistic: {percentage: 50}\n",
        {"name": "both", "type": "and", "and": {"and_sub_policy": [
            {"name": "both-1", "type": "string_attribute", "string_attribute": {"key": "tier", "values": ["paid"]}},
            {"name": "both-2", "type": "probabilistic", "probabilistic": {"sampling_percentage": 50}},
        ]}},
    ),
    (
        "- name: inv\n  not: {string_attribute: {key: tier, values: [free]}}\n",
        {"name": "inv", "type": "not", "not": {"not_sub_policy": {
            "name": "inv-1", "type": "string_attribute", "string_attribute": {"key": "tier", "values": ["free"]}}}},
    ),
    (
        "- name: nohealth\n  drop:\n    - string_attribute: {key: http.route, values: [/health]}\n",
        {"name": "nohealth", "type": "drop", "drop": {"drop_sub_policy": [
            {"name": "nohealth-1", "type": "string_attribute",
             "string_attribute": {"key": "http.route", "values": ["/health"]}}]}},
    ),
    (
        "- name: budget\n  composite:\n    max_spans_per_second: 300\n    policies:\n"
        "      - {name: paid, share: 70, string_attribute: {key: tier, values: [paid]}}\n"
        "      - name: rest\n        share: 30\n        and:\n          - always_sample: true\n",
        {"name": "budget", "type": "composite", "composite": {
            "max_total_spans_per_second": 300,
            "policy_order": ["paid", "rest"],
            "composite_sub_policy": [
                {"name": "paid", "type": "string_attribute",
                 "string_attribute": {"key": "tier", "values": ["paid"]}},
                {"name": "rest", "type": "and",
                 "and": {"and_sub_policy": [{"name": "rest-1", "type": "always_sample"}]}},
            ],
            "rate_allocation": [{"policy": "paid", "percent": 70}, {"policy": "rest", "percent": 30}],
        }},
    ),
    # shorthands
    (
        "- name: errs\n  errors: true\n",
        {"name": "errs", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
    ),
    (
        "- name: crit\n  critical_endpoints: true\n",
        {"name": "crit", "type": "string_attribute", "string_attribute": {"key": "http.route", "values": ["/orders"]}},
    ),
    (
        "- name: slo\n  latency: {slo: api-latency}\n",
        {"name": "slo", "type": "latency", "latency": {"threshold_ms": 750}},
    ),
    ("- name: tight\n  latency: {}\n", {"name": "tight", "type": "latency", "latency": {"threshold_ms": 750}}),
]


@pytest.mark.parametrize(("spec_yaml", "expected"), POLICY_CASES, ids=[c[1]["name"] for c in POLICY_CASES])
def test_policy_renders_in_upstream_shape(tmp_path: Path, spec_yaml: str, expected: dict) -> None:
    assert one_policy(tmp_path, spec_yaml) == expected


def test_shop_renders_twelve_policies_in_spec_order() -> None:
    result = plan_spec(ROOT / "specs" / "shop.yaml")
    assert result.plan is not None
    names = [p["name"] for p in policies(single(result.plan))]
    assert names == [p.name for p in result.plan.spec.sampling.policies]
    assert len(names) == 12


def test_shorthand_origin_and_description_become_comments(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        sampling:
          policies:
            - name: slow
              description: Slower than the API objective.
              latency: {slo: api-latency}
            - name: crit
              critical_endpoints: true
    """)
    text = collector.render(plan)[0].text
    assert ("# Slower than the API objective.\n      # threshold = latency SLO api-latency (750ms).\n"
            "      - name: slow") in text
    assert "# critical_endpoints -> routes marked critical: true (all services), matched on http.route." in text


def test_fractional_composite_share_is_truncated_with_a_note(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        sampling:
          policies:
            - name: budget
              composite:
                max_spans_per_second: 100
                policies:
                  - {name: a, share: 33.5, always_sample: true}
                  - {name: b, share: 66.5, always_sample: true}
    """)
    doc = single(plan)
    allocation = doc["processors"]["tail_sampling"]["policies"][0]["composite"]["rate_allocation"]
    assert allocation == [{"policy": "a", "percent": 33}, {"policy": "b", "percent": 66}]
    assert "share 33.5% of a is written as 33" in collector.render(plan)[0].text


# ------------------------------------------------------------------------------------------------
# The `$` escape

def test_collector_literal_doubles_every_dollar() -> None:
    assert collector_literal("a$b") == "a$$b"
    assert collector_literal("${env:SECRET}") == "$${env:SECRET}"
    assert collector_literal("$$") == "$$$$"
    assert collector_literal("plain") == "plain"


def test_escape_values_leaves_keys_alone() -> None:
    data = {"k$": ["$x", {"y$": "$"}], "n": 1, "b": True}
    assert escape_values(data) == {"k$": ["$$x", {"y$": "$$"}], "n": 1, "b": True}


def test_spec_strings_with_dollar_reach_the_collector_unchanged(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        backends:
          tempo:
            otlp_endpoint: "tempo-$east:4317"
        sampling:
          policies:
            - name: env-looking
              string_attribute: {key: tier, values: ['${env:HOME}', 'cost$', '^a$'], regex: false}
    """)
    doc = single(plan)
    raw = doc["processors"]["tail_sampling"]["policies"][0]["string_attribute"]["values"]
    assert raw == ["$${env:HOME}", "cost$$", "^a$$"]
    assert unescape(raw) == ["${env:HOME}", "cost$", "^a$"]
    assert doc["exporters"]["otlp_grpc/tempo"]["endpoint"] == "tempo-$$east:4317"


# ------------------------------------------------------------------------------------------------
# Sizing

def test_memory_limiter_is_80_percent_with_20_percent_spike(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "collector: {memory_limit_mib: 1000}\n")
    doc = single(plan)
    assert doc["processors"]["memory_limiter"] == {"check_interval": "1s", "limit_mib": 800, "spike_limit_mib": 160}
    text = collector.render(plan)[0].text
    assert "GOMEMLIMIT=640MiB" in text


def test_memory_sizing_rounds_down() -> None:
    sizing = memory_sizing(2048)
    assert (sizing.limit_mib, sizing.spike_limit_mib, sizing.gomemlimit_mib) == (1638, 327, 1310)


def test_num_traces_from_traffic_wait_and_headroom(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        sampling:
          decision_wait: 20s
          expected_traces_per_second: 300
          headroom: 1.5
    """)
    ts = single(plan)["processors"]["tail_sampling"]
    assert ts["num_traces"] == 9000
    assert ts["expected_new_traces_per_sec"] == 300
    assert ts["decision_cache"] == {"sampled_cache_size": 90000, "non_sampled_cache_size": 90000}
    assert "# num_traces = 300 traces/s x 20s decision_wait x 1.5 headroom = 9000" in collector.render(plan)[0].text


def test_num_traces_is_per_replica_and_rounds_up() -> None:
    sizing = trace_buffer_sizing(100, parse_duration("10s"), 2.0, 3)
    assert sizing.num_traces == 667  # 2000 / 3 = 666.7
    assert sizing.new_traces_per_second == 34
    assert "/ 3 sampler replicas" in sizing.num_traces_comment()


# ------------------------------------------------------------------------------------------------
# Single tier layout

def pipelines(doc: dict) -> dict[str, dict]:
    """service.pipelines."""
    return doc["service"]["pipelines"]


def test_metrics_are_computed_before_sampling(tmp_path: Path) -> None:
    doc = single(make_plan(tmp_path))
    p = pipelines(doc)
    assert p["traces/ingest"] == {
        "receivers": ["otlp"], "processors": ["memory_limiter"],
        "exporters": ["span_metrics", "service_graph", "forward/sampling"],
    }
    assert p["traces/sampling"] == {
        "receivers": ["forward/sampling"], "processors": ["memory_limiter", "tail_sampling", "batch"],
        "exporters": ["otlp_grpc/tempo"],
    }
    assert p["metrics/spans"]["receivers"] == ["span_metrics", "service_graph"]
    assert p["metrics/spans"]["exporters"] == ["prometheus_remote_write"]
    for body in p.values():
        assert body["processors"][0] == "memory_limiter"


def test_receiver_listens_on_all_interfaces(tmp_path: Path) -> None:
    doc = single(make_plan(tmp_path))
    assert doc["receivers"]["otlp"]["protocols"] == {
        "grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}


def test_span_metrics_connector_matches_naming(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        span_metrics:
          dimensions: [tier, {name: http.request.method, default: GET}]
          cardinality_limit: 5000
    """)
    sm = single(plan)["connectors"]["span_metrics"]
    assert sm["histogram"]["unit"] == "s"
    assert sm["namespace"] == "traces.span.metrics"
    assert naming.COLLECTOR_SPAN_METRICS.calls.startswith(sm["namespace"].replace(".", "_"))
    assert "750ms" in sm["histogram"]["explicit"]["buckets"]
    assert [parse_duration(b) for b in sm["histogram"]["explicit"]["buckets"]] == list(plan.buckets)
    assert sm["dimensions"] == [{"name": "tier"}, {"name": "http.request.method", "default": "GET"}]
    assert sm["exemplars"] == {"enabled": True}
    assert sm["aggregation_cardinality_limit"] == 5000


def test_service_graph_store_sized_from_edges(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "sampling: {expected_traces_per_second: 1000}\n")
    sg = single(plan)["connectors"]["service_graph"]
    assert sg["store"] == {"ttl": "2s", "max_items": 4000}  # 1000/s x 1 edge x 2s x 2


def test_tempo_tenant_header(tmp_path: Path) -> None:
    doc = single(make_plan(tmp_path, "backends: {tempo: {tenant: team-a}}\n"))
    assert doc["exporters"]["otlp_grpc/tempo"]["headers"] == {"X-Scope-OrgID": "team-a"}
    assert doc["exporters"]["otlp_grpc/tempo"]["tls"] == {"insecure": True}


def test_scrape_export_uses_prometheus_exporter(tmp_path: Path) -> None:
    doc = single(make_plan(tmp_path, "collector: {metrics_export: scrape}\n"))
    assert doc["exporters"]["prometheus"] == {"endpoint": "0.0.0.0:8889", "enable_open_metrics": True}
    assert pipelines(doc)["metrics/spans"]["exporters"] == ["prometheus"]
    assert "prometheus_remote_write" not in doc["exporters"]


def test_tempo_source_leaves_metrics_to_tempo(tmp_path: Path) -> None:
    doc = single(make_plan(tmp_path, "span_metrics: {source: tempo}\n"))
    assert "connectors" not in doc
    assert pipelines(doc) == {"traces": {
        "receivers": ["otlp"], "processors": ["memory_limiter", "tail_sampling", "batch"],
        "exporters": ["otlp_grpc/tempo"]}}


def test_telemetry_and_health_check(tmp_path: Path) -> None:
    doc = single(make_plan(tmp_path))
    assert doc["extensions"] == {"health_check": {"endpoint": "0.0.0.0:13133"}}
    assert doc["service"]["extensions"] == ["health_check"]
    metrics = doc["service"]["telemetry"]["metrics"]
    assert metrics["level"] in ("normal", "detailed")
    prom = metrics["readers"][0]["pull"]["exporter"]["prometheus"]
    assert (prom["host"], prom["port"]) == ("0.0.0.0", 8888)
    # naming.TAIL_SAMPLING expects `_total` on counters; since core v0.152.0 it must be asked for.
    assert prom["without_type_suffix"] is False
    assert naming.TAIL_SAMPLING.count_traces_sampled.endswith("_total")


# ------------------------------------------------------------------------------------------------
# Versions

@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.140.0", {"otlp/tempo", "spanmetrics", "servicegraph", "prometheusremotewrite"}),
        ("0.143.0", {"otlp/tempo", "spanmetrics", "servicegraph", "prometheusremotewrite"}),
        ("0.144.0", {"otlp_grpc/tempo", "spanmetrics", "servicegraph", "prometheusremotewrite"}),
        ("0.152.0", {"otlp_grpc/tempo", "span_metrics", "service_graph", "prometheusremotewrite"}),
        ("0.159.0", {"otlp_grpc/tempo", "span_metrics", "service_graph", "prometheus_remote_write"}),
    ],
)
def test_component_ids_follow_the_pinned_version(tmp_path: Path, version: str, expected: set[str]) -> None:
    doc = single(make_plan(tmp_path, f"stack: {{collector: {version}}}\n"))
    ids = set(doc["exporters"]) | set(doc["connectors"])
    assert expected <= ids
    used = {i for body in pipelines(doc).values() for role in body.values() for i in role}
    assert expected <= used | {"forward/sampling"}


@pytest.mark.parametrize(("version", "expected"), [("0.152.0", "loadbalancing"), ("0.153.0", "load_balancing")])
def test_load_balancing_id_follows_the_pinned_version(tmp_path: Path, version: str, expected: str) -> None:
    plan = make_plan(tmp_path, f"stack: {{collector: {version}}}\ncollector: {{replicas: 2}}\n")
    gateway = rendered(plan)["otel-collector/gateway.yaml"]
    assert expected in gateway["exporters"]


@pytest.mark.parametrize(("version", "present"), [("0.143.0", False), ("0.144.0", True), ("0.159.0", True)])
def test_decision_wait_after_root_received_where_supported(tmp_path: Path, version: str, present: bool) -> None:
    plan = make_plan(tmp_path, f"""
        stack: {{collector: {version}}}
        sampling: {{decision_wait_after_root_received: 2s}}
    """)
    ts = single(plan)["processors"]["tail_sampling"]
    assert ("decision_wait_after_root_received" in ts) is present
    if not present:
        assert "predates it (v0.144.0)" in collector.render(plan)[0].text


# ------------------------------------------------------------------------------------------------
# Scale-out

def test_scale_out_renders_gateway_and_sampler(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "collector: {replicas: 4}\n")
    docs = rendered(plan)
    assert sorted(docs) == ["otel-collector/gateway.yaml", "otel-collector/sampler.yaml"]
    gateway, sampler = docs["otel-collector/gateway.yaml"], docs["otel-collector/sampler.yaml"]
    lb = gateway["exporters"]["load_balancing"]
    assert lb["routing_key"] == "traceID"
    assert lb["resolver"] == {"dns": {"hostname": plan.spec.collector.sampler_service, "port": "4317"}}
    assert "endpoint" not in lb["protocol"]["otlp"]
    # span metrics before sampling, on the gateway, labelled per replica
    assert "span_metrics" in gateway["connectors"] and "tail_sampling" not in gateway["processors"]
    instance = {"collector_instance": "${env:HOSTNAME}"}
    assert gateway["exporters"]["prometheus_remote_write"]["external_labels"] == instance
    assert pipelines(gateway)["traces"]["exporters"] == ["span_metrics", "load_balancing"]
    # tail sampling and the service graph where all spans of a trace meet
    assert "tail_sampling" in sampler["processors"] and "service_graph" in sampler["connectors"]
    assert "span_metrics" not in sampler["connectors"]
    assert pipelines(sampler)["traces/ingest"]["exporters"] == ["service_graph", "forward/sampling"]
    assert sampler["exporters"]["prometheus_remote_write"]["external_labels"] == instance
    assert sampler["processors"]["tail_sampling"]["num_traces"] == 500  # 100/s x 10s x 2 / 4
    for doc in docs.values():
        for body in pipelines(doc).values():
            assert body["processors"][0] == "memory_limiter"


def test_scale_out_k8s_resolver_and_scrape(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        collector: {replicas: 2, resolver: k8s, sampler_service: sampler.obs, metrics_export: scrape}
    """)
    gateway = rendered(plan)["otel-collector/gateway.yaml"]
    assert gateway["exporters"]["load_balancing"]["resolver"] == {"k8s": {"service": "sampler.obs", "ports": [4317]}}
    assert gateway["exporters"]["prometheus"]["const_labels"] == {"collector_instance": "${env:HOSTNAME}"}


@pytest.mark.parametrize("replicas", [1, 2])
def test_every_prometheus_exporter_is_scraped(tmp_path: Path, replicas: int) -> None:
    # Read from the rendered files: each Collector tier that serves metrics through a prometheus exporter
    # must be a target of the rendered prometheus.yaml (the gateway computes span metrics in two tiers).
    from obsgen.targets.prometheus import config as prometheus_config

    plan = make_plan(tmp_path, f"collector: {{replicas: {replicas}, metrics_export: scrape}}\n")
    docs = rendered(plan)
    scrape = yaml.safe_load(prometheus_config.render(plan)[0].text)["scrape_configs"]
    statics = {t for job in scrape for sc in job.get("static_configs", []) for t in sc["targets"]}
    dns = {(n, sd["port"]) for job in scrape for sd in job.get("dns_sd_configs", []) for n in sd["names"]}
    collector = plan.spec.collector
    serving = {path: doc["exporters"]["prometheus"]["endpoint"] for path, doc in docs.items()
               if "prometheus" in doc.get("exporters", {})}
    assert serving, "no tier serves metrics for scraping: the spec no longer exercises this"
    for path, endpoint in serving.items():
        port = int(endpoint.rsplit(":", 1)[1])
        if path.endswith("sampler.yaml"):
            assert (collector.sampler_service, port) in dns, f"{path} (:{port}) is not scraped"
        else:
            assert f"{collector.metrics_host}:{port}" in statics, f"{path} (:{port}) is not scraped"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("otel-sampler-headless.observability.svc.cluster.local", "otel-sampler-headless.observability"),
     ("sampler.obs.svc", "sampler.obs"), ("sampler.obs", "sampler.obs"), ("sampler", "sampler")],
)
def test_k8s_resolver_takes_name_dot_namespace(tmp_path: Path, given: str, expected: str) -> None:
    plan = make_plan(tmp_path, f"collector: {{replicas: 2, resolver: k8s, sampler_service: {given}}}\n")
    gateway = rendered(plan)["otel-collector/gateway.yaml"]
    assert gateway["exporters"]["load_balancing"]["resolver"]["k8s"]["service"] == expected


def test_scale_out_with_tempo_source(tmp_path: Path) -> None:
    docs = rendered(make_plan(tmp_path, "collector: {replicas: 2}\nspan_metrics: {source: tempo}\n"))
    gateway, sampler = docs["otel-collector/gateway.yaml"], docs["otel-collector/sampler.yaml"]
    assert "connectors" not in gateway and "connectors" not in sampler
    assert pipelines(gateway)["traces"]["exporters"] == ["load_balancing"]
    assert pipelines(sampler)["traces"]["processors"] == ["memory_limiter", "tail_sampling", "batch"]


# ------------------------------------------------------------------------------------------------
# Every example spec renders, is accepted by the strict model, starts with the header

EXAMPLES = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_pass_the_strict_model(spec: Path) -> None:
    result = plan_spec(spec, spec.name)
    assert result.plan is not None
    artifacts: list[Artifact] = collector.render(result.plan)
    assert artifacts
    for art in artifacts:
        assert art.text.startswith("# Generated by obsgen from ")
        assert art.checker is not None
        assert art.checker(yaml.safe_load(art.text)) == []
        version = version_tuple(result.plan.spec.stack.collector)
        assert validate_collector_config(yaml.safe_load(art.text), version) == []


def test_output_is_identical_across_hash_seeds_and_time_zones() -> None:
    script = (
        "from pathlib import Path\n"
        "from obsgen.generate import plan_spec\n"
        "from obsgen.targets.collector import target as collector\n"
        "import sys\n"
        "for spec in sys.argv[1:]:\n"
        "    plan = plan_spec(Path(spec), Path(spec).name).plan\n"
        "    for a in collector.render(plan):\n"
        "        sys.stdout.write(a.path + '\\n' + a.text)\n"
    )
    specs = [str(ROOT / "specs" / "shop.yaml"), str(ROOT / "tests" / "specs" / "scaleout.yaml")]
    outputs = set()
    for seed, tz in (("0", "UTC"), ("1234", "Asia/Kolkata"), ("random", "America/St_Johns")):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": tz, "LC_ALL": "C"}
        proc = subprocess.run([sys.executable, "-c", script, *specs], env=env, cwd=ROOT, capture_output=True,
                              text=True, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1


@pytest.mark.parametrize("spec", sorted([*ROOT.glob("specs/*.yaml"), *ROOT.glob("tests/specs/*.yaml")]),
                         ids=lambda p: p.name)
def test_tail_sampling_data_is_what_the_rendered_file_reads_back(spec: Path) -> None:
    """The sampling report simulates ``tail_sampling_data`` instead of parsing the rendered config: it must be
    exactly the tail_sampling processor of the file it names, as YAML reads it (types included)."""
    plan = plan_spec(spec).plan
    assert plan is not None
    path, data = collector.tail_sampling_data(plan)
    [art] = [a for a in collector.render(plan) if a.path == path]
    processors = yaml.safe_load(art.text)["processors"]
    [block] = [v for k, v in processors.items() if k == "tail_sampling" or k.startswith("tail_sampling/")]

    def typed(value: object) -> object:
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return (type(value), value)

    assert typed(data) == typed(block)
