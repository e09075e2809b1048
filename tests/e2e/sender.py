"""The harness's own traffic: seeded synthetic traces over the spec's topology, sent as OTLP/HTTP JSON.

A stand-in for ``obsgen traffic`` (issue 17), small and dependency-free: every instrumented service's server span
makes each of its declared calls (a probe endpoint such as ``GET /health`` makes none), callers name
non-service nodes the way the spec says they appear in spans (``obsgen.plan.service_graph.span_naming``: ``db.name``,
``db.system``, ``peer.service``, ``messaging.system``), messages to a queue are consumed by its declared
consumers, and every span carries the spec's declared attributes. Healthy traffic has no server errors and
stays far below every latency threshold; the failure switch makes one service's server spans fail and one
call's client spans slow. ``Tally`` records what was sent, for the assertions.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from obsgen.plan.service_graph import span_naming
from obsgen.spec.models import AttributeType, Call, Endpoint, ServiceKind, Spec
from tests import otlp_http as otlp

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
PROBE_PATHS = frozenset({"/health", "/healthz", "/ready", "/readyz", "/metrics"})
SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = (otlp.KINDS[k] for k in
                                                ("SERVER", "CLIENT", "PRODUCER", "CONSUMER", "INTERNAL"))
LARGE_TRACE_EVERY = 250  # every n-th trace gets LARGE_TRACE_SPANS extra internal spans (span-count policies)
LARGE_TRACE_SPANS = 210


@dataclass(frozen=True)
class Failure:
    """The failing phase: ``errors`` fails that share of its server spans; ``slow_edge``'s client spans wait."""

    errors: str
    slow_edge: tuple[str, str]
    delay_s: float
    error_ratio: float = 0.5


@dataclass(frozen=True)
class ServerSpan:
    """One server (or consumer) span as sent: what SLOs and error ratios are made of."""

    phase: str
    service: str
    route: str
    duration_s: float
    error: bool


@dataclass
class TraceInfo:
    phase: str
    spans: int
    error: bool
    probe: bool
    route: str
    attrs: dict[str, object]  # the trace-wide attributes every server span carries
    routes: list[str]  # http.route of every server span


@dataclass
class Tally:
    """Everything sent, by phase."""

    traces: dict[str, TraceInfo] = field(default_factory=dict)
    server_spans: list[ServerSpan] = field(default_factory=list)
    failed_edges: set[tuple[str, str]] = field(default_factory=set)  # (client key, callee key) with an error
    edge_calls: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (phase, caller, callee) -> n
    edge_errors: dict[tuple[str, str, str], int] = field(default_factory=dict)
    requests_refused: int = 0

    @property
    def spans(self) -> int:
        return sum(t.spans for t in self.traces.values())


def _route(endpoint: str | Endpoint) -> str:
    return endpoint.route if isinstance(endpoint, Endpoint) else endpoint


def _http(route: str) -> tuple[str, str] | None:
    method, _, path = route.partition(" ")
    return (method, path) if method in HTTP_METHODS and path.startswith("/") else None


def is_probe(route: str) -> bool:
    http = _http(route)
    return http is not None and http[1] in PROBE_PATHS


@dataclass
class _Node:
    service: str  # key of the service whose resource emits it
    name: str
    kind: int
    attrs: dict[str, object]
    own_s: float
    children: list[_Node] = field(default_factory=list)
    detached: list[_Node] = field(default_factory=list)  # consumers: start after, not inside, this span
    error: bool = False
    extra_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return self.own_s + self.extra_s + sum(c.duration_s for c in self.children)


class Traffic:
    """Seeded traces for one spec; ``send`` posts them to a Collector's OTLP/HTTP receiver."""

    def __init__(self, spec: Spec, failure: Failure, seed: int = 1, roots_per_second: float = 8.0) -> None:
        self.spec = spec
        self.failure = failure
        self.rng = random.Random(seed)
        self.rate = roots_per_second
        self.tally = Tally()
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        self._round_robin: dict[tuple[str, str], Iterator[str]] = {}
        self._trace_count = 0
        services = spec.services
        for key, svc in services.items():
            for callee, _ in self.calls(key):
                if callee not in services:
                    raise ValueError(f"{key} calls unknown {callee}")
            _ = svc
        self.roots = self._roots()

    # -- topology -------------------------------------------------------------------------------

    def reported(self, key: str) -> str:
        return self.spec.services[key].service_name or key

    def endpoints(self, key: str) -> list[str]:
        routes = [_route(e) for e in self.spec.services[key].endpoints]
        return routes or ["GET /"]

    def calls(self, key: str) -> list[tuple[str, str | None]]:
        return [(c.service, c.endpoint) if isinstance(c, Call) else (c, None) for c in self.spec.services[key].calls]

    def instrumented(self) -> list[str]:
        return [k for k, s in self.spec.services.items() if s.kind is ServiceKind.SERVICE]

    def consumers(self, queue: str) -> list[str]:
        return [k for k, s in self.spec.services.items() if queue in s.consumes]

    def _roots(self) -> list[tuple[str, str]]:
        covered: set[tuple[str, str]] = set()
        for key in self.instrumented():
            for callee, endpoint in self.calls(key):
                kind = self.spec.services[callee].kind
                if kind is ServiceKind.SERVICE:
                    targets = [endpoint] if endpoint else [r for r in self.endpoints(callee) if not is_probe(r)]
                    covered.update((callee, r) for r in targets)
                elif kind is ServiceKind.QUEUE:
                    for consumer in self.consumers(callee):
                        covered.add((consumer, self.endpoints(consumer)[0]))
        return [(k, r) for k in self.instrumented() for r in self.endpoints(k) if (k, r) not in covered]

    def _callee_route(self, caller: str, callee: str, endpoint: str | None) -> str:
        if endpoint:
            return endpoint
        key = (caller, callee)
        if key not in self._round_robin:
            self._round_robin[key] = itertools.cycle([r for r in self.endpoints(callee) if not is_probe(r)]
                                                     or self.endpoints(callee))
        return next(self._round_robin[key])

    # -- traces ---------------------------------------------------------------------------------

    def _trace_attrs(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, attr in self.spec.attributes.items():
            if name.startswith("http."):
                continue  # set per span from the route and outcome
            if attr.values:
                out[name] = self.rng.choice(attr.values)
            elif attr.type is AttributeType.INT:
                out[name] = self.rng.choice((10, 120, 480, 999, 1000, 4500, 20000, 250000))
            elif attr.type is AttributeType.DOUBLE:
                out[name] = round(self.rng.uniform(0, 1000), 2)
            elif attr.type is AttributeType.BOOL:
                out[name] = self.rng.random() < 0.03
            elif attr.high_cardinality:
                out[name] = f"id-{self.rng.randrange(100_000)}"
        return out

    def _server(self, key: str, route: str, phase: str, attrs: dict[str, object], kind: int = SERVER) -> _Node:
        failing = phase == "failing"
        error = failing and key == self.failure.errors and self.rng.random() < self.failure.error_ratio
        span_attrs = dict(attrs)
        http = _http(route)
        if http is not None and kind == SERVER:
            span_attrs.update({"http.request.method": http[0], "http.route": http[1],
                               "http.response.status_code": 500 if error else 200})
        node = _Node(key, route, kind, span_attrs, self.rng.uniform(0.002, 0.012), error=error)
        if is_probe(route):
            return node
        for callee, endpoint in self.calls(key):
            node.children.append(self._call(key, callee, endpoint, phase, attrs))
        return node

    def _call(self, caller: str, callee: str, endpoint: str | None, phase: str, attrs: dict[str, object]) -> _Node:
        target = self.spec.services[callee]
        slow = phase == "failing" and (caller, callee) == self.failure.slow_edge
        if target.kind is ServiceKind.SERVICE:
            route = self._callee_route(caller, callee, endpoint)
            client = _Node(caller, route, CLIENT, {"peer.service": self.reported(callee)}, 0.001)
            server = self._server(callee, route, phase, attrs)
            client.children.append(server)
            client.error = server.error
        elif target.kind is ServiceKind.QUEUE:
            naming = span_naming(callee, target)
            client = _Node(caller, f"publish {callee}", PRODUCER,
                           {"messaging.system": naming.messaging_system or callee,
                            "messaging.destination.name": callee}, 0.001)
            for consumer in self.consumers(callee):
                client.detached.append(self._server(consumer, self.endpoints(consumer)[0], phase, attrs, CONSUMER))
        else:
            naming = span_naming(callee, target)
            span_attrs = {name: value for name, value in (
                ("db.name", naming.db_name), ("db.system", naming.db_system), ("peer.service", naming.peer_service),
                ("messaging.system", naming.messaging_system)) if value is not None}
            client = _Node(caller, endpoint or f"call {callee}", CLIENT, span_attrs, self.rng.uniform(0.001, 0.004))
            # caches fail now and then without failing the request: the redis-errors kind of policy has traces
            client.error = target.kind is ServiceKind.CACHE and self.rng.random() < 0.01
        if slow:
            client.extra_s = self.failure.delay_s
        with self.lock:
            k = (phase, caller, callee)
            self.tally.edge_calls[k] = self.tally.edge_calls.get(k, 0) + 1
            if client.error:
                self.tally.edge_errors[k] = self.tally.edge_errors.get(k, 0) + 1
        return client

    def trace(self, phase: str) -> tuple[str, list[dict[str, Any]]]:
        """One trace: (trace id, OTLP resourceSpans)."""
        self._trace_count += 1
        key, route = self.roots[self._trace_count % len(self.roots)]
        root = self._server(key, route, phase, self._trace_attrs())
        if self._trace_count % LARGE_TRACE_EVERY == 0 and not is_probe(route):
            root.children.extend(_Node(key, f"render item {i}", INTERNAL, {}, 0.0001) for i in range(LARGE_TRACE_SPANS))
        trace_id = f"{self.rng.getrandbits(128):032x}"
        end = time.time()
        spans: dict[str, list[dict[str, Any]]] = {}
        attrs = dict(root.attrs)
        count, error = self._emit(root, trace_id, None, end - root.duration_s, spans, phase)
        routes = sorted({str(a["value"]["stringValue"]) for ss in spans.values() for span in ss
                         for a in span["attributes"] if a["key"] == "http.route"})
        with self.lock:
            self.tally.traces[trace_id] = TraceInfo(phase, count, error, is_probe(route), f"{key} {route}",
                                                    {k: v for k, v in attrs.items() if not k.startswith("http.")},
                                                    routes)
        return trace_id, [otlp.resource_spans(self.reported(k), s, "obsgen-e2e") for k, s in spans.items()]

    def _emit(self, node: _Node, trace_id: str, parent: str | None, start: float,
              out: dict[str, list[dict[str, Any]]], phase: str) -> tuple[int, bool]:
        span_id = f"{self.rng.getrandbits(64):016x}"
        duration = node.duration_s
        span = otlp.span(trace_id, span_id, parent, node.name, node.kind, int(start * 1e9),
                              int((start + duration) * 1e9), node.attrs, node.error)
        if node.error:
            span["status"]["message"] = "synthetic failure"
            # what instrumentation records with an error status (OTel semantic conventions: exceptions)
            span["events"] = [{"name": "exception", "timeUnixNano": span["endTimeUnixNano"],
                               "attributes": [otlp.attribute("exception.type", "SyntheticFailure")]}]
        out.setdefault(node.service, []).append(span)
        if node.kind in (SERVER, CONSUMER):
            with self.lock:
                self.tally.server_spans.append(ServerSpan(phase, node.service, node.name, duration, node.error))
        count, error = 1, node.error
        cursor = start + node.own_s / 2 + node.extra_s
        for child in node.children:
            n, e = self._emit(child, trace_id, span_id, cursor, out, phase)
            count, error, cursor = count + n, error or e, cursor + child.duration_s
        for child in node.detached:
            n, e = self._emit(child, trace_id, span_id, start + duration, out, phase)
            count, error = count + n, error or e
        return count, error

    # -- sending --------------------------------------------------------------------------------

    def run(self, otlp_http: str, phase: str, seconds: float, stop: threading.Event | None = None) -> None:
        """Send ``rate`` traces per second for ``seconds`` to ``otlp_http`` (``http://host:port``)."""
        poster = otlp.Poster(otlp_http, timeout=10)
        try:
            for budget in otlp.paced(self.rate, seconds, 0.25, stop):
                batch: list[dict[str, Any]] = []
                while budget.owed >= 1:
                    budget.owed -= 1
                    batch.extend(self.trace(phase)[1])
                if batch:
                    try:
                        status = poster.post(json.dumps({"resourceSpans": batch}).encode())
                    except OSError:
                        status = 0
                    if not 200 <= status < 300:
                        with self.lock:
                            self.tally.requests_refused += 1
        finally:
            poster.close()
