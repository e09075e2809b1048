"""A dashboard panel and a row header as Grafana 12 stores them, and where one sits on the grid.

``Panel`` holds what every visualisation shares; the kind-specific ``options`` and ``fieldConfig.defaults``
come from ``panel_kinds``. Only keys ``@grafana/schema``'s ``Panel``/``RowPanel`` declare are written
(``tests/real/test_grafana_schema.py`` type-checks every rendered dashboard with no extra key allowed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from obsgen.targets.grafana.dashboards.query_targets import DataSourceRef, Json, QueryTarget


class GridPos(NamedTuple):
    """Position and size on Grafana's 24-column grid (``h`` in units of 30 px)."""

    h: int
    w: int
    x: int
    y: int

    def to_json(self) -> Json:
        """Grafana JSON."""
        return {"h": self.h, "w": self.w, "x": self.x, "y": self.y}


class Panel(NamedTuple):
    """A visualisation: its kind (``type``), queries, field defaults and options.

    ``title`` and ``description`` are written as given: callers pass spec text through
    ``escape.grafana_text`` first (Grafana interpolates both). An empty description is left out.
    """

    type: str
    title: str
    datasource: DataSourceRef
    targets: tuple[QueryTarget, ...]
    options: Json
    field_defaults: Json
    description: str = ""
    overrides: tuple[Json, ...] = ()
    transformations: tuple[Json, ...] = ()

    def to_json(self, grid: GridPos, panel_id: int) -> Json:
        """Grafana JSON, placed at ``grid`` with the dashboard-unique ``panel_id``."""
        out: Json = {
            "datasource": self.datasource.to_json(),
            "fieldConfig": {"defaults": self.field_defaults, "overrides": list(self.overrides)},
            "gridPos": grid.to_json(),
            "id": panel_id,
            "links": [],
            "options": self.options,
            "targets": [t.to_json() for t in self.targets],
            "title": self.title,
            "transformations": list(self.transformations),
            "transparent": False,
            "type": self.type,
        }
        if self.description:
            out["description"] = self.description
        return out


class Row(NamedTuple):
    """A non-collapsed row header; ``repeat`` names a variable Grafana repeats the row (and its panels) over.

    A row queries nothing, so it has no datasource (a null one would read as "the default datasource"), and
    the schema's ``RowPanel`` has no repeat direction or width.
    """

    title: str
    repeat: str | None = None

    def to_json(self, grid: GridPos, panel_id: int) -> Json:
        """Grafana JSON, placed at ``grid`` with the dashboard-unique ``panel_id``."""
        out: Json = {"collapsed": False, "gridPos": grid.to_json(), "id": panel_id, "panels": [],
                     "title": self.title, "type": "row"}
        if self.repeat is not None:
            out["repeat"] = self.repeat
        return out


class Placed(NamedTuple):
    """A panel or row at its grid position."""

    panel: Panel | Row
    grid: GridPos


def panels_json(placed: Sequence[Placed]) -> list[Json]:
    """The dashboard's ``panels``: ids numbered from 1 in grid order (rows hold no nested panels)."""
    return [p.panel.to_json(p.grid, i) for i, p in enumerate(placed, start=1)]


def transformation(kind: str, options: Json, ref_ids: Sequence[str] = ()) -> Json:
    """A panel transformation, optionally applied only to frames of ``ref_ids``."""
    out: Json = {"id": kind, "options": options}
    if ref_ids:
        out["filter"] = {"id": "byRefId", "options": "|".join(ref_ids)}
    return out
