"""Values for the opentelemetry-collector chart: the gateway (Deployment) and sampler (StatefulSet) releases.

Keys are the chart's own (``opentelemetry-collector-0.170.0.values.yaml``; every file is validated
against its ``values.schema.json`` in the tests). The rendered Collector configs go under ``config``
with a ``null`` for each chart default obsgen did not render (``chart_merge``), so what the chart
writes into its ConfigMap is exactly ``otel-collector/gateway.yaml`` / ``sampler.yaml``.
"""

from __future__ import annotations

from typing import cast

import yaml

from obsgen.plan import Plan
from obsgen.targets.collector import target as collector
from obsgen.targets.collector.components import HEALTH_CHECK_ENDPOINT, OTLP_GRPC_PORT, TELEMETRY_PORT
from obsgen.targets.collector.values import memory_sizing
from obsgen.targets.helm.chart_merge import CHART_DEFAULT_CONFIG, nulls_for_chart_defaults, tpl_literal
from obsgen.targets.helm.names import sampler_service

OTLP_HTTP_PORT = 4318
HEALTH_PORT = int(HEALTH_CHECK_ENDPOINT.rpartition(":")[2])
# Ports the chart opens by default for receivers obsgen does not render (values.yaml ``ports``).
UNUSED_DEFAULT_PORTS = ("jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin")


def rendered_config(plan: Plan, name: str) -> dict[str, object]:
    """The Collector config obsgen renders for ``gateway.yaml`` or ``sampler.yaml``, as data."""
    for artifact in collector.render(plan):
        if artifact.path == f"{collector.DIRECTORY}/{name}":
            return cast(dict[str, object], yaml.safe_load(artifact.text))
    raise ValueError(f"the collector target renders no {name} for this plan (collector.replicas must be > 1)")


def chart_config(plan: Plan, name: str) -> dict[str, object]:
    """``config`` for the chart: obsgen's config, tpl-escaped, with the chart's extra defaults nulled."""
    return nulls_for_chart_defaults(cast(dict[str, object], tpl_literal(rendered_config(plan, name))),
                                    CHART_DEFAULT_CONFIG)


def _probe(initial_delay: int) -> dict[str, object]:
    # The health_check extension answers on HEALTH_CHECK_ENDPOINT, path "/" (its default).
    return {"httpGet": {"port": HEALTH_PORT, "path": "/"}, "initialDelaySeconds": initial_delay, "periodSeconds": 10}


def _ports() -> dict[str, object]:
    ports: dict[str, object] = {name: {"enabled": False} for name in UNUSED_DEFAULT_PORTS}
    ports["otlp"] = {"enabled": True, "containerPort": OTLP_GRPC_PORT, "servicePort": OTLP_GRPC_PORT,
                     "protocol": "TCP", "appProtocol": "grpc"}
    ports["otlp-http"] = {"enabled": True, "containerPort": OTLP_HTTP_PORT, "servicePort": OTLP_HTTP_PORT,
                          "protocol": "TCP"}
    # The Collector's own metrics (tail-sampling decisions, refused spans), scraped by the telemetry rules.
    ports["metrics"] = {"enabled": True, "containerPort": TELEMETRY_PORT, "servicePort": TELEMETRY_PORT,
                        "protocol": "TCP"}
    return ports


def _common(plan: Plan, name: str, gomemlimit_mib: int) -> dict[str, object]:
    return {
        "image": {"repository": "otel/opentelemetry-collector-contrib", "tag": plan.spec.stack.collector},
        "command": {"name": "otelcol-contrib"},
        # The chart would set GOMEMLIMIT to 80% of limits.memory (values.yaml ``useGOMEMLIMIT``); obsgen's
        # is 80% of the memory_limiter's hard limit (collector_values.GOMEMLIMIT_SHARE), set explicitly.
        "useGOMEMLIMIT": False,
        # On by default: renames deprecated component ids (_helpers.tpl deprecatedComponentRenames: filelog,
        # k8sattributes), none of which obsgen writes; off, so nothing can touch the rendered config.
        "rewriteDeprecatedComponentNames": False,
        "extraEnvs": [{"name": "GOMEMLIMIT", "value": f"{gomemlimit_mib}MiB"}],
        "ports": _ports(),
        "livenessProbe": _probe(10),
        "readinessProbe": _probe(5),
        "config": chart_config(plan, name),
    }


def _resources(cpu: str, request_mib: int, limit_mib: int) -> dict[str, object]:
    return {"requests": {"cpu": cpu, "memory": f"{request_mib}Mi"}, "limits": {"memory": f"{limit_mib}Mi"}}


def gateway_values(plan: Plan) -> dict[str, object]:
    """The gateway release: stateless Deployment, autoscaled, allowed to watch the samplers' EndpointSlices."""
    spec = plan.spec
    k8s = spec.kubernetes
    assert k8s is not None
    limit = spec.collector.memory_limit_mib
    values: dict[str, object] = {
        "mode": "deployment",
        "fullnameOverride": k8s.gateway_release,
        "namespaceOverride": k8s.namespace,
    }
    values.update(_common(plan, "gateway.yaml", memory_sizing(limit).gomemlimit_mib))
    values["resources"] = _resources(k8s.gateway.cpu, limit, limit)
    values["autoscaling"] = {
        "enabled": True,
        "minReplicas": k8s.gateway.min_replicas,
        "maxReplicas": k8s.gateway.max_replicas,
        "targetCPUUtilizationPercentage": k8s.gateway.target_cpu_utilization,
    }
    values["podDisruptionBudget"] = {"enabled": True, "minAvailable": 1}
    if spec.collector.resolver == "k8s":
        # contrib loadbalancingexporter v0.159.0 README: the k8s resolver needs get, list and watch on
        # discovery.k8s.io/v1 EndpointSlices (resolver_k8s.go lists and watches them in the service's namespace).
        values["clusterRole"] = {"create": True, "rules": [{
            "apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["get", "list", "watch"],
        }]}
    return values


def sampler_values(plan: Plan) -> dict[str, object]:
    """The sampler release: a StatefulSet whose governing Service is the headless one the gateway resolves."""
    spec = plan.spec
    k8s = spec.kubernetes
    assert k8s is not None
    memory = plan.sampler_memory  # the limit sampler.yaml's memory_limiter is sized from
    service = sampler_service(spec)
    values: dict[str, object] = {
        "mode": "statefulset",
        # The StatefulSet's serviceName and the Service are both named after the fullname (chart templates
        # statefulset.yaml and service.yaml), so this is the name in the gateway's resolver.
        "fullnameOverride": service.name,
        "namespaceOverride": k8s.namespace,
        "replicaCount": spec.collector.replicas,
        # Headless: DNS and EndpointSlices list every sampler pod, so the gateway hashes trace ids over pods.
        "service": {"type": "ClusterIP", "clusterIP": "None"},
        "statefulset": {"podManagementPolicy": "Parallel"},
    }
    values.update(_common(plan, "sampler.yaml", memory.gomemlimit_mib))
    values["resources"] = _resources(k8s.sampler.cpu, memory.request_mib, memory.limit_mib)
    # One sampler at a time may be drained: its share of trace ids moves to the others.
    values["podDisruptionBudget"] = {"enabled": True, "maxUnavailable": 1}
    return values
