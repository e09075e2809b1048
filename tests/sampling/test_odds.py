"""obsgen.sampling.odds (what OBS426 reads) against the generator it reads: 100,000 whole traces drawn by
``SynthModel.draws`` and counted span by span, as OBS426 once did, must agree with the exact failure odds and
occurrences, and with the latency estimate, within the draws' own noise (4 standard errors)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from obsgen.generate import load_spec
from obsgen.sampling import odds as odds_module
from obsgen.sampling.odds import Odds
from obsgen.sampling.synth import _NORMAL_CELLS, Z99, SynthModel, _Dist, _Walk
from obsgen.spec import traffic_slos
from obsgen.spec.loader import LoadedSpec
from obsgen.spec.models import Spec

ROOT = Path(__file__).resolve().parents[2]
SPECS = {"shop": ROOT / "specs" / "shop.yaml", "mixed": Path(__file__).parent / "data" / "odds-mixed.yaml"}
TRACES = 100_000
SIGMAS = 4.0


def load(path: Path) -> tuple[LoadedSpec, Spec]:
    loaded, spec, diagnostics = load_spec(path, path.name)
    assert spec is not None and loaded is not None, diagnostics
    return loaded, spec


@dataclass
class Counts:
    """Per objective (or template), per trace: (spans, bad spans), for a ratio and its clustered noise."""

    traces: int = 0
    per_trace: dict[int, list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, key: int, spans: int, bad: int) -> None:
        self.per_trace.setdefault(key, []).append((spans, bad))

    def ratio(self, key: int) -> tuple[float, float, int]:
        """bad / spans over all traces, its standard error (the spans of one trace are not independent: the
        delta method over per-trace sums), and the number of spans."""
        rows = self.per_trace.get(key, [])
        spans = sum(n for n, _ in rows)
        if not spans:
            return math.nan, math.inf, 0
        ratio = sum(b for _, b in rows) / spans
        variance = sum((b - ratio * n) ** 2 for n, b in rows) / spans ** 2
        return ratio, math.sqrt(variance), spans

    def per_trace_mean(self, key: int) -> tuple[float, float]:
        """Spans per trace (zeros included) and its standard error."""
        rows = [n for n, _ in self.per_trace.get(key, [])] + [0] * (self.traces - len(self.per_trace.get(key, [])))
        mean = sum(rows) / self.traces
        variance = sum((n - mean) ** 2 for n in rows) / (self.traces - 1)
        return mean, math.sqrt(variance / self.traces)


@dataclass
class Drawn:
    model: SynthModel
    objectives: list[traffic_slos.Objective]
    by_objective: Counts
    by_template: Counts


def draw(spec: Spec) -> Drawn:
    """The old way: whole traces of the real generator, every server span of an objective counted."""
    objectives = list(traffic_slos._objectives(spec))
    traffic_slos._measure(spec, objectives)
    model = SynthModel(spec)
    matching = {i: [k for k, o in enumerate(objectives)
                    if t.kind == "SERVER" and t.service == o.service and o.span_name in (None, t.name)]
                for i, t in enumerate(model.templates)}
    by_objective, by_template = Counts(), Counts()
    for draw in model.draws(5, duration_s=TRACES / model.rate):
        by_objective.traces += 1
        by_template.traces += 1
        spans: dict[int, list[int]] = {}
        seen: dict[int, int] = {}
        for template, _parent, start, end, failed in draw.spans:
            seen[template] = seen.get(template, 0) + 1
            for k in matching[template]:
                limit = objectives[k].limit_ns
                row = spans.setdefault(k, [0, 0])
                row[0] += 1
                row[1] += failed if limit is None else end - start > limit
        for k, (n, bad) in spans.items():
            by_objective.add(k, n, bad)
        for template, n in seen.items():
            by_template.add(template, n, 0)
    return Drawn(model, objectives, by_objective, by_template)


@pytest.fixture(scope="module", params=sorted(SPECS))
def drawn(request: pytest.FixtureRequest) -> Drawn:
    return draw(load(SPECS[request.param])[1])


def test_the_specs_exercise_what_they_are_meant_to(drawn: Drawn) -> None:
    """Every objective is reached often enough for 4 standard errors to be tight (and the mixed spec has
    exact availability objectives and estimated latency ones)."""
    assert drawn.by_objective.traces > TRACES * 0.95
    for k, objective in enumerate(drawn.objectives):
        assert drawn.by_objective.ratio(k)[2] > 10_000, objective.slo
    assert any(o.walks for o in drawn.objectives)


def test_availability_is_the_generators_exactly(drawn: Drawn) -> None:
    checked = 0
    for k, objective in enumerate(drawn.objectives):
        if objective.limit_ns is not None:
            continue
        ratio, noise, _ = drawn.by_objective.ratio(k)
        assert objective.walks == 0 and objective.stderr == 0
        assert abs(ratio - objective.ratio) <= SIGMAS * noise, (objective.slo, ratio, noise, objective.ratio)
        checked += 1
    assert checked >= 3


def test_latency_agrees_with_the_generator(drawn: Drawn) -> None:
    checked = 0
    for k, objective in enumerate(drawn.objectives):
        if objective.limit_ns is None:
            continue
        ratio, noise, _ = drawn.by_objective.ratio(k)
        both = math.hypot(noise, objective.stderr)
        assert abs(ratio - objective.ratio) <= SIGMAS * both, (objective.slo, ratio, noise, objective.ratio)
        checked += 1
    assert checked >= 2


def test_occurrences_are_the_generators(drawn: Drawn) -> None:
    """Spans per trace of every server and consumer position (entry shares times call percentages)."""
    odds = Odds(drawn.model)
    assert len(odds.positions) == sum(t.kind in ("SERVER", "CONSUMER") for t in drawn.model.templates)
    for template, position in odds.positions.items():
        mean, noise = drawn.by_template.per_trace_mean(template)
        assert abs(mean - position.occurrence) <= SIGMAS * max(noise, 1e-9), (template, mean, position.occurrence)


def test_the_mixed_spec_hand_computed() -> None:
    """edge's GET /buy (30 of 110 requests per second) fails on its own 0.5% or when its 80% call to api fails.
    api fails on its own 0.5%, db's 2% (20% for bronze), half the time the queue's 1%, and 40% of the time
    ledger (0.5%, 30% for gold through same_as) or ledger's db. The worker's 10% never reaches it."""
    _, spec = load(SPECS["mixed"])
    objectives = list(traffic_slos._objectives(spec))
    traffic_slos._measure(spec, objectives)
    [buy] = [o for o in objectives if o.slo == "buy-availability"]

    def api(db: float, ledger: float) -> float:
        ledger_fails = 1 - (1 - ledger) * (1 - db)
        return 1 - 0.995 * (1 - db) * (1 - 0.5 * 0.01) * (1 - 0.4 * ledger_fails)

    tiers = {"gold": (0.20, api(0.02, 0.30)), "silver": (0.30, api(0.02, 0.005)),
             "bronze": (0.25, api(0.20, 0.005)), "absent": (0.25, api(0.02, 0.005))}
    expected = sum(share * (1 - 0.995 * (1 - 0.8 * p)) for share, p in tiers.values())
    assert buy.ratio == pytest.approx(expected, rel=1e-12)


def test_the_check_draws_no_whole_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("OBS426 drew whole traces")

    monkeypatch.setattr(SynthModel, "draws", refuse)
    loaded, spec = load(SPECS["shop"])
    assert len(traffic_slos.check(spec, loaded)) == 5


@pytest.mark.parametrize(("median", "p99"), [(1_000_000, 8_000_000), (150e6, 1.2e9), (3, 3), (1, 40)])
def test_share_above_a_bound_is_the_tables(median: float, p99: float) -> None:
    """``_above`` against every one of the generator's 2^16 normal cells, through its own ``_Walk.latency``."""

    class Cell:
        value = 0.0

        def random(self) -> float:
            return self.value

    dist = _Dist(math.log(median), math.log(p99 / median) / Z99)
    cell = Cell()
    walk = _Walk(cell, 0, (), [])  # type: ignore[arg-type]
    values = []
    for i in range(_NORMAL_CELLS):
        cell.value = (i + 0.5) / _NORMAL_CELLS
        values.append(walk.latency(dist))
    bounds = sorted({0, 1, 2, *values[:: 4099], *(v - 1 for v in values[:: 4099]), *(v + 1 for v in values[:: 4099]),
                     values[-1], values[-1] + 1})
    for bound in bounds:
        expected = sum(v > bound for v in values) / _NORMAL_CELLS
        assert odds_module._above(dist, bound) == expected, bound


def test_each_latency_draw_is_read_back_from_a_walk(tmp_path: Path) -> None:
    """The conditioned estimate needs what the one draw drew: with every latency constant (and each its own
    number), what ``_value`` reads from the walk's spans is that draw's constant, for a server's own time, a
    service call's network time and a leaf or queue call."""
    import yaml

    text = yaml.safe_load(SPECS["mixed"].read_text(encoding="utf-8"))
    text["traffic"]["latency"] = {
        "default": {"median": "7ms", "p99": "7ms"},
        "services": {"api": {"median": "11ms", "p99": "11ms"}, "ledger": {"median": "13ms", "p99": "13ms"},
                     "db": {"median": "5ms", "p99": "5ms"}},
        "edges": [{"from": "api", "to": "ledger", "median": "3ms", "p99": "3ms"}]}
    text["traffic"]["network"] = {"median": "2ms", "p99": "2ms"}
    path = tmp_path / "constant.yaml"
    path.write_text(yaml.safe_dump(text), encoding="utf-8")
    model = SynthModel(load(path)[1])
    rng = random.Random(3)
    seen: set[str] = set()
    for position in Odds(model).positions.values():
        for latency in odds_module._draws(position.node):
            for _ in range(20):
                spans: list[tuple[int, int, int, int, bool]] = []
                _Walk(rng, 0, tuple(-1 for _ in model.mixes), spans).server(position.node, 0, -1)
                value = odds_module._value(latency, spans)
                if value is not None:
                    assert value == max(1, int(math.exp(latency.dist.mu))), latency
                    seen.add(latency.how)
    assert seen == {"own", "network", "call"}
