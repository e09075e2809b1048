"""Which alerts exist (SRE workbook: burn-rate alerts where an SLO exists, threshold alerts only where
none does) and the minimum-traffic guard of every ratio alert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.plan import naming
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
RATIO_ALERTS = {naming.ALERTS.service_error_ratio, naming.ALERTS.edge_failing, naming.ALERTS.slo_availability_burn,
                naming.ALERTS.slo_latency_burn}


def _alerts(spec: Path) -> dict[str, list[dict]]:
    result = generate(spec, targets=["rules"])
    assert result.ok
    out: dict[str, list[dict]] = {}
    for a in result.artifacts:
        if "/rules/" in a.path:
            out[a.path] = [r for g in yaml.safe_load(a.text)["groups"] for r in g["rules"] if "alert" in r]
    return out


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_no_threshold_alert_beside_the_burn_rate_alerts_of_an_slo(spec: Path) -> None:
    for path, rules in _alerts(spec).items():
        assert "ServiceHighLatency" not in {r["alert"] for r in rules}, path


def test_error_ratio_alert_only_where_no_service_wide_availability_slo() -> None:
    result = generate(ROOT / "specs" / "shop.yaml", targets=["rules"])
    declared = yaml.safe_load(next(a.text for a in result.artifacts
                                   if a.path == "prometheus/rules/declared-services.yaml"))
    covered = {r["labels"]["service_name"]: r["labels"]["obsgen_error_ratio_alert"]
               for g in declared["groups"] for r in g["rules"]}
    # payments-service has a service-wide availability SLO: burn rate only
    assert covered["payments-service"] == "false"
    # frontend's SLO covers one endpoint only: the service-wide error ratio stays
    assert covered["frontend"] == "true"
    # and the one shared rule reads that label
    ratio = [r for r in _alerts(ROOT / "specs" / "shop.yaml")["prometheus/rules/services.yaml"]
             if r["alert"] == naming.ALERTS.service_error_ratio]
    assert len(ratio) == 1 and 'obsgen_error_ratio_alert="true"' in ratio[0]["expr"]


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_every_ratio_alert_needs_traffic(spec: Path) -> None:
    for rules in _alerts(spec).values():
        for r in rules:
            if r["alert"] in RATIO_ALERTS:
                # the guard closes the condition, before the team join of the shared rules
                condition = r["expr"].rsplit("\n)\n* on (", 1)[0]
                tail = re.split(r"\n *and on \(", condition)
                assert len(tail) >= 2 and re.search(r":rate5m(\{[^}]*\})? >= 0\.1$", tail[-1]), r["expr"]


def _spec(tmp_path: Path, alerting: str) -> Path:
    spec = tmp_path / "s.yaml"
    spec.write_text("services:\n  api:\n    endpoints: [GET /a]\n    calls: [db]\n    slos:\n"
                    "      - {name: api-fast, latency: {threshold: 250ms}}\n  db: {kind: database}\n" + alerting)
    return spec


def test_the_guard_is_configurable_and_can_be_turned_off(tmp_path: Path) -> None:
    custom = [r for rs in _alerts(_spec(tmp_path, "alerting: {min_request_rate: 2.5}\n")).values() for r in rs
              if r["alert"] in RATIO_ALERTS]
    assert custom and all(r["expr"].rsplit("\n)\n* on (", 1)[0].endswith(" >= 2.5") for r in custom)
    off = [r for rs in _alerts(_spec(tmp_path, "alerting: {min_request_rate: 0}\n")).values() for r in rs
           if r["alert"] in RATIO_ALERTS]
    assert off and all(not re.search(r"requests:rate5m(\{[^}]*\})? >=", r["expr"]) for r in off)


def test_every_ratio_alert_has_a_silent_low_traffic_test(tmp_path: Path) -> None:
    result = generate(_spec(tmp_path, ""), targets=["rules"])
    low = set()
    for stem in ("services", "slos"):
        tests = yaml.safe_load(next(a.text for a in result.artifacts if a.path == f"prometheus/tests/{stem}.yaml"))
        low |= {t["name"].split(":")[0] for t in tests["tests"] if "too little traffic" in t["name"]}
        for t in tests["tests"]:
            if "too little traffic" in t["name"]:
                assert all(c["exp_alerts"] == [] for c in t["alert_rule_test"])
    assert low == {naming.ALERTS.service_error_ratio, naming.ALERTS.edge_failing, naming.ALERTS.slo_latency_burn}
