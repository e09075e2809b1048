"""The dashboard document as Grafana 12 stores it: top-level keys, top-bar links, and its ``schemaVersion``.

Only keys ``@grafana/schema``'s ``Dashboard`` declares are written (``tests/real/test_grafana_schema.py``);
``obsgen.targets.grafana.strict.validate_dashboard`` checks the same on every render.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from obsgen.targets.grafana.dashboards.query_targets import Json

# (minimum Grafana version, dashboard schemaVersion it writes). 42 arrived with Grafana 12.2
# (migrateHideFromFunctionality); Grafana migrates older versions forward on load, never backward,
# so a dashboard must not claim a newer schema than the target Grafana knows.
_SCHEMA_VERSIONS: tuple[tuple[tuple[int, int], int], ...] = (
    ((12, 2), 42),
    ((12, 0), 41),
    ((11, 0), 39),
    ((0, 0), 36),
)
# The auto-refresh choices the time picker offers.
REFRESH_INTERVALS = ("30s", "1m", "5m", "15m")
# graphTooltip: 1 = shared crosshair (hovering one panel shows the same time on every panel).
SHARED_CROSSHAIR = 1


def schema_version(grafana_version: str) -> int:
    """The dashboard ``schemaVersion`` for a Grafana version such as ``"12.2.0"``."""
    major, minor = (int(p) for p in grafana_version.split(".")[:2])
    for minimum, version in _SCHEMA_VERSIONS:
        if (major, minor) >= minimum:
            return version
    raise AssertionError("unreachable: (0, 0) matches every version")


def dashboards_by_tag(title: str, tags: Iterable[str]) -> Json:
    """A top-bar dropdown listing every dashboard carrying all ``tags``, keeping the time range.

    ``title`` is written as given (pass spec text through ``escape.grafana_text``).
    """
    return {"asDropdown": True, "icon": "external link", "includeVars": False, "keepTime": True,
            "tags": sorted(tags), "targetBlank": False, "title": title, "tooltip": "", "type": "dashboards",
            "url": ""}


class Dashboard(NamedTuple):
    """The top level of a provisioned dashboard: read-only, browser time zone, shared crosshair.

    ``id`` is null, as Grafana requires of a provisioned dashboard (it assigns its own); ``version`` is 1.
    Text fields are written as given.
    """

    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    links: tuple[Json, ...]
    panels: tuple[Json, ...]
    variables: tuple[Json, ...]
    schema_version: int
    time_from: str
    refresh: str

    def to_json(self) -> Json:
        """Grafana JSON."""
        return {
            "annotations": {"list": []},
            "description": self.description,
            "editable": False,
            "graphTooltip": SHARED_CROSSHAIR,
            "id": None,
            "links": list(self.links),
            "panels": list(self.panels),
            "refresh": self.refresh,
            "schemaVersion": self.schema_version,
            "tags": list(self.tags),
            "templating": {"list": list(self.variables)},
            "time": {"from": self.time_from, "to": "now"},
            "timepicker": {"hidden": False, "refresh_intervals": list(REFRESH_INTERVALS)},
            "timezone": "browser",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
        }

