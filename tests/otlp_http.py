"""Traces as OTLP/HTTP JSON, sent at a steady rate: the small sender of the e2e harness and the benchmarks.

``obsgen traffic`` sends through the OpenTelemetry SDK; the e2e harness's own traffic (``tests/e2e/sender.py``)
and ``benchmarks/collector_throughput.py`` need no SDK: they build the JSON themselves (the encoding of
opentelemetry-proto's ``ExportTraceServiceRequest``, ids in hex, 64-bit integers as strings) and POST it to a
receiver's ``/v1/traces``. One copy of that encoding, the connection and the pacing lives here; it sits in
tests/ (not in obsgen) because it is harness code, and the benchmarks already take their tools from tests/.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# OTLP's SpanKind and StatusCode numbers (opentelemetry-proto trace/v1/trace.proto)
KINDS = {"INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
STATUS_ERROR = 2


def attribute(key: str, value: object) -> dict[str, Any]:
    """One ``KeyValue``: bool, int (as a string), double, else string."""
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def span(trace_id: str, span_id: str, parent_span_id: str | None, name: str, kind: int, start_ns: int,
         end_ns: int, attributes: Mapping[str, object], error: bool) -> dict[str, Any]:
    """One ``Span`` (ids in hex); an error span gets status ERROR."""
    out: dict[str, Any] = {
        "traceId": trace_id, "spanId": span_id, "name": name, "kind": kind,
        "startTimeUnixNano": str(start_ns), "endTimeUnixNano": str(end_ns),
        "attributes": [attribute(k, v) for k, v in attributes.items()],
    }
    if parent_span_id:
        out["parentSpanId"] = parent_span_id
    if error:
        out["status"] = {"code": STATUS_ERROR}
    return out


def resource_spans(service_name: str, spans: list[dict[str, Any]], scope: str) -> dict[str, Any]:
    """One ``ResourceSpans``: the spans of one service, under one instrumentation scope."""
    return {"resource": {"attributes": [attribute("service.name", service_name)]},
            "scopeSpans": [{"scope": {"name": scope}, "spans": spans}]}


class Poster:
    """POSTs request bodies to ``<base_url>/v1/traces`` over one kept-alive connection (no proxy: loopback)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        assert parts.hostname and parts.port, base_url
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def post(self, body: bytes) -> int:
        """The response's status; OSError when the receiver cannot be reached (the next post reconnects)."""
        try:
            self._connection.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
            response = self._connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as exc:
            self._connection.close()
            raise OSError(f"POST /v1/traces: {exc}") from exc

    def close(self) -> None:
        self._connection.close()


@dataclass
class Budget:
    """What is due in this tick (traces, spans: the caller's unit); what the caller leaves carries over."""

    owed: float = 0.0


def paced(rate: float, seconds: float, tick: float, stop: threading.Event | None = None) -> Iterator[Budget]:
    """Every ``tick`` seconds for ``seconds`` (or until ``stop``), one Budget with ``rate * tick`` more due.

    The caller spends it (``budget.owed -= sent``) before the next item: a remainder, or an overdraft, carries
    over, so the average rate holds whatever unit a send has.
    """
    deadline = time.monotonic() + seconds
    budget = Budget()
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        started = time.monotonic()
        budget.owed += rate * tick
        yield budget
        time.sleep(max(0.0, tick - (time.monotonic() - started)))
