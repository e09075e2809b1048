"""Component blocks of the Collector configs, as plain data plus the comments that explain them.

Every id comes from ``obsgen.targets.collector.strict.config.component_ids`` for the pinned version; every spec
string is escaped with ``collector_values.escape_values`` before it is placed in a block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from obsgen.plan import Plan, naming
from obsgen.plan.service_graph import DATABASE_NAME_ATTRIBUTES, PEER_ATTRIBUTES
from obsgen.spec.versions import version_tuple
from obsgen.targets.collector.policies import RenderedPolicy, render_policies
from obsgen.targets.collector.strict.config import component_ids
from obsgen.targets.collector.strict.tailsampling import DECISION_WAIT_AFTER_ROOT_SINCE
from obsgen.targets.collector.values import (
    SERVICE_GRAPH_STORE_TTL,
    collector_literal,
    edge_store_sizing,
    env_reference,
    memory_sizing,
    trace_buffer_sizing,
)

OTLP_GRPC_ENDPOINT = "0.0.0.0:4317"
OTLP_HTTP_ENDPOINT = "0.0.0.0:4318"
OTLP_GRPC_PORT = 4317
HEALTH_CHECK_ENDPOINT = "0.0.0.0:13133"
TELEMETRY_HOST = "0.0.0.0"
TELEMETRY_PORT = 8888
SCRAPE_ENDPOINT = "0.0.0.0:8889"
# Set on every Collector pod (Kubernetes sets HOSTNAME to the pod name); distinguishes replicas.
INSTANCE_ENV = "HOSTNAME"
SPAN_METRICS_NAMESPACE = "traces.span.metrics"
# prometheusremotewriteexporter config.go (v0.158.0+): the squashed top-level HTTP client settings are
# "Deprecated [v0.158.0]: configure client http settings under `http` block"; the alpha gate
# exporter.prometheusremotewritexporter.removeTopLevelHTTPSettings already rejects them.
REMOTE_WRITE_HTTP_BLOCK_SINCE = (0, 158, 0)
FORWARD_NAME = "sampling"
TEMPO_EXPORTER_NAME = "tempo"


class Entry(NamedTuple):
    """One key of a component body; ``items`` (a policy list) gets a comment per item."""

    key: str
    value: object = None
    comments: tuple[str, ...] = ()
    items: tuple[RenderedPolicy, ...] | None = None


class Component(NamedTuple):
    """A component definition: id, comment lines above it, body keys in order."""

    id: str
    entries: tuple[Entry, ...] = ()
    comments: tuple[str, ...] = ()


def body(data: dict[str, object], comments: dict[str, list[str]] | None = None) -> tuple[Entry, ...]:
    """Entries for a plain mapping, with optional comments per key."""
    notes = comments or {}
    return tuple(Entry(key, value, tuple(notes.get(key, ()))) for key, value in data.items())


class Pipeline(NamedTuple):
    """A service pipeline: id, comment, receivers, processors, exporters."""

    id: str
    receivers: list[str]
    processors: list[str]
    exporters: list[str]
    comments: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        """The pipeline body."""
        return {"receivers": self.receivers, "processors": self.processors, "exporters": self.exporters}


@dataclass
class Config:
    """One Collector config file, section by section."""

    title: list[str]
    extensions: list[Component] = field(default_factory=list)
    receivers: list[Component] = field(default_factory=list)
    processors: list[Component] = field(default_factory=list)
    connectors: list[Component] = field(default_factory=list)
    exporters: list[Component] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)


class Ids:
    """Component ids for the pinned version (the rename table lives in obsgen.targets.collector.strict.config)."""

    def __init__(self, plan: Plan) -> None:
        self.version = version_tuple(plan.spec.stack.collector)
        ids = component_ids(self.version)
        self.otlp_receiver = ids["otlp_receiver"]
        self.memory_limiter = ids["memory_limiter"]
        self.tail_sampling = ids["tail_sampling"]
        self.batch = ids["batch"]
        self.span_metrics = ids["span_metrics"]
        self.service_graph = ids["service_graph"]
        self.forward = f"{ids['forward']}/{FORWARD_NAME}"
        self.tempo = f"{ids['otlp_exporter']}/{TEMPO_EXPORTER_NAME}"
        self.remote_write = ids["prometheus_remote_write"]
        self.prometheus = ids["prometheus_exporter"]
        self.load_balancing = ids["load_balancing"]
        self.health_check = "health_check"

    def metrics_exporter(self, plan: Plan) -> str:
        """The exporter the spec chose for span metrics and service-graph metrics."""
        return self.remote_write if plan.spec.collector.metrics_export == "remote_write" else self.prometheus


def telemetry() -> dict[str, object]:
    """The Collector's own metrics on 0.0.0.0:8888, named as obsgen.plan.naming expects.

    Since core v0.152.0 a pull reader defaults to ``without_type_suffix: true`` (core PR #15027), so
    counters lose ``_total``; before it an explicit reader kept the suffix. Writing the options makes
    the names (``otelcol_..._total``) the same on every version.
    """
    return {
        "metrics": {
            "level": "normal",
            "readers": [
                {
                    "pull": {
                        "exporter": {
                            "prometheus": {
                                "host": TELEMETRY_HOST,
                                "port": TELEMETRY_PORT,
                                "without_type_suffix": False,
                                "without_units": True,
                                "without_scope_info": True,
                            }
                        }
                    }
                }
            ],
        }
    }


def health_check() -> Component:
    """Liveness/readiness endpoint for the orchestrator."""
    return Component("health_check", body({"endpoint": HEALTH_CHECK_ENDPOINT}))


def otlp_receiver(ids: Ids) -> Component:
    """OTLP on all interfaces: the upstream default binds localhost, unreachable in a container."""
    protocols = {"grpc": {"endpoint": OTLP_GRPC_ENDPOINT}, "http": {"endpoint": OTLP_HTTP_ENDPOINT}}
    return Component(
        ids.otlp_receiver,
        body({"protocols": protocols}),
        ("OTLP gRPC :4317 and HTTP :4318 on every interface (the default, localhost, is unreachable "
         "from other containers).",),
    )


def memory_limiter(plan: Plan, ids: Ids, *, tail_sampling: bool) -> Component:
    """memory_limiter sized from the container limit, arithmetic in the comment.

    A tier that tail-samples (the single collector, a sampler) takes the plan's sampler limit, the one its
    pod gets (with a kubernetes section it may follow the memory estimate); the gateway takes
    ``collector.memory_limit_mib``.
    """
    limit = plan.spec.collector.memory_limit_mib
    sizing = plan.sampler_memory.limiter() if tail_sampling else memory_sizing(limit)
    data = {"check_interval": "1s", "limit_mib": sizing.limit_mib, "spike_limit_mib": sizing.spike_limit_mib}
    return Component(ids.memory_limiter, body(data), tuple(sizing.comments()))


def batch(ids: Ids) -> Component:
    """Batching after tail sampling (sampling regroups spans by trace anyway)."""
    return Component(ids.batch, body({"send_batch_size": 8192, "timeout": "200ms"}))


def tail_sampling(plan: Plan, ids: Ids, replicas: int) -> Component:
    """tail_sampling: buffer sized from the spec's traffic, policies in spec order."""
    sampling = plan.spec.sampling
    sizing = trace_buffer_sizing(sampling.expected_traces_per_second, sampling.decision_wait,
                                 sampling.headroom, replicas)
    entries = [Entry("decision_wait", sampling.decision_wait.go(),
                     ("Wait after a trace's first span before deciding.",))]
    after_root = sampling.decision_wait_after_root_received
    if after_root is not None and ids.version >= DECISION_WAIT_AFTER_ROOT_SINCE:
        entries.append(Entry("decision_wait_after_root_received", after_root.go(),
                             ("Decide sooner once the root span has arrived.",)))
    entries.append(Entry("num_traces", sizing.num_traces, (sizing.num_traces_comment(),)))
    entries.append(Entry("expected_new_traces_per_sec", sizing.new_traces_per_second))
    entries.append(Entry(
        "decision_cache",
        {"sampled_cache_size": sizing.decision_cache_size, "non_sampled_cache_size": sizing.decision_cache_size},
        (sizing.cache_comment(),),
    ))
    entries.append(Entry("policies", items=tuple(render_policies(plan))))
    comments = ["Policies combine with OR; a drop policy that matches wins over every keep."]
    if after_root is not None and ids.version < DECISION_WAIT_AFTER_ROOT_SINCE:
        comments.append(
            f"sampling.decision_wait_after_root_received ({after_root.go()}) is not written: Collector "
            f"{plan.spec.stack.collector} predates it (v0.144.0)."
        )
    return Component(ids.tail_sampling, tuple(entries), tuple(comments))


def _seconds(plan: Plan) -> list[str]:
    return [b.go() for b in plan.buckets]


def span_metrics(plan: Plan, ids: Ids) -> Component:
    """RED metrics from every span before sampling, named as obsgen.plan.naming.COLLECTOR_SPAN_METRICS."""
    sm = plan.spec.span_metrics
    dimensions: list[dict[str, object]] = []
    for name, default in plan.dimensions:
        dim: dict[str, object] = {"name": collector_literal(name)}
        if default is not None:
            dim["default"] = collector_literal(default)
        dimensions.append(dim)
    data: dict[str, object] = {
        "namespace": SPAN_METRICS_NAMESPACE,
        "histogram": {"unit": "s", "explicit": {"buckets": _seconds(plan)}},
    }
    if dimensions:
        data["dimensions"] = dimensions
    data["exemplars"] = {"enabled": True}
    data["aggregation_cardinality_limit"] = sm.cardinality_limit
    data["metrics_flush_interval"] = plan.spec.backends.prometheus.scrape_interval.go()
    names = plan.span_metrics
    comments = {
        "histogram": ["Seconds, and every SLO latency threshold is a bucket boundary, so latency SLOs are exact."],
        "aggregation_cardinality_limit": [
            # spanmetricsconnector internal/metrics/metrics.go (v0.159.0): the limit counts series per
            # resource; past it, new ones go to one series whose only attribute is otel.metric.overflow.
            "Cardinality guard, per resource (each service instance): past this many series, new label "
            "combinations go to one series whose only attribute is otel.metric.overflow=true (no "
            "service_name, span_name or status_code labels)."
            if sm.cardinality_limit else "0 = unlimited (span_metrics.cardinality_limit): no cardinality guard."
        ],
        "metrics_flush_interval": ["One update per Prometheus scrape interval."],
    }
    return Component(
        ids.span_metrics,
        body(data, comments),
        (
            "RED metrics from every span, before sampling: request rates and error ratios count every request.",
            f"Series: {names.calls}, {names.duration_bucket} (label {names.service_label}).",
        ),
    )


def service_graph(plan: Plan, ids: Ids, replicas: int) -> Component:
    """Service graph before sampling; edges pair up because all spans of a trace are on this instance."""
    sampling = plan.spec.sampling
    store = edge_store_sizing(sampling.expected_traces_per_second, len(plan.declared_calls), sampling.headroom,
                              replicas)
    data = {
        "latency_histogram_buckets": _seconds(plan),
        "store": {"ttl": SERVICE_GRAPH_STORE_TTL.go(), "max_items": store.max_items},
        "database_name_attributes": list(DATABASE_NAME_ATTRIBUTES),
        "virtual_node_peer_attributes": list(PEER_ATTRIBUTES),
        "metrics_flush_interval": plan.spec.backends.prometheus.scrape_interval.go(),
    }
    naming_comments = {
        "store": [store.comment()],
        "database_name_attributes": [
            "A client span with one of these is a database edge at once: server = its value (the spec's db_name)."],
        "virtual_node_peer_attributes": [
            "A client span unanswered after store.ttl names its server after the first of these it carries",
            "(the spec's peer_service, db_name, db_system, messaging_system); producer -> consumer otherwise."],
    }
    return Component(
        ids.service_graph,
        body(data, naming_comments),
        (f"Service graph from every span, before sampling: {naming.SERVICE_GRAPH.request_total} and friends.",),
    )


def forward(ids: Ids) -> Component:
    """The hand-off from the ingest pipeline to the sampling pipeline."""
    return Component(ids.forward, (), ("Hands every span from traces/ingest to traces/sampling.",))


def tempo_exporter(plan: Plan, ids: Ids) -> Component:
    """OTLP gRPC to Tempo's distributor (plaintext inside the cluster)."""
    tempo = plan.spec.backends.tempo
    data: dict[str, object] = {"endpoint": collector_literal(tempo.otlp_endpoint), "tls": {"insecure": True}}
    if tempo.tenant:
        data["headers"] = {"X-Scope-OrgID": collector_literal(tempo.tenant)}
    return Component(ids.tempo, body(data), ("Kept traces to Tempo.",))


def metrics_exporter(plan: Plan, ids: Ids, *, instance_label: bool, what: str) -> Component:
    """Span and service-graph metrics to Prometheus, pushed or exposed for scraping.

    With several replicas each one writes the same series names and labels; ``instance_label`` adds
    the pod name so their series do not collide (out-of-order samples, counter resets).
    """
    labels = {naming.COLLECTOR_INSTANCE_LABEL: env_reference(INSTANCE_ENV)} if instance_label else None
    comments: list[str] = []
    if plan.spec.collector.metrics_export == "remote_write":
        endpoint = collector_literal(plan.spec.backends.prometheus.remote_write_url)
        data: dict[str, object] = (
            {"http": {"endpoint": endpoint}} if ids.version >= REMOTE_WRITE_HTTP_BLOCK_SINCE else {"endpoint": endpoint}
        )
        if labels:
            data["external_labels"] = labels
        comments.append(f"Pushes {what} (with exemplars) to Prometheus remote write.")
        component_id = ids.remote_write
    else:
        data = {"endpoint": SCRAPE_ENDPOINT, "enable_open_metrics": True}
        if labels:
            data["const_labels"] = labels
        comments.append(f"Exposes {what} on :8889 for Prometheus to scrape (OpenMetrics, for exemplars).")
        component_id = ids.prometheus
    if labels:
        comments.append(
            f"{naming.COLLECTOR_INSTANCE_LABEL} = pod name (${INSTANCE_ENV}): replicas write distinct series."
        )
    return Component(component_id, body(data), tuple(comments))


def k8s_service(name: str) -> str:
    """``name.namespace`` for the k8s resolver, from a service DNS name if one was given.

    The resolver splits on the first dot (service, namespace), so the cluster DNS suffix of
    ``<svc>.<ns>.svc.cluster.local`` (the spec's default, written for the dns resolver) must go.
    """
    head, sep, _ = name.partition(".svc.")
    if sep:
        return head
    return name.removesuffix(".svc")


def load_balancing(plan: Plan, ids: Ids) -> Component:
    """Trace-id affinity to the sampler tier through its headless service."""
    collector = plan.spec.collector
    if collector.resolver == "dns":
        hostname = collector_literal(collector.sampler_service)
        resolver: dict[str, object] = {"dns": {"hostname": hostname, "port": str(OTLP_GRPC_PORT)}}
    else:
        service = collector_literal(k8s_service(collector.sampler_service))
        resolver = {"k8s": {"service": service, "ports": [OTLP_GRPC_PORT]}}
    data = {
        "routing_key": "traceID",
        "protocol": {"otlp": {"tls": {"insecure": True}}},
        "resolver": resolver,
    }
    return Component(
        ids.load_balancing,
        body(data, {"protocol": ["A template: the endpoint is filled in per sampler replica."]}),
        (
            "Every span of a trace goes to the same sampler replica (consistent hashing on the trace id);",
            f"the replicas are found through the headless service {collector.sampler_service}.",
        ),
    )
