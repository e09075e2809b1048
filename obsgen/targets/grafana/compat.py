"""The one bridge between grafanalib 0.7.1 and the Grafana obsgen targets.

grafanalib lags Grafana: it writes ``schemaVersion`` 12, has no node-graph panel, no exemplar flag
on Prometheus targets (its ``Target`` also emits legacy keys), and leaves datasource references
untyped. Everything that fills those gaps lives here, as small typed classes and helpers, so the
dashboard modules never build raw panel or target dicts themselves.

It is also where spec text is made safe for Grafana: Grafana interpolates ``$var``/``${var}`` in
queries, titles, descriptions, legends and link URLs, so a spec value containing ``$`` must never
reach those fields as a ``$``. The helpers below encode it per sink (PromQL escape, URL
percent-encoding, a look-alike character in display text).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Literal

import attr
from grafanalib import core
from grafanalib._gen import DashboardEncoder

from obsgen.emit import escape

# ------------------------------------------------------------------------------------------------
# Schema version

# (minimum Grafana version, dashboard schemaVersion it writes). 42 arrived with Grafana 12.2
# (migrateHideFromFunctionality); Grafana migrates older versions forward on load, never backward,
# so a dashboard must not claim a newer schema than the target Grafana knows.
_SCHEMA_VERSIONS: tuple[tuple[tuple[int, int], int], ...] = (
    ((12, 2), 42),
    ((12, 0), 41),
    ((11, 0), 39),
    ((0, 0), 36),
)


def schema_version(grafana_version: str) -> int:
    """The dashboard ``schemaVersion`` for a Grafana version such as ``"12.2.0"``."""
    major, minor = (int(p) for p in grafana_version.split(".")[:2])
    for minimum, version in _SCHEMA_VERSIONS:
        if (major, minor) >= minimum:
            return version
    raise AssertionError("unreachable: (0, 0) matches every version")


# ------------------------------------------------------------------------------------------------
# Grafana-safe text


# One function per sink, in obsgen.emit.escape; re-exported under the names the dashboard modules use.
display_text = escape.grafana_text
promql_string = escape.grafana_promql_string
promql_regex_literal = escape.grafana_promql_regex
promql_replacement = escape.grafana_promql_replacement
url_component = escape.url_component


# ------------------------------------------------------------------------------------------------
# Datasources and targets


@attr.s(frozen=True)
class DataSourceRef:
    """A datasource reference by UID, the form current Grafana writes (``{type, uid}``)."""

    type: str = attr.ib()
    uid: str = attr.ib()

    def to_json_data(self) -> dict[str, str]:
        """Grafana JSON."""
        return {"type": self.type, "uid": self.uid}


@attr.s(frozen=True)
class PrometheusTarget:
    """A Prometheus query as Grafana 10+ stores it (grafanalib's ``Target`` lacks ``exemplar``/``range``).

    ``instant`` queries evaluate once at the end of the range (tables, stats, node graphs);
    otherwise a range query. ``exemplar`` asks Prometheus for exemplars (trace links on points).
    """

    expr: str = attr.ib()
    refId: str = attr.ib()  # Grafana field names are camelCase
    datasource: DataSourceRef = attr.ib()
    legendFormat: str = attr.ib(default="__auto")
    instant: bool = attr.ib(default=False)
    exemplar: bool = attr.ib(default=False)
    format: Literal["time_series", "table"] = attr.ib(default="time_series")
    interval: str = attr.ib(default="")

    def to_json_data(self) -> dict[str, Any]:
        """Grafana JSON."""
        out: dict[str, Any] = {
            "datasource": self.datasource,
            "editorMode": "code",
            "exemplar": self.exemplar,
            "expr": self.expr,
            "format": self.format,
            "instant": self.instant,
            "legendFormat": self.legendFormat,
            "range": not self.instant,
            "refId": self.refId,
        }
        if self.interval:
            out["interval"] = self.interval
        return out


@attr.s(frozen=True)
class TempoTarget:
    """A Tempo TraceQL search as Grafana stores it (a table of the matching traces)."""

    query: str = attr.ib()
    refId: str = attr.ib()  # Grafana field names are camelCase
    datasource: DataSourceRef = attr.ib()
    limit: int = attr.ib(default=20)

    def to_json_data(self) -> dict[str, Any]:
        """Grafana JSON."""
        return {"datasource": self.datasource, "limit": self.limit, "query": self.query, "queryType": "traceql",
                "refId": self.refId, "tableType": "traces"}


@attr.s(frozen=True)
class LokiTarget:
    """A Loki LogQL range query as Grafana stores it."""

    expr: str = attr.ib()
    refId: str = attr.ib()  # Grafana field names are camelCase
    datasource: DataSourceRef = attr.ib()

    def to_json_data(self) -> dict[str, Any]:
        """Grafana JSON."""
        return {"datasource": self.datasource, "editorMode": "code", "expr": self.expr, "queryType": "range",
                "refId": self.refId}


# ------------------------------------------------------------------------------------------------
# Panels grafanalib lacks


@attr.s
class NodeGraph(core.Panel):
    """The ``nodeGraph`` panel (grafanalib has none, weaveworks/grafanalib#376).

    Grafana recognises the edges frame by its ``source``/``target`` fields and uses ``id``,
    ``title``, ``mainstat`` and ``secondarystat`` of the nodes frame.
    """

    fieldOverrides: list[dict[str, Any]] = attr.ib(factory=list)
    layoutAlgorithm: str = attr.ib(default="layered")

    def to_json_data(self) -> dict[str, Any]:
        """Grafana JSON."""
        return self.panel_json({
            "type": "nodeGraph",
            "fieldConfig": {"defaults": {}, "overrides": self.fieldOverrides},
            "options": {"edges": {}, "nodes": {}, "layoutAlgorithm": self.layoutAlgorithm, "zoomMode": "cooperative"},
        })


# ------------------------------------------------------------------------------------------------
# Typed helpers for fieldConfig pieces grafanalib leaves as raw JSON


def threshold_steps(base: str, steps: Sequence[tuple[float, str]] = ()) -> list[dict[str, Any]]:
    """Absolute threshold steps: ``base`` colour below the first value, then each (value, colour)."""
    return [{"color": base, "value": None}] + [{"color": color, "value": value} for value, color in steps]


def override(matcher: Literal["byName", "byRegexp", "byFrameRefID"], name: str, **properties: object) -> dict[str, Any]:
    """A fieldConfig override: ``properties`` map Grafana property ids (dots as ``__``) to values."""
    return {
        "matcher": {"id": matcher, "options": name},
        "properties": [{"id": key.replace("__", "."), "value": value} for key, value in sorted(properties.items())],
    }


def data_link(title: str, url: str, *, new_tab: bool = False) -> core.DataLink:
    """A panel or field data link; ``title`` goes through :func:`display_text`."""
    return core.DataLink(title=display_text(title), linkUrl=url, isNewTab=new_tab)


def dashboard_link(title: str, url: str, *, tooltip: str = "", keep_time: bool = True) -> core.DashboardLink:
    """A link in the dashboard's top bar to ``url``."""
    return core.DashboardLink(
        title=display_text(title), uri=url, type="link", keepTime=keep_time, tooltip=display_text(tooltip),
        icon="external link",
    )


def dashboards_by_tag(title: str, tags: Iterable[str]) -> core.DashboardLink:
    """A top-bar dropdown listing every dashboard carrying all ``tags``."""
    return core.DashboardLink(title=display_text(title), tags=sorted(tags), asDropdown=True, keepTime=True,
                              type="dashboards")


def transformation(kind: str, options: dict[str, Any], ref_ids: Sequence[str] = ()) -> dict[str, Any]:
    """A panel transformation, optionally applied only to frames of ``ref_ids``."""
    out: dict[str, Any] = {"id": kind, "options": options}
    if ref_ids:
        out["filter"] = {"id": "byRefId", "options": "|".join(ref_ids)}
    return out


# ------------------------------------------------------------------------------------------------
# Encoding

# Keys grafanalib writes for pre-5.0 dashboards; current Grafana ignores them, so they are dropped.
_LEGACY_DASHBOARD_KEYS = ("rows", "style", "sharedCrosshair", "hideControls", "gnetId", "__inputs")
# Keys grafanalib writes that Grafana's dashboard schema (@grafana/schema 12.2, tests/real/test_grafana_schema.py)
# does not declare: panels have no ``editable`` (only the dashboard has), and ``time_options`` left the time
# picker's schema (TimePickerConfig: hidden, nowDelay, quick_ranges, refresh_intervals).
_UNDECLARED_PANEL_KEYS = ("editable",)
_UNDECLARED_TIMEPICKER_KEYS = ("time_options",)
# Panel keys grafanalib always writes whose null/empty value means "unset".
_OPTIONAL_PANEL_KEYS = ("cacheTimeout", "height", "minSpan", "span", "interval", "timeFrom", "timeShift",
                        "error", "hideTimeOverride", "description")
_REPEAT_KEYS = ("repeat", "repeatDirection", "maxPerRow")


def _clean_panel(panel: dict[str, Any]) -> dict[str, Any]:
    if panel.get("repeat") is None:
        for key in _REPEAT_KEYS:
            panel.pop(key, None)
    for key in _OPTIONAL_PANEL_KEYS:
        if panel.get(key) in (None, False, ""):
            panel.pop(key, None)
    if panel.get("type") == "table":
        # grafanalib's Table still writes the pre-8.0 table keys next to the current ones
        for key in ("columns", "fontSize", "mappings", "color"):
            panel.pop(key, None)
    if panel.get("type") == "row":
        # a repeated row takes only ``repeat`` (the schema's RowPanel has no direction or width per row)
        panel.pop("repeatDirection", None)
        panel.pop("maxPerRow", None)
        # a row header queries nothing; a null datasource would read as "the default datasource"
        for key in ("datasource", "targets", "transformations", "fieldConfig", "links", "transparent", "editable"):
            panel.pop(key, None)
    for key in _UNDECLARED_PANEL_KEYS:
        panel.pop(key, None)
    # grafanalib's default maxDataPoints (100) is too coarse for a 24-column timeseries
    panel.pop("maxDataPoints", None)
    # grafanalib writes every optional field option, null when unset; Grafana wants them absent
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    for container in (defaults, defaults.get("custom") or {}):
        for key in [k for k, v in container.items() if v is None]:
            del container[key]
    for child in panel.get("panels") or []:
        _clean_panel(child)
    return panel


def to_json(dashboard: core.Dashboard) -> dict[str, Any]:
    """The dashboard as plain JSON data, legacy grafanalib keys removed."""
    data: dict[str, Any] = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
    for key in _LEGACY_DASHBOARD_KEYS:
        data.pop(key, None)
    data["panels"] = [_clean_panel(p) for p in data.get("panels", [])]
    timepicker = data.get("timepicker")
    if isinstance(timepicker, dict):
        # nowDelay is an optional string in the schema: grafanalib's null for "unset" is a type error there
        data["timepicker"] = {k: v for k, v in timepicker.items()
                              if v is not None and k not in _UNDECLARED_TIMEPICKER_KEYS}
    return data
