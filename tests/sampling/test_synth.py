"""The synthetic trace generator: deterministic, well-formed, and following the traffic model."""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from obsgen.generate import load_spec
from obsgen.sampling.synth import Scenario, SynthModel, SynthTrace, generate_traces
from obsgen.spec.models import Spec

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "specs" / "shop.yaml"


def load(path: Path) -> Spec:
    _, spec, diags = load_spec(path)
    assert spec is not None, diags
    return spec


def fingerprint(traces: list[SynthTrace]) -> str:
    digest = hashlib.sha256()
    for trace in traces:
        digest.update(repr((trace.trace_id, trace.start_ns, trace.entry)).encode())
        for span in trace.spans:
            digest.update(repr((span.span_id, span.parent_span_id, span.service, span.name, span.kind,
                                span.start_ns, span.end_ns, span.error, sorted(span.attributes.items()))).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def shop() -> Spec:
    return load(SHOP)


@pytest.fixture(scope="module")
def shop_traces(shop: Spec) -> list[SynthTrace]:
    return list(generate_traces(shop, seed=7, duration_s=30))


def test_same_seed_same_traces_across_hash_seeds() -> None:
    code = ("from pathlib import Path; from obsgen.generate import load_spec; "
            "from obsgen.sampling.synth import generate_traces; from tests.sampling.test_synth import fingerprint; "
            f"_, s, _ = load_spec(Path({str(SHOP)!r})); "
            "print(fingerprint(list(generate_traces(s, seed=3, duration_s=3))))")
    outs = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=True)
        outs.add(run.stdout.strip())
    assert len(outs) == 1


def test_different_seeds_differ_and_seconds_are_independent(shop: Spec) -> None:
    a = list(generate_traces(shop, seed=1, duration_s=2))
    b = list(generate_traces(shop, seed=2, duration_s=2))
    assert fingerprint(a) != fingerprint(b)
    # second 1 is the same whether the run is 2 or 5 seconds long, and whether drawn alone
    longer = [t for t in generate_traces(shop, seed=1, duration_s=5) if 1e9 <= t.start_ns < 2e9]
    model = SynthModel(shop)
    alone = [model.materialize(d) for d in model.draws(1, 5, first_second=1, last_second=2)]
    assert fingerprint(longer) == fingerprint(alone) == fingerprint([t for t in a if t.start_ns >= 1e9])


def test_traces_are_well_formed(shop_traces: list[SynthTrace]) -> None:
    starts = [t.start_ns for t in shop_traces]
    assert starts == sorted(starts) and starts[0] >= 0 and starts[-1] < 30e9
    assert len({t.trace_id for t in shop_traces}) == len(shop_traces)
    for trace in shop_traces:
        assert len(trace.trace_id) == 16 and trace.trace_id != bytes(16)
        seen: set[bytes] = set()
        assert trace.spans[0].parent_span_id is None and trace.spans[0].start_ns == trace.start_ns
        for span in trace.spans:
            assert len(span.span_id) == 8 and span.span_id != bytes(8) and span.span_id not in seen
            assert span.parent_span_id is None or span.parent_span_id in seen  # parents first
            seen.add(span.span_id)
            assert span.kind in {"SERVER", "CLIENT", "PRODUCER", "CONSUMER", "INTERNAL"}
            assert span.end_ns > span.start_ns


def test_rates_follow_the_model(shop_traces: list[SynthTrace]) -> None:
    entries = Counter(t.entry for t in shop_traces)
    total = sum(entries.values())
    assert abs(total / 30 - 300) < 15  # 40 + 200 + 20 + 15 + 5 + 20 per second
    assert abs(entries["frontend GET /"] / total - 200 / 300) < 0.03
    assert abs(entries["frontend POST /cart/checkout"] / total - 40 / 300) < 0.02


def test_checkout_trace_has_the_attributes_instrumentation_sets(shop_traces: list[SynthTrace]) -> None:
    checkout = next(t for t in shop_traces if t.entry == "frontend POST /cart/checkout")
    by_service = Counter(s.service for s in checkout.spans)
    assert by_service == {"frontend": 2, "main-service": 6, "inventory-system": 1, "payments-service": 2,
                          "crm-system": 1}
    root = checkout.spans[0]
    assert (root.name, root.kind) == ("POST /cart/checkout", "SERVER")
    assert root.attributes["http.route"] == "/cart/checkout"
    assert root.attributes["http.request.method"] == "POST"
    assert root.attributes["http.response.status_code"] in (200, 500)
    db = next(s for s in checkout.spans if s.attributes.get("db.system") == "postgresql")
    assert (db.kind, db.attributes["db.name"]) == ("CLIENT", "shop")
    provider = next(s for s in checkout.spans if s.attributes.get("peer.service") == "payment-provider")
    assert provider.kind == "CLIENT" and provider.service == "payments-service"
    payments = next(s for s in checkout.spans if s.service == "payments-service" and s.kind == "SERVER")
    main = next(s for s in checkout.spans if s.service == "main-service" and s.kind == "SERVER")
    assert payments.attributes["country"] == main.attributes["user.country"]  # same_as
    assert payments.attributes["payment.method"] in {"credit_card", "debit_card", "paypal", "pix"}
    assert isinstance(main.attributes["transaction.amount"], int)


def test_errors_propagate_to_the_root_and_br_fails_more(shop_traces: list[SynthTrace]) -> None:
    failed_provider = {"BR": [0, 0], "other": [0, 0]}
    for trace in shop_traces:
        call = next((s for s in trace.spans if s.attributes.get("peer.service") == "payment-provider"), None)
        if call is None:
            continue
        group = "BR" if call.attributes["country"] == "BR" else "other"
        failed_provider[group][0] += call.error
        failed_provider[group][1] += 1
        if call.error:  # every ancestor of a failed synchronous call failed too
            by_id = {s.span_id: s for s in trace.spans}
            parent = by_id.get(call.parent_span_id or b"")
            while parent is not None:
                assert parent.error
                parent = by_id.get(parent.parent_span_id or b"")
    br_rate = failed_provider["BR"][0] / failed_provider["BR"][1]
    other_rate = failed_provider["other"][0] / failed_provider["other"][1]
    assert 0.08 < br_rate < 0.25 and other_rate < 0.04


def test_scenario_degrades_from_its_start(shop: Spec) -> None:
    scenario = Scenario.parse("errors:inventory-system=100,slow:main-service->postgresql=20,from=2")
    traces = list(generate_traces(shop, seed=5, duration_s=4, scenario=scenario))
    checkouts = [t for t in traces if t.entry == "frontend POST /cart/checkout"]
    before = [t for t in checkouts if t.start_ns < 2e9]
    after = [t for t in checkouts if t.start_ns >= 2e9]
    assert before and after
    assert all(t.spans[0].error for t in after)
    assert sum(t.spans[0].error for t in before) < len(before) / 4

    def db_ms(group: list[SynthTrace]) -> float:
        spans = [s for t in group for s in t.spans if s.attributes.get("db.system") == "postgresql"]
        return sorted(s.end_ns - s.start_ns for s in spans)[len(spans) // 2] / 1e6

    assert db_ms(after) > 8 * db_ms(before)


@pytest.mark.parametrize("text", ["errors:x", "slow:a=0", "errors:a=101", "boom:a=1", "slow:a=nan"])
def test_scenario_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        Scenario.parse(text)


def test_scenario_unknown_service(shop: Spec) -> None:
    with pytest.raises(ValueError, match="nope"):
        SynthModel(shop, Scenario.parse("errors:nope=5"))


def test_spec_without_traffic_simulates_defaults() -> None:
    spec = load(ROOT / "tests" / "specs" / "minimal.yaml")
    traces = list(generate_traces(spec, seed=1, duration_s=2))
    assert traces
    expected = spec.sampling.expected_traces_per_second
    assert abs(len(traces) / 2 - expected) < 0.3 * expected


def test_rate_override_keeps_shares(shop: Spec) -> None:
    traces = list(generate_traces(shop, seed=1, duration_s=10, rate=30))
    assert 200 < len(traces) < 400


def test_normal_quantiles_are_normaldist_inv_cdf_cell_by_cell() -> None:
    """The quantile computed per draw through ``_statistics._normal_dist_inv_cdf`` is the public
    ``NormalDist().inv_cdf``, float for float, in every one of the 2^16 cells (the seeded traces, and so
    sampling-report.md, depend on every cell)."""
    from statistics import NormalDist

    from obsgen.sampling import synth

    cells = synth._NORMAL_CELLS
    assert cells == 1 << 16
    inv = NormalDist().inv_cdf
    quantiles = [synth.normal_quantile(i) for i in range(cells)]
    assert quantiles == [inv((i + 0.5) / cells) for i in range(cells)]
    # cell_latency writes the quantile out: with mu 0 and sigma 1 it is exp of that quantile, in every cell
    standard = synth._Dist(0.0, 1.0)
    assert [synth.cell_latency(standard, i) for i in range(cells)] == [max(1, int(math.exp(z))) for z in quantiles]
