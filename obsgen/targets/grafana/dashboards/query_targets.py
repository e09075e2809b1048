"""Datasource references and panel queries (``targets``), as Grafana 12 stores them in a dashboard.

Plain JSON data: each class is frozen and writes exactly the keys Grafana's own editors save for that
datasource, checked against ``@grafana/schema`` by ``tests/real/test_grafana_schema.py``.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

Json = dict[str, Any]


class DataSourceRef(NamedTuple):
    """A datasource reference by UID, the form current Grafana writes (``{type, uid}``)."""

    type: str
    uid: str

    def to_json(self) -> dict[str, str]:
        """Grafana JSON."""
        return {"type": self.type, "uid": self.uid}


class PrometheusTarget(NamedTuple):
    """A Prometheus query as Grafana 10+ stores it (code editor mode).

    ``instant`` queries evaluate once at the end of the range (tables, stats, node graphs); otherwise a range
    query (Grafana writes both flags, ``range`` the negation of ``instant``). ``exemplar`` asks Prometheus for
    exemplars (trace links on points).
    """

    expr: str
    ref_id: str
    datasource: DataSourceRef
    legend: str = "__auto"
    instant: bool = False
    exemplar: bool = False
    format: Literal["time_series", "table"] = "time_series"

    def to_json(self) -> Json:
        """Grafana JSON."""
        return {
            "datasource": self.datasource.to_json(),
            "editorMode": "code",
            "exemplar": self.exemplar,
            "expr": self.expr,
            "format": self.format,
            "instant": self.instant,
            "legendFormat": self.legend,
            "range": not self.instant,
            "refId": self.ref_id,
        }


class TempoTarget(NamedTuple):
    """A Tempo TraceQL search as Grafana stores it (a table of the matching traces)."""

    query: str
    ref_id: str
    datasource: DataSourceRef
    limit: int = 20

    def to_json(self) -> Json:
        """Grafana JSON."""
        return {"datasource": self.datasource.to_json(), "limit": self.limit, "query": self.query,
                "queryType": "traceql", "refId": self.ref_id, "tableType": "traces"}


class LokiTarget(NamedTuple):
    """A Loki LogQL range query as Grafana stores it."""

    expr: str
    ref_id: str
    datasource: DataSourceRef

    def to_json(self) -> Json:
        """Grafana JSON."""
        return {"datasource": self.datasource.to_json(), "editorMode": "code", "expr": self.expr,
                "queryType": "range", "refId": self.ref_id}


QueryTarget = PrometheusTarget | TempoTarget | LokiTarget
