"""Which addresses the rendered configs dial, and which compose service listens on each (for the tests).

Independent of the compose target's own bookkeeping: the addresses are read from the rendered files (the
Collector's exporters and resolver, Prometheus' scrape jobs, Grafana's datasources, Tempo's remote write),
the services and their network aliases from the project compose-go loaded, and each service's listening
ports from the config file it mounts (or its command line).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.compose.conftest import loaded_project

_LISTEN = re.compile(r"^(?:0\.0\.0\.0)?:(\d+)$")


def _host_port(text: str) -> tuple[str, int]:
    parts = urlsplit(text if "://" in text else f"//{text}")
    assert parts.hostname and parts.port, f"{text!r} names no host and port"
    return parts.hostname, parts.port


def _walk(node: object, key: str = "") -> list[tuple[str, object, dict[str, object]]]:
    """(key, value, parent mapping) for every mapping entry under ``node``."""
    out: list[tuple[str, object, dict[str, object]]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((str(k), v, node))
            out += _walk(v, str(k))
    elif isinstance(node, list):
        for item in node:
            out += _walk(item, key)
    return out


def used_addresses(folder: Path) -> list[tuple[str, str, int]]:
    """(file, host, port) of every address the rendered configs dial."""
    out: list[tuple[str, str, int]] = []
    for path in sorted((folder / "otel-collector").glob("*.yaml")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, value, parent in _walk(config.get("exporters", {})):
            if key == "endpoint" and isinstance(value, str) and not _LISTEN.match(value.replace("0.0.0.0", "")):
                out.append((path.name, *_host_port(value)))  # (the prometheus exporter's is a listen address)
            if key == "hostname":
                out.append((path.name, str(value), int(str(parent["port"]))))
    prometheus = yaml.safe_load((folder / "prometheus" / "prometheus.yaml").read_text(encoding="utf-8"))
    for job in prometheus["scrape_configs"]:
        for static in job.get("static_configs", []):
            out += [("prometheus.yaml", *_host_port(t)) for t in static["targets"]]
        for sd in job.get("dns_sd_configs", []):
            out += [("prometheus.yaml", name, sd["port"]) for name in sd["names"]]
    datasources = folder / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
    for source in yaml.safe_load(datasources.read_text(encoding="utf-8"))["datasources"]:
        out.append(("datasources.yaml", *_host_port(source["url"])))
    tempo = yaml.safe_load((folder / "tempo" / "tempo.yaml").read_text(encoding="utf-8"))
    for remote in tempo.get("metrics_generator", {}).get("storage", {}).get("remote_write", []):
        out.append(("tempo.yaml", *_host_port(remote["url"])))
    return out


def listening_ports(service: dict[str, object]) -> set[int]:
    """Ports a service listens on: from the config file it mounts, or from its command line."""
    ports: set[int] = set()
    command = [str(c) for c in service.get("command") or []]
    for volume in service.get("volumes", []):  # type: ignore[union-attr]
        source = Path(volume["source"])
        if source.is_file() and source.suffix == ".yaml" and volume["target"] != "/src":
            config = yaml.safe_load(source.read_text(encoding="utf-8"))
            for key, value, _ in _walk(config):
                if key in ("endpoint", "http_listen_port", "port") and isinstance(value, (str, int)):
                    match = _LISTEN.match(str(value)) if isinstance(value, str) else None
                    if match:
                        ports.add(int(match.group(1)))
                    elif isinstance(value, int) or str(value).isdigit():
                        ports.add(int(value))
    for arg in command:
        for flag in ("--web.listen-address=", "-server.http-listen-port="):
            if arg.startswith(flag):
                ports.add(int(arg.rsplit(":", 1)[-1].rsplit("=", 1)[-1]))
    image = str(service["image"])
    if image.startswith("grafana/loki:") and not any(a.startswith("-server.http-listen-port=") for a in command):
        ports.add(3100)  # the image's local-config.yaml
    return ports


def assert_addresses_resolve(composecheck: str, folder: Path) -> None:
    """Every address the rendered configs in ``folder`` dial is a compose service or alias listening on that port."""
    project = loaded_project(composecheck, folder / "docker-compose.yaml")
    services = project["services"]
    assert isinstance(services, dict)
    names: dict[str, str] = {}
    for name, service in services.items():
        names[name] = name
        for alias in ((service.get("networks") or {}).get("default") or {}).get("aliases") or []:
            assert alias not in names, f"{alias} answers for two services"
            names[alias] = name
    addresses = used_addresses(folder)
    assert addresses
    for file, host, port in addresses:
        assert host in names, f"{file}: {host}:{port} is no compose service or alias"
        service = names[host]
        assert port in listening_ports(services[service]), f"{file}: {service} does not listen on {port}"
