"""Panel factories and grid layout shared by the dashboards, on top of grafanalib and grafana_compat.

Factories fix the choices a Grafana expert makes once (units, legends as tables with last/max,
shared tooltips, thresholds drawn as dashed lines) so the dashboard modules only say what to show.
The layout places panels left to right in full-width bands, so panels never overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grafanalib import core

from obsgen.emit.artifacts import Artifact, dump_json, generated_notice
from obsgen.plan import Plan
from obsgen.targets.grafana.compat import (
    DataSourceRef,
    NodeGraph,
    PrometheusTarget,
    display_text,
    schema_version,
    threshold_steps,
    to_json,
)
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

    panels: list[core.Panel] = field(default_factory=list)
    _x: int = 0
    _y: int = 0
    _band: int = 0

    def _newline(self) -> None:
        self._y += self._band
        self._x = 0
        self._band = 0

    def add(self, panel: core.Panel, w: int, h: int) -> None:
        """Place ``panel`` (w columns, h units) at the next free spot of the current band."""
        if not 1 <= w <= GRID_WIDTH:
            raise ValueError(f"panel width {w} outside 1..{GRID_WIDTH}")
        if self._x + w > GRID_WIDTH:
            self._newline()
        panel.gridPos = core.GridPos(h=h, w=w, x=self._x, y=self._y)
        self.panels.append(panel)
        self._x += w
        self._band = max(self._band, h)

    def row(self, title: str, *, repeat: str | None = None, raw_title: bool = False) -> None:
        """A (non-collapsed) row header across the full width.

        ``repeat``: a variable name; Grafana repeats the row and the panels under it once per value.
        ``raw_title``: the title is obsgen's own text that may name a variable (not spec text).
        """
        if self._x:
            self._newline()
        row = core.RowPanel(title=title if raw_title else display_text(title), collapsed=False)
        if repeat is not None:
            row.repeat = core.Repeat(variable=repeat)
        self.add(row, GRID_WIDTH, 1)
        self._newline()

    def spread(self, panels: Sequence[core.Panel], h: int) -> None:
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


@dataclass(frozen=True)
class Panels:
    """Panel factories bound to one plan's Prometheus datasource."""

    prom: DataSourceRef

    def target(self, expr: str, ref: str, legend: str = "__auto", *, exemplar: bool = False,
               instant: bool = False, table: bool = False) -> PrometheusTarget:
        """A Prometheus query; ``legend`` goes through display_text (Grafana interpolates it)."""
        return PrometheusTarget(
            expr=expr, refId=ref, datasource=self.prom, legendFormat=display_text(legend), instant=instant,
            exemplar=exemplar, format="table" if table else "time_series",
        )

    def timeseries(self, title: str, targets: Sequence[PrometheusTarget], unit: str, *, description: str = "",
                   thresholds: Sequence[tuple[float, str]] = (), base_color: str = "green",
                   soft_max: int | None = None, stack: bool = False,
                   overrides: Sequence[dict[str, Any]] = ()) -> core.TimeSeries:
        """A time series with a table legend (last, max) and a shared tooltip.

        ``thresholds`` are drawn as dashed lines (SLO objectives, burn-rate factors).
        """
        return core.TimeSeries(
            title=display_text(title), description=display_text(description), dataSource=self.prom,
            targets=list(targets), unit=unit, legendDisplayMode="table", legendPlacement="bottom",
            legendCalcs=["lastNotNull", "max"], tooltipMode="multi", tooltipSort="desc", fillOpacity=10,
            lineWidth=1, showPoints="never", spanNulls=False, axisSoftMin=0, axisSoftMax=soft_max,
            stacking={"mode": "normal", "group": "A"} if stack else {},
            thresholds=threshold_steps(base_color, thresholds),
            thresholdsStyleMode="dashed" if thresholds else "off", overrides=list(overrides),
        )

    def stat(self, title: str, target: PrometheusTarget, unit: str, *, description: str = "",
             thresholds: Sequence[tuple[float, str]] = (), base_color: str = "green",
             decimals: int | None = None, links: Sequence[core.DataLink] = ()) -> core.Stat:
        """A single value coloured by thresholds, with a sparkline unless the query is instant."""
        return core.Stat(
            title=display_text(title), description=display_text(description), dataSource=self.prom,
            targets=[target], format=unit, reduceCalc="lastNotNull", colorMode="value",
            graphMode="none" if target.instant else "area",
            thresholds=threshold_steps(base_color, thresholds), decimals=decimals, noValue="no data",
            links=list(links),
        )

    def table(self, title: str, targets: Sequence[PrometheusTarget], *, description: str = "",
              transformations: Sequence[dict[str, Any]] = (), overrides: Sequence[dict[str, Any]] = (),
              sort_by: str | None = None, descending: bool = True) -> core.Table:
        """A table of instant results, typically joined and renamed by ``transformations``."""
        return core.Table(
            title=display_text(title), description=display_text(description), dataSource=self.prom,
            targets=list(targets), transformations=list(transformations), overrides=list(overrides),
            filterable=False, thresholds=threshold_steps("green"),
            sortBy=[core.TableSortByField(displayName=sort_by, desc=descending)] if sort_by else [],
        )

    def node_graph(self, title: str, targets: Sequence[PrometheusTarget], *, description: str = "",
                   transformations: Sequence[dict[str, Any]] = (),
                   overrides: Sequence[dict[str, Any]] = ()) -> NodeGraph:
        """A node graph fed by node and edge frames."""
        return NodeGraph(
            title=display_text(title), description=display_text(description), dataSource=self.prom,
            targets=list(targets), transformations=list(transformations), fieldOverrides=list(overrides),
            thresholds=threshold_steps("green"),
        )


@dataclass(frozen=True)
class DashboardSpec:
    """What a dashboard module decides; ``build`` turns it into an artifact."""

    uid: str
    path: str
    title: str
    summary: str
    tags: tuple[str, ...]
    panels: list[core.Panel]
    links: list[core.DashboardLink]
    time_from: str = "now-1h"
    refresh: str = "1m"
    variables: tuple[dict[str, Any], ...] = ()


def system_tag(plan: Plan) -> str:
    """The tag every dashboard of one system carries (the dashboards-by-tag links use it)."""
    return f"obsgen-{plan.name}"


def build(plan: Plan, spec: DashboardSpec) -> Artifact:
    """Encode a dashboard deterministically, with the generated notice and a strict checker."""
    dashboard = core.Dashboard(
        title=display_text(spec.title),
        uid=spec.uid,
        description=f"{spec.summary} {generated_notice(plan.spec_file)}",
        panels=spec.panels,
        links=spec.links,
        tags=list(spec.tags),
        time=core.Time(spec.time_from, "now"),
        timePicker=core.TimePicker(refreshIntervals=["30s", "1m", "5m", "15m"], timeOptions=[]),
        refresh=spec.refresh,
        timezone="browser",
        graphTooltip=core.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        editable=False,
        schemaVersion=schema_version(plan.spec.stack.grafana),
        version=1,
        id=None,
    ).auto_panel_ids()
    data = to_json(dashboard)
    if spec.variables:
        data["templating"] = {"list": list(spec.variables)}
    uids = known_datasource_uids(plan)

    def check(doc: object) -> list:
        return validate_dashboard(doc, known_datasource_uids=uids)

    return Artifact(spec.path, dump_json(data), check)
