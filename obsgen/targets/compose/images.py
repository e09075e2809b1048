"""Container images of the local stack, pinned to the versions the spec's ``stack:`` targets.

Tags as the projects publish them on Docker Hub: the Collector (contrib distribution, which has every
component obsgen emits), Tempo and Grafana without a ``v``, Prometheus with one. Loki and Python are not
part of ``stack:`` (no rendered file depends on their version); they are pinned here.
"""

from __future__ import annotations

from obsgen.plan import Plan

COLLECTOR_REPOSITORY = "otel/opentelemetry-collector-contrib"
TEMPO_REPOSITORY = "grafana/tempo"
PROMETHEUS_REPOSITORY = "prom/prometheus"
GRAFANA_REPOSITORY = "grafana/grafana"
LOKI_IMAGE = "grafana/loki:3.5.1"
PYTHON_IMAGE = "python:3.12-slim"


def pinned(plan: Plan) -> dict[str, str]:
    """Repository -> tag for every image whose version the spec's ``stack:`` decides."""
    stack = plan.spec.stack
    return {
        COLLECTOR_REPOSITORY: stack.collector,
        TEMPO_REPOSITORY: stack.tempo,
        PROMETHEUS_REPOSITORY: f"v{stack.prometheus}",
        GRAFANA_REPOSITORY: stack.grafana,
    }


def image(plan: Plan, repository: str) -> str:
    """``repository:tag`` of one of the stack's images."""
    return f"{repository}:{pinned(plan)[repository]}"
