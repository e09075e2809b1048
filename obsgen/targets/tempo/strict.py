"""Strict model of ``tempo.yaml`` per major version, mirroring Tempo's ``yaml.UnmarshalStrict``.

Key sets come from the Go structs of grafana/tempo at tag v2.10.8 (major 2) and v3.0.3 (major 3):
``cmd/tempo/app/config.go`` and the module ``config.go`` files. A key that exists in only one major is
reported as ``not a Tempo N.x key`` in the other, because upstream's strict unmarshal fails on it.

On top of the unmarshal check, obsgen adds rules it relies on: only the scoped overrides format, a
known processor list, Go-duration syntax for every duration, no scheme in ``storage.trace.s3.endpoint``.
Blocks obsgen never emits in depth (``server`` TLS, rings, caches, remote-write auth) are checked only
to the level written below and are otherwise passed through as open mappings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from obsgen.check.strict import StrictError, format_loc

Loc = tuple[object, ...]


def _words(text: str) -> list[str]:
    """Split a whitespace-separated list of Go yaml tags (keeps long key tables compact)."""
    return text.split()

# Go time.ParseDuration syntax; a bare "0" is also valid.
# re.ASCII on both: Go reads only 0-9 (time/format.go leadingInt; prometheus/common model.ParseDuration's
# pattern is [0-9]), where Python's \d also matches other scripts' digits.
_GO_DURATION = re.compile(r"^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$", re.ASCII)
# prometheus/common model.Duration (used by overrides): integer units only, largest first.
_MODEL_DURATION = re.compile(r"^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$", re.ASCII)
_HOST_PORT = re.compile(r"^[A-Za-z0-9.\-_\[\]:]+$")


class Scalar(NamedTuple):
    """A leaf value: ``str`` | ``bool`` | ``int`` | ``uint`` | ``float`` | ``dur`` | ``mdur`` | ``any``."""

    kind: str
    choices: tuple[str, ...] = ()


class Obj(NamedTuple):
    """A Go struct: only the listed keys are allowed."""

    fields: Mapping[str, Node]


class ListOf(NamedTuple):
    """A YAML sequence of one element type."""

    item: Node


class MapOf(NamedTuple):
    """A Go map with free-form string keys."""

    value: Node


class Open:
    """A mapping obsgen does not model in depth (any keys)."""


class Only(NamedTuple):
    """A key that exists in a single major version."""

    major: int
    node: Node


class Custom(NamedTuple):
    """A node with an extra value rule on top of its base check."""

    base: Node
    rule: str


Node = Scalar | Obj | ListOf | MapOf | Open | Only | Custom

STR = Scalar("str")
BOOL = Scalar("bool")
INT = Scalar("int")
UINT = Scalar("uint")
FLOAT = Scalar("float")
DUR = Scalar("dur")
MDUR = Scalar("mdur")
ANY = Scalar("any")
OPEN = Open()
STRS = ListOf(STR)
FLOATS = ListOf(FLOAT)
STRMAP = MapOf(STR)

# ---------------------------------------------------------------------------------------------------
# Leaf blocks shared by several modules
# ---------------------------------------------------------------------------------------------------

_KVSTORE = Obj({"store": STR, "prefix": STR, "consul": OPEN, "etcd": OPEN, "multi": OPEN, "memberlist": OPEN,
                "inmemory": OPEN})
# dskit ring/lifecycler configs are large; obsgen only writes kvstore and replication_factor.
_RING = Obj({"kvstore": _KVSTORE, "heartbeat_period": DUR, "heartbeat_timeout": DUR, "replication_factor": INT,
             "zone_awareness_enabled": BOOL, "excluded_zones": STR, "instance_id": STR,
             "instance_interface_names": STRS, "instance_addr": STR, "instance_port": INT,
             "instance_availability_zone": STR, "enable_inet6": BOOL})


def _ringish() -> Node:
    """dskit ring and lifecycler configs: strict about ``ring.kvstore`` shape, open elsewhere."""
    return Custom(OPEN, "ringish")


_WAL = Obj({"path": STR, "ingestion_time_range_slack": DUR,
            "v2_encoding": Only(2, STR), "search_encoding": Only(2, STR), "version": Only(2, STR)})

_BLOCK = Obj({
    "bloom_filter_false_positive": FLOAT, "bloom_filter_shard_size_bytes": INT,
    "version": Custom(STR, "block_version"),
    "search_encoding": Only(2, STR), "search_page_size_bytes": Only(2, INT),
    "v2_index_downsample_bytes": Only(2, INT), "v2_index_page_size_bytes": Only(2, INT),
    "v2_encoding": Only(2, STR),
    "parquet_row_group_size_bytes": INT, "parquet_dedicated_columns": ListOf(OPEN),
})

_COMPACTION = Obj({
    "v2_in_buffer_bytes": Only(2, UINT), "v2_out_buffer_bytes": Only(2, UINT),
    "v2_prefetch_traces_count": Only(2, INT),
    "compaction_window": DUR, "max_compaction_objects": INT, "max_block_bytes": UINT, "block_retention": DUR,
    "compacted_block_retention": DUR, "retention_concurrency": UINT, "max_time_per_tenant": DUR,
    "compaction_cycle": DUR,
})

_FILTER_POLICY_MATCH = Obj({"match_type": Scalar("str", ("strict", "regex")),
                            "attributes": ListOf(Obj({"key": STR, "value": ANY}))})
_FILTER_POLICIES = ListOf(Obj({"include": _FILTER_POLICY_MATCH, "include_any": _FILTER_POLICY_MATCH,
                               "exclude": _FILTER_POLICY_MATCH}))
_DIMENSION_MAPPINGS = ListOf(Obj({"name": STR, "source_labels": STRS, "join": STR}))

# ---------------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------------

_SERVER_KEYS = _words(
    "http_listen_network http_listen_address http_listen_port http_listen_conn_limit grpc_listen_network "
    "grpc_listen_address grpc_listen_port grpc_listen_conn_limit grpc_collect_max_streams_by_conn "
    "proxy_protocol_enabled tls_cipher_suites tls_min_version http_tls_config grpc_tls_config "
    "register_instrumentation report_grpc_codes_in_instrumentation_label_enabled graceful_shutdown_timeout "
    "http_server_read_timeout http_server_read_header_timeout http_server_write_timeout "
    "http_server_idle_timeout http_log_closed_connections_without_response_enabled "
    "grpc_server_max_recv_msg_size grpc_server_max_send_msg_size grpc_server_max_concurrent_streams "
    "grpc_server_max_connection_idle grpc_server_max_connection_age grpc_server_max_connection_age_grace "
    "grpc_server_keepalive_time grpc_server_keepalive_timeout grpc_server_min_time_between_pings "
    "grpc_server_ping_without_stream_allowed grpc_server_num_workers grpc_server_stats_tracking_enabled "
    "grpc_server_recv_buffer_pools_enabled grpc_server_read_buffer_size grpc_server_write_buffer_size "
    "log_format log_level log_source_ips_enabled log_source_ips_full log_source_ips_header "
    "log_source_ips_regex log_request_headers log_request_at_info_level_enabled "
    "log_request_exclude_headers_list trace_request_headers trace_request_exclude_headers_list "
    "http_path_prefix cluster_validation create_new_traces"
)
_SERVER_TYPED: dict[str, Node] = {
    "http_listen_port": INT, "grpc_listen_port": INT, "http_listen_address": STR, "grpc_listen_address": STR,
    "grpc_server_max_recv_msg_size": INT, "grpc_server_max_send_msg_size": INT,
    "http_server_read_timeout": DUR, "http_server_write_timeout": DUR, "http_server_idle_timeout": DUR,
    "graceful_shutdown_timeout": DUR, "log_level": Scalar("str", ("debug", "info", "warn", "error")),
    "log_format": Scalar("str", ("logfmt", "json")), "http_path_prefix": STR,
}
_SERVER = Obj({k: _SERVER_TYPED.get(k, ANY) for k in _SERVER_KEYS})

_LOG_SPANS = Obj({"enabled": BOOL, "include_all_attributes": BOOL, "filter_by_status_error": BOOL})
_DISTRIBUTOR = Obj({
    "ring": _ringish(), "receivers": Custom(OPEN, "receivers"), "override_ring_key": STR,
    "log_received_spans": _LOG_SPANS, "log_discarded_spans": _LOG_SPANS,
    "metric_received_spans": Obj({"enabled": BOOL, "root_only": BOOL}),
    "forwarders": ListOf(OPEN), "usage": OPEN, "kafka_config": OPEN,
    "ingester_write_path_enabled": Only(2, BOOL), "kafka_write_path_enabled": Only(2, BOOL),
    "extend_writes": Only(2, BOOL),
    "retry_after_on_resource_exhausted": DUR, "max_attribute_bytes": INT, "artificial_delay": DUR,
})

_INGESTER = Obj({
    "lifecycler": _ringish(), "partition_ring": OPEN, "concurrent_flushes": INT, "flush_check_period": DUR,
    "flush_op_timeout": DUR, "trace_idle_period": DUR, "trace_live_period": DUR, "max_block_duration": DUR,
    "max_block_bytes": UINT, "complete_block_timeout": DUR, "override_ring_key": STR,
    "flush_all_on_shutdown": BOOL, "flush_object_storage": BOOL,
})

_COMPACTOR = Obj({"disabled": BOOL, "ring": _ringish(), "compaction": _COMPACTION, "override_ring_key": STR})

_LIVE_STORE = Obj({
    "ring": _ringish(), "partition_ring": OPEN, "metrics": Obj({"concurrent_blocks": UINT,
                                                                "time_overlap_cutoff": FLOAT}),
    "commit_interval": DUR, "wal": _WAL, "query_block_concurrency": UINT, "complete_block_timeout": DUR,
    "complete_block_concurrency": INT, "shutdown_marker_dir": STR, "flush_check_period": DUR,
    "flush_op_timeout": DUR, "max_trace_live": DUR, "max_trace_idle": DUR, "max_live_traces_bytes": UINT,
    "max_block_duration": DUR, "max_block_bytes": UINT,
    "block_config": Only(2, _BLOCK),
    "block_reclaim_grace": Only(3, DUR), "readiness_target_lag": Only(3, DUR),
    "readiness_max_wait": Only(3, DUR), "fail_on_high_lag": Only(3, BOOL),
    "remove_owner_on_shutdown": Only(3, BOOL),
})

_BACKEND_WORKER = Obj({"backend_scheduler_addr": STR, "backoff": OPEN, "compaction": _COMPACTION,
                       "override_ring_key": STR, "ring": _ringish(), "finish_on_shutdown_timeout": DUR})
_BACKEND_SCHEDULER = Obj({
    "work": Obj({"prune_age": DUR, "dead_job_timeout": DUR}),
    "maintenance_interval": DUR, "backend_flush_interval": DUR, "job_timeout": DUR, "local_work_path": STR,
    "provider": Obj({
        "retention": Obj({"interval": DUR}),
        "compaction": Obj({"measure_interval": DUR, "compaction": _COMPACTION, "max_jobs_per_tenant": INT,
                           "min_input_blocks": INT, "max_input_blocks": INT, "max_compaction_level": INT,
                           "min_cycle_interval": DUR}),
        "redaction": OPEN,
    }),
})

_BLOCK_BUILDER = Obj({
    "instance_id": STR, "assigned_partitions": MapOf(ListOf(INT)), "partitions_per_instance": INT,
    "consume_cycle_duration": DUR, "max_consuming_bytes": UINT,
    "block": Custom(OPEN, "block_builder_block"), "wal": _WAL,
})

_KAFKA = Obj({k: (DUR if k.endswith(("_timeout", "_interval", "_startup")) else ANY) for k in _words(
    "address topic client_id dial_timeout write_timeout sasl_username sasl_password consumer_group "
    "consumer_group_offset_commit_interval last_produced_offset_retry_timeout auto_create_topic_enabled "
    "auto_create_topic_default_partitions producer_max_record_size_bytes producer_max_buffered_bytes "
    "target_consumer_lag_at_startup max_consumer_lag_at_startup disable_kafka_telemetry "
    "consumer_group_lag_metric_update_interval"
)})
_INGEST = Obj({"enabled": Only(2, BOOL), "kafka": _KAFKA})

_HTTP_CLIENT_KEYS = _words(
"basic_auth authorization oauth2 bearer_token bearer_token_file tls_config follow_redirects "
                     "enable_http2 http_headers proxy_url no_proxy proxy_from_environment "
                     "proxy_connect_header"
)
_REMOTE_WRITE = Custom(Obj({
    "url": STR, "remote_timeout": MDUR, "headers": STRMAP, "write_relabel_configs": ListOf(OPEN), "name": STR,
    "send_exemplars": BOOL, "send_native_histograms": BOOL, "round_robin_dns": BOOL, "protobuf_message": STR,
    "queue_config": Obj({"capacity": INT, "max_shards": INT, "min_shards": INT, "max_samples_per_send": INT,
                         "batch_send_deadline": MDUR, "min_backoff": MDUR, "max_backoff": MDUR,
                         "retry_on_http_429": BOOL, "sample_age_limit": MDUR}),
    "metadata_config": OPEN, "sigv4": OPEN, "azuread": OPEN, "google_iam": OPEN,
    **{k: ANY for k in _HTTP_CLIENT_KEYS},
    "follow_redirects": BOOL, "enable_http2": BOOL, "http_headers": MapOf(OPEN),
}), "remote_write")

_SERVICE_GRAPHS = Obj({
    "wait": DUR, "max_items": INT, "workers": INT, "histogram_buckets": FLOATS, "dimensions": STRS,
    "enable_client_server_prefix": BOOL, "enable_messaging_system_latency_histogram": BOOL,
    "peer_attributes": STRS, "span_multiplier_key": STR, "enable_virtual_node_label": BOOL,
    "database_name_attributes": STRS,
    "enable_tracestate_span_multiplier": Only(3, BOOL), "filter_policies": Only(3, _FILTER_POLICIES),
})
_INTRINSIC_DIMS = Obj({"service": BOOL, "span_name": BOOL, "span_kind": BOOL, "status_code": BOOL,
                       "status_message": BOOL})
_SPAN_METRICS = Obj({
    "histogram_buckets": FLOATS, "intrinsic_dimensions": _INTRINSIC_DIMS, "dimensions": STRS,
    "dimension_mappings": _DIMENSION_MAPPINGS, "enable_target_info": BOOL, "span_multiplier_key": STR,
    "filter_policies": _FILTER_POLICIES, "target_info_excluded_dimensions": STRS, "enable_instance_label": BOOL,
    "enable_tracestate_span_multiplier": Only(3, BOOL),
})
_LOCAL_BLOCKS = Obj({
    "block": _BLOCK, "search": OPEN, "flush_check_period": DUR, "trace_idle_period": DUR,
    "trace_live_period": DUR, "max_block_duration": DUR, "max_block_bytes": UINT, "concurrency": UINT,
    "complete_block_timeout": DUR, "max_live_traces": UINT, "max_live_traces_bytes": UINT,
    "filter_server_spans": BOOL, "flush_to_storage": BOOL, "concurrent_blocks": UINT,
    "time_overlap_cutoff": FLOAT,
})
_HOST_INFO = Obj({"host_identifiers": STRS, "metric_name": STR})

_METRICS_GENERATOR = Obj({
    "ring": _ringish(),
    "processor": Obj({"service_graphs": _SERVICE_GRAPHS, "span_metrics": _SPAN_METRICS,
                      "local_blocks": Only(2, _LOCAL_BLOCKS), "host_info": _HOST_INFO}),
    "registry": Obj({"collection_interval": DUR, "stale_duration": DUR, "external_labels": STRMAP,
                     "inject_tenant_id_as": STR, "max_label_name_length": INT, "max_label_value_length": INT}),
    "storage": Obj({"path": STR, "wal": Obj({"wal_segment_size": INT, "wal_compression": ANY, "stripe_size": INT,
                                            "truncate_frequency": DUR, "min_wal_time": INT,
                                            "max_wal_time": INT, "no_lockfile": BOOL}),
                    "remote_write_flush_deadline": DUR, "remote_write_add_org_id_header": BOOL,
                    "remote_write": ListOf(_REMOTE_WRITE)}),
    "traces_storage": Only(2, _WAL), "traces_query_storage": Only(2, _WAL),
    "metrics_ingestion_time_range_slack": DUR, "query_timeout": Only(2, DUR), "override_ring_key": STR,
    "ring_mode": Only(3, STR), "codec": STR, "disable_local_blocks": Only(2, BOOL), "disable_grpc": Only(2, BOOL),
    "limiter_type": STR, "ingest_concurrency": UINT, "instance_id": STR,
    "leave_consumer_group_on_shutdown": Only(3, BOOL),
})

_S3 = Obj({
    "bucket": STR, "prefix": STR, "endpoint": Custom(STR, "host_port"), "region": STR, "access_key": STR,
    "secret_key": STR, "session_token": STR, "insecure": BOOL, "part_size": UINT, "hedge_requests_at": DUR,
    "hedge_requests_up_to": INT, "signature_v2": BOOL, "forcepathstyle": BOOL, "enable_dual_stack": BOOL,
    "bucket_lookup_type": Custom(INT, "bucket_lookup"), "tags": STRMAP, "storage_class": STR,
    "metadata": STRMAP, "native_aws_auth_enabled": BOOL, "list_blocks_concurrency": INT,
    "sse": Obj({"type": STR, "kms_key_id": STR, "kms_encryption_context": STR, "encryption_key": STR}),
    "retry_max_attempts": Only(3, INT), "retry_backoff_initial": Only(3, DUR), "retry_backoff_max": Only(3, DUR),
    # dskit tls.ClientConfig is inlined into the s3 block.
    "tls_cert_path": STR, "tls_key_path": STR, "tls_ca_path": STR, "tls_server_name": STR,
    "tls_insecure_skip_verify": BOOL, "tls_cipher_suites": STR, "tls_min_version": STR,
})
_GCS = Obj({"bucket_name": STR, "prefix": STR, "chunk_buffer_size": INT, "endpoint": STR, "hedge_requests_at": DUR,
            "hedge_requests_up_to": INT, "insecure": BOOL, "object_cache_control": STR,
            "object_metadata": STRMAP, "list_blocks_concurrency": INT, "max_retries": INT})
_AZURE = Obj({"storage_account_name": STR, "storage_account_key": STR, "use_managed_identity": BOOL,
              "use_federated_token": BOOL, "user_assigned_id": STR, "container_name": STR, "prefix": STR,
              "endpoint_suffix": STR, "max_buffers": INT, "buffer_size": INT, "hedge_requests_at": DUR,
              "hedge_requests_up_to": INT})
_TRACE_STORAGE = Obj({
    "pool": Obj({"max_workers": INT, "queue_depth": INT}), "wal": _WAL, "block": _BLOCK, "search": OPEN,
    "blocklist_poll": DUR, "blocklist_poll_concurrency": UINT, "blocklist_poll_tenant_concurrency": UINT,
    "blocklist_poll_fallback": BOOL, "blocklist_poll_tenant_index_builders": INT,
    "blocklist_poll_stale_tenant_index": DUR, "blocklist_poll_jitter_ms": INT,
    "blocklist_poll_tolerate_consecutive_errors": INT, "blocklist_poll_tolerate_tenant_failures": INT,
    "empty_tenant_deletion_enabled": BOOL, "empty_tenant_deletion_age": DUR,
    "backend": Scalar("str", ("local", "s3", "gcs", "azure")), "local": Obj({"path": STR}), "gcs": _GCS, "s3": _S3,
    "azure": _AZURE, "cache": STR, "background_cache": OPEN, "memcached": OPEN, "redis": OPEN,
    # backend_cache.BloomConfig is inlined.
    "cache_min_compaction_level": INT, "cache_max_block_age": DUR,
})

_QUERIER = Obj({
    "search": Obj({"query_timeout": DUR}),
    "trace_by_id": Obj({"query_timeout": DUR, "external": Obj({"endpoint": STR, "timeout": DUR})}),
    "metrics": Obj({"concurrent_blocks": INT, "time_overlap_cutoff": FLOAT}),
    "partition_ring": Obj({"minimize_requests": BOOL, "hedging_delay": DUR, "preferred_zone": STR}),
    "extra_query_delay": DUR, "max_concurrent_queries": INT,
    "frontend_worker": Obj({"frontend_address": STR, "dns_lookup_duration": DUR, "parallelism": INT,
                            "match_max_concurrent": BOOL, "id": STR, "grpc_client_config": OPEN}),
    "shuffle_sharding_ingesters_enabled": BOOL, "shuffle_sharding_ingesters_lookback_period": DUR,
    "query_relevant_ingesters": BOOL, "secondary_ingester_ring": STR, "query_live_store": Only(2, BOOL),
})

_SLO = {"duration_slo": DUR, "throughput_bytes_slo": FLOAT}
_QUERY_FRONTEND = Obj({
    "max_outstanding_per_tenant": INT, "max_batch_size": INT, "log_query_request_headers": ANY,
    "max_retries": INT,
    "search": Obj({"timeout": DUR, "metadata_slo": Obj(_SLO), **_SLO,
                   "concurrent_jobs": INT, "target_bytes_per_job": INT, "default_result_limit": UINT,
                   "max_result_limit": UINT, "max_duration": DUR, "query_backend_after": DUR,
                   "query_ingesters_until": Only(2, DUR), "ingester_shards": INT, "most_recent_shards": INT,
                   "default_spans_per_span_set": UINT, "max_spans_per_span_set": UINT}),
    "trace_by_id": Obj({"query_shards": INT, "concurrent_shards": INT, "external_enabled": BOOL, **_SLO}),
    "metrics": Obj({"concurrent_jobs": INT, "target_bytes_per_job": INT, "max_duration": DUR,
                    "query_backend_after": DUR, "interval": DUR, "max_exemplars": INT, "max_response_series": INT,
                    "streaming_shards": INT, "max_intervals": UINT, **_SLO}),
    "multi_tenant_queries_enabled": BOOL, "response_consumers": INT,
    "weights": Obj({"request_with_weights": BOOL, "retry_with_weights": BOOL, "max_traceql_conditions": INT,
                    "max_regex_conditions": INT}),
    "mcp_server": Obj({"enabled": BOOL}),
    "api_timeout": DUR, "url_deny_list": STRS, "max_query_expression_size_bytes": INT, "allowed_headers": STRS,
    "rf1_after": ANY, "query_end_cutoff": DUR,
    "max_grpc_streaming_packet_size": Only(3, INT), "skip_ast_transformations": Only(3, STRS),
})

_MEMBERLIST_KEYS = _words(
    "node_name randomize_node_name stream_timeout retransmit_factor pull_push_interval gossip_interval "
    "gossip_nodes gossip_to_dead_nodes_time dead_node_reclaim_time compression_enabled notify_interval "
    "received_messages_queue_size advertise_addr advertise_port cluster_label cluster_label_verification_disabled "
    "join_members min_join_backoff max_join_backoff max_join_retries abort_if_cluster_fast_join_fails "
    "abort_if_cluster_fast_join_fails_min_nodes abort_if_cluster_join_fails rejoin_interval rejoin_seed_nodes "
    "left_ingesters_timeout obsolete_entries_timeout leave_timeout broadcast_timeout_for_local_updates_on_shutdown "
    "message_history_buffer_bytes watch_prefix_buffer_size zone_aware_routing propagation_delay_tracker "
    # inlined TCPTransportConfig (+ its inlined dskit TLS client config)
    "bind_addr bind_port packet_dial_timeout packet_write_timeout max_concurrent_writes acquire_writer_timeout "
    "tls_enabled tls_cert_path tls_key_path tls_ca_path tls_server_name tls_insecure_skip_verify "
    "tls_cipher_suites tls_min_version"
)
_MEMBERLIST = Obj({k: {"join_members": STRS, "bind_port": INT, "bind_addr": STRS, "cluster_label": STR,
                       "abort_if_cluster_join_fails": BOOL}.get(k, ANY) for k in _MEMBERLIST_KEYS})

_CACHE = Obj({"background": OPEN, "caches": ListOf(Obj({
    "roles": ListOf(Scalar("str", ("bloom", "trace-id-index", "parquet-footer", "parquet-column-idx",
                                   "parquet-offset-idx", "parquet-page", "frontend-search", "frontend-query"))),
    "memcached": OPEN, "redis": OPEN}))})

# ---------------------------------------------------------------------------------------------------
# Overrides (scoped format only)
# ---------------------------------------------------------------------------------------------------

_PROCESSORS: dict[int, tuple[str, ...]] = {
    2: ("service-graphs", "span-metrics", "local-blocks", "span-metrics-count", "span-metrics-latency",
        "span-metrics-size", "host-info"),
    3: ("service-graphs", "span-metrics", "span-metrics-count", "span-metrics-latency", "span-metrics-size",
        "host-info"),
}

_OVR_SG = Obj({"histogram_buckets": FLOATS, "dimensions": STRS, "peer_attributes": STRS,
               "enable_client_server_prefix": BOOL, "enable_messaging_system_latency_histogram": BOOL,
               "enable_virtual_node_label": BOOL, "filter_policies": Only(3, _FILTER_POLICIES),
               "span_multiplier_key": Only(3, STR), "enable_tracestate_span_multiplier": Only(3, BOOL)})
_OVR_SM = Obj({"histogram_buckets": FLOATS, "dimensions": STRS, "intrinsic_dimensions": MapOf(BOOL),
               "filter_policies": _FILTER_POLICIES, "dimension_mappings": _DIMENSION_MAPPINGS,
               "enable_target_info": BOOL, "target_info_excluded_dimensions": STRS, "enable_instance_label": BOOL,
               "span_multiplier_key": Only(3, STR), "enable_tracestate_span_multiplier": Only(3, BOOL)})
_OVR_LB = Obj({"max_live_traces": UINT, "max_block_duration": DUR, "max_block_bytes": UINT,
               "flush_check_period": DUR, "trace_idle_period": DUR, "complete_block_timeout": DUR})
_OVR_DEFAULTS = Obj({
    "ingestion": Obj({"rate_strategy": Scalar("str", ("local", "global")), "rate_limit_bytes": INT,
                      "burst_size_bytes": INT, "max_traces_per_user": INT, "max_global_traces_per_user": INT,
                      "tenant_shard_size": INT, "max_attribute_bytes": INT, "artificial_delay": DUR,
                      "retry_info_enabled": BOOL}),
    "read": Obj({"max_bytes_per_tag_values_query": INT, "max_blocks_per_tag_values_query": INT,
                 "max_condition_groups_per_tag_query": Only(3, INT), "max_search_duration": MDUR,
                 "max_metrics_duration": MDUR, "unsafe_query_hints": BOOL, "left_pad_trace_ids": Only(3, BOOL),
                 "metrics_spanonly_fetch": Only(3, BOOL)}),
    "compaction": Obj({"block_retention": MDUR, "compaction_window": MDUR, "compaction_disabled": BOOL}),
    "metrics_generator": Obj({
        "ring_size": INT, "processors": Custom(STRS, "processors"), "max_active_series": UINT,
        "max_active_entities": UINT, "collection_interval": DUR, "disable_collection": BOOL,
        "generate_native_histograms": Scalar("str", ("classic", "native", "both")), "trace_id_label_name": STR,
        "remote_write_headers": STRMAP, "forwarder": Obj({"queue_size": INT, "workers": INT}),
        "processor": Obj({"service_graphs": _OVR_SG, "span_metrics": _OVR_SM, "local_blocks": Only(2, _OVR_LB),
                          "host_info": Obj({"host_identifiers": STRS, "metric_name": STR})}),
        "ingestion_time_range_slack": DUR, "native_histogram_bucket_factor": FLOAT,
        "native_histogram_max_bucket_number": UINT, "native_histogram_min_reset_duration": DUR,
        "span_name_sanitization": Only(3, STR), "max_cardinality_per_label": Only(3, UINT),
    }),
    "forwarders": STRS, "global": Obj({"max_bytes_per_trace": INT}),
    "storage": Obj({"parquet_dedicated_columns": ListOf(OPEN)}),
    "cost_attribution": Obj({"max_cardinality": UINT, "dimensions": STRMAP}),
})

_LEGACY_OVERRIDE_KEYS = frozenset(_words(
    "ingestion_rate_strategy ingestion_rate_limit_bytes ingestion_burst_size_bytes ingestion_tenant_shard_size "
    "ingestion_max_attribute_bytes ingestion_artificial_delay ingestion_retry_info_enabled max_traces_per_user "
    "max_global_traces_per_user forwarders block_retention compaction_disabled compaction_window "
    "max_bytes_per_tag_values_query max_blocks_per_tag_values_query max_condition_groups_per_tag_query "
    "max_search_duration max_metrics_duration unsafe_query_hints left_pad_trace_ids metrics_spanonly_fetch "
    "max_bytes_per_trace cost_attribution parquet_dedicated_columns"
))

_OVERRIDES = Custom(Obj({
    "defaults": _OVR_DEFAULTS, "per_tenant_override_config": STR, "per_tenant_override_period": MDUR,
    "user_configurable_overrides": OPEN, "enable_legacy_overrides": Only(3, BOOL),
}), "overrides")

# ---------------------------------------------------------------------------------------------------
# Root
# ---------------------------------------------------------------------------------------------------

_TARGETS: dict[int, tuple[str, ...]] = {
    2: ("all", "all-3.0", "scalable-single-binary", "distributor", "ingester", "metrics-generator",
        "metrics-generator-no-local-blocks", "querier", "query-frontend", "compactor", "block-builder",
        "backend-scheduler", "backend-worker", "live-store"),
    3: ("all", "distributor", "metrics-generator", "metrics-generator-no-local-blocks", "querier",
        "query-frontend", "block-builder", "backend-scheduler", "backend-worker", "live-store"),
}

_ROOT = Obj({
    "target": Custom(STR, "target"), "auth_enabled": BOOL, "multitenancy_enabled": BOOL, "shutdown_delay": DUR,
    "stream_over_http_enabled": BOOL, "http_api_prefix": Custom(STR, "api_prefix"),
    "enable_go_runtime_metrics": BOOL,
    "partition_ring_live_store": Only(2, BOOL), "span_profiling": Only(3, BOOL),
    "memory": Only(3, Obj({"automemlimit_enabled": BOOL, "automemlimit_ratio": FLOAT})),
    "server": _SERVER, "internal_server": OPEN, "distributor": _DISTRIBUTOR,
    "ingester_client": Only(2, OPEN),
    # 3.x still parses this as a free map for one release (deprecated); 2.x has the real client struct.
    "metrics_generator_client": OPEN,
    "live_store_client": OPEN, "querier": _QUERIER, "query_frontend": _QUERY_FRONTEND,
    "compactor": Only(2, _COMPACTOR), "ingester": Only(2, _INGESTER), "metrics_generator": _METRICS_GENERATOR,
    "ingest": _INGEST, "block_builder": _BLOCK_BUILDER, "storage": Obj({"trace": _TRACE_STORAGE}),
    "overrides": _OVERRIDES, "memberlist": _MEMBERLIST,
    "usage_report": Obj({"reporting_enabled": BOOL, "backoff": OPEN}), "cache": _CACHE,
    "backend_scheduler": _BACKEND_SCHEDULER, "backend_scheduler_client": OPEN, "backend_worker": _BACKEND_WORKER,
    "live_store": _LIVE_STORE,
})

_BLOCK_VERSIONS: dict[int, tuple[str, ...]] = {
    2: ("v2", "vParquet3", "vParquet4", "vParquet5"),
    3: ("vParquet3", "vParquet4", "vParquet5"),
}


class _Checker:
    """Walks a document against a node tree for one major version, collecting errors."""

    def __init__(self, major: int) -> None:
        self.major = major
        self.errors: list[StrictError] = []

    def err(self, loc: Loc, message: str) -> None:
        self.errors.append(StrictError(format_loc(loc), message))

    def check(self, node: Node, value: object, loc: Loc) -> None:
        # yaml.v2 decodes null into any Go field as its zero value, so null is always accepted.
        if value is None:
            return
        if isinstance(node, Only):
            if node.major != self.major:
                self.err(loc, f"not a Tempo {self.major}.x key (only in Tempo {node.major}.x)")
                return
            self.check(node.node, value, loc)
        elif isinstance(node, Scalar):
            self._scalar(node, value, loc)
        elif isinstance(node, Obj):
            self._obj(node, value, loc)
        elif isinstance(node, ListOf):
            if not isinstance(value, list):
                self.err(loc, f"expected a list, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.check(node.item, item, (*loc, i))
        elif isinstance(node, MapOf):
            if not isinstance(value, dict):
                self.err(loc, f"expected a mapping, got {type(value).__name__}")
                return
            for k, v in value.items():
                self.check(node.value, v, (*loc, str(k)))
        elif isinstance(node, Open):
            if not isinstance(value, dict):
                self.err(loc, f"expected a mapping, got {type(value).__name__}")
        else:
            self.check(node.base, value, loc)
            self._custom(node, value, loc)

    def _obj(self, node: Obj, value: object, loc: Loc) -> None:
        if not isinstance(value, dict):
            self.err(loc, f"expected a mapping, got {type(value).__name__}")
            return
        for key, sub in value.items():
            child = node.fields.get(str(key))
            if child is None:
                self.err((*loc, str(key)), "field not found in Tempo's config struct (UnmarshalStrict rejects it)")
                continue
            self.check(child, sub, (*loc, str(key)))

    def _scalar(self, node: Scalar, value: object, loc: Loc) -> None:
        kind = node.kind
        if kind == "any":
            return
        if isinstance(value, (dict, list)):
            self.err(loc, f"expected a {kind} scalar, got {type(value).__name__}")
            return
        if kind == "bool":
            ok = isinstance(value, bool)
        elif kind in ("int", "uint"):
            ok = isinstance(value, int) and not isinstance(value, bool) and (kind == "int" or value >= 0)
        elif kind == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind == "dur":
            ok = (isinstance(value, str) and bool(_GO_DURATION.match(value))) or value == 0
            if not ok:
                self.err(loc, f"invalid Go duration {value!r} (use units ns, us, ms, s, m, h, e.g. '5m')")
                return
        elif kind == "mdur":
            ok = isinstance(value, str) and bool(_MODEL_DURATION.match(value)) and value != ""
            if not ok:
                self.err(loc, f"invalid Prometheus duration {value!r} (integer units y, w, d, h, m, s, ms)")
                return
        else:  # str: yaml.v2 stores any scalar's text into a string field
            ok = True
        if not ok:
            self.err(loc, f"expected {kind}, got {type(value).__name__} {value!r}")
            return
        if node.choices and str(value) not in node.choices:
            self.err(loc, f"invalid value {value!r}; valid: {', '.join(node.choices)}")

    def _custom(self, node: Custom, value: object, loc: Loc) -> None:
        rule = node.rule
        if rule == "block_version":
            allowed = _BLOCK_VERSIONS[self.major]
            if str(value) not in allowed:
                self.err(loc, f"{value!r} is not a valid block version for writing in Tempo {self.major}.x; "
                              f"valid: {', '.join(allowed)}")
        elif rule == "host_port":
            text = str(value)
            if "://" in text:
                self.err(loc, f"endpoint {text!r} must be host[:port] without a scheme; "
                              "use insecure: true for plain http")
            elif "/" in text or not _HOST_PORT.match(text):
                self.err(loc, f"endpoint {text!r} must be host[:port]")
        elif rule == "bucket_lookup":
            if value not in (0, 1, 2):
                self.err(loc, "bucket_lookup_type must be 0 (auto), 1 (virtual-hosted) or 2 (path)")
        elif rule == "processors":
            self._processors(value, loc)
        elif rule == "target":
            if str(value) not in _TARGETS[self.major]:
                self.err(loc, f"unknown Tempo {self.major}.x target {value!r}; valid: "
                              f"{', '.join(_TARGETS[self.major])}")
        elif rule == "api_prefix":
            if value != "" and not str(value).startswith("/"):
                self.err(loc, "http_api_prefix must start with '/'")
        elif rule == "remote_write":
            if isinstance(value, dict) and not value.get("url"):
                self.err((*loc, "url"), "remote_write entry needs a url")
        elif rule == "overrides":
            self._overrides(value, loc)
        elif rule == "receivers":
            self._receivers(value, loc)
        elif rule == "ringish":
            self._ringish(value, loc)
        elif rule == "block_builder_block":
            self._block_builder_block(value, loc)

    def _processors(self, value: object, loc: Loc) -> None:
        if not isinstance(value, list):
            return
        valid = _PROCESSORS[self.major]
        for i, name in enumerate(value):
            if name not in valid:
                hint = " (local-blocks was removed in Tempo 3.x)" if name == "local-blocks" else ""
                self.err((*loc, i), f"unknown metrics-generator processor {name!r}{hint}; valid in Tempo "
                                    f"{self.major}.x: {', '.join(valid)}")

    def _overrides(self, value: object, loc: Loc) -> None:
        if not isinstance(value, dict):
            return
        # The unknown-key walk already flagged these; replace the generic message with a precise one.
        legacy = [k for k in value if k in _LEGACY_OVERRIDE_KEYS or str(k).startswith("metrics_generator_")]
        if not legacy:
            return
        flagged = {format_loc((*loc, k)) for k in legacy}
        self.errors = [e for e in self.errors if e.path not in flagged]
        for key in legacy:
            self.err((*loc, key), "legacy flat override key; obsgen only accepts the scoped format "
                                  "(overrides.defaults.<ingestion|read|compaction|metrics_generator|global|storage>)")

    def _receivers(self, value: object, loc: Loc) -> None:
        # Receivers are OTel Collector receiver configs that Tempo passes through; check the shape we emit.
        if not isinstance(value, dict):
            return
        known = {"otlp", "jaeger", "zipkin", "kafka"}
        for name, cfg in value.items():
            if name not in known:
                self.err((*loc, str(name)), f"unknown receiver {name!r}; Tempo supports {', '.join(sorted(known))}")
                continue
            if cfg is not None and not isinstance(cfg, dict):
                self.err((*loc, str(name)), "receiver config must be a mapping or null")
                continue
            protocols = (cfg or {}).get("protocols")
            if isinstance(protocols, dict):
                for proto, pcfg in protocols.items():
                    if pcfg is not None and not isinstance(pcfg, dict):
                        self.err((*loc, str(name), "protocols", str(proto)), "protocol config must be a mapping")
                    elif isinstance(pcfg, dict) and "endpoint" in pcfg and "://" in str(pcfg["endpoint"]):
                        self.err((*loc, str(name), "protocols", str(proto), "endpoint"),
                                 "receiver endpoint must be host:port without a scheme")

    def _ringish(self, value: object, loc: Loc) -> None:
        if not isinstance(value, dict):
            return
        ring = value.get("ring", value)
        if isinstance(ring, dict):
            for key in ("kvstore", "replication_factor"):
                if key in ring:
                    self.check(_RING.fields[key], ring[key], (*loc, "ring", key) if ring is not value
                               else (*loc, key))

    def _block_builder_block(self, value: object, loc: Loc) -> None:
        # BlockConfig embeds common.BlockConfig: inlined in 2.x, hidden (`yaml:"-"`) in 3.x.
        if not isinstance(value, dict):
            return
        for key, sub in value.items():
            if key == "max_block_bytes":
                self.check(UINT, sub, (*loc, key))
            elif self.major == 2 and key in _BLOCK.fields:
                self.check(_BLOCK.fields[key], sub, (*loc, key))
            else:
                self.err((*loc, str(key)), "field not found in Tempo's config struct (UnmarshalStrict rejects it)")


def validate_tempo_config(doc: object, major: int) -> list[StrictError]:
    """Check a parsed ``tempo.yaml`` the way Tempo ``major`` (2 = v2.10.x, 3 = v3.0.x) would, plus obsgen rules.

    Returns an empty list when the document is accepted.
    """
    if major not in (2, 3):
        raise ValueError(f"unsupported Tempo major version {major}; expected 2 or 3")
    checker = _Checker(major)
    if not isinstance(doc, dict):
        return [StrictError("", f"a Tempo config must be a mapping, got {type(doc).__name__}")]
    checker.check(_ROOT, doc, ())
    return sorted(set(checker.errors))
