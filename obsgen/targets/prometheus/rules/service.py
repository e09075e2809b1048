"""The service alerts, one rule each over every service: the error ratio (only where no service-wide SLO
covers the service), span metrics absent, and the service-graph alerts of every declared call.

These alerts differ between services only by the service's name and its ``team``, so each is one rule
that aggregates ``by (service_name)`` / ``(client, server)`` (issue 15: one copy per service was a third of a
1,000-service render). What differs per service comes in by label from the declared series
(rules.declared): ``group_left (team)`` copies the routing label, the declared series decide which
services and calls are alerted at all, and the absence alerts are "declared, unless observed":
``<declared> * 0 unless on (...) <recorded rate> > 0`` (the value is the observed rate, 0, as before).
Annotations name the service with ``{{ $labels.<label> }}``.

Tests per shape: one representative service per distinct ``team`` (per distinct routing label set) and,
for the edge alerts, one representative declared call per distinct caller team; every case feeds only its
representative's declared series (rules.declared), so promtool's whole-set comparison sees only them.
"""

from __future__ import annotations

from obsgen.plan import GraphEdge, Plan, PlannedService, naming
from obsgen.targets.prometheus import sim
from obsgen.targets.prometheus.rules import declared
from obsgen.targets.prometheus.rules.common import (
    enough_traffic,
    low_traffic_per_minute,
    make_alert,
    pct,
    resolved_team,
    service_dashboard_link,
    traffic_guard,
)
from obsgen.targets.prometheus.rules.model import (
    Alert,
    EdgeFlow,
    Group,
    Label,
    Scenario,
    SpanFlow,
    Traffic,
    Value,
    ValueFormat,
    num,
    selector,
)
from obsgen.targets.prometheus.rules.slo import REQUESTS_PER_MINUTE

RED_FOR = "10m"
ABSENT_FOR = "15m"
NO_TRAFFIC_FOR = "30m"
EDGE_REQUESTS_PER_MINUTE = 120.0


def _service_flow(plan: Plan, service: PlannedService, *, error_share: float = 0.0,
                  per_minute: float = REQUESTS_PER_MINUTE) -> SpanFlow:
    span = service.endpoints[0].route.span_name if service.endpoints else "obsgen-synthetic"
    return SpanFlow(service.name, span, naming.KIND_SERVER, per_minute, error_share=error_share,
                    latency=((plan.buckets[0].seconds, 1.0),))


def _recorded_samples(plan: Plan, service: PlannedService, error_share: float) -> tuple[tuple[str, str, float], ...]:
    """The service and endpoint recordings of every window, for the flow of ``_service_flow``."""
    sm = plan.span_metrics
    flow = _service_flow(plan, service, error_share=error_share)
    out = []
    for level in ("service", "endpoint"):
        matchers = [(sm.service_label, "=", service.name)]
        if level == "endpoint":
            matchers.append((sm.span_name_label, "=", flow.span_name))
        for window in naming.RED_WINDOWS:
            measures = [("requests", flow.per_minute / 60), ("error_ratio", error_share)]
            if level == "service" and window == naming.RED_WINDOWS[0]:
                # latency is recorded per service over the base window only (rules.recordings.latency_rules)
                measures.append(("latency_seconds_p50", plan.buckets[0].seconds / 2))
            for measure, value in measures:
                series = selector(naming.recorded(level, measure, window), matchers)  # type: ignore[arg-type]
                out.append((series, selector("", matchers), value))
    return tuple(out)


def representatives(plan: Plan, services: tuple[PlannedService, ...] | list[PlannedService]) -> list[PlannedService]:
    """The first of ``services`` per distinct ``team``: the only thing a shared rule's result differs by."""
    seen: dict[str | None, PlannedService] = {}
    for s in services:
        seen.setdefault(resolved_team(plan, s), s)
    return list(seen.values())


def _team_join(on: str, info: str) -> str:
    return f"* on ({on}) group_left ({naming.TEAM_LABEL})\n  {info}"


def error_ratio_alert(plan: Plan) -> Alert | None:
    """Server-span error ratio over alerting.error_ratio_threshold for 10m, with enough traffic, for every
    service the declared-service series marks (None: no service has the alert)."""
    covered = [s for s in plan.instrumented if declared.has_error_ratio_alert(s)]
    if not covered:
        return None
    sm = plan.span_metrics
    svc = sm.service_label
    thr = plan.spec.alerting.error_ratio_threshold
    guard = traffic_guard(plan, naming.recorded("service", "requests", "5m"), (svc,))
    info = selector(naming.DECLARED_SERVICE, [(declared.ERROR_RATIO_LABEL, "=", "true")])
    ratio = f"{naming.recorded('service', 'error_ratio', '5m')} > {num(thr)}{guard}".replace("\n", "\n  ")
    expr = f"(\n  {ratio}\n)\n{_team_join(svc, info)}"

    def predict(traffic: Traffic) -> list:
        out = []
        for labels in declared.declared_services(traffic):
            if labels[declared.ERROR_RATIO_LABEL] != "true":
                continue
            name = labels[svc]
            total = sim.span_rate(traffic, name, naming.KIND_SERVER)
            bad = sim.span_rate(traffic, name, naming.KIND_SERVER, errors=True)
            if not total or bad is None or not bad / total > thr or not enough_traffic(plan, total):
                continue
            out.append((((svc, name), *declared.team_labels(labels)), bad / total))
        return out

    low = low_traffic_per_minute(plan)
    scenarios: list[Scenario] = []

    def case(service: PlannedService, name: str, error_share: float, per_minute: float = REQUESTS_PER_MINUTE,
             samples: bool = False) -> Scenario:
        traffic = Traffic(spans=(_service_flow(plan, service, error_share=error_share, per_minute=per_minute),))
        return Scenario(f"{service.key}: {name}", declared.with_info(traffic, declared.service_info(plan, service)),
                        _recorded_samples(plan, service, error_share) if samples else ())

    for service in representatives(plan, covered):
        scenarios += [case(service, "errors over threshold", min(1.0, 4 * thr), samples=True),
                      case(service, "errors under threshold", thr / 4)]
        if low is not None:
            scenarios.append(case(service, "errors over threshold on too little traffic", 1.0, low))
    # a service its service-wide SLO covers has no error-ratio alert: failing, it stays silent here
    uncovered = [s for s in plan.instrumented if not declared.has_error_ratio_alert(s)]
    if uncovered:
        scenarios.append(case(uncovered[0], "errors over threshold, covered by its availability SLO",
                              min(1.0, 4 * thr)))
    name = Label(svc)
    return make_alert(
        plan, None, name=naming.ALERTS.service_error_ratio, expr=expr, shared=True,
        for_=RED_FOR, severity=naming.SEVERITY_TICKET,
        summary=(name, f": error ratio above {pct(thr)}"),
        description=(Value(ValueFormat.PERCENT), " of ", name,
                     f" server spans ended in error over the last 5m (threshold {pct(thr)})."),
        predict=predict, scenarios=tuple(scenarios), dashboard_url=service_dashboard_link(plan, svc),
    )


def span_metrics_absent_alert(plan: Plan) -> Alert:
    """No span metrics at all (any span kind) from a declared (instrumented) service for 15m."""
    sm = plan.span_metrics
    svc = sm.service_label
    spans = naming.recorded("service", "spans", "5m")
    expr = (f"group by ({svc}, {naming.TEAM_LABEL}) ({naming.DECLARED_SERVICE}) * 0\n"
            f"unless on ({svc})\n  {spans} > 0")

    def predict(traffic: Traffic) -> list:
        return [(((svc, labels[svc]), *declared.team_labels(labels)), 0.0)
                for labels in declared.declared_services(traffic) if not sim.span_rate(traffic, labels[svc])]

    scenarios: list[Scenario] = []
    for service in representatives(plan, plan.instrumented):
        info = declared.service_info(plan, service)
        scenarios += [
            Scenario(f"{service.key}: declared, no span metrics", declared.with_info(Traffic(), info)),
            Scenario(f"{service.key}: span metrics flowing",
                     declared.with_info(Traffic(spans=(_service_flow(plan, service),)), info)),
        ]
    name = Label(svc)
    return make_alert(
        plan, None, name=naming.ALERTS.span_metrics_absent, expr=expr, shared=True,
        for_=ABSENT_FOR, severity=naming.SEVERITY_TICKET,
        summary=("No span metrics from ", name),
        description=(name, " reported ", Value(ValueFormat.NUMBER),
                     f" spans/s in span metrics ({sm.calls}) for {ABSENT_FOR}: its instrumentation, the Collector "
                     "pipeline or remote write is broken."),
        predict=predict, scenarios=tuple(scenarios), dashboard_url=service_dashboard_link(plan, svc),
    )


def alerted_edges(plan: Plan) -> list[GraphEdge]:
    """The service-graph edges the edge alerts cover: every declared one whose caller is instrumented."""
    return [e for e in plan.graph_edges if plan.by_key[e.caller].instrumented]


def _alerted_calls(plan: Plan) -> str:
    """The declared calls whose client is a declared (instrumented) service, with that service's team.

    Server names are the connector's (obsgen.plan.service_graph): a database's db.name, an external node's
    peer.service, and for a queue each consumer (producer -> consumer), never the queue itself.
    """
    sg = naming.SERVICE_GRAPH
    svc = plan.span_metrics.service_label
    callers = (f'label_replace({naming.DECLARED_SERVICE}, "{sg.client_label}", "$1", "{svc}", "(.*)")')
    return f"{naming.DECLARED_CALL}\n{_team_join(sg.client_label, callers)}"


def _edge_predictions(plan: Plan, traffic: Traffic) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """(client, server, team labels) of every alerted declared call the traffic feeds."""
    svc = plan.span_metrics.service_label
    callers = {labels[svc]: labels for labels in declared.declared_services(traffic)}
    return [(client, server, declared.team_labels(callers[client]))
            for client, server in declared.declared_calls(traffic) if client in callers]


def _edge_traffic(plan: Plan, edge: GraphEdge, flows: tuple[EdgeFlow, ...]) -> Traffic:
    return declared.with_info(Traffic(edges=flows), declared.call_info(edge.client, edge.server),
                              declared.service_info(plan, plan.by_key[edge.caller]))


def edge_alerts(plan: Plan) -> list[Alert]:
    """Failing and silent declared edges, one rule each over every alerted declared call."""
    edges = alerted_edges(plan)
    if not edges:
        return []
    sg = naming.SERVICE_GRAPH
    keys = (sg.client_label, sg.server_label)
    thr = plan.spec.alerting.error_ratio_threshold
    low = low_traffic_per_minute(plan)
    calls = _alerted_calls(plan).replace("\n", "\n    ")
    guard = traffic_guard(plan, naming.recorded("edge", "requests", "5m"), keys)
    ratio = f"{naming.recorded('edge', 'error_ratio', '5m')} > {num(thr)}{guard}".replace("\n", "\n  ")
    on = ", ".join(keys)
    failing_expr = (f"(\n  {ratio}\n)\n* on ({on}) group_left ({naming.TEAM_LABEL})\n  (\n    {calls}\n  )")
    requests = naming.recorded("edge", "requests", "5m")
    silent_expr = f"(\n  {calls.replace(chr(10) + '    ', chr(10) + '  ')}\n) * 0\nunless on ({on})\n  {requests} > 0"

    def failing(traffic: Traffic) -> list:
        out = []
        for client, server, team in _edge_predictions(plan, traffic):
            total = sim.edge_rate(traffic, client, server)
            bad = sim.edge_rate(traffic, client, server, failed=True)
            if total and bad is not None and bad / total > thr and enough_traffic(plan, total):
                out.append((((sg.client_label, client), (sg.server_label, server), *team), bad / total))
        return out

    def silent(traffic: Traffic) -> list:
        return [(((sg.client_label, client), (sg.server_label, server), *team), 0.0)
                for client, server, team in _edge_predictions(plan, traffic)
                if not sim.edge_rate(traffic, client, server)]

    by_team: dict[str | None, GraphEdge] = {}
    for e in edges:
        by_team.setdefault(resolved_team(plan, plan.by_key[e.caller]), e)
    failing_cases: list[Scenario] = []
    silent_cases: list[Scenario] = []
    for e in by_team.values():
        edge = f"{e.client} -> {e.server}"

        def flow(share: float, per_minute: float = EDGE_REQUESTS_PER_MINUTE, e: GraphEdge = e) -> tuple[EdgeFlow, ...]:
            return (EdgeFlow(e.client, e.server, per_minute, share),)

        failing_cases += [Scenario(f"{edge}: failing", _edge_traffic(plan, e, flow(min(1.0, 4 * thr)))),
                          Scenario(f"{edge}: healthy", _edge_traffic(plan, e, flow(thr / 4)))]
        if low is not None:
            failing_cases.append(Scenario(f"{edge}: failing on too little traffic",
                                          _edge_traffic(plan, e, flow(1.0, low))))
        silent_cases += [Scenario(f"{edge}: declared, no traffic", _edge_traffic(plan, e, ())),
                         Scenario(f"{edge}: traffic", _edge_traffic(plan, e, flow(0.0)))]
    client, server = Label(sg.client_label), Label(sg.server_label)
    link = service_dashboard_link(plan, sg.client_label)
    return [
        make_alert(
            plan, None, name=naming.ALERTS.edge_failing, expr=failing_expr, shared=True,
            for_=RED_FOR, severity=naming.SEVERITY_TICKET,
            summary=(client, " -> ", server, f": failed requests above {pct(thr)}"),
            description=(Value(ValueFormat.PERCENT), " of requests from ", client, " to ", server,
                         f" failed over the last 5m (service graph; threshold {pct(thr)})."),
            predict=failing, scenarios=tuple(failing_cases), dashboard_url=link,
        ),
        make_alert(
            plan, None, name=naming.ALERTS.edge_no_traffic, expr=silent_expr, shared=True,
            for_=NO_TRAFFIC_FOR, severity=naming.SEVERITY_TICKET,
            summary=("No traffic on declared edge ", client, " -> ", server),
            description=("The service graph saw ", Value(ValueFormat.NUMBER), " requests/s from ", client, " to ",
                         server, f" for {NO_TRAFFIC_FOR}, although the spec declares the call (renamed service, "
                         "broken context propagation, or a stale spec)."),
            predict=silent, scenarios=tuple(silent_cases), dashboard_url=link,
        ),
    ]


def services_group(plan: Plan) -> Group:
    """Every non-SLO alert about the instrumented services and their declared calls, one rule each."""
    rules: list[Alert] = []
    ratio = error_ratio_alert(plan)
    if ratio is not None:
        rules.append(ratio)
    rules.append(span_metrics_absent_alert(plan))
    rules += edge_alerts(plan)
    return Group(f"{plan.name}-services", tuple(rules))
