"""``obsgen traffic`` as a user runs it: its summary, its errors (no tracebacks), its scenarios."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen.cli import main
from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.traffic import scenario
from obsgen.traffic.endpoint import EndpointError, parse
from obsgen.traffic.source import synthetic_traces
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
    assert summary["traces"] == 20 and len({s.trace_id for s in received}) == 20
    assert summary["spans"] == summary["exported_spans"] == len(received) and summary["failed_spans"] == 0
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
    assert "sent 4 traces" in out and "\r" not in err + out


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
    ("error:nope", "no service 'nope' in the spec"),
    ("error:frontend=2", "the error fraction must be a number from 0 to 1"),
    ("slow:frontend->redis", "the spec declares no call from frontend to redis"),
    ("slow:frontend", "a slow call is CALLER->CALLEE"),
    ("slow:frontend->main-service=soon", "--scenario slow:frontend->main-service=soon:"),
    ("melt:frontend", "unknown scenario 'melt'"),
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


def test_error_scenario_fails_the_service_and_its_callers_client_span(shop: Plan) -> None:
    (chosen,) = scenario.parse(["error:payments-service=1"], shop)
    traces = list(synthetic_traces(shop, seed=1, count=300))
    touched = 0
    for trace in traces:
        after = scenario.apply(trace, (chosen,), seed=1)
        by_id = {s.span_id: s for s in after.spans}
        for span in after.spans:
            if span.service == "payments-service" and span.kind == "server":
                touched += 1
                assert span.error
                assert by_id[span.parent_span_id].error  # main-service's client span into it
    assert touched > 0


def test_error_scenario_fraction_is_seeded_and_close(shop: Plan) -> None:
    (chosen,) = scenario.parse(["error:frontend=0.3"], shop)
    traces = list(synthetic_traces(shop, seed=2, count=2000))
    first = [scenario.apply(t, (chosen,), seed=2) for t in traces]
    again = [scenario.apply(t, (chosen,), seed=2) for t in traces]
    assert first == again
    failed = sum(any(s.error and s.service == "frontend" and s.kind == "server" for s in t.spans) for t in first)
    with_frontend = sum(any(s.service == "frontend" for s in t.spans) for t in traces)
    assert abs(failed / with_frontend - 0.3) < 0.05


def test_slow_scenario_delays_the_call_and_keeps_children_inside_parents(shop: Plan) -> None:
    (chosen,) = scenario.parse(["slow:main-service->inventory-system=2s"], shop)
    hit = 0
    for trace in synthetic_traces(shop, seed=6, count=200):
        after = scenario.apply(trace, (chosen,), seed=6)
        if not any(s.service == "inventory-system" for s in trace.spans):
            assert after == trace
            continue
        hit += 1
        duration = max(s.end_ns for s in trace.spans) - min(s.start_ns for s in trace.spans)
        slowed = max(s.end_ns for s in after.spans) - min(s.start_ns for s in after.spans)
        assert slowed >= duration + 2_000_000_000
        by_id = {s.span_id: s for s in after.spans}
        for span in after.spans:
            parent = by_id.get(span.parent_span_id) if span.parent_span_id else None
            if parent is not None:
                assert parent.start_ns <= span.start_ns and span.end_ns <= parent.end_ns
    assert hit > 0


def test_progress_line_reads_as_a_status() -> None:
    from obsgen.traffic.report import Tally, progress_line

    tally = Tally(traces=120, spans=1440, error_traces=3)
    assert progress_line(tally, 2.0, 10) == "traffic:   2.0/10s  120 traces  1,440 spans  3 with errors  60.0 traces/s"
