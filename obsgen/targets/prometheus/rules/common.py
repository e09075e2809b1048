"""What every alert of a plan shares: routing labels, runbook and dashboard links, severity."""

from __future__ import annotations

from obsgen.plan import Plan, PlannedService, naming
from obsgen.targets.grafana.dashboards import uids as dashboard_uids
from obsgen.targets.prometheus.rules.model import Alert, Label, Part, Prediction, Scenario, num

# Labels an alert expression yields or obsgen sets itself: a routing label with one of these names
# would overwrite the series' own label (Prometheus lets rule labels win), so it is not applied.
_OWN_LABELS = frozenset({
    "alertname", naming.SEVERITY_LABEL, naming.SLO_LABEL, naming.SLO_KIND_LABEL, naming.LE_LABEL,
    naming.JOB_LABEL, naming.INSTANCE_LABEL, naming.TEMPO_TENANT_LABEL,
    naming.SERVICE_GRAPH.client_label, naming.SERVICE_GRAPH.server_label,
    "slo_window", "slo_objective",  # rules.slo_meta: the SLO shape on burn-rate alerts
})


def reserved_labels(plan: Plan) -> frozenset[str]:
    """Label names routing labels may not use (they are set by the alert expressions or by obsgen)."""
    return _OWN_LABELS | plan.span_metrics.intrinsic_labels


def routing_labels(plan: Plan, service: PlannedService | None) -> dict[str, str]:
    """alerting.labels, with the service's own team winning over the spec-wide one."""
    reserved = reserved_labels(plan)
    labels = {k: v for k, v in plan.spec.alerting.labels.items() if k not in reserved}
    if service is not None and service.team:
        labels[naming.TEAM_LABEL] = service.team
    return labels


def resolved_team(plan: Plan, service: PlannedService) -> str | None:
    """The ``team`` routing label of ``service``'s alerts: its own team, else alerting.labels.team."""
    return routing_labels(plan, service).get(naming.TEAM_LABEL)


def shared_routing_labels(plan: Plan) -> dict[str, str]:
    """The routing labels of an alert that is one rule over many services: alerting.labels without ``team``.

    ``team`` differs per service, so it comes from the series (``group_left (team)`` of
    ``naming.DECLARED_SERVICE``): a rule label of the same name would override the series' value
    (Prometheus applies rule labels over the expression's, rules/alerting.go ``Eval``).
    """
    return {k: v for k, v in routing_labels(plan, None).items() if k != naming.TEAM_LABEL}


def service_dashboard_link(plan: Plan, label: str) -> tuple[Part, ...]:
    """The service dashboard showing the service named by the alert series' ``label``:
    ``<grafana>/d/<system>-service?var-service=<the label, URL-query-escaped when expanded>``."""
    return (dashboard_uids.service_dashboard_url(plan) + "?var-service=", Label(label, urlquery=True))


def dashboard_uid(plan: Plan, service_key: str | None) -> str:
    """UID of the dashboard an alert links to: the service's, or the overview for system alerts."""
    if service_key is None:
        return dashboard_uids.dashboard_uid(plan, None, "overview")
    return dashboard_uids.dashboard_uid(plan, service_key, "service")


def dashboard_link(plan: Plan, service_key: str | None, kind: str | None = None) -> str:
    """Absolute dashboard URL (``backends.grafana.url`` + ``/d/`` + uid)."""
    if kind is not None:
        return dashboard_uids.dashboard_url(plan, service_key, kind)
    base = plan.spec.backends.grafana.url.rstrip("/")
    return f"{base}/d/{dashboard_uid(plan, service_key)}"


def runbook_url(plan: Plan, alert_name: str) -> str:
    """``alerting.runbook_base_url`` + ``/`` + alert name."""
    return f"{plan.spec.alerting.runbook_base_url.rstrip('/')}/{alert_name}"


def make_alert(
    plan: Plan,
    service: PlannedService | None,
    *,
    name: str,
    expr: str,
    for_: str,
    severity: str,
    summary: tuple[Part, ...],
    description: tuple[Part, ...],
    predict: Prediction,
    scenarios: tuple[Scenario, ...],
    extra_labels: dict[str, str] | None = None,
    dashboard_kind: str | None = None,
    shared: bool = False,
    dashboard_url: tuple[Part, ...] | None = None,
) -> Alert:
    """An alert with the spec's routing labels, severity, runbook and dashboard link.

    ``shared``: one rule over many services, whose ``team`` comes from the series (``shared_routing_labels``).
    """
    labels: dict[str, str] = shared_routing_labels(plan) if shared else routing_labels(plan, service)
    labels.update(extra_labels or {})
    labels[naming.SEVERITY_LABEL] = severity
    return Alert(
        name=name,
        expr=expr,
        for_=for_,
        labels=tuple((k, (v,)) for k, v in sorted(labels.items())),
        summary=summary,
        description=description,
        runbook_url=runbook_url(plan, name),
        dashboard_url=dashboard_url or (dashboard_link(plan, service.key if service else None, dashboard_kind),),
        predict=predict,
        scenarios=scenarios,
    )


def pct(fraction: float) -> str:
    """A fraction as a human percentage for static text (0.05 -> ``5%``, 0.999 -> ``99.9%``)."""
    return f"{round(fraction * 100, 10):g}%"


def traffic_guard(plan: Plan, requests: str, on: tuple[str, ...]) -> str:
    """``and on (...) <requests> >= alerting.min_request_rate`` to append to a ratio alert (empty when 0).

    A ratio over a handful of requests is noise: one failure out of three is 33%. ``requests`` is the
    5m request rate of the alert's own scope, so the guard holds exactly while enough traffic flows.
    """
    least = plan.spec.alerting.min_request_rate
    if not least:
        return ""
    return f"\nand on ({', '.join(on)})\n  {requests} >= {num(least)}"


def enough_traffic(plan: Plan, per_second: float | None) -> bool:
    """The guard of ``traffic_guard`` on synthetic traffic."""
    least = plan.spec.alerting.min_request_rate
    return per_second is not None and (not least or per_second >= least)


def low_traffic_per_minute(plan: Plan) -> float | None:
    """Requests per minute of the scenario that breaches a ratio on too little traffic (None: no guard)."""
    least = plan.spec.alerting.min_request_rate
    return least * 60 / 4 if least else None
