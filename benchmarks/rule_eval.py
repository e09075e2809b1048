"""Rule evaluation cost of the rendered rules on a real Prometheus 3, fed the series the spec declares.

    python benchmarks/rule_eval.py                 # 100 and 1,000 services, 7 minutes each
    python benchmarks/rule_eval.py --services 100 --minutes 3

For each size: the synthetic benchmark spec (``benchmarks/synth.py``) is rendered in memory, its rule
files written to a temporary directory, and a Prometheus 3 (``benchmarks/prom.py`` finds it) loads them
and scrapes ``benchmarks/series.py``'s synthetic target every 15 s: every span-metrics and service-graph
series the spec declares, with live counters. After ``--minutes`` (the 5m rate windows must be full,
and every group evaluated several times over them) it reports, from ``/api/v1/rules``, each group's
last ``evaluationTime`` and the largest seen since the windows filled, as a fraction of its interval;
the sum over all groups against the interval (groups run concurrently, so the sum is the CPU a round
costs, and the targets are: sum < 10 %, no group > 20 %); the head series
(``/api/v1/status/tsdb``) against obsgen's estimate; and the server's memory (``process_resident_memory_bytes``,
``go_memstats_heap_inuse_bytes``, peak RSS).

The 1h averages and the SLO windows read recorded series only, which the run fills for a few minutes:
their cost grows with the window's samples. In steady state the 30d SLO window reads ~58 M samples a round
at 1,000 services, more than every other group together: ``benchmarks/long_windows.py`` measures the
window groups on 30 days of backfilled recordings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.prom import Prometheus, find_prometheus  # noqa: E402
from benchmarks.run import _table  # noqa: E402
from benchmarks.series import (  # noqa: E402
    Exposition,
    SyntheticTarget,
    declared_series,
    iter_rule_files,
)
from benchmarks.synth import write_spec  # noqa: E402

SCRAPE_SECONDS = 15
WARMUP_SECONDS = 6 * 60  # the 5m windows full, plus a scrape


def _seconds(interval: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(interval[:-1]) * units[interval[-1]]


def run_size(binary: Path, services: int, minutes: float, workdir: Path) -> dict[str, Any]:
    """Measure one benchmark size; returns the report's numbers."""
    from obsgen.generate import generate
    from obsgen.plan.cardinality import estimate

    spec = write_spec(services, workdir)
    rendered = generate(spec)
    if not rendered.ok or rendered.plan is None:
        raise SystemExit(f"{spec}: does not render")
    plan, files = rendered.plan, {a.path: a.text for a in rendered.artifacts}
    est = estimate(plan, [r for f in rendered.facts for r in f.recordings])
    del rendered
    rules_dir = workdir / f"rules{services}"
    rules_dir.mkdir()
    rule_files = []
    for path, text in iter_rule_files(files):
        target = rules_dir / Path(path).name
        target.write_text(text, encoding="utf-8")
        rule_files.append(target)
    declared = declared_series(plan, files)
    exposition = Exposition(declared, SCRAPE_SECONDS)
    longest: dict[str, float] = {}
    with SyntheticTarget(exposition) as target, \
            Prometheus(binary, rule_files, target.address, f"{SCRAPE_SECONDS}s", f"{SCRAPE_SECONDS - 1}s") as prom:
        started = time.monotonic()
        end = started + minutes * 60
        groups: list[dict[str, Any]] = []
        while time.monotonic() < end:
            time.sleep(min(20.0, max(0.0, end - time.monotonic())))
            groups = prom.rule_groups()
            if time.monotonic() - started >= WARMUP_SECONDS:
                for g in groups:
                    longest[g["name"]] = max(longest.get(g["name"], 0.0), float(g["evaluationTime"]))
        memory = prom.own_metrics(["process_resident_memory_bytes", "go_memstats_heap_inuse_bytes",
                                   "go_memstats_alloc_bytes"])
        peak = prom.peak_rss_bytes()
        head = prom.head_series()
        by_metric = prom.head_series_by_metric()
        scraped = prom.scalar('scrape_samples_scraped{job="synthetic"}')
        scrape_seconds = prom.scalar('scrape_duration_seconds{job="synthetic"}')
        scrapes = target.scrapes
    rows = []
    for g in groups:
        interval = float(g["interval"])
        last = float(g["evaluationTime"])
        rows.append({"group": g["name"], "interval": interval, "rules": len(g["rules"]), "last": last,
                     "max": longest.get(g["name"], last), "lastEvaluation": g["lastEvaluation"]})
    not_estimated = sum(n for name, n in by_metric.items() if name.startswith(("ALERTS", "scrape_")) or name == "up")
    return {"services": services, "series_declared": declared.series, "scraped": scraped, "head": head,
            "estimate": est.total, "estimate_recorded": est.recorded, "head_estimated_part": head - not_estimated,
            "rows": rows, "memory": memory, "peak_rss": peak, "scrape_seconds": scrape_seconds,
            "scrapes": scrapes, "minutes": minutes}


def report(result: dict[str, Any], top: int) -> str:
    """Markdown for one size."""
    rows = sorted(result["rows"], key=lambda r: -r["max"])
    total_last = sum(r["last"] for r in rows)
    total_max = sum(r["max"] for r in rows)
    intervals = sorted({r["interval"] for r in rows})
    interval = intervals[0] if len(intervals) == 1 else statistics.median(r["interval"] for r in rows)
    worst = max(rows, key=lambda r: r["max"] / r["interval"])
    lines = [
        f"### {result['services']:,} services ({len(rows)} rule groups, {sum(r['rules'] for r in rows):,} rules, "
        f"interval {interval:.0f} s)",
        "",
        f"- series declared by the spec: {result['series_declared']:,}; scraped per scrape: "
        f"{result['scraped']:,.0f} (scrape {result['scrape_seconds']:.2f} s); head series after "
        f"{result['minutes']:g} min: {result['head']:,}; without the scrape's own and alert-state series "
        f"{result['head_estimated_part']:,}, against `validate`'s estimate {result['estimate']:,} "
        f"({result['estimate_recorded']:,} of them recorded)",
        f"- rule evaluation, all groups summed: last round {total_last:.2f} s = {total_last / interval:.1%} of "
        f"the interval; summing each group's slowest round after warm-up: {total_max:.2f} s = "
        f"{total_max / interval:.1%}",
        f"- slowest group: `{worst['group']}` {worst['max']:.2f} s = {worst['max'] / worst['interval']:.1%} of its "
        f"interval",
        f"- Prometheus memory: resident {result['memory'].get('process_resident_memory_bytes', 0) / 2**20:,.0f} MiB "
        f"(peak {result['peak_rss'] / 2**20:,.0f} MiB), Go heap in use "
        f"{result['memory'].get('go_memstats_heap_inuse_bytes', 0) / 2**20:,.0f} MiB",
        "",
        _table(["group", "rules", "last s", "max s", "max / interval"],
               [[r["group"], str(r["rules"]), f"{r['last']:.3f}", f"{r['max']:.3f}", f"{r['max'] / r['interval']:.1%}"]
                for r in rows[:top]]),
    ]
    if len(rows) > top:
        rest = rows[top:]
        lines.append(f"\n(and {len(rest)} more groups, {sum(r['max'] for r in rest):.2f} s together)")
    return "\n".join(lines)


def main() -> None:
    """Run the sizes and print one report each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--minutes", type=float, default=7.0)
    parser.add_argument("--top", type=int, default=8, help="groups listed per size (slowest first)")
    args = parser.parse_args()
    binary = find_prometheus()
    if binary is None:
        raise SystemExit("prometheus 3 not found: `make tools`, or set OBSGEN_PROMETHEUS")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.services:
            result = run_size(binary, n, args.minutes, Path(tmp))
            print(report(result, args.top), flush=True)
            print(flush=True)


if __name__ == "__main__":
    main()
