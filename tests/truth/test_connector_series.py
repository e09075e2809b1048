"""Issue 16: no rule or panel reads a series or label value the rendered producer config cannot produce (OBS707).

For every example spec under both span-metrics sources, ``render`` runs the check (``obsgen.check.truth``) and must
find nothing; the check must have read the rendered producer config and walked real selectors (it cannot pass by
seeing nothing); and a rendered producer config changed the way drift changes it makes ``render`` fail at the
spec item responsible.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from obsgen.check import crosscheck
from obsgen.check.truth.connector_series import space_of
from obsgen.generate import Result, generate, parse_artifact
from tests.truth.helpers import diagnostics
from tests.truth.sources import CASES, IDS, with_source

_SG_NAMES = ("client", "server")


def _render(spec: Path, source: str, tmp_path: Path) -> Result:
    result = generate(with_source(spec, source, tmp_path))
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    return result


@pytest.mark.parametrize(("spec", "source"), CASES, ids=IDS)
def test_every_selector_reads_a_series_the_rendered_config_produces(spec: Path, source: str, tmp_path: Path) -> None:
    result = _render(spec, source, tmp_path)
    assert [d.format() for d in result.diagnostics if d.code == "OBS707"] == []
    assert result.plan is not None
    space = space_of([f.connector for f in result.facts if f.connector], result.plan.spec)
    # the space comes from the producer the spec configured (names differ between the two)
    calls = "traces_span_metrics_calls_total" if source == "collector" else "traces_spanmetrics_calls_total"
    assert calls in space.metrics
    assert "traces_service_graph_request_total" in space.metrics
    # not vacuous: rules and panels do read connector series, and every node name they use is one the
    # rendered config produces for the declared spans
    selectors = [s for f in result.facts for q in f.queries for s in q.selectors if s.metric_name in space.metrics]
    assert selectors
    for sel in selectors:
        for m in sel.matchers:
            if m.op == "=" and m.name in (*_SG_NAMES, "service_name", "service", "span_name", "span_kind"):
                assert m.value in space.values[m.name], (sel, m)
            if m.name != "__name__":
                assert m.name in space.metrics[sel.metric_name] or "*" in space.metrics[sel.metric_name]


def _broken(result: Result, path: str, breaks: Callable[[dict], None]) -> list[str]:
    assert result.plan is not None
    facts = []
    for art in result.artifacts:
        if art.path.startswith("prometheus/tests/") or art.path.endswith(".md") or art.path.endswith("manifest.json"):
            continue
        doc = parse_artifact(art)
        if art.path == path:
            doc = copy.deepcopy(doc)
            breaks(doc)  # type: ignore[arg-type]
        facts.append(crosscheck.extract(result.plan, art, doc))
    diags = crosscheck.check(result.plan, facts, result.loaded, "spec.yaml")
    return [f"{d.code} {d.path} {d.message}" for d in diags]


RIDE_TEXT = """
name: rides
services:
  gateway:
    endpoints: [POST /rides]
    calls: [dispatch, kafka, maps]
  dispatch:
    endpoints: [dispatch.v1.Dispatch/Match]
    calls: [pg, cache]
    consumes: [kafka]
  kafka: {kind: queue, messaging_system: kafka}
  pg: {kind: database, db_name: rides, db_system: postgresql}
  cache: {kind: cache, db_system: redis}
  maps: {kind: external, peer_service: maps-api}
"""


@pytest.fixture
def ride(tmp_path: Path) -> Path:
    path = tmp_path / "rides.yaml"
    path.write_text(RIDE_TEXT)
    return path


def test_a_connector_naming_databases_otherwise_fails_the_render_at_the_database(ride: Path) -> None:
    result = generate(ride)
    assert result.ok

    def by_system(doc: dict) -> None:
        doc["connectors"]["service_graph"]["database_name_attributes"] = ["db.system"]

    found = _broken(result, "otel-collector/config.yaml", by_system)
    # the rules and panels name the database 'rides' (db.name); this connector would report 'postgresql'
    assert any(f.startswith("OBS707 services.pg ") and "server='rides'" in f for f in found), found
    assert not any("server='redis'" in f for f in found)  # db.system names the cache either way


def test_a_namespace_change_is_a_series_no_one_writes(ride: Path) -> None:
    result = generate(ride)

    def renamed(doc: dict) -> None:
        doc["connectors"]["span_metrics"]["namespace"] = "spans"

    found = _broken(result, "otel-collector/config.yaml", renamed)
    assert any(f.startswith("OBS707 span_metrics.source ") and "'traces_span_metrics_calls_total'" in f
               for f in found), found


def test_an_excluded_dimension_is_a_label_no_one_writes(ride: Path) -> None:
    result = generate(ride)

    def excluded(doc: dict) -> None:
        doc["connectors"]["span_metrics"]["exclude_dimensions"] = ["span.kind"]

    found = _broken(result, "otel-collector/config.yaml", excluded)
    assert any("label 'span_kind' is never on 'traces_span_metrics_calls_total'" in f for f in found), found


def test_tempo_without_the_service_graph_processor_produces_no_edges(tmp_path: Path, ride: Path) -> None:
    path = with_source(ride, "tempo", tmp_path)
    result = generate(path)
    assert result.ok

    def span_metrics_only(doc: dict) -> None:
        doc["overrides"]["defaults"]["metrics_generator"]["processors"] = ["span-metrics"]

    found = _broken(result, "tempo/tempo.yaml", span_metrics_only)
    assert any("'traces_service_graph_request_total' is not a series" in f for f in found), found


@pytest.mark.parametrize("source", ["collector", "tempo"])
def test_a_database_with_peer_service_is_named_as_each_source_names_it(tmp_path: Path, source: str) -> None:
    """The connector names a database edge by db.name; Tempo by peer.service first (upsertDatabaseRequest)."""
    path = tmp_path / "db.yaml"
    path.write_text(f"""
name: dbpeer
span_metrics: {{source: {source}}}
services:
  api: {{endpoints: [GET /a], calls: [pg]}}
  pg: {{kind: database, db_name: orders, peer_service: orders-pg}}
""")
    result = generate(path)
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
    assert result.plan is not None
    expected = "orders" if source == "collector" else "orders-pg"
    assert [e.server for e in result.plan.graph_edges] == [expected]


def test_validate_does_not_need_a_render(tmp_path: Path) -> None:
    """The check belongs to render (it reads rendered files); validate of a good spec stays quiet."""
    assert [c for c, _, _ in diagnostics(tmp_path, RIDE_TEXT) if c == "OBS707"] == []


def test_tempo_without_peer_attributes_never_reports_the_external_node(tmp_path: Path, ride: Path) -> None:
    """Tempo drops an unanswered client span that carries no peer attribute (onExpire): no 'maps-api' node."""
    result = generate(with_source(ride, "tempo", tmp_path))
    assert result.ok

    def no_peers(doc: dict) -> None:
        doc["metrics_generator"]["processor"]["service_graphs"]["peer_attributes"] = []

    found = _broken(result, "tempo/tempo.yaml", no_peers)
    assert any(f.startswith("OBS707 services.maps ") and "server='maps-api'" in f for f in found), found
    assert not any("server='rides'" in f for f in found)  # the database edge needs no peer attribute


def test_a_topology_without_instrumented_services_still_renders(tmp_path: Path) -> None:
    """Rules over every SERVER span read nothing here, but ask for nothing the connector cannot write."""
    path = tmp_path / "db-only.yaml"
    path.write_text("services:\n  a: {kind: database}\n")
    result = generate(path)
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
