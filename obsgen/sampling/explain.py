"""``obsgen sampling explain``: one trace through the rendered tail_sampling policies, step by step.

The trace is evaluated as the processor's first decision of a second would be: rate and bytes limiters full,
composite budgets unused (their real outcome depends on the traffic around the trace; ``simulate`` models it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from obsgen.sampling.engine import Decision, Node, TraceCtx, decide, read_config
from obsgen.sampling.ottl import SpanView
from obsgen.sampling.report import KIND_NAMES

LABELS = {Decision.SAMPLED: "sampled", Decision.NOT_SAMPLED: "not_sampled", Decision.DROPPED: "dropped",
          Decision.ERROR: "error", Decision.INVERT_SAMPLED: "inverted_sampled",
          Decision.INVERT_NOT_SAMPLED: "inverted_not_sampled"}


@dataclass
class Step:
    """One policy (or sub-policy) and its decision."""

    name: str
    type: str
    decision: str
    subs: list[Step] = field(default_factory=list)

    def data(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "type": self.type, "decision": self.decision}
        if self.subs:
            out["sub_policies"] = [s.data() for s in self.subs]
        return out


@dataclass
class Explanation:
    """The steps, the final decision and the rule of ``makeDecision`` that made it."""

    trace_id: str
    spans: int
    services: list[str]
    duration_ms: float
    steps: list[Step]
    skipped: list[str]
    decision: str
    policy: str
    rule: str

    def data(self) -> dict[str, object]:
        return {"trace_id": self.trace_id, "spans": self.spans, "services": self.services,
                "duration_ms": self.duration_ms, "steps": [s.data() for s in self.steps],
                "not_evaluated": self.skipped, "decision": self.decision, "policy": self.policy, "rule": self.rule}


def _step(node: Node, shadow: Node, ctx: TraceCtx) -> Step:
    """``node``'s decision (from the real evaluation), with its sub-policies evaluated on ``shadow`` (a fresh copy
    of the same config, so that showing a sub-policy does not spend the real one's state)."""
    kind = KIND_NAMES.get(type(node).__name__, type(node).__name__)
    subs = [Step(child.name, KIND_NAMES.get(type(child).__name__, ""), LABELS.get(child.evaluate(ctx), "?"))
            for child in shadow.children()]
    return Step(node.name, kind, "", subs)


def explain(tail_sampling: Mapping[str, Any], trace_id: bytes, spans: Sequence[SpanView], size: int) -> Explanation:
    """Explain the decision on one trace."""
    config = read_config(tail_sampling)
    shadow = read_config(tail_sampling)
    ctx = TraceCtx(trace_id, len(spans), size, 0.0, lambda: spans)
    outcome = decide(config, ctx)
    shadow_ctx = TraceCtx(trace_id, len(spans), size, 0.0, lambda: spans)
    steps = []
    for (name, decision), policy, twin in zip(outcome.per_policy, config.policies, shadow.policies, strict=False):
        step = _step(policy.node, twin.node, shadow_ctx)
        step.name = name
        step.decision = LABELS.get(decision, decision.name.lower())
        steps.append(step)
    skipped = [p.name for p in config.policies[len(outcome.per_policy):]]
    seen = {d for _, d in outcome.per_policy}
    if outcome.decision is Decision.DROPPED:
        rule = f"a drop policy ({outcome.policy}) dropped it: Dropped wins over every other decision"
    elif Decision.INVERT_NOT_SAMPLED in seen:
        rule = "an inverted not-sample decision: not sampled whatever else sampled"
    elif outcome.decision is Decision.SAMPLED and Decision.SAMPLED in seen:
        rule = (f"no drop policy matched and {outcome.policy} sampled it (policies combine with OR; the first "
                "sampling policy is the one the processor records)")
    elif outcome.decision is Decision.SAMPLED:
        rule = "an inverted sample decision and no not-sampled decision"
    else:
        rule = "no policy sampled it"
    starts = [s.start_ns for s in spans]
    ends = [s.end_ns for s in spans]
    services = sorted({str(s.resource.get("service.name", "")) for s in spans})
    return Explanation(trace_id.hex(), len(spans), services, (max(ends) - min(starts)) / 1e6, steps, skipped,
                       LABELS.get(outcome.decision, "?"), outcome.policy, rule)


def to_text(e: Explanation) -> str:
    """Step by step, one line per policy."""
    lines = [f"trace {e.trace_id}: {e.spans} spans from {', '.join(e.services)}, {e.duration_ms:,.3f} ms",
             "policies in evaluation order (drop policies first, then the others in config order):"]
    for i, step in enumerate(e.steps, 1):
        lines.append(f"  {i:>2}. {step.name} ({step.type}): {step.decision}")
        lines += [f"        {sub.name} ({sub.type}): {sub.decision}" for sub in step.subs]
    if e.skipped:
        lines.append(f"  not evaluated (the evaluation stopped): {', '.join(e.skipped)}")
    stateful = {"rate_limiting", "bytes_limiting", "composite"}
    if any(s.type in stateful or any(sub.type in stateful for sub in s.subs) for s in e.steps):
        lines.append("  (rate_limiting, bytes_limiting and composite decide here as for the first trace of a second; "
                     "their real outcome depends on the traffic around the trace: see obsgen sampling simulate)")
    lines.append(f"decision: {e.decision.upper()}: {e.rule}")
    return "\n".join(lines) + "\n"


def to_json(e: Explanation) -> str:
    """``--format json``."""
    return json.dumps(e.data(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
