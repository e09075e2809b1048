"""``obsgen traffic``'s sender against a loopback OTLP receiver: what goes on the wire is what was generated."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.traffic import endpoint as endpoints
from obsgen.traffic.sender import Sender
from obsgen.traffic.source import synthetic_traces
from tests.otlp_sink import OtlpSink

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "specs" / "shop.yaml"


@pytest.fixture(scope="module")
def shop() -> Plan:
    result = plan_spec(SHOP)
    assert result.plan is not None, result.diagnostics
    return result.plan


def wait_for(sink: OtlpSink, spans: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(sink.spans()) < spans and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_the_wire_carries_the_generators_ids_links_services_and_errors(shop: Plan, protocol: str) -> None:
    traces = list(synthetic_traces(shop, seed=3, duration_s=1, rate=40))
    expected = {(t.trace_id, s.span_id, s.parent_span_id or b"", s.service, s.name, s.error)
                for t in traces for s in t.spans}
    assert len(traces) > 10
    with OtlpSink() as sink:
        sender = Sender(endpoints.parse(sink.endpoint if protocol == "grpc" else sink.http_url, protocol))
        now = time.time_ns()
        for trace in traces:
            sender.emit(trace, now)
        assert sender.close()
        wait_for(sink, len(expected))
        received = sink.spans()
    assert {(s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.error) for s in received} == expected
    assert len(received) == len(expected)  # each span once
    assert sum(sender.sent.exported.values()) == len(expected) and not sender.sent.failed


def test_timestamps_are_the_generators_offsets_from_the_run_start(shop: Plan) -> None:
    trace = list(synthetic_traces(shop, seed=5, duration_s=2, rate=5))[-1]
    shift = 1_700_000_000_123_456_789
    with OtlpSink() as sink:
        sender = Sender(endpoints.parse(sink.endpoint, "grpc"))
        sender.emit(trace, shift)
        assert sender.close()
        wait_for(sink, len(trace.spans))
        got = {s.span_id: s for s in sink.spans()}
    assert trace.start_ns > 0
    for span in trace.spans:
        assert (got[span.span_id].start_ns, got[span.span_id].end_ns) == (span.start_ns + shift, span.end_ns + shift)


def test_attributes_and_kinds_arrive_as_generated(shop: Plan) -> None:
    traces = list(synthetic_traces(shop, seed=11, duration_s=1, rate=10))
    kinds = {"server": 2, "client": 3, "producer": 4, "consumer": 5, "internal": 1}
    with OtlpSink() as sink:
        sender = Sender(endpoints.parse(sink.endpoint, "grpc"))
        for trace in traces:
            sender.emit(trace, time.time_ns())
        assert sender.close()
        wait_for(sink, sum(len(t.spans) for t in traces))
        got = {s.span_id: s for s in sink.spans()}
    for span in (s for t in traces for s in t.spans):
        assert got[span.span_id].attributes == dict(span.attributes)
        assert got[span.span_id].kind == kinds[span.kind.lower().removeprefix("span_kind_")]


def test_a_service_boundary_is_crossed_as_a_w3c_traceparent(shop: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    trace = next(t for t in synthetic_traces(shop, seed=2, duration_s=1, rate=20) if len(t.spans) > 5)
    by_id = {s.span_id: s for s in trace.spans}
    crossings = {(s.parent_span_id, s.span_id) for s in trace.spans
                 if s.parent_span_id in by_id and by_id[s.parent_span_id].service != s.service}
    assert crossings, "the example trace must cross a service boundary"
    headers: list[str] = []
    inject = TraceContextTextMapPropagator.inject

    def spy(self: TraceContextTextMapPropagator, carrier: dict[str, str], **kw: object) -> None:
        inject(self, carrier, **kw)  # type: ignore[arg-type]
        headers.append(carrier["traceparent"])

    monkeypatch.setattr(TraceContextTextMapPropagator, "inject", spy)
    with OtlpSink() as sink:
        sender = Sender(endpoints.parse(sink.endpoint, "grpc"))
        sender.emit(trace, time.time_ns())
        assert sender.close()
    assert sorted(headers) == sorted(f"00-{trace.trace_id.hex()}-{parent.hex()}-01" for parent, _ in crossings)
