"""The live harness proves itself: hand-written PromQL over the synthetic scenarios gives the designed answers.

Nothing here comes from obsgen: the queries are typed from the upstream references, like the data.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.live import synthetic
from tests.live.prometheus import LivePrometheus, PromQLError, free_port, load_rules, recording_levels

pytestmark = pytest.mark.prometheus

T = synthetic.T_END

# (metric family, service label) of the two span-metrics sources
SOURCES = {
    "collector": ("traces_span_metrics_calls_total", "traces_span_metrics_duration_seconds", "service_name"),
    "tempo": ("traces_spanmetrics_calls_total", "traces_spanmetrics_latency", "service"),
}


def _error_ratio(source: str, service: str, window: str = "5m") -> str:
    calls, _, svc = SOURCES[source]
    sel = f'{svc}="{service}",span_kind="SPAN_KIND_SERVER"'
    return (f'sum(rate({calls}{{{sel},status_code="STATUS_CODE_ERROR"}}[{window}]))'
            f" / sum(rate({calls}{{{sel}}}[{window}]))")


def _p99(source: str, service: str, span: str) -> str:
    _, hist, svc = SOURCES[source]
    return (f'histogram_quantile(0.99, sum by (le) (rate({hist}_bucket{{{svc}="{service}",span_name="{span}",'
            f'span_kind="SPAN_KIND_SERVER"}}[5m])))')


@pytest.fixture(scope="module")
def healthy(live_prometheus) -> LivePrometheus:
    return live_prometheus("healthy")


@pytest.fixture(scope="module")
def failing(live_prometheus) -> LivePrometheus:
    return live_prometheus("failing")


def test_free_port_is_loopback_and_bindable() -> None:
    port = free_port()
    assert 1024 <= port <= 65535


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_payments_error_ratio(healthy: LivePrometheus, failing: LivePrometheus, source: str) -> None:
    assert healthy.value(_error_ratio(source, "payments-service"), T) < 0.01
    assert failing.value(_error_ratio(source, "payments-service"), T) > 0.1
    # the [1m] window the dashboards use ($__rate_interval) works on the 15 s tail of the data
    assert failing.value(_error_ratio(source, "payments-service", "1m"), T) == pytest.approx(0.16, rel=0.05)
    assert failing.value(_error_ratio(source, "main-service"), T) > 0.05


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_br_payment_provider_errors(failing: LivePrometheus, source: str) -> None:
    calls, _, svc = SOURCES[source]
    sel = f'{svc}="payments-service",span_kind="SPAN_KIND_CLIENT",span_name="POST /charge"'
    expr = (f'sum by (country) (rate({calls}{{{sel},status_code="STATUS_CODE_ERROR"}}[5m]))'
            f" / sum by (country) (rate({calls}{{{sel}}}[5m]))")
    ratios = {r["metric"]["country"]: float(r["value"][1]) for r in failing.query(expr, T)}
    assert ratios["BR"] == pytest.approx(0.40, rel=0.02)
    assert ratios["US"] < 0.01 and ratios["DE"] < 0.01
    # before the failure started, BR was healthy
    assert failing.query(expr.replace("[5m]", "[30m]"), synthetic.FAILURE_START - 60)[0]["value"][1] != "NaN"


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_inventory_p99(healthy: LivePrometheus, failing: LivePrometheus, source: str) -> None:
    assert healthy.value(_p99(source, "inventory-system", "POST /check"), T) < 0.25
    assert failing.value(_p99(source, "inventory-system", "POST /check"), T) > 1.0
    # SLO thresholds are bucket boundaries in both sources, so "slower than threshold" is exact
    _, hist, svc = SOURCES[source]
    sel = f'{svc}="inventory-system",span_kind="SPAN_KIND_SERVER"'
    slow = (f'1 - sum(rate({hist}_bucket{{{sel},le="0.25"}}[5m])) / sum(rate({hist}_bucket{{{sel},le="+Inf"}}[5m]))')
    assert healthy.value(slow, T) < 0.001
    assert failing.value(slow, T) == pytest.approx(0.15, abs=0.01)


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_histograms_are_consistent(healthy: LivePrometheus, source: str) -> None:
    calls, hist, _ = SOURCES[source]
    # _count equals the +Inf bucket and the calls counter, series by series
    assert healthy.query(f'{hist}_count != ignoring(le) {hist}_bucket{{le="+Inf"}}', T) == []
    assert healthy.query(f"{hist}_count != {calls}", T) == []
    # buckets never decrease with le
    les = synthetic.COLLECTOR_LE if source == "collector" else synthetic.TEMPO_LE
    for lo, hi in itertools.pairwise(les):
        assert healthy.query(f'{hist}_bucket{{le="{lo}"}} > ignoring(le) {hist}_bucket{{le="{hi}"}}', T) == []


def test_service_graph_edges(healthy: LivePrometheus, failing: LivePrometheus) -> None:
    expr = "sum by (client, server) (rate(traces_service_graph_request_total[5m])) > 0"
    edges = {(r["metric"]["client"], r["metric"]["server"]) for r in healthy.query(expr, T)}
    assert edges == set(synthetic.DECLARED_EDGES)
    failing_edges = {(r["metric"]["client"], r["metric"]["server"]) for r in failing.query(expr, T)}
    assert failing_edges == (set(synthetic.DECLARED_EDGES) - {("main-service", "crm-system")}
                             | {("frontend", "payments-service")})
    missing = 'absent_over_time(traces_service_graph_request_total{client="main-service",server="crm-system"}[1h])'
    assert healthy.query(missing, T) == []
    assert [r["metric"] for r in failing.query(missing, T)] == [{"client": "main-service", "server": "crm-system"}]
    assert failing.value('traces_service_graph_request_total{server="shop"}', T) > 0
    assert failing.query('traces_service_graph_request_total{server="shop",connection_type="database"}', T)
    failed = ('sum(rate(traces_service_graph_request_failed_total{client="payments-service"}[5m]))'
              ' / sum(rate(traces_service_graph_request_total{client="payments-service"}[5m]))')
    assert failing.value(failed, T) == pytest.approx(0.16, rel=0.05)
    assert healthy.value(failed, T) < 0.001


def test_tail_sampling_telemetry(healthy: LivePrometheus, failing: LivePrometheus) -> None:
    early = "rate(otelcol_processor_tail_sampling_sampling_trace_dropped_too_early_total[5m])"
    assert healthy.value(early, T) == 0
    assert failing.value(early, T) == pytest.approx(5.0, rel=0.01)
    assert failing.value(early, synthetic.FAILURE_START - 600) == 0
    policies = healthy.query(
        'sum by (policy) (rate(otelcol_processor_tail_sampling_count_traces_sampled_total{sampled="true"}[5m])) > 0',
        T)
    assert len(policies) == len(synthetic.POLICIES) - 1  # every policy but the drop policy keeps something
    decisions = healthy.query(
        "sum by (decision) (rate(otelcol_processor_tail_sampling_global_count_traces_sampled_total[5m]))", T)
    assert {r["metric"]["decision"] for r in decisions} == {"sampled", "not_sampled", "dropped"}
    assert failing.value("otelcol_processor_tail_sampling_sampling_traces_on_memory", T) == 10_000


def test_bad_promql_is_reported(healthy: LivePrometheus) -> None:
    with pytest.raises(PromQLError) as info:
        healthy.query("sum(rate(traces_span_metrics_calls_total[5m])", T)
    assert info.value.error_type == "bad_data"


RULES = """
groups:
  - name: smoke
    interval: 30s
    rules:
      - record: smoke:payments_error_ratio:rate5m
        expr: |
          sum(rate(traces_span_metrics_calls_total{service_name="payments-service",span_kind="SPAN_KIND_SERVER",
            status_code="STATUS_CODE_ERROR"}[5m]))
          / sum(rate(traces_span_metrics_calls_total{service_name="payments-service",span_kind="SPAN_KIND_SERVER"}[5m]))
  - name: smoke-derived
    rules:
      - record: smoke:payments_error_ratio:avg30m
        expr: avg_over_time(smoke:payments_error_ratio:rate5m[30m])
      - record: smoke:payments_error_ratio:max30m
        expr: max_over_time(smoke:payments_error_ratio:avg30m[30m])
      - alert: SmokePaymentsErrors
        expr: smoke:payments_error_ratio:avg30m > 0.1
        labels: {severity: page}
"""


def test_recording_rules_backfill_in_levels(live_prometheus, tmp_path: Path) -> None:
    rule_file = tmp_path / "smoke.yaml"
    rule_file.write_text(RULES)
    levels = recording_levels(load_rules([rule_file]))
    assert [[r.record for r in level] for level in levels] == [
        ["smoke:payments_error_ratio:rate5m"], ["smoke:payments_error_ratio:avg30m"],
        ["smoke:payments_error_ratio:max30m"],
    ]
    failing = live_prometheus("failing", [rule_file])
    groups = {g["name"]: [r["name"] for r in g["rules"]] for g in failing.rules()}
    assert groups["smoke-derived"] == ["smoke:payments_error_ratio:avg30m", "smoke:payments_error_ratio:max30m",
                                       "SmokePaymentsErrors"]
    # recorded series exist over the past window, three levels deep
    assert failing.value("smoke:payments_error_ratio:rate5m", T) == pytest.approx(0.16, rel=0.05)
    assert failing.value("smoke:payments_error_ratio:avg30m", T) == pytest.approx(0.16, rel=0.05)
    assert failing.value("smoke:payments_error_ratio:max30m", T) == pytest.approx(0.16, rel=0.05)
    assert failing.value("smoke:payments_error_ratio:rate5m", synthetic.FAILURE_START - 600) < 0.01
    assert failing.query("smoke:payments_error_ratio:avg30m > 0.1", T)
    healthy = live_prometheus("healthy", [rule_file])
    assert healthy.query("smoke:payments_error_ratio:avg30m > 0.1", T) == []
    assert healthy.value("smoke:payments_error_ratio:avg30m", T) < 0.01
