"""simulate and explain: end to end on the rendered configs, and the simulator's shortcuts against the plain engine."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from obsgen.cli import main
from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.sampling import simulate as sim
from obsgen.sampling.engine import Decision, TraceCtx, decide, read_config
from obsgen.sampling.otlp import TraceSizer, draw_views, to_otlp_json, trace_size, view
from obsgen.sampling.report import to_json
from obsgen.sampling.synth import Scenario, SynthModel, generate_traces
from obsgen.targets.collector.target import tail_sampling_data

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "specs" / "shop.yaml"
NS = 1_000_000_000


def plan_of(path: Path) -> Plan:
    result = plan_spec(path)
    assert result.plan is not None, result.diagnostics
    return result.plan


@pytest.fixture(scope="module")
def shop() -> tuple[Plan, Mapping[str, Any]]:
    plan = plan_of(SHOP)
    return plan, tail_sampling_data(plan)[1]


def run(plan: Plan, block: Mapping[str, Any], duration: float = 20, **kw: Any) -> sim.SimResult:
    return sim.simulate(plan.spec, block, seed=3, duration_s=duration, jobs=1, spec_name=plan.name, **kw)


def test_shop_guarantees(shop: tuple[Plan, Mapping[str, Any]]) -> None:
    plan, block = shop
    result = run(plan, block)
    by_name = {g.name: g for g in result.guarantees}
    critical = by_name["critical-endpoint traces"]
    assert critical.total > 0 and critical.kept == critical.total
    errors = by_name["error traces"]
    # the only error traces lost are health checks, which the drop policy drops before any keep policy
    assert set(errors.lost) <= {"dropped by drop-health-checks"}
    assert 0.2 < result.kept_fraction < 0.6
    assert result.kept_span_fraction > result.kept_fraction  # the kept traces are the big ones
    assert result.evicted == 0 and result.num_traces_needed < result.num_traces_configured
    assert all(share <= 1 for share in result.composite_max_share.values())


def test_simulation_is_deterministic_and_parallel_equals_serial(shop: tuple[Plan, Mapping[str, Any]],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    plan, block = shop
    serial = to_json(run(plan, block, duration=12))
    assert serial == to_json(run(plan, block, duration=12))
    monkeypatch.setattr(sim, "PARALLEL_MIN_TRACES", 0)
    parallel = sim.simulate(plan.spec, block, seed=3, duration_s=12, jobs=2, spec_name=plan.name)
    assert to_json(parallel) == serial


def test_shortcuts_equal_the_plain_engine(shop: tuple[Plan, Mapping[str, Any]]) -> None:
    """Stateless results cached per trace shape and precomputed in workers give what evaluating every policy on
    the materialized spans gives, in the same order of decisions."""
    plan, block = shop
    result = run(plan, block, duration=8)
    config = read_config(block)
    wait = max(1, int(config.decision_wait_s))
    after_root = int(config.decision_wait_after_root_s)
    ordered = []
    for trace in generate_traces(plan.spec, seed=3, duration_s=8):
        first = min(s.end_ns for s in trace.spans)
        second = min(first // NS + wait + 1, trace.spans[0].end_ns // NS + after_root + 1)
        ordered.append((second, trace.trace_id, trace))
    ordered.sort(key=lambda item: (item[0], item[1]))
    kept = spans_kept = 0
    hits = dict.fromkeys((p.name for p in config.policies), 0)
    for second, _, trace in ordered:
        views = [view(s) for s in trace.spans]
        ctx = TraceCtx(trace.trace_id, len(views), trace_size(trace.spans), float(second), lambda v=views: v)
        outcome = decide(config, ctx)
        for name, d in outcome.per_policy:
            hits[name] += d in (Decision.SAMPLED, Decision.DROPPED)
        if outcome.decision is Decision.SAMPLED:
            kept += 1
            spans_kept += len(views)
    assert (result.kept_traces, result.kept_spans) == (kept, spans_kept)
    assert {p.name: p.hits for p in result.policies} == hits


COLLIDING_MIX = """\
    http.response.status_code:
      services: [payments-service, frontend]
      values: {"402": 30}
"""


@pytest.mark.parametrize("case", ["shop", "odds-mixed", "mix-overrides-status"])
def test_trace_sizer_equals_the_encoder(case: str, tmp_path: Path) -> None:
    """``TraceSizer`` (span fields memoized per template, parent and failure, mix attributes per value) gives
    what ``trace_size`` gives on the materialized spans, for every trace of a run with failures raised (so both
    status codes occur) and attribute mixes; also for a part of a trace, as the simulator sizes the spans that
    arrive before a decision. The third case has a mix that sets the status code attribute of HTTP spans (its
    value replaces the template's): those spans are encoded whole."""
    path = ROOT / "tests" / "sampling" / "data" / "odds-mixed.yaml" if case == "odds-mixed" else SHOP
    if case == "mix-overrides-status":
        text = SHOP.read_text()
        anchor = '    app.debug:\n      values: {"true": 0.5}\n'
        assert anchor in text
        path = tmp_path / "shop.yaml"
        path.write_text(text.replace(anchor, anchor + COLLIDING_MIX, 1))
    spec = plan_of(path).spec
    model = SynthModel(spec, Scenario.parse(",".join(f"errors:{key}=40" for key in list(spec.services)[:3])))
    sizer = TraceSizer(model)
    draws = list(model.draws(5, 6.0))
    assert len(draws) > 300 and len({d.signature() for d in draws}) > 50
    for draw in draws:
        assert sizer.size(draw) == trace_size(model.materialize(draw).spans)
        head = draw._replace(spans=draw.spans[:1])
        assert sizer.size(head) == trace_size(model.materialize(head).spans)
    assert any(s[4] for d in draws for s in d.spans) and any(not s[4] for d in draws for s in d.spans)
    assert (None in sizer._bases.values()) == (case == "mix-overrides-status")


@pytest.mark.parametrize("spec_path", [SHOP, ROOT / "tests" / "sampling" / "data" / "odds-mixed.yaml"])
def test_draw_views_equal_the_views_of_materialized_spans(spec_path: Path) -> None:
    """The simulator's views of a trace shape, made without the spans, are the views of the spans ``materialize``
    makes, on every trace of a run with failures raised, and on a part of a trace."""
    spec = plan_of(spec_path).spec
    model = SynthModel(spec, Scenario.parse(",".join(f"errors:{key}=40" for key in list(spec.services)[:3])))
    draws = list(model.draws(2, 4.0))
    assert len(draws) > 200
    for draw in draws:
        assert draw_views(model, draw) == [view(s) for s in model.materialize(draw).spans]
        head = draw._replace(spans=draw.spans[:1])
        assert draw_views(model, head) == [view(s) for s in model.materialize(head).spans]


def test_num_traces_too_small_evicts(shop: tuple[Plan, Mapping[str, Any]]) -> None:
    plan, block = shop
    small = copy.deepcopy(dict(block))
    small["num_traces"] = 50
    result = run(plan, small, duration=10)
    assert result.evicted > 0
    assert any("evicted" in reason for g in result.guarantees for reason in g.lost)


LATE_SPEC = """\
services:
  api:
    endpoints: [POST /orders]
    calls: [orders]
  orders: {kind: queue}
  worker:
    consumes: [orders]
sampling:
  decision_wait: 1s
  policies:
    - {name: keep-all, always_sample: true}
traffic:
  requests_per_second:
    api: {POST /orders: 50}
  latency:
    services:
      worker: {median: 1500ms, p99: 4s}
"""


def test_late_spans_follow_the_cache_or_start_new_traces(tmp_path: Path) -> None:
    spec = tmp_path / "late.yaml"
    spec.write_text(LATE_SPEC)
    plan = plan_of(spec)
    block = tail_sampling_data(plan)[1]
    result = sim.simulate(plan.spec, block, seed=1, duration_s=10, jobs=1)
    assert result.late_spans > 0 and result.late_spans_followed == result.late_spans
    assert result.sampled_cache_needed >= 1
    no_cache = copy.deepcopy(dict(block))
    no_cache["decision_cache"] = {"sampled_cache_size": 0, "non_sampled_cache_size": 0}
    again = sim.simulate(plan.spec, no_cache, seed=1, duration_s=10, jobs=1)
    assert again.late_spans_new_trace == again.late_spans > 0
    assert again.kept_spans < result.kept_spans


def test_cli_simulate_text_and_json() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["sampling", "simulate", str(SHOP), "--duration", "5"])
    assert text.exit_code == 0, text.output
    assert "kept" in text.output and "critical-endpoint traces" in text.output
    out = runner.invoke(main, ["sampling", "simulate", str(SHOP), "--duration", "5", "--format", "json"])
    data = json.loads(out.output)
    assert data["kept"]["traces"] <= data["traffic"]["traces"]
    assert data["policies"][0]["name"] == "drop-health-checks"  # drop policies are evaluated first


def test_cli_simulate_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(main, ["sampling", "simulate", str(SHOP), "--duration", "2", "--scenario", "errors:nope=5"])
    assert bad.exit_code == 2 and "nope" in bad.output
    invalid = tmp_path / "bad.yaml"
    invalid.write_text("services:\n  api: {calls: [missing]}\n")
    assert runner.invoke(main, ["sampling", "simulate", str(invalid)]).exit_code == 1


def test_scenario_raises_the_kept_share(shop: tuple[Plan, Mapping[str, Any]]) -> None:
    plan, block = shop
    calm = run(plan, block, duration=10)
    storm = run(plan, block, duration=10, scenario=Scenario.parse("errors:frontend=50"))
    assert storm.kept_fraction > calm.kept_fraction
    assert storm.scenario == "errors:frontend=50"


def _trace_file(tmp_path: Path, tempo: bool = False) -> tuple[Path, bool]:
    plan = plan_of(SHOP)
    trace = next(t for t in generate_traces(plan.spec, seed=9, duration_s=5) if t.entry == "frontend GET /health")
    doc = to_otlp_json(trace, epoch_ns=1_700_000_000 * NS)
    if tempo:  # Tempo's API: "batches", ids in base64
        for rs in doc["resourceSpans"]:  # type: ignore[union-attr]
            for span in rs["scopeSpans"][0]["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
        doc = {"batches": doc["resourceSpans"]}
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(doc))
    return path, trace.spans[0].attributes["http.route"] == "/health"


@pytest.mark.parametrize("tempo", [False, True])
def test_cli_explain_health_check_is_dropped(tmp_path: Path, tempo: bool) -> None:
    path, _ = _trace_file(tmp_path, tempo)
    runner = CliRunner()
    out = runner.invoke(main, ["sampling", "explain", str(SHOP), str(path)])
    assert out.exit_code == 0, out.output
    assert "drop-health-checks (drop): dropped" in out.output
    assert "decision: DROPPED" in out.output
    data = json.loads(runner.invoke(main, ["sampling", "explain", str(SHOP), str(path), "--format", "json"]).output)
    assert data["decision"] == "dropped" and data["policy"] == "drop-health-checks"
    assert data["steps"][0]["sub_policies"][0]["decision"] == "sampled"
    assert "errors-always" in data["not_evaluated"]  # a Dropped result stops the evaluation


def test_cli_explain_rejects_bad_files(tmp_path: Path) -> None:
    runner = CliRunner()
    junk = tmp_path / "junk.json"
    junk.write_text('{"resourceSpans": []}')
    out = runner.invoke(main, ["sampling", "explain", str(SHOP), str(junk)])
    assert out.exit_code == 2 and "no spans" in out.output
    missing = runner.invoke(main, ["sampling", "explain", str(SHOP), str(tmp_path / "none.json")])
    assert missing.exit_code == 2


def test_a_decision_that_cuts_a_trace_below_a_late_parent(shop: tuple[Plan, Mapping[str, Any]]) -> None:
    """decision_wait 1s on the shop: some decisions keep a span whose parent arrives after them. Making the
    policies' views read the cut trace's parent positions, which are not renumbered, raised IndexError."""
    plan, block = shop
    short = copy.deepcopy(dict(block))
    short["decision_wait"] = "1s"
    result = sim.simulate(plan.spec, short, seed=1, duration_s=10, jobs=1, spec_name=plan.name)
    assert result.late_spans > 0
    assert result.late_spans_followed + result.late_spans_new_trace == result.late_spans
