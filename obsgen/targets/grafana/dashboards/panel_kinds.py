"""The panel kinds obsgen draws (time series, stat, table, node graph, logs): each one's options and field defaults.

Each function returns a ``Panel`` with the keys of that kind's ``Options`` and ``FieldConfig`` in
``@grafana/schema`` 12.2 (``tests/real/test_grafana_schema.py`` checks each panel against its plugin's types).
The look every obsgen panel of a kind shares is fixed here; what varies per panel is a parameter. Text
parameters are written as given: callers pass spec text through ``escape.grafana_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from obsgen.targets.grafana.dashboards.field_config import absolute_thresholds
from obsgen.targets.grafana.dashboards.panel_model import Panel
from obsgen.targets.grafana.dashboards.query_targets import (
    DataSourceRef,
    Json,
    LokiTarget,
    PrometheusTarget,
    TempoTarget,
)


def timeseries(title: str, datasource: DataSourceRef, targets: Sequence[PrometheusTarget], *, unit: str,
               thresholds: Sequence[Json], thresholds_style: Literal["off", "dashed"], description: str = "",
               overrides: Sequence[Json] = ()) -> Panel:
    """Lines from zero up (soft minimum 0, 10% fill, no points), a table legend with last and max values, and a
    tooltip listing every series, largest first. ``thresholds_style="dashed"`` draws the thresholds as lines."""
    custom = {
        "axisLabel": "", "axisPlacement": "auto", "axisSoftMin": 0, "barAlignment": 0, "drawStyle": "line",
        "fillOpacity": 10, "gradientMode": "none", "hideFrom": {"legend": False, "tooltip": False, "viz": False},
        "lineInterpolation": "linear", "lineWidth": 1, "pointSize": 5,
        "scaleDistribution": {"log": 2, "type": "linear"}, "showPoints": "never", "spanNulls": False,
        "stacking": {}, "thresholdsStyle": {"mode": thresholds_style},
    }
    return Panel(
        type="timeseries", title=title, datasource=datasource, targets=tuple(targets), description=description,
        field_defaults={"color": {"mode": "palette-classic"}, "custom": custom, "mappings": [],
                        "thresholds": absolute_thresholds(thresholds), "unit": unit},
        options={"legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table", "placement": "bottom"},
                 "tooltip": {"mode": "multi", "sort": "desc"}},
        overrides=tuple(overrides),
    )


def stat(title: str, datasource: DataSourceRef, target: PrometheusTarget, *, unit: str, thresholds: Sequence[Json],
         decimals: int | None = None, description: str = "") -> Panel:
    """One value (the last non-null), coloured by ``thresholds``, "no data" when there is none; a sparkline
    under it unless the query is instant (an instant query has no history to draw)."""
    defaults: Json = {"custom": {}, "mappings": [], "noValue": "no data", "thresholds": absolute_thresholds(thresholds),
                      "unit": unit}
    if decimals is not None:
        defaults["decimals"] = decimals
    return Panel(
        type="stat", title=title, datasource=datasource, targets=(target,), description=description,
        field_defaults=defaults,
        options={"colorMode": "value", "graphMode": "none" if target.instant else "area", "justifyMode": "auto",
                 "orientation": "auto", "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "textMode": "auto"},
    )


def table(title: str, datasource: DataSourceRef, targets: Sequence[PrometheusTarget | TempoTarget], *,
          thresholds: Sequence[Json], description: str = "", transformations: Sequence[Json] = (),
          overrides: Sequence[Json] = (), sort_by: str | None = None, descending: bool = True) -> Panel:
    """A table with a header and no column filters, sorted by the column ``sort_by`` when given."""
    return Panel(
        type="table", title=title, datasource=datasource, targets=tuple(targets), description=description,
        field_defaults={"custom": {"align": "auto", "displayMode": "auto", "filterable": False},
                        "thresholds": absolute_thresholds(thresholds), "unit": ""},
        options={"showHeader": True,
                 "sortBy": [{"desc": descending, "displayName": sort_by}] if sort_by else []},
        overrides=tuple(overrides), transformations=tuple(transformations),
    )


def node_graph(title: str, datasource: DataSourceRef, targets: Sequence[PrometheusTarget], *,
               thresholds: Sequence[Json], description: str = "", transformations: Sequence[Json] = (),
               overrides: Sequence[Json] = ()) -> Panel:
    """The ``nodeGraph`` panel, laid out in layers, zooming only with a modifier key (``cooperative``).

    Grafana recognises the edges frame by its ``source``/``target`` fields and uses ``id``, ``title``,
    ``mainstat`` and ``secondarystat`` of the nodes frame.
    """
    return Panel(
        type="nodeGraph", title=title, datasource=datasource, targets=tuple(targets), description=description,
        field_defaults={"thresholds": absolute_thresholds(thresholds)},
        options={"edges": {}, "layoutAlgorithm": "layered", "nodes": {}, "zoomMode": "cooperative"},
        overrides=tuple(overrides), transformations=tuple(transformations),
    )


def logs(title: str, datasource: DataSourceRef, target: LokiTarget, *, description: str = "") -> Panel:
    """Log lines, newest first, with their time, wrapped, each expandable to its labels and fields."""
    return Panel(
        type="logs", title=title, datasource=datasource, targets=(target,), description=description,
        field_defaults={"custom": {}, "thresholds": absolute_thresholds(())},
        options={"dedupStrategy": "none", "enableLogDetails": True, "prettifyLogMessage": False,
                 "showCommonLabels": False, "showLabels": False, "showTime": True, "sortOrder": "Descending",
                 "wrapLogMessage": True},
    )
