"""Strict models of core Collector settings and core components (receiver/processors/exporters/extensions).

Field sets follow the ``config.schema.yaml`` files of open-telemetry/opentelemetry-collector at v0.159.0
(configgrpc, confighttp, configtls, configretry, exporterhelper queue_batch, otlpreceiver, ...).
"""

from __future__ import annotations

from collections.abc import Mapping

from obsgen.check.strict import StrictError
from obsgen.targets.collector.strict.net import grpc_client_endpoint_error, listen_address_error, url_parse_error
from obsgen.targets.collector.strict.schema import (
    UINT32,
    AnyMapping,
    Bool,
    Ctx,
    Duration,
    Float,
    Int,
    ListOf,
    Loc,
    MapOf,
    Node,
    Obj,
    Str,
    duration_ns,
    err,
    is_env,
    number,
)

COMPRESSION = Str(choices=("", "none", "gzip", "zlib", "deflate", "snappy", "zstd", "lz4", "x-snappy-framed"))


class Headers(Node):
    """``configopaque.MapList``: a ``name: value`` mapping, or a list of ``{name, value}`` pairs."""

    def check(self, value: object, loc: Loc, ctx: Ctx) -> list[StrictError]:
        """Accept both forms; names must be unique in the list form."""
        if isinstance(value, list):
            out = ListOf(Obj("header pair", {"name": Str(), "value": Str()})).check(value, loc, ctx)
            names = [item.get("name") for item in value if isinstance(item, dict)]
            dupes = sorted({str(n) for n in names if names.count(n) > 1})
            if dupes:
                out.append(err(loc, f"duplicate keys in map-style list: {dupes}"))
            return out
        return MapOf(Str()).check(value, loc, ctx)


HEADERS = Headers()
MIDDLEWARES = ListOf(Obj("middleware", {"id": Str(non_empty=True)}))

TLS_COMMON = Obj(
    "tls",
    {
        "ca_file": Str(),
        "ca_pem": Str(),
        "cert_file": Str(),
        "cert_pem": Str(),
        "key_file": Str(),
        "key_pem": Str(),
        "cipher_suites": ListOf(Str()),
        "curve_preferences": ListOf(Str()),
        "include_system_ca_certs_pool": Bool(),
        # configtls.go tlsVersions (v1.65.0): "invalid TLS min_version: unsupported TLS version"
        "max_version": Str(choices=("", "1.0", "1.1", "1.2", "1.3")),
        "min_version": Str(choices=("", "1.0", "1.1", "1.2", "1.3")),
        "reload_interval": Duration(),
        "tpm": Obj("tpm", {"auth": Str(), "enabled": Bool(), "owner_auth": Str(), "path": Str()}),
    },
)
TLS_CLIENT = TLS_COMMON.with_fields(
    "tls (client)", {"insecure": Bool(), "insecure_skip_verify": Bool(), "server_name_override": Str()}
)
TLS_SERVER = TLS_COMMON.with_fields(
    "tls (server)", {"client_ca_file": Str(), "client_ca_file_reload": Bool()}
)
AUTH = Obj("auth", {"authenticator": Str(non_empty=True)})

def _retry_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """configretry ``BackOffConfig.Validate`` and ``validateMaxElapsedTime`` (v1.65.0), against the
    defaults of ``NewDefaultBackOffConfig`` (5s initial, 30s max interval, 5m max elapsed)."""
    out: list[StrictError] = []
    multiplier, factor = number(cfg.get("multiplier")), number(cfg.get("randomization_factor"))
    if multiplier is not None and multiplier < 0:
        out.append(err((*loc, "multiplier"), "multiplier value must be greater than or equal to 0"))
    if factor is not None and not 0 <= factor <= 1:
        out.append(err((*loc, "randomization_factor"), "randomization_factor value must be between 0 and 1"))
    defaults = {"initial_interval": 5e9, "max_interval": 30e9, "max_elapsed_time": 300e9}
    values = {key: duration_ns(cfg[key]) if key in cfg else default for key, default in defaults.items()}
    elapsed = values["max_elapsed_time"]
    if elapsed is not None and elapsed > 0:
        for key in ("initial_interval", "max_interval"):
            other = values[key]
            if other is not None and elapsed < other:
                out.append(err((*loc, "max_elapsed_time"), f"'max_elapsed_time' must not be less than '{key}'"))
    return out


RETRY = Obj(
    "retry_on_failure",
    {
        "enabled": Bool(),
        "initial_interval": Duration(non_negative=True),
        "max_elapsed_time": Duration(non_negative=True),
        "max_interval": Duration(non_negative=True),
        "multiplier": Float(),
        "randomization_factor": Float(),
    },
    [_retry_checks],
)

SIZER = Str(choices=("requests", "items", "bytes"))


def _queue_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """exporterhelper ``queuebatch.Config.Validate`` and ``BatchConfig.Validate`` (v0.159.0); an
    ``enabled: false`` queue (configoptional) is not validated."""
    if cfg.get("enabled") is False:
        return []
    out: list[StrictError] = []
    for key in ("num_consumers", "queue_size"):
        value = number(cfg.get(key))
        if value is not None and value <= 0:
            out.append(err((*loc, key), f"`{key}` must be positive"))
    batch = cfg.get("batch")
    if isinstance(batch, dict):
        flush = duration_ns(batch["flush_timeout"]) if "flush_timeout" in batch else None
        if flush is not None and flush <= 0:
            out.append(err((*loc, "batch", "flush_timeout"), "`flush_timeout` must be positive"))
        low, high = number(batch.get("min_size")), number(batch.get("max_size"))
        if high and low is not None and high < low:
            out.append(err((*loc, "batch", "max_size"), "`max_size` must be greater or equal to `min_size`"))
    return out


QUEUE = Obj(
    "sending_queue",
    {
        "batch": Obj(
            "sending_queue.batch",
            {
                "flush_timeout": Duration(non_negative=True),
                "max_size": Int(lo=0),
                "min_size": Int(lo=0),
                "partition": Obj("partition", {"metadata_keys": ListOf(Str())}),
                "sizer": SIZER,
            },
        ),
        "block_on_overflow": Bool(),
        "enabled": Bool(),
        "num_consumers": Int(lo=0),
        "queue_size": Int(lo=0),
        "sizer": SIZER,
        "storage": Str(),
        "wait_for_result": Bool(),
    },
    [_queue_checks],
)

def _grpc_client_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    endpoint = cfg.get("endpoint")
    if not isinstance(endpoint, str) or is_env(endpoint):
        return []
    problem = grpc_client_endpoint_error(endpoint)
    return [err((*loc, "endpoint"), problem)] if problem else []


def _listen_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """A TCP server's endpoint is passed to ``net.Listen`` when the component starts (confignet
    ``AddrConfig.Listen``, confighttp ``ServerConfig.ToListener``): ``0.0.0.0`` without a port passes
    ``otelcol validate`` and stops the Collector at start-up ("missing port in address")."""
    endpoint = cfg.get("endpoint")
    if not isinstance(endpoint, str) or is_env(endpoint) or cfg.get("transport") not in (None, "tcp", "tcp4", "tcp6"):
        return []
    problem = listen_address_error(endpoint)
    return [err((*loc, "endpoint"), f"listen tcp: {problem}")] if problem else []


GRPC_CLIENT = Obj(
    "gRPC client",
    {
        "auth": AUTH,
        "authority": Str(),
        "balancer_name": Str(),
        "compression": COMPRESSION,
        "endpoint": Str(),
        "headers": HEADERS,
        "keepalive": Obj(
            "keepalive", {"permit_without_stream": Bool(), "time": Duration(), "timeout": Duration()}
        ),
        "middlewares": MIDDLEWARES,
        "read_buffer_size": Int(lo=0),
        "tls": TLS_CLIENT,
        "user_agent": Str(),
        "wait_for_ready": Bool(),
        "write_buffer_size": Int(lo=0),
    },
    [_grpc_client_endpoint],  # configgrpc ClientConfig.Validate (v1.65.0): host:port with a numeric port
)

GRPC_SERVER = Obj(
    "gRPC server",
    {
        "endpoint": Str(),
        "transport": Str(choices=("tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "ip", "unix", "unixgram")),
        "dialer": Obj("dialer", {"timeout": Duration()}),
        "auth": AUTH,
        "include_metadata": Bool(),
        "keepalive": Obj(
            "keepalive",
            {
                "enforcement_policy": Obj(
                    "enforcement_policy", {"min_time": Duration(), "permit_without_stream": Bool()}
                ),
                "server_parameters": Obj(
                    "server_parameters",
                    {
                        "max_connection_age": Duration(),
                        "max_connection_age_grace": Duration(),
                        "max_connection_idle": Duration(),
                        "time": Duration(),
                        "timeout": Duration(),
                    },
                ),
            },
        ),
        "max_concurrent_streams": UINT32,
        "max_recv_msg_size_mib": Int(lo=0),
        "middlewares": MIDDLEWARES,
        "read_buffer_size": Int(lo=0),
        "tls": TLS_SERVER,
        "write_buffer_size": Int(lo=0),
    },
    [_listen_endpoint],
)

HTTP_CLIENT = Obj(
    "HTTP client",
    {
        "auth": AUTH,
        "compression": COMPRESSION,
        "compression_params": Obj("compression_params", {"level": Int()}),
        "cookies": AnyMapping(),
        "disable_keep_alives": Bool(),
        "endpoint": Str(),
        "force_attempt_http2": Bool(),
        "headers": HEADERS,
        "http2_ping_timeout": Duration(),
        "http2_read_idle_timeout": Duration(),
        "idle_conn_timeout": Duration(),
        "max_conns_per_host": Int(lo=0),
        "max_idle_conns": Int(lo=0),
        "max_idle_conns_per_host": Int(lo=0),
        "middlewares": MIDDLEWARES,
        "proxy_url": Str(),
        "read_buffer_size": Int(lo=0),
        "timeout": Duration(non_negative=True),
        "tls": TLS_CLIENT,
        "write_buffer_size": Int(lo=0),
    },
)

HTTP_SERVER = Obj(
    "HTTP server",
    {
        "auth": AUTH.with_fields("auth", {"request_params": ListOf(Str())}),
        "compression_algorithms": ListOf(Str()),
        "cors": Obj(
            "cors",
            {
                "allowed_headers": ListOf(Str()),
                "allowed_origins": ListOf(Str()),
                "exposed_headers": ListOf(Str()),
                "max_age": Int(),
            },
        ),
        "endpoint": Str(),
        "idle_timeout": Duration(),
        "include_metadata": Bool(),
        "keep_alives_enabled": Bool(),
        "max_request_body_size": Int(lo=0),
        "middlewares": MIDDLEWARES,
        "read_header_timeout": Duration(),
        "read_timeout": Duration(),
        "response_headers": HEADERS,
        "tls": TLS_SERVER,
        "write_timeout": Duration(),
    },
    [_listen_endpoint],
)

EXPORTER_HELPER: dict[str, Node] = {
    "timeout": Duration(non_negative=True),
    "sending_queue": QUEUE,
    "retry_on_failure": RETRY,
}


# --- receivers ---------------------------------------------------------------------------------


def _otlp_receiver_protocols(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    protocols = cfg.get("protocols")
    if not isinstance(protocols, dict) or not ({"grpc", "http"} & protocols.keys()):
        return [err(loc, "must specify at least one protocol when using the OTLP receiver")]
    return []


OTLP_RECEIVER = Obj(
    "otlp receiver",
    {
        "protocols": Obj(
            "otlp receiver protocols",
            {
                "grpc": GRPC_SERVER,
                "http": HTTP_SERVER.with_fields(
                    "otlp http protocol",
                    {
                        "traces_url_path": Str(),
                        "metrics_url_path": Str(),
                        "logs_url_path": Str(),
                        "profiles_url_path": Str(),
                    },
                ),
            },
        ),
    },
    [_otlp_receiver_protocols],
)


# --- processors --------------------------------------------------------------------------------


def _batch_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    out: list[StrictError] = []
    size, max_size = number(cfg.get("send_batch_size")), number(cfg.get("send_batch_max_size"))
    # Only an explicit size can conflict: the 8192 default is deliberately not assumed here.
    if max_size and size is not None and max_size < size:
        out.append(
            err(
                (*loc, "send_batch_max_size"),
                "send_batch_max_size must be greater or equal to send_batch_size",
            )
        )
    keys = cfg.get("metadata_keys")
    if isinstance(keys, list):
        lowered = [str(k).lower() for k in keys]
        dupes = sorted({k for k in lowered if lowered.count(k) > 1})
        if dupes:
            out.append(err((*loc, "metadata_keys"), f"duplicate entry in metadata_keys: {dupes}"))
    return out


BATCH = Obj(
    "batch processor",
    {
        "timeout": Duration(non_negative=True),
        "send_batch_size": UINT32,
        "send_batch_max_size": UINT32,
        "metadata_keys": ListOf(Str()),
        "metadata_cardinality_limit": UINT32,
    },
    [_batch_checks],
)


def _memory_limiter_checks(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    out: list[StrictError] = []
    interval = cfg.get("check_interval")
    if not is_env(interval):
        nanos = duration_ns(interval) if interval is not None else 0.0
        if nanos is not None and nanos <= 0:
            out.append(err((*loc, "check_interval"), "'check_interval' must be greater than zero"))
    limit, pct = number(cfg.get("limit_mib")), number(cfg.get("limit_percentage"))
    spike, spike_pct = number(cfg.get("spike_limit_mib")), number(cfg.get("spike_limit_percentage"))
    env_limits = is_env(cfg.get("limit_mib")) or is_env(cfg.get("limit_percentage"))
    if not env_limits and not (limit or 0) > 0 and not (pct or 0) > 0:
        out.append(err(loc, "'limit_mib' or 'limit_percentage' must be greater than zero"))
    if limit and spike is not None and spike >= limit:
        out.append(err((*loc, "spike_limit_mib"), "'spike_limit_mib' must be smaller than 'limit_mib'"))
    if pct is not None and pct > 100:
        out.append(err((*loc, "limit_percentage"), "'limit_percentage' must be between 1 and 100"))
    if pct and spike_pct is not None and spike_pct >= pct:
        out.append(
            err(
                (*loc, "spike_limit_percentage"),
                "'spike_limit_percentage' must be smaller than 'limit_percentage'",
            )
        )
    return out


MEMORY_LIMITER = Obj(
    "memory_limiter processor",
    {
        "check_interval": Duration(),
        "limit_mib": UINT32,
        "spike_limit_mib": UINT32,
        "limit_percentage": UINT32,
        "spike_limit_percentage": UINT32,
        "min_gc_interval_when_soft_limited": Duration(non_negative=True),
        "min_gc_interval_when_hard_limited": Duration(non_negative=True),
        "max_gc_interval_when_soft_limited": Duration(non_negative=True),
        "max_gc_interval_when_hard_limited": Duration(non_negative=True),
    },
    [_memory_limiter_checks],
)


# --- exporters ---------------------------------------------------------------------------------


def sanitized_grpc_endpoint(endpoint: str) -> str:
    """Strip the scheme prefixes the OTLP gRPC exporter ignores before checking emptiness."""
    for prefix in ("http://", "https://"):
        if endpoint.startswith(prefix):
            return endpoint[len(prefix) :]
    if endpoint.startswith("dns://"):
        rest = endpoint[len("dns://") :]
        return rest[1:] if rest.startswith("/") else rest
    return endpoint


def _otlp_endpoint_required(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    endpoint = cfg.get("endpoint")
    if is_env(endpoint):
        return []
    if endpoint is None or not sanitized_grpc_endpoint(str(endpoint)):
        return [err((*loc, "endpoint"), 'requires a non-empty "endpoint"')]
    return []


OTLP_GRPC_BASE = GRPC_CLIENT.with_fields("otlp_grpc exporter", dict(EXPORTER_HELPER))
OTLP_GRPC_EXPORTER = OTLP_GRPC_BASE.with_fields("otlp_grpc exporter", {}, [_otlp_endpoint_required])

_SIGNAL_ENDPOINTS = ("traces_endpoint", "metrics_endpoint", "logs_endpoint", "profiles_endpoint")


def _otlp_http_endpoint(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    """otlphttpexporter v0.159.0: ``Config.Validate`` wants one endpoint; ``newExporter`` and
    ``composeSignalURL`` (otlp.go, factory.go) refuse one ``url.Parse`` cannot read."""
    if not any(cfg.get(key) not in (None, "") for key in ("endpoint", *_SIGNAL_ENDPOINTS)):
        return [err((*loc, "endpoint"), "at least one endpoint must be specified")]
    out: list[StrictError] = []
    for key in ("endpoint", *_SIGNAL_ENDPOINTS):
        value = cfg.get(key)
        if isinstance(value, str) and value and not is_env(value):
            problem = url_parse_error(value)
            if problem:
                out.append(err((*loc, key), f"{key} must be a valid URL: {problem}"))
    return out


OTLP_HTTP_EXPORTER = HTTP_CLIENT.with_fields(
    "otlp_http exporter",
    {
        "encoding": Str(choices=("proto", "json")),
        **{key: Str() for key in _SIGNAL_ENDPOINTS},
        "retry_on_failure": RETRY,
        "sending_queue": QUEUE,
    },
    [_otlp_http_endpoint],
)

DEBUG_EXPORTER = Obj(
    "debug exporter",
    {
        "verbosity": Str(choices=("basic", "normal", "detailed"), case_insensitive=True),
        "sampling_initial": Int(),
        "sampling_thereafter": Int(),
        "use_internal_logger": Bool(),
        "output_paths": ListOf(Str()),
        "sending_queue": QUEUE,
    },
)


# --- extensions --------------------------------------------------------------------------------

HEALTH_CHECK = HTTP_SERVER.with_fields(
    "health_check extension",
    {
        "path": Str(),
        "response_body": Obj("response_body", {"healthy": Str(), "unhealthy": Str()}),
        "check_collector_pipeline": Obj(
            "check_collector_pipeline",
            {"enabled": Bool(), "interval": Str(), "exporter_failure_threshold": Int()},
        ),
        # The v2 health model folded into health_check; its sub-blocks are modelled loosely.
        "use_v2": Bool(),
        "http": AnyMapping(),
        "grpc": AnyMapping(),
        "component_health": AnyMapping(),
    },
)

PPROF = Obj(
    "pprof extension",
    {
        "endpoint": Str(),
        "dialer": Obj("dialer", {"timeout": Duration()}),
        "block_profile_fraction": Int(),
        "mutex_profile_fraction": Int(),
        "save_to_file": Str(),
    },
)

ZPAGES = HTTP_SERVER.with_fields("zpages extension", {"expvar": Obj("expvar", {"enabled": Bool()})})
