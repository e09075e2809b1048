"""Which series the *rendered* span-metrics and service-graph producers can write, read from their config.

Nothing here comes from ``obsgen.naming``: metric names, label names and label values are derived from the
connector sections of the rendered ``otel-collector/*.yaml`` or the ``metrics_generator`` of the rendered
``tempo/tempo.yaml``, with the upstream semantics cited below, and from the spans the topology declares
(``obsgen.check.truth.declared_spans``).

Collector (contrib v0.159.0):

* ``connector/spanmetricsconnector/connector.go``: metrics ``<namespace>.calls``, ``<namespace>.duration``
  (histogram with ``histogram.unit``, default ms; none when ``histogram.disable``; exponential when
  ``histogram.exponential``) and ``<namespace>.events`` (when ``events.enabled``) (``buildMetricName``), each with
  its own extra ``dimensions``; attributes ``service.name``,
  ``span.name``, ``span.kind`` (``traceutil.SpanKindStr``: ``SPAN_KIND_SERVER`` ...), ``status.code``
  (``traceutil.StatusCodeStr``: ``STATUS_CODE_ERROR`` ...) unless listed in ``exclude_dimensions``, plus every
  ``dimensions``/``calls_dimensions`` name; the overflow series carries ``otel.metric.overflow``.
* ``connector/servicegraphconnector/connector.go``: ``traces_service_graph_request_total``,
  ``traces_service_graph_request_failed_total`` and the histograms ``traces_service_graph_request_server`` and
  ``traces_service_graph_request_client`` (unit ``s``); attributes ``client``, ``server``, ``connection_type``,
  ``failed`` (``buildDimensions``) and ``client_<d>``/``server_<d>`` per ``dimensions``. Edge names:
  ``aggregateMetrics`` (a CLIENT/PRODUCER span with one of ``database_name_attributes`` is a ``database`` edge
  named by that value; a SERVER/CONSUMER child names the server; PRODUCER/CONSUMER pairs are
  ``messaging_system``) and ``onExpire``/``getPeerHost`` (an unanswered client becomes a ``virtual_node`` named by
  the first ``virtual_node_peer_attributes`` value, else ``unknown``; a root server span gets client ``user``).
* ``exporter/prometheusremotewriteexporter`` (``add_metric_suffixes`` defaults to true): OTLP names become
  Prometheus names with ``.`` -> ``_``, the unit (``s`` -> ``_seconds``, ``ms`` -> ``_milliseconds``), ``_total``
  on monotonic sums and ``_bucket``/``_sum``/``_count`` on classic histograms; the resource's ``service.name``
  and ``service.instance.id`` become ``job`` and ``instance``.

Tempo metrics-generator (grafana/tempo ``modules/generator/processor/spanmetrics/spanmetrics.go`` and
``servicegraphs/servicegraphs.go``, 2.10 / 3.x): ``traces_spanmetrics_calls_total``, ``traces_spanmetrics_latency``
and ``traces_spanmetrics_size_total`` with ``service``, ``span_name``, ``span_kind``, ``status_code`` and the
sanitised ``dimensions``; the service graph's four series above (already in seconds) with ``client``, ``server``,
``connection_type`` and the dimensions; ``registry.external_labels`` on every series. Tempo names a database edge
differently from the connector (``upsertDatabaseRequest``): a span with one of ``database_name_attributes`` is a
database edge named by ``peer.service`` first, then ``server.address``, ``network.peer.address``, and only then
the database name; an unanswered client with no peer attribute is dropped (no ``unknown`` node).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from obsgen.check.truth import declared_spans as spans
from obsgen.spec.models import Spec

_SPANMETRICS_TYPES = frozenset({"spanmetrics", "span_metrics"})
_SERVICEGRAPH_TYPES = frozenset({"servicegraph", "service_graph"})
# connector.go defaults (spanmetrics DefaultNamespace; servicegraph defaultPeerAttributes and
# defaultDatabaseNameAttributes)
_DEFAULT_NAMESPACE = "traces.span.metrics"
_DEFAULT_PEER_ATTRIBUTES = ("peer.service", "db.name", "db.system")
_DEFAULT_DATABASE_NAME_ATTRIBUTES = ("db.name",)
_UNITS = {"s": "seconds", "ms": "milliseconds"}
# config.go defaultHistogramBucketsMs
_DEFAULT_BUCKETS_MS = (2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000)
_SPAN_KINDS = frozenset(
    f"SPAN_KIND_{k}" for k in ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"))
_STATUS_CODES = frozenset({"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"})
_SG = "traces_service_graph"


def section(path: str, doc: object) -> dict[str, object] | None:
    """The part of one rendered artifact that configures a span-metrics or service-graph producer, and its
    tail-sampling policies (small, so it can be sent back from the checking process), or None."""
    parts = PurePosixPath(path).parts
    if not isinstance(doc, dict):
        return None
    if parts[:1] == ("otel-collector",):
        from obsgen.check.truth.policy_reach import tail_sampling_policies

        found = _collector_section(doc) or {}
        policies = tail_sampling_policies(doc)
        if policies:
            found["tail_sampling"] = policies
        return found or None
    if parts[:1] == ("tempo",):
        return {"tempo": {"metrics_generator": doc.get("metrics_generator"), "overrides": doc.get("overrides")}}
    return None


def _collector_section(doc: dict[str, object]) -> dict[str, object] | None:
    connectors = doc.get("connectors") if isinstance(doc.get("connectors"), dict) else {}
    exporters = doc.get("exporters") if isinstance(doc.get("exporters"), dict) else {}
    pipelines = _get(doc.get("service"), "pipelines")
    pipelines = pipelines if isinstance(pipelines, dict) else {}
    # a connector produces only when some pipeline exports to it and some pipeline receives from it
    fed = {str(c) for p in pipelines.values() for c in _list(_get(p, "exporters"))}
    found: dict[str, object] = {}
    for cid, conf in connectors.items():
        ctype = str(cid).split("/")[0]
        if ctype not in _SPANMETRICS_TYPES | _SERVICEGRAPH_TYPES or str(cid) not in fed:
            continue
        out_exporters = [
            {"type": str(e).split("/")[0], "config": exporters.get(e) or {}}
            for p in pipelines.values() if str(cid) in map(str, _list(_get(p, "receivers")))
            for e in _list(_get(p, "exporters"))
        ]
        key = "spanmetrics" if ctype in _SPANMETRICS_TYPES else "servicegraph"
        found.setdefault(key, []).append({"config": conf or {}, "exporters": out_exporters})  # type: ignore[union-attr]
    return {"collector": found} if found else None


@dataclass
class SeriesSpace:
    """Every metric name the producers can write, the labels each carries, and the values some labels take."""

    metrics: dict[str, set[str]] = field(default_factory=dict)
    values: dict[str, set[str]] = field(default_factory=dict)
    """label -> every value it can take (only labels whose values the producers fix)."""
    edges: set[tuple[str, str]] = field(default_factory=set)
    """(client, server) pairs the service graph can report."""
    buckets: dict[str, set[float]] = field(default_factory=dict)
    """histogram ``_bucket`` metric -> its ``le`` boundaries (+Inf included)."""

    def add_metric(self, name: str, labels: Iterable[str]) -> None:
        """Record one producible metric."""
        self.metrics.setdefault(name, set()).update(labels)

    def add_values(self, label: str, values: Iterable[str]) -> None:
        """Record values one label can take."""
        self.values.setdefault(label, set()).update(values)

    def add_histogram(self, base: str, labels: set[str], bounds: list[float] | None) -> None:
        """A histogram: classic (``bounds``) as _bucket/_sum/_count, native (None) as one series."""
        if bounds is None:
            self.add_metric(base, labels)
            return
        self.add_metric(f"{base}_bucket", labels | {"le"})
        self.buckets.setdefault(f"{base}_bucket", set()).update([*bounds, math.inf])
        self.add_metric(f"{base}_sum", labels)
        self.add_metric(f"{base}_count", labels)


def prw_label(attribute: str) -> str:
    """A label name as the prometheusremotewrite exporter writes it (prometheus/otlptranslator v1.0.0
    ``LabelNamer.Build``: every run outside ``[A-Za-z0-9]`` -> one ``_``; a leading digit gets ``key_``; a
    leading single ``_`` gets ``key``)."""
    if len(attribute) >= 4 and attribute.startswith("__") and attribute.endswith("__"):
        return "__" + re.sub(r"[^A-Za-z0-9]+", "_", attribute[2:-2]) + "__"
    label = re.sub(r"[^A-Za-z0-9]+", "_", attribute)
    if label[:1].isdigit():
        return "key_" + label
    return "key" + label if label.startswith("_") else label


def scrape_label(attribute: str) -> str:
    """A label name as the prometheus (scrape) exporter and Tempo write it (each character outside
    ``[A-Za-z0-9_]`` -> ``_``; prometheus ``util/strutil.SanitizeLabelName``)."""
    label = re.sub(r"[^A-Za-z0-9_]", "_", attribute)
    return "key_" + label if label[:1].isdigit() else label


def _prom_metric(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_:]+", "_", name)


def _duration_seconds(text: object) -> float:
    from obsgen.spec.durations import parse_duration

    return parse_duration(str(text)).ns / 1e9


def space_of(sections: list[dict[str, object]], spec: Spec) -> SeriesSpace:
    """The series the rendered producers can write for the spans ``spec`` declares."""
    space = SeriesSpace()
    declared = spans.declare(spec)
    for sec in sections:
        collector = sec.get("collector")
        if isinstance(collector, dict):
            for item in _list(collector.get("spanmetrics")):
                _collector_spanmetrics(space, item, declared)
            for item in _list(collector.get("servicegraph")):
                _collector_servicegraph(space, item, declared)
        tempo = sec.get("tempo")
        if isinstance(tempo, dict):
            _tempo(space, tempo, declared)
    return space


def _exporter_naming(item: dict[str, object]) -> tuple[str, bool, set[str]]:
    """(metric name prefix, remote-write label naming, labels the delivery adds) of a connector's exporters."""
    prefix = ""
    remote_write = True
    added: set[str] = set()
    for exp in _list(item.get("exporters")):
        etype, conf = _get(exp, "type"), _get(exp, "config")
        if etype == "prometheus":
            remote_write = False
            added |= {"job", "instance"}  # Prometheus' own scrape labels
            ns = _get(conf, "namespace")
            prefix = f"{ns}_" if ns else ""
        elif etype == "prometheusremotewrite" or etype == "prometheus_remote_write":
            ns = _get(conf, "namespace")
            prefix = f"{ns}_" if ns else ""
        if _get(_get(conf, "resource_to_telemetry_conversion"), "enabled") is True:
            added.add("*")
    return prefix, remote_write, added


def _collector_spanmetrics(space: SeriesSpace, item: object, declared: spans.Declared) -> None:
    conf = _get(item, "config") or {}
    prefix, remote_write, added = _exporter_naming(item)  # type: ignore[arg-type]
    label = prw_label if remote_write else scrape_label
    excluded = set(_list(_get(conf, "exclude_dimensions")))
    intrinsic = {"service.name": "service_name", "span.name": "span_name", "span.kind": "span_kind",
                 "status.code": "status_code"}
    labels = {lbl for attr, lbl in intrinsic.items() if attr not in excluded}
    labels |= {label(str(_get(d, "name"))) for d in _list(_get(conf, "dimensions"))}
    calls_labels = labels | {label(str(_get(d, "name"))) for d in _list(_get(conf, "calls_dimensions"))}
    # job/instance from the spans' resource service.name / service.instance.id (remote write), or the scrape
    labels |= {"job", "instance", "otel_metric_overflow"} | added
    calls_labels |= labels
    namespace = _get(conf, "namespace")
    base = _prom_metric(f"{namespace if namespace is not None else _DEFAULT_NAMESPACE}")
    base = f"{prefix}{base}_" if base else prefix
    space.add_metric(f"{base}calls_total", calls_labels)
    histogram = _get(conf, "histogram") or {}
    if _get(histogram, "disable") is not True:
        # factory.go: milliseconds unless the (alpha) useSecondAsDefaultMetricsUnit gate is on
        unit = _UNITS.get(str(_get(histogram, "unit") or "ms"), "milliseconds")
        explicit = _get(histogram, "explicit")
        bounds = None
        if _get(histogram, "exponential") is None:  # connector.go: explicit buckets, else its defaults
            divider = 1.0 if unit == "seconds" else 1e-3
            buckets = _list(_get(explicit, "buckets"))
            bounds = ([_duration_seconds(b) / divider for b in buckets] if buckets
                      else [ms / 1000 / divider for ms in _DEFAULT_BUCKETS_MS])
        histogram_labels = labels | {label(str(_get(d, "name"))) for d in _list(_get(histogram, "dimensions"))}
        space.add_histogram(f"{base}duration_{unit}", histogram_labels, bounds)
    events = _get(conf, "events")
    if _get(events, "enabled") is True:
        space.add_metric(f"{base}events_total",
                         labels | {label(str(_get(d, "name"))) for d in _list(_get(events, "dimensions"))})
    _span_values(space, declared, "service_name", "span_name", "span_kind", "status_code")


def _span_values(space: SeriesSpace, declared: spans.Declared, service: str, span_name: str, kind: str,
                 status: str) -> None:
    space.add_values(service, declared.services)
    # every kind traceutil.SpanKindStr can name: a rule over all SERVER spans is fine when a topology declares none
    space.add_values(kind, _SPAN_KINDS)
    space.add_values(status, _STATUS_CODES)
    space.add_values(span_name, (n for names in declared.span_names.values() for n in names))


def _collector_servicegraph(space: SeriesSpace, item: object, declared: spans.Declared) -> None:
    conf = _get(item, "config") or {}
    prefix, remote_write, added = _exporter_naming(item)  # type: ignore[arg-type]
    label = prw_label if remote_write else scrape_label
    labels = {"client", "server", "connection_type", "failed"} | added
    for dim in _list(_get(conf, "dimensions")):
        labels |= {label(f"client_{dim}"), label(f"server_{dim}")}
    if _get(conf, "virtual_node_extra_label") is True:
        labels.add("virtual_node")
    buckets = _list(_get(conf, "latency_histogram_buckets"))
    bounds = [_duration_seconds(b) for b in buckets] if buckets else _CONNECTOR_DEFAULT_BOUNDS
    _service_graph_metrics(space, prefix, labels, bounds, messaging=False)
    db_attrs = tuple(map(str, _list(_get(conf, "database_name_attributes")))) or _DEFAULT_DATABASE_NAME_ATTRIBUTES
    peer = _get(conf, "virtual_node_peer_attributes")
    peer_attrs = _DEFAULT_PEER_ATTRIBUTES if peer is None else tuple(map(str, _list(peer)))
    for call in declared.calls:
        attrs = dict(call.attributes)
        db = next((attrs[a] for a in db_attrs if a in attrs), None)
        if db is not None:  # aggregateMetrics: a database edge at once, named by the attribute
            _edge(space, call.client, db, "database")
        elif call.answered_by:
            for server in call.answered_by:
                _edge(space, call.client, server, "messaging_system" if call.kind == spans.PRODUCER else "")
        elif peer_attrs:  # onExpire + getPeerHost
            _edge(space, call.client, next((attrs[a] for a in peer_attrs if a in attrs), "unknown"), "virtual_node")
    if peer_attrs:
        for entry in declared.entries:
            _edge(space, "user", entry, "virtual_node")
    space.add_values("failed", ("true", "false"))


# connector.go defaultLatencyHistogramBuckets (seconds), used when the rendered config sets none
_CONNECTOR_DEFAULT_BOUNDS = [0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15]


def _service_graph_metrics(space: SeriesSpace, prefix: str, labels: set[str], bounds: list[float] | None,
                           *, messaging: bool) -> None:
    space.add_metric(f"{prefix}{_SG}_request_total", labels)
    space.add_metric(f"{prefix}{_SG}_request_failed_total", labels)
    space.add_histogram(f"{prefix}{_SG}_request_server_seconds", labels, bounds)
    space.add_histogram(f"{prefix}{_SG}_request_client_seconds", labels, bounds)
    if messaging:
        space.add_histogram(f"{prefix}{_SG}_request_messaging_system_seconds", labels, bounds)


def _edge(space: SeriesSpace, client: str, server: str, connection_type: str) -> None:
    space.edges.add((client, server))
    space.add_values("client", [client])
    space.add_values("server", [server])
    space.add_values("connection_type", [connection_type])


def _tempo(space: SeriesSpace, tempo: dict[str, object], declared: spans.Declared) -> None:
    generator = tempo.get("metrics_generator")
    processor = _get(generator, "processor") or {}
    overrides = tempo.get("overrides")
    settings = _get(_get(overrides, "defaults"), "metrics_generator") or {}
    listed = _list(_get(settings, "processors")) or _list(_get(overrides, "metrics_generator_processors"))
    processors = set(map(str, listed))
    native = str(_get(settings, "generate_native_histograms") or "classic")
    external = set(map(str, (_get(_get(generator, "registry"), "external_labels") or {}).keys()))

    def bounds_of(conf: object) -> list[float] | None:
        return None if native == "native" else [float(b) for b in _list(_get(conf, "histogram_buckets"))]

    sm = _get(processor, "span_metrics") or {}
    if processors & {"span-metrics", "span-metrics-count", "span-metrics-latency", "span-metrics-size"}:
        intrinsic = {"service": True, "span_name": True, "span_kind": True, "status_code": True,
                     "status_message": False}
        intrinsic.update({str(k): bool(v) for k, v in (_get(sm, "intrinsic_dimensions") or {}).items()})
        labels = {k for k, on in intrinsic.items() if on}
        labels |= {scrape_label(str(d)) for d in _list(_get(sm, "dimensions"))} | external
        if processors & {"span-metrics", "span-metrics-count"}:
            space.add_metric("traces_spanmetrics_calls_total", labels)
        if processors & {"span-metrics", "span-metrics-latency"}:
            space.add_histogram("traces_spanmetrics_latency", labels, bounds_of(sm))
        if processors & {"span-metrics", "span-metrics-size"}:
            space.add_metric("traces_spanmetrics_size_total", labels)
        _span_values(space, declared, "service", "span_name", "span_kind", "status_code")
    if processors & {"service-graphs", "service-graphs-request", "service-graphs-latency"}:
        sg = _get(processor, "service_graphs") or {}
        labels = {"client", "server", "connection_type"} | external
        prefixed = _get(sg, "enable_client_server_prefix") is True
        for dim in map(str, _list(_get(sg, "dimensions"))):
            both = {scrape_label(f"client_{dim}"), scrape_label(f"server_{dim}")}
            labels |= both if prefixed else {scrape_label(dim)}
        if _get(sg, "enable_virtual_node_label") is True:
            labels.add("virtual_node")
        _service_graph_metrics(space, "", labels, bounds_of(sg),
                               messaging=_get(sg, "enable_messaging_system_latency_histogram") is True)
        _tempo_edges(space, sg, declared)


def _tempo_edges(space: SeriesSpace, sg: object, declared: spans.Declared) -> None:
    # Tempo's own default lists when the config sets none (config.go: db.name/db.namespace and the peer list)
    db_attrs = tuple(map(str, _list(_get(sg, "database_name_attributes")))) or ("db.name", "db.namespace")
    peer = _get(sg, "peer_attributes")
    peer_attrs = tuple(map(str, _list(peer))) if peer is not None else _DEFAULT_PEER_ATTRIBUTES
    for call in declared.calls:
        attrs = dict(call.attributes)
        db = next((attrs[a] for a in db_attrs if a in attrs), None)
        if db is not None:  # upsertDatabaseRequest: peer.service, then server.address, then the database name
            _edge(space, call.client, attrs.get("peer.service", db), "database")
        elif call.answered_by:
            for server in call.answered_by:
                _edge(space, call.client, server, "messaging_system" if call.kind == spans.PRODUCER else "")
        else:  # onExpire: a peer attribute names a virtual node; without one the edge is dropped
            node = next((attrs[a] for a in peer_attrs if a in attrs), None)
            if node is not None:
                _edge(space, call.client, node, "virtual_node")
    for entry in declared.entries:
        _edge(space, "user", entry, "virtual_node")


def _get(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, dict) else None


def _list(obj: object) -> list[object]:
    return obj if isinstance(obj, list) else []
