"""What the service dashboard's Tempo and Loki panels select a service by.

The service's traces and logs are panel queries on the templated service dashboard (``service``), not Explore
URLs: a URL would need the variable's value escaped twice (for TraceQL or LogQL, then for the URL), which no
single Grafana variable format does.
"""

from __future__ import annotations

from obsgen.plan import Plan

# The OpenTelemetry resource attribute that names a service (TraceQL scope "resource.").
SERVICE_NAME_ATTRIBUTE = "service.name"


def loki_label(plan: Plan) -> str | None:
    """The Loki label that carries service.name, when logs are in Loki and the spec maps it."""
    loki = plan.spec.backends.loki
    if loki is None:
        return None
    return loki.labels.get(SERVICE_NAME_ATTRIBUTE)
