"""The Kubernetes target: values files checked against the pinned charts' own data, and the real Collector.

Chart templates cannot be fetched here (no Helm registry), so the proof that the charts accept the
values is what the charts publish with their values: the collector chart's ``values.schema.json``
(jsonschema), the default ``values.yaml`` of tempo-distributed and grafana (every key path obsgen
writes must exist there, except a few documented free-form maps), and the PrometheusRule CRD's
``openAPIV3Schema``. The Collector config the chart would write (Helm's merge with the chart's default
``config``, then ``tpl``) must be exactly obsgen's and pass the real ``otelcol validate``.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from obsgen.generate import generate, plan_spec
from obsgen.plan import Plan
from obsgen.targets import helm
from obsgen.targets.collector.memory import sampler_memory
from obsgen.targets.collector.values import memory_sizing
from obsgen.targets.helm import names
from obsgen.targets.helm.chart_merge import (
    CHART_DEFAULT_CONFIG,
    helm_merge,
    nulls_for_chart_defaults,
    tpl_literal,
    tpl_read,
)
from obsgen.targets.helm.collector_values import rendered_config
from obsgen.targets.prometheus.target import rule_files
from tests import realtools, upstream
from tests.conftest import ROOT

SPEC = ROOT / "tests" / "specs" / "kubernetes.yaml"
COLLECTOR_CHART = "opentelemetry-collector-0.170.0"
TEMPO_CHART = "tempo-distributed-3.3.0.values.yaml"
GRAFANA_CHART = "grafana-12.11.1.values.yaml"
RULE_CRD = "monitoring.coreos.com_prometheusrules.crd.yaml"

# Key paths whose contents the chart passes through as a free-form map (not in its defaults), with why.
TEMPO_FREE_FORM = {
    # values.yaml documents backend blocks under storage.trace (the commented azure example); the config
    # template writes `s3: {{- toYaml .Values.storage.trace.s3 }}` when backend is s3.
    ("storage", "trace", "s3"): "backend block, written with toYaml",
    # values.yaml: "default config values for all tenants ... should follow the new overrides indentation
    # format" (defaults: {}): Tempo's own overrides, written with toYaml.
    ("overrides", "defaults"): "Tempo overrides, written with toYaml",
    # defaults `external_labels: {}`: a label map.
    ("metricsGenerator", "config", "registry", "external_labels"): "label map",
}
GRAFANA_FREE_FORM = {
    # values.yaml: `datasources: {}` with the commented `datasources.yaml:` provisioning file.
    ("datasources",): "Grafana datasource provisioning files by file name",
    # values.yaml: `dashboardProviders: {}` with the commented `dashboardproviders.yaml:` file.
    ("dashboardProviders",): "Grafana dashboard provider files by file name",
    # values.yaml: "dashboards per provider, use provider name as key", each `<name>: {json: ...}`.
    ("dashboards",): "dashboards by provider and name",
}


def _plan(path: Path = SPEC) -> Plan:
    if path == SPEC:
        return _example_plan()
    result = plan_spec(path)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


@functools.cache
def _example_plan() -> Plan:
    result = plan_spec(SPEC)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


@functools.cache
def _example_texts() -> dict[str, str]:
    return {a.path: a.text for a in helm.render(_example_plan())}


def _spec(tmp_path: Path, text: str) -> Plan:
    path = tmp_path / "k.yaml"
    path.write_text(text)
    return _plan(path)


def _values(plan: Plan) -> dict[str, dict]:
    """Fresh (mutable) parsed values files of the plan."""
    texts = _example_texts() if plan is _example_plan() else {a.path: a.text for a in helm.render(plan)}
    return {path: yaml.safe_load(text) for path, text in texts.items()}


def _chart_values(name: str) -> dict:
    return yaml.safe_load(upstream.path("helm", name).read_text())


def missing_key_paths(values: object, defaults: object, free_form: dict[tuple[str, ...], str],
                      path: tuple[str, ...] = ()) -> list[str]:
    """Key paths of ``values`` that the chart's defaults do not have (or have with another shape)."""
    if path in free_form:
        return []
    if isinstance(values, dict):
        if not isinstance(defaults, dict):
            return [".".join(path) + f": a map where the chart has {type(defaults).__name__}"]
        out: list[str] = []
        for key, value in values.items():
            if (*path, key) in free_form:
                continue
            if key not in defaults:
                out.append(".".join((*path, key)))
            else:
                out += missing_key_paths(value, defaults[key], free_form, (*path, key))
        return out
    if isinstance(values, list) and defaults is not None and not isinstance(defaults, list):
        return [".".join(path) + f": a list where the chart has {type(defaults).__name__}"]
    return []


# ---------------------------------------------------------------------------------------------
# Collector chart


def test_the_embedded_chart_default_config_is_the_charts() -> None:
    """chart_merge.CHART_DEFAULT_CONFIG is a copy of the pinned chart's `config`: drift fails here."""
    assert _chart_values(f"{COLLECTOR_CHART}.values.yaml")["config"] == CHART_DEFAULT_CONFIG


def _schema_errors(values: dict) -> list[str]:
    """Helm validates values.schema.json against the coalesced values (chart defaults + the user's file)."""
    schema = json.loads(upstream.path("helm", f"{COLLECTOR_CHART}.values.schema.json").read_text())
    merged = helm_merge(_chart_values(f"{COLLECTOR_CHART}.values.yaml"), values)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(merged), key=str)
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


@pytest.mark.parametrize("path", [names.GATEWAY_VALUES, names.SAMPLER_VALUES])
def test_collector_values_validate_against_the_chart_schema(path: str) -> None:
    assert _schema_errors(_values(_plan())[path]) == []


def test_the_chart_schema_check_can_fail() -> None:
    values = _values(_plan())[names.SAMPLER_VALUES]
    values["service"]["clusterIp"] = "None"  # the chart's key is clusterIP
    assert _schema_errors(values)


@pytest.mark.parametrize(("path", "name"), [(names.GATEWAY_VALUES, "gateway.yaml"),
                                            (names.SAMPLER_VALUES, "sampler.yaml")])
def test_the_config_the_chart_writes_is_exactly_obsgens(path: str, name: str) -> None:
    """Helm's merge with the chart's real default config, then tpl: obsgen's rendered config, nothing added."""
    plan = _plan()
    values = _values(plan)[path]
    chart_default = _chart_values(f"{COLLECTOR_CHART}.values.yaml")["config"]
    assert tpl_read(helm_merge(chart_default, values["config"])) == rendered_config(plan, name)
    # Without the nulls the chart's receivers, exporter and pipelines would be in the running config.
    unnulled = _without_nulls(values["config"])
    assert "jaeger" in helm_merge(chart_default, unnulled)["receivers"]  # type: ignore[index]


def _without_nulls(data: object) -> object:
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    return data


def test_helm_merge_follows_helm() -> None:
    defaults = {"a": {"b": 1, "c": [1, 2]}, "d": 2}
    assert helm_merge(defaults, {"a": {"c": [3]}, "d": None, "e": {"f": None, "g": 1}}) == {
        "a": {"b": 1, "c": [3]}, "e": {"g": 1}}
    assert nulls_for_chart_defaults({"a": {"b": 5}}, defaults) == {"a": {"b": 5, "c": None}, "d": None}


def test_a_template_action_in_a_spec_string_survives_tpl() -> None:
    text = "^/api/{{tenant}}/x$"
    written = tpl_literal({"k": [text]})
    assert "{{tenant" not in json.dumps(written)
    assert tpl_read(written) == {"k": [text]}
    with pytest.raises(ValueError, match="unescaped"):
        tpl_read("{{ .Values.x }}")


@pytest.mark.parametrize("path", [names.GATEWAY_VALUES, names.SAMPLER_VALUES])
def test_the_merged_collector_config_passes_otelcol_validate(path: str, tmp_path: Path) -> None:
    """The real Collector, on the config the chart would write (k8s resolver as rendered: 0.159.0 validates it
    outside a cluster, see tests/test_otelcol.py)."""
    otelcol = realtools.require("otelcol")
    values = _values(_plan())[path]
    config = tmp_path / "relay.yaml"
    config.write_text(yaml.safe_dump(helm.collector_config_in_chart(values)), encoding="utf-8")
    result = subprocess.run([otelcol, "validate", f"--config={config}"], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "HOSTNAME": "collector-0"}, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_gateway_resolver_targets_the_sampler_statefulsets_headless_service() -> None:
    plan = _plan()
    values = _values(plan)
    sampler = values[names.SAMPLER_VALUES]
    resolver = rendered_config(plan, "gateway.yaml")["exporters"]["load_balancing"]["resolver"]  # type: ignore[index]
    assert resolver["k8s"]["service"] == f"{sampler['fullnameOverride']}.{sampler['namespaceOverride']}"
    assert sampler["mode"] == "statefulset" and sampler["service"]["clusterIP"] == "None"
    assert sampler["replicaCount"] == plan.spec.collector.replicas
    assert resolver["k8s"]["ports"] == [sampler["ports"]["otlp"]["containerPort"]]
    gateway = values[names.GATEWAY_VALUES]
    assert gateway["mode"] == "deployment" and gateway["autoscaling"]["enabled"] is True
    assert gateway["namespaceOverride"] == sampler["namespaceOverride"]
    rules = gateway["clusterRole"]["rules"]
    assert {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
            "verbs": ["get", "list", "watch"]} in rules
    assert gateway["podDisruptionBudget"]["enabled"] and sampler["podDisruptionBudget"]["enabled"]


def test_a_dns_resolver_gets_the_same_service_and_no_rbac(tmp_path: Path) -> None:
    text = SPEC.read_text().replace("resolver: k8s", "resolver: dns").replace(
        "sampler_service: otel-sampler-headless.observability",
        "sampler_service: otel-sampler-headless.observability.svc.cluster.local")
    plan = _spec(tmp_path, text)
    values = _values(plan)
    hostname = rendered_config(plan, "gateway.yaml")["exporters"]["load_balancing"]["resolver"]["dns"]["hostname"]  # type: ignore[index]
    sampler = values[names.SAMPLER_VALUES]
    assert hostname.split(".")[:2] == [sampler["fullnameOverride"], sampler["namespaceOverride"]]
    assert "clusterRole" not in values[names.GATEWAY_VALUES]


def test_memory_and_gomemlimit_come_from_the_sizing() -> None:
    plan = _plan()
    values = _values(plan)
    spec = plan.spec
    memory = sampler_memory(spec)
    assert memory == plan.sampler_memory
    sampler = values[names.SAMPLER_VALUES]
    # 4000 traces/s x 15s x 1.5 / 3 replicas = 30000 traces x 24 KiB = 704 MiB (rounded up).
    assert memory.num_traces == 30000 and memory.traces_mib == 704
    assert sampler["resources"]["requests"]["memory"] == f"{memory.request_mib}Mi"
    # The example leaves collector.memory_limit_mib unset: the sampler's limit follows the estimate
    # (tests/targets/test_sampler_limit.py), the gateway keeps collector.memory_limit_mib.
    assert sampler["resources"]["limits"]["memory"] == f"{memory.limit_mib}Mi"
    config = rendered_config(plan, "sampler.yaml")
    assert config["processors"]["tail_sampling"]["num_traces"] == memory.num_traces  # type: ignore[index]
    limiter = config["processors"]["memory_limiter"]  # type: ignore[index]
    assert limiter["limit_mib"] == memory_sizing(memory.limit_mib).limit_mib
    assert memory.request_mib <= limiter["limit_mib"] - limiter["spike_limit_mib"]
    limits = {names.GATEWAY_VALUES: spec.collector.memory_limit_mib, names.SAMPLER_VALUES: memory.limit_mib}
    for path, limit in limits.items():
        assert values[path]["useGOMEMLIMIT"] is False
        assert values[path]["resources"]["limits"]["memory"] == f"{limit}Mi"
        assert values[path]["extraEnvs"] == [
            {"name": "GOMEMLIMIT", "value": f"{memory_sizing(limit).gomemlimit_mib}MiB"}]


def test_probes_hit_the_health_check_extension() -> None:
    plan = _plan()
    for path, name in ((names.GATEWAY_VALUES, "gateway.yaml"), (names.SAMPLER_VALUES, "sampler.yaml")):
        endpoint = rendered_config(plan, name)["extensions"]["health_check"]["endpoint"]  # type: ignore[index]
        port = int(endpoint.rpartition(":")[2])
        for probe in ("livenessProbe", "readinessProbe"):
            assert _values(plan)[path][probe]["httpGet"] == {"port": port, "path": "/"}


# ---------------------------------------------------------------------------------------------
# tempo-distributed and grafana (no schema: key paths)


def test_tempo_values_use_only_the_charts_key_paths() -> None:
    values = _values(_plan())[names.TEMPO_VALUES]
    assert missing_key_paths(values, _chart_values(TEMPO_CHART), TEMPO_FREE_FORM) == []


def test_grafana_values_use_only_the_charts_key_paths() -> None:
    values = _values(_plan())[names.GRAFANA_VALUES]
    assert missing_key_paths(values, _chart_values(GRAFANA_CHART), GRAFANA_FREE_FORM) == []


def test_the_key_path_check_catches_a_typo() -> None:
    defaults = _chart_values(TEMPO_CHART)
    values = copy.deepcopy(_values(_plan())[names.TEMPO_VALUES])
    values["metricsGenerator"]["replica"] = 2
    values["queryFrontend"] = {"replicas": {"n": 1}}
    assert missing_key_paths(values, defaults, TEMPO_FREE_FORM) == [
        "queryFrontend.replicas: a map where the chart has int", "metricsGenerator.replica"]


# Where the chart's `config` template (a string in its values.yaml, rendered with tpl) reads each value obsgen
# sets: the values reach tempo.yaml only through these references (grafana/helm-charts#3800 was a case of
# generator values that did not).
TEMPO_TEMPLATE_READS = {
    ("metricsGenerator", "config", "processor"): "toYaml .Values.metricsGenerator.config.processor",
    ("metricsGenerator", "config", "registry"): "toYaml .Values.metricsGenerator.config.registry",
    ("metricsGenerator", "config", "storage"): "toYaml .Values.metricsGenerator.config.storage",
    ("storage", "trace", "s3"): "toYaml .Values.storage.trace.s3",
    ("storage", "trace", "backend"): "backend: {{.Values.storage.trace.backend}}",
    ("overrides",): "toYaml .Values.overrides",
    ("ingest", "kafka", "address"): "with .Values.ingest.kafka.address",
    ("ingest", "kafka", "auto_create_topic_default_partitions"):
        "$.Values.ingest.kafka.auto_create_topic_default_partitions",
    ("backendScheduler", "config", "provider", "compaction", "compaction", "block_retention"):
        ".Values.backendScheduler.config.provider.compaction.compaction.block_retention",
    ("multitenancyEnabled",): "multitenancy_enabled: {{ .Values.multitenancyEnabled }}",
    ("streamOverHTTPEnabled",): "stream_over_http_enabled: {{ .Values.streamOverHTTPEnabled }}",
}


def test_the_tempo_config_template_reads_every_config_value_obsgen_sets() -> None:
    template = _chart_values(TEMPO_CHART)["config"]
    values = _values(_plan())[names.TEMPO_VALUES]
    checked = 0
    for path, reference in TEMPO_TEMPLATE_READS.items():
        node = values
        for key in path:
            if key not in node:  # e.g. no metrics-generator: the Collector is the span-metrics source
                break
            node = node[key]
        else:
            assert reference in template, (path, reference)
            checked += 1
    assert checked >= 6


def test_tempo_values_carry_the_rendered_generator_storage_and_retention() -> None:
    plan = _plan()
    values = _values(plan)[names.TEMPO_VALUES]
    tempo_doc = yaml.safe_load(next(a.text for a in generate(SPEC).artifacts if a.path == "tempo/tempo.yaml"))
    generator = tempo_doc.get("metrics_generator")
    if generator is None:  # the Collector computes span metrics: Tempo 3 runs no generator, nor do the values
        assert values["metricsGenerator"] == {"enabled": False} or tpl_read(values["metricsGenerator"]) == {
            "enabled": False}
    else:
        assert values["metricsGenerator"]["config"]["storage"]["remote_write"] == generator["storage"]["remote_write"]
        assert values["metricsGenerator"]["config"]["processor"] == generator["processor"]
    assert ("overrides" in values) == ("overrides" in tempo_doc)
    if "overrides" in tempo_doc:
        assert tpl_read(values["overrides"]) == tempo_doc["overrides"]
    assert tpl_read(values["storage"]["trace"]["s3"]) == tempo_doc["storage"]["trace"]["s3"]
    retention = tempo_doc["backend_worker"]["compaction"]["block_retention"]
    assert values["backendScheduler"]["config"]["provider"]["compaction"]["compaction"]["block_retention"] == retention
    assert "-config.expand-env=true" in values["global"]["extraArgs"]


def test_grafana_values_carry_the_rendered_datasources_and_dashboards() -> None:
    plan = _plan()
    values = _values(plan)[names.GRAFANA_VALUES]
    rendered = {a.path: a.text for a in generate(SPEC).artifacts}
    datasources = yaml.safe_load(rendered["grafana/provisioning/datasources/datasources.yaml"])["datasources"]
    assert tpl_read(values["datasources"]["datasources.yaml"]["datasources"]) == datasources
    [provider] = values["dashboardProviders"]["dashboardproviders.yaml"]["providers"]
    boards = values["dashboards"][provider["name"]]
    # The chart mounts dashboards.<provider> at /var/lib/grafana/dashboards/<provider>.
    assert provider["options"]["path"] == f"/var/lib/grafana/dashboards/{provider['name']}"
    expected = {p.rpartition("/")[2].removesuffix(".json"): text for p, text in rendered.items()
                if p.startswith("grafana/dashboards/")}
    assert {name: board["json"] for name, board in boards.items()} == expected


# ---------------------------------------------------------------------------------------------
# PrometheusRule


def _pruning(schema: object) -> object:
    """The CRD schema with unknown fields refused: the API server would prune them (drop them silently)."""
    if isinstance(schema, dict):
        out = {k: _pruning(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_pruning(v) for v in schema]
    return schema


def _rule_schema() -> dict:
    crd = yaml.safe_load(upstream.path("helm", RULE_CRD).read_text())
    [version] = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    return _pruning(version["schema"]["openAPIV3Schema"])  # type: ignore[return-value]


# ObjectMeta rules the API server applies (k8s.io/apimachinery validation: IsDNS1123Subdomain, label keys
# and values); the CRD schema leaves metadata to them.
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                       r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def test_the_prometheus_rule_validates_against_the_crd() -> None:
    plan = _plan()
    rule = _values(plan)[names.PROMETHEUS_RULE]
    errors = sorted(jsonschema.Draft7Validator(_rule_schema()).iter_errors(rule), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])
    assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
    assert DNS_SUBDOMAIN.match(rule["metadata"]["name"]) and len(rule["metadata"]["name"]) <= 253
    assert rule["metadata"]["labels"] == {"release": "kube-prometheus-stack"}
    for key, value in rule["metadata"]["labels"].items():
        assert LABEL_KEY.match(key) and LABEL_VALUE.match(value), (key, value)
    groups = [g.data() for rf in rule_files(plan) for g in rf.groups]
    assert rule["spec"]["groups"] == json.loads(json.dumps(groups))
    names_ = [g["name"] for g in rule["spec"]["groups"]]
    assert len(names_) == len(set(names_)), "rule group names must be unique in one PrometheusRule"


def test_the_crd_check_can_fail() -> None:
    rule = _values(_plan())[names.PROMETHEUS_RULE]
    rule["spec"]["groups"][0]["rules"][0]["recrod"] = "x"
    assert not jsonschema.Draft7Validator(_rule_schema()).is_valid(rule)


# ---------------------------------------------------------------------------------------------
# Target wiring


def test_template_braces_in_spec_strings_survive_the_charts_tpl(tmp_path: Path) -> None:
    """The collector chart tpl's `config`, tempo-distributed tpl's its generated config a second time."""
    policy = "string_attribute: {key: tenant.tier, values: [pro, enterprise]}"
    assert "bucket: checkout-traces" in SPEC.read_text() and policy in SPEC.read_text()
    text = SPEC.read_text().replace("bucket: checkout-traces", 'bucket: "checkout-{{traces}}"').replace(
        policy, "string_attribute: {key: tenant.tier, values: ['free{{ .Release.Name }}']}")
    plan = _spec(tmp_path, text)
    values = _values(plan)
    sampler = values[names.SAMPLER_VALUES]
    assert "{{ .Release" not in json.dumps(sampler["config"])
    assert helm.collector_config_in_chart(sampler) == rendered_config(plan, "sampler.yaml")
    assert "free{{ .Release.Name }}" in json.dumps(rendered_config(plan, "sampler.yaml"))
    s3 = values[names.TEMPO_VALUES]["storage"]["trace"]["s3"]
    assert s3["bucket"] != "checkout-{{traces}}" and tpl_read(s3["bucket"]) == "checkout-{{traces}}"


def test_no_kubernetes_section_no_helm_files() -> None:
    result = generate(ROOT / "tests" / "specs" / "scaleout.yaml")
    assert result.ok and not [a for a in result.artifacts if a.path.startswith("helm/")]


def test_the_render_checks_the_merged_collector_config() -> None:
    """The artifact checker strictly validates the config the chart writes, so a broken one fails the render."""
    [gateway] = [a for a in helm.render(_plan()) if a.path == names.GATEWAY_VALUES]
    doc = yaml.safe_load(gateway.text)
    assert gateway.checker is not None and gateway.checker(doc) == []
    doc["config"]["processors"]["memory_limiter"]["limit_mb"] = 1
    assert gateway.checker(doc)
