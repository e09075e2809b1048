"""Links out of the dashboards: Tempo search and Loki logs for a service (Grafana Explore URLs).

Spec text reaches the queries as LogQL/TraceQL string literals with no ``$`` or ``[`` in them (Explore
interpolates Grafana variables in the query it runs), and the URLs percent-encoded.
"""

from __future__ import annotations

from grafanalib import core

from obsgen.emit.escape import logql_string, traceql_equals
from obsgen.plan import Plan, PlannedService
from obsgen.targets.grafana.compat import dashboard_link, explore_url

# The OpenTelemetry resource attribute that names a service (TraceQL scope "resource.").
SERVICE_NAME_ATTRIBUTE = "service.name"


def tempo_search_url(plan: Plan, service: PlannedService) -> str:
    """Explore: TraceQL search for the service's traces in the spec's Tempo datasource."""
    uid = plan.spec.backends.tempo.datasource_uid
    traceql = f"{{ {traceql_equals(f'resource.{SERVICE_NAME_ATTRIBUTE}', service.name)} }}"
    query = {"datasource": {"type": "tempo", "uid": uid}, "limit": 20, "query": traceql,
             "queryType": "traceql", "tableType": "traces"}
    return explore_url(uid, query)


def loki_label(plan: Plan) -> str | None:
    """The Loki label that carries service.name, when logs are in Loki and the spec maps it."""
    loki = plan.spec.backends.loki
    if loki is None:
        return None
    return loki.labels.get(SERVICE_NAME_ATTRIBUTE)


def loki_logs_url(plan: Plan, service: PlannedService) -> str | None:
    """Explore: the service's log stream in Loki, or None when there is no way to select it."""
    label = loki_label(plan)
    loki = plan.spec.backends.loki
    if label is None or loki is None:
        return None
    query = {"datasource": {"type": "loki", "uid": loki.datasource_uid}, "editorMode": "code",
             "expr": f"{{{label}={logql_string(service.name)}}}", "queryType": "range"}
    return explore_url(loki.datasource_uid, query)


def service_links(plan: Plan, service: PlannedService) -> list[core.DashboardLink]:
    """Top-bar links of a service dashboard: its traces in Tempo and its logs in Loki."""
    links = [dashboard_link("Traces in Tempo", tempo_search_url(plan, service),
                            tooltip=f"Search {service.key} traces in Tempo", keep_time=False)]
    logs = loki_logs_url(plan, service)
    if logs is not None:
        links.append(dashboard_link("Logs in Loki", logs, tooltip=f"{service.key} logs in Loki", keep_time=False))
    return links
