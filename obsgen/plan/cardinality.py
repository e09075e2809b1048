"""Expected active series of the generated stack, so a spec's metrics cost is visible before deploy.

Estimate per instrumented service: span names (its endpoints as server spans, its calls as client
spans) x status codes seen in practice (unset, error) x the product of every dimension's declared
value count x series per histogram (buckets + ``+Inf`` + ``_sum`` + ``_count``) plus the calls counter.
The service graph adds, per declared edge, two counters and two histograms. Both producers' histograms
have ``plan.buckets`` as boundaries: the Collector's span-metrics and service-graph connectors and
Tempo's metrics-generator are all rendered from that one plan value.

The recording rules add their own series (``recorded_series``): one per grouping value of their level
(service, endpoint, edge), times the boundaries for a bucket recording; one per SLO rule and per
declared call. Alert state series (``ALERTS``) depend on traffic and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from obsgen.plan import Plan

if TYPE_CHECKING:  # imported only when rules are rendered
    from obsgen.check.crosscheck import Recording, Selector

STATUS_CODES_SEEN = 2  # STATUS_CODE_UNSET and STATUS_CODE_ERROR; OK is rarely set explicitly
UNKNOWN_DIMENSION_VALUES = 10  # a dimension whose values the spec does not declare


class SeriesEstimate(NamedTuple):
    """Expected active series, in total and per contributor."""

    span_metrics: int
    service_graph: int
    per_service: tuple[tuple[str, int], ...]
    dimension_factor: int
    recorded: int = 0
    """Series the recording rules write (0 when the rules were not rendered)."""

    @property
    def exported(self) -> int:
        """Span-metrics and service-graph series: what the producers export (the series budget's measure)."""
        return self.span_metrics + self.service_graph

    @property
    def total(self) -> int:
        """Every series the stack makes Prometheus hold: exported and recorded."""
        return self.exported + self.recorded

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


def histogram_series(plan: Plan) -> int:
    """Series of one histogram: a bucket per boundary, ``+Inf``, ``_sum`` and ``_count``."""
    return len(plan.buckets) + 1 + 2


def estimate(plan: Plan, recordings: Iterable[Recording] = ()) -> SeriesEstimate:
    """Expected active series for a plan; with the rendered ``recordings``, also the series they write."""
    dim_factor = 1
    for name, _default in plan.dimensions:
        dim_factor *= dimension_values(plan, name)
    per_span = 1 + histogram_series(plan)  # calls counter + duration histogram
    per_service = []
    for svc in plan.instrumented:
        span_names = max(1, len(svc.endpoints)) + len(svc.calls)
        per_service.append((svc.key, span_names * STATUS_CODES_SEEN * dim_factor * per_span))
    per_edge = 2 + 2 * histogram_series(plan)  # request and failed counters, server and client histograms
    service_graph = len(plan.declared_calls) * per_edge
    return SeriesEstimate(sum(n for _, n in per_service), service_graph, tuple(per_service), dim_factor,
                          recorded_series(plan, recordings))


def _levels(plan: Plan) -> dict[str, int]:
    """Series per recording level: services, their server span names (as ``estimate`` counts them), edges."""
    return {"service": len(plan.instrumented),
            "endpoint": sum(max(1, len(s.endpoints)) for s in plan.instrumented),
            "edge": len(plan.declared_calls), "slo": 1}


def recorded_series(plan: Plan, recordings: Iterable[Recording]) -> int:
    """Series the recording rules write, one rule at a time.

    A rule reading no series (``vector(1)`` of a declared call) writes one; a rule named after a level
    (``service:``, ``endpoint:``, ``edge:``) one per value of it, times the histogram's bucket series
    (boundaries and ``+Inf``) when it records buckets; an SLO rule (``slo:``) with an ``slo`` rule label
    writes one, and one over every SLO (a window ratio or period burn rate, rules.slo) one per SLO objective
    that has its window.
    """
    levels = _levels(plan)
    buckets = len(plan.buckets) + 1
    total = 0
    for rec in recordings:
        if not rec.inputs:
            total += 1
            continue
        level, _, measure = rec.name.partition(":")
        count = levels.get(level, 1)
        if level == "slo" and "slo" not in rec.rule_labels:
            count = _slo_objectives_reading(plan, rec)
        if "_bucket" in measure.partition(":")[0]:
            count *= buckets
        total += count
    return total


def _slo_objectives_reading(plan: Plan, rec: Recording) -> int:
    """SLO objectives a rule over every SLO writes a series for: those whose windows include the window of the
    ratio it records (``slo:obsgen_sli_error:ratio_rate1h``) or, for the period burn rate, whose SLO window is
    the one of the ratio it reads."""
    from obsgen.plan import naming

    ratio = naming.recorded("slo", "sli_error", "5m").removesuffix("5m")
    source = rec.name if rec.name.startswith(ratio) else next((i for i in rec.inputs if i.startswith(ratio)), "")
    window = source.removeprefix(ratio)
    count = 0
    for slo in plan.slos:
        kinds = (slo.availability is not None) + (slo.latency_threshold is not None)
        windows = naming.slo_windows(slo.window) if rec.name.startswith(ratio) else [naming.slo_window_text(slo.window)]
        count += kinds if window in windows else 0
    return count


def series_by_metric(plan: Plan) -> dict[str, int]:
    """Expected series per metric name for the raw span-metrics and service-graph metrics."""
    from obsgen.plan import naming

    est = estimate(plan)
    sm = plan.span_metrics
    calls = est.span_metrics // (1 + histogram_series(plan))
    table = {sm.calls: calls, sm.duration_bucket: calls * (len(plan.buckets) + 1),
             sm.duration_sum: calls, sm.duration_count: calls}
    sg = naming.SERVICE_GRAPH
    edges = len(plan.declared_calls)
    for metric in sg.produced_metrics:
        table[metric] = edges * (len(plan.buckets) + 1 if metric.endswith("_bucket") else 1)
    return table


def rule_series(plan: Plan, selectors: Iterable[Selector]) -> int:
    """Series the rendered rules read per evaluation round (each selector's matching series, summed).

    ``selectors`` are every vector selector of every rule expression. Raw selectors count the metric's
    expected series, divided among services when the selector pins one service; recorded series count
    one per grouping value of their level.
    """
    raw = series_by_metric(plan)
    levels = {**_levels(plan), "slo": len(plan.slos)}
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
