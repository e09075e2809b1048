"""Seeded synthetic traces from a spec's topology and traffic model: the shared contract of the simulator,
the sampling report and ``obsgen traffic``.

The contract (stable: ``obsgen traffic`` and the real-Collector comparison depend on it)::

    generate_traces(spec_or_plan, *, seed: int, duration_s: float, scenario: Scenario | None = None,
                    rate: float | None = None) -> Iterator[SynthTrace]

* ``spec_or_plan``: a ``Spec`` or a ``Plan`` (its spec is used). A spec without ``traffic:`` simulates the
  defaults of ``obsgen.spec.traffic``.
* ``seed``: the same seed, spec, duration, scenario and rate give the same traces, byte for byte, in any process
  (nothing depends on ``PYTHONHASHSEED``: every random number comes from ``random.Random`` seeded with an int
  derived by SHA-256 from the seed and the second).
* ``duration_s``: traces start in ``[0, duration_s)`` seconds after the run start, in start order. Arrivals
  are a Poisson process of the model's total rate (or ``rate`` requests per second, the entry endpoints
  keeping their shares). Each whole second has its own generator, so second ``n`` is the same whatever the
  duration and ``draws`` can start anywhere (the simulator splits a run over processes that way).
* ``scenario``: degraded behaviour from ``scenario.start_s`` on (a service's failure rate up, an edge or a
  service slower); see ``Scenario.parse`` for the command-line form.

A ``SynthTrace`` has ``trace_id`` (16 bytes), ``start_ns`` (offset from the run start), ``entry`` ("service
endpoint") and ``spans``, parents before children. A ``SynthSpan`` has ``span_id`` (8 bytes),
``parent_span_id`` (None for the root), ``service`` (the resource ``service.name``), ``name``, ``kind``
(SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL), ``start_ns`` and ``end_ns`` (offsets from the run start),
``error`` (status ERROR; otherwise UNSET, as instrumentation leaves a success) and ``attributes`` with what
real instrumentation sets (semantic conventions 1.26+):

* HTTP server span "POST /checkout": ``http.request.method``, ``http.route`` (the path),
  ``http.response.status_code`` (200, or 500 when it failed); gRPC "pkg.Service/Method": ``rpc.system=grpc``,
  ``rpc.service``, ``rpc.method``, ``rpc.grpc.status_code`` (0 or 2);
* client span to an instrumented HTTP service "POST": ``http.request.method``, ``server.address`` (the
  callee's service.name), ``http.response.status_code``; to a gRPC service: the ``rpc.*`` attributes;
* client span to a database or cache: ``db.system`` and ``db.name`` (when the spec names them, see
  ``obsgen.plan.service_graph.span_naming``), to an external node ``peer.service`` (and the HTTP attributes);
  ``peer.service`` also wherever the spec sets ``peer_service``;
* producer span "publish Q" and one consumer span "process Q" per consumer: ``messaging.system``,
  ``messaging.destination.name``;
* the traffic model's attribute mixes (``payment.method``, ``transaction.amount``, ``app.debug``, ...) on the
  spans of the services their ``services`` lists (default: the root span), with the value drawn once per trace.

Failures propagate up a synchronous call chain (the caller's client span and every server span above it fail
too); a consumer's failure does not fail its producer.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from math import exp, trunc
from typing import NamedTuple

from obsgen.plan.service_graph import span_naming
from obsgen.spec.endpoints import Protocol, endpoint_protocol, grpc_parts, parse_route
from obsgen.spec.models import Call, Endpoint, ServiceKind, Spec
from obsgen.spec.traffic import HEALTH_PATHS, CallRef, LatencyDistribution, Traffic
from obsgen.spec.traffic_checks import attribute_type, parse_value

AttrValue = str | int | float | bool
Z99 = 2.3263478740408408  # the standard normal's 99th percentile: p99 = median * exp(Z99 * sigma)
# A latency draw is one uniform number, read as one of 2^16 equal-probability cells, and the standard normal
# quantile at that cell's midpoint (random.gauss costs several Python-level calls); the tails reach +-4.3 sigma.
_NORMAL_CELLS = 1 << 16

try:
    # What NormalDist.inv_cdf computes, without its argument checks and method call: CPython 3.11-3.13
    # Lib/statistics.py imports the C version of _normal_dist_inv_cdf from _statistics when built, and inv_cdf
    # returns _normal_dist_inv_cdf(p, self._mu, self._sigma). Importing _statistics directly skips loading
    # statistics itself (~0.7 ms of a render).
    from _statistics import _normal_dist_inv_cdf as _inv_cdf
except ImportError:  # pragma: no cover - a CPython built without the C module: the same function in Python
    import statistics

    _inv_cdf = getattr(statistics, "_normal_dist_inv_cdf", None) or (
        lambda p, mu, sigma: statistics.NormalDist(mu, sigma).inv_cdf(p))


def normal_quantile(cell: int) -> float:
    """``NormalDist().inv_cdf((cell + 0.5) / 2**16)``, exactly (``tests/sampling/test_synth.py`` compares every
    cell with the public method).

    Computed per draw rather than looked up in a 2^16-entry table built at import: the table cost 13 ms of CPU
    on every render with a traffic model, and a render reads ~13,700 cells (the sampling report's draws
    ~5,700, OBS426's walks and bounds ~8,000), ~0.15 us each more than a lookup."""
    return _inv_cdf((cell + 0.5) / _NORMAL_CELLS, 0.0, 1.0)


SPAN_KINDS = ("SERVER", "CLIENT", "PRODUCER", "CONSUMER", "INTERNAL")


# The records below are NamedTuples rather than frozen slots dataclasses: a dataclass costs ~0.8 ms to define
# (dataclasses exec()s its generated methods), a NamedTuple ~0.1 ms, and every render with a traffic model
# imports them (13 records here and in odds.py: ~8 ms). Nothing compares them with plain tuples or emits them.


class SynthSpan(NamedTuple):
    """One span, as an SDK would export it."""

    span_id: bytes
    parent_span_id: bytes | None
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    error: bool
    attributes: dict[str, AttrValue]


class SynthTrace(NamedTuple):
    """One trace: its id, when it started (offset from the run start) and its spans, parents first."""

    trace_id: bytes
    start_ns: int
    entry: str
    spans: list[SynthSpan]

    @property
    def duration_ns(self) -> int:
        """Earliest start to latest end, as the latency policy measures a trace."""
        return max(s.end_ns for s in self.spans) - min(s.start_ns for s in self.spans)


@dataclass(frozen=True)
class Scenario:
    """Degraded behaviour: failure rates replaced per service, latencies multiplied per service or edge.

    ``errors``: service key -> failure rate in %; ``slow``: service key or ``"caller->callee"`` -> factor;
    from ``start_s`` seconds after the run start on."""

    errors: Mapping[str, float] = field(default_factory=dict)
    slow: Mapping[str, float] = field(default_factory=dict)
    start_s: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Scenario:
        """``errors:payment-provider=50,slow:main-service->postgresql=10,from=60`` (comma-separated parts)."""
        errors: dict[str, float] = {}
        slow: dict[str, float] = {}
        start = 0.0
        for part in filter(None, (p.strip() for p in text.split(","))):
            what, _, rest = part.partition(":")
            if part.startswith("from="):
                start = _number(part[5:], part)
                continue
            target, eq, value = rest.rpartition("=")
            if not eq or not target or what not in ("errors", "slow"):
                raise ValueError(f"scenario part {part!r}: write errors:SERVICE=PERCENT, slow:SERVICE=FACTOR, "
                                 "slow:CALLER->CALLEE=FACTOR or from=SECONDS")
            number = _number(value, part)
            if what == "errors":
                if not 0 <= number <= 100:
                    raise ValueError(f"scenario part {part!r}: a failure rate is a percentage (0-100)")
                errors[target] = number
            else:
                if number <= 0:
                    raise ValueError(f"scenario part {part!r}: a slow-down factor is above 0")
                slow[target] = number
        return cls(errors, slow, start)

    def services(self) -> set[str]:
        """Every service key the scenario names (to check against the spec)."""
        keys = set(self.errors)
        for target in self.slow:
            keys.update(target.split("->"))
        return keys


def _number(text: str, part: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"scenario part {part!r}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"scenario part {part!r}: {text!r} is not a finite number")
    return value


# ---------------------------------------------------------------------------------------------------------
# The compiled model: span templates (one per position in an entry's call tree) and the tree to walk.


class SpanTemplate(NamedTuple):
    """What a span at one position of a call tree always is; ``status`` names the protocol whose status
    attribute follows the span's failure (``http``/``grpc``), ``mixes`` the attribute mixes it carries."""

    service: str
    name: str
    kind: str
    attributes: tuple[tuple[str, AttrValue], ...]
    status: str | None
    mixes: tuple[int, ...]


class _Dist(NamedTuple):
    mu: float
    sigma: float

    @classmethod
    def of(cls, dist: LatencyDistribution, factor: float = 1.0) -> _Dist:
        median = dist.median.ns * factor
        ratio = max(dist.p99.ns / max(dist.median.ns, 1), 1.0)
        return cls(math.log(max(median, 1.0)), math.log(ratio) / Z99)


class _Fail(NamedTuple):
    """A node's failure rate (%), and the attribute rules (mix index, value index, rate) that raise it."""

    percent: float
    rules: tuple[tuple[int, int, float], ...]


class _Server(NamedTuple):
    template: int
    own: tuple[_Dist, _Dist]  # (normal, degraded)
    fail: tuple[_Fail, _Fail]
    calls: list[_Edge]  # filled in after the node is made (the templates of its calls come after its own)


class _Edge(NamedTuple):
    percent: float
    kind: str  # "service", "leaf", "queue"
    client: int  # client or producer template
    latency: tuple[_Dist, _Dist]  # network time (service), call (leaf) or publish (queue)
    fail: tuple[_Fail, _Fail] | None  # leaf and queue nodes fail on their own
    server: _Server | None = None
    consumers: tuple[_Server, ...] = ()


class Mix(NamedTuple):
    """One attribute mix: its key, typed values, cumulative shares, or the mix whose value it copies."""

    key: str
    values: tuple[AttrValue, ...]
    cumulative: tuple[float, ...]
    same_as: int | None


class Draw(NamedTuple):
    """One trace before its spans are built: what the simulator needs, and exactly what ``materialize``
    turns into a ``SynthTrace``. ``spans`` holds (template, parent position or -1, start, end, error)."""

    trace_id: bytes
    start_ns: int
    entry: int
    mix: tuple[int, ...]
    spans: tuple[tuple[int, int, int, int, bool], ...]

    def signature(self, carried: tuple[int, ...] | None = None) -> tuple[object, ...]:
        """Everything a span's name, kind, status and attributes depend on (not ids nor times); ``carried``:
        the mixes the trace's templates can carry (``SynthModel.carried_by_entry``), default all."""
        # list comprehensions, not generators: the simulator keys every trace by its signature
        mix = self.mix if carried is None else tuple([self.mix[i] for i in carried])
        return (self.entry, mix, tuple([(t, p, e) for t, p, _, _, e in self.spans]))

    @property
    def duration_ns(self) -> int:
        """Earliest start to latest end."""
        return max([s[3] for s in self.spans]) - min([s[2] for s in self.spans])


class SynthModel:
    """A spec's topology and traffic model compiled for drawing traces."""

    def __init__(self, spec: Spec, scenario: Scenario | None = None, rate: float | None = None) -> None:
        self.spec = spec
        self.traffic = spec.traffic if spec.traffic is not None else Traffic()
        self.scenario = scenario or Scenario()
        unknown = sorted(k.strip() for k in self.scenario.services() if k.strip() not in spec.services)
        if unknown:
            raise ValueError(f"scenario names unknown services: {', '.join(unknown)}")
        self.templates: list[SpanTemplate] = []
        self.mixes = self._mixes()
        # what _draw reads of the mixes, unpacked once rather than per trace
        self._drawn_mixes = [(i, m.cumulative, len(m.values)) for i, m in enumerate(self.mixes) if m.same_as is None]
        self._copied_mixes = [(i, m.same_as) for i, m in enumerate(self.mixes) if m.same_as is not None]
        entries = entry_rates(spec)
        self.entries: list[tuple[str, _Server]] = []
        weights: list[float] = []
        for key, route, per_second in entries:
            if per_second <= 0:
                continue
            root = self._server(key, route, (key,))
            self.entries.append((f"{key} {route}" if route else key, root))
            weights.append(per_second)
        total = sum(weights)
        self.carried_by_entry = [self._mixes_under(root) for _, root in self.entries]
        self.rate = float(rate) if rate is not None else total
        self.cumulative = tuple(itertools_accumulate(weights))
        self.total_weight = total

    # -- compile ---------------------------------------------------------------------------------------
    def _mixes_under(self, root: _Server) -> tuple[int, ...]:
        """The mixes any span template of an entry's call tree carries (and the mixes they copy)."""
        found: set[int] = set()
        stack: list[_Server] = [root]
        while stack:
            node = stack.pop()
            found.update(self.templates[node.template].mixes)
            for edge in node.calls:
                found.update(self.templates[edge.client].mixes)
                stack.extend(edge.consumers)
                if edge.server is not None:
                    stack.append(edge.server)
        for i in list(found):
            if self.mixes[i].same_as is not None:
                found.add(self.mixes[i].same_as)
        return tuple(sorted(found))

    def _mixes(self) -> list[Mix]:
        keys = list(self.traffic.attributes)
        out: list[Mix] = []
        for key in keys:
            mix = self.traffic.attributes[key]
            kind = attribute_type(self.spec, key)
            values = tuple(parse_value(kind, text) for text in mix.values)
            out.append(Mix(key, values, tuple(itertools_accumulate(mix.values.values())),
                           keys.index(mix.same_as) if mix.same_as in keys else None))
        return out

    def _carried(self, service: str) -> tuple[int, ...]:
        mixes = self.traffic.attributes
        return tuple(i for i, key in enumerate(mixes) if service in mixes[key].services)

    def _template(self, service: str, name: str, kind: str, attrs: dict[str, AttrValue], status: str | None,
                  mixes: tuple[int, ...]) -> int:
        self.templates.append(SpanTemplate(service, name, kind, tuple(attrs.items()), status, mixes))
        return len(self.templates) - 1

    def _reported(self, key: str) -> str:
        return self.spec.services[key].service_name or key

    def _own(self, key: str) -> tuple[_Dist, _Dist]:
        dist = self.traffic.latency.services.get(key, self.traffic.latency.default)
        return _Dist.of(dist), _Dist.of(dist, self.scenario.slow.get(key, 1.0))

    def _edge_latency(self, caller: str, callee: str, fallback: LatencyDistribution,
                      *, leaf: bool) -> tuple[_Dist, _Dist]:
        """An edges entry, else ``fallback``; degraded by the edge's factor and, for a call to a node that is
        not instrumented (the call is all of its time), by the callee's."""
        edge = next((e for e in self.traffic.latency.edges if e.source == caller and e.to == callee), None)
        chosen = LatencyDistribution(median=edge.median, p99=edge.p99) if edge is not None else fallback
        factor = self.scenario.slow.get(f"{caller}->{callee}", 1.0)
        if leaf:
            factor *= self.scenario.slow.get(callee, 1.0)
        return _Dist.of(chosen), _Dist.of(chosen, factor)

    def _fail(self, key: str) -> tuple[_Fail, _Fail]:
        errors = self.traffic.errors
        base = errors.services.get(key, errors.percent)
        names = list(self.traffic.attributes)
        rules: list[tuple[int, int, float]] = []
        for rule in errors.by_attribute:
            if rule.service not in (None, key) or rule.attribute not in names:
                continue
            index = names.index(rule.attribute)
            source = self.traffic.attributes[rule.attribute]
            mix = self.mixes[index]
            values = mix.values if source.same_as is None else self.mixes[mix.same_as or 0].values
            kind = attribute_type(self.spec, rule.attribute)
            try:
                wanted = parse_value(kind, rule.value)
            except ValueError:
                continue
            if wanted in values:
                rules.append((index, values.index(wanted), rule.percent))
        normal = _Fail(base, tuple(rules))
        if key in self.scenario.errors:
            return normal, _Fail(self.scenario.errors[key], ())
        return normal, normal

    def _server(self, key: str, route: str | None, path: tuple[str, ...], *,
                consumer_of: str | None = None) -> _Server:
        name = self._reported(key)
        attrs: dict[str, AttrValue] = {}
        status: str | None = None
        if consumer_of is not None:
            queue = span_naming(consumer_of, self.spec.services[consumer_of])
            # the endpoint the consumer declares for its messages (one that is neither HTTP nor gRPC), so its
            # endpoint panels and SLOs see the span name; else the messaging convention "process <destination>"
            route = next((e for e in _endpoints(self.spec, key)
                          if endpoint_protocol(e) is Protocol.UNKNOWN), None)
            span_name = parse_route(route).span_name if route else f"process {self._reported(consumer_of)}"
            kind = "CONSUMER"
            attrs = {"messaging.system": queue.messaging_system or "kafka",
                     "messaging.destination.name": self._reported(consumer_of)}
        elif route is None:
            span_name, kind = f"{name} request", "SERVER"
        else:
            parsed = parse_route(route)
            span_name, kind = parsed.span_name, "SERVER"
            if endpoint_protocol(route) is Protocol.HTTP:
                attrs = {"http.request.method": parsed.method or "GET", "http.route": parsed.path or "/"}
                status = "http"
            elif (parts := grpc_parts(route)) is not None:
                attrs = {"rpc.system": "grpc", "rpc.service": parts[0], "rpc.method": parts[1]}
                status = "grpc"
        mixes = self._carried(key)
        if len(path) == 1 and consumer_of is None:  # the root also carries the mixes that name no service
            mixes += tuple(i for i, m in enumerate(self.traffic.attributes.values()) if not m.services)
        template = self._template(name, span_name, kind, attrs, status, mixes)
        server = _Server(template, self._own(key), self._fail(key), [])
        for call in self._calls_of(key, route):
            callee = call.service
            if callee in path or callee not in self.spec.services:
                continue  # a call cycle: the model walks each service once per branch
            target = self.spec.services[callee]
            server.calls.append(self._edge(key, callee, target.kind, call, path))
        return server

    def _edge(self, caller: str, callee: str, kind: ServiceKind, call: CallRef, path: tuple[str, ...]) -> _Edge:
        target = self.spec.services[callee]
        caller_name = self._reported(caller)
        naming = span_naming(callee, target)
        mixes = self._carried(callee) if kind is not ServiceKind.SERVICE else ()
        if kind is ServiceKind.SERVICE:
            route = call.endpoint or default_endpoint(self.spec, caller, callee)
            attrs: dict[str, AttrValue] = {}
            status: str | None = None
            name = "request"
            if route is not None and endpoint_protocol(route) is Protocol.HTTP:
                method = parse_route(route).method or "GET"
                attrs = {"http.request.method": method, "server.address": self._reported(callee)}
                name, status = method, "http"
            elif route is not None and (parts := grpc_parts(route)) is not None:
                attrs = {"rpc.system": "grpc", "rpc.service": parts[0], "rpc.method": parts[1],
                         "server.address": self._reported(callee)}
                name, status = parse_route(route).span_name, "grpc"
            client = self._template(caller_name, name, "CLIENT", attrs, status, mixes)  # before the callee's
            latency = self._edge_latency(caller, callee, self.traffic.network, leaf=False)
            return _Edge(call.percent, "service", client, latency, None, self._server(callee, route, (*path, callee)))
        fallback = self.traffic.latency.services.get(callee, self.traffic.latency.default)
        latency = self._edge_latency(caller, callee, fallback, leaf=True)
        if kind is ServiceKind.QUEUE:
            destination = self._reported(callee)
            attrs = {"messaging.system": naming.messaging_system or "kafka",
                     "messaging.destination.name": destination}
            if naming.peer_service is not None:
                attrs["peer.service"] = naming.peer_service
            producer = self._template(caller_name, f"publish {destination}", "PRODUCER", attrs, None, mixes)
            consumers = []
            for reader, svc in self.spec.services.items():
                if callee in svc.consumes and svc.kind is ServiceKind.SERVICE and reader not in path:
                    consumers.append(self._server(reader, None, (*path, reader), consumer_of=callee))
            return _Edge(call.percent, "queue", producer, latency, self._fail(callee), consumers=tuple(consumers))
        attrs = {}
        status = None
        if kind in (ServiceKind.DATABASE, ServiceKind.CACHE):
            system = naming.db_system or ("redis" if kind is ServiceKind.CACHE else "other_sql")
            attrs["db.system"] = system
            if naming.db_name is not None:
                attrs["db.name"] = naming.db_name
            name = f"SELECT {naming.db_name}" if kind is ServiceKind.DATABASE and naming.db_name else \
                ("GET" if kind is ServiceKind.CACHE else "SELECT")
        else:
            route = call.endpoint or default_endpoint(self.spec, caller, callee)
            method = (parse_route(route).method if route else None) or "GET"
            attrs = {"http.request.method": method, "server.address": self._reported(callee)}
            name, status = method, "http"
        if naming.peer_service is not None:
            attrs["peer.service"] = naming.peer_service
        client = self._template(caller_name, name, "CLIENT", attrs, status, mixes)
        return _Edge(call.percent, "leaf", client, latency, self._fail(callee))

    def _calls_of(self, key: str, route: str | None) -> list[CallRef]:
        routes = self.traffic.endpoints.get(key, {})
        wanted = parse_route(route).span_name if route else None
        for written, calls in routes.items():
            if parse_route(written).span_name == wanted:
                return [CallRef(service=c) if isinstance(c, str) else c for c in calls]
        if route is not None and parse_route(route).path in HEALTH_PATHS:
            return []
        out = []
        for item in self.spec.services[key].calls:
            call = item if isinstance(item, Call) else Call(service=item)
            out.append(CallRef(service=call.service, endpoint=call.endpoint))
        return out

    # -- draw ------------------------------------------------------------------------------------------
    def draws(self, seed: int, duration_s: float, first_second: int = 0,
              last_second: int | None = None) -> Iterator[Draw]:
        """The compact traces of seconds ``first_second`` up to (not including) ``last_second``."""
        if not self.entries or self.rate <= 0 or duration_s <= 0:
            return
        whole = math.ceil(duration_s)
        stop = whole if last_second is None else min(last_second, whole)
        for second in range(first_second, stop):
            rng = random.Random(_second_seed(seed, second))
            limit = min(1.0, duration_s - second)
            degraded = second + 0.0 >= self.scenario.start_s
            t = rng.expovariate(self.rate)
            while t < limit:
                yield self._draw(rng, second * 1_000_000_000 + trunc(t * 1e9), degraded and (
                    second + t >= self.scenario.start_s))
                t += rng.expovariate(self.rate)

    def _draw(self, rng: random.Random, start: int, degraded: bool) -> Draw:
        trace_id = rng.getrandbits(128)
        while trace_id == 0:  # W3C: an all-zero trace id is invalid
            trace_id = rng.getrandbits(128)
        entry = bisect.bisect_right(self.cumulative, rng.random() * self.total_weight)
        last = len(self.entries) - 1
        entry = entry if entry < last else last  # min(), without its ~0.2 us call
        mix = [-2] * len(self.mixes)
        for i, cumulative, count in self._drawn_mixes:  # in mix order, one uniform number each
            index = bisect.bisect_right(cumulative, rng.random() * 100)
            mix[i] = index if index < count else -1  # past the values: the attribute is absent
        for i, source in self._copied_mixes:  # in mix order: a copy of a copy not yet copied stays -2
            mix[i] = mix[source]
        spans: list[tuple[int, int, int, int, bool]] = []
        values = tuple(mix)
        _Walk(rng, 1 if degraded else 0, values, spans).server(self.entries[entry][1], start, -1)
        return Draw(trace_id.to_bytes(16, "big"), start, entry, values, tuple(spans))

    # -- materialize -----------------------------------------------------------------------------------
    def materialize(self, draw: Draw) -> SynthTrace:
        """The spans of a drawn trace."""
        ids = [_span_id(draw.trace_id, i) for i in range(len(draw.spans))]
        spans: list[SynthSpan] = []
        for i, (tmpl_index, parent, start, end, error) in enumerate(draw.spans):
            tmpl = self.templates[tmpl_index]
            spans.append(SynthSpan(ids[i], ids[parent] if parent >= 0 else None, tmpl.service, tmpl.name,
                                   tmpl.kind, start, end, error, self.attributes(tmpl, error, draw.mix)))
        return SynthTrace(draw.trace_id, draw.start_ns, self.entries[draw.entry][0], spans)

    def attributes(self, tmpl: SpanTemplate, error: bool, mix: tuple[int, ...]) -> dict[str, AttrValue]:
        """The attributes of a span of template ``tmpl``: they depend on nothing else than its failure and the
        values of the mixes it carries (``mix``: a draw's value index per mix)."""
        attrs: dict[str, AttrValue] = dict(tmpl.attributes)
        if tmpl.status == "http":
            attrs["http.response.status_code"] = 500 if error else 200
        elif tmpl.status == "grpc":
            attrs["rpc.grpc.status_code"] = 2 if error else 0
        for m in tmpl.mixes:
            if mix[m] >= 0:
                key, value = self.mix_attribute(m, mix[m])
                attrs[key] = value
        return attrs

    def mix_attribute(self, m: int, value: int) -> tuple[str, AttrValue]:
        """The attribute mix ``m`` sets when a draw gave it value index ``value`` (>= 0; a ``same_as`` mix
        takes its values from the mix it copies)."""
        mix = self.mixes[m]
        source = mix if mix.same_as is None else self.mixes[mix.same_as]
        return mix.key, source.values[value]


class _Walk:
    """One trace's walk down its entry's call tree (parents are appended before their children).

    ``server`` and ``edge`` draw latencies and failures inline rather than through ``latency`` and ``fails``
    (the same expressions, in the same order of random numbers): a render walks ~2,100 traces and OBS426
    ~1,000 subtrees, with a failure or inclusion draw beside most latency draws. Together with cell_latency's
    arithmetic below that took OBS426 from 25.5 to 21.2 ms and the report from 110 to 104 ms of CPU.
    ``fails`` still takes the rare failure rules raised by attribute values."""

    __slots__ = ("mix", "mode", "random", "rng", "spans")

    def __init__(self, rng: random.Random, mode: int, mix: tuple[int, ...],
                 spans: list[tuple[int, int, int, int, bool]]) -> None:
        self.rng = rng
        self.random = rng.random
        self.mode = mode
        self.mix = mix
        self.spans = spans

    def latency(self, dist: _Dist) -> int:
        return cell_latency(dist, trunc(self.random() * _NORMAL_CELLS))

    def fails(self, fail: _Fail) -> bool:
        percent = fail.percent
        for index, value, rule_percent in fail.rules:
            if self.mix[index] == value and rule_percent > percent:
                percent = rule_percent
        return self.random() * 100 < percent

    def server(self, node: _Server, start: int, parent: int) -> tuple[int, bool]:
        spans = self.spans
        random = self.random
        me = len(spans)
        spans.append((node.template, parent, start, start, False))
        own = cell_latency(node.own[self.mode], trunc(random() * _NORMAL_CELLS))  # self.latency
        fail = node.fail[self.mode]
        failed = self.fails(fail) if fail.rules else random() * 100 < fail.percent
        cursor = start + own // 2
        for edge in node.calls:
            if edge.percent < 100 and random() * 100 >= edge.percent:
                continue
            cursor, call_failed = self.edge(edge, cursor, me)
            failed = failed or call_failed
        end = cursor + own - own // 2
        spans[me] = (node.template, parent, start, end, failed)
        return end, failed

    def edge(self, edge: _Edge, start: int, parent: int) -> tuple[int, bool]:
        spans = self.spans
        random = self.random
        mode = self.mode
        me = len(spans)
        spans.append((edge.client, parent, start, start, False))
        if edge.kind == "service":
            assert edge.server is not None
            network = cell_latency(edge.latency[mode], trunc(random() * _NORMAL_CELLS))
            child_end, failed = self.server(edge.server, start + network // 2, me)
            end = child_end + network - network // 2
        else:
            end = start + cell_latency(edge.latency[mode], trunc(random() * _NORMAL_CELLS))
            assert edge.fail is not None
            fail = edge.fail[mode]
            failed = self.fails(fail) if fail.rules else random() * 100 < fail.percent
        spans[me] = (edge.client, parent, start, end, failed)
        at = end
        for consumer in edge.consumers:  # the message waits in the queue a little
            at = at + cell_latency(consumer.own[mode], trunc(random() * _NORMAL_CELLS)) // 10
            self.server(consumer, at, me)  # a consumer's failure (or its calls') does not fail the producer
        return end, failed


def cell_latency(dist: _Dist, cell: int) -> int:
    """The latency (ns) of a draw whose uniform number falls in cell ``cell``: what a walk draws, and what
    ``obsgen.sampling.odds`` reads cell by cell. The quantile is ``normal_quantile(cell)``, written out to save
    a call per draw (``tests/sampling/test_synth.py`` checks the two agree in every cell).

    ``max(1, int(exp(...)))``, written with ``math.trunc`` (what ``int`` does to a float, without the ~0.1 us
    of calling the ``int`` type on Python 3.11) and a comparison (``max`` costs ~0.2 us): ~0.3 us of each
    of the ~13,700 cells a render reads."""
    value = trunc(exp(dist.mu + dist.sigma * _inv_cdf((cell + 0.5) / _NORMAL_CELLS, 0.0, 1.0)))
    return value if value > 1 else 1


def itertools_accumulate(values: object) -> list[float]:
    """Running sums (floats), as bisect wants them."""
    total = 0.0
    out = []
    for value in values:  # type: ignore[attr-defined]
        total += float(value)
        out.append(total)
    return out


def _second_seed(seed: int, second: int) -> int:
    return int.from_bytes(hashlib.sha256(f"obsgen-synth/{seed}/{second}".encode()).digest()[:16], "big")


def _span_id(trace_id: bytes, index: int) -> bytes:
    raw = hashlib.blake2b(trace_id + index.to_bytes(4, "big"), digest_size=8).digest()
    return raw if raw != bytes(8) else b"\x00" * 7 + b"\x01"  # W3C: an all-zero span id is invalid


def _endpoints(spec: Spec, key: str) -> list[str]:
    return [e.route if isinstance(e, Endpoint) else e for e in spec.services[key].endpoints]


def default_endpoint(spec: Spec, caller: str, callee: str) -> str | None:
    """The endpoint a call without one reaches: the declared call's, else the callee's first endpoint that
    is not a health check, else its first."""
    for item in spec.services[caller].calls:
        if isinstance(item, Call) and item.service == callee and item.endpoint is not None:
            return item.endpoint
    routes = _endpoints(spec, callee)
    for route in routes:
        if parse_route(route).path not in HEALTH_PATHS:
            return route
    return routes[0] if routes else None


def entry_rates(spec: Spec) -> list[tuple[str, str | None, float]]:
    """(service, endpoint, requests per second) of every entry endpoint: the model's, or the default:
    ``sampling.expected_traces_per_second`` spread evenly over the non-health endpoints of the instrumented
    services no one calls (and that consume no queue)."""
    traffic = spec.traffic
    if traffic is not None and traffic.requests_per_second:
        return [(key, route, rate) for key, rates in traffic.requests_per_second.items() for route, rate in
                rates.items()]
    called = {c.service if isinstance(c, Call) else c for s in spec.services.values() for c in s.calls}
    roots = [k for k, s in spec.services.items()
             if s.kind is ServiceKind.SERVICE and k not in called and not s.consumes]
    if not roots:
        roots = [k for k, s in spec.services.items() if s.kind is ServiceKind.SERVICE][:1]
    pairs: list[tuple[str, str | None]] = []
    for key in roots:
        routes = [r for r in _endpoints(spec, key) if parse_route(r).path not in HEALTH_PATHS]
        pairs.extend((key, r) for r in routes) if routes else pairs.append((key, None))
    rate = spec.sampling.expected_traces_per_second
    return [(key, route, rate / len(pairs)) for key, route in pairs] if pairs else []


def _spec_of(spec_or_plan: object) -> Spec:
    if isinstance(spec_or_plan, Spec):
        return spec_or_plan
    spec = getattr(spec_or_plan, "spec", None)
    if isinstance(spec, Spec):
        return spec
    raise TypeError("generate_traces takes a Spec or a Plan")


def generate_traces(spec_or_plan: object, *, seed: int, duration_s: float, scenario: Scenario | None = None,
                    rate: float | None = None) -> Iterator[SynthTrace]:
    """The synthetic traces of a run (see the module docstring for the contract)."""
    model = SynthModel(_spec_of(spec_or_plan), scenario, rate)
    for draw in model.draws(seed, duration_s):
        yield model.materialize(draw)
