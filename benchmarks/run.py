"""Speed and memory benchmarks (issue targets live here, not in timed tests).

    python benchmarks/run.py            # cold CLI and scale tables
    python benchmarks/run.py --quick    # fewer repetitions

Cold CLI: whole-process wall time of `obsgen validate` and `obsgen render --check` on shop beside the
import floors (`python -c pass`, `import obsgen`, the dependencies' own import). Scale: `obsgen validate`
and `obsgen render` (into an empty directory) of synthetic specs with 10, 100 and 1,000 services, each a
whole process: wall time, peak memory (proportional set size summed over the process and the child it
forks for the sampling report, sampled every 50 ms; and the largest single process' peak RSS, which counts
pages the two share), and the growth exponent between 100 and 1,000 (log(t1000 / t100) / log(10); 1.0
is linear), for the whole process and for ``generate()`` alone (start-up is a fixed cost that flatters
the whole-process figure).
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
DEPS_IMPORT = "import pydantic, yaml, click"


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of a measured process: this one's, without ``PYTHONDONTWRITEBYTECODE``.

    Any non-empty value of that variable (even "0") stops Python writing bytecode, so every module changed since
    its last .pyc is compiled again in every run: not what an installed obsgen does, and tens of milliseconds
    after an edit. The machines obsgen is developed on set it; ``warm_bytecode`` writes the .pyc files first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def warm_bytecode() -> None:
    """Write every obsgen module's .pyc (as the first run after an install does) before anything is timed."""
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "obsgen")], check=True, env=bench_env(),
                   stdout=subprocess.DEVNULL)

def _tree(root: int) -> list[int]:
    """``root`` and its descendants (obsgen checks artifacts in a forked child)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _pss_mb(pids: list[int]) -> float:
    """Proportional set size of the processes, summed: shared copy-on-write pages count once."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run(cmd: list[str], sample_memory: bool) -> tuple[float, float, float]:
    """Wall seconds of a whole obsgen process; with ``sample_memory``, also its peak memory: the
    proportional set size summed over the process and its children (obsgen checks artifacts in a
    forked child), sampled every 50 ms. Sampling reads page tables, so timed runs do not sample.
    Also the largest single process' peak RSS (which counts the pages the two share)."""
    env = bench_env(OBSGEN_NO_CACHE="1")
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: nobody reads while it runs
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0.0
        sampling = sample_memory and Path("/proc/self/smaps_rollup").exists()
        while True:
            done, status, usage = os.wait4(proc.pid, os.WNOHANG if sampling else 0)
            if done:
                break
            peak = max(peak, _pss_mb(_tree(proc.pid)))
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{errors.read().decode(errors='replace')[-2000:]}")
    rss = usage.ru_maxrss / 1024  # this process or its largest waited-for child
    return seconds, peak, rss


# In a fresh process: the seconds of generate() alone (what grows with the spec), after importing
# obsgen.generate (the targets' own modules are still imported inside generate()).
_GENERATE_ONLY = """
import sys, time
from pathlib import Path
from obsgen.generate import generate
start = time.perf_counter()
result = generate(Path(sys.argv[1]))
assert result.ok
print(time.perf_counter() - start)
"""


def generate_seconds(spec: Path) -> float:
    """Wall seconds of ``generate(spec)`` in a fresh process, after importing ``obsgen.generate``."""
    proc = subprocess.run([PY, "-c", _GENERATE_ONLY, str(spec)], cwd=ROOT, capture_output=True, text=True,
                          check=True, env=bench_env(OBSGEN_NO_CACHE="1"))
    return float(proc.stdout.split()[-1])


def _time_cmd(cmd: list[str], runs: int, cwd: Path, extra_env: dict[str, str]) -> tuple[float, float]:
    samples = []
    env = bench_env(**extra_env)
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
                           env=bench_env(**cached))
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


def scale(sizes: list[int], runs: int) -> tuple[list[tuple[int, str, float, float, float]], dict[int, float]]:
    """(services, command, median seconds of ``runs``, peak PSS MB, largest RSS MB) for each size and
    command, and the median seconds of ``generate()`` alone for each size.

    Each is a whole ``obsgen`` process as a user runs it: interpreter start, imports, rendering,
    checking and (render) writing every file.
    """
    rows = []
    generate_only: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            spec = write_spec(n, Path(tmp))
            generate_only[n] = statistics.median(generate_seconds(spec) for _ in range(runs))
            for mode in ("validate", "render"):
                def command(name: str, mode: str = mode, n: int = n, spec: Path = spec) -> list[str]:
                    out = ["--out", str(Path(tmp) / name / str(n))] if mode == "render" else []
                    return [PY, "-m", "obsgen", mode, str(spec), *out]  # render: into an empty directory

                seconds = statistics.median(run(command(f"timed{i}"), sample_memory=False)[0] for i in range(runs))
                _, peak, rss = run(command("sampled"), sample_memory=True)
                rows.append((n, mode, seconds, peak, rss))
    return rows, generate_only


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
    warm_bytecode()
    cli = cold_cli(runs)
    floor = dict((n, m) for n, m, _ in cli)["import floor of dependencies"]
    print(f"## Cold CLI (median of {runs} runs, whole process)\n")
    print(_table(["command", "median s", "best s", "x dependency floor"],
                 [[n, f"{m:.3f}", f"{b:.3f}", f"{m / floor:.2f}"] for n, m, b in cli]))
    sizes = [10, 100] if args.quick else [10, 100, 1000]
    scale_runs = 1 if args.quick else 3
    rows, generate_only = scale(sizes, scale_runs)
    print(f"\n## Scale (whole process: median wall time of {scale_runs} runs; peak memory of the process tree)\n")
    print(_table(["services", "command", "seconds", "peak PSS MB", "largest RSS MB"],
                 [[str(n), mode, f"{s:.2f}", f"{p:.0f}", f"{r:.0f}"] for n, mode, s, p, r in rows]))
    print("\n`generate()` alone (render and check in memory, imports excluded): "
          + ", ".join(f"{n:,} services {s:.2f} s" for n, s in generate_only.items()))
    if 1000 in sizes:
        t = {(n, mode): s for n, mode, s, _, _ in rows}
        print()
        for mode in ("validate", "render"):
            whole = math.log(t[(1000, mode)] / t[(100, mode)]) / math.log(10)
            print(f"growth exponent 100 -> 1000 services, {mode} (whole process): {whole:.2f}")
        core = math.log(generate_only[1000] / generate_only[100]) / math.log(10)
        print(f"growth exponent 100 -> 1000 services, generate() alone: {core:.2f}")
    print("\nTargets: render --check <= 1.5x dependency floor; 1,000 services render < 10 s, exponent <= 1.1, "
          "peak < 500 MB.")


if __name__ == "__main__":
    main()
