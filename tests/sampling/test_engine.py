"""The decision engine against the upstream semantics, policy type by policy type.

Each test names the upstream test it mirrors: contrib processor/tailsamplingprocessor v0.159.0,
``internal/sampling/<file>_test.go`` (evaluators) and ``processor_decisions_test.go`` (how decisions combine).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from obsgen.sampling.engine import (
    FNV64_OFFSET,
    MAX_UINT64,
    AlwaysSample,
    And,
    BooleanAttribute,
    BytesLimiting,
    Composite,
    Decision,
    Drop,
    EngineConfig,
    EngineError,
    Latency,
    Node,
    Not,
    NumericAttribute,
    Ottl,
    Policy,
    Probabilistic,
    RateLimiting,
    SpanCount,
    StatusCode,
    StringAttribute,
    TraceCtx,
    TraceState,
    decide,
    fnv1a64,
    fnv1a64_many,
    hash_trace_id,
    probabilistic_threshold,
    read_config,
)
from obsgen.sampling.ottl import SpanView

S, N, D = Decision.SAMPLED, Decision.NOT_SAMPLED, Decision.DROPPED
TRACE_ID = bytes(range(1, 17))
VECTORS = Path(__file__).parent / "data" / "probabilistic_vectors.json"
TOOL = Path(__file__).resolve().parents[2] / "tools" / "tsvectors"


def span(attrs: Mapping[str, object] | None = None, *, resource: Mapping[str, object] | None = None,
         status: int = 0, start_ms: float = 0, duration_ms: float = 1, name: str = "op", kind: int = 2,
         trace_state: str = "") -> SpanView:
    start = int(1_700_000_000_000_000_000 + start_ms * 1e6)
    return SpanView(name, kind, status, dict(attrs or {}), dict(resource or {}), start,
                    start + int(duration_ms * 1e6), trace_state)


def ctx(*spans: SpanView, span_count: int | None = None, size: int = 0, now: float = 0.0,
        trace_id: bytes = TRACE_ID) -> TraceCtx:
    return TraceCtx(trace_id, len(spans) if span_count is None else span_count, size, now, lambda: list(spans))


def run(node: Node, *spans: SpanView) -> Decision:
    return node.evaluate(ctx(*spans))


# ---- latency_test.go


def test_latency_mirrors_TestEvaluate_Latency() -> None:
    policy = Latency(5000, 0)
    assert run(policy, span(duration_ms=4500)) is N  # shorter than threshold
    assert run(policy, span(duration_ms=5000)) is N  # equal to threshold
    # longer in total, every span shorter
    assert run(policy, span(duration_ms=3000), span(start_ms=2500, duration_ms=3000)) is S
    assert run(policy, span(duration_ms=5000.9)) is N  # whole milliseconds (Duration.Milliseconds truncates)


def test_latency_mirrors_TestEvaluate_Bounded_Latency() -> None:
    policy = Latency(5000, 10000)
    assert run(policy, span(duration_ms=4500)) is N
    assert run(policy, span(duration_ms=5000)) is N
    assert run(policy, span(duration_ms=5001)) is S
    assert run(policy, span(duration_ms=10000)) is S
    assert run(policy, span(duration_ms=10001)) is N
    assert run(policy, span(duration_ms=3000), span(start_ms=2500, duration_ms=3000)) is S


def test_bounded_latency_decides_on_the_running_duration_in_span_order() -> None:
    # latency.go checks after every span: 6 s after the first two spans is inside (5 s, 10 s], even though the
    # whole trace (12 s) is not.
    spans = (span(duration_ms=3000), span(start_ms=3000, duration_ms=3000), span(start_ms=0, duration_ms=12000))
    assert run(Latency(5000, 10000), *spans) is S
    assert run(Latency(5000, 10000), *reversed(spans)) is N


def test_latency_fast_path_equals_span_walk() -> None:
    spans = (span(duration_ms=700), span(start_ms=650, duration_ms=400))
    duration = max(s.end_ns for s in spans) - min(s.start_ns for s in spans)
    for threshold in (999, 1000, 1049, 1050, 1051):
        walked = Latency(threshold, 0).evaluate(ctx(*spans))
        fast = Latency(threshold, 0).evaluate(TraceCtx(TRACE_ID, 2, 0, 0.0, lambda: [], duration))
        assert walked is fast


# ---- numeric_tag_filter_test.go


def test_numeric_mirrors_TestNumericTagFilter() -> None:
    policy = NumericAttribute("example", -100, 100, False)
    assert run(policy, span({"example": -100})) is S  # on min
    assert run(policy, span({"example": 100})) is S  # on max
    assert run(policy, span({"example": 0})) is S
    assert run(policy, span({"example": -101})) is N
    assert run(policy, span({"example": 101})) is N
    assert run(policy, span(resource={"example": 50})) is S  # resource attributes count too
    assert run(policy, span({"other": 50})) is N
    assert run(policy, span({"example": "50"})) is S  # v.Int() of a string is 0, which is in range


def test_numeric_mirrors_TestNumericTagFilterInverted() -> None:
    policy = NumericAttribute("example", -100, 100, True)
    assert run(policy, span({"example": 0})) is N
    assert run(policy, span({"example": 101})) is S
    assert run(policy, span({"other": 0})) is S  # no attribute: nothing matches, so the inverted filter samples


def test_numeric_mirrors_TestNumericTagFilterOptionalBounds_and_NilBounds() -> None:
    assert run(NumericAttribute("example", 1000, None, False), span({"example": 2**62})) is S
    assert run(NumericAttribute("example", None, 10, False), span({"example": -(2**62)})) is S
    with pytest.raises(EngineError):
        NumericAttribute("example", None, None, False)


# ---- string_tag_filter_test.go


def test_string_mirrors_TestStringTagFilter() -> None:
    exact = StringAttribute("example", ["value", ""], False, False)
    assert run(exact, span({"example": "value"})) is S
    assert run(exact, span({"example": "val"})) is N
    assert run(exact, span({"example": ""})) is N  # empty values never match a span
    assert run(exact, span(resource={"example": "value"})) is S
    assert run(exact, span({"example": 5})) is N  # v.Str() of an int is ""
    regex = StringAttribute("example", ["v[0-9]+.HealthCheck$"], True, False)
    assert run(regex, span({"example": "v1.HealthCheck"})) is S
    assert run(regex, span({"example": "prefix v12.HealthCheck"})) is S  # MatchString is unanchored
    assert run(regex, span({"example": "v1.HealthCheck suffix"})) is N
    inverted = StringAttribute("example", ["value"], False, True)
    assert run(inverted, span({"example": "value"})) is N
    assert run(inverted, span({"example": "other"})) is S


def test_string_mirrors_TestStringTagFilter_InvalidRegex() -> None:
    with pytest.raises(EngineError):
        StringAttribute("example", ["a(?=b)"], True, False)  # RE2 has no look-ahead


# ---- boolean_tag_filter_test.go


def test_boolean_mirrors_TestBooleanTagFilter_and_Inverted() -> None:
    assert run(BooleanAttribute("example", True, False), span({"example": True})) is S
    assert run(BooleanAttribute("example", True, False), span({"example": False})) is N
    assert run(BooleanAttribute("example", False, False), span({"example": "true"})) is S  # Bool() of a string
    assert run(BooleanAttribute("example", True, False), span({"other": True})) is N
    assert run(BooleanAttribute("example", True, True), span({"example": True})) is N
    assert run(BooleanAttribute("example", True, True), span({"example": False})) is S


# ---- status_code_test.go


def test_status_code_mirrors_TestStatusCodeSampling_and_errorHandling() -> None:
    assert run(StatusCode(["ERROR"]), span(status=0), span(status=2)) is S
    assert run(StatusCode(["ERROR"]), span(status=1)) is N
    assert run(StatusCode(["OK", "UNSET"]), span(status=0)) is S
    with pytest.raises(EngineError):
        StatusCode([])
    with pytest.raises(EngineError):
        StatusCode(["ERR"])


# ---- span_count_sampler_test.go


@pytest.mark.parametrize(("low", "high", "count", "want"), [
    (3, 0, 2, N), (3, 0, 3, S), (3, 0, 300, S),  # TestEvaluate_OnlyMinSpans
    (0, 3, 0, S), (0, 3, 3, S), (0, 3, 4, N),  # TestEvaluate_OnlyMaxSpans
    (2, 4, 1, N), (2, 4, 2, S), (2, 4, 4, S), (2, 4, 5, N),  # TestEvaluate_RangeOfSpans
])
def test_span_count(low: int, high: int, count: int, want: Decision) -> None:
    assert SpanCount(low, high).evaluate(ctx(span(), span_count=count)) is want


# ---- trace_state_filter_test.go


def test_trace_state_mirrors_TestTraceStateFilter() -> None:
    policy = TraceState("example", ["value"])
    assert run(policy, span(trace_state="example=value")) is S
    assert run(policy, span(trace_state="other=1,example=value")) is S
    assert run(policy, span(trace_state="example=non_value")) is N
    assert run(policy, span(trace_state="")) is N
    assert run(TraceState("example", ["v" * 250]), span(trace_state="example=" + "v" * 250)) is N  # >= 256


# ---- ottl_test.go (the subset the simulator evaluates)


def test_ottl_span_conditions() -> None:
    policy = Ottl(['attributes["db.system"] == "redis" and status.code == STATUS_CODE_ERROR'], [])
    assert run(policy, span({"db.system": "redis"}, status=2)) is S
    assert run(policy, span({"db.system": "redis"}), span({"db.system": "pg"}, status=2)) is N  # same span needed
    assert run(Ottl(['name == "GET /"', "kind == SPAN_KIND_CLIENT"], []), span(name="x", kind=3)) is S
    assert run(Ottl(['IsMatch(attributes["http.route"], "^/api/")'], []), span({"http.route": "/api/x"})) is S
    assert run(Ottl(['attributes["n"] > 5'], []), span({"n": 5.5})) is S
    assert run(Ottl(['attributes["missing"] == nil'], []), span()) is S
    assert run(Ottl([], []), span()) is N  # ottl.go: no conditions, never samples
    with pytest.raises(EngineError):
        Ottl(['set(attributes["x"], 1)'], [])


# ---- probabilistic_test.go: upstream's own trace ids and cases, and the Go computation


def _pcg_ids(count: int) -> list[bytes]:
    """genRandomTraceIDs: math/rand/v2 NewPCG(123, 456), two Uint64 per id, big endian (Go's pcg.go)."""
    hi, lo = 123, 456
    mul_hi, mul_lo = 2549297995355413924, 4865540595714422341
    inc = (6364136223846793005 << 64) | 1442695040888963407
    mul = (mul_hi << 64) | mul_lo
    state = (hi << 64) | lo
    out = []

    def next_u64() -> int:
        nonlocal state
        state = (state * mul + inc) & ((1 << 128) - 1)
        h, low = state >> 64, state & MAX_UINT64
        h ^= h >> 32
        h = (h * 0xDA942042E4DD58B5) & MAX_UINT64
        h ^= h >> 48
        return (h * (low | 1)) & MAX_UINT64

    for _ in range(count):
        out.append(next_u64().to_bytes(8, "big") + next_u64().to_bytes(8, "big"))
    return out


@pytest.fixture(scope="module")
def vectors() -> dict[str, object]:
    return json.loads(VECTORS.read_text())


def test_probabilistic_hash_and_threshold_match_go(vectors: dict) -> None:
    ids = _pcg_ids(20)
    for sample, trace_id in zip(vectors["samples"], ids, strict=True):
        assert sample["trace_id"] == trace_id.hex()
        for salt, hashed in sample["hashes"].items():
            assert hash_trace_id(salt, trace_id) == int(hashed, 16)
    for percentage, threshold in vectors["thresholds"].items():
        assert probabilistic_threshold(float(percentage) / 100) == int(threshold, 16), percentage


def test_probabilistic_mirrors_TestProbabilisticSampling(vectors: dict) -> None:
    ids = _pcg_ids(vectors["ids"])
    for case in vectors["cases"]:
        policy = Probabilistic(case["percentage"], case["salt"])
        sampled = sum(policy.evaluate(ctx(span(), trace_id=i)) is S for i in ids)
        assert sampled == case["sampled"], case["name"]  # exactly what Go computes
        assert abs(100 * sampled / len(ids) - case["expected_percentage"]) <= 0.2, case["name"]  # upstream's delta


def test_vectors_are_what_go_computes() -> None:
    """Regenerates the vectors with the local Go toolchain (tools/tsvectors, standard library only)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("go not installed: the committed vectors are checked, not regenerated")
    out = subprocess.run([go, "run", "."], cwd=TOOL, capture_output=True, text=True, check=True, timeout=300,
                         env={**__import__("os").environ, "GOFLAGS": "-mod=mod"})
    assert json.loads(out.stdout) == json.loads(VECTORS.read_text())


# ---- rate_limiting_test.go, bytes_limiting_test.go


def test_rate_limiting_mirrors_TestRateLimiterDefaultConstructorBurst() -> None:
    policy = RateLimiting(2)  # burst 2 x 2
    assert [policy.evaluate(ctx(span(), span_count=1, now=0.0)) for _ in range(5)] == [S, S, S, S, N]


def test_rate_limiting_mirrors_TestRateLimiterTokenRefill() -> None:
    policy = RateLimiting(4)
    policy.bucket.burst = 2  # NewRateLimitingWithBurstCapacity(4, 2)
    policy.bucket.tokens = 2.0
    assert policy.evaluate(ctx(span_count=2, now=10.0)) is S
    assert policy.evaluate(ctx(span_count=2, now=10.0)) is N
    assert policy.evaluate(ctx(span_count=2, now=10.6)) is S  # 0.6 s x 4/s = 2.4 tokens, capped at 2


def test_rate_limiting_mirrors_TestRateLimiterBurstCapacityRejectsLargeTrace() -> None:
    policy = RateLimiting(3)
    policy.bucket.burst = 2
    policy.bucket.tokens = 2.0
    assert policy.evaluate(ctx(span_count=3)) is N


def test_bytes_limiting_mirrors_TestBytesLimitingTokenBucket_and_Refill() -> None:
    policy = BytesLimiting(100, 200)
    assert policy.evaluate(ctx(size=150, now=0.0)) is S
    assert policy.evaluate(ctx(size=100, now=0.0)) is N  # 50 left
    assert policy.evaluate(ctx(size=50, now=0.0)) is S
    assert policy.evaluate(ctx(size=100, now=1.0)) is S  # one second refills 100
    assert policy.evaluate(ctx(size=201, now=100.0)) is N  # above the burst, never


# ---- and_test.go, not_test.go, drop_test.go


def test_and_mirrors_TestAndEvaluatorNotSampled_and_Sampled() -> None:
    hit = StringAttribute("attribute_name", ["attribute_value"], False, False)
    miss = StringAttribute("attribute_name", ["no_match"], False, False)
    t = span({"attribute_name": "attribute_value"})
    assert run(And([hit, miss]), t) is N
    assert run(And([hit, AlwaysSample()]), t) is S


def test_not_mirrors_TestNotSamplingPolicy() -> None:
    t = span({"k": "v"})
    assert run(Not(StringAttribute("k", ["v"], False, False)), t) is N
    assert run(Not(StringAttribute("k", ["x"], False, False)), t) is S


def test_drop_mirrors_TestDropEvaluatorNotSampled_and_Sampled() -> None:
    t = span({"attribute_name": "attribute_value"})
    assert run(Drop([StringAttribute("attribute_name", ["attribute_value"], False, False), AlwaysSample()]), t) is D
    assert run(Drop([StringAttribute("attribute_name", ["no"], False, False)]), t) is N


# ---- composite_test.go, composite_helper_test.go


def test_composite_mirrors_TestCompositeEvaluatorThrottling() -> None:
    c = Composite(10, [("eval-1", AlwaysSample())], {"eval-1": 100})
    assert [c.evaluate(ctx(span(), now=0.0)) for _ in range(10)] == [S] * 10
    assert [c.evaluate(ctx(span(), now=0.0)) for _ in range(10)] == [N] * 10
    assert [c.evaluate(ctx(span(), now=1.0)) for _ in range(10)] == [S] * 10


def test_composite_mirrors_TestCompositeEvaluator2SubpolicyThrottling() -> None:
    c = Composite(10, [("eval-1", NumericAttribute("tag", 0, 100, False)), ("eval-2", AlwaysSample())],
                  {"eval-1": 50, "eval-2": 50})
    assert [c.evaluate(ctx(span(), now=0.0)) for _ in range(5)] == [S] * 5
    assert [c.evaluate(ctx(span(), now=0.0)) for _ in range(5)] == [N] * 5
    assert [c.evaluate(ctx(span(), now=1.0)) for _ in range(5)] == [S] * 5
    assert [c.evaluate(ctx(span(), now=1.0)) for _ in range(20)] == [N] * 20
    assert [c.evaluate(ctx(span(), now=2.0)) for _ in range(5)] == [S] * 5


def test_composite_allocation_mirrors_getRateAllocationMap() -> None:
    # composite_helper.go: a sub-policy without a rate_allocation entry (or percent <= 0) gets an equal share of
    # the total, not 0; shares are truncated to an int64.
    c = Composite(1000, [("a", AlwaysSample()), ("b", AlwaysSample()), ("c", AlwaysSample())], {"a": 60, "c": 0})
    assert c.allocated == [600, 333, 333]


def test_composite_first_sampling_sub_policy_decides_even_over_budget() -> None:
    c = Composite(2, [("first", AlwaysSample()), ("second", AlwaysSample())], {"first": 50, "second": 50})
    assert c.evaluate(ctx(span(), now=0.0)) is S
    assert c.evaluate(ctx(span(), now=0.0)) is N  # "first" is over budget; "second" is not tried


# ---- processor_decisions_test.go: how decisions combine (makeDecision)


def config(*policies: tuple[str, Node, bool], first_match: bool = False) -> EngineConfig:
    ordered = [Policy(n, node, drop) for n, node, drop in policies]
    ordered = [p for p in ordered if p.is_drop] + [p for p in ordered if not p.is_drop]
    return EngineConfig(10, 0, 100, 0, 0, first_match, ordered)


class Fixed(Node):
    """An evaluator that returns one decision and counts its calls."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.calls = 0

    def evaluate(self, ctx: TraceCtx) -> Decision:
        self.calls += 1
        return self.decision


def test_decide_mirrors_TestSamplingMultiplePolicies_and_DecisionNotSampled() -> None:
    assert decide(config(("a", Fixed(N), False), ("b", Fixed(S), False)), ctx(span())).decision is S
    assert decide(config(("a", Fixed(N), False), ("b", Fixed(N), False)), ctx(span())).decision is N
    outcome = decide(config(("a", Fixed(S), False), ("b", Fixed(S), False)), ctx(span()))
    assert outcome.policy == "a"  # the first sampling policy is recorded


def test_decide_mirrors_TestSamplingPolicyInvertSampled_and_InvertNotSampled() -> None:
    inv_s, inv_n = Decision.INVERT_SAMPLED, Decision.INVERT_NOT_SAMPLED
    assert decide(config(("a", Fixed(inv_s), False)), ctx(span())).decision is S
    assert decide(config(("a", Fixed(inv_s), False), ("b", Fixed(N), False)), ctx(span())).decision is N
    assert decide(config(("a", Fixed(inv_n), False), ("b", Fixed(S), False)), ctx(span())).decision is N


def test_drop_policies_go_first_and_stop_the_evaluation() -> None:
    later = Fixed(S)
    outcome = decide(config(("keep", later, False), ("drop", Fixed(D), True)), ctx(span()))
    assert outcome.decision is D and outcome.policy == "drop"
    assert later.calls == 0  # evaluation stopped at the drop: a rate limiter after it is not charged


def test_sample_on_first_match_stops_at_the_first_sample() -> None:
    later = Fixed(S)
    outcome = decide(config(("a", Fixed(S), False), ("b", later, False), first_match=True), ctx(span()))
    assert outcome.decision is S and later.calls == 0


# ---- reading the rendered config


def test_read_config_from_the_rendered_shape() -> None:
    cfg = read_config({
        "decision_wait": "10s", "num_traces": 5, "decision_cache": {"sampled_cache_size": 7},
        "policies": [
            {"name": "keep", "type": "string_attribute",
             "string_attribute": {"key": "k", "values": ["^(a|b)$$"], "enabled_regex_matching": True}},
            {"name": "drop", "type": "drop", "drop": {"drop_sub_policy": [
                {"name": "drop-1", "type": "boolean_attribute", "boolean_attribute": {"key": "x", "value": True}}]}},
            {"name": "not", "type": "not", "not": {"not_sub_policy": {
                "name": "n", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}}}},
        ],
    })
    assert [p.name for p in cfg.policies] == ["drop", "keep", "not"]
    assert (cfg.decision_wait_s, cfg.num_traces, cfg.sampled_cache_size) == (10.0, 5, 7)
    assert decide(cfg, ctx(span({"k": "a"}))).decision is S  # "$$" is a literal "$" after confmap expansion
    assert decide(cfg, ctx(span({"k": "a", "x": True}))).decision is D
    with pytest.raises(EngineError):
        read_config({"policies": [{"name": "x", "type": "and", "and": {"and_sub_policy": [
            {"name": "y", "type": "composite", "composite": {}}]}}]})


def test_bulk_fnv_equals_the_byte_loop() -> None:
    ids = [bytes(16), b"\xff" * 16, TRACE_ID, *_pcg_ids(500)]
    for salt in ("default-hash-seed", "brazil", ""):
        start = fnv1a64(salt.encode())
        assert fnv1a64_many(start, ids) == [fnv1a64(i, start) for i in ids]
    assert fnv1a64_many(FNV64_OFFSET, []) == []
