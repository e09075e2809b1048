"""prometheus/prometheus.yaml: scrape jobs for the Collector(s) of each layout, the rendered rule files,
the flags the stack needs; accepted by the real ``promtool check config``. And the telemetry alerts it
feeds: ratios over a window (never any single span), and an alert when a Collector is not scraped."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from obsgen import output
from obsgen.generate import generate
from obsgen.plan import naming
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


def _artifacts(spec: Path) -> dict[str, str]:
    result = generate(spec, targets=["rules"])
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
    return {a.path: a.text for a in result.artifacts}


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_config_scrapes_every_collector_the_alerts_watch(spec: Path) -> None:
    arts = _artifacts(spec)
    text = arts["prometheus/prometheus.yaml"]
    config = yaml.safe_load(text)
    replicas = (yaml.safe_load(spec.read_text()).get("collector") or {}).get("replicas", 1)
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(naming.collector_jobs(replicas)) <= set(jobs)
    if replicas > 1:
        assert jobs[naming.COLLECTOR_SAMPLER_JOB]["dns_sd_configs"][0]["port"] == 8888
    assert config["rule_files"] == ["rules/*.yaml"]
    raw = yaml.safe_load(spec.read_text())
    scraped = (raw.get("collector") or {}).get("metrics_export") == "scrape" and (
        (raw.get("span_metrics") or {}).get("source", "collector") == "collector")
    assert "--enable-feature=exemplar-storage" in text
    # span metrics pushed (remote write) need the receiver; scraped ones need their own job instead
    assert ("--web.enable-remote-write-receiver" in text) is not scraped
    assert (naming.COLLECTOR_SPAN_METRICS_JOB in jobs) is scraped
    telemetry = yaml.safe_load(arts["prometheus/rules/telemetry.yaml"])
    down = [r for g in telemetry["groups"] for r in g["rules"] if r.get("alert") == naming.ALERTS.collector_down]
    assert len(down) == 1
    for job in naming.collector_jobs(replicas):
        assert f'absent(up{{job="{job}"}})' in down[0]["expr"] and f'up{{job="{job}"}} == 0' in down[0]["expr"]


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_span_loss_alerts_are_ratios_not_any_single_span(spec: Path) -> None:
    telemetry = yaml.safe_load(_artifacts(spec)["prometheus/rules/telemetry.yaml"])
    rules = {r["alert"]: r["expr"] for g in telemetry["groups"] for r in g["rules"]}
    for name in (naming.ALERTS.collector_refusing_spans, naming.ALERTS.collector_export_failing,
                 naming.ALERTS.tail_sampling_dropped_too_early):
        ratio, _, volume = rules[name].partition("\nand\n")
        assert "\n/\n" in ratio and ratio.endswith("> 0.01\n)") and "> 0\n" not in rules[name], name
        # and only above a minimum volume: a share of a trickle is noise
        assert volume.endswith("> 1") and "rate(" in volume, name


def test_promtool_accepts_the_config_of_both_layouts(promtool: str, tmp_path: Path) -> None:
    for spec in (ROOT / "specs" / "shop.yaml", ROOT / "tests" / "specs" / "scaleout.yaml"):
        out = tmp_path / spec.stem
        result = generate(spec, targets=["rules"])
        output.write(out, result.artifacts)
        proc = subprocess.run([promtool, "check", "config", "prometheus.yaml"], cwd=out / "prometheus",
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "SUCCESS" in proc.stdout + proc.stderr and "rules found" in proc.stdout + proc.stderr


def _header_flags(tmp_path: Path, slos: str, backends: str = "") -> list[str]:
    from tests.e2e.loopback import server_flags

    spec = tmp_path / "s.yaml"
    text = f"services:\n  api:\n    endpoints: [GET /a]\n    slos:\n{slos}" if slos else "services: {api: {}}\n"
    spec.write_text(text + backends, encoding="utf-8")
    return server_flags(_artifacts(spec)["prometheus/prometheus.yaml"])


@pytest.mark.parametrize(("slos", "retention"), [
    ("      - {name: a, availability: 99.9}\n", "31d"),  # the default 30d window: the whole window, and a day
    ("      - {name: a, availability: 99.9, window: 28d}\n      - {name: b, availability: 99, window: 7d}\n", "29d"),
    ("      - {name: a, availability: 99.9, window: 36h}\n", None),  # 15d, Prometheus' default, keeps it
    ("", None),
])
def test_retention_keeps_the_longest_slo_window(tmp_path: Path, slos: str, retention: str | None) -> None:
    """Prometheus keeps 15 days unless told (v3.5.0 cmd/prometheus/main.go defaultRetentionString): a 30d
    window's ratio would read half its window. The e2e runs the real Prometheus with these header flags."""
    found = [f for f in _header_flags(tmp_path, slos) if f.startswith("--storage.tsdb.retention.time=")]
    assert found == ([f"--storage.tsdb.retention.time={retention}"] if retention else [])


@pytest.mark.parametrize(("slos", "declared", "flag"), [
    ("      - {name: a, availability: 99.9}\n", "90d", "90d"),  # more than the window needs: the declared one
    ("      - {name: a, availability: 99.9}\n", "10d", "10d"),  # less: still the declared one, and OBS513 warns
    ("", "2160h", "90d"),  # no SLO: the declared one, in Prometheus' units
])
def test_a_declared_retention_is_the_local_prometheus_retention(tmp_path: Path, slos: str, declared: str,
                                                                flag: str) -> None:
    found = [f for f in _header_flags(tmp_path, slos, f"backends:\n  prometheus:\n    retention: {declared}\n")
             if f.startswith("--storage.tsdb.retention.time=")]
    assert found == [f"--storage.tsdb.retention.time={flag}"]
