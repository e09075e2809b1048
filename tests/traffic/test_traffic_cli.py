"""``obsgen traffic`` as a user runs it: its summary, its errors (no tracebacks), its scenarios."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen.cli import main
from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.traffic.endpoint import EndpointError, parse
from tests.loopback_collector import free_port
from tests.otlp_sink import OtlpSink

ROOT = Path(__file__).resolve().parents[2]
SHOP = ROOT / "specs" / "shop.yaml"


@pytest.fixture(scope="module")
def shop() -> Plan:
    result = plan_spec(SHOP)
    assert result.plan is not None, result.diagnostics
    return result.plan


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["traffic", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_summary_counts_what_the_endpoint_received_per_service() -> None:
    with OtlpSink() as sink:
        code, out, err = invoke(str(SHOP), "--otlp", sink.endpoint, "--rate", "50", "--duration", "0.4",
                                "--seed", "9", "--format", "json")
        received = sink.spans()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["traces"] == len({s.trace_id for s in received}) > 5
    assert summary["spans"] == summary["exported_spans"] == len(received) and summary["failed_spans"] == 0
    assert summary["unsent_spans"] == 0
    per_service = Counter(s.service for s in received)
    assert {name: row["exported_spans"] for name, row in summary["services"].items()} == dict(per_service)
    assert summary["error_traces"] == len({s.trace_id for s in received if s.error})


def test_the_same_seed_sends_the_same_traces() -> None:
    ids = []
    for _ in range(2):
        with OtlpSink() as sink:
            code, _, err = invoke(str(SHOP), "--otlp", sink.endpoint, "--rate", "100", "--duration", "0.1",
                                  "--seed", "4", "--quiet")
            assert code == 0, err
            ids.append(sorted((s.trace_id, s.span_id) for s in sink.spans()))
    assert ids[0] == ids[1] and ids[0]


def test_text_summary_without_a_terminal_has_no_progress_line() -> None:
    with OtlpSink() as sink:
        code, out, err = invoke(str(SHOP), "--otlp", f"http://{sink.endpoint}", "--rate", "40", "--duration", "0.1")
    assert code == 0
    assert re.search(r"^sent \d+ traces, \d+ spans: 0.1s of traffic at ", out, re.M) and "\r" not in err + out


def test_a_refused_endpoint_is_one_clear_error() -> None:
    code, out, err = invoke(str(SHOP), "--otlp", f"127.0.0.1:{free_port()}")
    assert code == 2
    assert "cannot connect to http://127.0.0.1:" in err and "Connection refused" in err
    assert "Traceback" not in err + out


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # what `import` finds when it is absent
    code, out, err = invoke(str(SHOP), "--otlp", "127.0.0.1:4317")
    assert code == 2
    assert "opentelemetry-sdk is not installed" in err and "pip install 'obsgen[traffic]'" in err
    assert "Traceback" not in err + out


def test_an_invalid_spec_reports_its_diagnostics(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("name: broken\nservices:\n  api:\n    calls: [nowhere]\n")
    code, _, err = invoke(str(spec), "--otlp", "127.0.0.1:4317")
    assert code == 1 and "broken.yaml:4:" in err


@pytest.mark.parametrize(("value", "message"), [
    ("errors:nope=5", "unknown services: nope"),
    ("errors:frontend=200", "a failure rate is a percentage"),
    ("slow:frontend->main-service=soon", "'soon' is not a number"),
    ("melt:frontend=1", "write errors:SERVICE=PERCENT"),
])
def test_a_bad_scenario_is_refused_before_sending(value: str, message: str) -> None:
    code, _, err = invoke(str(SHOP), "--otlp", "127.0.0.1:4317", "--scenario", value)
    assert code == 2 and message in err


@pytest.mark.parametrize(("url", "protocol", "expected"), [
    ("collector:4317", "grpc", {"endpoint": "collector:4317", "insecure": True}),
    ("https://collector", "grpc", {"endpoint": "collector:4317", "insecure": False}),
    ("http://collector:4318", "http", {"endpoint": "http://collector:4318/v1/traces"}),
    ("https://otlp.example.com/custom/traces", "http", {"endpoint": "https://otlp.example.com/custom/traces"}),
])
def test_endpoint_urls(url: str, protocol: str, expected: dict[str, object]) -> None:
    kwargs = parse(url, protocol).exporter_kwargs(5.0)
    assert {k: kwargs[k] for k in expected} == expected


@pytest.mark.parametrize("url", ["ftp://x:1", "http://x:99999", "http://x:4317/v1/traces", "http://:4317"])
def test_unusable_endpoint_urls(url: str) -> None:
    with pytest.raises(EndpointError):
        parse(url, "grpc")


def test_a_scenario_changes_what_is_sent() -> None:
    with OtlpSink() as sink:
        code, _, err = invoke(str(SHOP), "--otlp", sink.endpoint, "--rate", "100", "--duration", "0.3", "--seed", "2",
                              "--scenario", "errors:payments-service=100", "--quiet")
        received = sink.spans()
    assert code == 0, err
    payments = [s for s in received if s.service == "payments-service" and s.kind == 2]
    assert payments and all(s.error for s in payments)


def test_the_timeline_runs_actions_in_offset_order_at_their_time() -> None:
    from obsgen.traffic.schedule import Timeline

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    timeline = Timeline(clock=lambda: now[0], sleep=sleep)
    ran: list[str] = []
    for offset, name in [(3_000_000_000, "c"), (1_000_000_000, "a"), (1_000_000_000, "b"), (500_000_000, "z")]:
        timeline.push(offset, lambda name=name: ran.append(name))
    timeline.run_until(1_000_000_000)
    assert ran == ["z", "a", "b"] and slept == [0.5, 0.5]
    assert timeline.max_lag_s == 0
    now[0] += 5  # fell behind: the late action runs at once
    timeline.drain()
    assert ran == ["z", "a", "b", "c"] and slept == [0.5, 0.5] and len(timeline) == 0
    assert timeline.max_lag_s == pytest.approx(3.0)


def test_spans_the_endpoint_did_not_take_make_the_run_fail() -> None:
    from obsgen.traffic.report import Summary, Tally
    from obsgen.traffic.sender import Sent

    sent = Sent()
    sent.record("api", 8, ok=True)
    sent.record("api", 1, ok=False)
    summary = Summary("s.yaml", "http://c:4317", "grpc", 1, None, 10, 1, 1.2, Tally(traces=2, spans=10), sent, True)
    assert not summary.ok and summary.failed_spans == 1 and summary.unsent_spans == 1
    text = summary.to_text()
    assert "error: 1 span(s) were not accepted by http://c:4317" in text and "error: 1 span(s) never left" in text


def test_progress_line_reads_as_a_status() -> None:
    from obsgen.traffic.report import Tally, progress_line

    tally = Tally(traces=120, spans=1440, error_traces=3)
    assert progress_line(tally, 2.0, 10) == "traffic:   2.0/10s  120 traces  1,440 spans  3 with errors  60.0 traces/s"
