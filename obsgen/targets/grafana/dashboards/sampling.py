"""Sampling health: what the tail sampler receives, keeps and loses, per policy, beside the span metrics."""

from __future__ import annotations

from obsgen.plan import Plan, naming
from obsgen.targets.grafana.dashboards.panels import (
    H_GRAPH,
    H_STAT,
    DashboardSpec,
    Layout,
    Panels,
    prometheus_ref,
    system_dashboards_link,
    system_tag,
)
from obsgen.targets.grafana.dashboards.queries import SamplingQueries, SpanMetricsQueries
from obsgen.targets.grafana.dashboards.uids import dashboard_file, dashboard_uid

HEALTH = naming.COLLECTOR_HEALTH


def _overview(layout: Layout, p: Panels) -> None:
    q = SamplingQueries()
    layout.row("Decisions")
    layout.spread([
        p.stat("Traces received", p.target(q.received(), "A"), "short", description="New trace ids per second."),
        p.stat("Traces kept", p.target(q.decided(True), "A"), "short", description="Traces kept per second."),
        p.stat("Kept ratio", p.target(q.kept_ratio(), "A"), "percentunit", decimals=1),
        p.stat("Dropped too early", p.target(q.dropped_too_early(), "A"), "short",
               thresholds=[(1e-9, "red")],
               description="Traces evicted before their decision per second: raise num_traces or shorten "
                           "decision_wait. Anything above zero loses traces."),
    ], H_STAT)
    layout.add(p.timeseries("Traces received vs kept", [
        p.target(q.received(), "received", "received"),
        p.target(q.decided(True), "kept", "kept"),
        p.target(q.decided(False), "not_kept", "not kept"),
    ], "short", description="Traces per second entering the sampler and the decisions taken on them."), 12, H_GRAPH)
    layout.add(p.timeseries("Kept ratio", [p.target(q.kept_ratio(), "A", "kept ratio")], "percentunit",
                            description="Share of decided traces that were kept."), 12, H_GRAPH)


def _policies(layout: Layout, p: Panels, plan: Plan) -> None:
    q = SamplingQueries()
    layout.row("Policies")
    kept, ratio = [], []
    for i, policy in enumerate(plan.policies):
        value = naming.policy_label_value(policy.name)
        drop = policy.type == "drop"
        # a drop policy never votes sampled=true: its hits are recorded as decision="dropped"
        legend = f"{policy.name} (dropped)" if drop else policy.name
        kept.append(p.target(q.policy_dropped(value) if drop else q.policy_kept(value), f"p{i}", legend))
        ratio.append(p.target(q.policy_matched_ratio(value, drop=drop), f"p{i}", legend))
    note = (" One series per policy of the spec; a trace is kept when any policy keeps it and no drop policy "
            "drops it. Drop policies show the traces they dropped.")
    layout.add(p.timeseries("Decisions by policy", kept, "short",
                            description="Traces per second each policy voted to keep (or dropped)." + note),
               12, H_GRAPH)
    layout.add(p.timeseries("Policy match ratio", ratio, "percentunit",
                            description="Share of evaluated traces each policy matched." + note), 12, H_GRAPH)


def _buffer(layout: Layout, p: Panels) -> None:
    q = SamplingQueries()
    layout.row("Buffer")
    layout.add(p.timeseries("Traces dropped too early", [p.target(q.dropped_too_early(), "A", "dropped too early")],
                            "short", thresholds=[(1e-9, "red")],
                            description="Evicted from memory before a decision: the buffer is too small for "
                                        "traffic x decision_wait."), 12, H_GRAPH)
    layout.add(p.timeseries("Traces in memory", [p.target(q.in_memory(), "A", "in memory")], "short",
                            description="Traces buffered awaiting a decision, over all sampler replicas."),
               12, H_GRAPH)


def _span_metrics_vs_sampled(layout: Layout, p: Panels, plan: Plan) -> None:
    q = SamplingQueries()
    sm = SpanMetricsQueries(plan)
    if plan.span_metrics.source == "collector":
        note = ("Span metrics are computed before sampling, so the request rate counts every request while "
                "the trace rate counts kept traces only.")
    else:
        note = ("Span metrics come from Tempo after sampling, so both lines count kept traffic only; the "
                "unsampled request rate is not observable.")
    sq = SamplingQueries()
    layout.row("Span metrics vs sampled traces")
    layout.add(p.timeseries("Requests (span metrics) vs traces kept", [
        p.target(sm.requests(sm.all_servers()), "requests", "requests (server spans)"),
        p.target(q.decided(True), "kept", "traces kept"),
    ], "short", description=note), 12, H_GRAPH)
    pipeline = [
        p.target(sq.rate(HEALTH.receiver_accepted_spans), "accepted", "spans accepted"),
        p.target(sq.rate(HEALTH.receiver_refused_spans), "refused", "spans refused"),
        p.target(sq.rate(HEALTH.exporter_sent_spans), "sent", "spans exported"),
        p.target(sq.rate(HEALTH.exporter_send_failed_spans), "failed", "spans failed to export"),
    ]
    if plan.span_metrics.source == "tempo":
        pipeline.append(p.target(sq.rate(HEALTH.tempo_series_limited), "limited", "Tempo series limited"))
    layout.add(p.timeseries("Collector pipeline", pipeline, "short",
                            description="Spans per second through the Collector (all replicas). Refused or "
                                        "failed spans are lost telemetry."), 12, H_GRAPH)


def sampling_dashboard(plan: Plan) -> DashboardSpec:
    """The sampling health dashboard."""
    p = Panels(prometheus_ref(plan))
    layout = Layout()
    _overview(layout, p)
    _policies(layout, p, plan)
    _buffer(layout, p)
    _span_metrics_vs_sampled(layout, p, plan)
    return DashboardSpec(
        uid=dashboard_uid(plan, None, "sampling"),
        path=dashboard_file(plan, None, "sampling"),
        title=f"{plan.name} / Sampling",
        summary=f"System {plan.name}: tail-sampling decisions per policy, buffer health, and span metrics "
                "beside the sampled trace rate.",
        tags=(system_tag(plan), "obsgen-sampling"),
        panels=layout.placed,
        links=[system_dashboards_link(plan)],
        time_from="now-1h",
        refresh="30s",
    )
