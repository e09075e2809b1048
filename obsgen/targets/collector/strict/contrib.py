"""Strict models of the contrib connectors and exporters obsgen emits.

Sources: contrib ``connector/spanmetricsconnector/config.schema.yaml`` (@52a2d83),
``connector/servicegraphconnector/config.schema.yaml`` (@9b21ca1) and ``config.go``,
``exporter/loadbalancingexporter/config.schema.yaml`` (@97b5b3e), ``exporter/prometheusexporter`` and
``exporter/prometheusremotewriteexporter`` ``config.schema.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping

from obsgen.check.strict import StrictError
from obsgen.targets.collector.strict.core import (
    EXPORTER_HELPER,
    HTTP_CLIENT,
    HTTP_SERVER,
    OTLP_GRPC_BASE,
    QUEUE,
    RETRY,
)
from obsgen.targets.collector.strict.net import request_uri_error
from obsgen.targets.collector.strict.schema import (
    INT32,
    LINT_SILENTLY_IGNORED,
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
    duration_ns,
    err,
    is_env,
    lint,
    number,
    present,
)

# spanmetrics deprecated dimensions_cache_size in favour of aggregation_cardinality_limit (schema
# text: "Deprecated [v0.130.0]"), but the field is still decoded at v0.159.0 (spanmetricsconnector
# config.go: `DimensionsCacheSize int mapstructure:"dimensions_cache_size"`), so it is accepted.
# servicegraph's database_name_attribute (deprecated v0.124.0) was removed by contrib PR #41094,
# merged 2025-07-04, so v0.130.0 is the first release without it.
DATABASE_NAME_ATTRIBUTE_UNTIL = (0, 130, 0)

SPAN_METRICS_BUILTIN_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")

DIMENSION = Obj("dimension", {"name": Str(), "default": Str(), "glob": Str()})


def _dimension_errors(dims: object, loc: Loc) -> list[StrictError]:
    """spanmetricsconnector ``validateDimensions`` (v0.159.0): each entry sets exactly one of ``name``
    or ``glob``, no ``default`` on a glob, and no name twice (the built-in dimensions count).
    Glob syntax and glob-against-name conflicts are not modelled."""
    out: list[StrictError] = []
    seen = set(SPAN_METRICS_BUILTIN_DIMENSIONS)
    for index, dim in enumerate(dims if isinstance(dims, list) else []):
        if not isinstance(dim, dict):
            continue
        name, glob = dim.get("name") or "", dim.get("glob") or ""
        if name and glob:
            out.append(err((*loc, index), "dimension entry must set only one of `name` or `glob`"))
        elif not name and not glob:
            out.append(err((*loc, index), "dimension entry must set one of `name` or `glob`"))
        elif glob and dim.get("default") is not None:
            out.append(err((*loc, index, "default"), f"`default` is not supported on `glob` dimension {glob!r}"))
        elif name:
            if name in seen:
                out.append(err((*loc, index, "name"), f"duplicate dimension name {name}"))
            seen.add(str(name))
    return out


def _span_metrics_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    out = _dimension_errors(cfg.get("dimensions"), (*loc, "dimensions"))
    out += _dimension_errors(cfg.get("calls_dimensions"), (*loc, "calls_dimensions"))
    histogram_block = cfg.get("histogram")
    if isinstance(histogram_block, dict):
        out += _dimension_errors(histogram_block.get("dimensions"), (*loc, "histogram", "dimensions"))
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
    if isinstance(events, dict) and events.get("enabled") is True:
        if not events.get("dimensions"):
            out.append(err((*loc, "events", "dimensions"), "no dimensions configured for events"))
        out += _dimension_errors(events.get("dimensions"), (*loc, "events", "dimensions"))
    for key in ("metrics_flush_interval", "metrics_expiration", "series_expiration"):
        nanos = duration_ns(cfg.get(key))
        if nanos is not None and nanos < 0:
            out.append(err((*loc, key), f"invalid {key}: the duration should be positive"))
    exemplars = cfg.get("exemplars")
    if isinstance(exemplars, dict) and exemplars.get("enabled") is True:
        per_point = number(exemplars.get("max_per_data_point"))
        if per_point is not None and per_point < 0:
            out.append(err((*loc, "exemplars", "max_per_data_point"), "invalid max_per_data_point"))
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
        "dimensions_cache_size": Int(),
        "aggregation_cardinality_limit": Int(lo=0),
        "aggregation_temporality": Str(),
        "metric_timestamp_cache_size": Int(),
        "namespace": Str(),
        # negative durations are refused by Validate(), with the other rules in _span_metrics_checks
        "metrics_flush_interval": Duration(),
        "metrics_expiration": Duration(),
        "series_expiration": Duration(),
        "enable_metrics_sampling_method": Bool(),
        "resource_metrics_key_attributes": ListOf(Str()),
        "resource_metrics_cache_size": Int(),
        "exemplars": Obj("exemplars", {"enabled": Bool(), "max_per_data_point": Int()}),
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
    },
    [_service_graph_checks],
)

FORWARD = Obj("forward connector", {})


def _no_template_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """The Collector accepts an endpoint here and replaces it with each backend's address."""
    if cfg.get("endpoint") not in (None, ""):
        return lint((*loc, "endpoint"), ctx, LINT_SILENTLY_IGNORED,
                    "protocol.otlp is a template: the endpoint is replaced by each backend's address")
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

def _prometheus_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """contrib prometheusexporter prometheus.go (v0.159.0): ``errBlankPrometheusAddress`` at creation."""
    endpoint = cfg.get("endpoint")
    if is_env(endpoint) or (isinstance(endpoint, str) and endpoint.strip()):
        return []
    return [err((*loc, "endpoint"), "expecting a non-blank address to run the Prometheus metrics handler")]


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
    [_prometheus_endpoint],
)


def _prw_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """contrib prometheusremotewriteexporter v0.159.0: ``Config.Validate`` (config.go) and the endpoint
    ``url.ParseRequestURI`` in ``newPRWExporter`` (exporter.go, "invalid endpoint"). The endpoint is
    the ``http`` block's when that block is written (``Config.Unmarshal``), else the top-level one; an
    endpoint not written keeps the default (``http://some.url:9411/api/prom/push``)."""
    out: list[StrictError] = []
    block: Mapping[str, object] = cfg["http"] if isinstance(cfg.get("http"), dict) else cfg  # type: ignore[assignment]
    where = (*loc, "http") if block is not cfg else loc
    endpoint = block.get("endpoint")
    if "endpoint" in block and not is_env(endpoint):
        problem = request_uri_error("" if endpoint is None else str(endpoint))
        if problem:
            out.append(err((*where, "endpoint"), f"invalid endpoint: {problem}"))
    compression = block.get("compression")
    if compression not in (None, "") and not is_env(compression) and compression != "snappy":
        out.append(err((*where, "compression"), "compression type must be snappy"))
    queue = cfg.get("remote_write_queue")
    if isinstance(queue, dict) and queue.get("enabled", True) is True and number(queue.get("queue_size")) == 0:
        out.append(err((*loc, "remote_write_queue", "queue_size"), "a 0 size queue will drop all the data"))
    return out


# No sending_queue: this exporter has its own remote_write_queue, so the key is rejected as unknown.
PROMETHEUS_REMOTE_WRITE = HTTP_CLIENT.with_fields(
    "prometheus_remote_write exporter",
    {
        "retry_on_failure": RETRY,
        "namespace": Str(),
        "external_labels": MapOf(Str()),
        "http": HTTP_CLIENT,
        "add_metric_suffixes": Bool(),
        "translation_strategy": Str(choices=("", "UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes",
                                             "NoUTF8EscapingWithSuffixes", "NoTranslation")),
        "disable_scope_info": Bool(),
        "resource_to_telemetry_conversion": RESOURCE_TO_TELEMETRY,
        "target_info": Obj("target_info", {"enabled": Bool()}),
        "send_metadata": Bool(),
        "protobuf_message": Str(choices=("", "prometheus.WriteRequest", "io.prometheus.write.v2.Request")),
        "remote_write_queue": Obj(
            "remote_write_queue", {"enabled": Bool(), "queue_size": Int(lo=0), "num_consumers": Int(lo=0)}
        ),
        "max_batch_size_bytes": Int(lo=0),
        "max_batch_request_parallelism": Int(lo=1),
        "include_metadata_keys": ListOf(Str()),
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
    [_prw_checks],
)


def _file_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """contrib fileexporter ``Config.Validate`` (config.go, v0.159.0); ``format`` defaults to json."""
    out: list[StrictError] = []
    path = cfg.get("path")
    if not is_env(path) and not path:
        out.append(err((*loc, "path"), "path must be non-empty"))
    if cfg.get("append") is True and cfg.get("rotation") is not None:
        out.append(err((*loc, "append"), "append and rotation enabled at the same time is not supported"))
    group_by = cfg.get("group_by")
    if isinstance(group_by, dict) and group_by.get("enabled") is True and isinstance(path, str) and not is_env(path):
        parts = path.split("*")
        if len(parts) != 2:
            out.append(err((*loc, "path"), "path must contain exactly one * when group_by is enabled"))
        elif not parts[0]:
            out.append(err((*loc, "path"), "path must not start with * when group_by is enabled"))
        if not group_by.get("resource_attribute"):
            out.append(err((*loc, "group_by", "resource_attribute"),
                           "resource_attribute must not be empty when group_by is enabled"))
    return out


FILE_EXPORTER = Obj(
    "file exporter",
    {
        "path": Str(),
        "append": Bool(),
        "rotation": Obj("rotation", {"max_megabytes": Int(), "max_days": Int(), "max_backups": Int(),
                                     "localtime": Bool()}),
        "format": Str(choices=("json", "proto")),
        "encoding": Str(),
        "compression": Str(choices=("", "zstd")),
        "compression_params": Obj("compression_params", {"level": Int()}),
        "flush_interval": Duration(non_negative=True),
        "group_by": Obj("group_by", {"enabled": Bool(), "resource_attribute": Str(), "max_open_files": Int()}),
        "create_directory": Bool(),
        "directory_permissions": Str(),
    },
    [_file_checks],
)
