"""TEMPORARY stand-in for obsgen/sampling/synth.py (branch h-sim) until it is merged: same dataclasses, a
tiny seeded generator. Deleted at the merge; nothing but obsgen/traffic/source.py imports it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from obsgen.plan import Plan, PlannedService


@dataclass(frozen=True)
class SynthSpan:
    trace_id: bytes
    span_id: bytes
    parent_span_id: bytes | None
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SynthTrace:
    trace_id: bytes
    spans: tuple[SynthSpan, ...]


def generate(plan: Plan, seed: int, count: int) -> Iterator[SynthTrace]:
    rng = random.Random(seed)
    called = {c.callee for s in plan.services for c in s.calls}
    entries = [s for s in plan.instrumented if s.key not in called and s.endpoints] or list(plan.instrumented)
    for _ in range(count):
        trace_id = rng.getrandbits(128).to_bytes(16, "big")
        spans: list[SynthSpan] = []
        entry = rng.choice(entries)
        _server(plan, rng, trace_id, entry, None, 0, spans, 0)
        yield SynthTrace(trace_id, tuple(spans))


def _server(plan: Plan, rng: random.Random, trace_id: bytes, svc: PlannedService, parent: bytes | None,
            start: int, spans: list[SynthSpan], depth: int) -> int:
    span_id = rng.getrandbits(64).to_bytes(8, "big")
    endpoint = rng.choice(svc.endpoints) if svc.endpoints else None
    route = endpoint.route.span_name if endpoint else "GET /"
    t = start + rng.randint(100_000, 2_000_000)
    for call in svc.calls if depth < 6 else ():
        callee = plan.by_key[call.callee]
        client_id = rng.getrandbits(64).to_bytes(8, "big")
        c_start = t
        attrs: dict[str, object] = {"peer.service": callee.name}
        if callee.instrumented:
            t = _server(plan, rng, trace_id, callee, client_id, c_start + 200_000, spans, depth + 1) + 200_000
        else:
            t = c_start + rng.randint(500_000, 5_000_000)
            attrs["db.system"] = callee.key
        spans.append(SynthSpan(trace_id, client_id, span_id, svc.name, f"call {callee.key}", "client", c_start, t,
                               rng.random() < 0.01, attrs))
    end = t + rng.randint(100_000, 1_000_000)
    verb, _, path = route.partition(" ")
    spans.append(SynthSpan(trace_id, span_id, parent, svc.name, route, "server", start, end, rng.random() < 0.02,
                           {"http.route": path or route, "http.request.method": verb,
                            "http.response.status_code": 200}))
    return end
