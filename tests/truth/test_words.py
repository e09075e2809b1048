"""Issue 16, "Words that must be true": comments and formats that state upstream behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.spec.durations import parse_duration
from obsgen.targets.collector import target as collector
from obsgen.targets.collector.values import memory_sizing
from obsgen.targets.tempo import target as tempo
from obsgen.targets.topology import target as topology
from tests.truth.helpers import make_plan


def test_durations_print_as_go_writes_them() -> None:
    # Go's time.Duration.String writes 2.5s, never 2s500ms; zero parts are left out (both parse the same).
    cases = {"2s500ms": "2.5s", "1400ms": "1.4s", "90s": "1m30s", "1500us": "1.5ms", "1h": "1h", "336h": "336h",
             "250ms": "250ms", "7ns": "7ns", "1h0m0.001s": "1h0.001s"}
    for text, expected in cases.items():
        assert parse_duration(text).go() == expected
        assert parse_duration(expected) == parse_duration(text)


def test_durations_take_only_the_digits_go_reads() -> None:
    # Go's time.ParseDuration reads 0-9 only (time/format.go leadingInt); Python's \d and float() also take
    # other scripts' digits, so "\u0663s" (Arabic-Indic 3) was read as 3s.
    for text in ("\u0663s", "1\u0663ms", "\uff15m"):
        with pytest.raises(ValueError):
            parse_duration(text)


def test_memory_limiter_refuses_from_the_soft_limit() -> None:
    # core internal/memorylimiter/memorylimiter.go (v0.159.0): mustRefuse = aboveSoftLimit.
    text = " ".join(memory_sizing(4096).comments())
    assert "above this hard limit data is refused" not in text
    assert "soft limit is 2621 MiB: from there on data is refused" in text


def test_span_metrics_overflow_comment_says_what_the_connector_writes(tmp_path: Path) -> None:
    text = collector.render(make_plan(tmp_path, "services: {api: {}}\n"))[0].text
    assert "folded into one overflow series" not in text
    assert "per resource" in text and "only attribute is otel.metric.overflow=true" in text


def test_topology_lists_each_callee_once(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        services:
          api:
            calls: [{service: billing, endpoint: POST /a}, {service: billing, endpoint: POST /b}]
          billing: {endpoints: [POST /a, POST /b]}
    """)
    page = topology.render(plan)[0].text
    row = next(line for line in page.splitlines() if line.startswith("| api "))
    assert row.count("billing") == 1


def test_store_sizing_counts_each_edge_once(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        sampling: {expected_traces_per_second: 1000}
        services:
          api:
            calls: [{service: billing, endpoint: POST /a}, {service: billing, endpoint: POST /b}]
          billing: {endpoints: [POST /a, POST /b]}
    """)
    text = collector.render(plan)[0].text
    assert "x 1 declared edges" in text


def test_tempo3_without_processors_configures_no_generator(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "stack: {tempo: 3.0.3}\nservices: {api: {}}\n")
    doc = yaml.safe_load(tempo.render_text(plan))
    assert "metrics_generator" not in doc
    assert "metrics_generator" not in doc.get("overrides", {}).get("defaults", {})


def test_tempo2_local_blocks_only_renders_no_remote_write(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "stack: {tempo: 2.10.8}\nservices: {api: {}}\n")
    doc = yaml.safe_load(tempo.render_text(plan))
    generator = doc["metrics_generator"]
    assert "remote_write" not in generator["storage"] and "processor" not in generator
    assert doc["overrides"]["defaults"]["metrics_generator"] == {"processors": ["local-blocks"]}


def test_tempo_source_keeps_remote_write(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, "span_metrics: {source: tempo}\nservices: {api: {}}\n")
    doc = yaml.safe_load(tempo.render_text(plan))
    assert doc["metrics_generator"]["storage"]["remote_write"]
    assert doc["overrides"]["defaults"]["metrics_generator"]["generate_native_histograms"] == "classic"


def test_remote_write_endpoint_moves_under_http_from_0_158(tmp_path: Path) -> None:
    from obsgen.targets.collector.components import REMOTE_WRITE_HTTP_BLOCK_SINCE

    assert REMOTE_WRITE_HTTP_BLOCK_SINCE == (0, 158, 0)
    for version, nested in (("0.157.0", False), ("0.158.0", True), ("0.159.0", True)):
        plan = make_plan(tmp_path, f"stack: {{collector: {version}}}\nservices: {{api: {{}}}}\n")
        doc = yaml.safe_load(collector.render(plan)[0].text)
        exporter = next(v for k, v in doc["exporters"].items() if k.startswith("prometheus"))
        url = plan.spec.backends.prometheus.remote_write_url
        assert (exporter == {"http": {"endpoint": url}}) is nested
        assert (exporter == {"endpoint": url}) is not nested


def test_real_collector_accepts_remote_write_without_top_level_http_settings(tmp_path: Path) -> None:
    """The alpha gate removeTopLevelHTTPSettings rejects the deprecated flat keys: the render must pass with it."""
    import os
    import subprocess

    from tests import realtools
    from tests.conftest import ROOT

    otelcol = realtools.require("otelcol")
    for spec in (ROOT / "specs" / "shop.yaml", ROOT / "tests" / "specs" / "scaleout.yaml"):
        plan = make_plan(tmp_path, spec.read_text(), spec.name)
        for art in collector.render(plan):
            path = tmp_path / art.path.replace("/", "_")
            path.write_text(art.text)
            run = subprocess.run(
                [otelcol, "validate", f"--config={path}",
                 "--feature-gates=exporter.prometheusremotewritexporter.removeTopLevelHTTPSettings"],
                capture_output=True, text=True, timeout=120, env={**os.environ, "HOSTNAME": "pod-0"},
            )
            assert run.returncode == 0, run.stderr
            assert "deprecat" not in (run.stdout + run.stderr).lower()


def test_default_policy_keeps_errors_and_a_baseline_not_everything(tmp_path: Path) -> None:
    doc = yaml.safe_load(collector.render(make_plan(tmp_path, "services: {api: {}}\n"))[0].text)
    policies = doc["processors"]["tail_sampling"]["policies"]
    assert [(p["name"], p["type"]) for p in policies] == [("errors-always", "status_code"),
                                                          ("baseline", "probabilistic")]
    assert policies[0]["status_code"] == {"status_codes": ["ERROR"]}
    assert policies[1]["probabilistic"] == {"sampling_percentage": 10.0}


def test_default_policy_is_documented_where_the_field_is() -> None:
    from obsgen.spec.docs import spec_docs

    text = spec_docs()
    assert "errors-always" in text and "10% of the rest" in text
