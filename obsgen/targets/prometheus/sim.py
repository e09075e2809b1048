"""What the generated PromQL evaluates to under constant synthetic traffic.

The promtool tests are generated, so their expectations must come from somewhere other than the
rules themselves: this module is a tiny model of the rules' arithmetic (rates of constant counters and
of the spans slower than a bucket bound) that every alert's prediction is written against. promtool then
checks model and rules agree, which catches a wrong selector, label or threshold in either.
"""

from __future__ import annotations

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
