"""Does each piece of speed machinery earn its place? Every piece on, then each one off, in one run.

    python benchmarks/machinery.py              # shop x 10 rounds, 1,000 services x 3 rounds
    python benchmarks/machinery.py --rounds 1   # a quick look

Commands (whole ``obsgen`` processes, no result cache): ``render --check specs/shop.yaml`` and
``render`` of the 1,000-service synthetic spec into an empty directory. The variants run interleaved,
round by round, so a change in the machine's load hits all of them alike; each cell is the median.
A piece is switched off by ``benchmarks/variant.py`` (its reference path instead). Every 1,000-service
render must write the same manifest, and shop's ``--check`` must pass, in every variant: switching a
piece off changes the time, never the output.

A piece earns its place when switching it off costs at least 20% of either time (issue 15). The verdict uses
wall time, so run it on a quiet machine (the load average is printed; above 0.5 the table says so): wall time
is what a user waits for, and with a forked child (there was one, twice) neither process's CPU is. The
process's CPU (user + system, children included) is shown beside it, to tell load from work.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import PY, _table, bench_env, warm_bytecode  # noqa: E402
from benchmarks.run import ROOT as _ROOT  # noqa: E402
from benchmarks.synth import write_spec  # noqa: E402
from benchmarks.variant import PIECES  # noqa: E402

KEEP_AT = 0.20  # the bar: a piece that saves less than this of both times goes


def _command(off: str, args: list[str]) -> list[str]:
    return [PY, "-m", "benchmarks.variant", "--off", off, "--", *args]


class Sample(NamedTuple):
    """One whole-process run: wall seconds and CPU seconds of the process tree."""

    wall: float
    cpu: float


def run(cmd: list[str]) -> Sample:
    """Run ``cmd`` without the result cache; its wall time and CPU (``wait4``: the process and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=_ROOT, env=bench_env(OBSGEN_NO_CACHE="1"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{errors[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime)


def _progress(variant: str, workload: str, sample: Sample) -> None:
    """One sample on stderr as it is taken: a long run cut short still shows what it measured."""
    sys.stderr.write(f"{variant or 'all-on'} {workload} wall {sample.wall:.3f} cpu {sample.cpu:.3f}\n")
    sys.stderr.flush()


def measure(rounds: int, services: int) -> dict[str, dict[str, list[Sample]]]:
    """Samples per variant ('' = every piece on) and workload, ``rounds`` each."""
    variants = ["", *PIECES]
    times: dict[str, dict[str, list[Sample]]] = {v: {"shop": [], "scale": []} for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(services, Path(tmp))
        manifests: dict[str, str] = {}
        for rnd in range(rounds):
            for v in variants:
                sample = run(_command(v, ["render", "--check", "specs/shop.yaml"]))
                times[v]["shop"].append(sample)
                _progress(v, "shop", sample)
            for v in variants:
                out = Path(tmp) / f"out-{v or 'all'}-{rnd}"
                sample = run(_command(v, ["render", str(spec), "--out", str(out)]))
                times[v]["scale"].append(sample)
                _progress(v, "scale", sample)
                digest = hashlib.sha256((out / "obsgen-manifest.json").read_bytes()).hexdigest()
                if manifests.setdefault(v, digest) != digest or len(set(manifests.values())) != 1:
                    raise SystemExit(f"variant {v or 'all on'}: the render differs from the others")
    return times


def _median(samples: list[Sample], field: str) -> float:
    return statistics.median(getattr(x, field) for x in samples)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shop-rounds", type=int, default=10)
    parser.add_argument("--services", type=int, default=1000)
    args = parser.parse_args()
    warm_bytecode()
    load_before = os.getloadavg()[0]
    times = measure(args.rounds, args.services)
    # shop is cheap: extra rounds of it alone narrow its medians
    for _ in range(max(0, args.shop_rounds - args.rounds)):
        for v in times:
            sample = run(_command(v, ["render", "--check", "specs/shop.yaml"]))
            times[v]["shop"].append(sample)
            _progress(v, "shop", sample)
    base = times[""]
    headers = ["variant"]
    for work in ("shop", f"{args.services:,} svc"):
        headers += [f"{work} wall s", f"{work} CPU s"]
    headers += ["saves (wall)", "verdict"]
    rows = []
    for v, samples in times.items():
        row = ["all pieces on" if not v else f"without {v}"]
        for work in ("shop", "scale"):
            row += [f"{_median(samples[work], f):.2f}" for f in ("wall", "cpu")]
        if v:
            # what a user waits for (on a quiet machine; a loaded one inflates it, hence the load in the header)
            saved = [1 - _median(base[w], "wall") / _median(samples[w], "wall") for w in ("shop", "scale")]
            row += [f"shop {saved[0]:+.0%}, {args.services:,} svc {saved[1]:+.0%}",
                    "keep" if max(saved) >= KEEP_AT else "remove"]
        else:
            row += ["", ""]
        rows.append(row)
    loaded = " (NOT QUIET: wall times include the neighbours)" if load_before > 0.5 else ""
    print(f"shop: render --check, median of {len(base['shop'])}; {args.services:,} services: render into an empty "
          f"directory, median of {len(base['scale'])}. CPU = user + system of the process and its children. "
          "'saves' = 1 - (with it) / (without it), wall clock; load average "
          f"{load_before:.2f} at the start{loaded}.\n")
    print(_table(headers, rows))


if __name__ == "__main__":
    main()
