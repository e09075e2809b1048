"""Does the spec's own traffic model keep its SLOs? A warning (OBS426) for every objective it breaches.

``traffic:`` describes a normal day (``obsgen sampling simulate`` and ``obsgen traffic`` send it). When that day
already fails more requests, or more slowly, than an SLO allows, either the model or the objective is wrong,
and the SLO's alerts page on the very traffic the spec calls normal; nothing else would say so.

The bad-event ratio is read from the synthetic generator's own compiled model (``obsgen.sampling.synth``), so
it has exactly the generator's semantics: failures propagating up synchronous calls and not from queue
consumers, attribute-driven failure rates, call percentages, latencies summed down the call tree. It counts
what the rendered SLI counts: the server spans of the SLO's service (of its endpoint, when it names one),
wherever in the call tree they occur, each position weighted by how often it occurs
(``obsgen.sampling.odds``); failed ones for availability, ones slower than the threshold for latency.

* Availability is computed exactly: no sampling, no noise, so any excess over the budget (beyond float
  rounding, ``ROUNDING``) is a breach.
* Latency has no closed form: ``WALKS`` seeded walks of the objective's own subtrees (fewer past 80 latency
  objectives: ``WALK_BUDGET``), each conditioned on its widest latency draw (``odds.Odds.slower_than``); a
  breach is reported only when the estimate is over the budget by more than three standard errors, so
  sampling noise cannot raise it. Spans that call nothing have one latency draw: their ratio is exact too.

Whole traces are never drawn: the check once drew ~15,000 for the shop (0.17 s of CPU), most of them entries
no objective sees; it now takes ~0.02 s. Only a spec with a ``traffic:`` section is checked (the defaults
describe no one's day).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.spec.endpoints import parse_route
from obsgen.spec.loader import LoadedSpec, Loc, _dotted
from obsgen.spec.models import Spec

CODE = "OBS426"
SEED = 0
WALKS = 500
"""Subtree walks per latency objective: conditioned walks, so on the shop 3% is known to +-0.04% and 10% to
+-0.15% (counting slow walks would need ~50 times as many for the same precision)."""
WALK_BUDGET = 40_000
"""Walks for all latency objectives together (a subtree walk costs at most a whole trace's): a spec with more
than 80 latency objectives gets fewer walks each, never under ``MIN_WALKS``; the three-sigma rule absorbs the
extra noise."""
MIN_WALKS = 100
NOISE_SIGMAS = 3.0
ROUNDING = 1e-12
"""A model exactly on its objective (1% failures, 99% available) stays on it whatever the floats round to."""


@dataclass
class Objective:
    """One objective of one SLO, and what the model says about it."""

    loc: Loc
    slo: str
    service: str
    span_name: str | None
    allowed: float
    """Bad-event ratio the objective allows (0.005 for 99.5%)."""
    limit_ns: int | None
    """Latency threshold; None for availability."""
    what: str
    ratio: float = 0.0
    stderr: float = 0.0
    walks: int = 0
    """Subtree walks the ratio was estimated from; 0 when it is exact."""


def check(spec: Spec, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS426 for every SLO objective the spec's traffic model breaches."""
    if spec.traffic is None:
        return []
    objectives = list(_objectives(spec))
    if not objectives:
        return []
    _measure(spec, objectives)
    return [_diagnostic(o, loaded) for o in objectives if _breached(o)]


def _objectives(spec: Spec) -> Iterator[Objective]:
    for key, service in spec.services.items():
        reported = service.service_name or key
        for i, slo in enumerate(service.slos):
            span_name = parse_route(slo.endpoint).span_name if slo.endpoint else None
            loc: Loc = ("services", key, "slos", i)
            where = f"{key}'s {slo.endpoint} requests" if slo.endpoint else f"{key}'s requests"
            if slo.availability is not None:
                yield Objective((*loc, "availability"), slo.name, reported, span_name, 1 - slo.availability / 100,
                                None, f"of {where} fail")
            if slo.latency is not None:
                threshold = slo.latency.threshold
                yield Objective((*loc, "latency"), slo.name, reported, span_name, 1 - slo.latency.percentile / 100,
                                threshold.ns, f"of {where} take longer than {threshold}")


def _measure(spec: Spec, objectives: list[Objective]) -> None:
    """Each objective's ratio over the server spans of its service (and endpoint), wherever they occur."""
    from obsgen.sampling.odds import Odds
    from obsgen.sampling.synth import SynthModel

    model = SynthModel(spec)
    if not model.entries or model.rate <= 0:
        return
    odds = Odds(model)
    latency_objectives = sum(o.limit_ns is not None for o in objectives)
    walks = max(MIN_WALKS, min(WALKS, WALK_BUDGET // max(latency_objectives, 1)))
    for objective in objectives:
        positions = odds.positions_of(objective.service, objective.span_name)
        if not positions:
            continue  # the traffic never reaches it: a ratio of 0, which no objective (below 100%) breaches
        if objective.limit_ns is None:
            objective.ratio = odds.failing(positions)
        else:  # exact (walks 0) when the spans call nothing
            estimate = odds.slower_than(positions, objective.limit_ns, walks, SEED)
            objective.ratio, objective.stderr, objective.walks = estimate.ratio, estimate.stderr, estimate.walks


def _breached(objective: Objective) -> bool:
    return objective.ratio - NOISE_SIGMAS * objective.stderr > objective.allowed + ROUNDING


def _diagnostic(objective: Objective, loaded: LoadedSpec) -> Diagnostic:
    line, column = loaded.where(objective.loc)
    how = (f"estimated from {objective.walks:,} simulated requests, +-{_percent(objective.stderr)}"
           if objective.walks else "computed exactly from the model")
    return Diagnostic(
        CODE,
        f"the traffic model breaches SLO {objective.slo}: {_percent(objective.ratio)} {objective.what} "
        f"({how}), the objective allows {_percent(objective.allowed)}",
        Severity.WARNING, loaded.file, line, column, _dotted(objective.loc),
        "traffic: describes a normal day, so on it this SLO burns its budget and its alerts page; if the model "
        "is right the objective is too tight for this system, otherwise lower the failure rates "
        "(traffic.errors) or latencies (traffic.latency) that reach this service",
    )


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.2f}%"
