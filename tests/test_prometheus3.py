"""Prometheus 3 semantics, shown on the real 3.x server and promtool, and what they mean for obsgen's rules.

Each test states a 3.x behaviour (prometheus/prometheus v0.305.0 ``docs/migration.md``; the source is cited in
``obsgen/targets/prometheus/compat.py``) and then shows obsgen's rendering is right under it -- and, where the rendering
depends on ``stack.prometheus``, that the 2.x rendering would be wrong on a 3.x server.

Data gets in as in tests/live: OpenMetrics text with explicit timestamps, backfilled with
``promtool tsdb create-blocks-from openmetrics``, which parses it like a scrape (so 3.x normalises ``le``).
A family typed ``unknown`` is not normalised (``obsgen_sent_*``). Real remote write goes through the server's
receiver (``--web.enable-remote-write-receiver``) with a hand-encoded remote-write 1.0 request.
"""

from __future__ import annotations

import struct
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.targets.prometheus import compat as pc
from tests.conftest import ROOT, require_tool
from tests.live.prometheus import LivePrometheus, import_openmetrics

pytestmark = pytest.mark.prometheus

T0 = 1_735_732_800  # 2025-01-01T12:00:00Z, a whole minute
STEP = 60  # one sample a minute, aligned on T0
SAMPLES = 31
T = T0 + 20 * STEP  # an instant that coincides with a sample
BOUNDS = (0.00005, 0.5, 1.0, 10.0, 1e6)
CHECKOUT = 'service_name="main-service",span_kind="SPAN_KIND_SERVER",span_name="POST /checkout"'


def _require_3x(name: str) -> str:
    path = require_tool(name)
    version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert " version 3." in version.splitlines()[0], f"{path} is not Prometheus 3: {version.splitlines()[0]}"
    return path


def _openmetrics() -> str:
    lines = ["# TYPE obsgen_probe_seconds histogram"]
    # buckets as the producers spell them (Go 'f' format); promtool 3 parses them like a scrape
    for k in range(SAMPLES):
        ts = T0 + k * STEP
        for i, bound in enumerate(BOUNDS):
            lines.append(f'obsgen_probe_seconds_bucket{{le="{pc.go_format_f(bound)}"}} {k * (i + 1)} {ts}')
        lines.append(f'obsgen_probe_seconds_bucket{{le="+Inf"}} {k * 10} {ts}')
    lines.append("# TYPE obsgen_probe_quantiles summary")
    for k in range(SAMPLES):
        lines.append(f'obsgen_probe_quantiles{{quantile="1"}} 2 {T0 + k * STEP}')
    lines.append("# TYPE obsgen_sent_seconds_bucket unknown")  # stands for remote write: stored as sent
    for k in range(SAMPLES):
        for bound in BOUNDS:
            lines.append(f'obsgen_sent_seconds_bucket{{le="{pc.go_format_f(bound)}"}} {k} {T0 + k * STEP}')
    lines.append("# TYPE obsgen_tick counter")
    for k in range(SAMPLES):
        lines.append(f"obsgen_tick_total {k * STEP} {T0 + k * STEP}")
    # the Collector's span-metrics histogram for main-service POST /checkout: 10 req/s, 9 of them within 1s
    lines.append("# TYPE traces_span_metrics_duration_seconds histogram")
    for k in range(SAMPLES):
        ts, n = T0 + k * STEP, k * STEP
        for le, count in (("0.5", 6 * n), ("1", 9 * n), ("2.5", 10 * n), ("+Inf", 10 * n)):
            lines.append(f'traces_span_metrics_duration_seconds_bucket{{{CHECKOUT},le="{le}"}} {count} {ts}')
        lines.append(f"traces_span_metrics_duration_seconds_count{{{CHECKOUT}}} {10 * n} {ts}")
        lines.append(f"traces_span_metrics_duration_seconds_sum{{{CHECKOUT}}} {5 * n} {ts}")
    return "\n".join([*lines, "# EOF", ""])


@pytest.fixture(scope="module")
def prom3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePrometheus]:
    promtool, prometheus = _require_3x("promtool"), _require_3x("prometheus")
    work = tmp_path_factory.mktemp("prom3")
    source = work / "data.om"
    source.write_text(_openmetrics())
    import_openmetrics(promtool, source, work / "data")
    with LivePrometheus(prometheus, work / "data", workdir=work / "server",
                        extra_args=["--web.enable-remote-write-receiver"]) as server:
        yield server


def _labels(server: LivePrometheus, expr: str, label: str) -> set[str]:
    return {item["metric"].get(label, "") for item in server.query(expr, T)}


def _sli_errors_expr(version: str, tmp_path: Path, *, scrape: bool) -> str:
    """shop's checkout-latency (1s threshold) slow-requests recording, rendered for ``version`` and delivery."""
    text = (ROOT / "specs" / "shop.yaml").read_text().replace("  prometheus: 3.5.0\n", f"  prometheus: {version}\n")
    if scrape:
        text = text.replace("  metrics_export: remote_write\n", "  metrics_export: scrape\n")
    spec = tmp_path / f"{version}-{scrape}" / "shop.yaml"
    spec.parent.mkdir()
    spec.write_text(text)
    result = generate(spec, targets=["rules"])
    assert result.ok
    doc = yaml.safe_load(next(a.text for a in result.artifacts
                              if a.path == "prometheus/rules/slos.yaml"))
    return next(r["expr"] for g in doc["groups"] for r in g["rules"]
                if r.get("record") == "slo:obsgen_sli_errors:rate5m" and r["labels"]["slo"] == "checkout-latency")


# Remote write 1.0 by hand: a protobuf prometheus.WriteRequest (prompb/remote.proto, types.proto) in a snappy
# block made of literals only, which every snappy decoder reads (format_description.txt: element type 00).


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _write_request(series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> bytes:
    body = b""
    for labels, samples in series:
        ts = b"".join(_len_field(1, _len_field(1, k.encode()) + _len_field(2, v.encode()))
                      for k, v in sorted(labels.items()))
        ts += b"".join(_len_field(2, _varint(1 << 3 | 1) + struct.pack("<d", value) + _varint(2 << 3) + _varint(ms))
                       for ms, value in samples)
        body += _len_field(1, ts)
    return body


def _snappy_literals(data: bytes) -> bytes:
    out = _varint(len(data))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        out += bytes([n << 2]) if n < 60 else bytes([61 << 2]) + n.to_bytes(2, "little")
        out += chunk
    return out


def _remote_write(server: LivePrometheus, series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> None:
    request = urllib.request.Request(
        f"{server.url}/api/v1/write", data=_snappy_literals(_write_request(series)), method="POST",
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                 "X-Prometheus-Remote-Write-Version": "0.1.0"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as resp:
        assert resp.status == 204


@pytest.fixture(scope="module")
def pushed(prom3: LivePrometheus) -> float:
    """The checkout histogram pushed as the Collector's exporter sends it (le in Go 'f' form); returns "now"."""
    now = int(time.time())
    times = [now - 240 + 60 * k for k in range(5)]
    series = []
    # counters an hour into their life: rate() extrapolates to the window start only away from zero
    for le, per_s in (("0.5", 6), ("1", 9), ("2.5", 10), ("+Inf", 10)):
        labels = {"__name__": "traces_span_metrics_duration_seconds_bucket", "le": le,
                  "service_name": "main-service", "span_kind": "SPAN_KIND_SERVER", "span_name": "POST /checkout"}
        series.append((labels, [(t * 1000, float(per_s * (t - times[0] + 3600))) for t in times]))
    count = {"__name__": "traces_span_metrics_duration_seconds_count", "service_name": "main-service",
             "span_kind": "SPAN_KIND_SERVER", "span_name": "POST /checkout"}
    series.append((count, [(t * 1000, float(10 * (t - times[0] + 3600))) for t in times]))
    series.append(({"__name__": "obsgen_pushed_seconds_bucket", "le": pc.go_format_f(1e6)}, [(now * 1000, 1.0)]))
    _remote_write(prom3, series)
    return float(now)


# ------------------------------------------------------------------------------------------------ le, quantile


def test_prometheus3_stores_parsed_le_and_quantile_in_openmetrics_float_form(prom3: LivePrometheus) -> None:
    stored = _labels(prom3, "obsgen_probe_seconds_bucket", "le")
    assert stored == {pc.openmetrics_float(b) for b in BOUNDS} | {"+Inf"}
    assert {"1.0", "10.0", "5e-05", "1e+06", "0.5"} <= stored  # not "1", "10", "0.00005", "1000000"
    assert _labels(prom3, "obsgen_probe_quantiles", "quantile") == {"1.0"}
    # what a remote-write producer sent is kept as sent
    assert _labels(prom3, "obsgen_sent_seconds_bucket", "le") == {pc.go_format_f(b) for b in BOUNDS}


def test_remote_written_le_is_stored_as_sent(prom3: LivePrometheus, pushed: float) -> None:
    stored = {item["metric"]["le"] for item in prom3.query("traces_span_metrics_duration_seconds_bucket", pushed)}
    assert stored == {"0.5", "1", "2.5", "+Inf"}  # not "1.0"
    assert {item["metric"]["le"] for item in prom3.query("obsgen_pushed_seconds_bucket", pushed)} == {"1000000"}


@pytest.mark.parametrize("bound", BOUNDS)
def test_bucket_matcher_selects_what_each_path_stores(prom3: LivePrometheus, bound: float) -> None:
    def select(metric: str, version: str, delivery: pc.Delivery) -> set[str]:
        name, op, value = pc.le_matcher(bound, version, delivery)
        quoted = value.replace("\\", "\\\\")
        return _labels(prom3, f'{metric}{{{name}{op}"{quoted}"}}', "le")

    # scraped (histogram-typed, parsed by promtool 3): the 3.x scrape matcher finds the normalised spelling,
    # and so does the 2.x one (which also takes the text-format spelling 2.x would store)
    assert select("obsgen_probe_seconds_bucket", "3.5.0", "scrape") == {pc.openmetrics_float(bound)}
    assert select("obsgen_probe_seconds_bucket", "2.42.0", "scrape") == {pc.openmetrics_float(bound)}
    # stored as sent: the remote-write matcher of either major
    for version in ("2.42.0", "3.5.0"):
        assert select("obsgen_sent_seconds_bucket", version, "remote_write") == {pc.go_format_f(bound)}
    # and the remote-write matcher never reads a scraped boundary that 3.x respelled
    differs = pc.openmetrics_float(bound) != pc.go_format_f(bound)
    assert select("obsgen_probe_seconds_bucket", "3.5.0", "remote_write") == (set() if differs else {"0.5"})


def test_the_rendered_latency_sli_is_right_for_each_delivery_on_prometheus3(
        prom3: LivePrometheus, pushed: float, tmp_path: Path) -> None:
    """10 req/s, 1 of them slower than the 1s threshold. Pushed: shop's rule (le="1") records 1/s. Scraped: the
    3.x scrape rule (le="1.0") records 1/s. Each rule on the other path's data finds no bucket, so
    ``count - bucket`` matches nothing: no series, and the latency SLO could never alert."""
    remote_write = _sli_errors_expr("3.5.0", tmp_path, scrape=False)
    scrape = _sli_errors_expr("3.5.0", tmp_path, scrape=True)
    assert 'le="1"' in remote_write and 'le="1.0"' in scrape
    assert prom3.value(remote_write, pushed) == pytest.approx(1.0)
    assert prom3.value(scrape, T) == pytest.approx(1.0)
    assert prom3.query(remote_write, T) == [] and prom3.query(scrape, pushed) == []
    # the 2.x scrape rule takes both spellings: right on a 3.x server too, had the pin lagged the upgrade
    assert prom3.value(_sli_errors_expr("2.42.0", tmp_path, scrape=True), T) == pytest.approx(1.0)


# ------------------------------------------------------------------------------------------------ left-open


def test_range_selectors_are_left_open(prom3: LivePrometheus) -> None:
    """At an instant that coincides with a sample, [1m] holds one sample (2.x: two) and rate() has nothing."""
    assert prom3.value("count_over_time(obsgen_tick_total[1m])", T) == 1
    assert prom3.query("rate(obsgen_tick_total[1m])", T) == []
    assert prom3.value("count_over_time(obsgen_tick_total[5m])", T) == 5  # 2.x: 6
    assert prom3.value("count_over_time(obsgen_tick_total[1m:1m])", T) == 1


def test_obsgens_windows_keep_their_values_under_left_open_ranges(prom3: LivePrometheus) -> None:
    """The 5m base rate is exact with one sample fewer, and a windowed SLO ratio loses the same sample on both
    sides of its division (the shapes of rules_slo's recordings)."""
    assert prom3.value("rate(obsgen_tick_total[5m])", T) == pytest.approx(1.0)
    ratio = ("sum_over_time(rate(obsgen_tick_total[5m])[30m:1m]) / "
             "sum_over_time((2 * rate(obsgen_tick_total[5m]))[30m:1m])")
    assert prom3.value(ratio, T0 + 30 * STEP) == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------------ UTF-8 names


def test_promtool3_accepts_utf8_names_that_obsgen_never_writes(tmp_path: Path) -> None:
    """3.x validates names as UTF-8 (prometheus/common v0.65.0 NameValidationScheme = UTF8Validation), so a
    dotted label passes promtool 3 and would fail 2.x: obsgen's spec only takes legacy alert label names."""
    promtool = _require_3x("promtool")
    rules = tmp_path / "utf8.yaml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [
        {"alert": "A", "expr": 'up{"http.request.method"="GET"}', "labels": {"team.name": "x"}}]}]}))
    proc = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    spec = tmp_path / "spec.yaml"
    spec.write_text("services: {api: {}}\nalerting: {labels: {team.name: x}}\n")
    result = generate(spec, targets=["rules"])
    assert not result.ok and [d.path for d in result.diagnostics if d.is_error] == ["alerting.labels.team.name"]
