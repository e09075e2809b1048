"""Grafana dashboards target: system overview, one templated service dashboard, sampling health.

Files go to ``grafana/dashboards/<uid>.json`` (the dashboard provider reads that directory, mounted
at ``backends.grafana.dashboards_path``). Layout and queries live in this package's other modules, the
dashboard JSON (plain data, no dashboard library) in ``dashboard_model``, ``panel_model``, ``panel_kinds``,
``field_config`` and ``query_targets``. See docs/dashboards.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from obsgen.emit.artifacts import Artifact
from obsgen.plan import Plan
from obsgen.targets.grafana.dashboards.overview import overview_dashboard
from obsgen.targets.grafana.dashboards.panels import DashboardSpec, build
from obsgen.targets.grafana.dashboards.sampling import sampling_dashboard
from obsgen.targets.grafana.dashboards.service import service_dashboard


def dashboards(plan: Plan) -> list[DashboardSpec]:
    """Every dashboard of the plan: overview, the templated service dashboard (when a service has spans), sampling."""
    return [
        overview_dashboard(plan),
        *([service_dashboard(plan)] if plan.instrumented else []),
        sampling_dashboard(plan),
    ]


def render(plan: Plan) -> list[Artifact]:
    """Dashboard JSON artifacts, each checked by the strict dashboard model."""
    return [build(plan, d) for d in dashboards(plan)]


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def panel_queries(plan: Plan) -> list[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL expr) for every query of every panel, in dashboard order.

    Read back from the rendered JSON, so it is exactly what Grafana will run (Grafana macros such
    as ``$__rate_interval`` included: substitute ``dashboards_queries.GRAFANA_MACROS`` first).
    """
    out: list[tuple[str, str, str]] = []
    for artifact in render(plan):
        doc = json.loads(artifact.text)
        for panel in _panels(doc.get("panels") or []):
            for target in panel.get("targets") or []:
                if "expr" in target:
                    out.append((doc["uid"], panel["title"], target["expr"]))
    return out
