"""The ``sampling-report.md`` target: with a ``traffic:`` section, what the rendered policies keep, so that a
policy change shows its effect on the kept share and the cost in the pull request's diff.

The run is fixed (seed 1, about 2,000 traces: between 5 and 60 seconds of the model's traffic) so the report is
byte-identical across renders; ``obsgen sampling simulate`` runs any other seed or length. 2,000 traces keep the
headline numbers within a few points of a long run's (the shop: 38.8% kept and 23.7% storage reduction in 7 s,
36.6% and 24.5% in 60 s; the standard error of a kept share near 40% is 1.1 points) and the whole target, the
longest single piece of a shop render, at ~0.07 s of CPU (imports ~8 ms, ~0.06 s of simulation;
benchmarks/README.md, "Shop render --check").
"""

from __future__ import annotations

from obsgen.emit.artifacts import Artifact
from obsgen.plan import Plan

REPORT_PATH = "sampling-report.md"
SEED = 1
TARGET_TRACES = 2_000


def report_duration(rate: float) -> float:
    """Seconds of traffic for about TARGET_TRACES traces, between 5 and 60."""
    if rate <= 0:
        return 5.0
    return float(min(60, max(5, round(TARGET_TRACES / rate))))


def render(plan: Plan) -> list[Artifact]:
    """The report, or nothing for a spec without a traffic model."""
    traffic = plan.spec.traffic
    if traffic is None:
        return []
    from obsgen.sampling.report import to_markdown
    from obsgen.sampling.simulate import simulate
    from obsgen.sampling.synth import SynthModel
    from obsgen.targets.collector.target import tail_sampling_data

    path, tail_sampling = tail_sampling_data(plan)
    model = SynthModel(plan.spec)
    result = simulate(plan.spec, tail_sampling, seed=SEED, duration_s=report_duration(model.rate),
                      replicas=plan.spec.collector.replicas, jobs=1, config_path=path, spec_name=plan.name,
                      model=model)
    return [Artifact(REPORT_PATH, to_markdown(result, traffic.expect, plan.spec_file))]
