"""Issue 16: every alert of every example spec, under both span-metrics sources, has a generated promtool test
that makes it fire and one that keeps it silent on healthy traffic, and promtool passes them.

Read from the rendered rule and test files only. "Healthy traffic" is told from the test's own input series:
it has some, and it is not the firing test's traffic scaled down (every series growing at most half as fast),
so a silence that only the minimum-traffic guard or an empty input explains does not count. promtool then proves
each expectation; the spec's own source is run by tests/test_promtool.py, the other source here.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from obsgen import output
from obsgen.generate import generate
from obsgen.plan import naming
from obsgen.targets.prometheus.rules import slo_meta
from tests.truth.sources import CASES, IDS, with_source

# an SLO burn-rate rule covers one SLO shape (rules.slo): its shape labels tell its rules apart
_IDENTITY = {naming.SEVERITY_LABEL, naming.SLO_LABEL, naming.SLO_KIND_LABEL, slo_meta.WINDOW_LABEL,
             slo_meta.OBJECTIVE_LABEL}
# promtool's expanding notation "start+stepxN" (also "start-stepxN"); "vxN" repeats a value (no growth)
_STEP = re.compile(r"(-?[0-9.e+]+|_|stale)([+-][0-9.e]+)x([0-9]+)")


def _steps(test: dict) -> dict[str, float]:
    """series -> how much it grows per step."""
    return {s["series"]: sum(abs(float(m.group(2))) for m in _STEP.finditer(s["values"])) for s in test["input_series"]}


def _scaled_down(silent: dict, firing: dict) -> bool:
    """True when ``silent`` is ``firing`` with every series growing at most half as fast (and something still
    growing): the same failure at a trickle, silenced by the minimum-traffic guard, not healthy traffic."""
    quiet, loud = _steps(silent), _steps(firing)
    return (set(quiet) == set(loud) and sum(quiet.values()) > 0
            and all(quiet[k] <= 0.5 * loud[k] for k in quiet))


def _minutes(text: str) -> int:
    return int(text[:-1]) * {"m": 1, "h": 60, "s": 0}.get(text[-1], 1)


def coverage_gaps(docs: dict[str, dict]) -> list[str]:
    """Alerts (name + identity labels) of the rendered rule files without a firing test or a healthy silent one."""
    gaps = []
    for path, doc in sorted(docs.items()):
        if "/rules/" not in path:
            continue
        tests = docs.get(path.replace("/rules/", "/tests/"), {"tests": []})["tests"]
        for rule in (r for g in doc["groups"] for r in g["rules"] if "alert" in r):
            labels = {k: v for k, v in rule.get("labels", {}).items() if k in _IDENTITY}.items()

            def expects(check: dict, labels: object = labels) -> bool:
                return any(labels <= e["exp_labels"].items() for e in check["exp_alerts"])  # type: ignore[operator]

            firing, silent = [], []
            for test in tests:
                mine = [c for c in test["alert_rule_test"] if c["alertname"] == rule["alert"]]
                if not mine:
                    continue
                last = max(mine, key=lambda c: _minutes(c["eval_time"]))
                (firing if expects(last) else silent).append(test)
            if not firing:
                gaps.append(f"{path}: {rule['alert']} {dict(labels)}: no test makes it fire")
                continue
            healthy = [t for t in silent if t["input_series"] and not any(_scaled_down(t, f) for f in firing)]
            if not healthy:
                gaps.append(f"{path}: {rule['alert']} {dict(labels)}: no test keeps it silent on healthy traffic "
                            f"(silent only in: {[t['name'] for t in silent]})")
    return gaps


def _render(spec: Path, source: str, tmp_path: Path) -> tuple[Path, dict[str, dict]]:
    result = generate(with_source(spec, source, tmp_path / "spec"), targets=["rules"])
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    out = tmp_path / "out"
    output.write(out, result.artifacts)
    return out / "prometheus", {a.path: yaml.safe_load(a.text) for a in result.artifacts if a.path.endswith(".yaml")}


@pytest.mark.parametrize(("spec", "source"), CASES, ids=IDS)
def test_every_alert_fires_in_one_test_and_stays_silent_on_healthy_traffic_in_another(
        spec: Path, source: str, tmp_path: Path) -> None:
    _, docs = _render(spec, source, tmp_path)
    alerts = [r for p, d in docs.items() if "/rules/" in p for g in d.get("groups", []) for r in g["rules"]
              if "alert" in r]
    assert alerts
    assert coverage_gaps(docs) == []


def _own_source(spec: Path) -> str:
    return (yaml.safe_load(spec.read_text()).get("span_metrics") or {}).get("source", "collector")


OTHER = [(spec, source) for spec, source in CASES if source != _own_source(spec)]


@pytest.mark.parametrize(("spec", "source"), OTHER, ids=[f"{s.stem}-{src}" for s, src in OTHER])
def test_promtool_passes_the_tests_under_the_other_source(
        promtool: str, spec: Path, source: str, tmp_path: Path) -> None:
    prom, _ = _render(spec, source, tmp_path)
    tests = sorted(str(p.relative_to(prom)) for p in (prom / "tests").glob("*.yaml"))
    assert tests
    proc = subprocess.run([promtool, "test", "rules", *tests], cwd=prom, capture_output=True, text=True, timeout=900)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "FAILED" not in text, text[-8000:]
    assert text.count("SUCCESS") == len(tests)


def test_a_missing_healthy_test_is_a_gap() -> None:
    """The coverage check can fail: a silence explained only by too little traffic is not a healthy test."""
    rule = {"alert": "HighErrors", "expr": "x > 1", "labels": {"severity": "page"}}
    series = [{"series": "calls_total", "values": "0+100x60"}]
    fires = {"name": "HighErrors: failing", "input_series": series,
             "alert_rule_test": [{"eval_time": "20m", "alertname": "HighErrors",
                                  "exp_alerts": [{"exp_labels": {"severity": "page"}}]}]}
    trickle = {"name": "HighErrors: too little traffic", "input_series": [{"series": "calls_total",
                                                                            "values": "0+1x60"}],
               "alert_rule_test": [{"eval_time": "20m", "alertname": "HighErrors", "exp_alerts": []}]}
    healthy = {**trickle, "name": "HighErrors: healthy", "input_series": series}
    docs = {"prometheus/rules/a.yaml": {"groups": [{"rules": [rule]}]},
            "prometheus/tests/a.yaml": {"tests": [fires, trickle]}}
    assert len(coverage_gaps(docs)) == 1
    docs["prometheus/tests/a.yaml"] = {"tests": [fires, trickle, healthy]}
    assert coverage_gaps(docs) == []
    docs["prometheus/tests/a.yaml"] = {"tests": [trickle, healthy]}
    assert coverage_gaps(docs) == ["prometheus/rules/a.yaml: HighErrors {'severity': 'page'}: no test makes it fire"]
