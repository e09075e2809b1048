"""Synthetic series for the live Prometheus tests, written as OpenMetrics text for ``promtool`` backfill.

Every metric name, label name, label value and bucket boundary in this file is typed by hand from the
upstream references (``shared/reference/collector.md`` §2.5, §3.2, §4.2 and ``tempo-grafana.md`` §2),
never taken from ``obsgen.plan.naming``: if obsgen names a series or a label wrongly, its queries find nothing
here and the live tests fail. Do not "simplify" this by importing obsgen.

The data is the shop (``specs/shop.yaml``) as seen by Prometheus over a fixed three-hour window ending at
``T_END``, in two scenarios:

- ``healthy``: traffic on every declared edge, error ratio 0.02 % everywhere (a fifth of the tightest
  error budget, 99.9 %), latencies far below every SLO threshold, no trace dropped too early.
- ``failing``: healthy until ``FAILURE_START`` (two hours before the end), then
  - the payment provider fails 40 % of ``country="BR"`` charges (BR is 40 % of payments), so
    payments-service returns errors for 16 % of ``POST /process`` and main-service ``POST /checkout``
    errors rise to 15 %;
  - inventory-system ``POST /check`` gets slow (15 % of calls take ~1.5 s: p99 > 1 s), which also slows
    main-service ``POST /checkout``;
  - tail sampling drops traces too early (5/s) with its buffer full;
  - and, for the whole window, main-service never calls crm-system (a declared edge without traffic, so
    crm-system has no spans at all) while frontend calls payments-service directly (an undeclared edge,
    service graph only).

Both span-metrics sources are present at once (their names never collide): the Collector's span metrics
connector (``histogram.unit: s``) and Tempo's metrics-generator. The service graph (same names from both)
and the Collector's own telemetry appear once.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

Scenario = Literal["healthy", "failing"]
SCENARIOS: tuple[Scenario, ...] = ("healthy", "failing")

# ------------------------------------------------------------------------------------------------
# Time. A fixed window keeps the data byte-identical across runs; it lies in the past, so the server is
# started with a retention far longer than its age (Prometheus deletes blocks beyond retention at startup).

T_END = 1_735_732_800  # 2025-01-01T12:00:00Z: the instant every test evaluates at
WINDOW_SECONDS = 3 * 3600
T_START = T_END - WINDOW_SECONDS
FAILURE_START = T_END - 2 * 3600  # failing scenario: everything before this is healthy
PRIOR_UPTIME_SECONDS = 6 * 3600  # counters start at what six hours of healthy traffic would have counted
# Sample steps, coarse to fine towards T_END: (from seconds before T_END, step). The last 15 minutes use the
# real 15 s scrape step, so [1m] windows hold 4-5 samples; earlier samples are sparser to keep the data small
# (every window used over the past is >= 5m).
STEPS: tuple[tuple[int, int], ...] = ((3 * 3600, 120), (3600, 60), (15 * 60, 15))


def sample_times() -> list[int]:
    """Timestamps (seconds) at which every series has a sample, T_START to T_END inclusive."""
    times: list[int] = []
    bounds = [T_END - before for before, _ in STEPS] + [T_END + 1]
    for (_, step), lo, hi in zip(STEPS, bounds, bounds[1:], strict=False):
        times.extend(range(lo, hi, step))
    return times


# ------------------------------------------------------------------------------------------------
# Label values, as the OTLP enums print them (collector.md §3.2, tempo-grafana.md §2).

SERVER = "SPAN_KIND_SERVER"
CLIENT = "SPAN_KIND_CLIENT"
UNSET = "STATUS_CODE_UNSET"
ERROR = "STATUS_CODE_ERROR"

# Bucket upper bounds in seconds, as Go's strconv.FormatFloat(v, 'f', -1, 64) writes them in `le`.
# Collector span metrics connector default buckets (2 ms ... 15 s) plus shop's SLO thresholds 250 ms and 500 ms
# (1 s is a default already).
COLLECTOR_LE = ("0.002", "0.004", "0.006", "0.008", "0.01", "0.05", "0.1", "0.2", "0.25", "0.4", "0.5", "0.8",
                "1", "1.4", "2", "5", "10", "15", "+Inf")
# Tempo metrics-generator default ExponentialBuckets(0.002, 2, 14) plus the same SLO thresholds 0.25, 0.5, 1.
TEMPO_LE = ("0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.25", "0.256", "0.5", "0.512", "1",
            "1.024", "2.048", "4.096", "8.192", "16.384", "+Inf")
# The service graph gets the same boundaries as the Collector's span metrics.
SERVICE_GRAPH_LE = COLLECTOR_LE

# ------------------------------------------------------------------------------------------------
# Latency profiles: mixtures of log-normals, (weight, median seconds, sigma). Bucket counts follow the CDF.

Latency = tuple[tuple[float, float, float], ...]

HEALTH_PROBE: Latency = ((1.0, 0.002, 0.4),)
FE_HOME: Latency = ((1.0, 0.03, 0.5),)
FE_CHECKOUT: Latency = ((1.0, 0.15, 0.45),)
FE_CHECKOUT_SLOW: Latency = ((0.85, 0.15, 0.45), (0.15, 1.7, 0.3))
MAIN_CHECKOUT: Latency = ((1.0, 0.12, 0.45),)
MAIN_CHECKOUT_SLOW: Latency = ((0.85, 0.12, 0.45), (0.15, 1.6, 0.3))
MAIN_ORDERS: Latency = ((1.0, 0.05, 0.5),)
MAIN_PAYMENTS: Latency = ((1.0, 0.1, 0.5),)
PAYMENTS: Latency = ((1.0, 0.09, 0.45),)
PROVIDER: Latency = ((1.0, 0.08, 0.45),)
INVENTORY: Latency = ((1.0, 0.03, 0.6),)
INVENTORY_SLOW: Latency = ((0.85, 0.03, 0.6), (0.15, 1.5, 0.3))
CRM: Latency = ((1.0, 0.04, 0.5),)
POSTGRES: Latency = ((1.0, 0.004, 0.5),)
REDIS: Latency = ((1.0, 0.001, 0.5),)

HEALTHY_ERRORS = 0.0002  # 0.02 %: a fifth of the 99.9 % budget, so not even a 1x burn rate


def cdf(profile: Latency, le: str) -> float:
    """Fraction of observations <= le."""
    if le == "+Inf":
        return 1.0
    x = math.log(float(le))
    return sum(w * 0.5 * (1 + math.erf((x - math.log(m)) / (s * math.sqrt(2)))) for w, m, s in profile)


def mean(profile: Latency) -> float:
    """Mean observation in seconds."""
    return sum(w * m * math.exp(s * s / 2) for w, m, s in profile)


# ------------------------------------------------------------------------------------------------
# Spans. One row per (service, span name, kind, country); each yields an OK and an error label set.


@dataclass(frozen=True)
class Behaviour:
    """What a row does in one phase: spans per second, error fraction, latency profile."""

    rate: float
    errors: float
    latency: Latency


@dataclass(frozen=True)
class SpanRow:
    """A span-metrics row. ``failing`` overrides ``healthy`` from FAILURE_START in the failing scenario."""

    service: str
    span_name: str
    kind: str
    healthy: Behaviour
    failing: Behaviour | None = None
    method: str | None = None  # http.request.method; None for spans without HTTP attributes (db, cache)
    error_http_status: str = "500"
    country: str | None = None
    absent_when_failing: bool = False  # the row does not exist at all in the failing scenario


def _b(rate: float, latency: Latency, errors: float = HEALTHY_ERRORS) -> Behaviour:
    return Behaviour(rate, errors, latency)


SPANS: tuple[SpanRow, ...] = (
    # frontend: server spans
    SpanRow("frontend", "POST /cart/checkout", SERVER, _b(10, FE_CHECKOUT), _b(10, FE_CHECKOUT_SLOW, 0.15),
            method="POST"),
    SpanRow("frontend", "GET /", SERVER, _b(40, FE_HOME), method="GET"),
    SpanRow("frontend", "GET /health", SERVER, _b(1, HEALTH_PROBE, 0.0), method="GET"),
    # frontend -> main-service (HTTP client span named after the method only)
    SpanRow("frontend", "POST", CLIENT, _b(18, MAIN_CHECKOUT), _b(18, MAIN_CHECKOUT_SLOW, 0.11), method="POST"),
    # main-service: server spans
    SpanRow("main-service", "POST /checkout", SERVER, _b(10, MAIN_CHECKOUT), _b(10, MAIN_CHECKOUT_SLOW, 0.15),
            method="POST"),
    SpanRow("main-service", "POST /api/orders", SERVER, _b(5, MAIN_ORDERS), method="POST"),
    SpanRow("main-service", "POST /api/payments/process", SERVER, _b(3, MAIN_PAYMENTS), _b(3, MAIN_PAYMENTS, 0.16),
            method="POST"),
    SpanRow("main-service", "GET /health", SERVER, _b(1, HEALTH_PROBE, 0.0), method="GET"),
    # main-service: client spans of its declared calls
    SpanRow("main-service", "INSERT shop.orders", CLIENT, _b(15, POSTGRES)),
    SpanRow("main-service", "GET", CLIENT, _b(30, REDIS)),
    SpanRow("main-service", "POST /check", CLIENT, _b(10, INVENTORY), _b(10, INVENTORY_SLOW), method="POST"),
    SpanRow("main-service", "POST /process", CLIENT, _b(8, PAYMENTS), _b(8, PAYMENTS, 0.16), method="POST"),
    SpanRow("main-service", "POST /update", CLIENT, _b(5, CRM), method="POST", absent_when_failing=True),
    # payments-service: server spans and client spans to the external payment-provider, by country
    SpanRow("payments-service", "POST /process", SERVER, _b(3.2, PAYMENTS), method="POST", country="US"),
    SpanRow("payments-service", "POST /process", SERVER, _b(3.2, PAYMENTS), _b(3.2, PAYMENTS, 0.40),
            method="POST", country="BR"),
    SpanRow("payments-service", "POST /process", SERVER, _b(1.6, PAYMENTS), method="POST", country="DE"),
    SpanRow("payments-service", "POST /charge", CLIENT, _b(3.2, PROVIDER), method="POST", country="US",
            error_http_status="502"),
    SpanRow("payments-service", "POST /charge", CLIENT, _b(3.2, PROVIDER), _b(3.2, PROVIDER, 0.40),
            method="POST", country="BR", error_http_status="502"),
    SpanRow("payments-service", "POST /charge", CLIENT, _b(1.6, PROVIDER), method="POST", country="DE",
            error_http_status="502"),
    # inventory-system and crm-system: server spans
    SpanRow("inventory-system", "POST /check", SERVER, _b(10, INVENTORY), _b(10, INVENTORY_SLOW), method="POST"),
    SpanRow("crm-system", "POST /update", SERVER, _b(5, CRM), method="POST", absent_when_failing=True),
)

# ------------------------------------------------------------------------------------------------
# Service graph edges (client, server, connection_type), named as the servicegraph connector reports the shop
# (contrib connector/servicegraphconnector/connector.go v0.159.0): the postgresql node is a database edge named
# after the db.name its client spans carry (shop.yaml: db_name: shop); redis (db.system only) and
# payment-provider (peer.service) are virtual nodes, named when their unanswered client spans expire.


@dataclass(frozen=True)
class EdgeRow:
    """One service-graph edge; ``errors`` is the failed fraction (``traces_service_graph_request_failed_total``)."""

    client: str
    server: str
    connection_type: str
    healthy: Behaviour
    failing: Behaviour | None = None
    absent_when_failing: bool = False
    only_when_failing: bool = False  # an undeclared call: exists only in the failing scenario
    declared: bool = True


EDGES: tuple[EdgeRow, ...] = (
    EdgeRow("frontend", "main-service", "", _b(18, MAIN_CHECKOUT), _b(18, MAIN_CHECKOUT_SLOW, 0.11)),
    EdgeRow("main-service", "shop", "database", _b(15, POSTGRES)),
    EdgeRow("main-service", "redis", "virtual_node", _b(30, REDIS)),
    EdgeRow("main-service", "inventory-system", "", _b(10, INVENTORY), _b(10, INVENTORY_SLOW)),
    EdgeRow("main-service", "payments-service", "", _b(8, PAYMENTS), _b(8, PAYMENTS, 0.16)),
    EdgeRow("main-service", "crm-system", "", _b(5, CRM), absent_when_failing=True),
    EdgeRow("payments-service", "payment-provider", "virtual_node", _b(8, PROVIDER), _b(8, PROVIDER, 0.16)),
    # drift: frontend calls payments-service directly, which the spec does not declare
    EdgeRow("frontend", "payments-service", "", _b(0.5, PAYMENTS), only_when_failing=True, declared=False),
)

DECLARED_EDGES: tuple[tuple[str, str], ...] = tuple((e.client, e.server) for e in EDGES if e.declared)
UNDECLARED_EDGES: tuple[tuple[str, str], ...] = tuple((e.client, e.server) for e in EDGES if not e.declared)

# ------------------------------------------------------------------------------------------------
# Collector self-telemetry, scraped from :8888 (collector.md §2.5, §2.6: counters carry _total).

# The job is the one the rendered prometheus/prometheus.yaml scrapes a single Collector as (written out here,
# not imported: the CollectorDown alert must find exactly this).
COLLECTOR_JOB = {"job": "otelcol", "instance": "otel-collector:8888"}
TEMPO_JOB = {"job": "tempo", "instance": "tempo:3200"}
# A tail_sampling processor without a name suffix: `policy` is the bare policy name. With `tail_sampling/x`
# it would be `x.<policy>`; change this if obsgen names its processor.
POLICY_PREFIX = ""

# shop's twelve top-level policies: traces/s each samples (healthy, failing). Every policy samples something,
# so no "policy never samples" alert can fire on healthy data.
POLICIES: tuple[tuple[str, float, float], ...] = (
    ("drop-health-checks", 0.0, 0.0),  # a drop policy: see DROPPED_BY_POLICY
    ("errors-always", 0.02, 6.0),
    ("slow-requests", 0.01, 3.0),
    ("critical-endpoints", 10.0, 10.0),
    ("high-value-transactions", 2.0, 2.0),
    ("probabilistic-baseline", 5.9, 5.9),
    ("debug-flagged", 0.01, 0.01),
    ("brazil-payments", 0.6, 0.6),
    ("very-large-traces", 0.05, 0.05),
    ("redis-errors", 0.001, 0.001),
    ("payment-methods-budget", 3.0, 3.0),
    ("traffic-floor", 5.0, 5.0),
)
NEW_TRACES_PER_SECOND = 60.0  # one trace per frontend request and health probe
DROPPED_BY_POLICY = {"drop-health-checks": 1.0}  # health-check traces dropped per second (both scenarios)
GLOBAL_SAMPLED = (16.0, 19.0)  # traces/s kept overall (healthy, failing)
TOO_EARLY = (0.0, 5.0)  # traces/s dropped too early (healthy, failing)
ON_MEMORY = (600.0, 10_000.0)  # traces held (healthy: 60/s x 10 s decision_wait; failing: buffer full)
SPANS_PER_SECOND = 600.0


@dataclass(frozen=True)
class CounterRow:
    """A plain counter (family name without ``_total``) with its rate before/after FAILURE_START."""

    family: str
    labels: dict[str, str]
    healthy: float
    failing: float


@dataclass(frozen=True)
class GaugeRow:
    """A gauge with its value before/after FAILURE_START."""

    family: str
    labels: dict[str, str]
    healthy: float
    failing: float


def _collector_counters() -> list[CounterRow]:
    rows: list[CounterRow] = []
    tsp = "otelcol_processor_tail_sampling_"
    for name, healthy, failing in POLICIES:
        policy = POLICY_PREFIX + name
        dropped = DROPPED_BY_POLICY.get(name, 0.0)
        evaluated = NEW_TRACES_PER_SECOND - (0.0 if dropped else sum(DROPPED_BY_POLICY.values()))
        if dropped:
            rows.append(CounterRow(tsp + "count_traces_sampled", {**COLLECTOR_JOB, "policy": policy,
                                   "sampled": "false", "decision": "dropped"}, dropped, dropped))
        else:
            rows.append(CounterRow(tsp + "count_traces_sampled", {**COLLECTOR_JOB, "policy": policy,
                                   "sampled": "true", "decision": "sampled"}, healthy, failing))
        rows.append(CounterRow(tsp + "count_traces_sampled", {**COLLECTOR_JOB, "policy": policy,
                               "sampled": "false", "decision": "not_sampled"},
                               evaluated - healthy - dropped, evaluated - failing - dropped))
    total_dropped = sum(DROPPED_BY_POLICY.values())
    kept_h, kept_f = GLOBAL_SAMPLED
    rows += [
        CounterRow(tsp + "global_count_traces_sampled", {**COLLECTOR_JOB, "sampled": "true", "decision": "sampled"},
                   kept_h, kept_f),
        CounterRow(tsp + "global_count_traces_sampled",
                   {**COLLECTOR_JOB, "sampled": "false", "decision": "not_sampled"},
                   NEW_TRACES_PER_SECOND - kept_h - total_dropped, NEW_TRACES_PER_SECOND - kept_f - total_dropped),
        CounterRow(tsp + "global_count_traces_sampled", {**COLLECTOR_JOB, "sampled": "false", "decision": "dropped"},
                   total_dropped, total_dropped),
        CounterRow(tsp + "new_trace_id_received", dict(COLLECTOR_JOB), NEW_TRACES_PER_SECOND, NEW_TRACES_PER_SECOND),
        CounterRow(tsp + "sampling_trace_dropped_too_early", dict(COLLECTOR_JOB), *TOO_EARLY),
        CounterRow("otelcol_receiver_accepted_spans", {**COLLECTOR_JOB, "receiver": "otlp", "transport": "grpc"},
                   SPANS_PER_SECOND, SPANS_PER_SECOND),
        CounterRow("otelcol_receiver_refused_spans", {**COLLECTOR_JOB, "receiver": "otlp", "transport": "grpc"},
                   0.0, 0.0),
        CounterRow("otelcol_exporter_sent_spans", {**COLLECTOR_JOB, "exporter": "otlp_grpc/tempo"},
                   SPANS_PER_SECOND * 0.27, SPANS_PER_SECOND * 0.32),
        CounterRow("otelcol_exporter_send_failed_spans", {**COLLECTOR_JOB, "exporter": "otlp_grpc/tempo"}, 0.0, 0.0),
        CounterRow("tempo_metrics_generator_registry_series_limited", {**TEMPO_JOB, "tenant": "single-tenant"},
                   0.0, 0.0),
    ]
    return rows


COUNTERS: tuple[CounterRow, ...] = tuple(_collector_counters())
GAUGES: tuple[GaugeRow, ...] = (
    GaugeRow("otelcol_processor_tail_sampling_sampling_traces_on_memory", dict(COLLECTOR_JOB), *ON_MEMORY),
    GaugeRow("up", dict(COLLECTOR_JOB), 1.0, 1.0),
    GaugeRow("up", dict(TEMPO_JOB), 1.0, 1.0),
)

# ------------------------------------------------------------------------------------------------
# OpenMetrics writer


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _fmt(value: float) -> str:
    return f"{value:.12g}"


def _phases(healthy: Behaviour, failing: Behaviour | None, scenario: Scenario) -> Iterator[tuple[int, Behaviour]]:
    """(timestamp, behaviour in force during the step ending at timestamp) for every sample time."""
    for ts in sample_times():
        late = scenario == "failing" and failing is not None and ts > FAILURE_START
        yield ts, (failing if late else healthy)  # type: ignore[misc]


@dataclass
class _Histogram:
    """Cumulative series of one label set: calls, buckets, sum, count (floats, monotone)."""

    times: list[int]
    count: list[float]
    sum: list[float]
    buckets: dict[str, list[float]]


def _accumulate(healthy: Behaviour, failing: Behaviour | None, scenario: Scenario, error: bool,
                les: tuple[str, ...]) -> _Histogram:
    def rate_of(b: Behaviour) -> float:
        return b.rate * (b.errors if error else 1 - b.errors)

    start_rate = rate_of(healthy) * PRIOR_UPTIME_SECONDS
    count = start_rate
    total = start_rate * mean(healthy.latency)
    buckets = {le: start_rate * cdf(healthy.latency, le) for le in les}
    out = _Histogram([], [], [], {le: [] for le in les})
    prev = None
    for ts, b in _phases(healthy, failing, scenario):
        if prev is not None:
            n = rate_of(b) * (ts - prev)
            count += n
            total += n * mean(b.latency)
            for le in les:
                buckets[le] += n * cdf(b.latency, le)
        prev = ts
        out.times.append(ts)
        out.count.append(count)
        out.sum.append(total)
        for le in les:
            out.buckets[le].append(min(buckets[le], count) if le != "+Inf" else count)
    return out


def _write_series(out: TextIO, name: str, labels: dict[str, str], times: list[int], values: list[float]) -> None:
    prefix = name + _labels(labels) + " "
    out.writelines(f"{prefix}{_fmt(v)} {t}\n" for t, v in zip(times, values, strict=True))


def _span_label_sets(scenario: Scenario, source: Literal["collector", "tempo"]) -> Iterator[
        tuple[SpanRow, bool, dict[str, str]]]:
    for row in SPANS:
        if scenario == "failing" and row.absent_when_failing:
            continue
        for error in (False, True):
            if error and row.healthy.errors == 0 and (row.failing is None or row.failing.errors == 0):
                continue
            service_label = "service_name" if source == "collector" else "service"
            labels = {service_label: row.service, "span_name": row.span_name, "span_kind": row.kind,
                      "status_code": ERROR if error else UNSET}
            if row.method is not None:
                labels["http_request_method"] = row.method
                labels["http_response_status_code"] = row.error_http_status if error else "200"
            if row.country is not None:
                labels["country"] = row.country
            if source == "collector":
                labels["job"] = row.service
                labels["instance"] = f"{row.service}-7f9c4d-0"
            yield row, error, labels


def _write_span_metrics(out: TextIO, scenario: Scenario, source: Literal["collector", "tempo"]) -> None:
    if source == "collector":
        calls, hist, les = "traces_span_metrics_calls", "traces_span_metrics_duration_seconds", COLLECTOR_LE
    else:
        calls, hist, les = "traces_spanmetrics_calls", "traces_spanmetrics_latency", TEMPO_LE
    sets = [(labels, _accumulate(row.healthy, row.failing, scenario, error, les))
            for row, error, labels in _span_label_sets(scenario, source)]
    out.write(f"# TYPE {calls} counter\n")
    for labels, h in sets:
        _write_series(out, calls + "_total", labels, h.times, h.count)
    _write_histogram_family(out, hist, les, sets)


def _write_histogram_family(out: TextIO, family: str, les: tuple[str, ...],
                            sets: list[tuple[dict[str, str], _Histogram]]) -> None:
    # Span metrics and the service graph reach Prometheus by remote write, which stores le as the producer sent
    # it (Go 'f' format: "1"). promtool parses this file like a scrape, and Prometheus 3 rewrites the le of a
    # histogram-typed family to "1.0" (textparse normalizeFloatsInLabelValues), so the series are written as
    # untyped families: stored as written, as remote write stores them.
    out.write(f"# TYPE {family}_bucket unknown\n")
    for labels, h in sets:
        for le in les:
            _write_series(out, family + "_bucket", {**labels, "le": le}, h.times, h.buckets[le])
    out.write(f"# TYPE {family}_count unknown\n")
    for labels, h in sets:
        _write_series(out, family + "_count", labels, h.times, h.count)
    out.write(f"# TYPE {family}_sum unknown\n")
    for labels, h in sets:
        _write_series(out, family + "_sum", labels, h.times, h.sum)


def _write_service_graph(out: TextIO, scenario: Scenario) -> None:
    edges = [e for e in EDGES if not (e.absent_when_failing if scenario == "failing" else e.only_when_failing)]
    total, failed, hists = [], [], []
    for e in edges:
        labels = {"client": e.client, "server": e.server, "connection_type": e.connection_type}
        ok = _accumulate(_as_total(e.healthy), _as_total(e.failing), scenario, False, SERVICE_GRAPH_LE)
        bad = _accumulate(e.healthy, e.failing, scenario, True, ("+Inf",))
        total.append((labels, ok))
        failed.append((labels, bad))
        hists.append((labels, ok))
    out.write("# TYPE traces_service_graph_request counter\n")
    for labels, h in total:
        _write_series(out, "traces_service_graph_request_total", labels, h.times, h.count)
    out.write("# TYPE traces_service_graph_request_failed counter\n")
    for labels, h in failed:
        _write_series(out, "traces_service_graph_request_failed_total", labels, h.times, h.count)
    _write_histogram_family(out, "traces_service_graph_request_server_seconds", SERVICE_GRAPH_LE, hists)
    # the client side sees the server's latency plus the network: same shape, a little slower
    client = [(labels, _scaled(h, 1.02)) for labels, h in hists]
    _write_histogram_family(out, "traces_service_graph_request_client_seconds", SERVICE_GRAPH_LE, client)


def _as_total(b: Behaviour | None) -> Behaviour | None:
    """The same traffic with no error split: request_total counts failed requests too."""
    return None if b is None else Behaviour(b.rate, 0.0, b.latency)


def _scaled(h: _Histogram, factor: float) -> _Histogram:
    return _Histogram(h.times, h.count, [s * factor for s in h.sum], h.buckets)


def _write_collector_telemetry(out: TextIO, scenario: Scenario) -> None:
    times = sample_times()
    by_family: dict[str, list[CounterRow]] = {}
    for row in COUNTERS:
        by_family.setdefault(row.family, []).append(row)
    for family, rows in by_family.items():
        out.write(f"# TYPE {family} counter\n")
        for row in rows:
            value = row.healthy * PRIOR_UPTIME_SECONDS
            values, prev = [], None
            for ts in times:
                if prev is not None:
                    late = scenario == "failing" and ts > FAILURE_START
                    value += (row.failing if late else row.healthy) * (ts - prev)
                prev = ts
                values.append(value)
            _write_series(out, family + "_total", row.labels, times, values)
    gauges: dict[str, list[GaugeRow]] = {}
    for g in GAUGES:
        gauges.setdefault(g.family, []).append(g)
    for family, grows in gauges.items():
        out.write(f"# TYPE {family} gauge\n")
        for g in grows:
            values = [g.failing if scenario == "failing" and ts > FAILURE_START else g.healthy for ts in times]
            _write_series(out, family, g.labels, times, values)


def write_openmetrics(scenario: Scenario, path: Path) -> Path:
    """Write the whole scenario (both span-metrics sources, service graph, Collector telemetry) to ``path``."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    with path.open("w", encoding="utf-8") as out:
        _write_span_metrics(out, scenario, "collector")
        _write_span_metrics(out, scenario, "tempo")
        _write_service_graph(out, scenario)
        _write_collector_telemetry(out, scenario)
        out.write("# EOF\n")
    return path
