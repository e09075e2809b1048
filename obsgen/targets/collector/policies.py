"""Tail-sampling policies for the Collector: the plan's upstream-shaped policies, escaped and explained.

``obsgen.plan`` already translated every spec policy (and shorthand) into the upstream shape; this
module only adapts numbers to the types upstream decodes, escapes ``$`` and writes the comments
that say where a shorthand's values came from.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from obsgen.plan import (
    Plan,
    PlannedPolicy,
    critical_conditions,
    policy_dict,
    slo_threshold,
    smallest_latency_threshold,
)
from obsgen.spec.models import CriticalEndpointsPolicy, LatencyPolicy, Policy, policy_value
from obsgen.targets.collector.values import escape_values


class RenderedPolicy(NamedTuple):
    """One top-level policy: comment lines and the YAML body."""

    comments: tuple[str, ...]
    body: dict[str, object]


def _whole(value: object) -> object:
    # 10.0 -> 10: the spec's floats are whole numbers almost always; upstream reads either.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _adapt(data: object, notes: list[str]) -> object:
    """Numbers in upstream's types: rate_allocation percent is an int64 (upstream truncates)."""
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            if key == "rate_allocation" and isinstance(value, list):
                out[key] = [_allocation(entry, notes) for entry in value]
            else:
                out[key] = _adapt(value, notes)
        return out
    if isinstance(data, list):
        return [_adapt(item, notes) for item in data]
    return _whole(data)


def _allocation(entry: object, notes: list[str]) -> object:
    if not isinstance(entry, dict):
        return entry
    percent = entry.get("percent")
    if isinstance(percent, float) and not percent.is_integer():
        whole = math.floor(percent)
        notes.append(
            f"share {percent:g}% of {entry.get('policy')} is written as {whole}: the Collector's percent is an "
            "integer"
        )
        return {**entry, "percent": whole}
    return {**entry, "percent": _whole(percent)}


def _origin(plan: Plan, policy: Policy) -> list[str]:
    """Where a shorthand's values came from, so the rendered policy can be traced back to the spec."""
    kind, value = policy.kind, policy_value(policy)
    route_attribute = plan.spec.sampling.route_attribute
    if kind == "errors":
        return ["errors: true -> keep every trace with a span whose status is ERROR."]
    if kind == "critical_endpoints":
        services = value.services if isinstance(value, CriticalEndpointsPolicy) else None
        scope = ", ".join(services) if services else "all services"
        if critical_conditions(plan.spec, services) is None:
            return [f"critical_endpoints -> routes marked critical: true ({scope}), matched on {route_attribute}."]
        return [f"critical_endpoints -> endpoints marked critical: true ({scope}), each matched on what its "
                f"protocol sets: HTTP on {route_attribute}, gRPC on rpc.service + rpc.method, others on the span name."]
    if kind == "latency" and isinstance(value, LatencyPolicy) and value.threshold is None:
        if value.slo is not None:
            threshold = slo_threshold(plan.spec, value.slo)
            return [f"threshold = latency SLO {value.slo} ({threshold})."]
        return [f"threshold = the tightest SLO latency threshold ({smallest_latency_threshold(plan.spec)})."]
    return []


def render_policy(plan: Plan, planned: PlannedPolicy) -> RenderedPolicy:
    """One top-level policy in Collector YAML shape, with its description and origin as comments."""
    spec_policy = plan.spec.sampling.policies[planned.index]
    comments: list[str] = []
    if spec_policy.description:
        comments.append(spec_policy.description)
    comments += _origin(plan, spec_policy)
    notes: list[str] = []
    body = _adapt(policy_dict(planned), notes)
    assert isinstance(body, dict)
    escaped = escape_values(body)
    assert isinstance(escaped, dict)
    return RenderedPolicy(tuple(comments + notes), escaped)


def render_policies(plan: Plan) -> list[RenderedPolicy]:
    """Every top-level policy, in spec order."""
    return [render_policy(plan, planned) for planned in plan.policies]
