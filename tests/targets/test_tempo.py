"""The Tempo target: per-major layout, retention, metrics-generator wiring, S3 and env expansion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate, plan_spec
from obsgen.plan import Plan, naming
from obsgen.targets.tempo import target as tempo
from obsgen.targets.tempo.envsubst import EnvRef, SubstitutionError, expand, literal, references
from obsgen.targets.tempo.strict import validate_tempo_config
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
SECRETS = {"S3_ACCESS_KEY": "AKIA", "S3_SECRET_KEY": "s3cr3t", "TEMPO_S3_ACCESS_KEY": "AKIA",
           "TEMPO_S3_SECRET_KEY": "s3cr3t"}


def _plan(path: Path) -> Plan:
    result = plan_spec(path)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


def _spec(tmp_path: Path, text: str, name: str = "t.yaml") -> Plan:
    path = tmp_path / name
    path.write_text(text)
    return _plan(path)


def _doc(plan: Plan, env: dict[str, str] | None = None) -> dict:
    """What Tempo parses: the rendered text, env-expanded when the config needs -config.expand-env."""
    text = tempo.render_text(plan)
    if tempo.uses_expand_env(plan):
        text = expand(text, env if env is not None else SECRETS)
    doc = yaml.safe_load(text)
    assert isinstance(doc, dict)
    return doc


def _shop(tmp_path: Path, *replacements: tuple[str, str]) -> Plan:
    text = (ROOT / "specs" / "shop.yaml").read_text()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return _spec(tmp_path, text, "shop.yaml")


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_every_example_renders_and_passes_its_strict_model(spec: Path) -> None:
    result = generate(spec, targets=["tempo"])
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
    (art,) = [a for a in result.artifacts if a.path == tempo.PATH]
    major = tempo.major_version(result.plan)
    assert art.checker is not None and art.checker(yaml.safe_load(art.text)) == []
    assert validate_tempo_config(_doc(result.plan), major) == []


def test_tempo_2_layout(tmp_path: Path) -> None:
    plan = _plan(ROOT / "specs" / "shop.yaml")
    doc = _doc(plan)
    assert tempo.major_version(plan) == 2
    assert doc["compactor"]["compaction"]["block_retention"] == "336h"
    assert doc["ingester"]["lifecycler"]["ring"]["replication_factor"] == 1
    assert doc["metrics_generator"]["traces_storage"]["path"]
    assert "local-blocks" in doc["overrides"]["defaults"]["metrics_generator"]["processors"]
    assert "backend_worker" not in doc and "live_store" not in doc
    # Tempo 3 refuses a 2.x layout.
    paths = {e.path for e in validate_tempo_config(doc, 3)}
    assert {"ingester", "compactor", "metrics_generator.traces_storage"} <= paths


def test_tempo_3_layout() -> None:
    plan = _plan(ROOT / "tests" / "specs" / "shop-tempo3.yaml")
    doc = _doc(plan)
    assert tempo.major_version(plan) == 3
    for key in ("ingester", "compactor", "ingester_client", "metrics_generator_client"):
        assert key not in doc
    # the Collector is the source and 3.x has no local-blocks: no generator processor, no generator config
    assert "metrics_generator" not in doc and "overrides" not in doc
    assert doc["live_store"]["complete_block_timeout"] == "20m"
    assert doc["backend_worker"]["compaction"]["block_retention"] == "336h"
    assert doc["backend_scheduler"]["provider"]["compaction"]["compaction"]["block_retention"] == "336h"


def test_retention_comes_from_the_spec(tmp_path: Path) -> None:
    plan = _shop(tmp_path, ("retention: 336h", "retention: 2d12h"))
    assert _doc(plan)["compactor"]["compaction"]["block_retention"] == "60h"
    plan = _shop(tmp_path, ("retention: 336h", "retention: 90m"), ("tempo: 2.10.8", "tempo: 3.0.3"))
    assert _doc(plan)["backend_worker"]["compaction"]["block_retention"] == "1h30m"


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_receivers_streaming_and_scoped_overrides(spec: Path) -> None:
    plan = _plan(spec)
    doc = _doc(plan)
    assert doc["stream_over_http_enabled"] is True
    for proto in doc["distributor"]["receivers"]["otlp"]["protocols"].values():
        assert proto["endpoint"].startswith("0.0.0.0:")
    if not tempo.processors(plan):  # Tempo 3 with the Collector as the source: no generator at all
        assert "overrides" not in doc and "metrics_generator" not in doc
        return
    assert set(doc["overrides"]) == {"defaults"}
    generator = doc["overrides"]["defaults"]["metrics_generator"]
    if tempo.writes_metrics(plan):
        assert generator["trace_id_label_name"] == naming.TEMPO_SPAN_METRICS.exemplar_label == "traceID"
        assert generator["generate_native_histograms"] == "classic"  # naming's *_bucket series
    else:  # settings no processor uses are not written
        assert set(generator) == {"processors"}
    # exactly one component computes the service graph, so its series are never written twice
    assert ("service-graphs" in generator["processors"]) == (plan.service_graph_source == "tempo")
    processor = doc["metrics_generator"].get("processor", {})
    assert ("service_graphs" in processor) == (plan.service_graph_source == "tempo")


def test_ports_follow_the_spec(tmp_path: Path) -> None:
    plan = _shop(tmp_path, ("url: http://tempo:3200", "url: http://tempo:3300"),
                 ("otlp_endpoint: tempo:4317", "otlp_endpoint: tempo:14317"))
    doc = _doc(plan)
    assert doc["server"]["http_listen_port"] == 3300
    assert doc["distributor"]["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"] == "0.0.0.0:14317"


def test_span_metrics_only_when_tempo_is_the_source() -> None:
    collector = _doc(_plan(ROOT / "specs" / "shop.yaml"))
    assert "processor" not in collector["metrics_generator"]
    assert "span-metrics" not in collector["overrides"]["defaults"]["metrics_generator"]["processors"]

    plan = _plan(ROOT / "tests" / "specs" / "shop-tempo-source.yaml")
    doc = _doc(plan)
    sm = doc["metrics_generator"]["processor"]["span_metrics"]
    assert "span-metrics" in doc["overrides"]["defaults"]["metrics_generator"]["processors"]
    assert sm["dimensions"] == [name for name, _ in plan.dimensions] and "country" in sm["dimensions"]
    # Tempo sanitises dimension names to the labels naming predicts.
    assert [naming.label_from_attribute(d) for d in sm["dimensions"]] == list(plan.dimension_labels())
    thresholds = {slo.latency_threshold.ns / 1e9 for slo in plan.slos if slo.latency_threshold}
    assert thresholds and thresholds <= set(sm["histogram_buckets"])
    assert sm["histogram_buckets"] == sorted(sm["histogram_buckets"])
    assert sm["histogram_buckets"] == naming.bucket_seconds(list(plan.buckets))


def test_remote_write_with_exemplars_and_external_labels() -> None:
    plan = _plan(ROOT / "tests" / "specs" / "shop-tempo-source.yaml")
    gen = _doc(plan)["metrics_generator"]
    assert gen["storage"]["remote_write"] == [
        {"url": plan.spec.backends.prometheus.remote_write_url, "send_exemplars": True}]
    assert gen["registry"]["external_labels"]
    assert gen["registry"]["collection_interval"] == plan.spec.backends.prometheus.scrape_interval.go()


def test_external_label_never_shadows_a_dimension(tmp_path: Path) -> None:
    plan = _shop(tmp_path, ("    - country\n", "    - country\n    - source\n"),
                 ("  source: collector", "  source: tempo"))
    labels = _doc(plan)["metrics_generator"]["registry"]["external_labels"]
    assert "source" not in labels


def test_distributed_s3_secrets_only_from_the_environment() -> None:
    plan = _plan(ROOT / "tests" / "specs" / "distributed.yaml")
    text = tempo.render_text(plan)
    assert "-config.expand-env=true" in "".join(line for line in text.splitlines() if line.startswith("#"))
    assert "s3cr3t" not in text
    s3 = plan.spec.backends.tempo.s3
    assert s3 is not None
    raw = yaml.safe_load(text)["storage"]["trace"]["s3"]
    assert raw["access_key"] == f"${{{s3.access_key_env}}}"
    assert raw["secret_key"] == f"${{{s3.secret_key_env}}}"
    doc = _doc(plan)
    got = doc["storage"]["trace"]
    assert got["backend"] == "s3" and "local" not in got
    assert got["s3"] == {"bucket": s3.bucket, "endpoint": s3.endpoint, "region": s3.region,
                         "access_key": "AKIA", "secret_key": "s3cr3t", "insecure": True}
    # Everything drone/envsubst expands is a secret or a deployment address obsgen chose to take from env.
    assert set(references(text)) == {s3.access_key_env, s3.secret_key_env, "TEMPO_MEMBERLIST_JOIN",
                                     "TEMPO_QUERY_FRONTEND_ADDRESS", "TEMPO_KAFKA_ADDRESS",
                                     "TEMPO_BACKEND_SCHEDULER_ADDRESS"}
    assert doc["multitenancy_enabled"] is True
    assert doc["memberlist"]["join_members"] == ["dns+tempo-gossip-ring:7946"]
    assert doc["ingest"]["kafka"]["address"] == "kafka:9092"


def test_distributed_on_tempo_2(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "specs" / "distributed.yaml").read_text().replace("tempo: 3.0.3", "tempo: 2.10.8")
    plan = _spec(tmp_path, text)
    doc = _doc(plan)
    assert validate_tempo_config(doc, 2) == []
    assert doc["ingester"]["lifecycler"]["ring"]["replication_factor"] == 3
    assert doc["querier"]["frontend_worker"]["frontend_address"]
    assert "ingest" not in doc and "backend_worker" not in doc


def test_monolithic_has_no_env_references() -> None:
    plan = _plan(ROOT / "specs" / "shop.yaml")
    text = tempo.render_text(plan)
    assert not tempo.uses_expand_env(plan)
    assert "${" not in text and "expand-env" not in text


SPECIAL = "we$ird ${HOME} $$x back\\slash \\/ \\\\ 'q' \"dq\" #c"


def test_spec_strings_survive_env_expansion(tmp_path: Path) -> None:
    """A literal `$` or backslash from the spec reaches Tempo unchanged after -config.expand-env."""
    plan = _spec(tmp_path, f"""
name: odd
stack: {{tempo: 3.0.3}}
backends:
  tempo:
    mode: distributed
    s3: {{bucket: {json.dumps(SPECIAL)}, endpoint: "minio:9000", region: {json.dumps(SPECIAL)}}}
  prometheus:
    remote_write_url: {json.dumps("http://p:9090/w?x=$HOME&y=${HOME}")}
span_metrics: {{source: tempo}}
services: {{api: {{}}}}
""", "odd.yaml")  # a file name with $ is refused (OBS207, tests/test_hostile_injection.py)
    result = generate(tmp_path / "odd.yaml", targets=["tempo"])
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
    doc = _doc(plan, {**SECRETS, "HOME": "/root"})
    assert doc["storage"]["trace"]["s3"]["bucket"] == SPECIAL
    assert doc["storage"]["trace"]["s3"]["region"] == SPECIAL
    assert doc["metrics_generator"]["storage"]["remote_write"][0]["url"] == "http://p:9090/w?x=$HOME&y=${HOME}"


def test_spec_strings_are_literal_without_env_expansion(tmp_path: Path) -> None:
    plan = _shop(tmp_path, ("remote_write_url: http://prometheus:9090/api/v1/write",
                            "remote_write_url: 'http://p:9090/w?a=$b\\c'"), ("  source: collector", "  source: tempo"))
    doc = yaml.safe_load(tempo.render_text(plan))
    assert doc["metrics_generator"]["storage"]["remote_write"][0]["url"] == "http://p:9090/w?a=$b\\c"


def test_envsubst_model() -> None:
    assert expand(literal(SPECIAL), {"HOME": "/root"}) == SPECIAL
    assert expand("a ${X} ${Y:-d:1} $Z $$", {"X": "x"}) == "a x d:1 $Z $"
    assert references("$${NOT} ${A} \\\\${B}") == ["A", "B"]
    with pytest.raises(SubstitutionError):
        expand("${not valid}", {})
    with pytest.raises(ValueError):
        EnvRef("lower")
    with pytest.raises(ValueError):
        EnvRef("A", "x}y")


def test_checker_rejects_a_key_from_the_wrong_major() -> None:
    plan = _plan(ROOT / "tests" / "specs" / "shop-tempo3.yaml")
    (art,) = tempo.render(plan)
    assert art.checker is not None
    doc = yaml.safe_load(art.text)
    doc["compactor"] = {"compaction": {"block_retention": "1h"}}
    assert any(e.path == "compactor" for e in art.checker(doc))
    bad = tempo.check(art.text + "ingester: {}\n", 3, True, None)
    assert [e.path for e in bad] == ["ingester"]
    assert tempo.check("x: ${bad one}\n", 3, True, None)[0].message.startswith("-config.expand-env would fail")


def test_output_is_deterministic_across_hash_seeds() -> None:
    code = ("import sys; from pathlib import Path; from obsgen.generate import plan_spec; "
            "from obsgen.targets.tempo import target as tempo; from obsgen.targets.grafana import datasources; "
            "p = plan_spec(Path(sys.argv[1])).plan; "
            "sys.stdout.write(tempo.render_text(p) + ''.join(a.text for a in datasources.render(p)))")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "TZ": "Pacific/Kiritimati", "LC_ALL": "C"}
        spec = str(ROOT / "tests" / "specs" / "distributed.yaml")
        proc = subprocess.run([sys.executable, "-c", code, spec], env=env, cwd=ROOT, capture_output=True,
                              text=True, check=True)
        outputs.add(proc.stdout)
    assert len(outputs) == 1
