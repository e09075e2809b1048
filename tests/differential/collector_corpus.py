"""A deterministic corpus of Collector configs for the differential test (obsgen lint vs otelcol validate).

Built by code, not stored: valid configs around every component and tail-sampling policy type obsgen
can emit (plus obsgen's own rendered goldens), and mutations of them: unknown and misspelt keys, wrong
types, out-of-range numbers, missing required fields, component ids wrong or renamed for 0.159.0,
broken pipeline wiring, endpoints without a port and regexes Go's ``regexp`` rejects. Random choices
come from one ``random.Random`` with a fixed seed, so every run sees the same cases in the same order.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SEED = 13
# The environment both sides see: goldens carry ${env:HOSTNAME}.
ENV = {"HOSTNAME": "collector-0", "OBSGEN_TEMPO_ENDPOINT": "tempo:4317"}

Config = dict[str, object]


@dataclass(frozen=True)
class Case:
    """One config; ``undecidable`` says why the strict model cannot judge it (then it is not compared)."""

    name: str
    config: Config
    undecidable: str = ""

    def text(self) -> str:
        """The YAML both tools read (PyYAML quotes every string YAML 1.1 or 1.2 would read as non-string)."""
        return yaml.dump(self.config, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, width=1000)


class _PlainDumper(yaml.SafeDumper):
    """A safe dumper that writes a repeated object out again instead of an anchor and alias."""

    def ignore_aliases(self, data: object) -> bool:
        return True


# --- valid building blocks ----------------------------------------------------------------------

def otlp_receiver() -> Config:
    return {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {"endpoint": "0.0.0.0:4318"}}}


def memory_limiter() -> Config:
    return {"check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 20}


def batch() -> Config:
    return {"timeout": "200ms", "send_batch_size": 8192, "send_batch_max_size": 10000}


def span_metrics() -> Config:
    return {
        "namespace": "traces.span.metrics",
        "histogram": {"unit": "s", "explicit": {"buckets": ["5ms", "10ms", "100ms", "1s"]}},
        "dimensions": [{"name": "http.request.method"}, {"name": "tenant", "default": "none"}],
        "exemplars": {"enabled": True},
        "aggregation_cardinality_limit": 1000,
        "metrics_flush_interval": "15s",
    }


def service_graph() -> Config:
    return {
        "latency_histogram_buckets": ["10ms", "100ms", "1s"],
        "dimensions": ["tenant"],
        "store": {"ttl": "2s", "max_items": 1000},
        "virtual_node_peer_attributes": ["db.name", "peer.service"],
        "metrics_flush_interval": "15s",
    }


POLICIES: dict[str, Config] = {
    "always_sample": {"name": "all", "type": "always_sample"},
    "latency": {"name": "slow", "type": "latency", "latency": {"threshold_ms": 500, "upper_threshold_ms": 5000}},
    "numeric_attribute": {"name": "codes", "type": "numeric_attribute",
                          "numeric_attribute": {"key": "http.status_code", "min_value": 500, "max_value": 599}},
    "probabilistic": {"name": "base", "type": "probabilistic",
                      "probabilistic": {"sampling_percentage": 10, "hash_salt": "s"}},
    "status_code": {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
    "string_attribute": {"name": "routes", "type": "string_attribute",
                         "string_attribute": {"key": "http.route", "values": ["^/checkout$", "/pay.*"],
                                              "enabled_regex_matching": True, "cache_max_size": 100}},
    "rate_limiting": {"name": "cap", "type": "rate_limiting", "rate_limiting": {"spans_per_second": 1000}},
    "bytes_limiting": {"name": "bytes", "type": "bytes_limiting",
                       "bytes_limiting": {"bytes_per_second": 1048576, "burst_capacity": 2097152}},
    "span_count": {"name": "big", "type": "span_count", "span_count": {"min_spans": 2, "max_spans": 100}},
    "trace_state": {"name": "ts", "type": "trace_state", "trace_state": {"key": "tier", "values": ["gold"]}},
    "boolean_attribute": {"name": "flag", "type": "boolean_attribute",
                          "boolean_attribute": {"key": "debug", "value": True}},
    "ottl_condition": {"name": "ottl", "type": "ottl_condition",
                       "ottl_condition": {"error_mode": "ignore",
                                          "span": ['attributes["http.route"] == "/checkout"'],
                                          "spanevent": ['name == "exception"']}},
    "and": {"name": "slow-errors", "type": "and", "and": {"and_sub_policy": [
        {"name": "e", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
        {"name": "s", "type": "latency", "latency": {"threshold_ms": 100}}]}},
    "not": {"name": "not-health", "type": "not", "not": {"not_sub_policy": {
        "name": "health", "type": "string_attribute",
        "string_attribute": {"key": "http.route", "values": ["/health"]}}}},
    "drop": {"name": "drop-health", "type": "drop", "drop": {"drop_sub_policy": [
        {"name": "health", "type": "string_attribute",
         "string_attribute": {"key": "http.route", "values": ["/healthz"]}}]}},
    "composite": {"name": "budget", "type": "composite", "composite": {
        "max_total_spans_per_second": 1000, "policy_order": ["errors", "rest"],
        "composite_sub_policy": [
            {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
            {"name": "rest", "type": "always_sample"}],
        "rate_allocation": [{"policy": "errors", "percent": 60}, {"policy": "rest", "percent": 40}]}},
    "trace_flags": {"name": "sampled-flag", "type": "trace_flags"},
}


def tail_sampling(*policies: Config) -> Config:
    chosen = list(policies) or [POLICIES["status_code"], POLICIES["probabilistic"]]
    # copies: a mutation must never reach the shared table, and YAML must not get anchors for repeats
    return {"decision_wait": "10s", "num_traces": 50000, "expected_new_traces_per_sec": 100,
            "policies": [copy.deepcopy(p) for p in chosen]}


def single() -> Config:
    """obsgen's single layout: span metrics and service graph before sampling, forward into sampling."""
    return {
        "extensions": {"health_check": {"endpoint": "0.0.0.0:13133"}},
        "receivers": {"otlp": otlp_receiver()},
        "processors": {"memory_limiter": memory_limiter(), "tail_sampling": tail_sampling(), "batch": batch()},
        "connectors": {"span_metrics": span_metrics(), "service_graph": service_graph(), "forward/sampling": {}},
        "exporters": {
            "otlp_grpc/tempo": {"endpoint": "tempo:4317", "tls": {"insecure": True}},
            "prometheus_remote_write": {"endpoint": "http://prometheus:9090/api/v1/write",
                                        "external_labels": {"collector_instance": "${env:HOSTNAME}"}},
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["memory_limiter"],
                           "exporters": ["span_metrics", "service_graph", "forward/sampling"]},
                "traces/sampling": {"receivers": ["forward/sampling"], "processors": ["tail_sampling", "batch"],
                                    "exporters": ["otlp_grpc/tempo"]},
                "metrics": {"receivers": ["span_metrics", "service_graph"], "processors": ["batch"],
                            "exporters": ["prometheus_remote_write"]},
            },
        },
    }


def gateway() -> Config:
    """The gateway of the scaled-out layout: trace-id load balancing to the samplers."""
    return {
        "receivers": {"otlp": otlp_receiver()},
        "processors": {"memory_limiter": memory_limiter()},
        "exporters": {"load_balancing": {
            "routing_key": "traceID",
            "protocol": {"otlp": {"tls": {"insecure": True}, "timeout": "5s"}},
            "resolver": {"static": {"hostnames": ["sampler-0:4317", "sampler-1:4317"]}},
        }},
        "service": {"pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter"],
                                             "exporters": ["load_balancing"]}}},
    }


def exporters_zoo() -> Config:
    """Every other exporter obsgen's Collector build has: otlp_http, debug, file, prometheus."""
    return {
        "receivers": {"otlp": otlp_receiver()},
        "processors": {"batch": {}},
        "exporters": {
            "otlp_http": {"endpoint": "http://tempo:4318", "compression": "gzip",
                          "retry_on_failure": {"enabled": True, "initial_interval": "5s"},
                          "sending_queue": {"enabled": True, "queue_size": 100}},
            "debug": {"verbosity": "detailed", "sampling_initial": 5, "sampling_thereafter": 200},
            "file": {"path": "/tmp/obsgen-differential-never-written.json"},
            "prometheus": {"endpoint": "0.0.0.0:8889", "namespace": "obsgen",
                           "resource_to_telemetry_conversion": {"enabled": True}},
        },
        "service": {"pipelines": {
            "traces": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlp_http", "debug", "file"]},
            "metrics": {"receivers": ["otlp"], "processors": ["batch"], "exporters": ["prometheus", "debug"]},
        }},
    }


def with_policies(*policies: Config) -> Config:
    config = single()
    config["processors"]["tail_sampling"] = tail_sampling(*policies)  # type: ignore[index]
    return config


def goldens() -> Iterator[tuple[str, Config]]:
    """Every Collector config obsgen renders for its example and test specs (the goldens)."""
    paths = sorted((ROOT / "tests" / "golden").glob("*/otel-collector/*.yaml"))
    paths += sorted((ROOT / "generated").glob("*/otel-collector/*.yaml"))
    for path in paths:
        yield f"golden:{path.relative_to(ROOT)}", yaml.safe_load(path.read_text(encoding="utf-8"))


# --- navigation and mutation helpers ------------------------------------------------------------

Path_ = tuple[str | int, ...]


def walk(value: object, path: Path_ = ()) -> Iterator[tuple[Path_, object]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, (*path, index))


def get(config: object, path: Path_) -> object:
    for part in path:
        config = config[part]  # type: ignore[index]
    return config


def put(config: object, path: Path_, value: object) -> None:
    get(config, path[:-1])[path[-1]] = value  # type: ignore[index]


def delete(config: object, path: Path_) -> None:
    del get(config, path[:-1])[path[-1]]  # type: ignore[attr-defined]


def component_paths(config: Config) -> list[Path_]:
    """Paths of every mapping inside a component body (not service, not the id level)."""
    out = []
    for kind in ("receivers", "processors", "exporters", "connectors", "extensions"):
        for path, value in walk(config.get(kind) or {}, (kind,)):
            if len(path) >= 2 and isinstance(value, dict):
                out.append(path)
    return out


def scalar_paths(config: Config) -> list[Path_]:
    out = []
    for kind in ("receivers", "processors", "exporters", "connectors", "extensions"):
        for path, value in walk(config.get(kind) or {}, (kind,)):
            if len(path) >= 3 and not isinstance(value, dict | list):
                out.append(path)
    return out


def misspell(key: str, rng: random.Random) -> str:
    """A plausible typo: a dropped, doubled or swapped letter (never the key itself)."""
    for _ in range(10):
        i = rng.randrange(len(key))
        choice = rng.choice(("drop", "double", "swap", "case"))
        if choice == "drop" and len(key) > 1:
            typo = key[:i] + key[i + 1:]
        elif choice == "double":
            typo = key[:i] + key[i] + key[i:]
        elif choice == "swap" and i + 1 < len(key):
            typo = key[:i] + key[i + 1] + key[i] + key[i + 2:]
        else:
            typo = key[:i] + key[i].swapcase() + key[i + 1:]
        if typo != key:
            return typo
    return key + "x"


def wrong_type(value: object, rng: random.Random) -> object:
    """A value of another YAML type than ``value``."""
    if isinstance(value, bool):
        return rng.choice(["yes", "true", 1])
    if isinstance(value, int | float):
        return rng.choice(["many", [value], {"value": value}, True])
    if isinstance(value, str):
        return rng.choice([[value, value], {"v": value}])
    return "text"


# --- the corpus ---------------------------------------------------------------------------------

K8S = ("the load_balancing exporter's k8s resolver builds an in-cluster Kubernetes client when the exporter "
       "is created, so `otelcol validate` fails outside a cluster whatever the config says")


BALANCERS = ("gRPC balancer names are a registry filled by the packages a binary imports (configgrpc "
             "ClientConfig.Validate asks balancer.Get); the model does not know which a build registers")
OTTL = ("OTTL condition syntax is not modelled: the Collector parses the conditions when the tail-sampling "
        "processor starts (internal/sampling/ottl.go), obsgen only checks that one is given")


def _bases() -> list[tuple[str, Config]]:
    bases = [("single", single()), ("gateway", gateway()), ("exporters", exporters_zoo())]
    bases += [(f"policy:{kind}", with_policies(policy)) for kind, policy in POLICIES.items()]
    return bases


def _valid_cases() -> Iterator[Case]:
    for name, config in _bases():
        yield Case(f"valid:{name}", config)
    yield Case("valid:every-policy", with_policies(*POLICIES.values()))
    for name, config in goldens():
        lb = (config.get("exporters") or {}).get("load_balancing")
        if isinstance(lb, dict) and "k8s" in (lb.get("resolver") or {}):
            yield Case(name, copy.deepcopy(config), K8S)
            static = copy.deepcopy(config)
            static["exporters"]["load_balancing"]["resolver"] = {  # type: ignore[index]
                "static": {"hostnames": ["sampler-0:4317"]}}
            yield Case(f"{name}+static-resolver", static)
        else:
            yield Case(name, config)
    # spellings of values the decoder accepts
    yield Case("valid:env-endpoint", _set(single(), ("exporters", "otlp_grpc/tempo", "endpoint"),
                                          "${env:OBSGEN_TEMPO_ENDPOINT}"))
    yield Case("valid:duration-int-nanos", _set(single(), ("processors", "batch", "timeout"), 200000000))
    yield Case("valid:duration-compound", _set(single(), ("processors", "tail_sampling", "decision_wait"), "1m30s"))
    yield Case("valid:string-list-as-csv", _set(single(), ("connectors", "service_graph", "dimensions"), "a,b"))
    yield Case("valid:int-into-string", _set(single(), ("processors", "tail_sampling", "policies", 1,
                                                         "probabilistic", "hash_salt"), 42))
    yield Case("valid:float-percentage", _set(single(), ("processors", "tail_sampling", "policies", 1,
                                                          "probabilistic", "sampling_percentage"), 12.5))
    yield Case("valid:null-grpc", _set(single(), ("receivers", "otlp", "protocols"), {"grpc": None}))
    yield Case("valid:dns-endpoint", _set(single(), ("exporters", "otlp_grpc/tempo", "endpoint"),
                                          "dns:///tempo:4317"))
    yield Case("valid:https-endpoint", _set(single(), ("exporters", "otlp_grpc/tempo", "endpoint"),
                                            "https://tempo:4317"))
    yield Case("valid:unused-receiver-extra", _set(single(), ("receivers", "otlp/unused"), otlp_receiver()))
    yield Case("valid:dns-resolver", _set(gateway(), ("exporters", "load_balancing", "resolver"),
                                          {"dns": {"hostname": "samplers.local", "port": "4317"}}))
    yield Case("valid:routing-service", _set(gateway(), ("exporters", "load_balancing", "routing_key"), "service"))


def _set(config: Config, path: Path_, value: object) -> Config:
    put(config, path, value)
    return config


def _without(config: Config, path: Path_) -> Config:
    delete(config, path)
    return config


def _targeted_cases() -> Iterator[Case]:
    """Hand-picked mutations: each names one rule of a component's Validate() or the service graph."""
    s = ("processors", "tail_sampling")
    p0, p1 = (*s, "policies", 0), (*s, "policies", 1)
    out_of_range: list[tuple[str, Path_, object]] = [
        ("memory-limit-percentage-over-100", ("processors", "memory_limiter", "limit_percentage"), 150),
        ("spike-not-below-limit", ("processors", "memory_limiter", "spike_limit_percentage"), 80),
        ("check-interval-zero", ("processors", "memory_limiter", "check_interval"), "0s"),
        ("negative-uint", ("processors", "memory_limiter", "limit_percentage"), -5),
        ("batch-max-below-size", ("processors", "batch", "send_batch_max_size"), 100),
        ("batch-size-over-uint32", ("processors", "batch", "send_batch_size"), 2**33),
        ("num-traces-zero", (*s, "num_traces"), 0),
        ("decision-wait-zero", (*s, "decision_wait"), "0s"),
        ("decision-wait-negative", (*s, "decision_wait"), "-1s"),
        ("decision-wait-no-unit", (*s, "decision_wait"), "10"),
        ("decision-wait-days", (*s, "decision_wait"), "1d"),
        ("decision-wait-spaced", (*s, "decision_wait"), "5 s"),
        ("sampling-strategy-unknown", (*s, "sampling_strategy"), "eventually"),
        ("num-shards-over-256", (*s, "num_shards"), 300),
        ("status-code-unknown", (*p0, "status_code", "status_codes"), ["FAILED"]),
        ("status-code-lowercase", (*p0, "status_code", "status_codes"), ["error"]),
        ("status-codes-empty", (*p0, "status_code", "status_codes"), []),
        ("probabilistic-over-100", (*p1, "probabilistic", "sampling_percentage"), 150),
        ("probabilistic-negative", (*p1, "probabilistic", "sampling_percentage"), -1),
        ("histogram-unit-h", ("connectors", "span_metrics", "histogram", "unit"), "h"),
        ("span-metrics-negative-expiration", ("connectors", "span_metrics", "metrics_expiration"), "-20s"),
        ("span-metrics-bucket-not-duration", ("connectors", "span_metrics", "histogram", "explicit", "buckets"),
         ["5ms", "ten"]),
        ("span-metrics-bucket-number", ("connectors", "span_metrics", "histogram", "explicit", "buckets"), [5, 10]),
        ("span-metrics-both-histograms", ("connectors", "span_metrics", "histogram", "exponential"), {"max_size": 10}),
        ("span-metrics-delta-cache-zero", ("connectors", "span_metrics", "aggregation_temporality"),
         "AGGREGATION_TEMPORALITY_DELTA"),
        ("span-metrics-temporality-unknown", ("connectors", "span_metrics", "aggregation_temporality"), "SOMETIMES"),
        ("span-metrics-dimension-builtin", ("connectors", "span_metrics", "dimensions"), [{"name": "span.name"}]),
        ("span-metrics-dimension-duplicate", ("connectors", "span_metrics", "dimensions"),
         [{"name": "a"}, {"name": "a"}]),
        ("span-metrics-events-without-dimensions", ("connectors", "span_metrics", "events"), {"enabled": True}),
        ("service-graph-both-histograms", ("connectors", "service_graph", "exponential_histogram_max_size"), 10),
        ("service-graph-store-ttl-bad", ("connectors", "service_graph", "store", "ttl"), "forever"),
        ("compression-unknown", ("exporters", "otlp_grpc/tempo", "compression"), "brotli"),
        ("tls-min-version-bad", ("exporters", "otlp_grpc/tempo", "tls", "min_version"), "1.9"),
        ("tls-insecure-yes", ("exporters", "otlp_grpc/tempo", "tls", "insecure"), "yes"),
        ("queue-size-negative", ("exporters", "otlp_grpc/tempo", "sending_queue"), {"queue_size": -1}),
        ("queue-size-zero", ("exporters", "otlp_grpc/tempo", "sending_queue"), {"queue_size": 0}),
        ("retry-multiplier-zero", ("exporters", "otlp_grpc/tempo", "retry_on_failure"), {"multiplier": 0}),
        ("retry-randomization-over-1", ("exporters", "otlp_grpc/tempo", "retry_on_failure"),
         {"randomization_factor": 2}),
        ("timeout-negative", ("exporters", "otlp_grpc/tempo", "timeout"), "-5s"),
        ("keepalive-bad", ("exporters", "otlp_grpc/tempo", "keepalive"), {"time": "often"}),
        ("headers-list-form", ("exporters", "otlp_grpc/tempo", "headers"), [{"name": "a", "value": "b"}]),
        ("headers-list-duplicate", ("exporters", "otlp_grpc/tempo", "headers"),
         [{"name": "a", "value": "b"}, {"name": "a", "value": "c"}]),
        ("prw-queue-negative", ("exporters", "prometheus_remote_write", "remote_write_queue"), {"queue_size": -1}),
        ("prw-sending-queue", ("exporters", "prometheus_remote_write", "sending_queue"), {"enabled": True}),
        ("prw-endpoint-empty", ("exporters", "prometheus_remote_write", "endpoint"), ""),
        ("prw-endpoint-not-url", ("exporters", "prometheus_remote_write", "endpoint"), "::not a url"),
        ("prw-wal-bad-duration", ("exporters", "prometheus_remote_write", "wal"), {"truncate_frequency": "1x"}),
        ("prw-max-batch-negative", ("exporters", "prometheus_remote_write", "max_batch_size_bytes"), -1),
        ("receiver-transport-bad", ("receivers", "otlp", "protocols", "grpc", "transport"), "carrier-pigeon"),
        ("receiver-max-streams-negative", ("receivers", "otlp", "protocols", "grpc", "max_concurrent_streams"), -1),
        ("receiver-cors-not-list", ("receivers", "otlp", "protocols", "http", "cors"), {"allowed_origins": 5}),
        ("health-check-path-list", ("extensions", "health_check", "path"), ["/"]),
        ("telemetry-level-loud", ("service", "telemetry"), {"logs": {"level": "loud"}}),
        ("telemetry-metrics-level-bad", ("service", "telemetry"), {"metrics": {"level": "verbose"}}),
        ("telemetry-views-normal", ("service", "telemetry"), {"metrics": {"level": "normal", "views": [{}]}}),
        ("latency-threshold-string", (*p0, "latency"), {"threshold_ms": "500ms"}),
        ("batch-metadata-keys-dupe", ("processors", "batch", "metadata_keys"), ["a", "A"]),
        ("int-into-string-field", ("connectors", "span_metrics", "namespace"), 42),
        ("bool-into-string-list", ("connectors", "service_graph", "dimensions"), [True]),
        ("float-into-int", ("processors", "tail_sampling", "num_traces"), 1000.5),
        ("float-duration", ("processors", "batch", "timeout"), 1.5),
        ("int32-overflow", ("connectors", "service_graph", "exponential_histogram_max_size"), 2**40),
        ("dimensions-cache-size-deprecated", ("connectors", "span_metrics", "dimensions_cache_size"), 500),
        ("span-metrics-series-expiration", ("connectors", "span_metrics", "series_expiration"), "5m"),
        ("span-metrics-glob-dimension", ("connectors", "span_metrics", "dimensions"), [{"glob": "http.*"}]),
        ("span-metrics-glob-with-default", ("connectors", "span_metrics", "dimensions"),
         [{"glob": "http.*", "default": "x"}]),
        ("span-metrics-name-and-glob", ("connectors", "span_metrics", "dimensions"), [{"name": "a", "glob": "b*"}]),
        ("service-graph-metrics-exporter", ("connectors", "service_graph", "metrics_exporter"), "prometheus"),
        ("queue-disabled-size-zero", ("exporters", "otlp_grpc/tempo", "sending_queue"),
         {"enabled": False, "queue_size": 0}),
        ("queue-batch-flush-zero", ("exporters", "otlp_grpc/tempo", "sending_queue"),
         {"batch": {"flush_timeout": "0s"}}),
        ("queue-batch-null", ("exporters", "otlp_grpc/tempo", "sending_queue"), {"batch": None}),
        ("retry-elapsed-below-initial", ("exporters", "otlp_grpc/tempo", "retry_on_failure"),
         {"initial_interval": "10s", "max_elapsed_time": "5s"}),
        ("retry-multiplier-negative", ("exporters", "otlp_grpc/tempo", "retry_on_failure"), {"multiplier": -1}),
        ("prw-compression-gzip", ("exporters", "prometheus_remote_write", "compression"), "gzip"),
        ("prw-http-block", ("exporters", "prometheus_remote_write", "http"), {"endpoint": "http://p:9090/w"}),
        ("prw-translation-unknown", ("exporters", "prometheus_remote_write", "translation_strategy"), "Fancy"),
        ("prw-queue-size-zero", ("exporters", "prometheus_remote_write", "remote_write_queue"), {"queue_size": 0}),
        ("prw-parallelism-zero", ("exporters", "prometheus_remote_write", "max_batch_request_parallelism"), 0),
        ("tls-version-13", ("exporters", "otlp_grpc/tempo", "tls", "min_version"), "1.3"),
    ]
    for name, path, value in out_of_range:
        config = single()
        if name.startswith("latency"):
            config = with_policies(POLICIES["latency"], POLICIES["probabilistic"])
        if name == "span-metrics-delta-cache-zero":
            put(config, ("connectors", "span_metrics", "metric_timestamp_cache_size"), 0)
        yield Case(f"value:{name}", _set(config, path, value))

    missing: list[tuple[str, Callable[[], Config], Path_]] = [
        ("otlp-endpoint", single, ("exporters", "otlp_grpc/tempo", "endpoint")),
        ("otlp-http-endpoint", exporters_zoo, ("exporters", "otlp_http", "endpoint")),
        ("prw-endpoint", single, ("exporters", "prometheus_remote_write", "endpoint")),
        ("file-path", exporters_zoo, ("exporters", "file", "path")),
        ("prometheus-endpoint", exporters_zoo, ("exporters", "prometheus", "endpoint")),
        ("receiver-protocols", single, ("receivers", "otlp", "protocols")),
        ("policies", single, ("processors", "tail_sampling", "policies")),
        ("decision-wait", single, ("processors", "tail_sampling", "decision_wait")),
        ("memory-limits", single, ("processors", "memory_limiter", "limit_percentage")),
        ("check-interval", single, ("processors", "memory_limiter", "check_interval")),
        ("resolver", gateway, ("exporters", "load_balancing", "resolver")),
        ("static-hostnames", gateway, ("exporters", "load_balancing", "resolver", "static", "hostnames")),
        ("protocol", gateway, ("exporters", "load_balancing", "protocol")),
        ("policy-name", single, ("processors", "tail_sampling", "policies", 0, "name")),
        ("policy-type", single, ("processors", "tail_sampling", "policies", 0, "type")),
        ("policy-block", single, ("processors", "tail_sampling", "policies", 0, "status_code")),
        ("pipelines", single, ("service", "pipelines")),
        ("pipeline-receivers", single, ("service", "pipelines", "traces", "receivers")),
        ("pipeline-exporters", single, ("service", "pipelines", "traces/sampling", "exporters")),
        ("receivers-section", exporters_zoo, ("receivers",)),
        ("exporters-section", gateway, ("exporters",)),
        ("service-section", gateway, ("service",)),
    ]
    for name, make, path in missing:
        yield Case(f"missing:{name}", _without(make(), path))
    yield Case("value:balancer-unknown", _set(single(), ("exporters", "otlp_grpc/tempo", "balancer_name"),
                                              "weighted_random"), BALANCERS)
    yield Case("value:balancer-round-robin", _set(single(), ("exporters", "otlp_grpc/tempo", "balancer_name"),
                                                  "round_robin"))
    for name, block in [
        ("numeric-no-bounds", {"key": "code"}),
        ("numeric-min-over-max", {"key": "code", "min_value": 600, "max_value": 500}),
        ("string-no-key", {"values": ["a"]}),
        ("string-empty-values", {"key": "k", "values": []}),
        ("span-count-min-over-max", {"min_spans": 10, "max_spans": 2}),
        ("span-count-zero", {"min_spans": 0}),
        ("trace-state-no-key", {"values": ["a"]}),
        ("boolean-no-key", {"value": True}),
        ("ottl-no-conditions", {"error_mode": "ignore"}),
        ("ottl-bad-condition", {"span": ["this is not ottl"]}),
        ("ottl-error-mode-bad", {"error_mode": "explode", "span": ['name == "x"']}),
        ("rate-limit-zero", {"spans_per_second": 0}),
        ("bytes-limit-zero", {"bytes_per_second": 0}),
        ("latency-zero", {"threshold_ms": 0}),
        ("latency-upper-below", {"threshold_ms": 500, "upper_threshold_ms": 100}),
        ("probabilistic-empty", {}),
    ]:
        if name == "ottl-bad-condition":
            yield Case(f"policy-block:{name}", with_policies({"name": "p", "type": "ottl_condition",
                                                               "ottl_condition": block}), OTTL)
            continue
        kind = {"numeric": "numeric_attribute", "string": "string_attribute", "span": "span_count",
                "trace": "trace_state", "boolean": "boolean_attribute", "ottl": "ottl_condition",
                "rate": "rate_limiting", "bytes": "bytes_limiting", "latency": "latency",
                "probabilistic": "probabilistic"}[name.split("-")[0]]
        yield Case(f"policy-block:{name}", with_policies({"name": "p", "type": kind, kind: block}))
    yield Case("policy:unknown-type", with_policies({"name": "p", "type": "sometimes"}))
    yield Case("policy:duplicate-names", with_policies(POLICIES["status_code"], POLICIES["status_code"]))
    yield Case("policy:always-with-block", with_policies({"name": "a", "type": "always_sample", "always_sample": {}}))
    yield Case("policy:block-of-other-type", with_policies({**POLICIES["status_code"], "latency": {"threshold_ms": 1}}))
    yield Case("policy:and-nested-and", with_policies({"name": "a", "type": "and", "and": {"and_sub_policy": [
        POLICIES["and"]]}}))
    yield Case("policy:composite-nested-and", with_policies({"name": "c", "type": "composite", "composite": {
        "max_total_spans_per_second": 10, "policy_order": ["x"],
        "composite_sub_policy": [{**POLICIES["and"], "name": "x"}],
        "rate_allocation": [{"policy": "x", "percent": 100}]}}))
    yield Case("policy:composite-allocation-unknown", with_policies({"name": "c", "type": "composite", "composite": {
        "max_total_spans_per_second": 10, "composite_sub_policy": [POLICIES["status_code"]],
        "rate_allocation": [{"policy": "nope", "percent": 100}]}}))
    yield Case("policy:composite-order-unknown", with_policies({"name": "c", "type": "composite", "composite": {
        "max_total_spans_per_second": 10, "policy_order": ["nope"], "composite_sub_policy": [POLICIES["status_code"]],
        "rate_allocation": [{"policy": "errors", "percent": 100}]}}))
    yield Case("policy:composite-percent-over-100", with_policies({"name": "c", "type": "composite", "composite": {
        "max_total_spans_per_second": 10, "composite_sub_policy": [POLICIES["status_code"]],
        "rate_allocation": [{"policy": "errors", "percent": 150}]}}))
    yield Case("policy:not-list", with_policies({"name": "n", "type": "not", "not": {"not_sub_policy": [
        POLICIES["status_code"]]}}))
    yield Case("policy:drop-composite-inside", with_policies({"name": "d", "type": "drop", "drop": {
        "drop_sub_policy": [POLICIES["composite"]]}}))
    yield Case("policy:empty-list", with_policies())
    empty = single()
    put(empty, ("processors", "tail_sampling", "policies"), [])
    yield Case("policy:explicit-empty-list", empty)
    yield Case("policy:trace-flags-with-block", with_policies({"name": "f", "type": "trace_flags", "trace_flags": {}}))
    yield Case("policy:rate-limiting-burst", with_policies({"name": "r", "type": "rate_limiting", "rate_limiting": {
        "spans_per_second": 100, "burst_capacity": 200}}))
    for name, body in [
        ("path-missing", {}),
        ("append-and-rotation", {"path": "/tmp/o.json", "append": True, "rotation": {"max_days": 1}}),
        ("format-xml", {"path": "/tmp/o.json", "format": "xml"}),
        ("compression-gzip", {"path": "/tmp/o.json", "compression": "gzip"}),
        ("group-by-no-star", {"path": "/tmp/o.json", "group_by": {"enabled": True, "resource_attribute": "a"}}),
        ("group-by-ok", {"path": "/tmp/obsgen-*/o.json", "group_by": {"enabled": True, "resource_attribute": "a"}}),
    ]:
        yield Case(f"file:{name}", _set(exporters_zoo(), ("exporters", "file"), body))
    for name in ("tempo+1", "te$mpo", "tempo=1", "tempo~", "tempo.1", "tempo-1", "tempo:1"):
        yield Case(f"id:name:{name}", rename(single(), "exporters", "otlp_grpc/tempo", f"otlp_grpc/{name}"))
    yield Case("policy:extension-type-undefined", with_policies({"name": "x", "type": "my_evaluator",
                                                                  "my_evaluator": {}}))


def _component_id_cases() -> Iterator[Case]:
    """Ids of the types, renamed, aliased, misspelt or absent from obsgen's build."""
    renames = [  # (section, current id, other id)
        ("exporters", "otlp_grpc/tempo", "otlp/tempo"),
        ("exporters", "otlp_grpc/tempo", "otlpgrpc/tempo"),
        ("exporters", "otlp_grpc/tempo", "otlp_grpcc/tempo"),
        ("exporters", "otlp_grpc/tempo", "OTLP_grpc/tempo"),
        ("exporters", "otlp_grpc/tempo", "otlp_grpc/"),
        ("exporters", "otlp_grpc/tempo", "otlp_grpc/tempo/x"),
        ("exporters", "otlp_grpc/tempo", "otlp_grpc/tem po"),
        ("exporters", "otlp_grpc/tempo", "otlp_grpc/témpo"),
        ("exporters", "prometheus_remote_write", "prometheusremotewrite"),
        ("exporters", "prometheus_remote_write", "prometheus_remotewrite"),
        ("connectors", "span_metrics", "spanmetrics"),
        ("connectors", "span_metrics", "span_metric"),
        ("connectors", "service_graph", "servicegraph"),
        ("connectors", "service_graph", "service_graphs"),
        ("connectors", "forward/sampling", "forwarder/sampling"),
        ("processors", "tail_sampling", "tailsampling"),
        ("processors", "memory_limiter", "memorylimiter"),
        ("processors", "batch", "batcher"),
        ("extensions", "health_check", "healthcheck"),
        ("extensions", "health_check", "health_check_v2"),
        ("receivers", "otlp", "otlp_grpc"),
        ("receivers", "otlp", "otlpreceiver"),
    ]
    for section, old, new in renames:
        yield Case(f"id:{section}:{new}", rename(single(), section, old, new))
    yield Case("id:loadbalancing", rename(gateway(), "exporters", "load_balancing", "loadbalancing"))
    yield Case("id:load-balancer", rename(gateway(), "exporters", "load_balancing", "load_balancer"))
    yield Case("id:otlphttp", rename(exporters_zoo(), "exporters", "otlp_http", "otlphttp"))
    yield Case("id:otlp_https", rename(exporters_zoo(), "exporters", "otlp_http", "otlp_https"))
    yield Case("id:logging", rename(exporters_zoo(), "exporters", "debug", "logging"))
    yield Case("id:fileexporter", rename(exporters_zoo(), "exporters", "file", "fileexporter"))
    yield Case("id:prometheus-named", rename(exporters_zoo(), "exporters", "prometheus", "prometheus/scrape"))
    not_built = ("pprof and zpages are otelcol-contrib extensions the strict model knows, but obsgen's Collector "
                 "build does not include them (tools/otelcol/builder-config.yaml)")
    for ext in ("pprof", "zpages"):
        config = single()
        put(config, ("extensions", ext), {"endpoint": "localhost:1777"})
        config["service"]["extensions"].append(ext)  # type: ignore[index]
        yield Case(f"id:extension-{ext}", config, not_built)


def rename(config: Config, section: str, old: str, new: str) -> Config:
    """Rename a component id everywhere (definition and every pipeline or service reference)."""
    body = config[section]
    config[section] = {(new if k == old else k): v for k, v in body.items()}  # type: ignore[union-attr]
    service = config["service"]
    service["extensions"] = [new if e == old else e for e in service.get("extensions", [])]  # type: ignore[index]
    if not service["extensions"]:  # type: ignore[index]
        del service["extensions"]  # type: ignore[attr-defined]
    for pipeline in service["pipelines"].values():  # type: ignore[index]
        for role in ("receivers", "processors", "exporters"):
            if role in pipeline:
                pipeline[role] = [new if r == old else r for r in pipeline[role]]
    return config


def _wiring_cases() -> Iterator[Case]:
    pipes = ("service", "pipelines")
    c = single()
    c["connectors"]["span_metrics/unused"] = {}  # type: ignore[index]
    yield Case("wiring:unused-connector", c)
    c = single()
    put(c, (*pipes, "metrics", "receivers"), ["service_graph"])
    yield Case("wiring:connector-only-exporter-side", c)
    c = single()
    put(c, (*pipes, "traces", "exporters"), ["service_graph", "forward/sampling"])
    yield Case("wiring:connector-only-receiver-side", c)
    c = single()
    put(c, (*pipes, "traces/sampling", "exporters"), ["otlp_grpc/tempo", "otlp_grpc/missing"])
    yield Case("wiring:undefined-exporter", c)
    c = single()
    put(c, (*pipes, "traces", "processors"), ["memory_limiter", "attributes"])
    yield Case("wiring:undefined-processor", c)
    c = single()
    put(c, (*pipes, "traces", "receivers"), ["otlp", "jaeger"])
    yield Case("wiring:undefined-receiver", c)
    c = single()
    c["service"]["extensions"].append("pprof")  # type: ignore[index]
    yield Case("wiring:undefined-extension", c)
    c = single()
    put(c, (*pipes, "metrics", "processors"), ["tail_sampling"])
    yield Case("wiring:traces-processor-in-metrics", c)
    c = single()
    put(c, (*pipes, "traces/sampling", "exporters"), ["otlp_grpc/tempo", "prometheus_remote_write"])
    yield Case("wiring:metrics-exporter-in-traces", c)
    c = single()
    put(c, (*pipes, "traces", "processors"), ["memory_limiter", "memory_limiter"])
    yield Case("wiring:duplicate-processor", c)
    c = single()
    put(c, (*pipes, "traces", "exporters"), ["span_metrics", "service_graph", "forward/sampling", "span_metrics"])
    yield Case("wiring:duplicate-exporter", c)
    c = single()
    put(c, (*pipes, "logs"), {"receivers": ["span_metrics"], "exporters": ["otlp_grpc/tempo"]})
    yield Case("wiring:span-metrics-into-logs", c)
    c = single()
    put(c, (*pipes, "traces/sampling", "receivers"), ["forward/sampling", "otlp"])
    yield Case("wiring:receiver-in-two-pipelines", c)
    c = single()
    put(c, (*pipes, "profiles"), {"receivers": ["otlp"], "exporters": ["otlp_grpc/tempo"]})
    yield Case("wiring:profiles-pipeline", c)
    c = single()
    put(c, (*pipes, "tracez"), {"receivers": ["otlp"], "exporters": ["otlp_grpc/tempo"]})
    yield Case("wiring:unknown-signal", c)
    c = single()
    put(c, (*pipes, "traces/sampling", "receivers"), ["forward/sampling", "span_metrics"])
    yield Case("wiring:connector-traces-to-traces-unsupported", c)
    c = single()
    put(c, (*pipes, "metrics", "exporters"), ["prometheus_remote_write", "forward/sampling"])
    yield Case("wiring:forward-across-signals", c)
    c = single()
    c["exporters"]["span_metrics"] = {"endpoint": "x:1"}  # type: ignore[index]
    yield Case("wiring:exporter-and-connector-same-id", c)
    c = single()
    put(c, (*pipes, "traces", "exporters"), "span_metrics, service_graph, forward/sampling")
    yield Case("wiring:pipeline-string-list", c)
    c = single()
    put(c, (*pipes, "traces", "unknown_role"), ["x"])
    yield Case("wiring:pipeline-unknown-role", c)
    c = single()
    put(c, ("service", "extension"), ["health_check"])
    yield Case("wiring:service-misspelt-extensions", c)
    c = single()
    put(c, ("service", "extensions"), ["health_check", "health_check"])
    yield Case("wiring:extension-twice", c)
    c = single()
    c["exporterz"] = {}
    yield Case("wiring:unknown-top-level", c)


def _endpoint_cases() -> Iterator[Case]:
    for endpoint in ("tempo", "http://tempo", "https://tempo", "tempo:", "tempo:4317/path", "[::1]:4317", "::1",
                     "tempo:99999", "tempo:port", ":4317", "unix:///var/run/tempo.sock", "dns:///tempo",
                     "dns://resolver:53/tempo:4317", " tempo:4317"):
        yield Case(f"endpoint:otlp-grpc:{endpoint}", _set(single(), ("exporters", "otlp_grpc/tempo", "endpoint"),
                                                         endpoint))
    for endpoint in ("tempo", "http://tempo", "tempo:4318", "http://tempo:notaport", "ftp://tempo"):
        yield Case(f"endpoint:otlp-http:{endpoint}", _set(exporters_zoo(), ("exporters", "otlp_http", "endpoint"),
                                                         endpoint))
    for endpoint in ("http://prometheus/api/v1/write", "prometheus:9090", "http://prometheus:x/api/v1/write"):
        yield Case(f"endpoint:prw:{endpoint}", _set(single(), ("exporters", "prometheus_remote_write", "endpoint"),
                                                   endpoint))
    for endpoint in ("0.0.0.0", "0.0.0.0:", "localhost:4317", "4317"):
        yield Case(f"endpoint:receiver:{endpoint}", _set(single(), ("receivers", "otlp", "protocols", "grpc",
                                                                    "endpoint"), endpoint))
    for endpoint in ("0.0.0.0", "0.0.0.0:8889"):
        yield Case(f"endpoint:prometheus:{endpoint}", _set(exporters_zoo(), ("exporters", "prometheus", "endpoint"),
                                                          endpoint))
    for hostnames in (["sampler-0"], ["sampler-0:4317", "sampler-1"], ["sampler-0:x"], []):
        yield Case(f"endpoint:lb-static:{','.join(hostnames) or 'none'}",
                   _set(gateway(), ("exporters", "load_balancing", "resolver", "static", "hostnames"), hostnames))
    yield Case("endpoint:lb-template-no-port", _set(gateway(), ("exporters", "load_balancing", "protocol", "otlp",
                                                                 "endpoint"), "tempo"))
    yield Case("endpoint:lb-template-endpoint", _set(gateway(), ("exporters", "load_balancing", "protocol", "otlp",
                                                                 "endpoint"), "tempo:4317"))
    yield Case("endpoint:health-check-no-port", _set(single(), ("extensions", "health_check", "endpoint"), "0.0.0.0"))


# Patterns Go's regexp (RE2 syntax) refuses, and some it accepts that other engines do not.
GO_REJECTS = ("a{1001}", "(a{500}){3}", "(?:(?:a{100}){100}){100}", "[a-\\d]", "\\x{110000}", "(?=x)", "(?<!x)y",
              "\\1", "a**", "(?i", "[z-a]", "x{2,1}", "\\C", "(?P<n>a)(?P<n>b)", "\\8", "a++", "\\Z")
GO_ACCEPTS = ("(?P<name>a)", "\\pL+", "[[:alpha:]]+", "(?i)checkout", "a{1000}", "\\x{10FFFF}", "(?s).*", "\\Qa.b\\E",
              "(?<name>a)", "[\\d-z]")


def _regex_cases() -> Iterator[Case]:
    for pattern in GO_REJECTS + GO_ACCEPTS:
        policy = {"name": "r", "type": "string_attribute",
                  "string_attribute": {"key": "http.route", "values": [pattern], "enabled_regex_matching": True}}
        yield Case(f"regex:{pattern}", with_policies(policy))


def _random_cases(rng: random.Random, count: int) -> Iterator[Case]:
    """Seeded random mutations of the bases: unknown keys, misspellings, wrong types, deleted keys."""
    bases = _bases()
    for index in range(count):
        name, base = bases[index % len(bases)]
        config = copy.deepcopy(base)
        kind = ("unknown-key", "misspelt-key", "wrong-type", "deleted-key")[index % 4]
        if kind == "unknown-key":
            target = rng.choice(component_paths(config))
            get(config, target)[rng.choice(("enabled_", "extra", "debug", "x_timeout"))] = 1  # type: ignore[index]
            where = target
        elif kind == "misspelt-key":
            keyed = [p for p in component_paths(config) + scalar_paths(config) if isinstance(p[-1], str)
                     and len(p) >= 3]
            where = rng.choice(keyed)
            parent = get(config, where[:-1])
            key = str(where[-1])
            typo = misspell(key, rng)
            parent[typo] = parent.pop(key)  # type: ignore[union-attr]
        elif kind == "wrong-type":
            where = rng.choice(scalar_paths(config))
            put(config, where, wrong_type(get(config, where), rng))
        else:
            keyed = [p for p in component_paths(config) + scalar_paths(config) if isinstance(p[-1], str)
                     and len(p) >= 3]
            where = rng.choice(keyed)
            delete(config, where)
        shown = ".".join(str(p) for p in where)
        yield Case(f"random:{index:03d}:{name}:{kind}:{shown}", config)


def corpus(random_count: int = 140) -> list[Case]:
    """Every case, in a fixed order; names are unique."""
    rng = random.Random(SEED)
    cases = [*_valid_cases(), *_targeted_cases(), *_component_id_cases(), *_wiring_cases(), *_endpoint_cases(),
             *_regex_cases(), *_random_cases(rng, random_count)]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "corpus case names must be unique"
    return cases
