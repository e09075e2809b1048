"""PromQL for the dashboards, built only from ``naming`` and the plan.

Every metric and label name comes from ``plan.span_metrics``, ``naming.SERVICE_GRAPH``,
``naming.TAIL_SAMPLING``, ``naming.COLLECTOR_HEALTH`` or ``naming.recorded``; every spec value
passes through a ``grafana_promql_*`` quoting helper of ``obsgen.emit.escape``, so no ``$`` from the spec
survives into a query.

Panels of at most five minutes' resolution that show exemplars read the raw span-metrics series
(exemplars exist only there); summaries over longer windows read the recorded series.

Label sets assumed on recorded series (the rules target defines them): ``service`` level keeps the
span-metrics service label, ``edge`` level keeps ``client``/``server``, ``slo`` level carries
``naming.SLO_LABEL`` and ``naming.SLO_KIND_LABEL``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from obsgen.emit.escape import grafana_promql_string
from obsgen.plan import Plan, PlannedSLO, naming
from obsgen.spec.durations import Duration

# Grafana's macros: the rate window that is always >= 4 scrape intervals, and the dashboard range.
RATE_INTERVAL = "$__rate_interval"
RANGE = "$__range"
# Grafana macros the tests substitute before parsing, with values valid as PromQL durations.
GRAFANA_MACROS: dict[str, str] = {RATE_INTERVAL: "1m", RANGE: "1h"}

SG = naming.SERVICE_GRAPH
TS = naming.TAIL_SAMPLING
HEALTH = naming.COLLECTOR_HEALTH

# Labels the node-graph panel reads from its frames (Grafana's data-frame contract, not metric names).
NODE_ID, NODE_TITLE, EDGE_SOURCE, EDGE_TARGET = "id", "title", "source", "target"
EDGE_SEPARATOR = "->"


def eq(label: str, value: str) -> str:
    """An equality matcher with a Grafana-safe literal."""
    return f"{label}={grafana_promql_string(value)}"


def kind_matcher(label: str, kind: tuple[str, str]) -> str:
    """The span-kind matcher ``naming.entry_kind_matcher`` describes (a fixed literal or regex, never spec text)."""
    op, value = kind
    return f"{label}{op}{grafana_promql_string(value)}"


def selector(metric: str, matchers: Sequence[str] = ()) -> str:
    """``metric{m1,m2}`` (or the bare name without matchers)."""
    return f"{metric}{{{','.join(matchers)}}}" if matchers else metric


def by(labels: Sequence[str]) -> str:
    """`` by (a, b)`` grouping clause, or nothing."""
    return f" by ({', '.join(labels)})" if labels else ""


def number(value: float) -> str:
    """A float literal without binary noise (``1 - 0.999`` is written ``0.001``)."""
    return format(round(value, 12), ".12g")


def duration(value: Duration) -> str:
    """A PromQL duration literal."""
    return value.prom()


def ratio_or_zero(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` that reads 0 (not "no data") while the numerator has no series yet."""
    return f"({numerator} or {denominator} * 0) / {denominator}"


def union(exprs: Sequence[str]) -> str:
    """``a or b or c``; each part must carry distinct labels."""
    return " or ".join(f"({e})" if " or " in e else e for e in exprs)


class SpanMetricsQueries(NamedTuple):
    """RED queries on the raw span-metrics series of the configured source."""

    plan: Plan

    @property
    def names(self) -> naming.SpanMetricsNames:
        """The source's metric and label names."""
        return self.plan.span_metrics

    def server(self, service_name: str, span_name: str | None = None) -> list[str]:
        """Matchers for server spans of a service (optionally one endpoint)."""
        consumes = any(s.consumes for s in self.plan.instrumented if s.name == service_name)
        m = [eq(self.names.service_label, service_name),
             kind_matcher(self.names.span_kind_label, naming.entry_kind_matcher(consumes))]
        if span_name is not None:
            m.append(eq(self.names.span_name_label, span_name))
        return m

    def all_servers(self) -> list[str]:
        """Matchers for every entry span (server, and consumer where a service consumes a queue)."""
        return [kind_matcher(self.names.span_kind_label, self.plan.entry_kind)]

    def _errors(self, matchers: Sequence[str]) -> list[str]:
        return [*matchers, eq(self.names.status_code_label, naming.STATUS_ERROR)]

    def requests(self, matchers: Sequence[str], group: Sequence[str] = ()) -> str:
        """Requests per second."""
        return f"sum{by(group)} (rate({selector(self.names.calls, matchers)}[{RATE_INTERVAL}]))"

    def errors(self, matchers: Sequence[str], group: Sequence[str] = ()) -> str:
        """Failed requests per second."""
        return self.requests(self._errors(matchers), group)

    def error_ratio(self, matchers: Sequence[str], group: Sequence[str] = ()) -> str:
        """Share of failed requests (0..1)."""
        return ratio_or_zero(self.errors(matchers, group), self.requests(matchers, group))

    def quantile(self, q: float, matchers: Sequence[str], group: Sequence[str] = ()) -> str:
        """Latency quantile in seconds from the duration histogram."""
        bucket = selector(self.names.duration_bucket, matchers)
        return f"histogram_quantile({number(q)}, sum{by(['le', *group])} (rate({bucket}[{RATE_INTERVAL}])))"


class ServiceGraphQueries:
    """Queries on the service-graph series (same names for both sources)."""

    def edge(self, client: str, server: str) -> list[str]:
        """Matchers for one declared call."""
        return [eq(SG.client_label, client), eq(SG.server_label, server)]

    def requests(self, matchers: Sequence[str], window: str = RATE_INTERVAL, group: Sequence[str] = ()) -> str:
        """Calls per second."""
        return f"sum{by(group)} (rate({selector(SG.request_total, matchers)}[{window}]))"

    def failed(self, matchers: Sequence[str], window: str = RATE_INTERVAL, group: Sequence[str] = ()) -> str:
        """Failed calls per second."""
        return f"sum{by(group)} (rate({selector(SG.request_failed_total, matchers)}[{window}]))"

    def error_ratio(self, matchers: Sequence[str], window: str = RATE_INTERVAL, group: Sequence[str] = ()) -> str:
        """Share of failed calls."""
        return ratio_or_zero(self.failed(matchers, window, group), self.requests(matchers, window, group))

    # -- node graph frames (instant queries over the dashboard range)

    def _as_node(self, expr: str, label: str) -> str:
        # label_join with one source label copies it without a `$1` template Grafana might interpolate
        node = f'label_join({expr}, "{NODE_ID}", "", "{label}")'
        return f'label_join(sum by ({NODE_ID}) ({node}), "{NODE_TITLE}", "", "{NODE_ID}")'

    def node_requests(self) -> str:
        """Per node: calls received per second; callers that receive nothing (e.g. ``user``) read 0."""
        served = self._as_node(self.requests([], RANGE, [SG.server_label]), SG.server_label)
        callers = self._as_node(self.requests([], RANGE, [SG.client_label]), SG.client_label)
        return f"{served} or {callers} * 0"

    def node_error_ratio(self) -> str:
        """Per node: share of the calls it received that failed."""
        failed = self._as_node(self.failed([], RANGE, [SG.server_label]), SG.server_label)
        total = self._as_node(self.requests([], RANGE, [SG.server_label]), SG.server_label)
        return ratio_or_zero(failed, total)

    def _as_edge(self, expr: str) -> str:
        edge = f'label_join({expr}, "{NODE_ID}", "{EDGE_SEPARATOR}", "{SG.client_label}", "{SG.server_label}")'
        edge = f'label_join({edge}, "{EDGE_SOURCE}", "", "{SG.client_label}")'
        return f'label_join({edge}, "{EDGE_TARGET}", "", "{SG.server_label}")'

    def edge_requests(self) -> str:
        """Per observed edge: calls per second over the range."""
        return self._as_edge(self.requests([], RANGE, [SG.client_label, SG.server_label]))

    def edge_error_ratio(self) -> str:
        """Per observed edge: share of failed calls over the range."""
        return self._as_edge(self.error_ratio([], RANGE, [SG.client_label, SG.server_label]))

    # -- declared vs observed topology

    def declared_edge_traffic(self) -> str:
        """Calls per second over the range for every declared edge, 0 for an edge with no traffic.

        Declared edges come from the recorded ``naming.DECLARED_CALL`` series, so the query stays the
        same size however many calls the spec declares.
        """
        observed = self.requests([], RANGE, [SG.client_label, SG.server_label])
        on = f"on ({SG.client_label}, {SG.server_label})"
        return f"({observed} and {on} {naming.DECLARED_CALL}) or {on} ({naming.DECLARED_CALL} * 0)"

    def undeclared_edges(self, any_declared: bool) -> str:
        """Observed edges the spec does not declare, with their call rate over the range."""
        observed = self.requests([], RANGE, [SG.client_label, SG.server_label])
        if not any_declared:
            return observed
        return f"{observed} unless on ({SG.client_label}, {SG.server_label}) {naming.DECLARED_CALL}"


class RecordedQueries(NamedTuple):
    """Queries on the recording rules' series."""

    plan: Plan

    def service(self, measure: str, window: str = "5m") -> str:
        """A service-level recorded measure, one series per service."""
        label = self.plan.span_metrics.service_label
        return f"sum by ({label}) ({naming.recorded('service', measure, window)})"

    def sli_error(self, slo: PlannedSLO, kind: str, window: str) -> str:
        """The SLO's error ratio (bad events / all events) over ``window``."""
        matchers = [eq(naming.SLO_LABEL, slo.name), eq(naming.SLO_KIND_LABEL, kind)]
        return f"sum({selector(naming.recorded('slo', 'sli_error', window), matchers)})"

    def window_error(self, slo: PlannedSLO, kind: str) -> str:
        """The error ratio over the SLO's whole window: the series the rules record for it (bad events over
        all events in the window, so weighted by traffic) and the alerts' windows come from.

        Not an average of the 5m ratio over the window: that weighs a quiet night's 5m as much as a busy
        hour's, disagrees with the alerts, and reads every 5m sample of the window on each refresh.
        """
        return self.sli_error(slo, kind, naming.slo_window_text(slo.window))

    def compliance(self, slo: PlannedSLO, kind: str) -> str:
        """Share of good events over the SLO's window."""
        return f"1 - {self.window_error(slo, kind)}"

def slo_objectives(slo: PlannedSLO) -> list[tuple[str, float]]:
    """(slo_kind, objective) pairs of an SLO, availability first."""
    out = []
    if slo.availability is not None:
        out.append(("availability", slo.availability))
    if slo.latency_objective is not None:
        out.append(("latency", slo.latency_objective))
    return out


class SamplingQueries:
    """The Collector's tail-sampling and pipeline self-metrics."""

    def rate(self, metric: str, matchers: Sequence[str] = (), group: Sequence[str] = ()) -> str:
        """Per-second rate summed over replicas."""
        return f"sum{by(group)} (rate({selector(metric, matchers)}[{RATE_INTERVAL}]))"

    def received(self) -> str:
        """New traces per second entering the sampler."""
        return self.rate(TS.new_trace_id_received)

    def decided(self, sampled: bool | None = None) -> str:
        """Traces decided per second (kept, not kept, or all)."""
        matchers = [] if sampled is None else [eq(TS.sampled_label, "true" if sampled else "false")]
        return self.rate(TS.global_count_traces_sampled, matchers)

    def kept_ratio(self) -> str:
        """Share of decided traces that were kept."""
        return ratio_or_zero(self.decided(True), self.decided())

    def policy_kept(self, policy_label_value: str) -> str:
        """Traces per second a policy voted to keep."""
        return self.rate(TS.count_traces_sampled, [eq(TS.policy_label, policy_label_value),
                                                   eq(TS.sampled_label, "true")])

    def policy_dropped(self, policy_label_value: str) -> str:
        """Traces per second a drop policy dropped (drop policies never vote sampled=true)."""
        return self.rate(TS.count_traces_sampled, [eq(TS.policy_label, policy_label_value),
                                                   eq(TS.decision_label, "dropped")])

    def policy_matched_ratio(self, policy_label_value: str, *, drop: bool = False) -> str:
        """Share of evaluated traces a policy matched: voted to keep, or, for a drop policy, dropped."""
        matcher = [eq(TS.policy_label, policy_label_value)]
        hit = eq(TS.decision_label, "dropped") if drop else eq(TS.sampled_label, "true")
        matched = self.rate(TS.count_traces_sampled, [*matcher, hit])
        return ratio_or_zero(matched, self.rate(TS.count_traces_sampled, matcher))

    def dropped_too_early(self) -> str:
        """Traces evicted from the buffer before their decision."""
        return self.rate(TS.dropped_too_early)

    def in_memory(self) -> str:
        """Traces buffered awaiting a decision, summed over replicas."""
        return f"sum({TS.traces_on_memory})"
