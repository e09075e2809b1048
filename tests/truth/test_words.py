"""Issue 16, "Words that must be true": comments and formats that state upstream behaviour."""

from __future__ import annotations

from pathlib import Path

import yaml

from obsgen.spec.durations import parse_duration
from obsgen.targets import collector, tempo, topology
from obsgen.targets.collector_values import memory_sizing
from tests.truth.helpers import make_plan


def test_durations_print_as_go_writes_them() -> None:
    # Go's time.Duration.String writes 2.5s, never 2s500ms; zero parts are left out (both parse the same).
    cases = {"2s500ms": "2.5s", "1400ms": "1.4s", "90s": "1m30s", "1500us": "1.5ms", "1h": "1h", "336h": "336h",
             "250ms": "250ms", "7ns": "7ns", "1h0m0.001s": "1h0.001s"}
    for text, expected in cases.items():
        assert parse_duration(text).go() == expected
        assert parse_duration(expected) == parse_duration(text)


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
