"""Strict models of the contrib connectors and exporters obsgen emits.

Sources: contrib ``connector/spanmetricsconnector/config.schema.yaml`` (@52a2d83),
``connector/servicegraphconnector/config.schema.yaml`` (@9b21ca1) and ``config.go``,
``exporter/loadbalancingexporter/config.schema.yaml`` (@97b5b3e), ``exporter/prometheusexporter`` and
``exporter/prometheusremotewriteexporter`` ``config.schema.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping

from obsgen.strict._base import StrictError
from obsgen.strict.collector_core import (
    EXPORTER_HELPER,
    HTTP_CLIENT,
    HTTP_SERVER,
    OTLP_GRPC_BASE,
    QUEUE,
    RETRY,
)
from obsgen.strict.collector_schema import (
    INT32,
    UINT16,
    Bool,
    Ctx,
    Duration,
    Field,
    Int,
    ListOf,
    Loc,
    MapOf,
    Obj,
    Str,
    err,
    is_env,
    present,
)

# spanmetrics deprecated dimensions_cache_size in favour of aggregation_cardinality_limit
# (schema text: "Deprecated [v0.130.0]"); obsgen treats it as gone from that release on.
DIMENSIONS_CACHE_SIZE_UNTIL = (0, 130, 0)
# servicegraph's database_name_attribute (deprecated v0.124.0) was removed by contrib PR #41094,
# merged 2025-07-04, so v0.130.0 is the first release without it.
DATABASE_NAME_ATTRIBUTE_UNTIL = (0, 130, 0)

SPAN_METRICS_BUILTIN_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")

DIMENSION = Obj("dimension", {"name": Str(non_empty=True), "default": Str()})


def _duplicate_dimensions(dims: object, loc: Loc) -> list[StrictError]:
    out: list[StrictError] = []
    seen = set(SPAN_METRICS_BUILTIN_DIMENSIONS)
    for index, dim in enumerate(dims if isinstance(dims, list) else []):
        name = dim.get("name") if isinstance(dim, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            out.append(err((*loc, index, "name"), f"duplicate dimension name {name}"))
        seen.add(name)
    return out


def _span_metrics_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    out = _duplicate_dimensions(cfg.get("dimensions"), (*loc, "dimensions"))
    histogram = cfg.get("histogram")
    if isinstance(histogram, dict) and present(histogram, "explicit") and present(histogram, "exponential"):
        out.append(err((*loc, "histogram"), "use either `explicit` or `exponential` buckets histogram"))
    temporality = cfg.get("aggregation_temporality")
    cache = cfg.get("metric_timestamp_cache_size")
    if temporality == "AGGREGATION_TEMPORALITY_DELTA" and isinstance(cache, int) and cache <= 0:
        out.append(
            err(
                (*loc, "metric_timestamp_cache_size"),
                f"invalid metric_timestamp_cache_size: {cache}, the maximum number of the items in the cache "
                "should be positive",
            )
        )
    events = cfg.get("events")
    if isinstance(events, dict) and events.get("enabled") is True and not events.get("dimensions"):
        out.append(err((*loc, "events", "dimensions"), "no dimensions configured for events"))
    return out


SPAN_METRICS = Obj(
    "span_metrics connector",
    {
        "histogram": Obj(
            "histogram",
            {
                "disable": Bool(),
                "unit": Str(choices=("ms", "s")),
                "explicit": Obj("explicit histogram", {"buckets": ListOf(Duration())}),
                "exponential": Obj("exponential histogram", {"max_size": INT32}),
                "dimensions": ListOf(DIMENSION),
            },
        ),
        "dimensions": ListOf(DIMENSION),
        "calls_dimensions": ListOf(DIMENSION),
        "exclude_dimensions": ListOf(Str()),
        "dimensions_cache_size": Field(
            Int(),
            until=DIMENSIONS_CACHE_SIZE_UNTIL,
            why="deprecated in favour of aggregation_cardinality_limit",
        ),
        "aggregation_cardinality_limit": Int(lo=0),
        "aggregation_temporality": Str(),
        "metric_timestamp_cache_size": Int(),
        "namespace": Str(),
        "metrics_flush_interval": Duration(non_negative=True),
        "metrics_expiration": Duration(non_negative=True),
        "resource_metrics_key_attributes": ListOf(Str()),
        "resource_metrics_cache_size": Int(),
        "exemplars": Obj("exemplars", {"enabled": Bool(), "max_per_data_point": Int(lo=0)}),
        "events": Obj("events", {"enabled": Bool(), "dimensions": ListOf(DIMENSION)}),
        "include_instrumentation_scope": ListOf(Str()),
        "add_resource_attributes": Bool(),
    },
    [_span_metrics_checks],
)


def _service_graph_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    size = cfg.get("exponential_histogram_max_size")
    buckets = cfg.get("latency_histogram_buckets")
    if isinstance(size, int) and buckets is None and size < 0:
        return [
            err(
                (*loc, "exponential_histogram_max_size"),
                "`exponential_histogram_max_size` can not be negative",
            )
        ]
    if isinstance(size, int) and buckets is not None and size > 0:
        return [err(loc, "use either `latency_histogram_buckets` or `exponential_histogram_max_size`")]
    return []


SERVICE_GRAPH = Obj(
    "service_graph connector",
    {
        "latency_histogram_buckets": ListOf(Duration()),
        "exponential_histogram_max_size": INT32,
        "dimensions": ListOf(Str()),
        "store": Obj("store", {"max_items": Int(), "ttl": Duration()}),
        "cache_loop": Duration(),
        "store_expiration_loop": Duration(),
        "virtual_node_peer_attributes": ListOf(Str()),
        "virtual_node_extra_label": Bool(),
        "metrics_flush_interval": Duration(non_negative=True),
        "metrics_timestamp_offset": Duration(),
        "database_name_attributes": ListOf(Str()),
        "database_name_attribute": Field(
            Str(),
            until=DATABASE_NAME_ATTRIBUTE_UNTIL,
            why="removed (contrib PR #41094); use database_name_attributes",
        ),
        # Deprecated no-op kept by upstream's config struct.
        "metrics_exporter": Str(),
    },
    [_service_graph_checks],
)

FORWARD = Obj("forward connector", {})


def _no_template_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    if cfg.get("endpoint") not in (None, ""):
        return [err((*loc, "endpoint"), "protocol.otlp is a template: the endpoint is replaced per backend")]
    return []


ROUTING_KEYS = ("traceID", "service", "resource", "metric", "streamID", "attributes")
RESOLVERS = ("static", "dns", "k8s", "aws_cloud_map")


def _load_balancing_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    resolver = cfg.get("resolver")
    if not isinstance(resolver, dict) or not any(key in resolver for key in RESOLVERS):
        return [err((*loc, "resolver"), "no resolvers specified for the exporter")]
    out: list[StrictError] = []
    static = resolver.get("static")
    if "static" in resolver and not (isinstance(static, dict) and static.get("hostnames")):
        out.append(
            err((*loc, "resolver", "static", "hostnames"), "static resolver needs at least one hostname")
        )
    dns = resolver.get("dns")
    if "dns" in resolver and not (isinstance(dns, dict) and dns.get("hostname")):
        out.append(err((*loc, "resolver", "dns", "hostname"), "dns resolver needs a hostname"))
    k8s = resolver.get("k8s")
    if "k8s" in resolver and not (isinstance(k8s, dict) and k8s.get("service")):
        out.append(err((*loc, "resolver", "k8s", "service"), "k8s resolver needs a service"))
    if cfg.get("routing_key") == "attributes" and not cfg.get("routing_attributes"):
        out.append(err((*loc, "routing_attributes"), "routing_key 'attributes' needs routing_attributes"))
    return out


LOAD_BALANCING = Obj(
    "load_balancing exporter",
    {
        "routing_key": Str(choices=ROUTING_KEYS),
        "routing_attributes": ListOf(Str()),
        "protocol": Obj(
            "load_balancing protocol",
            {"otlp": OTLP_GRPC_BASE.with_fields("protocol.otlp template", {}, [_no_template_endpoint])},
        ),
        "resolver": Obj(
            "resolver",
            {
                "static": Obj("static resolver", {"hostnames": ListOf(Str())}),
                "dns": Obj(
                    "dns resolver",
                    {"hostname": Str(), "port": Str(), "interval": Duration(), "timeout": Duration()},
                ),
                "k8s": Obj(
                    "k8s resolver",
                    {
                        "service": Str(),
                        "ports": ListOf(INT32),
                        "timeout": Duration(),
                        "return_hostnames": Bool(),
                    },
                ),
                "aws_cloud_map": Obj(
                    "aws_cloud_map resolver",
                    {
                        "namespace": Str(),
                        "service_name": Str(),
                        "port": UINT16,
                        "health_status": Str(choices=("HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL")),
                        "interval": Duration(),
                        "timeout": Duration(),
                    },
                ),
            },
        ),
        **EXPORTER_HELPER,
    },
    [_load_balancing_checks],
)

RESOURCE_TO_TELEMETRY = Obj(
    "resource_to_telemetry_conversion", {"enabled": Bool(), "exclude_service_attributes": Bool()}
)

PROMETHEUS_EXPORTER = HTTP_SERVER.with_fields(
    "prometheus exporter",
    {
        "namespace": Str(),
        "const_labels": MapOf(Str()),
        "send_timestamps": Bool(),
        "metric_expiration": Duration(non_negative=True),
        "enable_open_metrics": Bool(),
        "resource_to_telemetry_conversion": RESOURCE_TO_TELEMETRY,
        "resource_constant_labels": RESOURCE_TO_TELEMETRY,
        "add_metric_suffixes": Bool(),
        "translation_strategy": Str(),
        "without_scope_info": Bool(),
        "sending_queue": QUEUE,
    },
)


def _prw_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    http = cfg.get("http")
    nested = http.get("endpoint") if isinstance(http, dict) else None
    endpoint = cfg.get("endpoint")
    if is_env(endpoint) or is_env(nested) or endpoint not in (None, "") or nested not in (None, ""):
        return []
    return [err((*loc, "endpoint"), "requires a non-empty endpoint")]


# No sending_queue: this exporter has its own remote_write_queue, so the key is rejected as unknown.
PROMETHEUS_REMOTE_WRITE = HTTP_CLIENT.with_fields(
    "prometheus_remote_write exporter",
    {
        "retry_on_failure": RETRY,
        "namespace": Str(),
        "external_labels": MapOf(Str()),
        "http": HTTP_CLIENT,
        "add_metric_suffixes": Bool(),
        "translation_strategy": Str(),
        "disable_scope_info": Bool(),
        "resource_to_telemetry_conversion": RESOURCE_TO_TELEMETRY,
        "target_info": Obj("target_info", {"enabled": Bool()}),
        "send_metadata": Bool(),
        "protobuf_message": Str(),
        "remote_write_queue": Obj(
            "remote_write_queue", {"enabled": Bool(), "queue_size": Int(lo=0), "num_consumers": Int(lo=0)}
        ),
        "max_batch_size_bytes": Int(lo=0),
        "max_batch_request_parallelism": Int(lo=0),
        "wal": Obj(
            "wal",
            {
                "directory": Str(),
                "buffer_size": Int(lo=0),
                "truncate_frequency": Duration(),
                "lag_record_frequency": Duration(),
            },
        ),
    },
    [_prw_endpoint],
)
