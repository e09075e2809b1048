"""The series estimate counts what the rendered configs and rules make Prometheus hold.

The exported side is compared with ``benchmarks/series.py``'s declared series, whose histogram
boundaries are read from the rendered Collector config (issue 15: the estimate once assumed 8
service-graph buckets where the config had 18). The recorded side is compared with a count made from
the rendered rule files' text by a different route: each recording rule's grouping labels, with the
number of values each label takes. ``tests/live/test_series_estimate.py`` checks both against a real
Prometheus head.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.plan.cardinality import estimate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.series import collector_buckets, declared_series  # noqa: E402

# Specs whose span metrics come from the Collector (Tempo-source specs have no span-metrics connector).
SPECS = [ROOT / "specs/shop.yaml", *(ROOT / "tests/specs" / f"{n}.yaml" for n in
                                     ("minimal", "scaleout", "large", "kubernetes"))]


@pytest.fixture(scope="module", params=SPECS, ids=lambda p: p.stem)
def rendered(request: pytest.FixtureRequest) -> tuple[object, dict[str, str], object]:
    result = generate(request.param)
    assert result.ok and result.plan is not None
    files = {a.path: a.text for a in result.artifacts}
    return result.plan, files, estimate(result.plan, [r for f in result.facts for r in f.recordings])


def test_exported_series_use_the_rendered_buckets(rendered: tuple[object, dict[str, str], object]) -> None:
    plan, files, est = rendered
    sm_les, sg_les = collector_buckets(files)
    edges = len(plan.declared_calls)  # type: ignore[attr-defined]
    assert est.service_graph == edges * (2 + 2 * (len(sg_les) + 3))  # type: ignore[attr-defined]
    assert est.exported == declared_series(plan, files).series  # type: ignore[attr-defined]
    assert len(sm_les) == len(sg_les) == len(plan.buckets)  # type: ignore[attr-defined]


def _recorded_from_text(plan: object, files: dict[str, str]) -> int:
    """Series per recording rule from its text: ``sum by (labels)`` -> product of their value counts."""
    svcs = plan.instrumented  # type: ignore[attr-defined]
    sm = plan.span_metrics  # type: ignore[attr-defined]
    endpoints = sum(max(1, len(s.endpoints)) for s in svcs)
    edges = len(plan.declared_calls)  # type: ignore[attr-defined]
    les = len(collector_buckets(files)[0]) + 1
    # per recorded name, the series its rules write: (their slo_window, how many), so a rule over every SLO
    # (rules.slo) that selects some windows counts only the series of those
    by_name: dict[str, list[tuple[str | None, int]]] = {}
    total = 0
    for path, text in sorted(files.items()):
        if not path.startswith("prometheus/rules/"):
            continue
        for group in yaml.safe_load(text)["groups"]:
            for rule in group["rules"]:
                if "record" not in rule:
                    continue
                expr = rule["expr"]
                window = rule.get("labels", {}).get("slo_window")
                match = re.match(r"\s*sum by \(([^)]*)\)", expr)
                if re.fullmatch(r"vector\([0-9.e+-]+\)", expr.strip()):  # a constant: declared call, SLO objective
                    n = 1
                elif match:
                    keys = {k.strip() for k in match.group(1).split(",")}
                    pinned = f'{sm.service_label}="' in expr
                    n = (1 if pinned else len(svcs)) if sm.service_label in keys else 1
                    if sm.span_name_label in keys:
                        n = endpoints
                    if {"client", "server"} <= keys:
                        n = edges
                    if "le" in keys:
                        n *= les
                else:  # ratio, quantile or average of recorded series: as many as the first it reads
                    first = re.search(r"[a-z_]+:[a-z_0-9]+:[a-z_0-9]+(\{[^}]*\})?", expr)
                    assert first, expr
                    only = re.search(r'slo_window=~?"([^"]*)"', first.group(1) or "")
                    read = [(w, k) for w, k in by_name[first.group(0).split("{")[0]]
                            if only is None or w in only.group(1).split("|")]
                    if "histogram_quantile" in expr:
                        read = [(w, k // les) for w, k in read]
                    by_name.setdefault(rule["record"], []).extend(read)
                    total += sum(k for _, k in read)
                    continue
                by_name.setdefault(rule["record"], []).append((window, n))
                total += n
    return total


def test_recorded_series_match_the_rule_texts(rendered: tuple[object, dict[str, str], object]) -> None:
    plan, files, est = rendered
    assert est.recorded == _recorded_from_text(plan, files) > 0  # type: ignore[attr-defined]
