"""Properties of the decision semantics (processor.go makeDecision, composite.go) on random policies and traces."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from obsgen.sampling.engine import (
    AlwaysSample,
    BooleanAttribute,
    Composite,
    Decision,
    Drop,
    EngineConfig,
    Node,
    NumericAttribute,
    Policy,
    Probabilistic,
    RateLimiting,
    SpanCount,
    StatusCode,
    StringAttribute,
    TraceCtx,
    decide,
)
from obsgen.sampling.ottl import SpanView

KEYS = ("a", "b")
VALUES = ("x", "y", "z")


@st.composite
def spans(draw: st.DrawFn) -> SpanView:
    attrs = {k: draw(st.sampled_from(VALUES)) for k in KEYS if draw(st.booleans())}
    attrs["n"] = draw(st.integers(-5, 5))
    attrs["flag"] = draw(st.booleans())
    return SpanView("op", 2, draw(st.sampled_from((0, 1, 2))), attrs, {"service.name": "svc"}, 0,
                    draw(st.integers(1, 5_000_000_000)))


@st.composite
def leaves(draw: st.DrawFn) -> Node:
    kind = draw(st.sampled_from(("string", "numeric", "bool", "status", "prob", "count", "rate", "always")))
    if kind == "string":
        return StringAttribute(draw(st.sampled_from(KEYS)), draw(st.lists(st.sampled_from(VALUES), min_size=1)),
                               False, draw(st.booleans()))
    if kind == "numeric":
        low = draw(st.integers(-5, 5))
        return NumericAttribute("n", low, low + draw(st.integers(0, 5)), draw(st.booleans()))
    if kind == "bool":
        return BooleanAttribute("flag", draw(st.booleans()), draw(st.booleans()))
    if kind == "status":
        return StatusCode(draw(st.lists(st.sampled_from(("OK", "ERROR", "UNSET")), min_size=1)))
    if kind == "prob":
        return Probabilistic(draw(st.floats(0, 100)), draw(st.sampled_from(("", "salt"))))
    if kind == "count":
        return SpanCount(draw(st.integers(0, 4)), draw(st.integers(0, 4)))
    if kind == "rate":
        return RateLimiting(draw(st.integers(1, 5)))
    return AlwaysSample()


@st.composite
def traces(draw: st.DrawFn) -> TraceCtx:
    found = draw(st.lists(spans(), min_size=1, max_size=4))
    trace_id = draw(st.binary(min_size=16, max_size=16))
    return TraceCtx(trace_id, len(found), 100, float(draw(st.integers(0, 3))), lambda: found)


def _config(policies: list[Policy]) -> EngineConfig:
    ordered = [p for p in policies if p.is_drop] + [p for p in policies if not p.is_drop]
    return EngineConfig(10, 0, 100, 0, 0, False, ordered)


@settings(max_examples=300, deadline=None)
@given(st.lists(leaves(), max_size=5), st.lists(leaves(), min_size=1, max_size=3), traces(), st.integers(0, 5))
def test_a_matching_drop_policy_always_wins(keeps: list[Node], drop_subs: list[Node], trace: TraceCtx,
                                             at: int) -> None:
    drop = Drop(drop_subs)
    matches = drop.evaluate(trace) is Decision.DROPPED  # a fresh copy would give the same for stateless subs
    if any(not s.stateless for s in drop_subs):
        return  # a rate limiter in the drop spent tokens above; the property is about the decision rule
    policies = [Policy(f"keep-{i}", node, False) for i, node in enumerate(keeps)]
    policies.insert(min(at, len(policies)), Policy("drop", Drop(drop_subs), True))
    outcome = decide(_config(policies), trace)
    assert (outcome.decision is Decision.DROPPED) == matches


@settings(max_examples=300, deadline=None)
@given(st.lists(leaves(), max_size=5), st.lists(st.lists(leaves(), min_size=1, max_size=2), max_size=2), traces())
def test_always_sample_keeps_everything_not_dropped(keeps: list[Node], drops: list[list[Node]],
                                                    trace: TraceCtx) -> None:
    policies = [Policy(f"keep-{i}", node, False) for i, node in enumerate(keeps)]
    policies.append(Policy("keep-all", AlwaysSample(), False))
    policies += [Policy(f"drop-{i}", Drop(subs), True) for i, subs in enumerate(drops)]
    outcome = decide(_config(policies), trace)
    assert outcome.decision in (Decision.SAMPLED, Decision.DROPPED)
    if not drops:
        assert outcome.decision is Decision.SAMPLED


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 200),
    st.lists(st.tuples(leaves().filter(lambda n: n.stateless), st.integers(0, 100)), min_size=1, max_size=4),
    st.lists(st.tuples(traces(), st.integers(1, 60), st.integers(0, 3)), min_size=1, max_size=80),
)
def test_a_composite_never_exceeds_its_budget_in_any_second(total: int, subs: list[tuple[Node, int]],
                                                            arrivals: list[tuple[TraceCtx, int, int]]) -> None:
    names = [f"sub-{i}" for i in range(len(subs))]
    percents = [p for _, p in subs]
    scale = sum(percents)
    if scale > 100:  # upstream checks each sub-policy against its allocation and the total separately, so the
        percents = [p * 100 // scale for p in percents]  # total holds when the allocations fit in 100%
    composite = Composite(total, [(n, node) for n, (node, _) in zip(names, subs, strict=True)],
                          dict(zip(names, percents, strict=True)))
    allocated = composite.allocated
    assert sum(allocated) <= total or any(p <= 0 for p in percents)
    spent: dict[int, list[int]] = {}
    for trace, count, second in sorted(arrivals, key=lambda a: a[2]):
        trace.span_count = count
        trace.now_s = float(second)
        before = list(composite.used) if composite.second == second else [0] * len(subs)
        decision = composite.evaluate(trace)
        after = composite.used
        if decision is Decision.SAMPLED:
            grew = [b - a for a, b in zip(before, after, strict=True)]
            assert sorted(grew)[-1] == count and sum(grew) == count
        spent[second] = list(after)
    for used in spent.values():
        for i, value in enumerate(used):
            assert value <= allocated[i]
            assert value <= total
        if all(p > 0 for p in percents):
            assert sum(used) <= total
