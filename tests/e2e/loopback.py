"""Rewrite a rendered stack onto loopback ports: as little as needed, and nothing left pointing elsewhere.

The rendered files name the hosts of a deployment (``tempo:4317``, ``prometheus:9090``, ``otel-collector:8888``,
a Kubernetes headless Service) and listen on fixed ports of every interface. Here every process runs on
127.0.0.1 on a free port, several stacks at once, so exactly these values change:

* Collector: the OTLP receiver's, health check's and own-metrics endpoints; the exporter to Tempo (the OTLP sink
  instead), the remote-write URL, the Prometheus exporter's endpoint; the load-balancing exporter's ``k8s``
  resolver becomes ``static`` over the loopback sampler instances (same routing key and protocol).
* Prometheus: each scrape target (and the samplers' DNS discovery) becomes the loopback address of the same
  process; rule groups' ``interval`` (and ``evaluation_interval``) shrink so that phases of minutes see enough
  evaluations. Rule expressions, labels and ``for:`` are untouched.

``leftover_hosts`` then proves no endpoint still names a non-loopback host.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.servers import LOOPBACK

# host:port, or a URL with one, whose host is not loopback: what must not survive the rewrite
_HOST_PORT = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?(?P<host>[A-Za-z0-9_.-]+):(?P<port>\d+)(?:/.*)?$")


@dataclass(frozen=True)
class CollectorPorts:
    """The loopback ports one Collector process listens on."""

    grpc: int
    http: int
    health: int
    telemetry: int
    metrics_exporter: int  # the `prometheus` exporter, when the config has one (scrape delivery)

    @property
    def otlp_http(self) -> str:
        return f"http://{LOOPBACK}:{self.http}"


def _kind(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def rewrite_collector(config: Mapping[str, Any], ports: CollectorPorts, *, sink_grpc: str | None,
                      remote_write_url: str | None, samplers: Sequence[str] = ()) -> dict[str, Any]:
    """A copy of a rendered Collector config with every endpoint on loopback (see the module doc)."""
    out: dict[str, Any] = copy.deepcopy(dict(config))
    for name, ext in (out.get("extensions") or {}).items():
        if _kind(name) == "health_check":
            ext["endpoint"] = f"{LOOPBACK}:{ports.health}"
    for name, receiver in (out.get("receivers") or {}).items():
        if _kind(name) == "otlp":
            protocols = receiver["protocols"]
            if "grpc" in protocols:
                protocols["grpc"]["endpoint"] = f"{LOOPBACK}:{ports.grpc}"
            if "http" in protocols:
                protocols["http"]["endpoint"] = f"{LOOPBACK}:{ports.http}"
    for reader in out["service"]["telemetry"]["metrics"]["readers"]:
        exporter = reader["pull"]["exporter"]["prometheus"]
        exporter["host"], exporter["port"] = LOOPBACK, ports.telemetry
    for name, exporter in (out.get("exporters") or {}).items():
        kind = _kind(name)
        if kind in ("otlp", "otlp_grpc") and "endpoint" in exporter:
            if sink_grpc is None:
                raise ValueError(f"exporter {name} sends traces but no sink was given")
            exporter["endpoint"] = sink_grpc
        elif kind == "prometheus_remote_write":
            if remote_write_url is None:
                raise ValueError(f"exporter {name} remote-writes but no Prometheus was given")
            exporter["http"]["endpoint"] = remote_write_url
        elif kind == "prometheus":
            exporter["endpoint"] = f"{LOOPBACK}:{ports.metrics_exporter}"
        elif kind == "load_balancing":
            if not samplers:
                raise ValueError(f"exporter {name} balances over samplers but none were given")
            exporter["resolver"] = {"static": {"hostnames": list(samplers)}}
    return out


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def leftover_hosts(config: Mapping[str, Any]) -> list[str]:
    """Every ``host:port`` or URL value whose host is not 127.0.0.1 (empty when the rewrite is complete)."""
    out = []
    for path, value in _strings(config):
        match = _HOST_PORT.match(value)
        if match and match.group("host") != LOOPBACK:
            out.append(f"{path}: {value}")
    return out


@dataclass(frozen=True)
class ScrapeTargets:
    """Where the processes a rendered ``prometheus.yaml`` scrapes really listen."""

    collector: str  # the single Collector or the gateway: its own metrics
    samplers: Sequence[str]  # each sampler's own metrics (gateway layout)
    metrics_exporter: str | None  # the single Collector's `prometheus` exporter (scrape delivery)
    own_metrics_port: int = 8888  # the port the rendered config scrapes for the Collector's own metrics


def rewrite_prometheus(config: Mapping[str, Any], targets: ScrapeTargets, eval_interval: str) -> dict[str, Any]:
    """A copy of the rendered ``prometheus.yaml`` scraping the loopback processes."""
    out: dict[str, Any] = copy.deepcopy(dict(config))
    out.setdefault("global", {})["evaluation_interval"] = eval_interval
    for job in out.get("scrape_configs") or []:
        is_sampler_job = "sampler" in job["job_name"]
        new_targets: list[str] = []
        for static in job.pop("static_configs", []) or []:
            for target in static["targets"]:
                port = int(target.rsplit(":", 1)[1])
                if port == targets.own_metrics_port:
                    new_targets.extend(targets.samplers if is_sampler_job else [targets.collector])
                elif targets.metrics_exporter is not None:
                    new_targets.append(targets.metrics_exporter)
                else:
                    raise ValueError(f"job {job['job_name']}: no loopback process for target {target}")
        for _ in job.pop("dns_sd_configs", []) or []:
            if not is_sampler_job:
                raise ValueError(f"job {job['job_name']}: DNS discovery of something other than the samplers")
            new_targets.extend(targets.samplers)
        if not new_targets:
            raise ValueError(f"job {job['job_name']}: no targets left (unknown discovery {sorted(job)})")
        job["static_configs"] = [{"targets": new_targets}]
    return out


def rewrite_rule_intervals(rules: Mapping[str, Any], interval: str) -> dict[str, Any]:
    """A copy of a rule file whose groups evaluate every ``interval`` (expressions unchanged)."""
    out: dict[str, Any] = copy.deepcopy(dict(rules))
    for group in out.get("groups") or []:
        group["interval"] = interval
    return out


def server_flags(prometheus_yaml_text: str) -> list[str]:
    """The server flags the rendered ``prometheus.yaml`` header asks for (``# --flag: why`` lines)."""
    flags = []
    for line in prometheus_yaml_text.splitlines():
        if not line.startswith("#"):
            break
        match = re.match(r"#\s*(--[a-z][a-z0-9.-]*(?:=\S+?)?):", line)
        if match:
            flags.append(match.group(1))
    return flags
