"""The tail-sampling processor's decision semantics, read from the Collector config that ships.

Mirrors contrib ``processor/tailsamplingprocessor`` at v0.159.0 (the pinned Collector); each evaluator cites
the upstream file it follows (``internal/sampling/<file>``). How a trace's decision is made
(``processor.go`` ``loadSamplingPolicies`` and ``makeDecision``):

* drop policies are evaluated first, then the others in config order; a Dropped result stops the evaluation,
  and so does a Sampled one with ``sample_on_first_match``;
* the final decision: any Dropped -> dropped; else any InvertNotSampled -> not sampled; else any Sampled ->
  sampled; else an InvertSampled with no NotSampled -> sampled; else not sampled. No evaluator of v0.159.0
  returns an inverted decision any more (``invert_match`` now yields plain Sampled/NotSampled, ``util.go``
  ``invertHasResourceOrSpanWithCondition``), so those branches only matter to evaluator extensions;
* every policy evaluated spends its state: a rate limiter is charged for every trace it sees, kept or not.

A trace is seen through ``TraceCtx``: its id, span count, size, duration and a lazily built span view; the
simulator caches the results of evaluators that depend only on a trace's attributes (``Node.pure``).
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from fractions import Fraction
from typing import Any, NamedTuple

import re2

from obsgen.sampling.ottl import OttlUnsupported, SpanView, parse_condition

MAX_UINT64 = (1 << 64) - 1
DEFAULT_HASH_SALT = "default-hash-seed"  # probabilistic.go defaultHashSalt
FNV64_OFFSET = 0xCBF29CE484222325
FNV64_PRIME = 0x100000001B3


class Decision(IntEnum):
    """``pkg/samplingpolicy/samplingpolicy.go`` Decision, same order."""

    UNSPECIFIED = 0
    PENDING = 1
    SAMPLED = 2
    NOT_SAMPLED = 3
    DROPPED = 4
    ERROR = 5
    INVERT_SAMPLED = 6
    INVERT_NOT_SAMPLED = 7


# The members as module names: on Python 3.11 reading ``Decision.SAMPLED`` goes through the enum class's
# attribute machinery (~0.15 us here), a module name ~0.02 us, and evaluators read one or more per trace and
# policy (~2 ms of the shop's sampling report).
SAMPLED = Decision.SAMPLED
NOT_SAMPLED = Decision.NOT_SAMPLED
DROPPED = Decision.DROPPED
ERROR = Decision.ERROR
INVERT_SAMPLED = Decision.INVERT_SAMPLED
INVERT_NOT_SAMPLED = Decision.INVERT_NOT_SAMPLED


class EngineError(ValueError):
    """A tail_sampling config the simulator cannot evaluate."""


class TraceCtx:
    """One trace as the evaluators see it. ``spans`` is built on first use (``load``); ``now_s`` is the
    wall-clock second of the decision (rate limiters and composites count per second).

    A plain class with slots, not a dataclass: the simulator makes one or two per trace (a slots __init__ is
    cheaper) and every render imports it (a dataclass costs ~0.4 ms to define)."""

    __slots__ = ("_spans", "duration_ns", "hashes", "load", "now_s", "pre", "size_bytes", "span_count", "trace_id")

    def __init__(self, trace_id: bytes, span_count: int, size_bytes: int, now_s: float,
                 load: Callable[[], Sequence[SpanView]], duration_ns: int | None = None,
                 pre: Sequence[Decision | None] | None = None, hashes: Mapping[str, int] | None = None) -> None:
        self.trace_id = trace_id
        self.span_count = span_count
        self.size_bytes = size_bytes
        self.now_s = now_s
        self.load = load
        self.duration_ns = duration_ns  # earliest start to latest end, when known without the spans
        self.pre = pre  # results of the stateless nodes, by Node.index
        self.hashes = hashes  # hash_trace_id per salt, when computed in bulk
        self._spans: Sequence[SpanView] | None = None

    @property
    def spans(self) -> Sequence[SpanView]:
        if self._spans is None:
            self._spans = self.load()
        return self._spans


def fnv1a64(data: bytes, start: int = FNV64_OFFSET) -> int:
    """Go's ``hash/fnv`` New64a over ``data`` (``start``: the state after a prefix, see ``fnv1a64(prefix)``)."""
    h = start
    for byte in data:
        h = ((h ^ byte) * FNV64_PRIME) & MAX_UINT64
    return h


def fnv1a64_many(start: int, ids: Sequence[bytes]) -> list[int]:
    """``fnv1a64(id, start)`` of many 16-byte ids at once, with a few big-integer operations per byte position.

    Every id gets a 128-bit lane of one big integer (its bytes, little-endian, so byte k of an id is bits
    8k..8k+7 of its lane). Shifting by 8k and masking every lane's low byte yields byte k of every id; the hashes
    live in the same lanes: XOR with a byte touches a lane's low 8 bits only, a lane times the FNV prime stays
    below 2^64 x 2^41 = 2^105 (no carry into the next lane), and masking every lane to 64 bits is the
    ``mod 2^64``. Equal to the byte loop (checked by the tests)."""
    n = len(ids)
    if n == 0:
        return []
    blob = b"".join(ids)
    if len(blob) != 16 * n:
        raise ValueError("every trace id is 16 bytes")
    lanes = int.from_bytes(blob, "little")
    low_bytes = int.from_bytes((b"\xff" + bytes(15)) * n, "little")
    mask = int.from_bytes((b"\xff" * 8 + bytes(8)) * n, "little")
    h = int.from_bytes((start.to_bytes(8, "little") + bytes(8)) * n, "little")
    for k in range(16):
        h = ((h ^ ((lanes >> (8 * k)) & low_bytes)) * FNV64_PRIME) & mask
    raw = array("Q", h.to_bytes(16 * n, "little"))
    if sys.byteorder == "big":
        raw.byteswap()
    return raw[0::2].tolist()


def hash_trace_id(salt: str, trace_id: bytes) -> int:
    """``probabilistic.go`` hashTraceID: FNV-1a 64 of the salt's bytes, then the 16 trace-id bytes."""
    return fnv1a64(salt.encode() + trace_id)


def probabilistic_threshold(ratio: float) -> int:
    """``probabilistic.go`` calculateThreshold: ``big.Float(MaxUint64) * big.NewFloat(ratio)`` at the receiver's
    64-bit precision (rounded to nearest even), then ``Uint64()`` (truncated; 0 below zero, MaxUint64 above)."""
    if ratio <= 0:
        return 0
    exact = Fraction(MAX_UINT64) * Fraction(ratio)
    rounded = _round_to_bits(exact, 64)
    return min(int(rounded), MAX_UINT64)


def _round_to_bits(value: Fraction, bits: int) -> Fraction:
    """``value`` (> 0) rounded to ``bits`` significant bits, ties to even (big.Float's default mode)."""
    exponent = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exponent > value:
        exponent -= 1
    scale = Fraction(2) ** (bits - 1 - exponent)  # value * scale in [2^(bits-1), 2^bits)
    scaled = value * scale
    floor = scaled.numerator // scaled.denominator
    rest = scaled - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1):
        floor += 1
    return Fraction(floor) / scale


# ---------------------------------------------------------------------------------------------------------
# Evaluators


class Node:
    """One evaluator. ``pure``: its result depends only on the trace's spans (not on the id, the time, the
    count, the size or any state), so it may be cached per trace shape."""

    name: str = ""
    pure: bool = False
    stateless: bool = True
    index: int = -1  # position in the config's node list (set by read_config)

    def evaluate(self, ctx: TraceCtx) -> Decision:
        raise NotImplementedError

    def children(self) -> Sequence[Node]:
        return ()


def _resource_or_span(ctx: TraceCtx, key: str, match: Callable[[object], bool], invert: bool) -> Decision:
    """``util.go`` hasResourceOrSpanWithCondition / invertHasResourceOrSpanWithCondition: resource attributes of
    each batch, then its spans; inverted, Sampled only when neither a resource nor a span matches."""
    for span in ctx.spans:
        hit = (key in span.resource and match(span.resource[key])) or (key in span.attributes and match(
            span.attributes[key]))
        if hit:
            return NOT_SAMPLED if invert else SAMPLED
    return SAMPLED if invert else NOT_SAMPLED


def go_int(value: object) -> int:
    """pdata ``Value.Int()``: the int of an int value, 0 for any other type."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def go_str(value: object) -> str:
    """pdata ``Value.Str()``: the string of a string value, "" for any other type."""
    return value if isinstance(value, str) else ""


def go_bool(value: object) -> bool:
    """pdata ``Value.Bool()``: the bool of a bool value, false for any other type."""
    return value if isinstance(value, bool) else False


class AlwaysSample(Node):
    """``always_sample.go``."""

    pure = True

    def evaluate(self, ctx: TraceCtx) -> Decision:
        return SAMPLED


class Latency(Node):
    """``latency.go``: running earliest start and latest end over the spans in order; Sampled at the first span
    where the whole milliseconds of (end - start) exceed threshold_ms (and, with an upper bound, are at most
    upper_threshold_ms)."""

    def __init__(self, threshold_ms: int, upper_ms: int) -> None:
        self.threshold_ms = threshold_ms
        self.upper_ms = upper_ms

    def evaluate(self, ctx: TraceCtx) -> Decision:
        if self.upper_ms == 0 and ctx.duration_ns is not None:
            # the running duration only grows, so "exceeds at some span" is "the whole trace exceeds"
            return SAMPLED if ctx.duration_ns // 1_000_000 > self.threshold_ms else NOT_SAMPLED
        low: int | None = None
        high: int | None = None
        for span in ctx.spans:
            start, end = span.start_ns, span.end_ns
            low = start if low is None or start < low else low
            high = end if high is None or end > high else high
            ms = (high - low) // 1_000_000 if high >= low else -((low - high) // 1_000_000)
            if self.upper_ms == 0:
                if ms > self.threshold_ms:
                    return SAMPLED
            elif self.threshold_ms < ms <= self.upper_ms:
                return SAMPLED
        return NOT_SAMPLED


class NumericAttribute(Node):
    """``numeric_tag_filter.go``: v.Int() in [min, max] (missing bound = the int64 limit)."""

    pure = True

    def __init__(self, key: str, low: int | None, high: int | None, invert: bool) -> None:
        if low is None and high is None:
            raise EngineError("numeric_attribute needs min_value or max_value")
        self.key = key
        self.low = -(1 << 63) if low is None else low
        self.high = (1 << 63) - 1 if high is None else high
        self.invert = invert

    def evaluate(self, ctx: TraceCtx) -> Decision:
        return _resource_or_span(ctx, self.key, lambda v: self.low <= go_int(v) <= self.high, self.invert)


class StringAttribute(Node):
    """``string_tag_filter.go``: exact values (empty ones ignored) or RE2 regexes matched unanchored
    (``MatchString``) against v.Str(); an empty span value never matches (a resource value is tried as is)."""

    pure = True

    def __init__(self, key: str, values: list[str], regex: bool, invert: bool) -> None:
        self.key = key
        self.invert = invert
        if regex:
            try:
                patterns = [re2.compile(v) for v in values]
            except re2.error as exc:
                raise EngineError(f"string_attribute regex does not compile: {exc}") from None
            def matcher(text: str) -> bool:  # a loop, not any() over a generator (one per span value)
                for pattern in patterns:  # noqa: SIM110 - see above
                    if pattern.search(text) is not None:
                        return True
                return False
            self.matcher: Callable[[str], bool] = matcher
        else:
            wanted = {v for v in values if v != ""}
            self.matcher = wanted.__contains__

    def evaluate(self, ctx: TraceCtx) -> Decision:
        key, matcher = self.key, self.matcher  # read once: the loop runs per span of every trace shape
        for span in ctx.spans:
            if key in span.resource and matcher(go_str(span.resource[key])):
                return NOT_SAMPLED if self.invert else SAMPLED
            if key in span.attributes:
                text = go_str(span.attributes[key])
                if text != "" and matcher(text):
                    return NOT_SAMPLED if self.invert else SAMPLED
        return SAMPLED if self.invert else NOT_SAMPLED


class BooleanAttribute(Node):
    """``boolean_tag_filter.go``: v.Bool() == value."""

    pure = True

    def __init__(self, key: str, value: bool, invert: bool) -> None:
        self.key = key
        self.value = value
        self.invert = invert

    def evaluate(self, ctx: TraceCtx) -> Decision:
        return _resource_or_span(ctx, self.key, lambda v: go_bool(v) == self.value, self.invert)


STATUS = {"UNSET": 0, "OK": 1, "ERROR": 2}


class StatusCode(Node):
    """``status_code.go``: any span whose status code is listed."""

    pure = True

    def __init__(self, codes: list[str]) -> None:
        if not codes:
            raise EngineError("expected at least one status code to filter on")
        try:
            self.codes = {STATUS[c] for c in codes}
        except KeyError as exc:
            raise EngineError(f"unknown status code {exc.args[0]!r}, supported: OK, ERROR, UNSET") from None

    def evaluate(self, ctx: TraceCtx) -> Decision:
        codes = self.codes
        for span in ctx.spans:  # a loop, not any() over a generator and a lambda
            if span.status_code in codes:
                return SAMPLED
        return NOT_SAMPLED


class SpanCount(Node):
    """``span_count_sampler.go``: max_spans 0 means no upper bound."""

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def evaluate(self, ctx: TraceCtx) -> Decision:
        n = ctx.span_count
        if (self.high == 0 and n >= self.low) or self.low <= n <= self.high:
            return SAMPLED
        return NOT_SAMPLED


class TraceState(Node):
    """``trace_state_filter.go``: a span whose W3C tracestate has key = one of the values (values with
    len(key) + len(value) >= 256 are ignored)."""

    pure = True

    def __init__(self, key: str, values: list[str]) -> None:
        self.key = key
        self.values = {v for v in values if v and len(key) + len(v) < 256}

    def evaluate(self, ctx: TraceCtx) -> Decision:
        for span in ctx.spans:
            for member in span.trace_state.split(","):
                k, eq, v = member.strip().partition("=")
                if eq and k == self.key and v in self.values:
                    return SAMPLED
        return NOT_SAMPLED


class Probabilistic(Node):
    """``probabilistic.go``: hashTraceID(salt, id) <= threshold (the tracestate branch needs the
    ``usetracestate`` feature gate, off by default, and is not modelled)."""

    def __init__(self, percentage: float, salt: str) -> None:
        self.salt = salt or DEFAULT_HASH_SALT
        self.threshold = probabilistic_threshold(percentage / 100)
        self.after_salt = fnv1a64(self.salt.encode())  # FNV is sequential: hash the salt once

    def evaluate(self, ctx: TraceCtx) -> Decision:
        hashed = ctx.hashes[self.salt] if ctx.hashes is not None else fnv1a64(ctx.trace_id, self.after_salt)
        return SAMPLED if hashed <= self.threshold else NOT_SAMPLED


class TokenBucket:
    """``golang.org/x/time/rate`` Limiter.AllowN: starts full (burst tokens), refills ``rate`` per second up to
    ``burst``; a refused request takes nothing."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.last: float | None = None

    def allow(self, now: float, n: int) -> bool:
        tokens = self.tokens
        if self.last is not None and now > self.last:
            refilled = tokens + (now - self.last) * self.rate
            full = float(self.burst)
            tokens = refilled if refilled < full else full  # min(full, refilled), without min()'s ~0.2 us
        if n > self.burst:
            return False
        if tokens - n < 0:
            return False
        self.tokens = tokens - n
        self.last = now if self.last is None or now > self.last else self.last
        return True


class RateLimiting(Node):
    """``rate_limiting.go``: AllowN(now, SpanCount) on a limiter of spans_per_second, burst 2x."""

    stateless = False

    def __init__(self, spans_per_second: int) -> None:
        self.bucket = TokenBucket(spans_per_second, spans_per_second * 2)

    def evaluate(self, ctx: TraceCtx) -> Decision:
        return SAMPLED if self.bucket.allow(ctx.now_s, ctx.span_count) else NOT_SAMPLED


class BytesLimiting(Node):
    """``bytes_limiting.go``: AllowN(now, proto size of the trace) on bytes_per_second, burst burst_capacity
    (default 2x)."""

    stateless = False

    def __init__(self, bytes_per_second: int, burst: int) -> None:
        self.bucket = TokenBucket(bytes_per_second, burst)

    def evaluate(self, ctx: TraceCtx) -> Decision:
        return SAMPLED if self.bucket.allow(ctx.now_s, ctx.size_bytes) else NOT_SAMPLED


class Ottl(Node):
    """``ottl.go``: the first span (or span event) whose condition holds samples the trace. Span events are not
    modelled (synthetic spans have none): a ``spanevent`` condition never holds."""

    pure = True

    def __init__(self, span: list[str], spanevent: list[str]) -> None:
        try:
            self.conditions = [parse_condition(c) for c in span]
        except OttlUnsupported as exc:
            raise EngineError(f"ottl_condition: {exc}") from None
        self.has_any = bool(span or spanevent)

    def evaluate(self, ctx: TraceCtx) -> Decision:
        if not self.has_any:
            return NOT_SAMPLED
        conditions = self.conditions
        for span in ctx.spans:
            for condition in conditions:  # not any() over a generator: one generator per span costs ~0.5 us
                if condition(span):
                    return SAMPLED
        return NOT_SAMPLED


class _AllOf(Node):
    """A combinator that decides ``on_all`` when every sub-policy samples, and NotSampled as soon as one does
    not (``and.go`` and ``drop.go`` share this loop; only the all-matched decision differs)."""

    on_all: Decision

    def __init__(self, subs: list[Node]) -> None:
        self.subs = subs
        self.pure = all(s.pure for s in subs)
        self.stateless = all(s.stateless for s in subs)

    def children(self) -> Sequence[Node]:
        return self.subs

    def evaluate(self, ctx: TraceCtx) -> Decision:
        for sub in self.subs:
            d = evaluate(sub, ctx)
            if d in (NOT_SAMPLED, INVERT_NOT_SAMPLED):
                return NOT_SAMPLED
        return self.on_all


class And(_AllOf):
    """``and.go``: NotSampled (or InvertNotSampled) from a sub-policy -> NotSampled at once; else Sampled."""

    on_all = SAMPLED


class Not(Node):
    """``not.go``: Sampled <-> NotSampled, anything else unchanged."""

    def __init__(self, sub: Node) -> None:
        self.sub = sub
        self.pure = sub.pure
        self.stateless = sub.stateless

    def children(self) -> Sequence[Node]:
        return (self.sub,)

    def evaluate(self, ctx: TraceCtx) -> Decision:
        d = evaluate(self.sub, ctx)
        return {SAMPLED: NOT_SAMPLED, NOT_SAMPLED: SAMPLED}.get(d, d)


class Drop(_AllOf):
    """``drop.go``: NotSampled as soon as a sub-policy does not sample; Dropped when all do."""

    on_all = DROPPED


class Composite(Node):
    """``composite.go`` + ``composite_helper.go``: sub-policies in composite_sub_policy order (policy_order is
    read by nothing); the first that samples decides: Sampled if its spans this second plus the trace's fit its
    allocation and max_total_spans_per_second, otherwise NotSampled without trying the rest. Counters reset when
    the wall-clock second changes. Allocation: percent/100 x max_total for an entry with percent > 0, else
    max_total / number of sub-policies; truncated to an int64."""

    stateless = False

    def __init__(self, max_total: int, subs: list[tuple[str, Node]], allocation: Mapping[str, int]) -> None:
        self.max_total = max_total
        self.subs = subs
        default = max_total / len(subs) if subs else 0.0
        self.allocated = [int(allocation[name] / 100 * max_total) if allocation.get(name, 0) > 0 else int(default)
                          for name, _ in subs]
        self.used = [0] * len(subs)
        self.second: int | None = None
        self.history: dict[int, list[int]] = {}  # second -> spans sampled per sub-policy (for the checks)

    def children(self) -> Sequence[Node]:
        return [node for _, node in self.subs]

    def evaluate(self, ctx: TraceCtx) -> Decision:
        second = int(ctx.now_s // 1)
        if second != self.second:
            self.second = second
            self.used = [0] * len(self.subs)
            self.history[second] = self.used
        for i, (_, sub) in enumerate(self.subs):
            d = evaluate(sub, ctx)
            if d in (SAMPLED, INVERT_SAMPLED):
                after = self.used[i] + ctx.span_count
                if after <= self.allocated[i] and after <= self.max_total:
                    self.used[i] = after
                    return SAMPLED
                return NOT_SAMPLED
        return NOT_SAMPLED


def evaluate(node: Node, ctx: TraceCtx) -> Decision:
    """A node's decision: precomputed for a stateless node when the simulator did so, else evaluated now."""
    if ctx.pre is not None and node.stateless:
        hit = ctx.pre[node.index]
        if hit is not None:
            return hit
    return node.evaluate(ctx)


def all_nodes(config: EngineConfig) -> list[Node]:
    """Every node of the config, by index."""
    out: list[Node] = []
    stack: list[Node] = [p.node for p in reversed(config.policies)]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children()))
    return out


# ---------------------------------------------------------------------------------------------------------
# Reading the rendered config


def _block(cfg: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    block = cfg.get(kind)
    return block if isinstance(block, Mapping) else {}


def build_node(cfg: Mapping[str, Any], *, level: str = "top") -> Node:
    """The evaluator of one policy config (``processor.go`` getPolicyEvaluator / getSharedPolicyEvaluator)."""
    kind = cfg.get("type")
    b = _block(cfg, str(kind))
    node: Node
    if kind == "always_sample":
        node = AlwaysSample()
    elif kind == "latency":
        node = Latency(int(b.get("threshold_ms", 0)), int(b.get("upper_threshold_ms", 0)))
    elif kind == "numeric_attribute":
        node = NumericAttribute(str(b.get("key", "")), b.get("min_value"), b.get("max_value"),
                                bool(b.get("invert_match", False)))
    elif kind == "probabilistic":
        node = Probabilistic(float(b.get("sampling_percentage", 0)), str(b.get("hash_salt") or ""))
    elif kind == "status_code":
        node = StatusCode([str(c) for c in b.get("status_codes") or []])
    elif kind == "string_attribute":
        node = StringAttribute(str(b.get("key", "")), [str(v) for v in b.get("values") or []],
                               bool(b.get("enabled_regex_matching", False)), bool(b.get("invert_match", False)))
    elif kind == "rate_limiting":
        node = RateLimiting(int(b.get("spans_per_second", 0)))
    elif kind == "bytes_limiting":
        per_second = int(b.get("bytes_per_second", 0))
        node = BytesLimiting(per_second, int(b.get("burst_capacity") or 2 * per_second))
    elif kind == "span_count":
        node = SpanCount(int(b.get("min_spans", 0)), int(b.get("max_spans", 0)))
    elif kind == "trace_state":
        node = TraceState(str(b.get("key", "")), [str(v) for v in b.get("values") or []])
    elif kind == "boolean_attribute":
        node = BooleanAttribute(str(b.get("key", "")), bool(b.get("value", False)), bool(b.get("invert_match")))
    elif kind == "ottl_condition":
        node = Ottl([str(c) for c in b.get("span") or []], [str(c) for c in b.get("spanevent") or []])
    elif kind == "and" and level in ("top", "composite"):
        node = And([build_node(s, level="sub") for s in b.get("and_sub_policy") or []])
    elif kind == "not" and level == "top":
        node = Not(build_node(b.get("not_sub_policy") or {}, level="sub"))
    elif kind == "drop" and level == "top":
        node = Drop([build_node(s, level="sub") for s in b.get("drop_sub_policy") or []])
    elif kind == "composite" and level == "top":
        allocation = {str(r.get("policy")): int(r.get("percent", 0)) for r in b.get("rate_allocation") or []}
        subs = [(str(s.get("name", "")), build_node(s, level="composite")) for s in b.get("composite_sub_policy") or []]
        node = Composite(int(b.get("max_total_spans_per_second", 0)), subs, allocation)
    else:
        raise EngineError(f"policy type {kind!r} is not supported {'here' if level != 'top' else ''}".rstrip())
    node.name = str(cfg.get("name", ""))
    return node


def _unescape(value: Any) -> Any:
    """The value after the Collector's confmap expansion: ``$$`` is a literal ``$``."""
    if isinstance(value, str):
        return value.replace("$$", "$")
    if isinstance(value, list):
        return [_unescape(v) for v in value]
    if isinstance(value, dict):
        return {k: _unescape(v) for k, v in value.items()}
    return value


class Policy(NamedTuple):
    """A top-level policy: its name, evaluator and whether it is a drop policy."""

    name: str
    node: Node
    is_drop: bool


@dataclass
class EngineConfig:
    """The tail_sampling settings the simulation needs."""

    decision_wait_s: float
    decision_wait_after_root_s: float
    num_traces: int
    sampled_cache_size: int
    non_sampled_cache_size: int
    sample_on_first_match: bool
    policies: list[Policy] = field(default_factory=list)


def parse_duration_s(text: object, default: float) -> float:
    """A Go duration from the config, in seconds."""
    if text is None:
        return default
    from obsgen.spec.durations import parse_duration

    return parse_duration(str(text)).ns / 1e9


def read_config(tail_sampling: Mapping[str, Any]) -> EngineConfig:
    """The engine for a rendered ``tail_sampling`` processor block (drop policies moved first)."""
    cfg = _unescape(dict(tail_sampling))
    cache = cfg.get("decision_cache") or {}
    policies = []
    for raw in cfg.get("policies") or []:
        policies.append(Policy(str(raw.get("name", "")), build_node(raw), raw.get("type") == "drop"))
    ordered = [p for p in policies if p.is_drop] + [p for p in policies if not p.is_drop]
    config = EngineConfig(
        decision_wait_s=parse_duration_s(cfg.get("decision_wait"), 30.0),
        decision_wait_after_root_s=parse_duration_s(cfg.get("decision_wait_after_root_received"), 0.0),
        num_traces=int(cfg.get("num_traces", 50000)),
        sampled_cache_size=int(cache.get("sampled_cache_size", 0)),
        non_sampled_cache_size=int(cache.get("non_sampled_cache_size", 0)),
        sample_on_first_match=bool(cfg.get("sample_on_first_match", False)),
        policies=ordered,
    )
    for index, node in enumerate(all_nodes(config)):
        node.index = index
    return config


class Outcome(NamedTuple):
    """A trace's decision, the policy upstream records for it, and every policy's own decision (in evaluation
    order; policies after an early stop are absent)."""

    decision: Decision
    policy: str
    per_policy: list[tuple[str, Decision]]


def combine(decisions: Sequence[Decision]) -> tuple[Decision, int]:
    """``processor.go`` makeDecision's precedence over the policies' decisions (in evaluation order): the final
    decision and the index of the policy recorded for it (-1: none)."""
    def first(d: Decision) -> int:
        return decisions.index(d) if d in decisions else -1

    if (i := first(DROPPED)) >= 0:
        return DROPPED, i
    if first(INVERT_NOT_SAMPLED) >= 0:
        return NOT_SAMPLED, -1
    if (i := first(SAMPLED)) >= 0:
        return SAMPLED, i
    if (i := first(INVERT_SAMPLED)) >= 0 and first(NOT_SAMPLED) < 0:
        return SAMPLED, i
    return NOT_SAMPLED, -1


def evaluate_policies(config: EngineConfig, ctx: TraceCtx) -> list[Decision]:
    """Each policy's decision in evaluation order, stopping where ``makeDecision`` stops: after a Dropped, and
    after a Sampled with ``sample_on_first_match``."""
    out: list[Decision] = []
    for policy in config.policies:
        d = evaluate(policy.node, ctx)
        out.append(d)
        if d is DROPPED or (config.sample_on_first_match and d is SAMPLED):
            break
    return out


def decide(config: EngineConfig, ctx: TraceCtx) -> Outcome:
    """``processor.go`` makeDecision."""
    decisions = evaluate_policies(config, ctx)
    final, index = combine(decisions)
    names = [p.name for p in config.policies]
    return Outcome(final, names[index] if index >= 0 else "", list(zip(names, decisions, strict=False)))
