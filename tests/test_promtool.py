"""The rendered rules pass Prometheus' own tools: ``promtool check rules`` on every rule file and
``promtool test rules`` on every generated unit-test file, for every example spec and both
span-metrics sources. A missing promtool fails in CI (the ``promtool`` fixture).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from obsgen import output
from obsgen.generate import generate
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]

# Names that are hostile to every sink the rules reach: Go templates ({{ }}), PromQL strings
# (quotes, backslashes), YAML (": ", "#"), plus a 7d window, a 99.95th percentile, a threshold on
# the top bucket (its pNN alert is skipped) and a queue callee (no no-traffic alert).
HOSTILE_SPEC = r"""
name: hostile
span_metrics:
  source: tempo
services:
  api:
    service_name: 'Pay {{ $labels.x }} "svc" \ #1: ünï {'
    team: 'ops {{ .Value }}'
    endpoints:
      - 'GET /items/{id}'
      - POST /orders
    calls:
      - db
      - service: 'worker'
        endpoint: consume
      - bus
    slos:
      - name: api-fast
        endpoint: 'GET /items/{id}'
        latency: {threshold: 300ms, percentile: 99.95}
        availability: 99.5
        window: 7d
      - name: api-slowest
        latency: {threshold: 32768ms, percentile: 90}
        window: 1d
  worker:
    endpoints: [consume]
    slos:
      - name: worker-availability
        availability: 90
  db: {kind: database, service_name: "db}}"}
  bus: {kind: queue}
alerting:
  runbook_base_url: 'https://runbooks.example.com/{{team}}'
  labels:
    team: 'a"b'
"""


def _render(spec: Path, out: Path) -> Path:
    result = generate(spec, targets=["rules"])
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    output.write(out, result.artifacts)
    return out / "prometheus"


def _promtool_ok(promtool: str, *args: str, cwd: Path) -> str:
    proc = subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=600)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-8000:]
    assert "FAILED" not in text and "duplicate" not in text, text[-8000:]
    return text


def _check_all(promtool: str, prom: Path) -> None:
    rules = sorted(str(p.relative_to(prom)) for p in (prom / "rules").glob("*.yaml"))
    tests = sorted(str(p.relative_to(prom)) for p in (prom / "tests").glob("*.yaml"))
    assert rules and tests
    # every rule file with alerts has a test file; the recordings and the declared series have none (the
    # shared alerts' tests feed the declared series they need: rules.declared)
    assert {Path(t).stem for t in tests} == {Path(r).stem for r in rules} - {"recordings", "declared-calls",
                                                                              "declared-services"}
    _promtool_ok(promtool, "check", "rules", *rules, cwd=prom)
    text = _promtool_ok(promtool, "test", "rules", *tests, cwd=prom)
    assert text.count("SUCCESS") == len(tests)


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_promtool_accepts_rules_and_their_tests_pass(promtool: str, spec: Path, tmp_path: Path) -> None:
    _check_all(promtool, _render(spec, tmp_path / "out"))


def test_both_span_metrics_sources_are_covered() -> None:
    import yaml

    sources = {(yaml.safe_load(s.read_text()).get("span_metrics") or {}).get("source", "collector") for s in SPECS}
    assert sources == {"collector", "tempo"}


def test_hostile_names_survive_promtool(promtool: str, tmp_path: Path) -> None:
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE_SPEC)
    prom = _render(spec, tmp_path / "out")
    _check_all(promtool, prom)
    # the shared alerts name the service by label; promtool has just proven these expansions, and the link's
    # query value is Go's url.QueryEscape of the hostile name (written out here, not computed by obsgen)
    tests = yaml.safe_load((prom / "tests" / "services.yaml").read_text())["tests"]
    hostile = 'Pay {{ $labels.x }} "svc" \\ #1: ünï {'
    annotations = [a["exp_annotations"] for t in tests for c in t["alert_rule_test"] for a in c["exp_alerts"]
                   if a["exp_labels"].get("service", a["exp_labels"].get("client")) == hostile]
    assert annotations
    escaped = "Pay+%7B%7B+%24labels.x+%7D%7D+%22svc%22+%5C+%231%3A+%C3%BCn%C3%AF+%7B"
    assert all(a["dashboard_url"].endswith("?var-service=" + escaped) for a in annotations)
    assert any(a["summary"] == f"No span metrics from {hostile}" for a in annotations)


def test_promtool_catches_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    """The generated tests are not vacuous: a changed threshold makes them fail."""
    prom = _render(ROOT / "specs" / "shop.yaml", tmp_path / "out")
    rule = prom / "rules" / "services.yaml"
    rule.write_text(rule.read_text().replace("> 0.05\n", "> 0.5\n"))
    proc = subprocess.run([promtool, "test", "rules", "tests/services.yaml"], cwd=prom,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "ServiceHighErrorRatio" in proc.stdout + proc.stderr
