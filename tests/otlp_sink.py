"""A loopback OTLP/gRPC trace receiver for tests, in Tempo's place: it keeps every span it is sent.

Built on the gRPC service stubs of ``opentelemetry-proto`` (installed with the ``traffic`` extra), so it answers
the Collector's ``otlp_grpc`` exporter exactly as any OTLP receiver does.
"""

from __future__ import annotations

import http.server
import threading
from collections import Counter
from concurrent import futures
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes
    service: str
    name: str
    kind: int  # OTLP SpanKind: 2 server, 3 client
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, object]


def _value(value: Any) -> object:
    """An OTLP AnyValue of a scalar as Python."""
    field = value.WhichOneof("value")
    return getattr(value, field) if field else None


class OtlpSink:
    """``with OtlpSink() as sink:`` listens for OTLP/gRPC on ``sink.endpoint`` and OTLP/HTTP (protobuf) on
    ``sink.http_url`` (127.0.0.1, free ports)."""

    def __init__(self) -> None:
        import grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []
        self.requests = 0
        sink = self

        class Service(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
            def Export(self, request: Any, context: Any) -> Any:  # the gRPC method name
                sink._record(request)
                return trace_service_pb2.ExportTraceServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"127.0.0.1:{self.port}"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the http.server method name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                sink._record(request)
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http_url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def _record(self, request: Any) -> None:
        received = []
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes
                            if a.key == "service.name"), "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(ReceivedSpan(
                        bytes(span.trace_id), bytes(span.span_id), bytes(span.parent_span_id), service, span.name,
                        span.kind, span.start_time_unix_nano, span.end_time_unix_nano,
                        span.status.code == span.status.STATUS_CODE_ERROR,
                        {a.key: _value(a.value) for a in span.attributes}))
        with self._lock:
            self._spans.extend(received)
            self.requests += 1

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def spans_per_trace(self) -> Counter[bytes]:
        return Counter(s.trace_id for s in self.spans())

    def __enter__(self) -> OtlpSink:
        self._server.start()
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None)
        self._http.shutdown()
        self._http.server_close()
