"""Kubernetes object names the values files and the rendered Collector configs must agree on."""

from __future__ import annotations

from typing import NamedTuple

from obsgen.spec.models import Spec
from obsgen.targets.collector.components import k8s_service

# Chart value files the names are written for (the target's outputs).
DIRECTORY = "helm"
GATEWAY_VALUES = f"{DIRECTORY}/otel-collector-gateway.values.yaml"
SAMPLER_VALUES = f"{DIRECTORY}/otel-collector-sampler.values.yaml"
TEMPO_VALUES = f"{DIRECTORY}/tempo-distributed.values.yaml"
GRAFANA_VALUES = f"{DIRECTORY}/grafana.values.yaml"
PROMETHEUS_RULE = f"{DIRECTORY}/prometheus-rule.yaml"


class SamplerService(NamedTuple):
    """The sampler tier's headless Service as the gateway's resolver names it."""

    name: str
    namespace: str | None  # None: unqualified, i.e. the gateway's own namespace


def sampler_service(spec: Spec) -> SamplerService:
    """The Service the rendered gateway's load-balancing resolver points at.

    k8s resolver: ``service: name.namespace`` (``collector_components.k8s_service``, what the gateway
    config holds). dns resolver: ``hostname: name.namespace.svc.<cluster domain>`` (first two labels).
    """
    collector = spec.collector
    text = k8s_service(collector.sampler_service) if collector.resolver == "k8s" else collector.sampler_service
    labels = text.split(".")
    return SamplerService(labels[0], labels[1] if len(labels) > 1 else None)
