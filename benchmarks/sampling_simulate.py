"""Benchmark: simulate one million traces of the shop through its rendered tail-sampling policies.

    python benchmarks/sampling_simulate.py [--traces 1000000] [--jobs 2] [--target 30]

The shop's traffic model sends ~300 traces/s, so a million traces are ~3,340 s of traffic. Prints the wall
time, traces per second and the kept share, and exits 1 when the run takes longer than ``--target`` seconds
(the issue 17 target: 30 s on 2 cores). The target lives here, not in a timed test: a shared machine's
load moves it.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from obsgen.generate import plan_spec  # noqa: E402
from obsgen.sampling.simulate import simulate  # noqa: E402
from obsgen.sampling.synth import SynthModel  # noqa: E402
from obsgen.targets.collector.target import tail_sampling_data  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--target", type=float, default=30.0, help="seconds; exit 1 above it")
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "shop.yaml")
    args = parser.parse_args()
    plan = plan_spec(args.spec).plan
    if plan is None:
        print(f"{args.spec}: invalid spec", file=sys.stderr)
        return 2
    path, block = tail_sampling_data(plan)
    rate = SynthModel(plan.spec).rate
    duration = math.ceil(args.traces / rate)
    start = time.perf_counter()
    result = simulate(plan.spec, block, seed=1, duration_s=duration, jobs=args.jobs,
                      replicas=plan.spec.collector.replicas, config_path=path, spec_name=plan.name)
    took = time.perf_counter() - start
    print(f"{plan.name}: {result.traces:,} traces ({result.spans:,} spans, {duration:,} s of traffic) in {took:.1f} s "
          f"with {args.jobs} job(s): {result.traces / took:,.0f} traces/s; kept {100 * result.kept_fraction:.1f}%")
    if took > args.target:
        print(f"over the {args.target:g} s target", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
