"""What was sent, read off the wire: the tap Collector's file of every span it forwarded to the stack.

The sender (the harness's own, or ``obsgen traffic``) talks to a tap: a Collector that forwards every span to
the stack's entry and writes it to a file (the ``file`` exporter's OTLP JSON, one export request per line).
The assertions read what was sent from that file, whichever sender sent it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER, CLIENT, PRODUCER, CONSUMER = 2, 3, 4, 5  # OTLP SpanKind
STATUS_ERROR = 2
PROBE_PATHS = frozenset({"/health", "/healthz", "/ready", "/readyz", "/metrics"})


def _value(v: Mapping[str, Any]) -> object:
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    return json.dumps(v, sort_keys=True)


@dataclass(frozen=True)
class Span:
    service: str  # resource service.name
    trace_id: str
    span_id: str
    parent: str
    name: str
    kind: int
    start: float  # unix seconds
    end: float
    error: bool
    attrs: dict[str, object]


def read_spans(path: Path) -> Iterator[Span]:
    """Every span in a ``file`` exporter's JSON lines (an incomplete last line is skipped)."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
        if not line.strip():
            continue
        for rs in json.loads(line).get("resourceSpans", []):
            resource = {a["key"]: _value(a["value"]) for a in (rs.get("resource") or {}).get("attributes", [])}
            service = str(resource.get("service.name", ""))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    yield Span(
                        service, s["traceId"], s["spanId"], s.get("parentSpanId", ""), s.get("name", ""),
                        int(s.get("kind", 0)), int(s["startTimeUnixNano"]) / 1e9, int(s["endTimeUnixNano"]) / 1e9,
                        int((s.get("status") or {}).get("code", 0)) == STATUS_ERROR,
                        {a["key"]: _value(a["value"]) for a in s.get("attributes", [])})


def summarize(spans: list[Span], keys: Mapping[str, str], t_healthy: float) -> dict[str, Any]:
    """The ``sent`` record of a run: per trace, per server span, per service-to-service call.

    ``keys`` maps a reported ``service.name`` to its spec key; a trace belongs to the phase its root started in.
    """
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for s in spans:
        by_trace[s.trace_id].append(s)
    by_id = {(s.trace_id, s.span_id): s for s in spans}
    traces: dict[str, list[Any]] = {}
    server_spans: list[dict[str, Any]] = []
    calls: dict[tuple[str, str, str], int] = defaultdict(int)
    failed: dict[tuple[str, str, str], int] = defaultdict(int)
    for tid, ss in by_trace.items():
        root = min(ss, key=lambda s: (s.parent != "", s.start))
        phase = "healthy" if root.start < t_healthy else "failing"
        attrs: dict[str, object] = {}
        routes: set[str] = set()
        for s in ss:
            if s.kind in (SERVER, CONSUMER):
                attrs.update({k: v for k, v in s.attrs.items() if not k.startswith(("http.", "rpc.", "messaging."))})
                if isinstance(s.attrs.get("http.route"), str):
                    routes.add(str(s.attrs["http.route"]))
                server_spans.append({"phase": phase, "service": keys.get(s.service, s.service), "route": s.name,
                                     "duration_s": s.end - s.start, "error": s.error})
                parent = by_id.get((tid, s.parent))
                if parent is not None and parent.kind in (CLIENT, PRODUCER) and parent.service != s.service:
                    edge = (phase, keys.get(parent.service, parent.service), keys.get(s.service, s.service))
                    calls[edge] += 1
                    failed[edge] += int(parent.error or s.error)
        root_path = str(root.attrs.get("http.route", ""))
        traces[tid] = [phase, len(ss), any(s.error for s in ss), root_path in PROBE_PATHS,
                       f"{root.service} {root.name}", attrs, sorted(routes)]
    return {
        "traces": traces,
        "server_spans": server_spans,
        "edge_calls": [[*k, v] for k, v in sorted(calls.items())],
        "edge_errors": [[*k, v] for k, v in sorted(failed.items()) if v],
    }
