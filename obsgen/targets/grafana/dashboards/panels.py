"""Panel factories and grid layout shared by the dashboards.

Factories fix the choices a Grafana expert makes once (units, legends as tables with last/max,
shared tooltips, thresholds drawn as dashed lines) so the dashboard modules only say what to show;
they pass spec text through ``escape.grafana_text``, since Grafana interpolates titles, descriptions
and legends. The layout places panels left to right in full-width bands, so panels never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from obsgen.emit.artifacts import Artifact, dump_json, generated_notice
from obsgen.emit.escape import grafana_text
from obsgen.plan import Plan
from obsgen.targets.grafana.dashboards import panel_kinds
from obsgen.targets.grafana.dashboards.dashboard_model import Dashboard, dashboards_by_tag, schema_version
from obsgen.targets.grafana.dashboards.field_config import threshold_steps
from obsgen.targets.grafana.dashboards.panel_model import GridPos, Panel, Placed, Row, panels_json
from obsgen.targets.grafana.dashboards.query_targets import DataSourceRef, PrometheusTarget
from obsgen.targets.grafana.strict import validate_dashboard

GRID_WIDTH = 24
# Panel heights in grid units (30 px each).
H_STAT = 4
H_GRAPH = 8
H_TABLE = 9
H_NODE_GRAPH = 16

# Threshold steps of an error ratio: fine, worrying, bad.
ERROR_RATIO_STEPS = ((0.01, "orange"), (0.05, "red"))


def prometheus_ref(plan: Plan) -> DataSourceRef:
    """The spec's Prometheus datasource, by UID."""
    return DataSourceRef("prometheus", plan.spec.backends.prometheus.datasource_uid)


def known_datasource_uids(plan: Plan) -> list[str]:
    """Datasource UIDs the datasources target provisions."""
    backends = plan.spec.backends
    uids = [backends.prometheus.datasource_uid, backends.tempo.datasource_uid]
    if backends.loki is not None:
        uids.append(backends.loki.datasource_uid)
    return sorted(uids)


@dataclass
class Layout:
    """Flow layout on Grafana's 24-column grid: panels fill a band left to right, then wrap.

    ``row`` starts a full-width row header below everything placed so far.
    """

    placed: list[Placed] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _band: int = 0

    def _newline(self) -> None:
        self._y += self._band
        self._x = 0
        self._band = 0

    def add(self, panel: Panel | Row, w: int, h: int) -> None:
        """Place ``panel`` (w columns, h units) at the next free spot of the current band."""
        if not 1 <= w <= GRID_WIDTH:
            raise ValueError(f"panel width {w} outside 1..{GRID_WIDTH}")
        if self._x + w > GRID_WIDTH:
            self._newline()
        self.placed.append(Placed(panel, GridPos(h=h, w=w, x=self._x, y=self._y)))
        self._x += w
        self._band = max(self._band, h)

    def row(self, title: str, *, repeat: str | None = None, raw_title: bool = False) -> None:
        """A (non-collapsed) row header across the full width.

        ``repeat``: a variable name; Grafana repeats the row and the panels under it once per value.
        ``raw_title``: the title is obsgen's own text that may name a variable (not spec text).
        """
        if self._x:
            self._newline()
        self.add(Row(title if raw_title else grafana_text(title), repeat), GRID_WIDTH, 1)
        self._newline()

    def spread(self, panels: Sequence[Panel], h: int) -> None:
        """Place ``panels`` side by side in one or more full bands, widths as even as the grid allows."""
        if not panels:
            return
        if self._x:
            self._newline()
        per_band = min(len(panels), 4)
        for start in range(0, len(panels), per_band):
            chunk = panels[start:start + per_band]
            base, extra = divmod(GRID_WIDTH, per_band)
            for i, panel in enumerate(chunk):
                self.add(panel, base + (1 if i < extra else 0), h)
            self._newline()


class Panels(NamedTuple):
    """Panel factories bound to one plan's Prometheus datasource."""

    prom: DataSourceRef

    def target(self, expr: str, ref: str, legend: str = "__auto", *, exemplar: bool = False,
               instant: bool = False, table: bool = False) -> PrometheusTarget:
        """A Prometheus query; ``legend`` goes through grafana_text (Grafana interpolates it)."""
        return PrometheusTarget(
            expr=expr, ref_id=ref, datasource=self.prom, legend=grafana_text(legend), instant=instant,
            exemplar=exemplar, format="table" if table else "time_series",
        )

    def timeseries(self, title: str, targets: Sequence[PrometheusTarget], unit: str, *, description: str = "",
                   thresholds: Sequence[tuple[float, str]] = (), base_color: str = "green",
                   overrides: Sequence[dict[str, Any]] = ()) -> Panel:
        """A time series with a table legend (last, max) and a shared tooltip.

        ``thresholds`` are drawn as dashed lines (SLO objectives, burn-rate factors).
        """
        return panel_kinds.timeseries(
            grafana_text(title), self.prom, targets, unit=unit, description=grafana_text(description),
            thresholds=threshold_steps(base_color, thresholds), thresholds_style="dashed" if thresholds else "off",
            overrides=overrides,
        )

    def stat(self, title: str, target: PrometheusTarget, unit: str, *, description: str = "",
             thresholds: Sequence[tuple[float, str]] = (), base_color: str = "green",
             decimals: int | None = None) -> Panel:
        """A single value coloured by thresholds, with a sparkline unless the query is instant."""
        return panel_kinds.stat(
            grafana_text(title), self.prom, target, unit=unit, description=grafana_text(description),
            thresholds=threshold_steps(base_color, thresholds), decimals=decimals,
        )

    def table(self, title: str, targets: Sequence[PrometheusTarget], *, description: str = "",
              transformations: Sequence[dict[str, Any]] = (), overrides: Sequence[dict[str, Any]] = (),
              sort_by: str | None = None, descending: bool = True) -> Panel:
        """A table of instant results, typically joined and renamed by ``transformations``."""
        return panel_kinds.table(
            grafana_text(title), self.prom, targets, description=grafana_text(description),
            thresholds=threshold_steps("green"), transformations=transformations, overrides=overrides,
            sort_by=sort_by, descending=descending,
        )

    def node_graph(self, title: str, targets: Sequence[PrometheusTarget], *, description: str = "",
                   transformations: Sequence[dict[str, Any]] = (),
                   overrides: Sequence[dict[str, Any]] = ()) -> Panel:
        """A node graph fed by node and edge frames."""
        return panel_kinds.node_graph(
            grafana_text(title), self.prom, targets, description=grafana_text(description),
            thresholds=threshold_steps("green"), transformations=transformations, overrides=overrides,
        )


class DashboardSpec(NamedTuple):
    """What a dashboard module decides; ``build`` turns it into an artifact."""

    uid: str
    path: str
    title: str
    summary: str
    tags: tuple[str, ...]
    panels: list[Placed]
    links: list[dict[str, Any]]
    time_from: str = "now-1h"
    refresh: str = "1m"
    variables: tuple[dict[str, Any], ...] = ()


def system_tag(plan: Plan) -> str:
    """The tag every dashboard of one system carries (the dashboards-by-tag links use it)."""
    return f"obsgen-{plan.name}"


def system_dashboards_link(plan: Plan) -> dict[str, Any]:
    """The top-bar dropdown every dashboard of the system shows: all dashboards with its ``system_tag``."""
    return dashboards_by_tag(grafana_text(f"{plan.name} dashboards"), [system_tag(plan)])


def build(plan: Plan, spec: DashboardSpec) -> Artifact:
    """Encode a dashboard deterministically, with the generated notice and a strict checker."""
    dashboard = Dashboard(
        uid=spec.uid,
        title=grafana_text(spec.title),
        description=f"{spec.summary} {generated_notice(plan.spec_file)}",
        tags=spec.tags,
        links=tuple(spec.links),
        panels=tuple(panels_json(spec.panels)),
        variables=spec.variables,
        schema_version=schema_version(plan.spec.stack.grafana),
        time_from=spec.time_from,
        refresh=spec.refresh,
    )
    uids = known_datasource_uids(plan)

    def check(doc: object) -> list:
        return validate_dashboard(doc, known_datasource_uids=uids)

    return Artifact(spec.path, dump_json(dashboard.to_json()), check)
