"""Expected active series of the generated stack, so a spec's metrics cost is visible before deploy.

Estimate per instrumented service: span names (its endpoints as server spans, its calls as client
spans) x status codes seen in practice (unset, error) x the product of every dimension's declared
value count x series per histogram (buckets + ``+Inf`` + ``_sum`` + ``_count``) plus the calls counter.
The service graph adds, per declared edge, two counters and two histograms.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from obsgen.plan import Plan

if TYPE_CHECKING:  # imported only when rules are rendered
    from obsgen.check.crosscheck import Selector

STATUS_CODES_SEEN = 2  # STATUS_CODE_UNSET and STATUS_CODE_ERROR; OK is rarely set explicitly
UNKNOWN_DIMENSION_VALUES = 10  # a dimension whose values the spec does not declare
SERVICE_GRAPH_BUCKETS = 8  # Tempo's default service-graph buckets (the connector uses similar defaults)


@dataclass(frozen=True)
class SeriesEstimate:
    """Expected active series, in total and per contributor."""

    span_metrics: int
    service_graph: int
    per_service: tuple[tuple[str, int], ...]
    dimension_factor: int

    @property
    def total(self) -> int:
        """All span-metrics and service-graph series."""
        return self.span_metrics + self.service_graph

    def biggest(self, count: int = 3) -> list[tuple[str, int]]:
        """The services that contribute most, largest first (ties by name, for stable output)."""
        return sorted(self.per_service, key=lambda item: (-item[1], item[0]))[:count]


def dimension_values(plan: Plan, attribute: str) -> int:
    """How many values a dimension's attribute takes, as the spec declares it."""
    attr = plan.spec.attributes.get(attribute)
    if attr is None:
        return UNKNOWN_DIMENSION_VALUES
    if attr.values:
        return len(attr.values)
    if attr.cardinality:
        return attr.cardinality
    if attr.type.value == "bool":
        return 2
    return UNKNOWN_DIMENSION_VALUES


def estimate(plan: Plan) -> SeriesEstimate:
    """Expected active series for a plan."""
    dim_factor = 1
    for name, _default in plan.dimensions:
        dim_factor *= dimension_values(plan, name)
    per_span = 1 + len(plan.buckets) + 1 + 2  # calls counter + buckets + +Inf + sum + count
    per_service = []
    for svc in plan.instrumented:
        span_names = max(1, len(svc.endpoints)) + len(svc.calls)
        per_service.append((svc.key, span_names * STATUS_CODES_SEEN * dim_factor * per_span))
    per_edge = 2 + 2 * (SERVICE_GRAPH_BUCKETS + 1 + 2)
    service_graph = len(plan.declared_calls) * per_edge
    return SeriesEstimate(sum(n for _, n in per_service), service_graph, tuple(per_service), dim_factor)


def series_by_metric(plan: Plan) -> dict[str, int]:
    """Expected series per metric name for the raw span-metrics and service-graph metrics."""
    from obsgen.plan import naming

    est = estimate(plan)
    sm = plan.span_metrics
    per_span = 1 + len(plan.buckets) + 1 + 2
    calls = est.span_metrics // per_span
    table = {sm.calls: calls, sm.duration_bucket: calls * (len(plan.buckets) + 1),
             sm.duration_sum: calls, sm.duration_count: calls}
    sg = naming.SERVICE_GRAPH
    edges = len(plan.declared_calls)
    for metric in sg.produced_metrics:
        table[metric] = edges * (SERVICE_GRAPH_BUCKETS + 1 if metric.endswith("_bucket") else 1)
    return table


def rule_series(plan: Plan, selectors: Iterable[Selector]) -> int:
    """Series the rendered rules read per evaluation round (each selector's matching series, summed).

    ``selectors`` are every vector selector of every rule expression. Raw selectors count the metric's
    expected series, divided among services when the selector pins one service; recorded series count
    one per grouping value of their level.
    """
    raw = series_by_metric(plan)
    levels = {"service": len(plan.instrumented), "endpoint": sum(len(s.endpoints) for s in plan.instrumented),
              "edge": len(plan.declared_calls), "slo": len(plan.slos)}
    service_labels = {plan.span_metrics.service_label, "client", "server"}
    services = max(1, len(plan.instrumented))
    total = 0
    for sel in selectors:
        name = sel.metric_name or ""
        count = raw.get(name, levels.get(name.split(":")[0], 1))
        if any(m.name in service_labels and m.op == "=" for m in sel.matchers):
            count = max(1, count // services)
        total += count
    return total
