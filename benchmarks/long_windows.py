"""Steady-state cost of the long SLO windows on a real Prometheus 3: days of backfilled SLI recordings.

    nice -n 19 python benchmarks/long_windows.py                  # 1,000 services, every SLO, 30 days
    nice -n 19 python benchmarks/long_windows.py --slos 100 200   # the first 100, then 200 SLOs

``rule_eval.py`` runs minutes, so there the SLO window groups (``slo-window-30m`` .. ``slo-window-30d``)
read only the minutes filled so far. In steady state each reads its whole window of every SLO's two 5m
recordings, one sample a minute: 43,200 samples per series for 30 days. This benchmark measures that.

For each size: the benchmark spec (``benchmarks/synth.py``) is rendered in memory; from its ``slos.yaml``
come the labels of the recordings ``slo:obsgen_sli_errors:rate5m`` and ``slo:obsgen_sli_requests:rate5m``
(the ``by`` labels of the recording's aggregation with the values of its matchers, plus the rule's
``labels``) of the first S SLOs, and the rendered window groups, the period burn rates and the objectives
they join. ``--days`` of one-minute samples of those series (requests 2-47/s with a daily cycle, errors
0.05% of them for availability and 0.3% for latency, a few percent of noise) are written as OpenMetrics
text, one file per 54h block range (one range in memory and on disk at a time), each turned into a TSDB
block by the real ``promtool tsdb create-blocks-from openmetrics`` with ``--max-block-duration=54h``: the
largest block a Prometheus keeping 30 days compacts to (10% of the retention, on its 2h x 3^n ranges),
so the server does not compact during the run. Then Prometheus 3 starts on that TSDB
(``--storage.tsdb.retention.time=35d``: the default 15d would delete half the 30d window) with those
rule groups, and after ``--rounds`` evaluations of every group (the first, which also pages the blocks
in, is reported apart) it reports each group's ``evaluationTime`` (``/api/v1/rules``, last and largest)
against its interval, the samples each window's expression reads (``/api/v1/query`` with ``stats=all``),
the server's CPU per round and its memory (Go heap; resident split into anonymous and file pages, the
latter being the mmapped blocks), the TSDB size and the load average. Run it with ``nice -n 19`` on a
shared machine: other load only lengthens the times, so they are upper bounds.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.prom import Prometheus, find_prometheus  # noqa: E402
from benchmarks.run import _table  # noqa: E402
from benchmarks.synth import write_spec  # noqa: E402

SLI_METRICS = ("slo:obsgen_sli_errors:rate5m", "slo:obsgen_sli_requests:rate5m")
STEP_SECONDS = 60  # the SLI recordings' group interval
BLOCK_SECONDS = 54 * 3600  # the largest compaction range at a 30-35 day retention
RETENTION = "35d"
PATTERNS = 16  # distinct value curves; series i follows curve i % PATTERNS
_MEASURED_GROUP = re.compile(r"-slo-(window-\d+[mhd]|period-burn-rates)$")
_JOINED_GROUP = re.compile(r"-slo-objectives-\d+$")
_BY = re.compile(r"^\s*sum by \(([^)]*)\)")


def find_promtool() -> Path | None:
    """promtool 3 beside the Prometheus binary ``benchmarks/prom.py`` finds (or ``$OBSGEN_PROMTOOL``)."""
    candidates = [os.environ.get("OBSGEN_PROMTOOL", "")]
    server = find_prometheus()
    if server is not None:
        candidates.append(str(server.with_name("promtool")))
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


@dataclass(frozen=True)
class Series:
    """One SLI recording series: metric name, labels (sorted), and whether its SLO is a latency SLO."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    latency: bool

    def openmetrics_prefix(self) -> str:
        """``name{labels} `` as an OpenMetrics sample line starts."""
        body = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.metric}{{{body}}} "


def recorded_labels(rule: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The labels a ``sum by (...)`` recording writes: the ``by`` labels with the values of the expression's
    equality matchers of the same names, and the rule's own ``labels``."""
    expr = str(rule["expr"])
    by = _BY.match(expr)
    if by is None:
        raise ValueError(f"{rule['record']}: not a `sum by (...)` recording: {expr[:80]}")
    labels = dict(rule.get("labels") or {})
    for name in (n.strip() for n in by.group(1).split(",") if n.strip()):
        values = set(re.findall(rf'\b{re.escape(name)}="([^"]*)"', expr))
        if len(values) != 1:
            raise ValueError(f"{rule['record']}: `{name}` is not matched by exactly one value in {expr[:80]}")
        labels[name] = values.pop()
    return tuple(sorted(labels.items()))


def sli_series(slos: dict[str, Any], limit: int | None) -> list[Series]:
    """Both SLI recordings of the first ``limit`` SLOs (all when None) of a rendered ``slos.yaml``."""
    chosen: list[str] = []
    out: list[Series] = []
    for group in slos["groups"]:
        for rule in group["rules"]:
            if rule.get("record") not in SLI_METRICS:
                continue
            labels = recorded_labels(rule)
            slo = dict(labels)["slo"]
            if slo not in chosen:
                if limit is not None and len(chosen) >= limit:
                    continue
                chosen.append(slo)
            out.append(Series(rule["record"], labels, dict(labels).get("slo_kind") == "latency"))
    if limit is not None and len(chosen) < limit:
        raise ValueError(f"the spec has {len(chosen)} SLOs, fewer than {limit}")
    return out


def window_groups(slos: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """(groups to load, names of those measured): the window groups and period burn rates, measured, and
    the objectives the burn rates join."""
    groups = [g for g in slos["groups"] if _MEASURED_GROUP.search(g["name"]) or _JOINED_GROUP.search(g["name"])]
    return groups, [g["name"] for g in groups if _MEASURED_GROUP.search(g["name"])]


def _value_texts(pattern: int, timestamps: range, latency_errors: bool, errors: bool) -> list[str]:
    """Plausible rate5m values of one curve at ``timestamps``: a daily cycle and a few percent of noise."""
    rng = random.Random(timestamps.start * 64 + pattern * 4 + 2 * errors + latency_errors)
    base = 2.0 + 3.0 * pattern
    share = (0.003 if latency_errors else 0.0005) if errors else 1.0
    out = []
    for ts in timestamps:
        cycle = 1.0 + 0.4 * math.sin(2 * math.pi * (ts / 86400 + pattern / PATTERNS))
        out.append(f"{base * share * cycle * (1.0 + 0.05 * rng.uniform(-1, 1)):.6g}")
    return out


def write_openmetrics(series: Iterable[Series], timestamps: range, out: TextIO) -> int:
    """OpenMetrics text of ``series`` at ``timestamps`` (unix seconds); returns the samples written.

    Families are contiguous and each series' samples are in time order, as OpenMetrics and promtool's
    block writer require; one line per sample, ``# EOF`` last.
    """
    by_metric: dict[str, list[Series]] = {}
    for s in series:
        by_metric.setdefault(s.metric, []).append(s)
    bodies: dict[tuple[int, bool, bool], list[str]] = {}
    samples = 0
    for metric in sorted(by_metric):
        out.write(f"# TYPE {metric} gauge\n")
        errors = metric == SLI_METRICS[0]
        for i, s in enumerate(by_metric[metric]):
            key = (i % PATTERNS, s.latency, errors)
            if key not in bodies:
                values = _value_texts(key[0], timestamps, s.latency, errors)
                bodies[key] = [f"{v} {ts}" for v, ts in zip(values, timestamps, strict=True)]
            prefix = s.openmetrics_prefix()
            out.write(prefix + ("\n" + prefix).join(bodies[key]) + "\n")  # one C-level join per series
            samples += len(bodies[key])
    out.write("# EOF\n")
    return samples


def block_ranges(start: int, end: int) -> Iterator[range]:
    """One-minute timestamps in [start, end), cut at multiples of ``BLOCK_SECONDS`` since the epoch (where
    promtool and the compactor cut blocks)."""
    t = start
    while t < end:
        upper = min(end, (t // BLOCK_SECONDS + 1) * BLOCK_SECONDS)
        yield range(t, upper, STEP_SECONDS)
        t = upper


def backfill(promtool: Path, series: list[Series], start: int, end: int, tsdb: Path, scratch: Path) -> dict[str, float]:
    """Write ``series`` from ``start`` to ``end`` into ``tsdb`` through promtool, one block range at a time."""
    tsdb.mkdir(parents=True, exist_ok=True)
    samples = text_bytes = 0
    gen_seconds = promtool_cpu = 0.0
    for stamps in block_ranges(start, end):
        chunk = scratch / "chunk.om"
        began = time.monotonic()
        with chunk.open("w", encoding="utf-8", buffering=1 << 20) as out:
            samples += write_openmetrics(series, stamps, out)
        gen_seconds += time.monotonic() - began
        text_bytes += chunk.stat().st_size
        before = os.times()
        subprocess.run([str(promtool), "tsdb", "create-blocks-from", "--max-block-duration=54h", "--quiet",
                        "openmetrics", str(chunk), str(tsdb)], check=True)
        after = os.times()
        promtool_cpu += (after.children_user - before.children_user) + (after.children_system - before.children_system)
        chunk.unlink()
    return {"samples": samples, "text_bytes": text_bytes, "generate_seconds": gen_seconds,
            "promtool_cpu": promtool_cpu}


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def measure(binary: Path, rule_file: Path, measured: list[str], tsdb: Path, rounds: int,
            exprs: dict[str, str]) -> dict[str, Any]:
    """Run Prometheus on ``tsdb`` until every measured group evaluated ``rounds`` times after its first."""
    seen: dict[str, dict[str, float]] = {name: {} for name in measured}  # lastEvaluation -> evaluationTime
    load = [os.getloadavg()[0]]
    with Prometheus(binary, [rule_file], None, data_dir=tsdb,
                    extra_args=[f"--storage.tsdb.retention.time={RETENTION}"]) as prom:
        assert prom.process is not None
        cpu_start: float | None = None
        started = time.monotonic()
        groups: list[dict[str, Any]] = []
        while True:
            time.sleep(5)
            groups = [g for g in prom.rule_groups() if g["name"] in seen]
            for g in groups:
                if not g["lastEvaluation"].startswith("0001-"):
                    seen[g["name"]].setdefault(g["lastEvaluation"], float(g["evaluationTime"]))
            if cpu_start is None and all(len(v) >= 1 for v in seen.values()):
                cpu_start = prom.own_metrics(["process_cpu_seconds_total"])["process_cpu_seconds_total"]
                cpu_rounds_from = time.monotonic()
                load.append(os.getloadavg()[0])
            if all(len(v) >= rounds + 1 for v in seen.values()):
                break
            longest = max((float(g["interval"]) for g in groups), default=60.0)
            if time.monotonic() - started > longest * (rounds + 2) + 600:
                raise SystemExit(f"groups not evaluated {rounds + 1} times in time: "
                                 f"{ {k: len(v) for k, v in seen.items()} }\n{prom.log_tail()}")
        cpu_end = prom.own_metrics(["process_cpu_seconds_total"])["process_cpu_seconds_total"]
        cpu_wall = time.monotonic() - cpu_rounds_from
        load.append(os.getloadavg()[0])
        memory = prom.own_metrics(["go_memstats_heap_inuse_bytes", "prometheus_tsdb_compactions_total",
                                   "prometheus_tsdb_blocks_loaded"])
        status = _proc_status(prom.process.pid)
        stats = {}
        for name, expr in exprs.items():
            began = time.monotonic()
            data = prom.get("query", {"query": expr, "stats": "all"})
            stats[name] = {"samples": int(data["stats"]["samples"]["totalQueryableSamples"]),
                           "peak": int(data["stats"]["samples"]["peakSamples"]),
                           "seconds": time.monotonic() - began, "result": len(data["result"])}
    rows = []
    for g in groups:
        times = [seen[g["name"]][k] for k in sorted(seen[g["name"]])]
        rows.append({"group": g["name"], "interval": float(g["interval"]), "first": times[0],
                     "last": times[-1], "max": max(times[1:]), "rounds": len(times) - 1})
    return {"rows": rows, "stats": stats, "memory": memory, "status": status, "load": load,
            "cpu_per_minute": (cpu_end - (cpu_start or cpu_end)) / cpu_wall * 60 if cpu_wall else 0.0}


def run_size(binary: Path, promtool: Path, slos: dict[str, Any], limit: int | None, days: float, rounds: int,
             workdir: Path) -> dict[str, Any]:
    """Backfill and measure one size; the TSDB is removed afterwards."""
    series = sli_series(slos, limit)
    groups, measured = window_groups(slos)
    rule_file = workdir / "long-windows.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    exprs = {g["name"]: str(g["rules"][0]["expr"]) for g in groups if g["name"] in measured}
    end = int(time.time()) // STEP_SECONDS * STEP_SECONDS
    start = end - int(days * 86400)
    tsdb = workdir / f"tsdb{len(series)}"
    try:
        filled = backfill(promtool, series, start, end, tsdb, workdir)
        tsdb_bytes = _dir_bytes(tsdb)
        result = measure(binary, rule_file, measured, tsdb, rounds, exprs)
    finally:
        shutil.rmtree(tsdb, ignore_errors=True)
    return {"slos": len({dict(s.labels)["slo"] for s in series}), "series": len(series), "days": days,
            "tsdb_bytes": tsdb_bytes, **filled, **result}


def report(result: dict[str, Any]) -> str:
    """Markdown for one size."""
    rows = sorted(result["rows"], key=lambda r: -r["max"] / r["interval"])
    # groups run concurrently at their own intervals: issue 15's sum is of each group's share of its interval
    share_last = sum(r["last"] / r["interval"] for r in rows)
    share_max = sum(r["max"] / r["interval"] for r in rows)
    worst = max(rows, key=lambda r: r["max"] / r["interval"])
    st = result["status"]
    lines = [
        f"### {result['slos']:,} SLOs ({result['series']:,} SLI series, {result['days']:g} days of one-minute "
        f"samples: {result['samples']:,})",
        "",
        f"- backfill: {result['text_bytes'] / 1e9:.2f} GB of OpenMetrics text (written in "
        f"{result['generate_seconds']:.0f} s), promtool {result['promtool_cpu']:.0f} s CPU, TSDB "
        f"{result['tsdb_bytes'] / 2**20:,.0f} MiB",
        f"- window groups, each one's evaluation time as a share of its own interval, summed: last round "
        f"{share_last:.1%}; slowest round after the first {share_max:.1%}",
        f"- slowest group: `{worst['group']}` {worst['max']:.2f} s = {worst['max'] / worst['interval']:.1%} of its "
        f"interval",
        f"- Prometheus CPU: {result['cpu_per_minute']:.2f} s per minute over the measured rounds; memory: "
        f"resident {st.get('VmRSS', 0) / 2**20:,.0f} MiB (anonymous {st.get('RssAnon', 0) / 2**20:,.0f}, "
        f"file {st.get('RssFile', 0) / 2**20:,.0f}; peak {st.get('VmHWM', 0) / 2**20:,.0f}), Go heap in use "
        f"{result['memory'].get('go_memstats_heap_inuse_bytes', 0) / 2**20:,.0f} MiB; blocks loaded "
        f"{result['memory'].get('prometheus_tsdb_blocks_loaded', 0):.0f}, compactions during the run "
        f"{result['memory'].get('prometheus_tsdb_compactions_total', 0):.0f}",
        "- load average (1 min) at start, first evaluation, end: "
        + ", ".join(f"{x:.1f}" for x in result["load"]),
        "",
        _table(["group", "interval s", "first s", "last s", "max s", "max / interval", "samples read", "query s"],
               [[r["group"], f"{r['interval']:.0f}", f"{r['first']:.3f}", f"{r['last']:.3f}", f"{r['max']:.3f}",
                 f"{r['max'] / r['interval']:.1%}",
                 f"{result['stats'].get(r['group'], {}).get('samples', 0):,}",
                 f"{result['stats'].get(r['group'], {}).get('seconds', 0):.2f}"] for r in rows]),
    ]
    return "\n".join(lines)


def main() -> None:
    """Render the benchmark spec, then backfill and measure each size."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000, help="size of the benchmark spec")
    parser.add_argument("--slos", type=int, nargs="+", default=None,
                        help="SLOs backfilled, one run each (default: every SLO of the spec)")
    parser.add_argument("--days", type=float, default=30.0 + 1 / 24, help="days backfilled (default 30d + 1h)")
    parser.add_argument("--rounds", type=int, default=4, help="evaluations measured after the first")
    parser.add_argument("--scratch", type=Path, default=None, help="directory for the TSDB and the text chunks")
    args = parser.parse_args()
    binary, promtool = find_prometheus(), find_promtool()
    if binary is None or promtool is None:
        raise SystemExit("prometheus 3 / promtool not found: `make tools`, or set OBSGEN_PROMETHEUS, OBSGEN_PROMTOOL")
    from obsgen.generate import generate

    with tempfile.TemporaryDirectory(dir=args.scratch) as tmp:
        workdir = Path(tmp)
        rendered = generate(write_spec(args.services, workdir))
        if not rendered.ok:
            raise SystemExit("the benchmark spec does not render")
        slos = yaml.safe_load(next(a.text for a in rendered.artifacts if a.path == "prometheus/rules/slos.yaml"))
        del rendered
        for limit in args.slos or [None]:
            print(report(run_size(binary, promtool, slos, limit, args.days, args.rounds, workdir)), flush=True)
            print(flush=True)


if __name__ == "__main__":
    main()
