"""The one service dashboard every instrumented service shares: a ``service`` variable picks the service.

RED with exemplars, endpoints, declared downstream calls, recent traces and logs, and one SLO row repeated
over a hidden ``slo`` variable. Nothing in the file is per service: every query reads the variable (escaped
at view time, see ``variables``) and the SLO panels read the SLO metadata recordings by label
(``rules.slo_meta``), so the file's size depends on the spec's distinct SLO windows only, not on its
services or SLOs (issue #15: one dashboard per service was 48 MB at 1,000 services).

Databases, caches, queues and external services have no spans of their own, so they appear as
downstream series of their callers (from the service graph's client side), not as dashboard values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from obsgen.emit.escape import grafana_text
from obsgen.plan import Plan, naming
from obsgen.spec.durations import Duration
from obsgen.targets.grafana.dashboards import panel_kinds
from obsgen.targets.grafana.dashboards import variables as var
from obsgen.targets.grafana.dashboards.field_config import threshold_steps
from obsgen.targets.grafana.dashboards.links import SERVICE_NAME_ATTRIBUTE, loki_label
from obsgen.targets.grafana.dashboards.panels import (
    ERROR_RATIO_STEPS,
    GRID_WIDTH,
    H_GRAPH,
    H_STAT,
    H_TABLE,
    DashboardSpec,
    Layout,
    Panels,
    prometheus_ref,
    system_dashboards_link,
    system_tag,
)
from obsgen.targets.grafana.dashboards.queries import (
    SG,
    SpanMetricsQueries,
    by,
    kind_matcher,
    ratio_or_zero,
    selector,
)
from obsgen.targets.grafana.dashboards.query_targets import DataSourceRef, LokiTarget, TempoTarget
from obsgen.targets.grafana.dashboards.uids import DASHBOARDS_DIR, templated_service_uid
from obsgen.targets.prometheus.rules import slo_meta

QUANTILES = ((0.5, "p50"), (0.95, "p95"), (0.99, "p99"))
# The factors of the alert tiers, drawn as lines on burn-rate panels (the same for every SLO).
BURN_STEPS = tuple(
    (factor, "red" if severity == "page" else "orange")
    for severity, _, _, factor in sorted(naming.BURN_RATE_TIERS, key=lambda t: t[3])
)
BUDGET_STEPS = ((0.0, "orange"), (0.25, "green"))
# Synthetic label naming the window of a burn-rate series in its legend.
WINDOW_LABEL = "window"
TRACES_LIMIT = 20


def _source_note(plan: Plan) -> str:
    if plan.span_metrics.source == "tempo":
        return " Span metrics come from Tempo's metrics-generator, after sampling: rates count kept traces only."
    return " Span metrics come from the Collector's spanmetrics connector, before sampling: rates are unbiased."


def _server(plan: Plan) -> list[str]:
    """Entry spans of the chosen service: server spans, and consumer spans where any service consumes a queue."""
    names = plan.span_metrics
    return [var.matcher(names.service_label, var.SERVICE), kind_matcher(names.span_kind_label, plan.entry_kind)]


def _red(layout: Layout, p: Panels, plan: Plan) -> None:
    sm = SpanMetricsQueries(plan)
    srv = _server(plan)
    note = _source_note(plan)
    layout.row("Requests, errors, latency")
    stats = [
        p.stat("Requests", p.target(sm.requests(srv), "A"), "reqps", description="Entry spans per second." + note),
        p.stat("Error ratio", p.target(sm.error_ratio(srv), "A"), "percentunit",
               thresholds=ERROR_RATIO_STEPS, description="Share of entry spans with status ERROR."),
        p.stat("p95 latency", p.target(sm.quantile(0.95, srv), "A"), "s"),
        p.stat("p99 latency", p.target(sm.quantile(0.99, srv), "A"), "s"),
    ]
    layout.spread(stats, H_STAT)
    layout.add(p.timeseries(
        "Request rate", [p.target(sm.requests(srv), "requests", "requests", exemplar=True),
                         p.target(sm.errors(srv), "errors", "errors", exemplar=True)], "reqps",
        description="Entry spans per second, all and failed. Exemplar points open the trace in Tempo." + note,
    ), 8, H_GRAPH)
    layout.add(p.timeseries(
        "Error ratio", [p.target(sm.error_ratio(srv), "A", "error ratio")], "percentunit",
        thresholds=[(plan.spec.alerting.error_ratio_threshold, "red")],
        description="Share of failed entry spans. Line: the error-ratio alert threshold; the SLO rows below "
                    "show each SLO against its own objective.",
    ), 8, H_GRAPH)
    layout.add(p.timeseries(
        "Latency", [p.target(sm.quantile(q, srv), label, label, exemplar=True) for q, label in QUANTILES], "s",
        description="Entry span latency quantiles from the duration histogram; exemplar points open the "
                    "trace in Tempo. The SLO rows below show each latency SLO's share of slow requests.",
    ), 8, H_GRAPH)


def _endpoints(layout: Layout, p: Panels, plan: Plan) -> None:
    sm = SpanMetricsQueries(plan)
    srv = _server(plan)
    group = [plan.span_metrics.span_name_label]
    legend = "{{" + plan.span_metrics.span_name_label + "}}"
    layout.row("Endpoints")
    layout.spread([
        p.timeseries("Requests by endpoint", [p.target(sm.requests(srv, group), "A", legend, exemplar=True)],
                     "reqps", description="Entry spans per second by span name (the endpoint route)."),
        p.timeseries("Error ratio by endpoint", [p.target(sm.error_ratio(srv, group), "A", legend)],
                     "percentunit", thresholds=ERROR_RATIO_STEPS),
        p.timeseries("p99 latency by endpoint", [p.target(sm.quantile(0.99, srv, group), "A", legend,
                                                          exemplar=True)], "s"),
    ], H_GRAPH)


def _declared(expr: str) -> str:
    """Only the series of calls the spec declares (the recorded declared-calls series, by label)."""
    return f"({expr}) and on ({SG.client_label}, {SG.server_label}) {naming.DECLARED_CALL}"


def _downstream(layout: Layout, p: Panels, plan: Plan) -> None:
    if not plan.graph_edges:
        return  # no declared call: the declared-calls series does not exist
    client = [var.matcher(SG.client_label, var.SERVICE)]
    edge = [SG.client_label, SG.server_label]
    window = "$__rate_interval"
    requests = f"sum{by(edge)} (rate({selector(SG.request_total, client)}[{window}]))"
    failed = f"sum{by(edge)} (rate({selector(SG.request_failed_total, client)}[{window}]))"
    bucket = selector(SG.client_bucket, client)
    latency = f"histogram_quantile(0.99, sum{by(['le', *edge])} (rate({bucket}[{window}])))"
    legend = "{{" + SG.server_label + "}}"
    note = (" From the service graph, one series per callee the spec declares (the graph has no endpoint label); "
            "a queue's consumers, a database's db.name or an external's peer.service name the callee.")
    layout.row("Downstream calls (declared)")
    layout.spread([
        p.timeseries("Calls to dependencies", [p.target(_declared(requests), "A", legend)], "reqps",
                     description="Calls per second." + note),
        p.timeseries("Dependency error ratio", [p.target(_declared(ratio_or_zero(failed, requests)), "A", legend)],
                     "percentunit", thresholds=ERROR_RATIO_STEPS, description="Share of failed calls." + note),
        p.timeseries("Dependency p99 latency", [p.target(_declared(latency), "A", legend)], "s",
                     description="p99 latency as the caller sees it (client side)." + note),
    ], H_GRAPH)


def _traces_and_logs(layout: Layout, plan: Plan) -> None:
    """Recent traces (Tempo) and logs (Loki) of the chosen service, as panel queries.

    A panel query is interpolated by its own data source with the variable's format, and the panel's
    Explore menu carries the interpolated query; an Explore *URL* would need the name escaped twice (for
    TraceQL or LogQL, then for the URL), which no single Grafana format does.
    """
    tempo = plan.spec.backends.tempo
    tempo_ref = DataSourceRef("tempo", tempo.datasource_uid)
    traceql = f"{{ {var.traceql_matcher(f'resource.{SERVICE_NAME_ATTRIBUTE}', var.SERVICE)} }}"
    layout.row("Traces and logs")
    traces = panel_kinds.table(
        "Recent traces", tempo_ref, [TempoTarget(traceql, "A", tempo_ref, TRACES_LIMIT)],
        description="The service's latest traces in Tempo (TraceQL on resource.service.name); a trace id opens "
                    "the trace, the panel menu opens the query in Explore.",
        thresholds=threshold_steps("green"),
    )
    label = loki_label(plan)
    loki = plan.spec.backends.loki
    if label is None or loki is None:
        layout.add(traces, GRID_WIDTH, H_TABLE)
        return
    loki_ref = DataSourceRef("loki", loki.datasource_uid)
    logs = panel_kinds.logs(
        "Logs", loki_ref, LokiTarget(f"{{{var.matcher(label, var.SERVICE)}}}", "A", loki_ref),
        description=grafana_text(f"The service's log stream in Loki (label {label}, mapped from service.name); "
                                 "the panel menu opens the query in Explore."),
    )
    layout.add(traces, GRID_WIDTH // 2, H_TABLE)
    layout.add(logs, GRID_WIDTH // 2, H_TABLE)


# -- the SLO row, repeated over the hidden `slo` variable


def _windows(plan: Plan) -> list[Duration]:
    """The distinct SLO windows of the spec, shortest first."""
    seen: dict[int, Duration] = {}
    for slo in plan.slos:
        seen.setdefault(slo.window.ns, slo.window)
    return [seen[ns] for ns in sorted(seen)]


def _slo(metric: str, extra: Sequence[str] = ()) -> str:
    return selector(metric, [var.matcher(naming.SLO_LABEL, var.SLO), *extra])


SLO_KEYS = f"on ({naming.SLO_LABEL}, {naming.SLO_KIND_LABEL})"


def _error_ratio_at(plan: Plan, window_of: Callable[[Duration], str]) -> str:
    """The chosen SLO's recorded error ratio over a window that depends on the SLO's own window.

    ``window_of(slo_window) -> "1h"``. With one SLO window in the spec that is one selector; with several,
    one ``or`` branch per distinct window, each kept only for the SLOs of that window (the metadata
    recordings' ``slo_window`` label). A ``window`` label names the window in the legend.
    """
    windows = _windows(plan)
    branches = []
    for slo_window in windows:
        w = window_of(slo_window)
        series = _slo(naming.recorded("slo", "sli_error", w))
        if len(windows) > 1:
            only = _slo(slo_meta.OBJECTIVE, [f'{slo_meta.WINDOW_LABEL}="{slo_window.prom()}"'])
            series = f"({series} and {SLO_KEYS} {only})"
        branches.append(f'label_replace({series}, "{WINDOW_LABEL}", "{w}", "", "")')
    return " or ".join(branches)


def _slos(layout: Layout, p: Panels, plan: Plan) -> None:
    if not plan.slos:
        return
    budget = f"(1 - {_slo(slo_meta.OBJECTIVE)})"
    legend = "{{" + naming.SLO_KIND_LABEL + "}} over {{" + WINDOW_LABEL + "}}"
    layout.row(f"SLO ${{{var.SLO}}}", repeat=var.SLO, raw_title=True)
    burn = []
    for i in range(len(naming.BURN_RATE_TIERS)):
        errors = _error_ratio_at(plan, lambda w, i=i: naming.burn_tiers(w)[i].long)
        burn.append(p.target(f"({errors}) / {SLO_KEYS} {budget}", f"tier{i}", legend))
    layout.add(p.timeseries(
        "Burn rate", burn, "x", thresholds=BURN_STEPS,
        description="Error-budget burn rate of the SLO over the long window of each alert tier (scaled to the "
                    "SLO's window as the alerts are). 1 spends the budget exactly over the window; lines mark "
                    "the alerting factors (red pages, orange tickets).",
    ), 10, H_GRAPH)
    base = naming.window_text(naming.BASE_WINDOW_MINUTES)
    good = [p.target(f"1 - ({_error_ratio_at(plan, lambda w: base)})", "good5m", legend),
            p.target(f"1 - ({_error_ratio_at(plan, lambda w: naming.burn_tiers(w)[0].long)})", "goodlong", legend),
            p.target(_slo(slo_meta.OBJECTIVE), "objective", "objective ({{" + naming.SLO_KIND_LABEL + "}})")]
    layout.add(p.timeseries(
        "Good requests", good, "percentunit", base_color="green",
        description="Share of good requests (an availability SLO: not failed; a latency SLO: under its "
                    "threshold), with the SLO's objective as a line.",
    ), 8, H_GRAPH)
    layout.add(p.stat(
        # instant: each point would read the whole SLO window again
        "Error budget left", p.target(f"1 - {_slo(slo_meta.PERIOD_BURN_RATE)}", "A",
                                      "{{" + naming.SLO_KIND_LABEL + "}}", instant=True),
        "percentunit", thresholds=BUDGET_STEPS, base_color="red", decimals=1,
        description="Share of the error budget over the SLO's whole window not yet spent.",
    ), 6, H_GRAPH)


def service_dashboard(plan: Plan) -> DashboardSpec:
    """The one dashboard of every instrumented service."""
    prom = prometheus_ref(plan)
    p = Panels(prom)
    layout = Layout()
    _red(layout, p, plan)
    _endpoints(layout, p, plan)
    _downstream(layout, p, plan)
    _traces_and_logs(layout, plan)
    _slos(layout, p, plan)
    uid = templated_service_uid(plan)
    spans = naming.recorded("service", "spans", naming.window_text(naming.BASE_WINDOW_MINUTES))
    return DashboardSpec(
        uid=uid,
        path=f"{DASHBOARDS_DIR}/{uid}.json",
        title=f"{plan.name} / Service",
        summary="One service (pick it above): RED metrics with exemplars, endpoints, declared dependencies, "
                "traces, logs and SLOs.",
        tags=(system_tag(plan), "obsgen-service"),
        panels=layout.placed,
        links=[system_dashboards_link(plan)],
        time_from="now-1h",
        refresh="30s",
        variables=tuple(var.service_variables(plan, prom, spans, slo_meta.OBJECTIVE if plan.slos else None)),
    )
