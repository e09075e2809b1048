"""The service graph as the connector reports it: which (client, server) edges can exist, under which names.

The Collector's servicegraph connector (contrib ``connector/servicegraphconnector/connector.go``, v0.159.0)
and Tempo's metrics-generator (``modules/generator/processor/servicegraphs``) pair spans into edges:

* CLIENT span + SERVER span whose parent it is: ``client`` = the caller's ``service.name``, ``server`` = the
  callee's ``service.name``, ``connection_type=""``.
* A CLIENT (or PRODUCER) span carrying one of ``database_name_attributes`` (resource or span attribute,
  first match): a database edge at once, ``server`` = that attribute's value, ``connection_type="database"``
  (``aggregateMetrics``: "A database request will only have one span"). Not the callee's key. Tempo differs
  here (``upsertDatabaseRequest``): its ``server`` is ``peer.service`` when the span has one, then
  ``server.address``, ``network.peer.address``, and the database name only last.
* PRODUCER span + CONSUMER span whose parent it is: ``server`` = the *consumer's* ``service.name``,
  ``connection_type="messaging_system"``. The queue itself is no node.
* A client or producer half that finds no partner within ``store.ttl`` expires into a virtual node
  (``onExpire``; feature gate ``connector.servicegraph.virtualNode`` is stable): ``server`` = the value of the
  first of ``virtual_node_peer_attributes`` the span carries (default ``peer.service, db.name, db.system``),
  else ``"unknown"``; ``connection_type="virtual_node"``.

So a call to ``postgresql`` is reported as ``server="<db.name>"``, a call to an external provider as
``server="<peer.service>"``, and a message to Kafka as producer -> consumer. obsgen renders both attribute
lists explicitly (the same for both sources, so Tempo 3's longer default list cannot rename a node) and
derives every edge name from them and from how the spec says each node is named in spans.
"""

from __future__ import annotations

from typing import NamedTuple

from obsgen.spec.models import Service, ServiceKind, Spec

# Rendered as the connector's database_name_attributes and Tempo's database_name_attributes.
# db.name is the connector's default; db.namespace is its successor (semantic conventions >= 1.26).
DATABASE_NAME_ATTRIBUTES: tuple[str, ...] = ("db.name", "db.namespace")
# Rendered as virtual_node_peer_attributes (Collector) and peer_attributes (Tempo), in priority order:
# the connector's default (peer.service, db.name, db.system) plus messaging.system, which names the
# node of a message no consumer received.
PEER_ATTRIBUTES: tuple[str, ...] = ("peer.service", "db.name", "db.system", "messaging.system")

DIRECT = ""
DATABASE = "database"
MESSAGING = "messaging_system"
VIRTUAL = "virtual_node"


class SpanNaming(NamedTuple):
    """The attribute values callers' client spans carry for one non-service node (None: not set)."""

    db_name: str | None
    db_system: str | None
    peer_service: str | None
    messaging_system: str | None

    def attribute(self, name: str) -> str | None:
        """The value of one span attribute."""
        return {
            "db.name": self.db_name, "db.namespace": self.db_name, "db.system": self.db_system,
            "peer.service": self.peer_service, "messaging.system": self.messaging_system,
        }.get(name)


def span_naming(key: str, service: Service) -> SpanNaming:
    """What callers' spans say about node ``key``, with the spec's defaults applied."""
    kind = service.kind
    db_name = service.db_name
    db_system = service.db_system
    peer_service = service.peer_service
    messaging_system = service.messaging_system
    explicit = any(v is not None for v in (db_name, db_system, peer_service, messaging_system))
    if not explicit:
        name = service.service_name or key
        if kind is ServiceKind.DATABASE:
            db_name = name
        elif kind is ServiceKind.CACHE:
            db_system = name
        elif kind is ServiceKind.EXTERNAL:
            peer_service = name
        elif kind is ServiceKind.QUEUE:
            messaging_system = name
    return SpanNaming(db_name, db_system, peer_service, messaging_system)


class GraphEdge(NamedTuple):
    """One edge the service graph can report: labels ``client``, ``server``, ``connection_type``."""

    client: str
    server: str
    connection_type: str
    caller: str
    callee: str
    via: str | None = None  # the queue, for a messaging edge


def _reported_name(spec: Spec, key: str) -> str:
    return spec.services[key].service_name or key


def node_server_name(key: str, service: Service) -> tuple[str, str] | None:
    """(server label, connection_type) for a client span to non-service node ``key``, None when unnamed."""
    naming = span_naming(key, service)
    for attribute in DATABASE_NAME_ATTRIBUTES:
        value = naming.attribute(attribute)
        if value is not None and service.kind is not ServiceKind.QUEUE:
            return value, DATABASE
    for attribute in PEER_ATTRIBUTES:
        value = naming.attribute(attribute)
        if value is not None:
            return value, VIRTUAL
    return None


def consumers(spec: Spec, queue: str) -> list[str]:
    """Keys of the services that consume ``queue``, in spec order."""
    return [key for key, svc in spec.services.items() if queue in svc.consumes]


def edges_of_call(spec: Spec, caller: str, callee: str) -> list[GraphEdge]:
    """The edges one declared call produces (none when the connector cannot name the callee)."""
    target = spec.services.get(callee)
    if target is None:
        return []
    client = _reported_name(spec, caller)
    if target.kind is ServiceKind.SERVICE:
        return [GraphEdge(client, _reported_name(spec, callee), DIRECT, caller, callee)]
    if target.kind is ServiceKind.QUEUE:
        readers = consumers(spec, callee)
        if readers:
            return [GraphEdge(client, _reported_name(spec, c), MESSAGING, caller, c, callee) for c in readers]
    named = node_server_name(callee, target)
    if named is None:
        return []
    server, connection_type = named
    if connection_type == DATABASE and spec.span_metrics.source == "tempo":
        # Tempo names a database edge by peer.service before the database name (grafana/tempo
        # modules/generator/processor/servicegraphs/servicegraphs.go upsertDatabaseRequest); the connector
        # by the database name only (aggregateMetrics)
        server = span_naming(callee, target).peer_service or server
    return [GraphEdge(client, server, connection_type, caller, callee)]


def graph_edges(spec: Spec) -> tuple[GraphEdge, ...]:
    """Every edge the declared calls produce, once per (client, server), in declaration order."""
    out: dict[tuple[str, str], GraphEdge] = {}
    for caller, svc in spec.services.items():
        for call in svc.calls:
            callee = call if isinstance(call, str) else call.service
            for edge in edges_of_call(spec, caller, callee):
                out.setdefault((edge.client, edge.server), edge)
    return tuple(out.values())
