"""What the generated PromQL evaluates to under constant synthetic traffic.

The promtool tests are generated, so their expectations must come from somewhere other than the
rules themselves: this module is a tiny model of the rules' arithmetic (rates of constant counters,
Prometheus' histogram_quantile) that every alert's prediction is written against. promtool then
checks model and rules agree, which catches a wrong selector, label or threshold in either.
"""

from __future__ import annotations

import math

from obsgen.targets.prometheus.rules.model import SpanFlow, Traffic


def _spans(traffic: Traffic, service: str, kind: str | None, span_name: str | None) -> list[SpanFlow]:
    return [
        f for f in traffic.spans
        if f.service == service and (kind is None or f.kind == kind) and (span_name is None or f.span_name == span_name)
    ]


def span_rate(traffic: Traffic, service: str, kind: str | None = None, span_name: str | None = None,
              *, errors: bool = False) -> float | None:
    """Spans (or failed spans) per second; None when no series matches (the sum is empty)."""
    flows = _spans(traffic, service, kind, span_name)
    if not flows:
        return None
    return sum(f.per_minute * (f.error_share if errors else 1.0) for f in flows) / 60


def slower_than(traffic: Traffic, service: str, kind: str, span_name: str | None, threshold: float) -> float | None:
    """Requests per second slower than ``threshold`` (count minus the threshold bucket)."""
    flows = _spans(traffic, service, kind, span_name)
    if not flows:
        return None
    return sum(f.per_minute * share for f in flows for le, share in f.latency if le > threshold) / 60


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' bucketQuantile for classic histograms (sorted, monotonic buckets ending in +Inf)."""
    if len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return math.nan
    observations = buckets[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i in range(len(buckets) - 1) if buckets[i][1] >= rank), len(buckets) - 1)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end, count = 0.0, buckets[b][0], buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (end - start) * (rank / count)


def edge_rate(traffic: Traffic, client: str, server: str, *, failed: bool = False) -> float | None:
    """Service-graph requests (or failed requests) per second on one edge; None when absent."""
    flows = [e for e in traffic.edges if e.client == client and e.server == server]
    if not flows:
        return None
    return sum(e.per_minute * (e.failed_share if failed else 1.0) for e in flows) / 60


def counter_rates(traffic: Traffic, metric: str, by: tuple[str, ...]) -> dict[tuple[tuple[str, str], ...], float]:
    """``sum by (by) (rate(metric[5m]))`` for the synthetic counters."""
    out: dict[tuple[tuple[str, str], ...], float] = {}
    for c in traffic.counters:
        if c.metric != metric:
            continue
        labels = dict(c.labels)
        key = tuple((name, labels.get(name, "")) for name in by if labels.get(name, ""))
        out[key] = out.get(key, 0.0) + c.per_minute / 60
    return out
