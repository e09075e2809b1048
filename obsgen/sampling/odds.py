"""What the synthetic generator's compiled model implies for one span position, without drawing whole traces.

``obsgen.sampling.synth`` compiles a spec into span templates and a call tree (``_Server`` nodes joined by
``_Edge`` calls), one node per position, and ``_Walk`` walks it once per trace. Questions about one position
("how often does this server span fail?", "how often is it slower than 1 s?") need only that position's
subtree, and the failure question has an exact answer:

* **Failure, exact.** In a walk every node's own failure draw and every call's inclusion draw is a separate
  uniform number, so they are independent given the trace's attribute-mix values (drawn once per trace, each
  mix independently; ``same_as`` copies another mix's value). ``_Walk.fails`` fails a node with
  ``max(base, rules matching the mix values)`` percent, and ``_Walk.server`` fails a server span when its own
  draw fails or any included synchronous call fails (a service call: the callee server's span; a leaf call:
  the leaf's own failure; a queue call: the producer's own failure, never the consumers'). Hence, for mix values
  ``a``::

      P(server fails | a) = 1 - (1 - own(a)) * prod over calls (1 - included * P(call fails | a))

  computed bottom-up once per node as a table over the attribute values the rules below it read (each value a
  rule names is its own class, every other value and "absent" one more class: the rules cannot tell them
  apart), then averaged over the mix distribution. The cost is the tree's size times those few classes, not a
  number of traces.
* **Occurrence, exact.** A node occurs in a trace with probability (share of its entry) x (product of the call
  percentages on its path); the consumers of a queue call occur with the call. Several positions of one
  service and name (the same endpoint reached from two entries, or through a cycle) combine into one ratio
  weighted by their occurrences, as counting their spans over many traces would.
* **Slower than a limit, estimated.** A server span's duration is its own latency plus the durations of its
  included calls, a sum of independent log-normal draws over the generator's 2^16 normal cells, some of them
  optional: no closed form. ``Odds.slower_than`` walks only the position's subtree with the generator's own
  ``_Walk.server``, and conditions on one latency draw (the one with the largest ``inclusion x p99`` of the
  subtree): given every other draw, ``P(duration > limit)`` is the exact share of that draw's cells
  above ``limit - rest``. The average over walks is an unbiased estimate with a much smaller variance than
  counting slow walks (Rao-Blackwell), and its standard error comes with it. Latencies do not depend on the
  mix values (they only change failure odds), so the walks carry none.

Only the normal (not degraded) behaviour is read: ``SynthModel(spec)`` without a scenario.
"""

from __future__ import annotations

import bisect
import math
import random
from itertools import product
from typing import NamedTuple

from obsgen.sampling.synth import (
    _NORMAL_CELLS,
    Z99,
    SynthModel,
    _Dist,
    _Edge,
    _Fail,
    _Server,
    _Walk,
    cell_latency,
    itertools_accumulate,
)

_SQRT2 = math.sqrt(2.0)
Classes = dict[int, tuple[float, ...]]
"""Mix index (an independently drawn mix) -> probability of each value class (named values, then the rest)."""


class _Table(NamedTuple):
    """A failure probability as a function of the value classes of ``mixes`` (sorted mix indices)."""

    mixes: tuple[int, ...]
    p: dict[tuple[int, ...], float]

    def at(self, classes: dict[int, int]) -> float:
        return self.p[tuple(classes[m] for m in self.mixes)]


class Position(NamedTuple):
    """One node of the compiled call tree: its server (or consumer) node, how many times it occurs per trace on
    average, and the probability that its span fails."""

    node: _Server
    occurrence: float
    fail: float


class Estimate(NamedTuple):
    """``ratio`` of spans slower than the limit, its standard error, and the number of subtree walks (0: the
    ratio is exact)."""

    ratio: float
    stderr: float
    walks: int


class Odds:
    """The positions of a compiled model (``SynthModel(spec)``), keyed by their span template index."""

    def __init__(self, model: SynthModel) -> None:
        self.model = model
        self._roots = _mix_roots(model)
        self._named = self._named_values()
        self._classes: Classes = {m: _class_shares(model, m, named) for m, named in self._named.items()}
        self.positions: dict[int, Position] = {}
        self._by_span: dict[tuple[str, str], dict[str, list[Position]]] | None = None
        total = model.total_weight
        previous = 0.0
        for (_, root), cumulative in zip(model.entries, model.cumulative, strict=True):
            share, previous = (cumulative - previous) / total if total > 0 else 0.0, cumulative
            self._visit(root, share)

    def positions_of(self, service: str, name: str | None) -> list[Position]:
        """The positions whose span is a SERVER span of ``service`` (its reported name), named ``name`` unless None,
        and that occur at all (in a fixed order: names as first compiled, then template order)."""
        if self._by_span is None:  # one pass for all questions: a spec may have an SLO on every service
            self._by_span = {}
            for index in sorted(self.positions):
                template = self.model.templates[index]
                if self.positions[index].occurrence > 0:
                    found = self._by_span.setdefault((template.kind, template.service), {})
                    found.setdefault(template.name, []).append(self.positions[index])
        names = self._by_span.get(("SERVER", service), {})
        return [p for n, found in names.items() if name in (None, n) for p in found]

    def failing(self, positions: list[Position]) -> float:
        """The share of the positions' spans (weighted by occurrence) that fail, exactly."""
        return sum(p.occurrence * p.fail for p in positions) / sum(p.occurrence for p in positions)

    # -- durations -------------------------------------------------------------------------------------
    def slower_than(self, positions: list[Position], limit_ns: int, walks: int, seed: int) -> Estimate:
        """The share of the positions' spans (weighted by occurrence) that last longer than ``limit_ns``.

        Each walk picks a position by occurrence, walks its subtree with ``_Walk.server`` and adds the
        probability, given every draw but the widest one, that the span is slower than the limit. Positions
        that call nothing have one latency draw: the share is then exact (``walks`` 0)."""
        if not any(p.node.calls for p in positions):  # one latency draw each: the share of its cells, exactly
            occurrence = sum(p.occurrence for p in positions)
            share = sum(p.occurrence * _above(p.node.own[0], limit_ns) for p in positions) / occurrence
            return Estimate(share, 0.0, 0)
        weights = itertools_accumulate(p.occurrence for p in positions)
        widest = [_widest(p.node) for p in positions]
        rng = random.Random(seed)
        no_mix = tuple(-1 for _ in self.model.mixes)  # latencies do not depend on the mix values
        total = 0.0
        squares = 0.0
        for _ in range(walks):
            pick = 0 if len(positions) == 1 else min(bisect.bisect_right(weights, rng.random() * weights[-1]),
                                                      len(positions) - 1)
            spans: list[tuple[int, int, int, int, bool]] = []
            duration, _ = _Walk(rng, 0, no_mix, spans).server(positions[pick].node, 0, -1)
            p = _conditional(widest[pick], spans, duration, limit_ns)
            total += p
            squares += p * p
        mean = total / walks
        variance = max(squares / walks - mean * mean, 0.0) * walks / max(walks - 1, 1)
        return Estimate(mean, math.sqrt(variance / walks), walks)

    # -- failures --------------------------------------------------------------------------------------
    def _visit(self, node: _Server, occurrence: float) -> _Table:
        parts: list[tuple[float, _Table]] = []
        for edge in node.calls:
            included = _included(edge)
            if edge.kind == "service":
                assert edge.server is not None
                parts.append((included, self._visit(edge.server, occurrence * included)))
            else:
                assert edge.fail is not None
                parts.append((included, self._own(edge.fail[0])))
            for consumer in edge.consumers:  # they occur with the call; their failures stay their own
                self._visit(consumer, occurrence * included)
        table = self._combine(self._own(node.fail[0]), parts)
        self.positions[node.template] = Position(node, occurrence, self._mean(table))
        return table

    def _own(self, fail: _Fail) -> _Table:
        rules = [(root, self._named[root].index(value), percent) for root, value, percent in
                 ((self._roots[mix], value, percent) for mix, value, percent in fail.rules) if root is not None]
        mixes = tuple(sorted({root for root, _, _ in rules}))
        table: dict[tuple[int, ...], float] = {}
        for classes in product(*(range(len(self._classes[m])) for m in mixes)):
            at = dict(zip(mixes, classes, strict=True))
            percent = fail.percent
            for root, value_class, rule_percent in rules:  # _Walk.fails: the highest matching rate wins
                if at[root] == value_class and rule_percent > percent:
                    percent = rule_percent
            table[classes] = min(max(percent, 0.0), 100.0) / 100
        return _Table(mixes, table)

    def _combine(self, own: _Table, parts: list[tuple[float, _Table]]) -> _Table:
        mixes = tuple(sorted(set(own.mixes).union(*(t.mixes for _, t in parts))))
        table: dict[tuple[int, ...], float] = {}
        for classes in product(*(range(len(self._classes[m])) for m in mixes)):
            at = dict(zip(mixes, classes, strict=True))
            ok = 1.0 - own.at(at)
            for included, call in parts:
                ok *= 1.0 - included * call.at(at)
            table[classes] = 1.0 - ok
        return _Table(mixes, table)

    def _mean(self, table: _Table) -> float:
        total = 0.0
        for classes, p in table.p.items():
            weight = 1.0
            for mix, value_class in zip(table.mixes, classes, strict=True):
                weight *= self._classes[mix][value_class]
            total += weight * p
        return total

    def _named_values(self) -> dict[int, list[int]]:
        """Per independently drawn mix, the value indices some failure rule names (sorted)."""
        named: dict[int, set[int]] = {}
        stack: list[_Server] = [root for _, root in self.model.entries]
        while stack:
            node = stack.pop()
            fails = [node.fail[0], *(e.fail[0] for e in node.calls if e.fail is not None)]
            for fail in fails:
                for mix, value, _ in fail.rules:
                    root = self._roots[mix]
                    if root is not None:
                        named.setdefault(root, set()).add(value)
            for edge in node.calls:
                stack.extend(edge.consumers)
                if edge.server is not None:
                    stack.append(edge.server)
        return {mix: sorted(values) for mix, values in named.items()}


def _included(edge: _Edge) -> float:
    """``_Walk.server`` skips a call when ``percent < 100`` and a draw of ``[0, 100)`` is at or above it."""
    return 1.0 if edge.percent >= 100 else max(edge.percent, 0.0) / 100


def _mix_roots(model: SynthModel) -> list[int | None]:
    """The independently drawn mix whose value each mix carries, as ``SynthModel._draw`` copies ``same_as``
    values in mix order (a copy of a mix not yet copied itself never has a value: None)."""
    roots: list[int | None] = [None if m.same_as is not None else i for i, m in enumerate(model.mixes)]
    for i, mix in enumerate(model.mixes):
        if mix.same_as is not None:
            roots[i] = roots[mix.same_as]
    return roots


def _class_shares(model: SynthModel, mix: int, named: list[int]) -> tuple[float, ...]:
    """The probability of each named value index of an independently drawn mix, then of all the others
    together (absent included): ``SynthModel._draw`` takes ``bisect_right(cumulative, u)`` for ``u`` uniform in
    ``[0, 100)``, and an index past the values means the attribute is absent."""
    cumulative = model.mixes[mix].cumulative
    shares = []
    for value in named:
        low = cumulative[value - 1] if value > 0 else 0.0
        shares.append(max(min(cumulative[value], 100.0) - min(max(low, 0.0), 100.0), 0.0) / 100)
    return (*shares, max(1.0 - sum(shares), 0.0))


# ---------------------------------------------------------------------------------------------------------
# Durations: walks of one subtree, conditioned on its widest latency draw.


class _Draw(NamedTuple):
    """One latency draw of a subtree and how to read its value from a walk's spans: ``own`` of the server
    span of ``template``, ``network`` of a service call's client span ``template`` (minus its server span),
    ``call`` the whole client (or producer) span ``template`` of a leaf or queue."""

    how: str
    template: int
    dist: _Dist
    score: float


def _conditional(draw: _Draw, spans: list[tuple[int, int, int, int, bool]], duration: int, limit_ns: int) -> float:
    """P(duration > limit | every draw of the walk but ``draw``)."""
    value = _value(draw, spans)
    if value is None:  # the draw's call was not made in this walk: nothing left to average
        return 1.0 if duration > limit_ns else 0.0
    return _above(draw.dist, limit_ns - (duration - value))


def _value(draw: _Draw, spans: list[tuple[int, int, int, int, bool]]) -> int | None:
    """What ``draw`` drew in a walk (``_Walk.server`` and ``_Walk.edge`` place spans end to end), or None when
    its span is not in the walk."""
    templates = [span[0] for span in spans]  # not generators: once per walk, ~1,000 walks a render
    if draw.template not in templates:
        return None
    index = templates.index(draw.template)
    _, _, start, end, _ = spans[index]
    value = end - start
    if draw.how == "own":  # a server span lasts its own latency plus its calls' (client) spans
        for child in spans[index + 1:]:
            if child[1] == index:
                value -= child[3] - child[2]
    elif draw.how == "network":  # the callee's server span follows its client span
        value -= spans[index + 1][3] - spans[index + 1][2]
    return value


def _above(dist: _Dist, bound: int) -> float:
    """P(one ``_Walk.latency`` draw of ``dist`` > ``bound``): the share of cells whose value
    ``max(1, int(exp(mu + sigma * z)))`` is above it. Values never decrease from cell to cell, so the first such
    cell is found from a guess, the cell where the normal CDF reaches ``z = (log(bound + 1) - mu) / sigma``, then
    moved over the cells where the guess or float rounding disagrees, with the generator's own expression: the
    answer does not depend on the guess, only the number of steps does (the guess is within a cell or two)."""
    if bound < 1:
        return 1.0
    if dist.sigma <= 0:
        return 1.0 if cell_latency(dist, 0) > bound else 0.0
    z = (math.log(bound + 1) - dist.mu) / dist.sigma
    first = min(max(round(_NORMAL_CELLS * 0.5 * math.erfc(-z / _SQRT2)), 0), _NORMAL_CELLS)
    while first > 0 and cell_latency(dist, first - 1) > bound:
        first -= 1
    while first < _NORMAL_CELLS and cell_latency(dist, first) <= bound:
        first += 1
    return (_NORMAL_CELLS - first) / _NORMAL_CELLS


def _widest(root: _Server) -> _Draw:
    """The subtree's latency draw with the largest (inclusion x p99): conditioning on it removes the most
    variance (any choice is unbiased)."""
    return max(_draws(root), key=lambda d: d.score)  # the first of equals: the order is fixed


def _draws(root: _Server) -> list[_Draw]:
    """Every latency draw that adds to the subtree's duration, scored by inclusion x p99."""
    found: list[_Draw] = []
    stack: list[tuple[_Server, float]] = [(root, 1.0)]
    while stack:
        node, included = stack.pop()
        found.append(_Draw("own", node.template, node.own[0], included * _p99(node.own[0])))
        for edge in node.calls:  # consumers are left out: they do not add to a producer's duration
            reach = included * _included(edge)
            how = "network" if edge.kind == "service" else "call"
            found.append(_Draw(how, edge.client, edge.latency[0], reach * _p99(edge.latency[0])))
            if edge.server is not None:
                stack.append((edge.server, reach))
    return found


def _p99(dist: _Dist) -> float:
    return math.exp(dist.mu + Z99 * dist.sigma)
