"""Naming truth: every metric name, label name, label value and datasource UID obsgen emits.

Dashboards, rules, datasources and cross-artifact checks ask this module; none of them types a
metric or label name. The two span-metrics sources name things differently (reference:
collector.md §3.3, tempo-grafana.md §2), and getting that wrong is the drift obsgen exists to stop.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from obsgen.spec.durations import Duration

Source = Literal["collector", "tempo"]

# Label values both sources write (OTLP enum names, reference collector.md §3.2).
STATUS_ERROR = "STATUS_CODE_ERROR"
STATUS_OK = "STATUS_CODE_OK"
KIND_SERVER = "SPAN_KIND_SERVER"
KIND_CLIENT = "SPAN_KIND_CLIENT"
KIND_CONSUMER = "SPAN_KIND_CONSUMER"
# The spans a service handles work in: requests (server) and, for a service that consumes a queue, messages
# (consumer). A consumer-only service has no server spans at all, so a server-only selector leaves its
# panels, recordings and SLOs empty.
ENTRY_KINDS_REGEX = f"{KIND_SERVER}|{KIND_CONSUMER}"


def entry_kind_matcher(consumes_queue: bool) -> tuple[str, str]:
    """(operator, value) of the span-kind matcher for a service's entry spans."""
    return ("=~", ENTRY_KINDS_REGEX) if consumes_queue else ("=", KIND_SERVER)


def label_from_attribute(attribute: str, *, remote_write_exporter: bool = False) -> str:
    """The Prometheus label a span attribute arrives as, from the component that names it.

    Neither producer keeps UTF-8 names as obsgen configures them, whatever Prometheus 3 would accept: the
    Collector's exporters run without ``translation_strategy`` (``utf8Allowed = false``: contrib v0.159.0
    ``pkg/translator/prometheusremotewrite/metrics_to_prw.go`` and ``exporter/prometheusexporter/collector.go``
    ``getTranslationConfiguration``), and Tempo always sanitises. They differ in how:

    - the Collector's prometheusremotewrite exporter (``remote_write_exporter``): prometheus/otlptranslator
      v1.0.0 ``LabelNamer.Build`` with ``UnderscoreLabelSanitization`` on and ``PreserveMultipleUnderscores`` off
      (the ``PermissiveLabelSanitization`` gate that flips both is alpha, off): every run of characters outside
      ``[A-Za-z0-9]`` -- underscores included -- becomes one ``_`` (``strconv.go`` ``sanitizeLabelName``), and a
      name that then starts with a single ``_`` gets a ``key`` prefix. ``a__b`` -> ``a_b``, ``_x`` -> ``key_x``.
    - the Collector's prometheus (scrape) exporter: the same ``Build`` with ``PreserveMultipleUnderscores`` on and
      no ``key`` prefix for ``_``; Tempo: prometheus ``util/strutil.SanitizeLabelName`` (grafana/tempo
      ``modules/generator/processor/spanmetrics`` ``sanitizeLabelNameWithCollisions``). Both replace each
      character outside ``[A-Za-z0-9_]`` with ``_``: ``a._b`` -> ``a__b``.

    All three turn ``http.request.method`` into ``http_request_method``.
    """
    if remote_write_exporter:
        reserved = len(attribute) >= 4 and attribute.startswith("__") and attribute.endswith("__")
        label = re.sub(r"[^A-Za-z0-9]+", "_", attribute[2:-2] if reserved else attribute)
        label = f"__{label}__" if reserved else label
        if label[:1].isdigit():
            return "key_" + label
        return "key" + label if label.startswith("_") and not label.startswith("__") else label
    label = re.sub(r"[^A-Za-z0-9_]", "_", attribute)
    return "key_" + label if label[:1].isdigit() else label


def format_le(seconds: float) -> str:
    """A bucket boundary as Go's strconv.FormatFloat(v, 'f', -1, 64) writes it (``0.5``, ``1``)."""
    text = repr(float(seconds))
    if "e" in text or "E" in text:
        text = f"{seconds:.12f}".rstrip("0").rstrip(".")
    return text[:-2] if text.endswith(".0") else text


class SpanMetricsNames(NamedTuple):
    """Metric and label names one span-metrics source produces in Prometheus."""

    source: Source
    calls: str
    duration_bucket: str
    duration_sum: str
    duration_count: str
    service_label: str
    span_name_label: str = "span_name"
    span_kind_label: str = "span_kind"
    status_code_label: str = "status_code"
    exemplar_label: str = "traceID"
    job_label: str = "job"

    @property
    def produced_metrics(self) -> frozenset[str]:
        """Every series name this source writes."""
        return frozenset({self.calls, self.duration_bucket, self.duration_sum, self.duration_count})

    @property
    def intrinsic_labels(self) -> frozenset[str]:
        """Labels every series of this source carries."""
        return frozenset({self.service_label, self.span_name_label, self.span_kind_label, self.status_code_label})


COLLECTOR_SPAN_METRICS = SpanMetricsNames(
    source="collector",
    # the connector's namespace traces.span.metrics + unit s (obsgen sets histogram.unit: s) + _total/_seconds
    calls="traces_span_metrics_calls_total",
    duration_bucket="traces_span_metrics_duration_seconds_bucket",
    duration_sum="traces_span_metrics_duration_seconds_sum",
    duration_count="traces_span_metrics_duration_seconds_count",
    service_label="service_name",
    exemplar_label="trace_id",
)
TEMPO_SPAN_METRICS = SpanMetricsNames(
    source="tempo",
    calls="traces_spanmetrics_calls_total",
    duration_bucket="traces_spanmetrics_latency_bucket",
    duration_sum="traces_spanmetrics_latency_sum",
    duration_count="traces_spanmetrics_latency_count",
    service_label="service",
    exemplar_label="traceID",
)


def span_metrics(source: Source) -> SpanMetricsNames:
    """Names for the configured span-metrics source."""
    return COLLECTOR_SPAN_METRICS if source == "collector" else TEMPO_SPAN_METRICS


class ServiceGraphNames(NamedTuple):
    """Service-graph series; the Collector connector and Tempo's generator share these names."""

    request_total: str = "traces_service_graph_request_total"
    request_failed_total: str = "traces_service_graph_request_failed_total"
    server_bucket: str = "traces_service_graph_request_server_seconds_bucket"
    server_sum: str = "traces_service_graph_request_server_seconds_sum"
    server_count: str = "traces_service_graph_request_server_seconds_count"
    client_bucket: str = "traces_service_graph_request_client_seconds_bucket"
    client_label: str = "client"
    server_label: str = "server"
    connection_type_label: str = "connection_type"

    @property
    def produced_metrics(self) -> frozenset[str]:
        """Every series name the service graph writes."""
        return frozenset({
            self.request_total, self.request_failed_total, self.server_bucket, self.server_sum,
            self.server_count, self.client_bucket,
        })


SERVICE_GRAPH = ServiceGraphNames()


class TailSamplingNames(NamedTuple):
    """The Collector's own tail-sampling telemetry as scraped from :8888 (counters get ``_total``)."""

    count_traces_sampled: str = "otelcol_processor_tail_sampling_count_traces_sampled_total"
    global_count_traces_sampled: str = "otelcol_processor_tail_sampling_global_count_traces_sampled_total"
    new_trace_id_received: str = "otelcol_processor_tail_sampling_new_trace_id_received_total"
    dropped_too_early: str = "otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total"
    traces_on_memory: str = "otelcol_processor_tail_sampling_sampling_traces_on_memory"
    policy_label: str = "policy"
    sampled_label: str = "sampled"
    decision_label: str = "decision"

    @property
    def produced_metrics(self) -> frozenset[str]:
        """Every tail-sampling series obsgen reads."""
        return frozenset({
            self.count_traces_sampled, self.global_count_traces_sampled, self.new_trace_id_received,
            self.dropped_too_early, self.traces_on_memory,
        })


TAIL_SAMPLING = TailSamplingNames()


class CollectorHealthNames(NamedTuple):
    """Collector pipeline self-metrics (core, scraped from :8888)."""

    receiver_refused_spans: str = "otelcol_receiver_refused_spans_total"
    receiver_accepted_spans: str = "otelcol_receiver_accepted_spans_total"
    exporter_send_failed_spans: str = "otelcol_exporter_send_failed_spans_total"
    exporter_sent_spans: str = "otelcol_exporter_sent_spans_total"
    tempo_series_limited: str = "tempo_metrics_generator_registry_series_limited_total"

    @property
    def produced_metrics(self) -> frozenset[str]:
        """Every health series obsgen reads."""
        return frozenset({
            self.receiver_refused_spans, self.receiver_accepted_spans, self.exporter_send_failed_spans,
            self.exporter_sent_spans, self.tempo_series_limited,
        })


COLLECTOR_HEALTH = CollectorHealthNames()

# Prometheus scrape jobs of the Collector's own metrics (:8888), per layout: the rendered
# prometheus/prometheus.yaml defines them and the CollectorDown alert reads ``up`` of each.
COLLECTOR_JOB = "otelcol"
COLLECTOR_GATEWAY_JOB = "otelcol-gateway"
COLLECTOR_SAMPLER_JOB = "otelcol-sampler"
COLLECTOR_SPAN_METRICS_JOB = "otelcol-span-metrics"
"""Span metrics exposed on :8889 (``collector.metrics_export: scrape``)."""
UP_METRIC = "up"


def collector_jobs(replicas: int) -> tuple[str, ...]:
    """The self-metrics scrape jobs of a layout: one Collector, or a gateway and a sampler tier."""
    return (COLLECTOR_JOB,) if replicas <= 1 else (COLLECTOR_GATEWAY_JOB, COLLECTOR_SAMPLER_JOB)


# Label the Collector adds to the metrics it computes in a scale-out tier, one value per replica, so
# replicas writing the same series do not collide (queries aggregate it away with sum by (...)).
COLLECTOR_INSTANCE_LABEL = "collector_instance"
# Tempo's metrics-generator adds this external label to every series it remote-writes.
TEMPO_SOURCE_LABEL = "source"
TEMPO_SOURCE_VALUE = "tempo"


def policy_label_value(policy_name: str, processor_name: str = "") -> str:
    """Value of the ``policy`` label for a top-level policy (``<processor name>.<policy>`` when named)."""
    return f"{processor_name}.{policy_name}" if processor_name else policy_name


def bucket_seconds(buckets: list[Duration]) -> list[float]:
    """Bucket boundaries in seconds (both sources write seconds with obsgen's settings)."""
    return [b.ns / 1e9 for b in buckets]


# ------------------------------------------------------------------------------------------------
# Recording rules: the aggregated series alerts and dashboards read (Prometheus level:metric:ops).
# The rules target defines them; everything else asks for them here.

RecordLevel = Literal["service", "endpoint", "edge", "slo"]

# Burn-rate windows of the SRE workbook for a 30d SLO window (long, short, factor); scaled per SLO.
BURN_RATE_TIERS: tuple[tuple[str, str, str, float], ...] = (
    # severity, long window, short window, burn-rate factor
    ("page", "1h", "5m", 14.4),
    ("page", "6h", "30m", 6.0),
    ("ticket", "1d", "2h", 3.0),
    ("ticket", "3d", "6h", 1.0),
)
REFERENCE_SLO_WINDOW_SECONDS = 30 * 24 * 3600


def recorded(level: RecordLevel, measure: str, window: str) -> str:
    """Name of a recorded series, e.g. ``service:obsgen_requests:rate5m``.

    ``measure`` is one of ``requests`` (req/s), ``errors`` (failed req/s), ``error_ratio``,
    ``latency_seconds_p50|p95|p99``, ``sli_error`` (SLO error ratio, for level ``slo``).
    """
    if not re.fullmatch(r"[a-z0-9_]+", measure) or not re.fullmatch(r"\d+[smhdw]", window):
        raise ValueError(f"bad recording rule parts {measure!r} {window!r}")
    op = "ratio_rate" if measure in ("error_ratio", "sli_error") else "rate"
    return f"{level}:obsgen_{measure}:{op}{window}"


DECLARED_CALL = "edge:obsgen_declared_call:info"
"""A constant series (value 1) per call the spec declares, labelled with the service graph's client and
server labels: dashboards compare the observed graph with the declared one by reading these, instead
of carrying every declared edge in their queries (5,000 terms for 1,000 services)."""

DECLARED_SERVICE = "service:obsgen_declared_service:info"
"""A constant series (value 1) per instrumented service, labelled with its ``service_name``, its ``team`` (the
routing label that differs between services) and whether the shared error-ratio alert covers it: the alerts
that are one rule over every service read what differs per service from these, by label."""

SLO_LABEL = "slo"
SLO_KIND_LABEL = "slo_kind"  # "availability" | "latency"


# ------------------------------------------------------------------------------------------------
# Alerts and the extra labels the rules target writes or reads (owned by the rules target).

SEVERITY_LABEL = "severity"
SEVERITY_PAGE = "page"
SEVERITY_TICKET = "ticket"
SEVERITIES: tuple[str, ...] = (SEVERITY_PAGE, SEVERITY_TICKET)
TEAM_LABEL = "team"  # a service's ``team`` overrides alerting.labels.team on its alerts
LE_LABEL = "le"
JOB_LABEL = "job"
INSTANCE_LABEL = "instance"
TEMPO_TENANT_LABEL = "tenant"  # tempo_metrics_generator_registry_* carry the tenant id

# Recorded measures beyond the ones ``recorded`` documents (same naming scheme):
#   ``spans`` (all span kinds, req/s; proves a service emits span metrics at all),
#   ``latency_seconds_bucket`` (per-``le`` bucket rates, to compute any quantile from cheap series),
#   ``sli_requests`` / ``sli_errors`` (an SLO's events and bad events per second, level ``slo``).
RED_WINDOWS: tuple[str, ...] = ("5m", "1h")
"""Windows of the service, endpoint and edge recordings (dashboards read these)."""
LATENCY_QUANTILES: tuple[tuple[str, float], ...] = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
"""Recorded latency quantiles: measure suffix and quantile."""


class AlertNames(NamedTuple):
    """Every alert name obsgen writes (CamelCase, fixed: the spec only selects them via labels)."""

    service_error_ratio: str = "ServiceHighErrorRatio"
    slo_availability_burn: str = "SLOErrorBudgetBurn"
    slo_latency_burn: str = "SLOLatencyBudgetBurn"
    edge_failing: str = "ServiceGraphEdgeFailing"
    edge_no_traffic: str = "ServiceGraphEdgeNoTraffic"
    span_metrics_absent: str = "SpanMetricsAbsent"
    tail_sampling_dropped_too_early: str = "TailSamplingDroppedTooEarly"
    collector_refusing_spans: str = "CollectorRefusingSpans"
    collector_export_failing: str = "CollectorExportFailing"
    collector_down: str = "CollectorDown"
    tempo_series_limited: str = "TempoGeneratorSeriesLimited"


ALERTS = AlertNames()


# ------------------------------------------------------------------------------------------------
# Windows of the recorded SLO series, scaled to each SLO's window (rules record them, dashboards read them)


def window_text(minutes: int) -> str:
    """A Prometheus duration in one unit (``5m``, ``1h``, ``336m``, ``3d``) so it fits rule names."""
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def minutes_of(text: str) -> int:
    """Minutes in a ``5m``/``1h``/``3d`` window."""
    unit = {"m": 1, "h": 60, "d": 1440, "w": 10080}[text[-1]]
    return int(text[:-1]) * unit


BASE_WINDOW_MINUTES = 5
"""The one window computed from raw series; every longer window is derived from it (issue #9)."""


class BurnTier(NamedTuple):
    """One multiwindow condition: burn rate over ``factor`` in both windows."""

    severity: str
    long: str
    short: str
    factor: float


def burn_tiers(slo_window: Duration) -> tuple[BurnTier, ...]:
    """The SRE workbook's page/ticket windows (BURN_RATE_TIERS, for 30d) scaled to ``slo_window``.

    A burn factor means "this share of the whole budget per this share of the window", so a shorter
    or longer SLO window scales the alert windows by the same ratio and keeps the factors. Windows
    are rounded to whole minutes and never go below the 5m base window: span metrics arrive every
    15-60s (connector flush, remote write), so a shorter rate would rest on one or two samples and
    cannot be derived from the recorded 5m series. A long window is never shorter than its short one.
    """
    scale = slo_window.ns / 1e9 / REFERENCE_SLO_WINDOW_SECONDS
    tiers = []
    for severity, long, short, factor in BURN_RATE_TIERS:
        short_m = max(BASE_WINDOW_MINUTES, round(minutes_of(short) * scale))
        long_m = max(short_m, round(minutes_of(long) * scale))
        tiers.append(BurnTier(severity, window_text(long_m), window_text(short_m), factor))
    return tuple(tiers)


def slo_window_text(slo_window: Duration) -> str:
    """The SLO's compliance window as the recorded series name it (``30d``): budget and compliance read it."""
    return window_text(slo_window.ns // 60_000_000_000)


def slo_windows(slo_window: Duration) -> list[str]:
    """Every window an SLO's recorded error ratio exists for, shortest first (the SLO window last)."""
    windows = {window_text(BASE_WINDOW_MINUTES), slo_window_text(slo_window)}
    for tier in burn_tiers(slo_window):
        windows |= {tier.long, tier.short}
    return sorted(windows, key=minutes_of)


def tier_threshold(tier: BurnTier, budget: float) -> tuple[str, float]:
    """The comparison of a burn-rate tier on the error ratio: ``(">", factor x budget)``, or, when that
    is 1 or more (objectives below 100 - 100/factor, e.g. ~93.06% for 14.4x), ``(">=", 1)``.

    An error ratio never exceeds 1, so an uncapped tier there could never fire. The SRE workbook's tiers
    mean "this share of the budget spent within the long window"; when the objective makes that share
    unreachable, the strongest condition still reachable is that every request in both windows was bad.
    A total outage must still page quickly, so the tier is capped at the highest possible burn
    (1 / budget) rather than dropped: dropping it would leave the 6h tier (or none) to page on an outage.
    """
    threshold = round(tier.factor * budget, 12)
    return (">=", 1.0) if threshold >= 1 else (">", threshold)


def capped_tiers(slo_window: Duration, budget: float) -> list[BurnTier]:
    """The tiers of ``slo_window`` whose factor the budget caps (see ``tier_threshold``)."""
    return [t for t in burn_tiers(slo_window) if tier_threshold(t, budget)[0] == ">="]
