"""Telemetry-pipeline health: a Collector not scraped, tail sampling dropping traces early, the Collector
refusing or failing to export spans (each as a share of all, not on any single span, and only above a minimum
volume), and (Tempo as
span-metrics source) the metrics-generator limiting series.
"""

from __future__ import annotations

from obsgen.plan import Plan, naming
from obsgen.targets.prometheus import sim
from obsgen.targets.prometheus.rules.common import make_alert, pct
from obsgen.targets.prometheus.rules.model import (
    Alert,
    CounterFlow,
    Group,
    Scenario,
    Traffic,
    Value,
    ValueFormat,
    by,
    num,
    selector,
)

HEALTH_FOR = "10m"
LOSS_RATIO = 0.01
"""Share of spans (or traces) refused, failed or dropped over 5m above which the pipeline alerts: one lost
span among millions is not an incident, 1% of all of them is (and is what back-pressure looks like)."""
MIN_PER_SECOND = 1.0
"""Spans (traces) per second a Collector must handle over 5m before a loss share can alert: below 300 in
5m, 1% is three spans, and one refused retry at a trickle of test traffic would page as a 30% loss."""
COLLECTOR_TARGET = ((naming.JOB_LABEL, naming.COLLECTOR_JOB), (naming.INSTANCE_LABEL, "otelcol-0:8888"))
TEMPO_TARGET = ((naming.TEMPO_TENANT_LABEL, "single-tenant"),)
SPANS_PER_MINUTE = 6000.0


def _counter_alert(plan: Plan, *, name: str, metric: str, keys: tuple[str, ...], target: tuple[tuple[str, str], ...],
                   what: str, why: str, dashboard_kind: str) -> Alert:
    """A counter that must not grow at all (no natural denominator)."""
    def predict(traffic: Traffic) -> list:
        return [(labels, rate) for labels, rate in sorted(sim.counter_rates(traffic, metric, keys).items()) if rate > 0]

    return make_alert(
        plan, None, name=name,
        expr=f"sum {by(*keys)} (rate({metric}[5m])) > 0",
        for_=HEALTH_FOR, severity=naming.SEVERITY_TICKET,
        summary=(f"{plan.name}: {what}",),
        description=(Value(ValueFormat.NUMBER), f"/s {why} ({metric}, for {HEALTH_FOR})."),
        predict=predict,
        scenarios=(
            Scenario(f"{name}: counter growing", Traffic(counters=(CounterFlow(metric, target, 30.0),))),
            Scenario(f"{name}: counter flat", Traffic(counters=(CounterFlow(metric, target, 0.0),))),
        ),
        dashboard_kind=dashboard_kind,
    )


def _loss_alert(plan: Plan, *, name: str, lost: str, other: str, other_includes_lost: bool, what: str, why: str
                ) -> Alert:
    """Share of spans (traces) lost over 5m above LOSS_RATIO, per Collector: ``lost / all``, where all is
    ``other`` (when it already counts the lost ones, e.g. traces received) or ``lost + other``."""
    keys = (naming.JOB_LABEL, naming.INSTANCE_LABEL)
    lost_rate, other_rate = f"sum {by(*keys)} (rate({lost}[5m]))", f"sum {by(*keys)} (rate({other}[5m]))"
    total = other_rate if other_includes_lost else f"({lost_rate}\n+\n{other_rate})"

    def predict(traffic: Traffic) -> list:
        bad, rest = sim.counter_rates(traffic, lost, keys), sim.counter_rates(traffic, other, keys)
        out = []
        for labels in sorted(set(bad) & set(rest)):
            all_ = rest[labels] if other_includes_lost else bad[labels] + rest[labels]
            if all_ > MIN_PER_SECOND and bad[labels] / all_ > LOSS_RATIO:
                out.append((labels, bad[labels] / all_))
        return out

    def traffic(share: float, per_minute: float = SPANS_PER_MINUTE) -> Traffic:
        lost_pm = per_minute * share
        rest_pm = per_minute if other_includes_lost else per_minute - lost_pm
        return Traffic(counters=(CounterFlow(lost, COLLECTOR_TARGET, lost_pm),
                                 CounterFlow(other, COLLECTOR_TARGET, rest_pm)))

    return make_alert(
        plan, None, name=name,
        expr=f"(\n{lost_rate}\n/\n{total}\n> {num(LOSS_RATIO)}\n)\nand\n{total}\n> {num(MIN_PER_SECOND)}",
        for_=HEALTH_FOR, severity=naming.SEVERITY_TICKET,
        summary=(f"{plan.name}: {what}",),
        description=(Value(ValueFormat.PERCENT), f" {why} ({lost}, over 5m for {HEALTH_FOR}; "
                     f"threshold {pct(LOSS_RATIO)}, at more than {num(MIN_PER_SECOND)}/s)."),
        predict=predict,
        scenarios=(
            Scenario(f"{name}: {pct(5 * LOSS_RATIO)} lost", traffic(5 * LOSS_RATIO)),
            Scenario(f"{name}: a few spans lost", traffic(LOSS_RATIO / 50)),
            Scenario(f"{name}: nothing lost", traffic(0.0)),
            # half of a trickle lost (0.5/s in all): too little traffic for a share to mean anything
            Scenario(f"{name}: half of a trickle lost", traffic(0.5, per_minute=30.0)),
        ),
        dashboard_kind="sampling",
    )


def collector_down_alert(plan: Plan) -> Alert:
    """A Collector scrape job failing (``up == 0``) or absent: without it no pipeline alert can fire."""
    jobs = naming.collector_jobs(plan.spec.collector.replicas)
    up = naming.UP_METRIC
    parts = []
    for job in jobs:
        mine = selector(up, [(naming.JOB_LABEL, "=", job)])
        parts += [f"{mine} == 0", f"absent({mine}) * 0"]

    def predict(traffic: Traffic) -> list:
        out = []
        for job in jobs:
            targets = [c for c in traffic.counters if c.metric == up and dict(c.labels).get(naming.JOB_LABEL) == job]
            if not targets:
                out.append((((naming.JOB_LABEL, job),), 0.0))
            out += [(tuple(sorted(c.labels)), 0.0) for c in targets if c.start == 0 and c.per_minute == 0]
        return sorted(out)

    def scraped(value: float) -> Traffic:
        return Traffic(counters=tuple(
            CounterFlow(up, ((naming.INSTANCE_LABEL, f"{job}-0:8888"), (naming.JOB_LABEL, job)), 0.0, value)
            for job in jobs))

    return make_alert(
        plan, None, name=naming.ALERTS.collector_down,
        expr="\nor\n".join(parts),
        for_=HEALTH_FOR, severity=naming.SEVERITY_TICKET,
        summary=(f"{plan.name}: a Collector is not scraped",),
        description=("up = ", Value(ValueFormat.NUMBER), ": Prometheus could not scrape the Collector's own "
                     f"metrics (:8888) for {HEALTH_FOR}, or has no such target: no telemetry-pipeline alert can "
                     "fire.",),
        predict=predict,
        scenarios=(
            Scenario("no Collector target", Traffic()),
            Scenario("Collector scrape failing", scraped(0.0)),
            Scenario("Collector scraped", scraped(1.0)),
        ),
        dashboard_kind="sampling",
    )


def health_group(plan: Plan) -> Group:
    """The pipeline alerts; Tempo's series-limit alert only when Tempo computes span metrics."""
    ts, ch = naming.TAIL_SAMPLING, naming.COLLECTOR_HEALTH
    rules = [
        collector_down_alert(plan),
        _loss_alert(
            plan, name=naming.ALERTS.tail_sampling_dropped_too_early, lost=ts.dropped_too_early,
            other=ts.new_trace_id_received, other_includes_lost=True,
            what="tail sampling drops traces before deciding",
            why="of new traces were dropped before their sampling decision: num_traces is too small for "
                "decision_wait x new traces/s",
        ),
        _loss_alert(
            plan, name=naming.ALERTS.collector_refusing_spans, lost=ch.receiver_refused_spans,
            other=ch.receiver_accepted_spans, other_includes_lost=False, what="the Collector refuses spans",
            why="of received spans were refused by a Collector receiver (memory limiter back-pressure or "
                "invalid data)",
        ),
        _loss_alert(
            plan, name=naming.ALERTS.collector_export_failing, lost=ch.exporter_send_failed_spans,
            other=ch.exporter_sent_spans, other_includes_lost=False, what="the Collector fails to export spans",
            why="of spans failed to export from the Collector (Tempo or the next tier unreachable or refusing)",
        ),
    ]
    if plan.span_metrics.source == "tempo":
        rules.append(_counter_alert(
            plan, name=naming.ALERTS.tempo_series_limited, metric=ch.tempo_series_limited,
            keys=(naming.TEMPO_TENANT_LABEL,), target=TEMPO_TARGET,
            what="Tempo's metrics-generator drops new series",
            why="series were not created by Tempo's metrics-generator because max_active_series was reached, "
                "so span metrics and the service graph are incomplete",
            dashboard_kind="overview",
        ))
    return Group(f"{plan.name}-telemetry-health", tuple(rules))
