"""The ``sampling-report.md`` target: with a ``traffic:`` section, what the rendered policies keep, so that a
policy change shows its effect on the kept share and the cost in the pull request's diff.

The run is fixed (seed 1, about 3,000 traces: between 10 and 60 seconds of the model's traffic) so the report
is byte-identical across renders; ``obsgen sampling simulate`` runs any other seed or length. 3,000 traces keep
the report's numbers within a point of a long run's (the shop: 38.3% kept and 24.1% storage reduction in 10 s,
36.6% and 24.5% in 60 s) and the simulation at a seventh of a second, the longest piece of a render it runs beside
(benchmarks/README.md, "Shop render --check"). The 10 s floor covers the decision wait the shop and the
defaults use, so the buffer's peak is the steady state's.
"""

from __future__ import annotations

from obsgen.emit.artifacts import Artifact
from obsgen.plan import Plan

REPORT_PATH = "sampling-report.md"
SEED = 1
TARGET_TRACES = 3_000


def report_duration(rate: float) -> float:
    """Seconds of traffic for about TARGET_TRACES traces, between 10 and 60."""
    if rate <= 0:
        return 10.0
    return float(min(60, max(10, round(TARGET_TRACES / rate))))


def render(plan: Plan) -> list[Artifact]:
    """The report, or nothing for a spec without a traffic model."""
    traffic = plan.spec.traffic
    if traffic is None:
        return []
    from obsgen.sampling.report import to_markdown
    from obsgen.sampling.simulate import rendered_collector_config, simulate, tail_sampling_block
    from obsgen.sampling.synth import SynthModel

    path, config = rendered_collector_config(plan)
    duration = report_duration(SynthModel(plan.spec).rate)
    result = simulate(plan.spec, tail_sampling_block(config), seed=SEED, duration_s=duration,
                      replicas=plan.spec.collector.replicas, jobs=1, config_path=path, spec_name=plan.name)
    return [Artifact(REPORT_PATH, to_markdown(result, traffic.expect, plan.spec_file))]
