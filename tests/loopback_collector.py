"""Run the real Collector on a rendered config, moved to loopback: for tests that send it traffic.

The rendered config listens on fixed ports on every interface (4317, 4318, 13133, 8888) and exports to the
spec's backends. ``loopback_config`` changes only addresses: every listening endpoint to a free port on
127.0.0.1, the OTLP exporters to the test's sink, every other exporter (remote write, Prometheus) to a free
loopback port. Policies, processors, connectors and pipelines stay byte for byte as rendered.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.servers import free_port


@dataclass(frozen=True)
class Ports:
    otlp_grpc: int
    otlp_http: int
    health: int
    telemetry: int


def loopback_config(text: str, sink_endpoint: str) -> tuple[str, Ports]:
    """The rendered single-Collector config with its addresses moved to loopback (see the module docstring)."""
    config = yaml.safe_load(text)
    ports = Ports(free_port(), free_port(), free_port(), free_port())
    protocols = config["receivers"]["otlp"]["protocols"]
    protocols["grpc"]["endpoint"] = f"127.0.0.1:{ports.otlp_grpc}"
    if "http" in protocols:
        protocols["http"]["endpoint"] = f"127.0.0.1:{ports.otlp_http}"
    config["extensions"]["health_check"]["endpoint"] = f"127.0.0.1:{ports.health}"
    (reader,) = config["service"]["telemetry"]["metrics"]["readers"]
    reader["pull"]["exporter"]["prometheus"].update(host="127.0.0.1", port=ports.telemetry)
    for name, exporter in config["exporters"].items():
        kind = name.split("/")[0]
        if kind in ("otlp", "otlp_grpc"):
            exporter["endpoint"] = sink_endpoint
        elif kind == "prometheus_remote_write":
            # Nothing listens there: the metrics pipeline's sends fail quietly; traces are what is measured.
            exporter["http"]["endpoint"] = f"http://127.0.0.1:{free_port()}/api/v1/write"
        elif "endpoint" in exporter:
            exporter["endpoint"] = f"127.0.0.1:{free_port()}"
        else:
            raise AssertionError(f"exporter {name}: no address to move to loopback; extend loopback_config")
    # The rendered text keeps `$$` (the Collector's escaped `$`) in regex values; yaml round-trips it as is.
    return yaml.safe_dump(config, sort_keys=False), ports


@contextmanager
def running_collector(otelcol: str, config: Path, ports: Ports, log: Path, timeout_s: float = 30.0) -> Iterator[None]:
    """The Collector running ``config`` until the block ends; waits for its health check first."""
    with log.open("wb") as out:
        proc = subprocess.Popen([otelcol, f"--config={config}"], stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"otelcol exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{ports.health}/", timeout=1) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"otelcol not healthy after {timeout_s}s:\n{log.read_text()[-4000:]}")
                time.sleep(0.1)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)')
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    """The samples of the Collector's own /metrics: (name, labels, value)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is None or line.startswith("#"):
            continue
        labels = {m["key"]: m["value"] for m in _LABEL.finditer(match["labels"] or "")}
        samples.append((match["name"], labels, float(match["value"])))
    return samples
