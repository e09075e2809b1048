"""Failure scenarios for ``obsgen traffic --scenario``: a service fails more often, or a call gets slower.

``error:SERVICE[=FRACTION]`` - that share (default 0.5) of the service's requests fail: its server span is an
error, and so is the caller's client span of that request (the caller sees the failure). For a service that
emits no spans of its own (database, cache, external), its callers' client spans fail.
``slow:CALLER->CALLEE[=DURATION]`` - every call from CALLER to CALLEE takes DURATION longer (default 1s): the
callee's server span and the caller's client span end later, every enclosing span ends later, and every span
that started after the call ended moves by the same amount.

A scenario is a pure transformation of generated traces, seeded by the run's seed and each trace id, so the
same seed gives the same traces with or without a progress line, and any other command can apply it too.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from obsgen.plan import Plan, PlannedService
from obsgen.spec.durations import parse_duration


class ScenarioError(Exception):
    """A --scenario value that cannot be used (syntax, unknown service, undeclared call)."""


@dataclass(frozen=True)
class Target:
    """A service as spans name it: its key and service.name, and for a node that emits no spans of its own
    (database, cache, external, queue) the values its callers' client spans name it by."""

    key: str
    names: frozenset[str]
    peer_names: frozenset[str]
    instrumented: bool


@dataclass(frozen=True)
class ServiceErrors:
    service: Target
    fraction: float


@dataclass(frozen=True)
class SlowCall:
    caller: Target
    callee: Target
    delay_ns: int


Scenario = ServiceErrors | SlowCall
CLIENT_KINDS = ("client", "producer")
# Attributes a client span names an uninstrumented callee by (as the service graph's virtual nodes do).
PEER_ATTRIBUTES = ("peer.service", "db.name", "db.namespace", "db.system", "db.system.name", "messaging.system")


def parse(texts: Sequence[str], plan: Plan) -> tuple[Scenario, ...]:
    """Each --scenario value resolved against the spec's services and calls."""
    return tuple(_parse_one(text, plan) for text in texts)


def _service(plan: Plan, key: str, text: str) -> PlannedService:
    service = plan.by_key.get(key)
    if service is None:
        known = ", ".join(s.key for s in plan.services)
        raise ScenarioError(f"--scenario {text}: no service {key!r} in the spec (services: {known})")
    return service


def _target(plan: Plan, service: PlannedService) -> Target:
    spec = plan.spec.services[service.key]
    peers = {service.name, *(v for v in (spec.db_name, spec.db_system, spec.peer_service, spec.messaging_system)
                             if v)}
    return Target(service.key, frozenset({service.key, service.name}), frozenset(peers), service.instrumented)


def _parse_one(text: str, plan: Plan) -> Scenario:
    kind, sep, rest = text.partition(":")
    target, eq, value = rest.partition("=")
    if not sep or not target:
        raise ScenarioError(f"--scenario {text}: expected error:SERVICE[=FRACTION] or slow:CALLER->CALLEE[=DURATION]")
    if kind == "error":
        try:
            fraction = float(value) if eq else 0.5
        except ValueError:
            fraction = -1.0
        if not 0.0 <= fraction <= 1.0:
            raise ScenarioError(f"--scenario {text}: the error fraction must be a number from 0 to 1")
        return ServiceErrors(_target(plan, _service(plan, target, text)), fraction)
    if kind == "slow":
        caller_key, arrow, callee_key = target.partition("->")
        if not arrow:
            raise ScenarioError(f"--scenario {text}: a slow call is CALLER->CALLEE")
        caller, callee = _service(plan, caller_key, text), _service(plan, callee_key, text)
        if not any(c.callee == callee.key for c in caller.calls):
            raise ScenarioError(f"--scenario {text}: the spec declares no call from {caller.key} to {callee.key}")
        try:
            delay = parse_duration(value if eq else "1s")
        except ValueError as exc:
            raise ScenarioError(f"--scenario {text}: {exc}") from None
        return SlowCall(_target(plan, caller), _target(plan, callee), delay.ns)
    raise ScenarioError(f"--scenario {text}: unknown scenario {kind!r} (error:..., slow:...)")


def _calls_into(span: Any, children: dict[bytes, list[Any]], callee: Target) -> bool:
    """True when ``span`` is a client span whose request goes to ``callee``."""
    if span.kind.lower().removeprefix("span_kind_") not in CLIENT_KINDS:
        return False
    if any(child.service in callee.names for child in children.get(span.span_id, ())):
        return True
    return not callee.instrumented and any(str(span.attributes[a]) in callee.peer_names
                                           for a in PEER_ATTRIBUTES if a in span.attributes)


def apply(trace: Any, scenarios: Sequence[Scenario], seed: int) -> Any:
    """``trace`` with every scenario applied (the same object when none changes it)."""
    for scenario in scenarios:
        trace = _errors(trace, scenario, seed) if isinstance(scenario, ServiceErrors) else _slow(trace, scenario)
    return trace


def _children(spans: Sequence[Any]) -> dict[bytes, list[Any]]:
    out: dict[bytes, list[Any]] = {}
    for span in spans:
        if span.parent_span_id is not None:
            out.setdefault(span.parent_span_id, []).append(span)
    return out


def _errors(trace: Any, scenario: ServiceErrors, seed: int) -> Any:
    # Seeded by run seed and trace id: a str seed is hashed with SHA-512 (random.seed), not PYTHONHASHSEED.
    rng = random.Random(f"obsgen-scenario:{seed}:{trace.trace_id.hex()}:error:{scenario.service.key}")
    if rng.random() >= scenario.fraction:
        return trace
    names = scenario.service.names
    children = _children(trace.spans)
    failing: set[bytes] = set()
    by_id = {s.span_id: s for s in trace.spans}
    for span in trace.spans:
        if scenario.service.instrumented and span.service in names and span.kind.lower().endswith("server"):
            failing.add(span.span_id)
            parent = by_id.get(span.parent_span_id) if span.parent_span_id else None
            if parent is not None and parent.service not in names:
                failing.add(parent.span_id)  # the caller's client span sees the failure
        elif _calls_into(span, children, scenario.service):
            failing.add(span.span_id)
    if not failing:
        return trace
    spans = tuple(_failed(s) if s.span_id in failing else s for s in trace.spans)
    return dataclasses.replace(trace, spans=spans)


def _failed(span: Any) -> Any:
    attributes = dict(span.attributes)
    if "http.response.status_code" in attributes:
        attributes["http.response.status_code"] = 503
    return dataclasses.replace(span, error=True, attributes=attributes)


def _slow(trace: Any, scenario: SlowCall) -> Any:
    children = _children(trace.spans)
    callers = scenario.caller.names
    calls = [s for s in trace.spans if s.service in callers and _calls_into(s, children, scenario.callee)]
    spans = list(trace.spans)
    for call in sorted(calls, key=lambda s: s.start_ns, reverse=True):
        current = {s.span_id: s for s in spans}
        call = current[call.span_id]
        stretched = {call.span_id} | {c.span_id for c in children.get(call.span_id, ())
                                      if c.service in scenario.callee.names}
        ancestors = _ancestors(call, current)
        out = []
        for span in spans:
            if span.span_id in stretched or span.span_id in ancestors:
                span = dataclasses.replace(span, end_ns=span.end_ns + scenario.delay_ns)
            elif span.start_ns >= call.end_ns:
                span = dataclasses.replace(span, start_ns=span.start_ns + scenario.delay_ns,
                                           end_ns=span.end_ns + scenario.delay_ns)
            out.append(span)
        spans = out
    return dataclasses.replace(trace, spans=tuple(spans)) if calls else trace


def _ancestors(span: Any, by_id: dict[bytes, Any]) -> set[bytes]:
    out: set[bytes] = set()
    parent = span.parent_span_id
    while parent is not None and parent in by_id and parent not in out:
        out.add(parent)
        parent = by_id[parent].parent_span_id
    return out
