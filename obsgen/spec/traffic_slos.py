"""Does the spec's own traffic model keep its SLOs? A warning (OBS426) for every objective it breaches.

``traffic:`` describes a normal day (``obsgen sampling simulate`` and ``obsgen traffic`` send it). When that day
already fails more requests, or more slowly, than an SLO allows, either the model or the objective is wrong,
and the SLO's alerts page on the very traffic the spec calls normal; nothing else would say so.

The expected bad-event ratio is measured on the synthetic generator's own traces (``obsgen.sampling.synth``,
seeded), so it has exactly the generator's semantics: failures propagating up the call chain, attribute-driven
failure rates, call percentages, latencies summed down the call tree. It counts what the rendered SLI counts:
the server spans of the SLO's service (of its endpoint, when it names one); failed ones for availability,
ones slower than the threshold for latency. Only a spec with a ``traffic:`` section is checked (the defaults
describe no one's day), and a breach is reported only when the estimate is over the budget by more than
three standard errors, so sampling noise cannot raise it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.spec.endpoints import parse_route
from obsgen.spec.loader import LoadedSpec, Loc, _dotted
from obsgen.spec.models import Spec

CODE = "OBS426"
SEED = 0
ENOUGH_SPANS = 2_000
"""Server spans per objective after which drawing stops (a 1% ratio is then known to about +-0.2%)."""
MAX_TRACES = 40_000
"""Traces drawn at most (~0.5 s on a busy core): an SLO whose spans are rarer is judged on what was drawn."""
WARM_UP = 2_048
"""Traces drawn before drawing may stop."""
MIN_SPANS = 100
"""Fewer spans say nothing about a 99.9% objective: no finding."""
NOISE_SIGMAS = 3.0


@dataclass
class Objective:
    """One objective of one SLO, and what the drawn traces said about it."""

    loc: Loc
    slo: str
    service: str
    span_name: str | None
    allowed: float
    """Bad-event ratio the objective allows (0.005 for 99.5%)."""
    is_bad: Callable[[int, bool], bool]
    """(span duration in ns, failed) -> bad event."""
    what: str
    spans: int = 0
    bad: int = 0

    def matches(self, service: str, name: str) -> bool:
        return service == self.service and (self.span_name is None or name == self.span_name)


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
                                _failed, f"of {where} fail")
            if slo.latency is not None:
                threshold = slo.latency.threshold
                yield Objective((*loc, "latency"), slo.name, reported, span_name, 1 - slo.latency.percentile / 100,
                                partial(_slower_than, threshold.ns),
                                f"of {where} take longer than {threshold}")


def _failed(_duration_ns: int, failed: bool) -> bool:
    return failed


def _slower_than(limit_ns: int, duration_ns: int, _failed: bool) -> bool:
    return duration_ns > limit_ns


def _measure(spec: Spec, objectives: list[Objective]) -> None:
    """Draw the model's traces until every objective has seen enough server spans (or MAX_TRACES)."""
    from obsgen.sampling.synth import SynthModel

    model = SynthModel(spec)
    if not model.entries or model.rate <= 0:
        return
    by_template = {i: [o for o in objectives if o.matches(t.service, t.name)]
                   for i, t in enumerate(model.templates) if t.kind == "SERVER"}
    by_template = {i: found for i, found in by_template.items() if found}
    if not by_template:
        return
    for traces, draw in enumerate(model.draws(SEED, duration_s=2 * MAX_TRACES / model.rate + 1), start=1):
        for template, _parent, start, end, failed in draw.spans:
            for objective in by_template.get(template, ()):
                objective.spans += 1
                objective.bad += objective.is_bad(end - start, failed)
        if traces >= MAX_TRACES:
            break
        # after a warm-up in which every reachable objective shows up, stop once each has enough spans
        if traces % 256 == 0 and traces >= WARM_UP and all(o.spans >= ENOUGH_SPANS for o in objectives if o.spans):
            break


def _breached(objective: Objective) -> bool:
    if objective.spans < MIN_SPANS:
        return False
    ratio = objective.bad / objective.spans
    noise = math.sqrt(max(ratio * (1 - ratio), 1e-12) / objective.spans)
    return ratio - NOISE_SIGMAS * noise > objective.allowed


def _diagnostic(objective: Objective, loaded: LoadedSpec) -> Diagnostic:
    line, column = loaded.where(objective.loc)
    ratio = objective.bad / objective.spans
    return Diagnostic(
        CODE,
        f"the traffic model breaches SLO {objective.slo}: {_percent(ratio)} {objective.what} "
        f"({objective.bad:,} of {objective.spans:,} simulated server spans), the objective allows "
        f"{_percent(objective.allowed)}",
        Severity.WARNING, loaded.file, line, column, _dotted(objective.loc),
        "traffic: describes a normal day, so on it this SLO burns its budget and its alerts page; if the model "
        "is right the objective is too tight for this system, otherwise lower the failure rates "
        "(traffic.errors) or latencies (traffic.latency) that reach this service",
    )


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.2f}%"
