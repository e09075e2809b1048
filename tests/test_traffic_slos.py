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
    checkout's 0.1%; the provider's slow calls break the checkout and payments latency objectives. Inventory
    (p99 200 ms against a 250 ms objective) keeps its SLO."""
    loaded, spec, _ = load_spec(ROOT / "specs" / "shop.yaml", "specs/shop.yaml")
    assert spec is not None and loaded is not None
    found = {d.path: d for d in traffic_slos.check(spec, loaded)}
    assert set(found) == {
        "services.frontend.slos[0].availability", "services.main-service.slos[0].availability",
        "services.main-service.slos[1].latency", "services.payments-service.slos[0].availability",
        "services.payments-service.slos[1].latency"}
    payments = found["services.payments-service.slos[0].availability"]
    assert payments.severity is Severity.WARNING and payments.code == "OBS426"
    assert (payments.file, payments.line) == ("specs/shop.yaml", loaded.where(
        ("services", "payments-service", "slos", 0, "availability"))[0])
    # payments fails on its own 0.2%, or through the provider: 1%, 15% for the 15% of traces from BR
    assert ("breaches SLO payments-availability: 3.29% of payments-service's requests fail (computed exactly from "
            "the model), the objective allows 0.50%") in payments.message
    # checkout: its own 0.2%, four more 0.2% calls and payments' 3.29%; the cart adds frontend's 0.2%
    assert "4.26% of main-service's POST /checkout requests fail (computed exactly" in \
        found["services.main-service.slos[0].availability"].message
    assert "4.45% of frontend's POST /cart/checkout requests fail (computed exactly" in \
        found["services.frontend.slos[0].availability"].message
    checkout = found["services.main-service.slos[1].latency"]
    assert "longer than 1s (estimated from 500 simulated requests, +-0.0" in checkout.message
    assert "allows 1.00%" in checkout.message


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
    # 5% of back's visits fail, every GET /shop visits back, and front itself never fails: exactly 5%
    assert ("5.00% of front's GET /shop requests fail (computed exactly from the model), the objective allows "
            "0.10%") in finding.message


def test_a_call_made_by_some_requests_fails_only_those(tmp_path: Path) -> None:
    text = TWO_TIER.format(back_errors=5, front=99.9, threshold="400ms").replace(
        "requests_per_second:",
        "endpoints:\n    front: {GET /shop: [{service: back, percent: 50}]}\n  requests_per_second:")
    [finding] = findings(tmp_path, text)
    assert "2.50% of front's GET /shop requests fail" in finding.message


def test_a_span_that_calls_nothing_has_an_exact_latency_ratio(tmp_path: Path) -> None:
    """back's time is one log-normal draw (median 100 ms, p99 200 ms): over 150 ms with probability
    1 - Phi(ln 1.5 / (ln 2 / 2.3263)) = 8.68%, up to the generator's table of 2^16 cells."""
    [finding] = findings(tmp_path, TWO_TIER.format(back_errors=0, front=99.9, threshold="150ms"))
    assert ("8.68% of back's requests take longer than 150ms (computed exactly from the model), the objective "
            "allows 1.00%") in finding.message


def test_a_model_on_its_objective_is_not_a_breach(tmp_path: Path) -> None:
    """1% failures against a 99% objective: on the budget (exactly), not over it."""
    assert findings(tmp_path, TWO_TIER.format(back_errors=1, front=99, threshold="400ms")) == []
    assert findings(tmp_path, TWO_TIER.format(back_errors=1.01, front=99, threshold="400ms")) != []


def test_latency_noise_does_not_raise_a_breach(tmp_path: Path) -> None:
    """front's GET /shop (its own 10 ms, p99 100 ms, plus the network) calls back (100 ms, p99 200 ms): 20.5%
    of them take longer than 150 ms, estimated (+-0.8%). Against an objective allowing 20.5%, an estimate a
    little over it is within three standard errors: no finding; allowing 17%, a breach."""
    text = TWO_TIER.format(back_errors=0, front=99.9, threshold="150ms").replace(
        "{name: front-availability, endpoint: GET /shop, availability: 99.9}",
        "{name: front-latency, endpoint: GET /shop, latency: {threshold: 150ms, percentile: PCT}}")
    assert [d.path for d in findings(tmp_path, text.replace("PCT", "79.5"))] == ["services.back.slos[0].latency"]
    [front, _] = findings(tmp_path, text.replace("PCT", "83"))
    assert front.path == "services.front.slos[0].latency"
    assert "20.53% of front's GET /shop requests take longer than 150ms (estimated from 500 simulated requests, " \
           "+-0.77%)" in front.message
