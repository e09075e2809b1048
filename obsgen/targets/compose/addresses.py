"""Which compose service answers each address the rendered configs use, and whether compose can run them.

The rendered configs reach each other by the host names and ports in the spec (``backends.*.url``, the
Collector's ``metrics_host`` and ``sampler_service``). Inside compose a service is reached by its name or
by a network alias, so every host name the configs use that is not a service name becomes an alias of the
service behind it: the configs are mounted unchanged. A container listens on the port the spec names
(Prometheus, Loki and Grafana get it as a flag; Tempo's rendered config already listens on its URL's
port), so no port is remapped either.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from obsgen.plan import Plan
from obsgen.targets.compose import stack

COLLECTOR = "otel-collector"
GATEWAY = "otel-gateway"
SAMPLER = "otel-sampler"
TEMPO = "tempo"
LOKI = "loki"
PROMETHEUS = "prometheus"
GRAFANA = "grafana"
TRAFFIC = "traffic"

# Ports the images listen on unless told otherwise (Loki's local-config.yaml, Grafana's defaults.ini).
LOKI_DEFAULT_PORT = 3100
GRAFANA_DEFAULT_PORT = 3000


Field = tuple[str, ...]
"""Where a value is in the spec (``("backends", "tempo", "url")``): diagnostics are positioned there."""


class Address(NamedTuple):
    """One address a rendered config uses: who uses it, the host and port, the service behind it, and the
    spec field it comes from."""

    used_by: str
    host: str
    port: int
    service: str
    field: Field


class Obstacle(NamedTuple):
    """Why the rendered configs cannot run under Docker Compose, and the spec field that decides it.

    ``kubernetes_layout``: the spec chose a layout only Kubernetes runs (helm/), not a value compose cannot
    carry; nothing is wrong with it, so it is not worth a warning.
    """

    reason: str
    field: Field
    kubernetes_layout: bool = False


# The spec fields the addresses come from.
TEMPO_URL: Field = ("backends", "tempo", "url")
TEMPO_OTLP_ENDPOINT: Field = ("backends", "tempo", "otlp_endpoint")
PROMETHEUS_URL: Field = ("backends", "prometheus", "url")
REMOTE_WRITE_URL: Field = ("backends", "prometheus", "remote_write_url")
LOKI_URL: Field = ("backends", "loki", "url")
METRICS_HOST: Field = ("collector", "metrics_host")
SAMPLER_SERVICE: Field = ("collector", "sampler_service")

# A DNS name Docker's resolver can answer for as a network alias (RFC 1123 labels; ``_`` as Compose allows
# in service names).
_HOST_NAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                        r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$")


def _split(text: str, default_port: int) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL or ``host:port``; host "" when it cannot be read."""
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        return parts.scheme, parts.hostname or "", parts.port or default_port
    except ValueError:  # the spec's checks refuse such URLs; this keeps the target total
        return "", "", default_port


def collector_front(plan: Plan) -> str:
    """The service that receives OTLP from applications: the single Collector or the gateway tier."""
    return COLLECTOR if plan.spec.collector.replicas <= 1 else GATEWAY


def service_names(plan: Plan) -> list[str]:
    """The compose services of this spec's stack."""
    collectors = [COLLECTOR] if plan.spec.collector.replicas <= 1 else [SAMPLER, GATEWAY]
    loki = [LOKI] if plan.spec.backends.loki is not None else []
    return [TEMPO, PROMETHEUS, *loki, *collectors, GRAFANA, TRAFFIC]


def addresses(plan: Plan) -> list[Address]:
    """Every address the rendered configs use to reach another part of the stack."""
    spec = plan.spec
    backends = spec.backends
    collector = spec.collector
    out: list[Address] = []

    def add(used_by: str, text: str, default_port: int, service: str, field: Field) -> None:
        _, host, port = _split(text, default_port)
        out.append(Address(used_by, host, port, service, field))

    add("Grafana's Tempo datasource", backends.tempo.url, 80, TEMPO, TEMPO_URL)
    add("the Collector's Tempo exporter", backends.tempo.otlp_endpoint, stack.OTLP_GRPC_PORT, TEMPO,
        TEMPO_OTLP_ENDPOINT)
    add("Grafana's Prometheus datasource", backends.prometheus.url, 80, PROMETHEUS, PROMETHEUS_URL)
    if collector.metrics_export == "remote_write" or plan.span_metrics.source == "tempo":
        add("remote write (Collector or Tempo)", backends.prometheus.remote_write_url, 80, PROMETHEUS,
            REMOTE_WRITE_URL)
    if backends.loki is not None:
        add("Grafana's Loki datasource", backends.loki.url, 80, LOKI, LOKI_URL)
    add("Prometheus' Collector scrape job", f"{collector.metrics_host}:{stack.TELEMETRY_PORT}", 0,
        collector_front(plan), METRICS_HOST)
    if collector.metrics_export == "scrape" and plan.span_metrics.source == "collector":
        span_host, span_field = ((collector.metrics_host, METRICS_HOST) if collector.replicas <= 1
                                 else (collector.sampler_service, SAMPLER_SERVICE))
        add("Prometheus' span-metrics scrape job", f"{span_host}:{stack.scrape_port()}", 0,
            collector_front(plan) if collector.replicas <= 1 else SAMPLER, span_field)
    if collector.replicas > 1:
        add("the gateway's dns resolver", f"{collector.sampler_service}:{stack.OTLP_GRPC_PORT}", 0, SAMPLER,
            SAMPLER_SERVICE)
        add("Prometheus' sampler scrape job", f"{collector.sampler_service}:{stack.TELEMETRY_PORT}", 0, SAMPLER,
            SAMPLER_SERVICE)
    return out


def aliases(plan: Plan) -> dict[str, list[str]]:
    """Network aliases per service: every host name the configs use for it that is not its own name."""
    out: dict[str, list[str]] = {}
    for address in addresses(plan):
        if address.host != address.service and address.host not in out.setdefault(address.service, []):
            out[address.service].append(address.host)
    return {service: sorted(names) for service, names in out.items() if names}


def listen_port(plan: Plan, service: str) -> int:
    """The port a backend listens on inside compose: the one the spec's URL for it names."""
    backends = plan.spec.backends
    if service == PROMETHEUS:
        return _split(backends.prometheus.url, 80)[2]
    if service == TEMPO:
        return _split(backends.tempo.url, 80)[2]
    if service == LOKI:
        return _split(backends.loki.url, 80)[2] if backends.loki is not None else LOKI_DEFAULT_PORT
    if service == GRAFANA:
        # backends.grafana.url is where people open Grafana (links in alerts), not an address the stack uses
        return GRAFANA_DEFAULT_PORT
    raise ValueError(service)


def why_not_runnable(plan: Plan) -> str | None:
    """Why the rendered configs cannot run under Docker Compose as they are, or None when they can."""
    found = obstacle(plan)
    return found.reason if found is not None else None


def obstacle(plan: Plan) -> Obstacle | None:
    """What keeps the rendered configs from running under Docker Compose as they are, or None."""
    spec = plan.spec
    if spec.backends.tempo.mode == "distributed":
        return Obstacle("Tempo's distributed mode needs object storage, Kafka and a component per process "
                        "(helm/ and the tempo-distributed chart run it)", ("backends", "tempo", "mode"),
                        kubernetes_layout=True)
    if spec.collector.replicas > 1 and spec.collector.resolver == "k8s":
        return Obstacle("the gateway's k8s resolver asks the Kubernetes API for the sampler pods",
                        ("collector", "resolver"), kubernetes_layout=True)
    names = service_names(plan)
    services_by_host: dict[str, Address] = {}
    ports: dict[str, set[int]] = {}
    for address in addresses(plan):
        if not address.host:
            return Obstacle(f"{address.used_by} has no host name", address.field)
        if not _HOST_NAME.match(address.host):
            return Obstacle(f"{address.used_by} names {address.host!r}, which is not a host name a container "
                            "can answer for", address.field)
        try:
            ipaddress.ip_address(address.host)
            return Obstacle(f"{address.used_by} uses the IP address {address.host}, which no container has",
                            address.field)
        except ValueError:
            pass
        if address.host in names and address.host != address.service:
            return Obstacle(f"{address.used_by} names the host {address.host}, which is another service of the "
                            "stack", address.field)
        other = services_by_host.setdefault(address.host, address)
        if other.service != address.service:
            return Obstacle(f"the host name {address.host} is used for both {other.service} and {address.service}",
                            address.field)
        ports.setdefault(address.service, set()).add(address.port)
    for text, field in _urls(plan):
        scheme = _split(text, 80)[0]
        if scheme != "http":
            return Obstacle(f"{text} is not plain http, and the local stack serves no TLS", field)
    if _split(spec.backends.tempo.otlp_endpoint, stack.OTLP_GRPC_PORT)[2] != stack.OTLP_GRPC_PORT:
        return Obstacle(f"Tempo's rendered config receives OTLP on {stack.OTLP_GRPC_PORT}, not on the "
                        "otlp_endpoint's port", TEMPO_OTLP_ENDPOINT)
    if len(ports.get(PROMETHEUS, set())) > 1:
        return Obstacle("backends.prometheus.url and remote_write_url name different ports of one Prometheus",
                        REMOTE_WRITE_URL)
    return None


def _urls(plan: Plan) -> list[tuple[str, Field]]:
    backends = plan.spec.backends
    urls = [(backends.tempo.url, TEMPO_URL), (backends.prometheus.url, PROMETHEUS_URL),
            (backends.prometheus.remote_write_url, REMOTE_WRITE_URL)]
    if backends.loki is not None:
        urls.append((backends.loki.url, LOKI_URL))
    return urls
