"""Kubernetes target: values files for the official Helm charts and a PrometheusRule, in ``helm/``.

Only with a ``kubernetes:`` section in the spec (and a two-tier Collector, semantic check OBS320).
Everything is built from the plan through the other targets' pure functions, so the values carry
exactly the configs, datasources, dashboards and rules those targets render. README "Running at
scale" says which file goes to which chart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from obsgen.check.strict import StrictError
from obsgen.emit.artifacts import Artifact, header_lines, yaml_artifact
from obsgen.plan import Plan
from obsgen.spec.versions import version_tuple
from obsgen.targets.collector.strict.config import validate_collector_config
from obsgen.targets.helm import names
from obsgen.targets.helm.chart_merge import CHART_DEFAULT_CONFIG, helm_merge, tpl_read
from obsgen.targets.helm.collector_values import gateway_values, sampler_values
from obsgen.targets.helm.grafana_values import grafana_values
from obsgen.targets.helm.names import sampler_service
from obsgen.targets.helm.prometheus_rule import prometheus_rule
from obsgen.targets.helm.tempo_values import credentials_secret, tempo_values
from obsgen.targets.prometheus.strict import check_rule_file


def collector_config_in_chart(values: dict[str, object]) -> object:
    """The Collector config the chart writes for these values: Helm's merge with its defaults, then ``tpl``."""
    return tpl_read(helm_merge(CHART_DEFAULT_CONFIG, values["config"]))


def _check_collector(version: tuple[int, int, int], doc: object) -> list[StrictError]:
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
        return [StrictError("config", "the values hold no Collector config")]
    return validate_collector_config(collector_config_in_chart(doc), version=version)


def _check_rule(doc: object) -> list[StrictError]:
    if not isinstance(doc, dict):
        return [StrictError("", "not a mapping")]
    return check_rule_file({"groups": doc.get("spec", {}).get("groups")})


def _artifact(plan: Plan, path: str, notes: list[str], data: dict[str, object],
              checker: Callable[[object], list[StrictError]] | None) -> Artifact:
    comments = "".join(f"# {line}\n" for line in notes)
    return yaml_artifact(path, header_lines(plan.spec_file) + comments + "\n", data, checker)


def _collector_notes(plan: Plan, chart: str, release: str, role: str) -> list[str]:
    k8s = plan.spec.kubernetes
    assert k8s is not None
    return [
        f"opentelemetry-collector chart {chart}, release {release} ({role}):",
        f"  helm upgrade --install {release} open-telemetry/opentelemetry-collector --version {chart} "
        f"--namespace {k8s.namespace} -f {names.DIRECTORY}/{'otel-collector-' + role}.values.yaml",
        "`config` is otel-collector/" + role + ".yaml. The chart merges it with its default config",
        "(opentelemetry-collector-0.170.0.values.yaml `config`: jaeger, zipkin and prometheus receivers, a debug",
        "exporter, logs/metrics/traces pipelines, a percentage memory_limiter); every default key obsgen did not",
        "render is set to null, which deletes it in Helm's merge. (Installed as a subchart, nulls do not delete",
        "(helm/helm#12879): put this `config` under `alternateConfig` instead.)",
    ]


def render(plan: Plan) -> list[Artifact]:
    """The helm/ files, or none without a kubernetes section."""
    spec = plan.spec
    k8s = spec.kubernetes
    if k8s is None:
        return []
    charts = k8s.charts
    version = version_tuple(spec.stack.collector)
    memory = plan.sampler_memory
    service = sampler_service(spec)
    sampler_notes = [
        *_collector_notes(plan, charts.opentelemetry_collector, service.name, "sampler"),
        f"StatefulSet of {spec.collector.replicas} behind the headless Service {service.name}, which the gateway's",
        f"load-balancing {spec.collector.resolver} resolver targets ({spec.collector.sampler_service}).",
        "Sizing: " + memory.comment() + ".",
    ]
    gateway_notes = [
        *_collector_notes(plan, charts.opentelemetry_collector, k8s.gateway_release, "gateway"),
        f"Deployment autoscaled between {k8s.gateway.min_replicas} and {k8s.gateway.max_replicas} pods on CPU.",
    ]
    tempo_notes = [
        f"tempo-distributed chart {charts.tempo_distributed}, release {k8s.tempo_release}:",
        f"  helm upgrade --install {k8s.tempo_release} grafana/tempo-distributed --version "
        f"{charts.tempo_distributed} --namespace {k8s.namespace} -f {names.TEMPO_VALUES}",
        f"S3 keys come from the Secret {credentials_secret(plan)} (create it first), read with -config.expand-env.",
        f"Tempo 3 distributors write to Kafka at {k8s.kafka_address} (not installed by the chart).",
    ]
    grafana_notes = [
        f"grafana chart {charts.grafana}, release {k8s.grafana_release}:",
        f"  helm upgrade --install {k8s.grafana_release} grafana/grafana --version {charts.grafana} "
        f"--namespace {k8s.namespace} -f {names.GRAFANA_VALUES}",
    ]
    rule_notes = [
        "For prometheus-operator: kubectl apply -f " + names.PROMETHEUS_RULE,
        "The same groups as prometheus/rules/*.yaml (their promtool tests cover these rules).",
    ]
    return [
        _artifact(plan, names.GATEWAY_VALUES, gateway_notes, gateway_values(plan), partial(_check_collector, version)),
        _artifact(plan, names.SAMPLER_VALUES, sampler_notes, sampler_values(plan), partial(_check_collector, version)),
        _artifact(plan, names.TEMPO_VALUES, tempo_notes, tempo_values(plan), None),
        _artifact(plan, names.GRAFANA_VALUES, grafana_notes, grafana_values(plan), None),
        _artifact(plan, names.PROMETHEUS_RULE, rule_notes, prometheus_rule(plan), _check_rule),
    ]


