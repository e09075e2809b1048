"""Tempo target: ``tempo/tempo.yaml`` for the Tempo major version the spec pins.

Tempo decodes its config with ``yaml.UnmarshalStrict``, and 2.x and 3.x have different module sets
(reference tempo-grafana.md §1.1), so the layout is chosen per major version and every render is
checked by ``obsgen.targets.tempo.strict`` for that version. Metric and label names the metrics-generator
produces are fixed by ``obsgen.plan.naming``; this module only configures the generator to match them.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple
from urllib.parse import urlsplit

import yaml

from obsgen.check.strict import StrictError
from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.emit.commented_yaml import CommentedYaml
from obsgen.plan import Plan, naming
from obsgen.plan.service_graph import DATABASE_NAME_ATTRIBUTES, PEER_ATTRIBUTES
from obsgen.spec.models import S3Storage
from obsgen.spec.versions import version_tuple
from obsgen.targets.tempo.envsubst import EnvRef, SubstitutionError, expand, literal, references, resolve
from obsgen.targets.tempo.strict import validate_tempo_config

PATH = "tempo/tempo.yaml"

_DEFAULT_HTTP_PORT = 3200
_GRPC_PORT = 9095
_OTLP_GRPC_PORT = 4317
_OTLP_HTTP_PORT = 4318
_MEMBERLIST_PORT = 7946

# Local paths in the official examples (reference §1.6, §1.8).
_WAL_PATH = "/var/tempo/wal"
_BLOCKS_PATH = "/var/tempo/blocks"
_GENERATOR_WAL_PATH = "/var/tempo/generator/wal"
_GENERATOR_TRACES_PATH = "/var/tempo/generator/traces"

# Distributed mode: every component reads this one file and runs with -target=<component>. Addresses
# of the other components are deployment facts the spec does not hold, so they are environment
# references with the tempo-distributed Helm chart's names (release "tempo") as defaults.
_MEMBERLIST_JOIN = EnvRef("TEMPO_MEMBERLIST_JOIN", f"dns+tempo-gossip-ring:{_MEMBERLIST_PORT}")
_QUERY_FRONTEND = EnvRef("TEMPO_QUERY_FRONTEND_ADDRESS", f"tempo-query-frontend-discovery:{_GRPC_PORT}")
_BACKEND_SCHEDULER = EnvRef("TEMPO_BACKEND_SCHEDULER_ADDRESS", f"tempo-backend-scheduler:{_GRPC_PORT}")
_KAFKA_ADDRESS = EnvRef("TEMPO_KAFKA_ADDRESS", "kafka:9092")
_KAFKA_TOPIC = "tempo-traces"
_DISTRIBUTED_REPLICATION = 3
# Tempo 3.x default (reference §1.4); written out because CheckConfig warns when it drops below blocklist_poll.
_LIVE_STORE_COMPLETE_BLOCK_TIMEOUT = "20m"

# Added to every series the generator writes so Tempo's metrics are told apart from the Collector's.
# TODO(naming): move to obsgen.plan.naming (label name and value), see the tempo target report.
_EXTERNAL_LABELS = {naming.TEMPO_SOURCE_LABEL: naming.TEMPO_SOURCE_VALUE}

# Placeholder environment used when checking an expand-env config (secrets are never known here).
_CHECK_ENV = {"S3_ACCESS_KEY": "AKIAEXAMPLE", "S3_SECRET_KEY": "example-secret"}


class Section(NamedTuple):
    """One top-level key of tempo.yaml with the comment written above it."""

    key: str
    value: object
    comment: str = ""


def major_version(plan: Plan) -> int:
    """The Tempo major version the spec pins (2 or 3)."""
    return version_tuple(plan.spec.stack.tempo)[0]


def uses_expand_env(plan: Plan) -> bool:
    """True when the config holds ``${ENV}`` references and Tempo must run with ``-config.expand-env``."""
    tempo = plan.spec.backends.tempo
    return tempo.s3 is not None or tempo.mode == "distributed"


def processors(plan: Plan) -> list[str]:
    """Metrics-generator processors: service graphs and span metrics when Tempo computes them.

    With the Collector as the source it computes both before sampling; running them here as well would
    write every series twice (see Plan.service_graph_source).
    """
    names = []
    if plan.service_graph_source == "tempo":
        names.append("service-graphs")
    if plan.span_metrics.source == "tempo":
        names.append("span-metrics")
    if major_version(plan) == 2:
        names.append("local-blocks")  # TraceQL metrics over recent data; 3.x serves it from the live store
    return names


def _port(text: str, default: int) -> int:
    """The port of ``host:port`` or a URL, or ``default`` when none is written (e.g. behind a proxy)."""
    try:  # spec.urls refuses what does not parse; this keeps a render from failing if one slips through
        return urlsplit(text if "://" in text else f"//{text}").port or default
    except ValueError:
        return default


def _buckets(plan: Plan) -> list[float]:
    return naming.bucket_seconds(list(plan.buckets))


def _distributor(plan: Plan) -> dict[str, object]:
    grpc_port = _port(plan.spec.backends.tempo.otlp_endpoint, _OTLP_GRPC_PORT)
    # Tempo's receivers listen on localhost unless told otherwise (reference §1.3).
    return {"receivers": {"otlp": {"protocols": {
        "grpc": {"endpoint": f"0.0.0.0:{grpc_port}"},
        "http": {"endpoint": f"0.0.0.0:{_OTLP_HTTP_PORT}"},
    }}}}


def writes_metrics(plan: Plan) -> bool:
    """True when a generator processor writes series (service graphs or span metrics run here).

    local-blocks (2.x) only keeps recent traces for TraceQL metrics queries and writes no series, so
    without the other two the registry, remote write and histogram settings would configure nothing.
    """
    return plan.service_graph_source == "tempo" or plan.span_metrics.source == "tempo"


def _metrics_generator(plan: Plan, major: int) -> dict[str, object]:
    spec = plan.spec
    if not writes_metrics(plan):
        # Only local-blocks runs (2.x): it needs its trace WAL and the generator's storage path, nothing else.
        return {"storage": {"path": _GENERATOR_WAL_PATH}, "traces_storage": {"path": _GENERATOR_TRACES_PATH}}
    dimension_labels = set(plan.dimension_labels())
    external = {k: v for k, v in _EXTERNAL_LABELS.items() if k not in dimension_labels}
    processor: dict[str, object] = {}
    if plan.service_graph_source == "tempo":
        # The Collector's lists, so both sources name database and virtual nodes alike (Tempo 3's default
        # database_name_attributes also holds db.system, which would turn every Redis call into a database edge).
        processor["service_graphs"] = {
            "histogram_buckets": _buckets(plan),
            "peer_attributes": list(PEER_ATTRIBUTES),
            "database_name_attributes": list(DATABASE_NAME_ATTRIBUTES),
        }
    if plan.span_metrics.source == "tempo":
        span_metrics: dict[str, object] = {"histogram_buckets": _buckets(plan)}
        if plan.dimensions:
            # Tempo takes attribute names and sanitises them to labels as naming.label_from_attribute does.
            span_metrics["dimensions"] = [name for name, _ in plan.dimensions]
        processor["span_metrics"] = span_metrics
    block: dict[str, object] = {
        "registry": {
            "external_labels": external,
            "collection_interval": spec.backends.prometheus.scrape_interval.go(),
        },
        "storage": {
            "path": _GENERATOR_WAL_PATH,
            "remote_write": [{"url": spec.backends.prometheus.remote_write_url, "send_exemplars": True}],
        },
    }
    if major == 2:
        block["traces_storage"] = {"path": _GENERATOR_TRACES_PATH}
    block["processor"] = processor
    return block


def _storage(plan: Plan) -> dict[str, object]:
    s3 = plan.spec.backends.tempo.s3
    trace: dict[str, object] = {"wal": {"path": _WAL_PATH}}
    if s3 is None:
        trace = {"backend": "local", **trace, "local": {"path": _BLOCKS_PATH}}
    else:
        trace = {"backend": "s3", **trace, "s3": s3_block(s3)}
    return {"trace": trace}


def s3_block(s3: S3Storage) -> dict[str, object]:
    """Tempo's ``storage.trace.s3``: the bucket, and the keys as environment references (-config.expand-env)."""
    bucket: dict[str, object] = {"bucket": s3.bucket, "endpoint": s3.endpoint}
    if s3.region is not None:
        bucket["region"] = s3.region
    bucket["access_key"] = EnvRef(s3.access_key_env)
    bucket["secret_key"] = EnvRef(s3.secret_key_env)
    if s3.insecure:
        bucket["insecure"] = True
    return bucket


def _overrides(plan: Plan) -> dict[str, object]:
    generator: dict[str, object] = {"processors": processors(plan)}
    if writes_metrics(plan):
        # naming's *_bucket series are classic histograms; native ones have no _bucket series.
        generator["generate_native_histograms"] = "classic"
        generator["trace_id_label_name"] = naming.TEMPO_SPAN_METRICS.exemplar_label
    return {"defaults": {"metrics_generator": generator}}


def sections(plan: Plan) -> list[Section]:
    """The top-level blocks of tempo.yaml, in the order they are written."""
    spec = plan.spec
    tempo = spec.backends.tempo
    major = major_version(plan)
    distributed = tempo.mode == "distributed"
    retention = tempo.retention.go()
    out: list[Section] = []
    if tempo.tenant is not None:
        out.append(Section("multitenancy_enabled", True, "every request needs X-Scope-OrgID (the spec's tenant)"))
    out.append(Section("stream_over_http_enabled", True, "Grafana streams search and metrics results over HTTP"))
    out.append(Section("server", {"http_listen_port": _port(tempo.url, _DEFAULT_HTTP_PORT),
                                  "grpc_listen_port": _GRPC_PORT}))
    out.append(Section("distributor", _distributor(plan)))
    if distributed:
        out.append(Section("memberlist", {"abort_if_cluster_join_fails": False, "bind_port": _MEMBERLIST_PORT,
                                          "join_members": [_MEMBERLIST_JOIN]},
                           "hash rings of all components gossip here"))
    if major == 2:
        replicas = _DISTRIBUTED_REPLICATION if distributed else 1
        out.append(Section("ingester", {"lifecycler": {"ring": {"replication_factor": replicas}}}))
        out.append(Section("compactor", {"compaction": {"block_retention": retention}},
                           "trace retention (Tempo 2.x: the compactor deletes expired blocks)"))
    else:
        if distributed:
            out.append(Section("ingest", {"kafka": {"address": _KAFKA_ADDRESS, "topic": _KAFKA_TOPIC}},
                               "the distributor writes to Kafka; block-builders and live-stores consume it"))
            # Each block-builder replica consumes the partition of its ordinal (run one per partition).
            out.append(Section("block_builder", {"partitions_per_instance": 1}))
        out.append(Section("live_store", {"complete_block_timeout": _LIVE_STORE_COMPLETE_BLOCK_TIMEOUT},
                           "recent traces are served from the live store until queriers see their blocks in "
                           "the backend; keep this above storage.trace.blocklist_poll (default 5m)"))
        out.append(Section("backend_scheduler", {"provider": {"compaction": {"compaction": {
            "block_retention": retention}}}}))
        worker: dict[str, object] = {}
        if distributed:
            worker["backend_scheduler_addr"] = _BACKEND_SCHEDULER
        worker["compaction"] = {"block_retention": retention}
        if distributed:
            worker["ring"] = {"kvstore": {"store": "memberlist"}}
        out.append(Section("backend_worker", worker,
                           "trace retention (Tempo 3.x: the backend worker's retention job deletes expired blocks)"))
    if distributed:
        out.append(Section("querier", {"frontend_worker": {"frontend_address": _QUERY_FRONTEND}}))
    if processors(plan):
        generator_note = (
            "service graph and span metrics from sampled traces (span_metrics.source: tempo)"
            if writes_metrics(plan)
            else "the Collector computes span metrics and the service graph before sampling (one producer per "
            "series); the generator only runs local-blocks, which keeps recent traces for TraceQL metrics queries"
        )
        out.append(Section("metrics_generator", _metrics_generator(plan, major), generator_note))
    out.append(Section("storage", _storage(plan)))
    if processors(plan):
        out.append(Section("overrides", _overrides(plan), "scoped overrides format only"))
    return out


def _notes(plan: Plan, expand_env: bool) -> list[str]:
    tempo = plan.spec.backends.tempo
    major = major_version(plan)
    flags = "-config.file=/etc/tempo/tempo.yaml"
    if expand_env:
        flags += " -config.expand-env=true"
    lines = [f"Grafana Tempo {plan.spec.stack.tempo} ({major}.x layout), {tempo.mode} mode."]
    if tempo.mode == "distributed":
        lines.append(f"Every component reads this file: tempo -target=<component> {flags}")
        env = [_MEMBERLIST_JOIN, _QUERY_FRONTEND] + ([_KAFKA_ADDRESS, _BACKEND_SCHEDULER] if major == 3 else [])
        lines.append("Addresses of other components come from " + ", ".join(e.name for e in env)
                     + " (defaults: the tempo-distributed Helm chart's names).")
    else:
        lines.append(f"Run: tempo -target=all {flags}")
    if tempo.s3 is not None:
        lines.append(f"S3 credentials come from the environment variables {tempo.s3.access_key_env} and "
                     f"{tempo.s3.secret_key_env}; -config.expand-env=true is required.")
    if expand_env:
        lines.append("With -config.expand-env every literal dollar sign and backslash below is written doubled.")
    if not processors(plan):
        # An empty processor list makes the metrics-generator a no-op, so none is configured at all.
        lines.append("No metrics-generator: the Collector computes span metrics and the service graph before "
                     "sampling, and Tempo 3 answers TraceQL metrics queries from its live store.")
    defaults = [name for name, default in plan.dimensions if default is not None]
    if plan.span_metrics.source == "tempo" and defaults:
        lines.append("Tempo's span metrics have no dimension defaults; spans without "
                     + ", ".join(defaults) + " get an empty label.")
    return lines


def render_text(plan: Plan) -> str:
    """The exact text of tempo.yaml."""
    expand_env = uses_expand_env(plan)
    header = header_lines(plan.spec_file)
    notes = _notes(plan, expand_env)
    blocks = [Section(s.key, resolve(s.value, expand_env=expand_env), s.comment) for s in sections(plan)]
    if expand_env:
        # drone/envsubst runs over comments too: a spec string there must survive it as well.
        header = literal(header)
        notes = [literal(n) for n in notes]
        blocks = [Section(b.key, b.value, literal(b.comment)) for b in blocks]
    out = CommentedYaml().comments(notes)
    for block in blocks:
        out.blank()
        if block.comment:
            out.comment(block.comment)
        out.entry(block.key, block.value)
    return header + out.text()


def check(text: str, major: int, expand_env: bool, doc: object) -> list[StrictError]:
    """Checker: what Tempo parses (after env expansion when enabled) must pass the strict model."""
    if not expand_env:
        return validate_tempo_config(doc, major)
    try:
        names = references(text)
        expanded = expand(text, {name: _CHECK_ENV.get(name, "") for name in names})
    except SubstitutionError as exc:
        return [StrictError("", f"-config.expand-env would fail: {exc}")]
    return validate_tempo_config(yaml.safe_load(expanded), major)


def render(plan: Plan) -> list[Artifact]:
    """``tempo/tempo.yaml``, checked against the strict model of the pinned Tempo major version."""
    text = render_text(plan)
    checker = partial(check, text, major_version(plan), uses_expand_env(plan))
    return [Artifact(PATH, text, checker)]
