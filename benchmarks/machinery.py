"""Does each piece of speed machinery earn its place? Every piece on, then each one off, in one run.

    python benchmarks/machinery.py              # shop x 10 rounds, 1,000 services x 3 rounds
    python benchmarks/machinery.py --rounds 1   # a quick look

Commands (whole ``obsgen`` processes, no result cache): ``render --check specs/shop.yaml`` and
``render`` of the 1,000-service synthetic spec into an empty directory. The variants run interleaved,
round by round, so a change in the machine's load hits all of them alike; each cell is the median.
A piece is switched off by ``benchmarks/variant.py`` (its reference path instead). Every 1,000-service
render must write the same manifest, and shop's ``--check`` must pass, in every variant: switching a
piece off changes the time, never the output.

A piece earns its place when switching it off costs at least 20% of either time (issue 15).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run import PY, _table, run  # noqa: E402
from benchmarks.synth import write_spec  # noqa: E402
from benchmarks.variant import PIECES  # noqa: E402

KEEP_AT = 0.20  # the bar: a piece that saves less than this of both times goes


def _command(off: str, args: list[str]) -> list[str]:
    return [PY, "-m", "benchmarks.variant", "--off", off, "--", *args]


def _progress(variant: str, workload: str, seconds: float) -> None:
    """One sample on stderr as it is taken: a long run cut short still shows what it measured."""
    sys.stderr.write(f"{variant or 'all-on'} {workload} {seconds:.3f}\n")
    sys.stderr.flush()


def measure(rounds: int, services: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per variant ('' = every piece on) and workload, ``rounds`` samples each."""
    variants = ["", *PIECES]
    times: dict[str, dict[str, list[float]]] = {v: {"shop": [], "scale": []} for v in variants}
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(services, Path(tmp))
        manifests: dict[str, str] = {}
        for rnd in range(rounds):
            for v in variants:
                seconds, _, _ = run(_command(v, ["render", "--check", "specs/shop.yaml"]), sample_memory=False)
                times[v]["shop"].append(seconds)
                _progress(v, "shop", seconds)
            for v in variants:
                out = Path(tmp) / f"out-{v or 'all'}-{rnd}"
                seconds, _, _ = run(_command(v, ["render", str(spec), "--out", str(out)]), sample_memory=False)
                times[v]["scale"].append(seconds)
                _progress(v, "scale", seconds)
                digest = hashlib.sha256((out / "obsgen-manifest.json").read_bytes()).hexdigest()
                if manifests.setdefault(v, digest) != digest or len(set(manifests.values())) != 1:
                    raise SystemExit(f"variant {v or 'all on'}: the render differs from the others")
    return times


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shop-rounds", type=int, default=10)
    parser.add_argument("--services", type=int, default=1000)
    args = parser.parse_args()
    times = measure(args.rounds, args.services)
    # shop is cheap: extra rounds of it alone narrow its medians
    for _ in range(max(0, args.shop_rounds - args.rounds)):
        for v in times:
            seconds, _, _ = run(_command(v, ["render", "--check", "specs/shop.yaml"]), sample_memory=False)
            times[v]["shop"].append(seconds)
            _progress(v, "shop", seconds)
    med = {v: {w: statistics.median(s) for w, s in t.items()} for v, t in times.items()}
    base = med[""]
    rows = [["all pieces on", f"{base['shop']:.3f}", "", f"{base['scale']:.2f}", "", ""]]
    for piece in PIECES:
        m = med[piece]
        saved_shop = 1 - base["shop"] / m["shop"]
        saved_scale = 1 - base["scale"] / m["scale"]
        verdict = "keep" if max(saved_shop, saved_scale) >= KEEP_AT else "remove"
        rows.append([f"without {piece}", f"{m['shop']:.3f}", f"{saved_shop:+.0%}", f"{m['scale']:.2f}",
                     f"{saved_scale:+.0%}", verdict])
    print(f"shop: render --check, median of {len(times['']['shop'])}; {args.services:,} services: render, "
          f"median of {args.rounds}. 'saves' = 1 - (time with it) / (time without it).\n")
    print(_table(["variant", "shop s", "saves", f"{args.services:,} svc s", "saves", "verdict"], rows))


if __name__ == "__main__":
    main()
