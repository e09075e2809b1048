"""One dashboard per instrumented service: RED with exemplars, endpoints, declared downstream calls, SLOs.

Databases, caches, queues and external services have no spans of their own, so they appear as
downstream panels of their callers (from the service graph's client side), not as dashboards.
"""

from __future__ import annotations

from collections.abc import Sequence

from obsgen.plan import Plan, PlannedService, PlannedSLO, naming
from obsgen.spec.models import ServiceKind
from obsgen.targets.grafana.compat import dashboards_by_tag
from obsgen.targets.grafana.dashboards.links import service_links
from obsgen.targets.grafana.dashboards.panels import (
    ERROR_RATIO_STEPS,
    H_GRAPH,
    H_STAT,
    DashboardSpec,
    Layout,
    Panels,
    prometheus_ref,
    system_tag,
)
from obsgen.targets.grafana.dashboards.queries import (
    RecordedQueries,
    ServiceGraphQueries,
    SpanMetricsQueries,
    slo_objectives,
)
from obsgen.targets.grafana.dashboards.uids import dashboard_file, dashboard_uid

QUANTILES = ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
# The factors of the alert tiers, drawn as lines on burn-rate panels.
BURN_STEPS = tuple(
    (factor, "red" if severity == "page" else "orange")
    for severity, _, _, factor in sorted(naming.BURN_RATE_TIERS, key=lambda t: t[3])
)
BUDGET_STEPS = ((0.0, "orange"), (0.25, "green"))


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100, 10):g}%"


def _sorted_steps(steps: Sequence[tuple[float, str]]) -> list[tuple[float, str]]:
    # Grafana evaluates steps in order; equal values would hide each other, the later (redder) wins.
    by_value: dict[float, str] = {}
    for value, color in sorted(steps, key=lambda s: s[0]):
        by_value[value] = color
    return sorted(by_value.items())


def _source_note(plan: Plan) -> str:
    if plan.span_metrics.source == "tempo":
        return " Span metrics come from Tempo's metrics-generator, after sampling: rates count kept traces only."
    return " Span metrics come from the Collector's spanmetrics connector, before sampling: rates are unbiased."


def _kind_suffix(service: PlannedService) -> str:
    return "" if service.kind is ServiceKind.SERVICE else f" ({service.kind.value})"


def _service_wide(service: PlannedService) -> list[PlannedSLO]:
    return [slo for slo in service.slos if slo.endpoint is None]


def _red(layout: Layout, p: Panels, plan: Plan, service: PlannedService) -> None:
    sm = SpanMetricsQueries(plan)
    srv = sm.server(service.name)
    note = _source_note(plan)
    layout.row("Requests, errors, latency")
    stats = [
        p.stat("Requests", p.target(sm.requests(srv), "A"), "reqps", description="Server spans per second." + note),
        p.stat("Error ratio", p.target(sm.error_ratio(srv), "A"), "percentunit",
               thresholds=ERROR_RATIO_STEPS, description="Share of server spans with status ERROR."),
        p.stat("p95 latency", p.target(sm.quantile(0.95, srv), "A"), "s"),
        p.stat("p99 latency", p.target(sm.quantile(0.99, srv), "A"), "s"),
    ]
    layout.spread(stats, H_STAT)

    error_lines = [(plan.spec.alerting.error_ratio_threshold, "red")]
    error_lines += [(round(1 - slo.availability, 12), "orange") for slo in _service_wide(service)
                    if slo.availability is not None]
    latency_lines = [(slo.latency_threshold.seconds, "red") for slo in _service_wide(service)
                     if slo.latency_threshold is not None]
    layout.add(p.timeseries(
        "Request rate", [p.target(sm.requests(srv), "requests", "requests", exemplar=True),
                         p.target(sm.errors(srv), "errors", "errors", exemplar=True)], "reqps",
        description="Server spans per second, all and failed. Exemplar points open the trace in Tempo." + note,
    ), 8, H_GRAPH)
    layout.add(p.timeseries(
        "Error ratio", [p.target(sm.error_ratio(srv), "A", "error ratio")], "percentunit",
        thresholds=_sorted_steps(error_lines),
        description="Share of failed server spans. Lines: the alert threshold (red) and the error budget of "
                    "service-wide availability SLOs (orange).",
    ), 8, H_GRAPH)
    layout.add(p.timeseries(
        "Latency", [p.target(sm.quantile(q, srv), label, label, exemplar=True) for q, label in QUANTILES], "s",
        thresholds=_sorted_steps(latency_lines),
        description="Server span latency quantiles from the duration histogram; exemplar points open the "
                    "trace in Tempo. Lines: latency SLO thresholds.",
    ), 8, H_GRAPH)


def _endpoints(layout: Layout, p: Panels, plan: Plan, service: PlannedService) -> None:
    sm = SpanMetricsQueries(plan)
    srv = sm.server(service.name)
    group = [plan.span_metrics.span_name_label]
    legend = "{{" + plan.span_metrics.span_name_label + "}}"
    layout.row("Endpoints")
    layout.spread([
        p.timeseries("Requests by endpoint", [p.target(sm.requests(srv, group), "A", legend, exemplar=True)],
                     "reqps", description="Server spans per second by span name (the endpoint route)."),
        p.timeseries("Error ratio by endpoint", [p.target(sm.error_ratio(srv, group), "A", legend)],
                     "percentunit", thresholds=ERROR_RATIO_STEPS),
        p.timeseries("p99 latency by endpoint", [p.target(sm.quantile(0.99, srv, group), "A", legend,
                                                          exemplar=True)], "s"),
    ], H_GRAPH)


def _callees(plan: Plan, service: PlannedService) -> list[tuple[str, str]]:
    """(server label, legend) of every service-graph edge from ``service``, in declaration order.

    The server is named as the connector reports it (obsgen.plan.service_graph): a queue's consumers, a
    database's db.name, an external node's peer.service.
    """
    endpoints: dict[str, list[str]] = {}
    for call in service.calls:
        if call.endpoint is not None and call.endpoint not in endpoints.setdefault(call.callee, []):
            endpoints[call.callee].append(call.endpoint)
    out = []
    for edge in plan.graph_edges:
        if edge.caller != service.key:
            continue
        callee = plan.by_key[edge.callee]
        legend = callee.key + _kind_suffix(callee)
        if edge.via is not None:
            legend += f" (via {edge.via})"
        elif edge.server != callee.name:
            legend += f" as {edge.server}"
        if endpoints.get(edge.callee):
            legend += f" {', '.join(endpoints[edge.callee])}"
        out.append((edge.server, legend))
    return out


def _downstream(layout: Layout, p: Panels, plan: Plan, service: PlannedService) -> None:
    callees = _callees(plan, service)
    if not callees:
        return
    sg = ServiceGraphQueries()
    layout.row("Downstream calls (declared)")
    rate, errors, latency = [], [], []
    for i, (server, legend) in enumerate(callees):
        edge = sg.edge(service.name, server)
        ref = f"call{i}"
        rate.append(p.target(sg.requests(edge), ref, legend))
        errors.append(p.target(sg.error_ratio(edge), ref, legend))
        latency.append(p.target(sg.client_quantile(0.99, edge), ref, legend))
    note = " From the service graph, one series per callee declared in the spec (the graph has no endpoint label)."
    layout.spread([
        p.timeseries("Calls to dependencies", rate, "reqps", description="Calls per second." + note),
        p.timeseries("Dependency error ratio", errors, "percentunit", thresholds=ERROR_RATIO_STEPS,
                     description="Share of failed calls." + note),
        p.timeseries("Dependency p99 latency", latency, "s",
                     description="p99 latency as the caller sees it (client side)." + note),
    ], H_GRAPH)


def _slos(layout: Layout, p: Panels, plan: Plan, service: PlannedService) -> None:
    if not service.slos:
        return
    rec = RecordedQueries(plan)
    sm = SpanMetricsQueries(plan)
    layout.row("SLOs")
    for slo in service.slos:
        scope = slo.endpoint.route.span_name if slo.endpoint is not None else None
        objectives = slo_objectives(slo)
        for kind, objective in objectives:
            title = f"{slo.name} ({kind})" if len(objectives) > 1 else slo.name
            # the long windows of the alert tiers, scaled to this SLO's window exactly as the rules are
            tiers = naming.burn_tiers(slo.window)
            burn_windows = tuple(dict.fromkeys(t.long for t in tiers))
            burn = [p.target(rec.burn_rate(slo, kind, objective, w), f"burn{w}", f"burn rate {w}")
                    for w in burn_windows]
            layout.add(p.timeseries(
                f"{title}: burn rate", burn, "x", thresholds=BURN_STEPS,
                description=f"Error-budget burn rate of SLO {slo.name} ({kind}, objective {_percent(objective)} over "
                            f"{slo.window.prom()}). 1 spends the budget exactly over the window; lines mark "
                            "the alerting factors (red pages, orange tickets).",
            ), 10, H_GRAPH)
            if kind == "availability":
                sli = p.timeseries(
                    f"{title}: success ratio",
                    [p.target(f"1 - {rec.sli_error(slo, kind, w)}", f"sli{w}", f"success {w}")
                     for w in dict.fromkeys((naming.window_text(naming.BASE_WINDOW_MINUTES), tiers[0].long))],
                    "percentunit", thresholds=[(objective, "green")], base_color="red",
                    description=f"Share of good requests; the line is the objective ({_percent(objective)}).",
                )
            else:
                assert slo.latency_threshold is not None and slo.latency_objective is not None
                srv = sm.server(service.name, scope)
                label = f"p{slo.latency_objective * 100:g}"
                sli = p.timeseries(
                    f"{title}: {label} latency",
                    [p.target(sm.quantile(slo.latency_objective, srv), "A", label, exemplar=True)], "s",
                    thresholds=[(slo.latency_threshold.seconds, "red")],
                    description=f"{label} latency of the SLO's requests; the line is the threshold "
                                f"({slo.latency_threshold.prom()}). Exemplar points open the trace in Tempo.",
                )
            layout.add(sli, 8, H_GRAPH)
            layout.add(p.stat(
                # instant: each point would average the whole SLO window again
                f"{title}: error budget left",
                p.target(rec.budget_remaining(slo, kind, objective), "A", instant=True),
                "percentunit", thresholds=BUDGET_STEPS, base_color="red", decimals=1,
                description=f"Share of the {slo.window.prom()} error budget not yet spent.",
            ), 6, H_GRAPH)


def service_dashboard(plan: Plan, service: PlannedService) -> DashboardSpec:
    """The dashboard of one instrumented service."""
    p = Panels(prometheus_ref(plan))
    layout = Layout()
    _red(layout, p, plan, service)
    _endpoints(layout, p, plan, service)
    _downstream(layout, p, plan, service)
    _slos(layout, p, plan, service)
    summary = f"Service {service.key}: RED metrics with exemplars, endpoints, declared dependencies and SLOs."
    links = [dashboards_by_tag(f"{plan.name} dashboards", [system_tag(plan)]), *service_links(plan, service)]
    return DashboardSpec(
        uid=dashboard_uid(plan, service.key, "service"),
        path=dashboard_file(plan, service.key, "service"),
        title=f"{plan.name} / {service.key}",
        summary=summary,
        tags=(system_tag(plan), "obsgen-service"),
        panels=layout.panels,
        links=links,
        time_from="now-1h",
        refresh="30s",
    )
