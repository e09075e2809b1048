"""Spans per second per core the rendered single-layout Collector sustains, and its memory at that rate.

    python benchmarks/collector_throughput.py [--spec specs/shop.yaml] [--step-seconds 20]

The shop's rendered ``otel-collector/config.yaml`` (tail sampling with every policy, span metrics and service
graph before sampling, remote write) runs on loopback, rewritten as the e2e harness does
(``tests/e2e/loopback.py``); kept traces go to a second Collector writing to /dev/null, remote write to a stub
that answers 204. A sender process replays the spec's synthetic traces (``obsgen.sampling.synth``, what
``obsgen traffic`` sends; fresh trace ids each time)
over OTLP/HTTP JSON at rising rates. Per step it reads the Collector's own counters (accepted and refused
spans, traces dropped before their decision), its CPU time (``/proc/<pid>/stat``) and its peak RSS.

"Sustained" is the highest step at which the receiver refused nothing and accepted what was sent (traces the
sampler drops before deciding, when more than ``num_traces`` wait, are a column of their own: a sizing limit of
the config, not refused data). Spans/s per core is accepted spans / CPU seconds the Collector used,
so the sender sharing the machine does not flatter or penalise it. Not a timed test: the numbers go to
benchmarks/README.md, beside the memory obsgen estimates for the sampler (``obsgen/targets/collector/memory.py``).
"""

from __future__ import annotations

import argparse
import http.server
import itertools
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from obsgen.generate import load_spec  # noqa: E402
from obsgen.targets.collector.memory import estimate, spans_per_trace  # noqa: E402
from tests import otlp_http as otlp  # noqa: E402
from tests import realtools  # noqa: E402
from tests.e2e import loopback  # noqa: E402
from tests.servers import Server, free_port, http_get  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
RATES = (2_000, 4_000, 8_000, 12_000, 16_000, 24_000, 32_000, 48_000)  # offered spans/s


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _counter(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") or line.startswith(name + " "))


class _Stub(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _templates(spec_path: Path, count: int) -> list[tuple[str, str]]:
    """(resourceSpans JSON without brackets, its trace id) for ``count`` of the spec's synthetic traces
    (``obsgen.sampling.synth``, the generator ``obsgen traffic`` sends), as OTLP/HTTP JSON."""
    from obsgen.sampling.synth import generate_traces  # obsgen traffic's generator (issue 17)

    _, spec, _ = load_spec(spec_path)
    assert spec is not None
    out = []
    for trace in itertools.islice(generate_traces(spec, seed=11, duration_s=3600), count):
        trace_id = trace.trace_id.hex()
        by_service: dict[str, list[dict[str, Any]]] = {}
        for span in trace.spans:
            by_service.setdefault(span.service, []).append(otlp.span(
                trace_id, span.span_id.hex(), span.parent_span_id.hex() if span.parent_span_id else None, span.name,
                otlp.KINDS[span.kind], span.start_ns, span.end_ns, span.attributes, span.error))
        resource_spans = [otlp.resource_spans(service, spans, "obsgen-bench") for service, spans in by_service.items()]
        out.append((json.dumps(resource_spans)[1:-1], trace_id))
    return out


def _sender(port: int, rate: float, seconds: float, templates: list[tuple[str, str]], sent: Any, n: int) -> None:
    """Offer ``rate`` spans/s for ``seconds`` (a separate process: the GIL stays out of the Collector's way)."""
    spans_per_template = [t.count('"spanId"') for t, _ in templates]
    poster = otlp.Poster(f"http://127.0.0.1:{port}", timeout=30)
    i, total = 0, 0
    rng = __import__("random").Random(port * 100 + n)
    for budget in otlp.paced(rate, seconds, 0.1):
        parts = []
        while budget.owed > 0:
            text, old = templates[i % len(templates)]
            parts.append(text.replace(old, f"{rng.getrandbits(128):032x}"))
            budget.owed -= spans_per_template[i % len(templates)]
            total += spans_per_template[i % len(templates)]
            i += 1
        poster.post(('{"resourceSpans":[' + ",".join(parts) + "]}").encode())  # refusals: the Collector counts them
    poster.close()
    sent.value = total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "specs" / "shop.yaml")
    parser.add_argument("--step-seconds", type=float, default=20.0)
    parser.add_argument("--max-rate", type=int, default=RATES[-1], help="highest offered spans/s to try")
    parser.add_argument("--senders", type=int, default=2, help="sender processes")
    args = parser.parse_args()
    otelcol = realtools.find("otelcol")
    if otelcol is None:
        print("otelcol is not built: make tools", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="collector-throughput-"))
    subprocess.run([sys.executable, "-m", "obsgen", "render", str(args.spec), "--out", str(work / "rendered")],
                   check=True, capture_output=True)
    rendered = yaml.safe_load((work / "rendered" / "otel-collector" / "config.yaml").read_text())
    stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    sink_grpc, sink_health = free_port(), free_port()
    sink_config = {
        "extensions": {"health_check": {"endpoint": f"127.0.0.1:{sink_health}"}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{sink_grpc}"}}}},
        "exporters": {"file": {"path": "/dev/null"}},
        "service": {"extensions": ["health_check"], "telemetry": {"metrics": {"level": "none"}},
                    "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["file"]}}},
    }
    (work / "sink.yaml").write_text(yaml.safe_dump(sink_config))
    ports = loopback.CollectorPorts(free_port(), free_port(), free_port(), free_port(), free_port())
    config = loopback.rewrite_collector(rendered, ports, sink_grpc=f"127.0.0.1:{sink_grpc}",
                                        remote_write_url=f"http://127.0.0.1:{stub.server_address[1]}/api/v1/write")
    (work / "collector.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    sink = Server("sink", [str(otelcol), f"--config={work / 'sink.yaml'}"], work / "sink.log",
                  f"http://127.0.0.1:{sink_health}/")
    collector = Server("collector", [str(otelcol), f"--config={work / 'collector.yaml'}"], work / "collector.log",
                       f"http://127.0.0.1:{ports.health}/")
    sink.start()
    collector.start()
    assert collector.process is not None
    pid = collector.process.pid
    metrics_url = f"http://127.0.0.1:{ports.telemetry}/metrics"
    templates = _templates(args.spec, 400)
    per_trace = sum(t.count('"spanId"') for t, _ in templates) / len(templates)
    sampling = config["processors"]["tail_sampling"]
    decision_wait = float(re.sub(r"s$", "", str(sampling["decision_wait"])))
    print(f"{args.spec.name}: {per_trace:.1f} spans/trace, num_traces {sampling['num_traces']:,}, "
          f"decision_wait {decision_wait:g}s, {os.cpu_count()} cores")
    print(f"{'offered/s':>10} {'accepted/s':>11} {'refused':>8} {'early drop':>10} {'cpu cores':>9} "
          f"{'spans/s/core':>12} {'peak RSS MiB':>12} {'traces in mem':>13}")
    best: dict[str, float] | None = None
    try:
        for rate in (r for r in RATES if r <= args.max_rate):
            before = http_get(metrics_url).decode()
            cpu0, t0 = _cpu_seconds(pid), time.monotonic()
            counters = [multiprocessing.Value("q", 0) for _ in range(args.senders)]
            procs = [multiprocessing.Process(target=_sender, args=(ports.http, rate / args.senders, args.step_seconds,
                                                                   templates, counters[i], i))
                     for i in range(args.senders)]
            for proc in procs:
                proc.start()
            peak = 0.0
            while any(proc.is_alive() for proc in procs):
                peak = max(peak, _rss_mib(pid))
                time.sleep(0.5)
            time.sleep(1)  # the last request's spans through the receiver
            elapsed = time.monotonic() - t0
            cpu = _cpu_seconds(pid) - cpu0
            after = http_get(metrics_url).decode()

            def delta(name: str, after: str = after, before: str = before) -> float:
                return _counter(after, name) - _counter(before, name)

            accepted = delta("otelcol_receiver_accepted_spans_total")
            refused = delta("otelcol_receiver_refused_spans_total")
            early = delta("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total")
            in_memory = _counter(after, "otelcol_processor_tail_sampling_sampling_traces_on_memory")
            sent_spans = sum(c.value for c in counters)
            row = {"offered": sent_spans / elapsed, "accepted": accepted / elapsed, "refused": refused, "early": early,
                   "cores": cpu / elapsed, "per_core": accepted / cpu if cpu else 0.0, "rss": peak,
                   "in_memory": in_memory}
            print(f"{row['offered']:>10,.0f} {row['accepted']:>11,.0f} {refused:>8,.0f} {early:>10,.0f} "
                  f"{row['cores']:>9.2f} {row['per_core']:>12,.0f} {peak:>12,.0f} {in_memory:>13,.0f}")
            if refused or accepted < 0.99 * sent_spans:
                print("the Collector refused or fell behind: stop")
                break
            best = row
            if sent_spans / elapsed < 0.8 * rate:
                print(f"the sender reached {sent_spans / elapsed:,.0f} of {rate:,} spans/s: sender-bound, stop")
                break
    finally:
        collector.stop()
        sink.stop()
        stub.shutdown()
    _, spec, _ = load_spec(args.spec)
    assert spec is not None
    num_traces = int(sampling["num_traces"])
    caches = int(sampling["decision_cache"]["sampled_cache_size"]) + int(
        sampling["decision_cache"]["non_sampled_cache_size"])
    configured = estimate(num_traces, caches, spans_per_trace(spec))
    if best is None:
        print("no step was sustained")
        return 1
    buffered = best["accepted"] / per_trace * decision_wait
    at_rate = estimate(round(buffered), caches, round(per_trace))
    print(f"sustained: {best['accepted']:,.0f} spans/s at {best['cores']:.2f} cores = {best['per_core']:,.0f} "
          f"spans/s per core; peak RSS {best['rss']:,.0f} MiB")
    print(f"obsgen's estimate (targets/collector/memory.py) for the configured num_traces: "
          f"{configured.total_mib:,} MiB ({configured.explain()}); "
          f"for the ~{buffered:,.0f} traces buffered at that rate: {at_rate.total_mib:,} MiB")
    simulated = subprocess.run([sys.executable, "-m", "obsgen", "sampling", "simulate", str(args.spec), "--duration",
                                "60", "--format", "json"], capture_output=True, text=True, check=False)
    if simulated.returncode == 0:
        report = json.loads(simulated.stdout)
        memory = report["memory"]
        per_s = memory["sampled_decisions_per_second"] + memory["non_sampled_decisions_per_second"]
        print(f"obsgen sampling simulate at the traffic model's rate (~{per_s:,.0f} traces/s): "
              f"num_traces needed {memory['num_traces_needed']:,}, {memory['estimate_mib']:,} MiB "
              f"({memory['estimate']}); scaled to the sustained rate: "
              f"~{memory['estimate_mib'] * best['accepted'] / per_trace / max(per_s, 1):,.0f} MiB")
    print(f"work dir (logs, configs): {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
