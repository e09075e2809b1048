"""Telemetry-pipeline health: tail sampling dropping traces early, the Collector refusing or failing
to export spans, and (Tempo as span-metrics source) the metrics-generator limiting series.
"""

from __future__ import annotations

from obsgen import naming
from obsgen.plan import Plan
from obsgen.targets import rules_sim as sim
from obsgen.targets.rules_common import make_alert
from obsgen.targets.rules_model import (
    Alert,
    CounterFlow,
    Group,
    Scenario,
    Traffic,
    Value,
    ValueFormat,
    by,
)

HEALTH_FOR = "10m"
COLLECTOR_TARGET = ((naming.JOB_LABEL, "otelcol"), (naming.INSTANCE_LABEL, "otelcol-0:8888"))
TEMPO_TARGET = ((naming.TEMPO_TENANT_LABEL, "single-tenant"),)


def _counter_alert(plan: Plan, *, name: str, metric: str, keys: tuple[str, ...], target: tuple[tuple[str, str], ...],
                   what: str, why: str, dashboard_kind: str) -> Alert:
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


def health_group(plan: Plan) -> Group:
    """The pipeline alerts; Tempo's series-limit alert only when Tempo computes span metrics."""
    ts, ch = naming.TAIL_SAMPLING, naming.COLLECTOR_HEALTH
    collector_keys = (naming.JOB_LABEL, naming.INSTANCE_LABEL)
    rules = [
        _counter_alert(
            plan, name=naming.ALERTS.tail_sampling_dropped_too_early, metric=ts.dropped_too_early,
            keys=collector_keys, target=COLLECTOR_TARGET, what="tail sampling drops traces before deciding",
            why="traces were dropped before their sampling decision: num_traces is too small for "
                "decision_wait x new traces/s", dashboard_kind="sampling",
        ),
        _counter_alert(
            plan, name=naming.ALERTS.collector_refusing_spans, metric=ch.receiver_refused_spans,
            keys=collector_keys, target=COLLECTOR_TARGET, what="the Collector refuses spans",
            why="spans were refused by a Collector receiver (memory limiter back-pressure or invalid data)",
            dashboard_kind="sampling",
        ),
        _counter_alert(
            plan, name=naming.ALERTS.collector_export_failing, metric=ch.exporter_send_failed_spans,
            keys=collector_keys, target=COLLECTOR_TARGET, what="the Collector fails to export spans",
            why="spans failed to export from the Collector (Tempo or the next tier unreachable or refusing)",
            dashboard_kind="sampling",
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
