"""Cross-artifact checks: each one fires when a rendered artifact disagrees with the others or the spec.

The shop's real artifacts are parsed, one document is broken the way drift breaks it in practice,
and the check must name the artifact and point at the spec line the user would change.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from obsgen.check import crosscheck
from obsgen.diagnostics import Diagnostic
from obsgen.generate import Result, generate, parse_artifact

SHOP = Path(__file__).resolve().parent.parent / "specs" / "shop.yaml"
OVERVIEW = "grafana/dashboards/shop-overview.json"
DATASOURCES = "grafana/provisioning/datasources/datasources.yaml"
RECORDINGS = "prometheus/rules/recordings.yaml"


@pytest.fixture(scope="module")
def shop() -> tuple[Result, dict[str, object]]:
    result = generate(SHOP)
    assert result.ok, result.diagnostics
    docs = {a.path: parse_artifact(a) for a in result.artifacts if not a.path.startswith("prometheus/tests/")}
    return result, docs


def run(shop: tuple[Result, dict[str, object]], path: str = "",
        breaks: Callable[[dict], None] = lambda doc: None) -> list[Diagnostic]:
    """Cross-check the shop with the document at ``path`` changed by ``breaks``."""
    result, docs = shop
    assert result.plan is not None
    facts = []
    for art in result.artifacts:
        if art.path not in docs:
            continue
        doc = docs[art.path]
        if art.path == path:
            doc = copy.deepcopy(doc)
            breaks(doc)  # type: ignore[arg-type]
        facts.append(crosscheck.extract(result.plan, art, doc))
    return crosscheck.check(result.plan, facts, result.loaded, "shop.yaml")


def first_target(dashboard: dict) -> dict:
    return next(p for p in dashboard["panels"] if p.get("targets"))["targets"][0]


def test_the_shop_is_consistent(shop: tuple[Result, dict[str, object]]) -> None:
    assert run(shop) == []


def test_a_metric_no_source_writes(shop: tuple[Result, dict[str, object]]) -> None:
    def breaks(doc: dict) -> None:
        first_target(doc)["expr"] = 'sum(rate(calls_total{service_name="frontend"}[5m]))'

    (diag,) = run(shop, OVERVIEW, breaks)
    assert diag.code == "OBS700"
    assert "'calls_total' is not produced" in diag.message and OVERVIEW in diag.message
    assert diag.path == "span_metrics.source" and diag.line > 0


def test_a_label_the_metric_does_not_carry(shop: tuple[Result, dict[str, object]]) -> None:
    result, _ = shop
    calls = result.plan.span_metrics.calls  # type: ignore[union-attr]

    def breaks(doc: dict) -> None:
        first_target(doc)["expr"] = f'sum(rate({calls}{{customer_tier="gold"}}[5m]))'

    (diag,) = run(shop, OVERVIEW, breaks)
    assert diag.code == "OBS701" and "'customer_tier'" in diag.message


def test_a_service_not_in_the_topology(shop: tuple[Result, dict[str, object]]) -> None:
    result, _ = shop
    sm = result.plan.span_metrics  # type: ignore[union-attr]

    def breaks(doc: dict) -> None:
        first_target(doc)["expr"] = f'sum(rate({sm.calls}{{{sm.service_label}="checkout-v2"}}[5m]))'

    (diag,) = run(shop, OVERVIEW, breaks)
    assert diag.code == "OBS706" and "'checkout-v2'" in diag.message


def test_a_recording_rule_reads_what_the_source_writes(shop: tuple[Result, dict[str, object]]) -> None:
    def breaks(doc: dict) -> None:
        rule = next(r for g in doc["groups"] for r in g["rules"] if "record" in r)
        rule["expr"] = "sum by (service_name) (rate(traces_spanmetrics_calls_total_typo[5m]))"

    codes = {d.code for d in run(shop, RECORDINGS, breaks)}
    assert "OBS700" in codes


def test_promql_that_does_not_parse(shop: tuple[Result, dict[str, object]]) -> None:
    def breaks(doc: dict) -> None:
        first_target(doc)["expr"] = "sum(rate(x[5m]"

    (diag,) = run(shop, OVERVIEW, breaks)
    assert diag.code == "OBS705" and "does not parse" in diag.message


def test_a_datasource_uid_nobody_provisions(shop: tuple[Result, dict[str, object]]) -> None:
    def breaks(doc: dict) -> None:
        first_target(doc)["datasource"] = {"type": "prometheus", "uid": "prom-old"}

    diags = run(shop, OVERVIEW, breaks)
    assert [d.code for d in diags] == ["OBS702"]
    assert "'prom-old'" in diags[0].message and diags[0].path == "backends"


def test_a_link_to_a_dashboard_obsgen_did_not_render(shop: tuple[Result, dict[str, object]]) -> None:
    def breaks(doc: dict) -> None:
        doc["links"] = [{"title": "old", "type": "link", "url": "/d/shop-svc-removed/old"}]

    (diag,) = run(shop, OVERVIEW, breaks)
    assert diag.code == "OBS703" and "'shop-svc-removed'" in diag.message


def test_an_exemplar_label_the_source_does_not_write(shop: tuple[Result, dict[str, object]]) -> None:
    def breaks(doc: dict) -> None:
        for ds in doc["datasources"]:
            for dest in ds.get("jsonData", {}).get("exemplarTraceIdDestinations", []):
                dest["name"] = "traceID"

    (diag,) = run(shop, DATASOURCES, breaks)
    assert diag.code == "OBS704" and "'traceID'" in diag.message


def test_an_slo_threshold_that_is_no_bucket_boundary(shop: tuple[Result, dict[str, object]]) -> None:
    result, _ = shop
    assert result.plan is not None and result.plan.spec.span_metrics.source == "collector"

    def breaks(doc: dict) -> None:
        for cid, conn in doc["connectors"].items():
            if cid.split("/")[0] in ("spanmetrics", "span_metrics"):
                explicit = conn["histogram"]["explicit"]
                explicit["buckets"] = [b for b in explicit["buckets"] if b != "1s"]

    diags = run(shop, "otel-collector/config.yaml", breaks)
    assert [d.code for d in diags] == ["OBS500"]
    assert "checkout-latency" in diags[0].message and diags[0].path.endswith("latency.threshold")
