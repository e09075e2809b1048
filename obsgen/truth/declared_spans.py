"""The spans the topology declares, as the span-metrics and service-graph producers will see them.

Only what the spec says: an instrumented service (kind ``service``) emits a SERVER span per endpoint (named as
the endpoint is written: HTTP ``METHOD /route`` and gRPC ``package.Service/Method`` are the semantic
conventions' span names), a CLIENT span per call (PRODUCER for a call to a queue), carrying the attributes the
callee's spec entry says its callers set (``db_name``, ``db_system``, ``peer_service``, ``messaging_system``,
defaults in ``obsgen.service_graph.span_naming``), and a CONSUMER span per queue it consumes. Uninstrumented
nodes (database, cache, external, queue) emit nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from obsgen.service_graph import span_naming
from obsgen.spec.models import Endpoint, ServiceKind, Spec

SERVER, CLIENT, PRODUCER, CONSUMER = "SERVER", "CLIENT", "PRODUCER", "CONSUMER"
_NODE_ATTRIBUTES = ("db.name", "db.namespace", "db.system", "peer.service", "messaging.system")


@dataclass(frozen=True)
class DeclaredCall:
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


def calls(spec: Spec) -> list[DeclaredCall]:
    """Every declared call of an instrumented service, in spec order."""
    out = []
    for caller in instrumented(spec):
        for item in spec.services[caller].calls:
            callee = item if isinstance(item, str) else item.service
            target = spec.services.get(callee)
            if target is None:
                continue
            if target.kind is ServiceKind.SERVICE:
                out.append(DeclaredCall(caller, service_name(spec, caller), callee, CLIENT, (),
                                        (service_name(spec, callee),)))
                continue
            naming = span_naming(callee, target)
            attributes = tuple((a, v) for a in _NODE_ATTRIBUTES if (v := naming.attribute(a)) is not None)
            if target.kind is ServiceKind.QUEUE:
                readers = tuple(service_name(spec, k) for k in instrumented(spec)
                                if callee in spec.services[k].consumes)
                out.append(DeclaredCall(caller, service_name(spec, caller), callee, PRODUCER, attributes, readers))
            else:
                out.append(DeclaredCall(caller, service_name(spec, caller), callee, CLIENT, attributes, ()))
    return out


def entry_services(spec: Spec) -> list[str]:
    """service.name of the instrumented services no declared call reaches: their SERVER spans are roots."""
    called = {c.callee for c in calls(spec)}
    return [service_name(spec, k) for k in instrumented(spec) if k not in called]


def span_kinds(spec: Spec) -> set[str]:
    """The span kinds the declared spans have."""
    kinds = {SERVER} if instrumented(spec) else set()
    kinds |= {c.kind for c in calls(spec)}
    if any(spec.services[k].consumes for k in instrumented(spec)):
        kinds.add(CONSUMER)
    return kinds
