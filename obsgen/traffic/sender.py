"""Synthetic traces onto the wire as real OTLP, through the OpenTelemetry Python SDK and its OTLP exporter.

Why the SDK's own span path with a scripted ``IdGenerator`` (and not ReadableSpans built by hand): every span
goes through ``Tracer.start_span`` / ``Span.end`` of one ``TracerProvider`` per service, then a
``BatchSpanProcessor`` and the OTLP exporter: exactly what an instrumented service runs, with its attribute
limits, status handling and batching. Parent context crosses a service boundary as a W3C ``traceparent``
header (injected by the caller's side, extracted by the callee's), as it does between real services. The only
thing scripted is where ids come from: the SDK asks its ``IdGenerator`` for the trace id of a root span and
for every span id (``opentelemetry/sdk/trace/__init__.py``, ``Tracer.start_span``), and ours hands out the
generator's ids, so the ids on the wire are the ids ``obsgen sampling simulate`` hashes for the probabilistic
policies.

Everything here imports ``opentelemetry`` lazily (``load_sdk``), so obsgen works without the extra.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from obsgen.sampling.synth import SynthSpan, SynthTrace
from obsgen.traffic.endpoint import Endpoint

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExportResult

EXTRA_HINT = "install the optional extra: pip install 'obsgen[traffic]'"

# Export batches of up to 512 spans, at most 100 ms after a span ends: all spans of one trace reach the
# Collector well within decision_wait_after_root_received (seconds), so its decision sees the whole trace.
SCHEDULE_DELAY_MS = 100
MAX_EXPORT_BATCH = 512
# Room for ~10 s of spans per service at 6,500 spans/s: the processor drops spans (silently) only when full.
MAX_QUEUE = 65_536


class SdkMissing(Exception):
    """The optional extra (opentelemetry-sdk and an OTLP exporter) is not installed."""


def load_sdk(protocol: str) -> dict[str, ModuleType]:
    """The SDK modules the sender needs, or SdkMissing naming the missing distribution."""
    import importlib

    wanted = {
        "trace": "opentelemetry.trace",
        "sdk": "opentelemetry.sdk.trace",
        "export": "opentelemetry.sdk.trace.export",
        "ids": "opentelemetry.sdk.trace.id_generator",
        "resources": "opentelemetry.sdk.resources",
        "propagator": "opentelemetry.trace.propagation.tracecontext",
        "context": "opentelemetry.context",
        "exporter": ("opentelemetry.exporter.otlp.proto.grpc.trace_exporter" if protocol == "grpc"
                     else "opentelemetry.exporter.otlp.proto.http.trace_exporter"),
    }
    dist = {"exporter": f"opentelemetry-exporter-otlp-proto-{protocol}"}
    modules: dict[str, ModuleType] = {}
    for key, name in wanted.items():
        try:
            modules[key] = importlib.import_module(name)
        except ImportError as exc:
            raise SdkMissing(f"{dist.get(key, 'opentelemetry-sdk')} is not installed ({exc.name} cannot be "
                             f"imported); {EXTRA_HINT}") from None
    return modules


@dataclass
class Sent:
    """What the exporters reported: spans accepted by the endpoint and spans whose export failed, per service."""

    exported: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, service: str, spans: int, ok: bool) -> None:
        with self.lock:
            (self.exported if ok else self.failed)[service] += spans


def _kind(sdk_trace: ModuleType, kind: str) -> Any:
    """SpanKind from the generator's kind ("server", "SPAN_KIND_SERVER", ...)."""
    name = kind.upper().removeprefix("SPAN_KIND_")
    return getattr(sdk_trace.SpanKind, name, sdk_trace.SpanKind.INTERNAL)


class Sender:
    """One TracerProvider per service (resource ``service.name``), all sharing one scripted IdGenerator."""

    def __init__(self, endpoint: Endpoint, *, timeout_s: float = 10.0) -> None:
        self._m = load_sdk(endpoint.protocol)
        self._endpoint = endpoint
        self._timeout_s = timeout_s
        self.sent = Sent()
        self._ids = self._scripted_ids()
        self._providers: dict[str, Any] = {}
        self._tracers: dict[str, Any] = {}
        self._propagator = self._m["propagator"].TraceContextTextMapPropagator()
        # The exporter logs every failed batch (and its retries); obsgen reports failures itself, once.
        logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)

    def _scripted_ids(self) -> Any:
        base = self._m["ids"].IdGenerator

        class ScriptedIds(base):  # type: ignore[misc, valid-type]
            """Hands out the ids set just before each start_span (spans are started from one thread)."""

            trace_id = 0
            span_id = 0

            def generate_trace_id(self) -> int:
                return self.trace_id

            def generate_span_id(self) -> int:
                return self.span_id

        return ScriptedIds()

    def _exporter(self, service: str) -> Any:
        inner = self._m["exporter"].OTLPSpanExporter(**self._endpoint.exporter_kwargs(self._timeout_s))
        sent = self.sent
        success = self._m["export"].SpanExportResult.SUCCESS
        base = self._m["export"].SpanExporter

        class Counting(base):  # type: ignore[misc, valid-type]
            """Counts what the endpoint accepted and what it did not, per service."""

            def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
                result = inner.export(spans)
                sent.record(service, len(spans), result == success)
                return result

            def shutdown(self) -> None:
                inner.shutdown()

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return bool(inner.force_flush(timeout_millis))

        return Counting()

    def _tracer(self, service: str) -> Any:
        tracer = self._tracers.get(service)
        if tracer is None:
            sdk, export = self._m["sdk"], self._m["export"]
            # Resource(...) and not Resource.create(...): the latter lets OTEL_SERVICE_NAME from the
            # environment rename every service to one.
            resource = self._m["resources"].Resource({"service.name": service,
                                                      "telemetry.sdk.language": "python",
                                                      "telemetry.sdk.name": "opentelemetry"})
            provider = sdk.TracerProvider(resource=resource, id_generator=self._ids,
                                          sampler=sdk.sampling.ALWAYS_ON, shutdown_on_exit=False)
            provider.add_span_processor(export.BatchSpanProcessor(
                self._exporter(service), max_queue_size=MAX_QUEUE, schedule_delay_millis=SCHEDULE_DELAY_MS,
                max_export_batch_size=MAX_EXPORT_BATCH))
            self._providers[service] = provider
            tracer = self._tracers[service] = provider.get_tracer("obsgen.traffic")
        return tracer

    def begin(self, trace: SynthTrace, shift_ns: int) -> list[tuple[int, Callable[[], None]]]:
        """Start every span of ``trace`` (offsets shifted by ``shift_ns``, the run's start on the wall clock);
        returns, per span, its end offset and the call that ends it, in the order they should go.

        An SDK exports a span when it ends, so the caller ends each at its end time: spans reach the Collector
        as they would from the services. Spans start parent first (a child needs its parent's context); ends
        come in time order, a child before its parent at the same instant, so the root span, whose arrival
        starts the Collector's decision_wait_after_root_received, is never ahead of its trace.
        """
        m = self._m
        trace_api, context_api = m["trace"], m["context"]
        by_id = {s.span_id: s for s in trace.spans}
        started: dict[bytes, Any] = {}
        order: list[tuple[SynthSpan, Any]] = []
        for span in _parents_first(trace.spans):
            parent = started.get(span.parent_span_id) if span.parent_span_id is not None else None
            if parent is not None:
                ctx = trace_api.set_span_in_context(parent)
                if by_id[span.parent_span_id].service != span.service:  # type: ignore[index]
                    # Another service: the context travels as a W3C traceparent header.
                    carrier: dict[str, str] = {}
                    self._propagator.inject(carrier, context=ctx)
                    ctx = self._propagator.extract(carrier, context=context_api.Context())
            elif span.parent_span_id is not None:
                # A parent the trace does not hold (never sent): continue its context as a remote parent.
                remote = trace_api.SpanContext(int.from_bytes(trace.trace_id, "big"),
                                               int.from_bytes(span.parent_span_id, "big"), is_remote=True,
                                               trace_flags=trace_api.TraceFlags(trace_api.TraceFlags.SAMPLED))
                ctx = trace_api.set_span_in_context(trace_api.NonRecordingSpan(remote))
            else:
                ctx = context_api.Context()  # a root: the SDK asks the IdGenerator for its trace id
            self._ids.trace_id = int.from_bytes(trace.trace_id, "big")
            self._ids.span_id = int.from_bytes(span.span_id, "big")
            sdk_span = self._tracer(span.service).start_span(
                span.name, context=ctx, kind=_kind(trace_api, span.kind), attributes=dict(span.attributes),
                start_time=span.start_ns + shift_ns)
            started[span.span_id] = sdk_span
            order.append((span, sdk_span))
        error = trace_api.Status(trace_api.StatusCode.ERROR)

        def ender(span: SynthSpan, sdk_span: Any) -> Callable[[], None]:
            def end() -> None:
                if span.error:
                    sdk_span.set_status(error)
                sdk_span.end(end_time=span.end_ns + shift_ns)
            return end

        # Reversed start order puts children before parents; the sort by end time is stable.
        ends = [(span.end_ns, ender(span, sdk_span)) for span, sdk_span in reversed(order)]
        ends.sort(key=lambda item: item[0])
        return ends

    def emit(self, trace: SynthTrace, shift_ns: int) -> None:
        """Send a whole trace now (every span ended at once, in ``begin``'s order)."""
        for _, end in self.begin(trace, shift_ns):
            end()

    def close(self, timeout_s: float = 30.0) -> bool:
        """Flush every provider and shut it down; False when a flush did not finish in time."""
        ok = True
        for provider in self._providers.values():
            ok = bool(provider.force_flush(int(timeout_s * 1000))) and ok
        for provider in self._providers.values():
            provider.shutdown()
        return ok


def _parents_first(spans: Sequence[SynthSpan]) -> list[SynthSpan]:
    """The spans in start order, every parent before its children (a parent may start at its child's instant)."""
    ordered = sorted(spans, key=lambda s: (s.start_ns, -s.end_ns))
    ids = {s.span_id for s in spans}
    done: set[bytes] = set()
    out: list[SynthSpan] = []
    pending = ordered
    while pending:
        rest = []
        for span in pending:
            if span.parent_span_id is None or span.parent_span_id not in ids or span.parent_span_id in done:
                out.append(span)
                done.add(span.span_id)
            else:
                rest.append(span)
        if len(rest) == len(pending):  # a parent cycle: send the rest as they are rather than loop
            out.extend(rest)
            break
        pending = rest
    return out
