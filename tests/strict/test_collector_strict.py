"""Tests for the strict OpenTelemetry Collector config model (obsgen.targets.collector.strict.config)."""

from __future__ import annotations

import copy

import pytest
import yaml

from obsgen.check.strict import StrictError
from obsgen.targets.collector.strict.config import (
    component_ids,
    validate_collector_config,
    validate_load_balancing,
    validate_service_graph,
    validate_span_metrics,
    validate_tail_sampling,
)
from obsgen.targets.collector.strict.schema import parse_go_duration
from tests import upstream

CURRENT = (0, 159, 0)
# opentelemetry-demo 2.2.0 pins a collector that predates every id rename.
DEMO_2_2_0 = (0, 142, 0)


def load(name: str) -> dict:
    """Parse one upstream file."""
    return yaml.safe_load(upstream.path("tail_sampling", name).read_text())


def paths(errors: list[StrictError]) -> list[str]:
    """The error paths, for compact assertions."""
    return [e.path for e in errors]


def has(errors: list[StrictError], path: str, fragment: str) -> bool:
    """True when some error sits at ``path`` and mentions ``fragment``."""
    return any(e.path == path and fragment in e.message for e in errors)


def minimal(version: tuple[int, int, int] = CURRENT) -> dict:
    """A small valid traces -> spanmetrics -> metrics config with the ids of ``version``."""
    ids = component_ids(version)
    return {
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}}}},
        "processors": {
            "memory_limiter": {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20},
            "batch": {"timeout": "200ms"},
        },
        "connectors": {ids["span_metrics"]: {"histogram": {"unit": "s"}}},
        "exporters": {
            f"{ids['otlp_exporter']}/tempo": {"endpoint": "tempo:4317", "tls": {"insecure": True}},
            ids["prometheus_exporter"]: {"endpoint": "0.0.0.0:8889"},
        },
        "service": {
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "batch"],
                    "exporters": [f"{ids['otlp_exporter']}/tempo", ids["span_metrics"]],
                },
                "metrics/spanmetrics": {
                    "receivers": [ids["span_metrics"]],
                    "exporters": [ids["prometheus_exporter"]],
                },
            }
        },
    }


# --- upstream files, per SOURCES.md -------------------------------------------------------------


def test_every_upstream_file_has_a_test() -> None:
    covered = {
        "tail_sampling_config.yaml",
        "tail_sampling_config_errormode.yaml",
        "invalid-numeric_attribute_with_minvalue_greater_than_maxvalue.yaml",
        "invalid-numeric_attribute_without_minvalue_or_maxvalue.yaml",
        "loadbalancing-testdata-config.yaml",
        "loadbalancing-example-otel-agent-config.yaml",
        "jaeger-tail-sampling-tier2-jaeger-v2-config.yml",
        "jaeger-config-spm-spanmetrics.yaml",
        "otel-demo-otelcol-config-spanmetrics-v2.2.0.yml",
        "alloy-scenarios-otel-servicegraph-config-otel.yaml",
        "servicegraph-connector-config.yaml",
        "spanmetrics-connector-testdata-config.yaml",
        "legacy-spanmetrics-connector-config-full-connector.yaml",
    }
    assert {p.name for p in upstream.require("tail_sampling").iterdir() if p.suffix in (".yaml", ".yml")} == covered


@pytest.mark.parametrize("name", ["tail_sampling_config.yaml", "tail_sampling_config_errormode.yaml"])
def test_upstream_tail_sampling_fragments_are_accepted(name: str) -> None:
    # The composite in tail_sampling_config.yaml leaves one sub-policy without a rate allocation:
    # valid upstream, so only the obsgen lint (off here) would report it.
    assert validate_tail_sampling(load(name)["tail_sampling"], CURRENT, lints=()) == []


def test_upstream_composite_without_allocation_only_trips_the_lint() -> None:
    errors = validate_tail_sampling(load("tail_sampling_config.yaml")["tail_sampling"], CURRENT)
    assert len(errors) == 1
    assert errors[0].path == "policies[12].composite.composite_sub_policy[2]"
    assert errors[0].message.startswith("lint(composite_rate_allocation)")


# Both files were invalid when they were stored; at v0.159.0 the Collector starts with them
# (Config.Validate has no numeric rule; NewNumericAttributeFilter only logs an error), so they are lints.
def test_upstream_numeric_min_greater_than_max_is_a_lint() -> None:
    block = load("invalid-numeric_attribute_with_minvalue_greater_than_maxvalue.yaml")["tail_sampling"]
    errors = validate_tail_sampling(block, CURRENT)
    assert len(errors) == 1
    assert has(errors, "policies[0].numeric_attribute.min_value", "lint(silently_ignored): min_value (500) is greater")
    assert validate_tail_sampling(block, CURRENT, lints=()) == []


def test_upstream_numeric_without_bounds_is_a_lint() -> None:
    block = load("invalid-numeric_attribute_without_minvalue_or_maxvalue.yaml")["tail_sampling"]
    errors = validate_tail_sampling(block, CURRENT)
    assert len(errors) == 1
    assert has(errors, "policies[0].numeric_attribute", "lint(silently_ignored): numeric_attribute needs")
    assert validate_tail_sampling(block, CURRENT, lints=()) == []


def test_upstream_loadbalancing_testdata() -> None:
    entries = load("loadbalancing-testdata-config.yaml")
    for exporter_id in ("loadbalancing", "loadbalancing/2", "loadbalancing/4"):
        assert validate_load_balancing(entries[exporter_id], CURRENT) == [], exporter_id
    # `port: 55690` into the dns resolver's `Port string`: the 0.159.0 binary refuses it ("'port' expected
    # type 'string', got unconvertible type 'int'"); upstream's config test never loads loadbalancing/3.
    errors = validate_load_balancing(entries["loadbalancing/3"], CURRENT)
    assert [(e.path, e.message) for e in errors] == [("resolver.dns.port", "expected a string, got int 55690")]
    # loadbalancing/5 only exercises sending_queue decoding: it decodes, but has no resolver, which the
    # exporter refuses when it is built (and `otelcol validate` builds components).
    errors = validate_load_balancing(entries["loadbalancing/5"], CURRENT)
    assert [(e.path, e.message) for e in errors] == [("resolver", "no resolvers specified for the exporter")]


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("loadbalancing-example-otel-agent-config.yaml", CURRENT),
        ("jaeger-tail-sampling-tier2-jaeger-v2-config.yml", CURRENT),
        ("jaeger-config-spm-spanmetrics.yaml", CURRENT),
        ("alloy-scenarios-otel-servicegraph-config-otel.yaml", CURRENT),
        ("otel-demo-otelcol-config-spanmetrics-v2.2.0.yml", DEMO_2_2_0),
    ],
)
def test_upstream_full_configs_are_accepted(name: str, version: tuple[int, int, int]) -> None:
    errors = validate_collector_config(load(name), version, allow_unknown_components=True, lints=())
    assert errors == []


def test_alloy_servicegraph_config_needs_no_unknown_components() -> None:
    assert (
        validate_collector_config(load("alloy-scenarios-otel-servicegraph-config-otel.yaml"), CURRENT) == []
    )


def test_jaeger_config_is_rejected_without_allow_unknown() -> None:
    errors = validate_collector_config(load("jaeger-config-spm-spanmetrics.yaml"), CURRENT)
    assert has(errors, "exporters.jaeger_storage_exporter", 'unknown type: "jaeger_storage_exporter"')
    assert has(errors, "extensions.jaeger_query", "unknown type")


def test_otel_demo_trips_the_memory_limiter_lint_only_when_enabled() -> None:
    errors = validate_collector_config(
        load("otel-demo-otelcol-config-spanmetrics-v2.2.0.yml"), DEMO_2_2_0, allow_unknown_components=True
    )
    assert paths(errors) == [
        "service.pipelines.logs.processors[1]",
        "service.pipelines.metrics.processors[1]",
        "service.pipelines.traces.processors[1]",
    ]
    assert all(e.message.startswith("lint(memory_limiter_first)") for e in errors)


def test_upstream_spanmetrics_testdata_map() -> None:
    invalid = {
        "spanmetrics/exponential_and_explicit_histogram": ("histogram", "either `explicit` or `exponential`"),
        "spanmetrics/invalid_histogram_unit": ("histogram.unit", "'h'"),
        "spanmetrics/invalid_metrics_expiration": ("metrics_expiration", "should be positive"),
        "spanmetrics/invalid_delta_timestamp_cache_size": (
            "metric_timestamp_cache_size",
            "should be positive",
        ),
    }
    entries = load("spanmetrics-connector-testdata-config.yaml")
    assert set(invalid) <= set(entries)
    for connector_id, body in entries.items():
        errors = validate_span_metrics(body, CURRENT)
        if connector_id in invalid:
            path, fragment = invalid[connector_id]
            assert len(errors) == 1 and has(errors, path, fragment), (connector_id, errors)
        else:
            assert errors == [], connector_id


def test_legacy_spanmetrics_file_is_rejected_on_current_version() -> None:
    doc = load("legacy-spanmetrics-connector-config-full-connector.yaml")
    errors = validate_collector_config(doc, CURRENT, allow_unknown_components=True)
    assert has(errors, "connectors.spanmetrics.latency_histogram_buckets", "has invalid keys")
    # dimensions_cache_size is deprecated but still decoded at v0.159.0 (spanmetricsconnector config.go)
    assert len(errors) == 1


def test_servicegraph_testdata_uses_a_field_no_release_has() -> None:
    # The stored testdata commit carries `edge_dimensions` from contrib PR #32974, which was closed
    # unmerged: no released servicegraph connector has that field.
    doc = load("servicegraph-connector-config.yaml")
    old = validate_collector_config(doc, (0, 129, 0), allow_unknown_components=True)
    assert [(e.path, "edge_dimensions" in e.message) for e in old] == [
        ("connectors.servicegraph.edge_dimensions", True)
    ]
    new = validate_collector_config(doc, CURRENT, allow_unknown_components=True)
    assert has(new, "connectors.servicegraph.database_name_attribute", "v0.130.0")
    body = copy.deepcopy(doc["connectors"]["servicegraph"])
    del body["edge_dimensions"], body["database_name_attribute"]
    assert validate_service_graph(body, CURRENT) == []


# --- unit tests ----------------------------------------------------------------------------------


def test_minimal_config_is_valid_on_both_sides_of_the_renames() -> None:
    for version in [(0, 140, 0), (0, 150, 0), CURRENT]:
        assert validate_collector_config(minimal(version), version) == [], version


def test_unknown_key_is_rejected_with_its_path() -> None:
    doc = minimal()
    doc["exporters"]["otlp_grpc/tempo"]["compresion"] = "gzip"
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == ["exporters.otlp_grpc/tempo.compresion"]
    assert "has invalid keys: compresion" in errors[0].message


def test_misspelled_protocol_key_is_rejected() -> None:
    doc = minimal()
    doc["receivers"]["otlp"]["protocols"]["htttp"] = None
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == ["receivers.otlp.protocols.htttp"]


def test_receiver_without_protocol_is_rejected() -> None:
    doc = minimal()
    doc["receivers"]["otlp"] = {"protocols": {}}
    assert has(validate_collector_config(doc, CURRENT), "receivers.otlp", "at least one protocol")


# "\u0663s": an Arabic-Indic digit, which Python's float() and \d accept and Go's leadingInt (time/format.go) does not.
@pytest.mark.parametrize("bad", ["5 seconds", "10", "1d", "", "s", "\u0663s", "1\u0663ms"])
def test_bad_duration_is_rejected(bad: str) -> None:
    doc = minimal()
    doc["processors"]["batch"]["timeout"] = bad
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == ["processors.batch.timeout"]
    assert "invalid duration" in errors[0].message


@pytest.mark.parametrize(
    "good", ["1h30m", "1.5s", "300ms", "0", "2us", 5_000_000, "${env:BATCH_TIMEOUT:-60s}"]
)
def test_good_duration_is_accepted(good: object) -> None:
    doc = minimal()
    doc["processors"]["batch"]["timeout"] = good
    assert validate_collector_config(doc, CURRENT) == []


def test_go_duration_parser() -> None:
    assert parse_go_duration("1h30m") == 5_400_000_000_000
    assert parse_go_duration("-20s") == -20_000_000_000
    assert parse_go_duration("1.5ms") == 1_500_000
    assert parse_go_duration("10") is None


def test_no_weak_typing_for_bools_and_ints() -> None:
    doc = minimal()
    doc["exporters"]["otlp_grpc/tempo"]["tls"]["insecure"] = "true"
    doc["processors"]["batch"]["send_batch_size"] = "1024"
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == ["exporters.otlp_grpc/tempo.tls.insecure", "processors.batch.send_batch_size"]


def test_env_substitution_accepted_in_scalar_positions() -> None:
    doc = minimal()
    doc["processors"]["batch"]["send_batch_size"] = "${env:BATCH_SIZE}"
    doc["exporters"]["otlp_grpc/tempo"]["tls"]["insecure"] = "${env:INSECURE:-true}"
    doc["exporters"]["otlp_grpc/tempo"]["endpoint"] = "${env:TEMPO_HOST}:4317"
    assert validate_collector_config(doc, CURRENT) == []


def test_otlp_exporter_requires_endpoint() -> None:
    doc = minimal()
    doc["exporters"]["otlp_grpc/tempo"]["endpoint"] = "http://"
    assert has(validate_collector_config(doc, CURRENT), "exporters.otlp_grpc/tempo.endpoint", "non-empty")


def test_prometheus_remote_write_has_no_sending_queue() -> None:
    doc = minimal()
    doc["exporters"]["prometheus_remote_write"] = {
        "endpoint": "http://mimir/api/v1/push",
        "sending_queue": {},
    }
    doc["service"]["pipelines"]["metrics/spanmetrics"]["exporters"].append("prometheus_remote_write")
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == ["exporters.prometheus_remote_write.sending_queue"]


def test_pipeline_referencing_undefined_component() -> None:
    doc = minimal()
    doc["service"]["pipelines"]["traces"]["processors"].append("tail_sampling")
    errors = validate_collector_config(doc, CURRENT)
    assert [(e.path, e.message) for e in errors] == [
        (
            "service.pipelines.traces.processors[2]",
            'references processor "tail_sampling" which is not configured',
        )
    ]


def test_undefined_reference_is_still_caught_with_unknown_components_allowed() -> None:
    doc = minimal()
    doc["receivers"]["hostmetrics"] = {"scrapers": {"cpu": None}}
    doc["service"]["pipelines"]["metrics"] = {"receivers": ["hostmetric"], "exporters": ["prometheus"]}
    errors = validate_collector_config(doc, CURRENT, allow_unknown_components=True)
    assert paths(errors) == ["service.pipelines.metrics.receivers[0]"]


def test_connector_used_only_as_exporter() -> None:
    doc = minimal()
    del doc["service"]["pipelines"]["metrics/spanmetrics"]
    errors = validate_collector_config(doc, CURRENT)
    assert has(errors, "connectors.span_metrics", "used as exporter in traces pipeline but not used in any")


def test_connector_used_only_as_receiver() -> None:
    doc = minimal()
    doc["service"]["pipelines"]["traces"]["exporters"].remove("span_metrics")
    errors = validate_collector_config(doc, CURRENT)
    assert has(errors, "connectors.span_metrics", "used as receiver in metrics/spanmetrics pipeline")


def test_connector_signal_types_must_be_compatible() -> None:
    doc = minimal()
    pipelines = doc["service"]["pipelines"]
    pipelines["traces/other"] = pipelines.pop("metrics/spanmetrics")
    pipelines["traces/other"]["exporters"] = ["otlp_grpc/tempo"]
    errors = validate_collector_config(doc, CURRENT)
    assert has(errors, "connectors.span_metrics", "used as receiver in traces/other pipeline")


def test_forward_connector_keeps_the_signal() -> None:
    doc = minimal()
    doc["connectors"]["forward"] = None
    doc["service"]["pipelines"]["traces"]["exporters"].append("forward")
    doc["service"]["pipelines"]["traces/fanout"] = {"receivers": ["forward"], "exporters": ["debug"]}
    doc["exporters"]["debug"] = {"verbosity": "detailed"}
    assert validate_collector_config(doc, CURRENT) == []
    doc["service"]["pipelines"]["metrics/fanout"] = doc["service"]["pipelines"].pop("traces/fanout")
    assert has(validate_collector_config(doc, CURRENT), "connectors.forward", "used as exporter in traces")


def test_tail_sampling_only_in_traces_pipelines() -> None:
    doc = minimal()
    doc["processors"]["tail_sampling"] = {"policies": [{"name": "all", "type": "always_sample"}]}
    doc["service"]["pipelines"]["metrics/spanmetrics"]["processors"] = ["tail_sampling"]
    errors = validate_collector_config(doc, CURRENT)
    assert has(errors, "service.pipelines.metrics/spanmetrics.processors[0]", "does not support the metrics")


def test_memory_limiter_first_is_a_separate_lint() -> None:
    doc = minimal()
    doc["service"]["pipelines"]["traces"]["processors"] = ["batch", "memory_limiter"]
    errors = validate_collector_config(doc, CURRENT)
    assert [e.path for e in errors] == ["service.pipelines.traces.processors[1]"]
    assert errors[0].message.startswith("lint(memory_limiter_first)")
    assert validate_collector_config(doc, CURRENT, lints=()) == []
    with pytest.raises(ValueError):
        validate_collector_config(doc, CURRENT, lints=("no_such_lint",))


# --- renames --------------------------------------------------------------------------------------

RENAMES = [
    ("otlp_exporter", "exporters", "otlp", "otlp_grpc", (0, 144, 0)),  # core CHANGELOG v0.144.0 #14403
    ("otlphttp_exporter", "exporters", "otlphttp", "otlp_http", (0, 144, 0)),  # #14396
    ("span_metrics", "connectors", "spanmetrics", "span_metrics", (0, 152, 0)),
    ("service_graph", "connectors", "servicegraph", "service_graph", (0, 152, 0)),
    ("load_balancing", "exporters", "loadbalancing", "load_balancing", (0, 153, 0)),
    ("prometheus_remote_write", "exporters", "prometheusremotewrite", "prometheus_remote_write", (0, 154, 0)),
]
BODIES = {
    "otlp_exporter": {"endpoint": "tempo:4317"},
    "otlphttp_exporter": {"endpoint": "http://tempo:4318"},
    "span_metrics": {},
    "service_graph": {},
    "load_balancing": {"routing_key": "traceID", "resolver": {"dns": {"hostname": "tier2-headless"}}},
    "prometheus_remote_write": {"endpoint": "http://mimir/api/v1/push"},
}


def _with_component(kind: str, cid: str, logical: str) -> dict:
    doc = minimal((0, 140, 0))
    doc[kind][cid] = copy.deepcopy(BODIES[logical])
    pipelines = doc["service"]["pipelines"]
    if kind == "connectors":
        pipelines["traces"]["exporters"].append(cid)
        pipelines["metrics/extra"] = {"receivers": [cid], "exporters": ["prometheus"]}
    elif logical == "prometheus_remote_write":
        pipelines["metrics/spanmetrics"]["exporters"].append(cid)
    else:
        pipelines["traces"]["exporters"].append(cid)
    return doc


@pytest.mark.parametrize(("logical", "kind", "old", "new", "since"), RENAMES)
def test_component_ids_follow_the_rename_table(
    logical: str, kind: str, old: str, new: str, since: tuple[int, int, int]
) -> None:
    before = (since[0], since[1] - 1, 0)
    assert component_ids(before)[logical] == old
    assert component_ids(since)[logical] == new
    assert component_ids(CURRENT)[logical] == new


@pytest.mark.parametrize(("logical", "kind", "old", "new", "since"), RENAMES)
def test_old_and_new_ids_on_either_side_of_the_rename(
    logical: str, kind: str, old: str, new: str, since: tuple[int, int, int]
) -> None:
    before = (since[0], since[1] - 1, 0)
    assert validate_collector_config(_with_component(kind, old, logical), before) == []
    assert validate_collector_config(_with_component(kind, old, logical), since) == []  # deprecated alias
    assert validate_collector_config(_with_component(kind, new, logical), since) == []
    errors = validate_collector_config(_with_component(kind, new, logical), before)
    assert has(errors, f"{kind}.{new}", f'unknown type: "{new}"')


def test_unchanged_ids() -> None:
    ids = component_ids(CURRENT)
    assert {k: ids[k] for k in ("otlp_receiver", "batch", "memory_limiter", "tail_sampling", "forward")} == {
        "otlp_receiver": "otlp",
        "batch": "batch",
        "memory_limiter": "memory_limiter",
        "tail_sampling": "tail_sampling",
        "forward": "forward",
    }
    assert (ids["prometheus_exporter"], ids["debug"]) == ("prometheus", "debug")


# --- tail sampling policies -----------------------------------------------------------------------


def _ts(*policies: dict, **extra: object) -> dict:
    return {"decision_wait": "10s", "policies": list(policies), **extra}


ERRORS_POLICY = {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}


def test_every_policy_type_is_accepted() -> None:
    block = _ts(
        ERRORS_POLICY,
        {"name": "slow", "type": "latency", "latency": {"threshold_ms": 500, "upper_threshold_ms": 9000}},
        {"name": "bytes", "type": "bytes_limiting", "bytes_limiting": {"bytes_per_second": 1000}},
        {
            "name": "not-health",
            "type": "not",
            "not": {
                "not_sub_policy": {
                    "name": "health",
                    "type": "string_attribute",
                    "string_attribute": {
                        "key": "http.route",
                        "values": ["^/health$"],
                        "enabled_regex_matching": True,
                    },
                }
            },
        },
        {
            "name": "drop-noise",
            "type": "drop",
            "drop": {
                "drop_sub_policy": [
                    {
                        "name": "bot",
                        "type": "boolean_attribute",
                        "boolean_attribute": {"key": "bot", "value": True},
                    },
                ]
            },
        },
        {
            "name": "budget",
            "type": "composite",
            "composite": {
                "max_total_spans_per_second": 100,
                "policy_order": ["both", "rest"],
                "composite_sub_policy": [
                    {
                        "name": "both",
                        "type": "and",
                        "and": {
                            "and_sub_policy": [
                                ERRORS_POLICY,
                                {
                                    "name": "p",
                                    "type": "probabilistic",
                                    "probabilistic": {"sampling_percentage": 10},
                                },
                            ]
                        },
                    },
                    {"name": "rest", "type": "always_sample"},
                ],
                "rate_allocation": [{"policy": "both", "percent": 60}, {"policy": "rest", "percent": 40}],
            },
        },
        decision_cache={"sampled_cache_size": 100000},
    )
    assert validate_tail_sampling(block, CURRENT) == []


@pytest.mark.parametrize(
    ("container", "inner"),
    [("and", "composite"), ("and", "and"), ("drop", "drop"), ("not", "and"), ("not", "not"), ("composite", "not")],
)
def test_nested_policy_rules(container: str, inner: str) -> None:
    sub = {"name": "inner", "type": inner, inner: {}}
    key = f"{container}_sub_policy"
    block = _ts({"name": "outer", "type": container, container: {key: sub if container == "not" else [sub]}})
    errors = validate_tail_sampling(block, CURRENT)
    index = "" if container == "not" else "[0]"
    assert has(errors, f"policies[0].{container}.{key}{index}.type", f"cannot be nested inside '{key}'")


NOT_ERRORS = {"name": "ok", "type": "not", "not": {"not_sub_policy": ERRORS_POLICY}}


@pytest.mark.parametrize("container", ["and", "drop"])
def test_not_may_sit_inside_and_and_drop(container: str) -> None:
    """contrib v0.159.0: and/drop sub-policies are AndSubPolicyCfg, which has a NotCfg (config.go)."""
    block = _ts({"name": "outer", "type": container, container: {f"{container}_sub_policy": [NOT_ERRORS]}})
    assert validate_tail_sampling(block, CURRENT) == []


def test_not_may_sit_inside_an_and_inside_a_composite() -> None:
    both = {"name": "both", "type": "and", "and": {"and_sub_policy": [NOT_ERRORS]}}
    block = _ts({"name": "c", "type": "composite", "composite": {
        "max_total_spans_per_second": 10, "composite_sub_policy": [both],
        "rate_allocation": [{"policy": "both", "percent": 100}]}})
    assert validate_tail_sampling(block, CURRENT) == []


def test_composite_may_nest_and_but_not_composite() -> None:
    sub = {"name": "inner", "type": "composite", "composite": {}}
    block = _ts({"name": "c", "type": "composite", "composite": {"composite_sub_policy": [sub]}})
    assert has(
        validate_tail_sampling(block, CURRENT), "policies[0].composite.composite_sub_policy[0].type", "nested"
    )


def test_policy_names_unique_and_non_empty() -> None:
    errors = validate_tail_sampling(_ts(ERRORS_POLICY, ERRORS_POLICY, {**ERRORS_POLICY, "name": ""}), CURRENT)
    assert has(errors, "policies[1].name", "duplicate policy name 'errors'")
    assert has(errors, "policies[2].name", "cannot be empty")


def test_block_must_match_type() -> None:
    # The Collector decodes the other type's block and never reads it; latency runs on its zero config.
    wrong = {"name": "x", "type": "latency", "numeric_attribute": {"key": "k", "min_value": 1}}
    errors = validate_tail_sampling(_ts(wrong), CURRENT)
    assert has(errors, "policies[0].numeric_attribute", "lint(silently_ignored): 'numeric_attribute' block is "
                                                        "ignored: the policy's type is 'latency'")
    assert has(errors, "policies[0]", "lint(silently_ignored): policy of type 'latency' has no 'latency' block")
    assert validate_tail_sampling(_ts(wrong), CURRENT, lints=()) == []
    # status_code and ottl_condition fail on their zero config, so their block is required
    errors = validate_tail_sampling(_ts({"name": "x", "type": "status_code"}), CURRENT, lints=())
    assert has(errors, "policies[0]", "requires a 'status_code' block")


def test_unknown_policy_type_and_key() -> None:
    errors = validate_tail_sampling(_ts({"name": "x", "type": "latncy", "latncy": {}}), CURRENT)
    assert has(errors, "policies[0].type", "unknown sampling policy type 'latncy'")
    # a misspelt block is kept as evaluator-extension config (ExtensionCfg, `,remain`) and ignored
    typo = {**ERRORS_POLICY, "status_cod": {"status_codes": ["OK"]}}
    assert has(validate_tail_sampling(_ts(typo), CURRENT), "policies[0].status_cod", "lint(silently_ignored)")
    assert validate_tail_sampling(_ts(typo), CURRENT, lints=()) == []
    # ... but that map only takes mappings: a scalar is a decode error
    scalar = {**ERRORS_POLICY, "status_cod": 1}
    assert has(validate_tail_sampling(_ts(scalar), CURRENT, lints=()), "policies[0].status_cod", "has invalid keys")


def test_extension_policy_type_needs_a_configured_extension() -> None:
    doc = minimal()
    doc["processors"]["tail_sampling"] = _ts(
        {"name": "ext", "type": "my_sampler/a", "my_sampler/a": {"k": 1}}
    )
    doc["service"]["pipelines"]["traces"]["processors"].append("tail_sampling")
    errors = validate_collector_config(doc, CURRENT, allow_unknown_components=True)
    assert has(errors, "processors.tail_sampling.policies[0].type", "unknown sampling policy type")
    doc["extensions"] = {"my_sampler/a": {}}
    assert validate_collector_config(doc, CURRENT, allow_unknown_components=True) == []


def test_composite_rate_allocation_rules() -> None:
    composite = {
        "composite_sub_policy": [ERRORS_POLICY, {"name": "rest", "type": "always_sample"}],
        "rate_allocation": [{"policy": "errors", "percent": 50}, {"policy": "ghost", "percent": 50}],
    }
    errors = validate_tail_sampling(_ts({"name": "c", "type": "composite", "composite": composite}), CURRENT)
    assert has(
        errors, "policies[0].composite.rate_allocation[1].policy", "'ghost' is not a composite sub-policy"
    )
    assert has(errors, "policies[0].composite.composite_sub_policy[1]", "lint(composite_rate_allocation)")
    assert len(errors) == 2
    # the Collector starts with both: an allocation to no sub-policy is ignored
    without_lint = validate_tail_sampling(
        _ts({"name": "c", "type": "composite", "composite": composite}), CURRENT, lints=()
    )
    assert without_lint == []


@pytest.mark.parametrize(
    ("version", "consequence"),
    [((0, 158, 0), "its budget is 0"), ((0, 159, 0), "equal share of max_total_spans_per_second")],
)
def test_unallocated_sub_policy_lint_follows_the_pinned_version(
    version: tuple[int, int, int], consequence: str
) -> None:
    # composite_helper.go getRateAllocationMap changed in v0.159.0 (contrib PR #49857): an unlisted sub-policy
    # went from a budget of 0 to total / number of sub-policies.
    composite = {
        "composite_sub_policy": [ERRORS_POLICY, {"name": "rest", "type": "always_sample"}],
        "rate_allocation": [{"policy": "errors", "percent": 50}],
    }
    errors = validate_tail_sampling(_ts({"name": "c", "type": "composite", "composite": composite}), version)
    assert [e.path for e in errors] == ["policies[0].composite.composite_sub_policy[1]"]
    assert consequence in errors[0].message


@pytest.mark.parametrize("pattern", ["^(?!health).*$", "(?<=/api)/v1", r"(\w+)\1", "a++"])
def test_re2_invalid_regex_is_rejected(pattern: str) -> None:
    policy = {
        "name": "re",
        "type": "string_attribute",
        "string_attribute": {
            "key": "http.route",
            "values": ["^/ok$", pattern],
            "enabled_regex_matching": True,
        },
    }
    errors = validate_tail_sampling(_ts(policy), CURRENT)
    assert paths(errors) == ["policies[0].string_attribute.values[1]"]
    assert "RE2" in errors[0].message


def test_regex_only_compiled_when_regex_matching_enabled() -> None:
    policy = {
        "name": "re",
        "type": "string_attribute",
        "string_attribute": {"key": "http.route", "values": ["^(?!health).*$"]},
    }
    assert validate_tail_sampling(_ts(policy), CURRENT) == []


def test_decision_wait_after_root_received_is_version_gated() -> None:
    block = _ts(ERRORS_POLICY, decision_wait_after_root_received="2s")
    # contrib CHANGELOG v0.144.0: "Provide an option, decision_wait_after_root_received" (#43876)
    assert validate_tail_sampling(block, (0, 144, 0)) == []
    errors = validate_tail_sampling(block, (0, 143, 0))
    assert paths(errors) == ["decision_wait_after_root_received"]
    assert "v0.144.0" in errors[0].message


def test_maximum_trace_size_bytes_is_version_gated() -> None:
    block = _ts(ERRORS_POLICY, maximum_trace_size_bytes=5_000_000)
    assert validate_tail_sampling(block, CURRENT) == []
    assert paths(validate_tail_sampling(block, (0, 140, 0))) == ["maximum_trace_size_bytes"]


def test_tail_sampling_scalar_rules() -> None:
    # Config.Validate (v0.159.0) checks sampling_strategy and num_shards only; the 0.159.0 binary starts
    # with decision_wait 0s, num_traces 0 and no policy.
    errors = validate_tail_sampling({"decision_wait": "0s", "num_traces": 0, "policies": []}, CURRENT)
    assert paths(errors) == ["policies"] and "lint(silently_ignored)" in errors[0].message
    assert has(validate_tail_sampling({"decision_wait": "5s"}, CURRENT), "policies", "no policy")
    assert validate_tail_sampling({"decision_wait": "5s"}, CURRENT, lints=()) == []
    errors = validate_tail_sampling({"num_shards": 300, "sampling_strategy": "eventually", "num_traces": -1,
                                     "policies": [ERRORS_POLICY]}, CURRENT)
    assert set(paths(errors)) == {"num_shards", "sampling_strategy", "num_traces"}


# --- connectors and load balancing -----------------------------------------------------------------


def test_span_metrics_dimension_rules() -> None:
    block = {"dimensions": [{"name": "http.method"}, {"name": "service.name"}, {"name": "http.method"}]}
    errors = validate_span_metrics(block, CURRENT)
    assert paths(errors) == ["dimensions[1].name", "dimensions[2].name"]
    assert all("duplicate dimension name" in e.message for e in errors)


def test_span_metrics_limits_and_dimensions_cache_size() -> None:
    assert paths(validate_span_metrics({"aggregation_cardinality_limit": -1}, CURRENT)) == [
        "aggregation_cardinality_limit"
    ]
    assert validate_span_metrics({"dimensions_cache_size": 1000}, (0, 129, 0)) == []
    assert validate_span_metrics({"dimensions_cache_size": 1000}, CURRENT) == []  # deprecated, still decoded


def test_service_graph_histogram_exclusive() -> None:
    errors = validate_service_graph(
        {"latency_histogram_buckets": ["10ms"], "exponential_histogram_max_size": 160}, CURRENT
    )
    assert has(errors, "", "use either")


def test_load_balancing_rules() -> None:
    ok = {
        "routing_key": "traceID",
        "protocol": {"otlp": {"tls": {"insecure": True}, "timeout": "1s"}},
        "resolver": {"k8s": {"service": "tier2.observability", "ports": [4317]}},
    }
    assert validate_load_balancing(ok, CURRENT) == []
    bad = copy.deepcopy(ok)
    bad["protocol"]["otlp"]["endpoint"] = "tier2:4317"
    bad["protocol"]["otlp"]["endpont"] = "x"
    bad["routing_key"] = "traceId"
    bad["resolver"]["consul"] = {}
    assert paths(validate_load_balancing(bad, CURRENT)) == [
        "protocol.otlp.endpont",
        "resolver.consul",
        "routing_key",
    ]
    del bad["protocol"]["otlp"]["endpont"], bad["resolver"]["consul"]
    bad["routing_key"] = "service"
    # the template's endpoint is replaced per backend: accepted by the Collector, a lint in a whole config
    assert validate_load_balancing(bad, CURRENT) == []
    doc = {"receivers": {"otlp": {"protocols": {"grpc": None}}}, "exporters": {"load_balancing": bad},
           "service": {"pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["load_balancing"]}}}}
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == ["exporters.load_balancing.protocol.otlp.endpoint"]
    assert "lint(silently_ignored)" in errors[0].message


def test_telemetry_is_loose_but_typed() -> None:
    doc = minimal()
    doc["service"]["telemetry"] = {
        "logs": {"level": "DEBUG", "encoding": "json"},
        "metrics": {"level": "detailed", "readers": [{"pull": {"exporter": {"prometheus": {"port": 8888}}}}]},
    }
    assert validate_collector_config(doc, CURRENT) == []
    doc["service"]["telemetry"]["metrics"] = {"level": "verbose", "address": "0.0.0.0:8888"}
    doc["service"]["telemetry"]["tracing"] = {}
    errors = validate_collector_config(doc, CURRENT)
    assert paths(errors) == [
        "service.telemetry.metrics.address",
        "service.telemetry.metrics.level",
        "service.telemetry.tracing",
    ]
