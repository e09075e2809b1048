"""OBS426: the spec's traffic model against its own SLOs, with the synthetic generator's semantics."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.generate import load_spec
from obsgen.spec import traffic_slos
from tests.conftest import ROOT

TWO_TIER = """services:
  front:
    endpoints: [GET /shop, GET /health]
    calls: [back]
    slos:
      - {{name: front-availability, endpoint: GET /shop, availability: {front}}}
  back:
    endpoints: [POST /work]
    slos:
      - {{name: back-latency, latency: {{threshold: {threshold}, percentile: 99}}}}
traffic:
  requests_per_second:
    front: {{GET /shop: 50, GET /health: 50}}
  errors:
    percent: 0
    services: {{back: {back_errors}}}
  latency:
    services:
      back: {{median: 100ms, p99: 200ms}}
"""


def findings(tmp_path: Path, text: str) -> list[Diagnostic]:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(text, encoding="utf-8")
    loaded, spec, diagnostics = load_spec(spec_file, "spec.yaml")
    assert spec is not None and loaded is not None and not [d for d in diagnostics if d.is_error], diagnostics
    return traffic_slos.check(spec, loaded)


def test_shop_model_breaches_the_slos_the_brief_makes_it_breach() -> None:
    """The brief's BR payment failures (15% of 15% of payments) fail more than payments' 0.5% and, propagated,
    checkout's 0.1%; inventory's p99 of 300 ms is slower than its 250 ms objective."""
    loaded, spec, _ = load_spec(ROOT / "specs" / "shop.yaml", "specs/shop.yaml")
    assert spec is not None and loaded is not None
    found = {d.path: d for d in traffic_slos.check(spec, loaded)}
    assert set(found) == {
        "services.frontend.slos[0].availability", "services.main-service.slos[0].availability",
        "services.main-service.slos[1].latency", "services.payments-service.slos[0].availability",
        "services.payments-service.slos[1].latency", "services.inventory-system.slos[0].latency"}
    payments = found["services.payments-service.slos[0].availability"]
    assert payments.severity is Severity.WARNING and payments.code == "OBS426"
    assert (payments.file, payments.line) == ("specs/shop.yaml", loaded.where(
        ("services", "payments-service", "slos", 0, "availability"))[0])
    assert "breaches SLO payments-availability" in payments.message and "the objective allows 0.50%" in payments.message
    inventory = found["services.inventory-system.slos[0].latency"]
    assert "longer than 250ms" in inventory.message and "allows 1.00%" in inventory.message


@pytest.mark.parametrize(("back_errors", "front", "threshold", "breached"), [
    # back fails 5%: its failure fails front's GET /shop too (a synchronous call chain), over front's 0.1%
    (5, 99.9, "400ms", {"services.front.slos[0].availability"}),
    (5, 90, "400ms", set()),
    # back: median 100 ms, p99 200 ms -> ~9% over 150 ms, ~0.01% over 400 ms
    (0, 99.9, "150ms", {"services.back.slos[0].latency"}),
    (0, 99.9, "400ms", set()),
])
def test_breaches_follow_the_generators_semantics(tmp_path: Path, back_errors: float, front: float, threshold: str,
                                                  breached: set[str]) -> None:
    found = findings(tmp_path, TWO_TIER.format(back_errors=back_errors, front=front, threshold=threshold))
    assert {d.path for d in found} == breached


def test_the_numbers_are_in_the_message(tmp_path: Path) -> None:
    [finding] = findings(tmp_path, TWO_TIER.format(back_errors=5, front=99.9, threshold="400ms"))
    ratio = float(finding.message.split(": ", 1)[1].split("%", 1)[0])
    assert 4.0 < ratio < 6.0, finding.message  # 5% of back's visits fail, and every GET /shop visits back
    assert "of front's GET /shop requests fail" in finding.message and "allows 0.10%" in finding.message


def test_a_model_near_its_objective_is_not_flagged_by_noise(tmp_path: Path) -> None:
    """1% failures against a 99% objective: on the budget, not over it by three standard errors."""
    assert findings(tmp_path, TWO_TIER.format(back_errors=1, front=99, threshold="400ms")) == []


def test_a_spec_without_a_traffic_model_is_not_checked(tmp_path: Path) -> None:
    text = TWO_TIER.format(back_errors=5, front=99.9, threshold="150ms").split("traffic:")[0]
    assert findings(tmp_path, text) == []
