"""Speed and memory benchmarks (issue targets live here, not in timed tests).

    python benchmarks/run.py            # cold CLI and scale tables
    python benchmarks/run.py --quick    # fewer repetitions

Cold CLI: whole-process wall time of `obsgen validate` and `obsgen render --check` on shop beside the
import floors (`python -c pass`, `import obsgen`, the dependencies' own import). Scale: validate and render
of synthetic specs with 10, 100 and 1,000 services: wall time, peak RSS, and the growth exponent between
100 and 1,000 (log(t1000 / t100) / log(10); 1.0 is linear).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synth import write_spec  # noqa: E402

PY = sys.executable
DEPS_IMPORT = "import pydantic, yaml, click, jinja2, grafanalib"

# Child process for the scale runs: does the work in-process, prints wall seconds and peak RSS (MB).
_CHILD = """
import resource, sys, time
from pathlib import Path
start = time.perf_counter()
from obsgen.generate import generate, plan_spec
mode, spec, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if mode == "validate":
    result = generate(spec)  # validate renders in memory: strict models and cross-artifact checks
else:
    from obsgen import output
    result = generate(spec)
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error][:5]
    output.write(out, result.artifacts)
elapsed = time.perf_counter() - start
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _time_cmd(cmd: list[str], runs: int, cwd: Path, extra_env: dict[str, str]) -> tuple[float, float]:
    samples = []
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="0", **extra_env)
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def cold_cli(runs: int) -> list[tuple[str, float, float]]:
    """Median and best wall time of each command."""
    obsgen = [PY, "-m", "obsgen"]
    with tempfile.TemporaryDirectory() as cache_dir:
        cached = {"OBSGEN_CACHE_DIR": cache_dir, "OBSGEN_NO_CACHE": "0"}
        uncached = {"OBSGEN_NO_CACHE": "1"}
        for command in ("render", "validate"):  # fill the cache, as the first hook run of the day would
            subprocess.run([*obsgen, command, "specs/shop.yaml"], cwd=ROOT, capture_output=True, check=False,
                           env=dict(os.environ, **cached))
        commands = {
            "python -c pass": ([PY, "-c", "pass"], {}),
            "python -c 'import obsgen'": ([PY, "-c", "import obsgen"], {}),
            "import floor of dependencies": ([PY, "-c", DEPS_IMPORT], {}),
            "obsgen validate specs/shop.yaml (no cache)": ([*obsgen, "validate", "specs/shop.yaml"], uncached),
            "obsgen render --check specs/shop.yaml (no cache)":
                ([*obsgen, "render", "--check", "specs/shop.yaml"], uncached),
            "obsgen validate specs/shop.yaml (cached)": ([*obsgen, "validate", "specs/shop.yaml"], cached),
            "obsgen render --check specs/shop.yaml (cached)":
                ([*obsgen, "render", "--check", "specs/shop.yaml"], cached),
        }
        return [(name, *_time_cmd(cmd, runs, ROOT, env)) for name, (cmd, env) in commands.items()]


def scale(sizes: list[int]) -> list[tuple[int, str, float, float]]:
    """(services, mode, seconds, peak MB) for each size and mode."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            spec = write_spec(n, Path(tmp))
            for mode in ("validate", "render"):
                proc = subprocess.run(
                    [PY, "-c", _CHILD, mode, str(spec), str(Path(tmp) / f"out{n}")],
                    cwd=ROOT, capture_output=True, text=True, check=False, env=dict(os.environ, OBSGEN_NO_CACHE="1"),
                )
                if proc.returncode != 0:
                    raise SystemExit(f"{mode} of {n} services failed:\n{proc.stderr[-2000:]}")
                seconds, peak = (float(x) for x in proc.stdout.split())
                rows.append((n, mode, seconds, peak))
    return rows


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows]
    return "\n".join([line, sep, *body])


def main() -> None:
    """Run the benchmarks and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and sizes 10 and 100 only")
    args = parser.parse_args()
    runs = 3 if args.quick else 10
    cli = cold_cli(runs)
    floor = dict((n, m) for n, m, _ in cli)["import floor of dependencies"]
    print(f"## Cold CLI (median of {runs} runs, whole process)\n")
    print(_table(["command", "median s", "best s", "x dependency floor"],
                 [[n, f"{m:.3f}", f"{b:.3f}", f"{m / floor:.2f}"] for n, m, b in cli]))
    sizes = [10, 100] if args.quick else [10, 100, 1000]
    rows = scale(sizes)
    print("\n## Scale (in-process wall time, peak RSS)\n")
    print(_table(["services", "command", "seconds", "peak MB"],
                 [[str(n), mode, f"{s:.2f}", f"{p:.0f}"] for n, mode, s, p in rows]))
    if 1000 in sizes:
        t = {(n, mode): s for n, mode, s, _ in rows}
        print()
        for mode in ("validate", "render"):
            exponent = math.log(t[(1000, mode)] / t[(100, mode)]) / math.log(10)
            print(f"growth exponent 100 -> 1000 services, {mode}: {exponent:.2f}")
    print("\nTargets: render --check <= 1.5x dependency floor; 1,000 services render < 10 s, exponent <= 1.1, "
          "peak < 500 MB.")


if __name__ == "__main__":
    main()
