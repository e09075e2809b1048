"""Where ``obsgen traffic`` gets its traces: the seeded generator ``obsgen sampling simulate`` evaluates.

The one place that knows the generator's entry points (``obsgen.sampling.synth``), so the same seed, duration,
rate and scenario give the traces the simulator predicts for.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from obsgen.plan import Plan
from obsgen.sampling.synth import Scenario, SynthModel, SynthTrace, generate_traces


class ScenarioError(Exception):
    """A --scenario that cannot be used (syntax, or a service the spec does not have)."""


def parse_scenario(text: str | None, plan: Plan) -> Scenario | None:
    """``--scenario`` in the generator's form (``errors:SERVICE=PERCENT,slow:CALLER->CALLEE=FACTOR,from=S``)."""
    if text is None:
        return None
    try:
        scenario = Scenario.parse(text)
        SynthModel(plan.spec, scenario)  # names every unknown service at once
    except ValueError as exc:
        raise ScenarioError(f"--scenario {text}: {exc}") from None
    return scenario


def default_rate(plan: Plan, scenario: Scenario | None) -> float:
    """Traces per second of the spec's traffic model (its entry rates, or the sampling section's default)."""
    return SynthModel(plan.spec, scenario).rate


def synthetic_traces(plan: Plan, *, seed: int, duration_s: float, scenario: Scenario | None = None,
                     rate: float | None = None) -> Iterator[SynthTrace]:
    """The run's traces in start order: ``generate_traces`` with the same arguments ``simulate`` takes."""
    return generate_traces(plan, seed=seed, duration_s=duration_s, scenario=scenario, rate=rate)


def end_ordered(traces: Iterable[SynthTrace]) -> Iterator[tuple[int, SynthTrace]]:
    """``(end offset, trace)`` in the order the traces finish: a service exports spans when they end, so a
    trace leaves when its last span has ended. Traces come in start order and none ends before it starts, so
    every trace that ended before the next one starts can go."""
    pending: list[tuple[int, int, SynthTrace]] = []
    for index, trace in enumerate(traces):
        while pending and pending[0][0] <= trace.start_ns:
            end, _, done = heapq.heappop(pending)
            yield end, done
        heapq.heappush(pending, (max(s.end_ns for s in trace.spans), index, trace))
    while pending:
        end, _, done = heapq.heappop(pending)
        yield end, done
