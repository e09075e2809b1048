"""One spec's rendered stack, running on loopback: Prometheus 3, the Collector(s), and an OTLP sink for kept traces.

``Stack.start`` renders the spec with obsgen's CLI into a temp dir, rewrites the copies onto loopback ports
(``tests/e2e/loopback.py``) and starts, in order: Prometheus with the rendered ``prometheus.yaml``, rules and the
flags the file's header names; the sink (a second Collector: OTLP in, the ``file`` exporter out, in Tempo's
place); the samplers (gateway layout); the single Collector or the gateway; and the tap the sender talks to
(a Collector forwarding every span to the entry and writing a copy: what was sent, ``tests/e2e/wire.py``).
``stop`` ends them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e import loopback
from tests.servers import LOOPBACK, HarnessError, PrometheusAPI, Server, free_port, http_get

RULE_INTERVAL = "10s"  # rule groups evaluate this often here (1m rendered): phases last minutes, not hours


def _ports() -> loopback.CollectorPorts:
    return loopback.CollectorPorts(free_port(), free_port(), free_port(), free_port(), free_port())


@dataclass
class CollectorProc:
    role: str  # single, gateway, sampler-N
    ports: loopback.CollectorPorts
    proc: Server
    config: dict[str, Any]

    @property
    def telemetry(self) -> str:
        return f"{LOOPBACK}:{self.ports.telemetry}"

    def own_metrics(self) -> str:
        return http_get(f"http://{self.telemetry}/metrics").decode()


@dataclass
class Stack:
    spec: Path
    workdir: Path
    otelcol: str
    prometheus_bin: str
    replicas: int = 3  # sampler instances of the gateway layout (the spec's collector.replicas)
    rendered: Path = field(init=False)
    prometheus: Server | None = field(default=None, init=False)
    api: PrometheusAPI | None = field(default=None, init=False)
    sink: Server | None = field(default=None, init=False)
    tap: Server | None = field(default=None, init=False)
    sink_file: Path = field(init=False)
    collectors: list[CollectorProc] = field(default_factory=list, init=False)
    layout: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.rendered = self.workdir / "rendered"
        self.sink_file = self.workdir / "sink" / "traces.jsonl"
        self.sent_file = self.workdir / "sent.jsonl"

    # -- render ---------------------------------------------------------------------------------

    def render(self) -> None:
        proc = subprocess.run([sys.executable, "-m", "obsgen", "render", str(self.spec), "--out", str(self.rendered)],
                              capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise HarnessError(f"obsgen render {self.spec} failed:\n{proc.stdout}{proc.stderr}")
        collector_dir = self.rendered / "otel-collector"
        self.layout = "gateway" if (collector_dir / "gateway.yaml").exists() else "single"

    @property
    def entry(self) -> CollectorProc:
        """Where traffic goes: the single Collector or the gateway."""
        return self.collectors[-1]

    @property
    def samplers(self) -> list[CollectorProc]:
        return [c for c in self.collectors if c.role != "gateway"]

    def rendered_collector(self, name: str) -> dict[str, Any]:
        return dict(yaml.safe_load((self.rendered / "otel-collector" / name).read_text(encoding="utf-8")))

    # -- start / stop ---------------------------------------------------------------------------

    def start(self) -> None:
        self.render()
        try:
            self._start_sink()
            if self.layout == "single":
                self._start_collector("single", self.rendered_collector("config.yaml"))
            else:
                sampler_config = self.rendered_collector("sampler.yaml")
                for i in range(self.replicas):
                    self._start_collector(f"sampler-{i}", sampler_config)
                self._start_collector("gateway", self.rendered_collector("gateway.yaml"),
                                      samplers=[f"{LOOPBACK}:{c.ports.grpc}" for c in self.collectors])
            self._start_prometheus()
            self._start_tap()
        except BaseException:
            self.stop()
            raise

    def _start_sink(self) -> None:
        self.prometheus_port = free_port()  # chosen now: the Collectors remote-write to it
        sink_dir = self.sink_file.parent
        sink_dir.mkdir(parents=True, exist_ok=True)
        grpc, health = free_port(), free_port()
        config = {
            "extensions": {"health_check": {"endpoint": f"{LOOPBACK}:{health}"}},
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{LOOPBACK}:{grpc}"}}}},
            "exporters": {"file": {"path": str(self.sink_file), "flush_interval": "1s"}},
            "service": {
                "extensions": ["health_check"],
                "telemetry": {"metrics": {"level": "none"}},
                "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["file"]}},
            },
        }
        path = sink_dir / "sink.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.sink = Server("sink", [self.otelcol, f"--config={path}"], sink_dir / "sink.log",
                           f"http://{LOOPBACK}:{health}/")
        self.sink.start()
        self.sink_grpc = f"{LOOPBACK}:{grpc}"

    def _start_tap(self) -> None:
        """The Collector the sender talks to: every span to the stack's entry, and a copy to ``sent_file``."""
        grpc, http, health = free_port(), free_port(), free_port()
        config = {
            "extensions": {"health_check": {"endpoint": f"{LOOPBACK}:{health}"}},
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{LOOPBACK}:{grpc}"},
                                                 "http": {"endpoint": f"{LOOPBACK}:{http}"}}}},
            "exporters": {
                "otlp_grpc/stack": {"endpoint": f"{LOOPBACK}:{self.entry.ports.grpc}", "tls": {"insecure": True}},
                "file": {"path": str(self.sent_file), "flush_interval": "1s"},
            },
            "service": {
                "extensions": ["health_check"],
                "telemetry": {"metrics": {"level": "none"}},
                "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["otlp_grpc/stack", "file"]}},
            },
        }
        path = self.workdir / "tap.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.tap = Server("tap", [self.otelcol, f"--config={path}"], self.workdir / "tap.log",
                          f"http://{LOOPBACK}:{health}/")
        self.tap.start()
        self.tap_http = f"http://{LOOPBACK}:{http}"
        self.tap_grpc = f"{LOOPBACK}:{grpc}"

    def _start_collector(self, role: str, rendered: dict[str, Any], samplers: list[str] | None = None) -> None:
        ports = _ports()
        config = loopback.rewrite_collector(
            rendered, ports, sink_grpc=self.sink_grpc,
            remote_write_url=f"http://{LOOPBACK}:{self.prometheus_port}/api/v1/write", samplers=samplers or [])
        leftover = loopback.leftover_hosts(config)
        if leftover:
            raise HarnessError(f"{role}: endpoints not rewritten onto loopback: {leftover}")
        path = self.workdir / f"otelcol-{role}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        # ${env:HOSTNAME} (remote write's collector_instance label) tells the instances apart, as pods do
        proc = Server(role, [self.otelcol, f"--config={path}"], self.workdir / f"otelcol-{role}.log",
                      f"http://{LOOPBACK}:{ports.health}/", env={"HOSTNAME": role})
        proc.start()
        self.collectors.append(CollectorProc(role, ports, proc, config))

    def _start_prometheus(self) -> None:
        source = self.rendered / "prometheus" / "prometheus.yaml"
        text = source.read_text(encoding="utf-8")
        single = self.collectors[-1]
        targets = loopback.ScrapeTargets(
            collector=single.telemetry,
            samplers=[c.telemetry for c in self.collectors if c.role.startswith("sampler")],
            metrics_exporter=f"{LOOPBACK}:{single.ports.metrics_exporter}" if self.layout == "single" else None)
        config = loopback.rewrite_prometheus(yaml.safe_load(text), targets, RULE_INTERVAL)
        prom_dir = self.workdir / "prometheus"
        (prom_dir / "rules").mkdir(parents=True, exist_ok=True)
        for rule_file in sorted((self.rendered / "prometheus" / "rules").glob("*.yaml")):
            rules = loopback.rewrite_rule_intervals(yaml.safe_load(rule_file.read_text(encoding="utf-8")),
                                                    RULE_INTERVAL)
            (prom_dir / "rules" / rule_file.name).write_text(yaml.safe_dump(rules, sort_keys=False),
                                                             encoding="utf-8")
        config_path = prom_dir / "prometheus.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.prometheus_flags = loopback.server_flags(text)
        url = f"http://{LOOPBACK}:{self.prometheus_port}"
        self.prometheus = Server("prometheus", [
            self.prometheus_bin, f"--config.file={config_path}", f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.prometheus_port}", "--log.level=warn",
            *self.prometheus_flags,
        ], prom_dir / "prometheus.log", f"{url}/-/ready")
        self.prometheus.start()
        self.api = PrometheusAPI(url)

    def stop(self) -> None:
        if self.tap is not None:
            self.tap.stop()
        for collector in reversed(self.collectors):
            collector.proc.stop()
        for proc in (self.sink, self.prometheus):
            if proc is not None:
                proc.stop()

    def check_alive(self) -> None:
        for proc in [c.proc for c in self.collectors] + [p for p in (self.sink, self.prometheus, self.tap) if p]:
            if not proc.alive():
                raise HarnessError(f"{proc.name} died:\n{proc.log_tail()}")

    # -- reading back ---------------------------------------------------------------------------

    def sink_traces(self) -> dict[str, int]:
        """Trace id (hex) -> spans the sink wrote."""
        out: dict[str, int] = {}
        if not self.sink_file.exists():
            return out
        # the exporter may be writing a line right now: only complete (newline-terminated) lines count
        for line in self.sink_file.read_text(encoding="utf-8").split("\n")[:-1]:
            if not line.strip():
                continue
            for rs in json.loads(line).get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for span in ss.get("spans", []):
                        out[span["traceId"]] = out.get(span["traceId"], 0) + 1
        return out
