"""Tests for the per-major strict Tempo config model."""

from __future__ import annotations

import pytest
import yaml

from obsgen.targets.tempo.strict import validate_tempo_config
from tests import upstream

V2_FILES = upstream.names("tempo", "tempo-v2*.yaml")
V3_FILES = upstream.names("tempo", "tempo-v3*.yaml")
# These two 3.x examples only use keys that v2.10.8 also has (query_frontend.mcp_server, live_store etc.
# exist in 2.10.8's structs), so Tempo 2.10 genuinely accepts them.
V3_VALID_ON_V2 = {"tempo-v3-multitenant.yaml", "tempo-v3-single-binary.yaml"}


def _load(name: str) -> object:
    return yaml.safe_load(upstream.path("tempo", name).read_text())


def _paths(errors: list) -> set[str]:
    return {e.path for e in errors}


def test_upstream_files_present() -> None:
    upstream.require("tempo")
    assert len(V2_FILES) == 4 and len(V3_FILES) == 4


@pytest.mark.parametrize("name", V2_FILES)
def test_v2_files_accepted_by_2_rejected_by_3(name: str) -> None:
    doc = _load(name)
    assert validate_tempo_config(doc, 2) == []
    errors = validate_tempo_config(doc, 3)
    by_path = {e.path: e.message for e in errors}
    assert by_path["ingester"] == "not a Tempo 3.x key (only in Tempo 2.x)"
    assert "compactor" in by_path


@pytest.mark.parametrize("name", V3_FILES)
def test_v3_files_accepted_by_3(name: str) -> None:
    assert validate_tempo_config(_load(name), 3) == []


@pytest.mark.parametrize("name", sorted(set(V3_FILES) - V3_VALID_ON_V2) or [upstream.ABSENT])
def test_v3_files_rejected_by_2(name: str) -> None:
    errors = validate_tempo_config(_load(name), 2)
    assert _paths(errors) == {"live_store.readiness_target_lag", "live_store.readiness_max_wait"}
    assert all("not a Tempo 2.x key" in e.message for e in errors)


@pytest.mark.parametrize("name", sorted(V3_VALID_ON_V2))
def test_minimal_v3_files_are_also_valid_2_10(name: str) -> None:
    assert validate_tempo_config(_load(name), 2) == []


def test_local_blocks_processor_rejected_in_3() -> None:
    errors = validate_tempo_config(_load("tempo-v2.10-shared.yaml"), 3)
    msgs = {e.path: e.message for e in errors}
    assert "local-blocks was removed" in msgs["overrides.defaults.metrics_generator.processors[2]"]
    assert "metrics_generator.traces_storage" in msgs


def test_underscore_int_and_float_notation() -> None:
    # PyYAML reads 1_000_000 as int and 1.073741824e+09 as float, the types Go expects.
    doc = _load("tempo-v2-migrate-to-3.yaml")
    assert doc["ingester"]["max_block_bytes"] == 1_000_000
    doc["ingester"]["max_block_bytes"] = 1.5
    assert _paths(validate_tempo_config(doc, 2)) == {"ingester.max_block_bytes"}


def _minimal() -> dict:
    return {
        "stream_over_http_enabled": True,
        "server": {"http_listen_port": 3200},
        "storage": {"trace": {"backend": "local", "local": {"path": "/var/tempo/blocks"}}},
        "overrides": {"defaults": {"metrics_generator": {"processors": ["service-graphs", "span-metrics"]}}},
    }


@pytest.mark.parametrize("major", [2, 3])
def test_minimal_accepted(major: int) -> None:
    assert validate_tempo_config(_minimal(), major) == []


@pytest.mark.parametrize("major", [2, 3])
def test_legacy_overrides_rejected(major: int) -> None:
    doc = _minimal()
    doc["overrides"] = {"ingestion_rate_limit_bytes": 1000, "metrics_generator_processors": ["span-metrics"]}
    errors = validate_tempo_config(doc, major)
    assert _paths(errors) == {"overrides.ingestion_rate_limit_bytes", "overrides.metrics_generator_processors"}
    assert all("legacy flat override key" in e.message for e in errors)


def test_enable_legacy_overrides_only_in_3() -> None:
    doc = _minimal()
    doc["overrides"]["enable_legacy_overrides"] = False
    assert validate_tempo_config(doc, 3) == []
    assert _paths(validate_tempo_config(doc, 2)) == {"overrides.enable_legacy_overrides"}


def test_unknown_key_reports_path() -> None:
    doc = _minimal()
    doc["metrics_generator"] = {"processor": {"span_metrics": {"dimensons": ["http.method"]}}}
    errors = validate_tempo_config(doc, 3)
    assert [e.path for e in errors] == ["metrics_generator.processor.span_metrics.dimensons"]
    assert "UnmarshalStrict" in errors[0].message


@pytest.mark.parametrize("bad", ["48 hours", "2d", "5", 48, "\u0664\u0668h"])  # Arabic-Indic digits: Go reads 0-9 only
def test_bad_duration(bad: object) -> None:
    doc = _minimal()
    doc["backend_worker"] = {"compaction": {"block_retention": bad}}
    errors = validate_tempo_config(doc, 3)
    assert [e.path for e in errors] == ["backend_worker.compaction.block_retention"]
    assert "Go duration" in errors[0].message


@pytest.mark.parametrize("good", ["48h", "1h30m", "500ms", "0", 0, "1.5h"])
def test_good_duration(good: object) -> None:
    doc = _minimal()
    doc["backend_worker"] = {"compaction": {"block_retention": good}}
    assert validate_tempo_config(doc, 3) == []


def test_overrides_use_prometheus_duration() -> None:
    doc = _minimal()
    doc["overrides"]["defaults"]["compaction"] = {"block_retention": "14d"}
    assert validate_tempo_config(doc, 3) == []
    doc["overrides"]["defaults"]["compaction"] = {"block_retention": "1.5h"}
    assert _paths(validate_tempo_config(doc, 3)) == {"overrides.defaults.compaction.block_retention"}
    doc["overrides"]["defaults"]["compaction"] = {"block_retention": "\u0661\u0664d"}  # Arabic-Indic 14
    assert _paths(validate_tempo_config(doc, 3)) == {"overrides.defaults.compaction.block_retention"}


@pytest.mark.parametrize("major", [2, 3])
def test_s3_endpoint_with_scheme_rejected(major: int) -> None:
    doc = _minimal()
    doc["storage"]["trace"] = {"backend": "s3", "s3": {"bucket": "t", "endpoint": "http://minio:9000"}}
    errors = validate_tempo_config(doc, major)
    assert [e.path for e in errors] == ["storage.trace.s3.endpoint"]
    assert "without a scheme" in errors[0].message
    doc["storage"]["trace"]["s3"]["endpoint"] = "minio:9000"
    assert validate_tempo_config(doc, major) == []


def test_block_version_rules_per_major() -> None:
    doc = _minimal()
    doc["storage"]["trace"]["block"] = {"version": "v2"}
    assert validate_tempo_config(doc, 2) == []
    assert _paths(validate_tempo_config(doc, 3)) == {"storage.trace.block.version"}
    doc["storage"]["trace"]["block"] = {"version": "vParquet5"}
    assert validate_tempo_config(doc, 3) == []
    doc["storage"]["trace"]["block"] = {"version": "vParquet2"}
    assert _paths(validate_tempo_config(doc, 2)) == {"storage.trace.block.version"}


def test_backend_choice_and_processor_names() -> None:
    doc = _minimal()
    doc["storage"]["trace"]["backend"] = "filesystem"
    doc["overrides"]["defaults"]["metrics_generator"]["processors"] = ["spanmetrics"]
    doc["overrides"]["defaults"]["metrics_generator"]["generate_native_histograms"] = "yes"
    assert _paths(validate_tempo_config(doc, 3)) == {
        "storage.trace.backend",
        "overrides.defaults.metrics_generator.processors[0]",
        "overrides.defaults.metrics_generator.generate_native_histograms",
    }


def test_major_specific_blocks() -> None:
    doc = _minimal()
    doc["memory"] = {"automemlimit_enabled": True}
    doc["metrics_generator"] = {"processor": {"local_blocks": {"flush_to_storage": True}}}
    assert _paths(validate_tempo_config(doc, 2)) == {"memory"}
    assert _paths(validate_tempo_config(doc, 3)) == {"metrics_generator.processor.local_blocks"}


def test_receivers_with_null_protocols_and_types() -> None:
    doc = _minimal()
    doc["distributor"] = {"receivers": {"zipkin": None, "jaeger": {"protocols": {"grpc": None}},
                                        "opencensus": {}}}
    assert _paths(validate_tempo_config(doc, 3)) == {"distributor.receivers.opencensus"}
    doc["server"]["http_listen_port"] = "3200"
    doc["stream_over_http_enabled"] = "true"
    assert {"server.http_listen_port", "stream_over_http_enabled"} <= _paths(validate_tempo_config(doc, 3))


def test_remote_write_and_span_metrics_shapes() -> None:
    doc = _minimal()
    doc["metrics_generator"] = {
        "registry": {"external_labels": {"source": "tempo"}, "collection_interval": "15s", "stale_duration": "15m"},
        "storage": {"path": "/var/tempo/generator/wal",
                    "remote_write": [{"url": "http://prom:9090/api/v1/write", "send_exemplars": True,
                                      "headers": {"X-Scope-OrgID": "t"}}, {"send_exemplars": True}]},
        "processor": {"span_metrics": {
            "histogram_buckets": [0.1, 1, 10], "dimensions": ["http.method"],
            "intrinsic_dimensions": {"status_message": True},
            "dimension_mappings": [{"name": "svc", "source_labels": ["service.name"], "join": "/"}],
            "enable_target_info": True,
            "filter_policies": [{"include": {"match_type": "glob", "attributes": [{"key": "k", "value": 1}]}}],
        }},
    }
    assert _paths(validate_tempo_config(doc, 3)) == {
        "metrics_generator.storage.remote_write[1].url",
        "metrics_generator.processor.span_metrics.filter_policies[0].include.match_type",
    }


def test_rejects_non_mapping_and_bad_major() -> None:
    assert validate_tempo_config([], 3)[0].path == ""
    with pytest.raises(ValueError):
        validate_tempo_config({}, 4)
