"""Per-service alerts: the error ratio (only where no SLO covers the service), span metrics absent,
and the service-graph alerts of the edges the service declares.
"""

from __future__ import annotations

from obsgen.plan import Plan, PlannedService, naming
from obsgen.targets.prometheus import sim
from obsgen.targets.prometheus.rules.common import (
    enough_traffic,
    low_traffic_per_minute,
    make_alert,
    pct,
    traffic_guard,
)
from obsgen.targets.prometheus.rules.model import (
    Alert,
    EdgeFlow,
    Group,
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


def error_ratio_alert(plan: Plan, service: PlannedService) -> Alert:
    """Server-span error ratio over alerting.error_ratio_threshold for 10m, with enough traffic."""
    sm = plan.span_metrics
    thr = plan.spec.alerting.error_ratio_threshold
    series = naming.recorded("service", "error_ratio", "5m")

    mine = [(sm.service_label, "=", service.name)]
    guard = traffic_guard(plan, selector(naming.recorded("service", "requests", "5m"), mine), (sm.service_label,))

    def predict(traffic: Traffic) -> list:
        total = sim.span_rate(traffic, service.name, naming.KIND_SERVER)
        bad = sim.span_rate(traffic, service.name, naming.KIND_SERVER, errors=True)
        if not total or bad is None or not bad / total > thr or not enough_traffic(plan, total):
            return []
        return [(((sm.service_label, service.name),), bad / total)]

    low = low_traffic_per_minute(plan)
    quiet = () if low is None else (
        Scenario(f"{service.key}: errors over threshold on too little traffic",
                 Traffic(spans=(_service_flow(plan, service, error_share=1.0, per_minute=low),))),)
    return make_alert(
        plan, service, name=naming.ALERTS.service_error_ratio,
        expr=f"{selector(series, mine)} > {num(thr)}{guard}",
        for_=RED_FOR, severity=naming.SEVERITY_TICKET,
        summary=(f"{service.name}: error ratio above {pct(thr)}",),
        description=(Value(ValueFormat.PERCENT),
                     f" of {service.name} server spans ended in error over the last 5m (threshold {pct(thr)})."),
        predict=predict,
        scenarios=(
            Scenario(f"{service.key}: errors over threshold",
                     Traffic(spans=(_service_flow(plan, service, error_share=min(1.0, 4 * thr)),)),
                     _recorded_samples(plan, service, min(1.0, 4 * thr))),
            Scenario(f"{service.key}: errors under threshold",
                     Traffic(spans=(_service_flow(plan, service, error_share=thr / 4),))),
            *quiet,
        ),
    )


def span_metrics_absent_alert(plan: Plan, service: PlannedService, own: Traffic) -> Alert:
    """No span metrics at all (any span kind) from an instrumented service for 15m."""
    sm = plan.span_metrics
    series = selector(naming.recorded("service", "spans", "5m"), [(sm.service_label, "=", service.name)])

    def predict(traffic: Traffic) -> list:
        rate = sim.span_rate(traffic, service.name)
        return [] if rate else [(((sm.service_label, service.name),), 0.0)]

    return make_alert(
        plan, service, name=naming.ALERTS.span_metrics_absent,
        # absent() * 0 makes both branches report the observed rate (0) rather than absent's 1
        expr=f"absent({series}) * 0\nor\n{series} == 0",
        for_=ABSENT_FOR, severity=naming.SEVERITY_TICKET,
        summary=(f"No span metrics from {service.name}",),
        description=(f"{service.name} reported ", Value(ValueFormat.NUMBER),
                     f" spans/s in span metrics ({sm.calls}) for {ABSENT_FOR}: its instrumentation, the Collector "
                     "pipeline or remote write is broken."),
        predict=predict,
        scenarios=(
            Scenario("span metrics from no service", Traffic()),
            Scenario(f"span metrics from {service.name}", own),
        ),
    )


def edge_alerts(plan: Plan, service: PlannedService, own_edges: Traffic) -> list[Alert]:
    """Failing and silent edges from ``service``, one pair per edge the service graph can report.

    Server names are the connector's (obsgen.plan.service_graph): a database's db.name, an external node's
    peer.service, and for a queue each consumer (producer -> consumer), never the queue itself.
    """
    sg = naming.SERVICE_GRAPH
    thr = plan.spec.alerting.error_ratio_threshold
    alerts: list[Alert] = []
    low = low_traffic_per_minute(plan)
    for graph_edge in plan.graph_edges:
        if graph_edge.caller != service.key:
            continue
        client, server = graph_edge.client, graph_edge.server
        matchers = [(sg.client_label, "=", client), (sg.server_label, "=", server)]
        labels = ((sg.client_label, client), (sg.server_label, server))
        edge = f"{client} -> {server}"

        def failing(traffic: Traffic, client: str = client, server: str = server, labels: tuple = labels) -> list:
            total = sim.edge_rate(traffic, client, server)
            bad = sim.edge_rate(traffic, client, server, failed=True)
            if not total or bad is None or not bad / total > thr or not enough_traffic(plan, total):
                return []
            return [(labels, bad / total)]

        guard = traffic_guard(plan, selector(naming.recorded("edge", "requests", "5m"), matchers),
                              (sg.client_label, sg.server_label))
        quiet = () if low is None else (
            Scenario(f"{edge}: failing on too little traffic", Traffic(edges=(EdgeFlow(client, server, low, 1.0),))),)

        alerts.append(make_alert(
            plan, service, name=naming.ALERTS.edge_failing,
            expr=f"{selector(naming.recorded('edge', 'error_ratio', '5m'), matchers)} > {num(thr)}{guard}",
            for_=RED_FOR, severity=naming.SEVERITY_TICKET, extra_labels=dict(labels),
            summary=(f"{edge}: failed requests above {pct(thr)}",),
            description=(Value(ValueFormat.PERCENT),
                         f" of requests from {client} to {server} failed over the last 5m (service graph; "
                         f"threshold {pct(thr)})."),
            predict=failing,
            scenarios=(
                Scenario(f"{edge}: failing", Traffic(edges=(EdgeFlow(client, server, EDGE_REQUESTS_PER_MINUTE,
                                                                     min(1.0, 4 * thr)),))),
                Scenario(f"{edge}: healthy", Traffic(edges=(EdgeFlow(client, server, EDGE_REQUESTS_PER_MINUTE,
                                                                     thr / 4),))),
                *quiet,
            ),
        ))
        requests = selector(naming.recorded("edge", "requests", "5m"), matchers)

        def silent(traffic: Traffic, client: str = client, server: str = server, labels: tuple = labels) -> list:
            return [] if sim.edge_rate(traffic, client, server) else [(labels, 0.0)]

        alerts.append(make_alert(
            plan, service, name=naming.ALERTS.edge_no_traffic,
            expr=f"absent({requests}) * 0\nor\n{requests} == 0",
            for_=NO_TRAFFIC_FOR, severity=naming.SEVERITY_TICKET, extra_labels=dict(labels),
            summary=(f"No traffic on declared edge {edge}",),
            description=("The service graph saw ", Value(ValueFormat.NUMBER),
                         f" requests/s from {client} to {server} for {NO_TRAFFIC_FOR}, although the spec declares "
                         "the call (renamed service, broken context propagation, or a stale spec)."),
            predict=silent,
            scenarios=(
                Scenario("traffic on no edge", Traffic()),
                Scenario(f"traffic on every edge {service.name} declares", own_edges),
            ),
        ))
    return alerts


def own_traffic(plan: Plan, service: PlannedService) -> Traffic:
    """Healthy traffic from ``service`` and on every edge it declares.

    Only the service's own series: each test file then grows with its service, not with the
    topology (feeding every service into every file made rendering quadratic).
    """
    servers = sorted({e.server for e in plan.graph_edges if e.caller == service.key})
    return Traffic(
        spans=(_service_flow(plan, service),),
        edges=tuple(EdgeFlow(service.name, server, EDGE_REQUESTS_PER_MINUTE) for server in servers),
    )


def service_group(plan: Plan, service: PlannedService) -> Group:
    """Every non-SLO alert about one instrumented service and the edges it declares."""
    own = own_traffic(plan, service)
    rules: list[Alert] = []
    # SRE workbook ("Alerting on SLOs"): where an SLO covers the service, its burn-rate alerts are the
    # alerts; a threshold alert beside them pages on the same event, sooner and noisier. The error-ratio
    # alert stays only for services no service-wide availability SLO covers (a latency threshold alert
    # never: a latency threshold exists only as an SLO's, which has its burn-rate alerts).
    if not any(slo.availability is not None and slo.endpoint is None for slo in service.slos):
        rules.append(error_ratio_alert(plan, service))
    rules.append(span_metrics_absent_alert(plan, service, own))
    rules += edge_alerts(plan, service, Traffic(edges=own.edges))
    return Group(f"{plan.name}-service-{service.key}", tuple(rules))
