"""The spans the topology declares, as the span-metrics and service-graph producers will see them.

Only what the spec says: an instrumented service (kind ``service``) emits a SERVER span per endpoint (named as
the endpoint is written: HTTP ``METHOD /route`` and gRPC ``package.Service/Method`` are the semantic
conventions' span names), a CLIENT span per call (PRODUCER for a call to a queue), carrying the attributes the
callee's spec entry says its callers set (``db_name``, ``db_system``, ``peer_service``, ``messaging_system``,
defaults in ``obsgen.plan.service_graph.span_naming``), and a CONSUMER span per queue it consumes. Uninstrumented
nodes (database, cache, external, queue) emit nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from obsgen.plan.service_graph import span_naming
from obsgen.spec.models import Endpoint, ServiceKind, Spec

SERVER, CLIENT, PRODUCER, CONSUMER = "SERVER", "CLIENT", "PRODUCER", "CONSUMER"
_NODE_ATTRIBUTES = ("db.name", "db.namespace", "db.system", "peer.service", "messaging.system")


class DeclaredCall(NamedTuple):
    """One client/producer span of a declared call, and who (if anyone) answers it with a child span."""

    caller: str  # spec key of the caller
    client: str  # its service.name
    callee: str  # spec key of the callee
    kind: str  # CLIENT or PRODUCER
    attributes: tuple[tuple[str, str], ...]  # span attributes the callee's entry declares
    answered_by: tuple[str, ...]  # service.name of each service whose SERVER/CONSUMER span is its child


def service_name(spec: Spec, key: str) -> str:
    """The service.name a node's own spans carry."""
    return spec.services[key].service_name or key


def instrumented(spec: Spec) -> list[str]:
    """Keys of the services that emit spans."""
    return [k for k, s in spec.services.items() if s.kind is ServiceKind.SERVICE]


def endpoint_span_names(spec: Spec, key: str) -> list[str]:
    """Names of the SERVER spans one service declares."""
    return [(e.route if isinstance(e, Endpoint) else e).strip() for e in spec.services[key].endpoints]


class Declared(NamedTuple):
    """Every span the topology declares, worked out once per check."""

    services: tuple[str, ...]
    """service.name of each instrumented service."""
    span_names: dict[str, tuple[str, ...]]
    """service.name -> its SERVER span names."""
    calls: tuple[DeclaredCall, ...]
    entries: tuple[str, ...]
    """service.name of the instrumented services no declared call reaches: their SERVER spans are roots."""
    kinds: frozenset[str]


def declare(spec: Spec) -> Declared:
    """The declared spans of ``spec``."""
    keys = instrumented(spec)
    readers: dict[str, list[str]] = {}
    for k in keys:
        for queue in spec.services[k].consumes:
            readers.setdefault(queue, []).append(service_name(spec, k))
    calls: list[DeclaredCall] = []
    for caller in keys:
        client = service_name(spec, caller)
        for item in spec.services[caller].calls:
            callee = item if isinstance(item, str) else item.service
            target = spec.services.get(callee)
            if target is None:
                continue
            if target.kind is ServiceKind.SERVICE:
                calls.append(DeclaredCall(caller, client, callee, CLIENT, (), (service_name(spec, callee),)))
                continue
            naming = span_naming(callee, target)
            attributes = tuple((a, v) for a in _NODE_ATTRIBUTES if (v := naming.attribute(a)) is not None)
            if target.kind is ServiceKind.QUEUE:
                calls.append(DeclaredCall(caller, client, callee, PRODUCER, attributes,
                                          tuple(readers.get(callee, ()))))
            else:
                calls.append(DeclaredCall(caller, client, callee, CLIENT, attributes, ()))
    called = {c.callee for c in calls}
    kinds = ({SERVER} if keys else set()) | {c.kind for c in calls} | ({CONSUMER} if readers else set())
    return Declared(
        services=tuple(service_name(spec, k) for k in keys),
        span_names={service_name(spec, k): tuple(endpoint_span_names(spec, k)) for k in keys},
        calls=tuple(calls),
        entries=tuple(service_name(spec, k) for k in keys if k not in called),
        kinds=frozenset(kinds),
    )
