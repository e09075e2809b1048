"""Issue 16: rules and panels name service-graph edges as the connector reports them.

The expected names are computed here from the *rendered* connector config (its database_name_attributes and
virtual_node_peer_attributes) and a model of connector.go's pairing, written independently of
obsgen.plan.service_graph: a client span with a database-name attribute is a database edge named by its value; a
producer pairs with its consumer; an unanswered client span becomes a virtual node named by the first peer
attribute it carries (contrib connector/servicegraphconnector/connector.go v0.159.0, aggregateMetrics and
onExpire).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from obsgen.targets.collector import target as collector
from obsgen.targets.prometheus import target as rules
from obsgen.targets.tempo import target as tempo
from tests.truth.helpers import diagnostics, make_plan

RIDE = """
    name: rides
    services:
      gateway:
        endpoints: [{route: POST /rides, critical: true}]
        calls: [dispatch, kafka, maps]
      dispatch:
        endpoints: [dispatch.v1.Dispatch/Match]
        calls: [pg, cache]
        consumes: [kafka]
      pricing:
        endpoints: [POST /price]
        consumes: [kafka]
      kafka: {kind: queue, messaging_system: kafka}
      pg: {kind: database, db_name: rides, db_system: postgresql}
      cache: {kind: cache, db_system: redis}
      maps: {kind: external, peer_service: maps-api}
"""

# What each node's client spans carry, as the spec above says (attribute -> value).
SPANS = {
    "pg": {"db.name": "rides", "db.system": "postgresql"},
    "cache": {"db.system": "redis"},
    "maps": {"peer.service": "maps-api"},
    "kafka": {"messaging.system": "kafka"},
}


def _connector(plan) -> dict:
    doc = yaml.safe_load(collector.render(plan)[0].text)
    return next(v for k, v in doc["connectors"].items() if k.startswith("service"))


def _expected_edges(cfg: dict) -> set[tuple[str, str]]:
    db_attrs, peer_attrs = cfg["database_name_attributes"], cfg["virtual_node_peer_attributes"]
    edges = {("gateway", "dispatch")}
    for consumer in ("dispatch", "pricing"):  # producer span + consumer span whose parent it is
        edges.add(("gateway", consumer))
    for client, node in (("gateway", "maps"), ("dispatch", "pg"), ("dispatch", "cache")):
        attrs = SPANS[node]
        db = next((attrs[a] for a in db_attrs if a in attrs), None)
        if db is not None:
            edges.add((client, db))
        else:
            edges.add((client, next((attrs[a] for a in peer_attrs if a in attrs), "unknown")))
    return edges


def _rule_edges(plan) -> set[tuple[str, str]]:
    out = set()
    for art in rules.render(plan):
        if "prometheus/rules/" not in art.path:
            continue
        for group in yaml.safe_load(art.text)["groups"]:
            for rule in group["rules"]:
                labels = rule.get("labels", {})
                if "client" in labels and "server" in labels:
                    out.add((labels["client"], labels["server"]))
    return out


def test_rule_edges_are_the_edges_the_rendered_connector_reports(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, RIDE)
    expected = _expected_edges(_connector(plan))
    assert expected == {("gateway", "dispatch"), ("gateway", "pricing"), ("gateway", "maps-api"),
                        ("dispatch", "rides"), ("dispatch", "redis")}
    assert _rule_edges(plan) == expected
    assert set(plan.declared_calls) == expected
    # never the queue, the database's key or the external node's key
    servers = {s for _, s in _rule_edges(plan)}
    assert not servers & {"kafka", "pg", "cache", "maps"}


def test_tempo_generator_uses_the_same_attribute_lists(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, RIDE + "    span_metrics: {source: tempo}\n")
    sg = yaml.safe_load(tempo.render_text(plan))["metrics_generator"]["processor"]["service_graphs"]
    cfg = _connector(make_plan(tmp_path, RIDE, "collector.yaml"))
    assert sg["database_name_attributes"] == cfg["database_name_attributes"]
    assert sg["peer_attributes"] == cfg["virtual_node_peer_attributes"]
    assert _rule_edges(plan) == _expected_edges(cfg)


def test_dashboard_downstream_panels_name_the_reported_servers(tmp_path: Path) -> None:
    from obsgen.plan import naming
    from obsgen.targets.grafana.dashboards import target as dashboards

    plan = make_plan(tmp_path, RIDE)
    # the templated service dashboard keeps the declared calls by the recorded declared-call series, whose
    # server label is the node as the service graph reports it
    text = next(a.text for a in dashboards.render(plan) if a.path.endswith("-service.json"))
    assert f"and on (client, server) {naming.DECLARED_CALL}" in text
    servers = {server for client, server in plan.declared_calls if client == "dispatch"}
    assert {"rides", "redis"} <= servers and not {"pg", "cache"} & servers


def test_queue_without_consumer_warns_and_names_the_virtual_node(tmp_path: Path) -> None:
    spec = """
        services:
          api: {calls: [events]}
          events: {kind: queue, messaging_system: kafka}
    """
    assert ("OBS312", "services.events", "warning") in diagnostics(tmp_path, spec)
    assert make_plan(tmp_path, spec).declared_calls == (("api", "kafka"),)


def test_node_naming_fields_only_where_they_apply(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, """
        services:
          api: {db_name: x, consumes: [db]}
          db: {kind: database, messaging_system: kafka}
    """)
    assert ("OBS202", "services.api.db_name", "error") in found
    assert ("OBS202", "services.db.messaging_system", "error") in found
    assert ("OBS202", "services.api.consumes[0]", "error") in found


def test_defaults_name_nodes_as_documented(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        services:
          api: {calls: [orders-db, redis, stripe]}
          orders-db: {kind: database}
          redis: {kind: cache}
          stripe: {kind: external}
    """)
    edges = {(e.server, e.connection_type) for e in plan.graph_edges}
    assert edges == {("orders-db", "database"), ("redis", "virtual_node"), ("stripe", "virtual_node")}
