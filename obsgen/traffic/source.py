"""Where ``obsgen traffic`` gets its traces: the seeded generator ``obsgen sampling simulate`` evaluates.

The one place that knows the generator's entry points (``obsgen.sampling.synth``), so the same seed, duration,
rate and scenario give the traces the simulator predicts for.
"""

from __future__ import annotations

from collections.abc import Iterator

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
