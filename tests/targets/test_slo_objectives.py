"""SLO objectives that could never alert: fractions written for percents (OBS511) and objectives too low
for the SRE workbook's burn factors (OBS512, capped tiers), and the coverage every alert must have: a
generated promtool test that makes it fire and one that keeps it silent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate, plan_spec
from obsgen.plan import naming
from obsgen.spec.durations import parse_duration
from obsgen.targets.prometheus.rules import slo_meta
from tests.conftest import ROOT
from tests.test_promtool import HOSTILE_SPEC

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


def _diags(tmp_path: Path, text: str) -> list:
    spec = tmp_path / "s.yaml"
    spec.write_text(text, encoding="utf-8")
    return plan_spec(spec).diagnostics


@pytest.mark.parametrize(("objective", "line", "col", "path", "hint"), [
    ("availability: 0.995", 5, 33, "services.api.slos[0].availability", "did you mean 99.5?"),
    ("latency: {threshold: 250ms, percentile: 0.99}", 5, 59, "services.api.slos[0].latency.percentile",
     "did you mean 99?"),
])
def test_a_fraction_objective_is_rejected_with_the_percent_in_the_hint(
        tmp_path: Path, objective: str, line: int, col: int, path: str, hint: str) -> None:
    text = f"services:\n  api:\n    endpoints: [GET /a]\n    slos:\n      - {{name: a, {objective}}}\n"
    diags = _diags(tmp_path, text)
    [d] = [d for d in diags if d.code == "OBS511"]
    assert d.is_error and (d.line, d.column, d.path) == (line, col, path)
    assert hint in d.hint


def test_percent_objectives_are_not_fractions(tmp_path: Path) -> None:
    diags = _diags(tmp_path, "services:\n  api:\n    slos:\n      - {name: a, availability: 99.5, "
                             "latency: {threshold: 250ms, percentile: 95}}\n")
    assert [d.code for d in diags] == []


def test_a_low_objective_warns_that_the_page_tier_is_capped(tmp_path: Path) -> None:
    diags = _diags(tmp_path, "services:\n  api:\n    slos:\n      - {name: a, availability: 90}\n")
    [d] = [d for d in diags if d.code == "OBS512"]
    assert not d.is_error and "14.4x" in d.message and "10x" in d.message
    # 93.1% still lets 14.4x fire (14.4 x 6.9% < 100%): no warning
    assert not [d for d in _diags(tmp_path, "services:\n  api:\n    slos:\n      - {name: a, availability: 93.1}\n")
                if d.code == "OBS512"]


def test_every_tier_of_a_low_objective_can_fire() -> None:
    budget = 0.1
    for tier in naming.burn_tiers(parse_duration("30d")):
        op, threshold = naming.tier_threshold(tier, budget)
        assert threshold <= 1 and (op == ">=" or threshold < 1)
    page = [naming.tier_threshold(t, budget) for t in naming.burn_tiers(parse_duration("30d")) if t.factor == 14.4]
    assert page == [(">=", 1.0)]


def _rendered(spec: Path) -> dict[str, dict]:
    result = generate(spec, targets=["rules"])
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    return {a.path: yaml.safe_load(a.text) for a in result.artifacts}


# a burn-rate rule covers one SLO shape (rules.slo): its shape labels tell its rules apart
_IDENTITY = {naming.SEVERITY_LABEL, naming.SLO_LABEL, naming.SLO_KIND_LABEL, slo_meta.WINDOW_LABEL,
             slo_meta.OBJECTIVE_LABEL}


def _coverage_gaps(docs: dict[str, dict]) -> list[str]:
    """Alerts (name + static labels) without a test expecting them to fire, or without one expecting none."""
    gaps = []
    for path, doc in sorted(docs.items()):
        if "/rules/" not in path:
            continue
        tests = docs.get(path.replace("/rules/", "/tests/"), {"tests": []})["tests"]
        checks = [c for t in tests for c in t["alert_rule_test"]]
        for rule in (r for g in doc["groups"] for r in g["rules"] if "alert" in r):
            mine = [c for c in checks if c["alertname"] == rule["alert"]]
            # the labels that tell rules of one name apart (others are Go templates, expanded in exp_labels)
            labels = {k: v for k, v in rule.get("labels", {}).items() if k in _IDENTITY}.items()
            fires = any(labels <= e["exp_labels"].items() for c in mine for e in c["exp_alerts"])
            silent = any(not any(labels <= e["exp_labels"].items() for e in c["exp_alerts"]) and c["eval_time"] == max(
                (x["eval_time"] for x in mine), key=lambda t: int(t[:-1])) for c in mine)
            if not fires or not silent:
                gaps.append(f"{path}: {rule['alert']} {dict(labels)} fires={fires} silent={silent}")
    return gaps


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_every_alert_has_a_firing_and_a_silent_test(spec: Path) -> None:
    assert _coverage_gaps(_rendered(spec)) == []


def test_every_alert_of_the_hostile_spec_has_a_firing_and_a_silent_test(tmp_path: Path) -> None:
    """The hostile spec has a 90% objective: its page tier must be able to fire (capped), and be tested."""
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE_SPEC)
    docs = _rendered(spec)
    assert _coverage_gaps(docs) == []
    slos = docs["prometheus/rules/slos.yaml"]
    # worker-availability's shape: 90% availability over the default 30d
    pages = [r for g in slos["groups"] for r in g["rules"]
             if r.get("labels", {}).get("severity") == "page" and r["alert"] == naming.ALERTS.slo_availability_burn
             and r["labels"]["slo_objective"] == "0.9" and r["labels"]["slo_window"] == "30d"]
    assert len(pages) == 1 and ">= 1\n" in pages[0]["expr"] and "14.4 *" not in pages[0]["expr"]
