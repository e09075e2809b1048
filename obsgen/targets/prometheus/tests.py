"""promtool unit tests generated with the rules: for every alert, series that breach and series that
keep it silent, with the labels and annotations Prometheus must produce.

Expectations come from each alert's prediction over the synthetic traffic (``rules_sim``), never
from evaluating the rule text, so a test fails when rule and intent disagree.
"""

from __future__ import annotations

import math

from obsgen.plan import Plan, naming
from obsgen.targets.prometheus.rules.model import (
    EVALUATION_INTERVAL,
    Alert,
    RuleFile,
    Traffic,
    minutes_of,
    num,
    selector,
)

SETTLE_MINUTES = 10
"""Conditions hold from the first few evaluations (rates need two samples); margin before checking."""


SAMPLE_PRECISION = 1e-6
"""promtool compares sample values exactly; rounding absorbs float noise (``count - bucket``)."""


def prom_round(value: float, to_nearest: float) -> float:
    """PromQL ``round(v, to_nearest)``, with Prometheus' own arithmetic (it rounds via the inverse)."""
    inverse = 1.0 / to_nearest
    return math.floor(value * inverse + 0.5) / inverse


def _counter(series: str, per_minute: float, samples: int, start: float = 0.0) -> dict[str, str]:
    return {"series": series, "values": f"{num(start)}+{num(per_minute)}x{samples}"}


def _needed_bounds(bounds: list[float], latency: tuple[tuple[float, float], ...],
                   thresholds: frozenset[float]) -> list[float]:
    """The bucket boundaries a test needs: where the cumulative count rises, the one before each rise
    (the lower bound histogram_quantile interpolates from), every SLO threshold (the SLI reads it) and +Inf.

    Any other boundary repeats its neighbour's count and cannot change a recorded value; leaving it out
    keeps test files proportional to what they test (all boundaries made them the bulk of a render).
    """
    full = [*bounds, math.inf]
    cumulative = [sum(share for b, share in latency if b <= le) for le in full]
    keep = set(thresholds) | {math.inf}
    for i, count in enumerate(cumulative):
        if count > (cumulative[i - 1] if i else 0.0):
            keep.add(full[i])
            if i:
                keep.add(full[i - 1])
    return [le for le in full if le in keep]


def input_series(plan: Plan, traffic: Traffic, samples: int) -> list[dict[str, str]]:
    """Span metrics, service-graph and other counters for ``traffic``, one sample per minute."""
    sm, sg = plan.span_metrics, naming.SERVICE_GRAPH
    out: list[dict[str, str]] = []
    bounds = [b.seconds for b in plan.buckets]
    thresholds = plan.latency_thresholds
    for f in traffic.spans:
        base = [(sm.service_label, "=", f.service), (sm.span_name_label, "=", f.span_name),
                (sm.span_kind_label, "=", f.kind)]
        ok = [*base, (sm.status_code_label, "=", naming.STATUS_OK)]
        out.append(_counter(selector(sm.calls, ok), f.per_minute * (1 - f.error_share), samples))
        out.append(_counter(selector(sm.calls, [*base, (sm.status_code_label, "=", naming.STATUS_ERROR)]),
                            f.per_minute * f.error_share, samples))
        for le in _needed_bounds(bounds, f.latency, thresholds):
            count = f.per_minute * sum(share for b, share in f.latency if b <= le)
            le_text = "+Inf" if math.isinf(le) else naming.format_le(le)
            out.append(_counter(selector(sm.duration_bucket, [*ok, (naming.LE_LABEL, "=", le_text)]), count, samples))
        out.append(_counter(selector(sm.duration_count, ok), f.per_minute, samples))
    for e in traffic.edges:
        edge = [(sg.client_label, "=", e.client), (sg.server_label, "=", e.server)]
        out.append(_counter(selector(sg.request_total, edge), e.per_minute, samples))
        out.append(_counter(selector(sg.request_failed_total, edge), e.per_minute * e.failed_share, samples))
    for c in traffic.counters:
        out.append(_counter(selector(c.metric, [(k, "=", v) for k, v in c.labels]), c.per_minute, samples, c.start))
    return out


def _minutes(text: str) -> int:
    return minutes_of(text) if text[-1] in "mhdw" else 0


def loaded_with(files: list[RuleFile]) -> list[list[RuleFile]]:
    """For each file, in order: the files its test loads (itself and every alert-free file alerts read,
    in file order).

    The alert-free files (a handful) are found once, not by scanning every file for every tested file.
    A file no alert reads stays out: promtool evaluates every loaded rule at every step of every test.
    """
    support = [(i, f) for i, f in enumerate(files) if not f.alerts and f.read_by_alerts]
    return [[f for _, f in sorted([*support, (i, rf)] if rf.alerts else support, key=lambda p: p[0])]
            for i, rf in enumerate(files)]


def test_document(plan: Plan, rule_file: RuleFile, loaded: list[RuleFile]) -> dict[str, object] | None:
    """The promtool test file for ``rule_file`` (None when it has no alerts).

    ``loaded`` is every file the test loads: ``rule_file`` with the alert-free files it reads
    (``recordings``; see ``loaded_with``), so reads across groups are part of what is tested;
    expectations cover every loaded alert of the tested name.
    """
    by_name: dict[str, list[Alert]] = {}
    for f in loaded:
        for alert in f.alerts:
            by_name.setdefault(alert.name, []).append(alert)
    tests: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    for alert in rule_file.alerts:
        same = by_name[alert.name]
        longest = max(_minutes(a.for_) for a in same)
        shortest = min(_minutes(a.for_) for a in same)
        eval_minutes = longest + SETTLE_MINUTES
        for scenario in alert.scenarios:
            if (alert.name, scenario.name) in seen:
                continue
            seen.add((alert.name, scenario.name))
            expected = [e for a in same for e in a.expected(scenario.traffic)]
            checks: list[dict[str, object]] = []
            if expected and shortest > 1:
                # still pending: nothing may fire before `for` has elapsed
                checks.append({"eval_time": f"{shortest - 1}m", "alertname": alert.name, "exp_alerts": []})
            checks.append({"eval_time": f"{eval_minutes}m", "alertname": alert.name, "exp_alerts": expected})
            # recorded windows are checked once every 5m rate in them covers a full window: the
            # first rates of a new series are extrapolated from fewer samples and read low
            sample_minutes = max(minutes_of(w) for w in naming.RED_WINDOWS) + SETTLE_MINUTES
            test: dict[str, object] = {
                "name": f"{alert.name}: {scenario.name}",
                "interval": EVALUATION_INTERVAL,
                "input_series": input_series(
                    plan, scenario.traffic, max(eval_minutes, sample_minutes if scenario.samples else 0) + 5),
                "alert_rule_test": checks,
            }
            if scenario.samples:
                test["promql_expr_test"] = [
                    {"expr": f"round({expr}, {num(SAMPLE_PRECISION)})", "eval_time": f"{sample_minutes}m",
                     "exp_samples": [{"labels": labels, "value": prom_round(value, SAMPLE_PRECISION)}]}
                    for expr, labels, value in scenario.samples
                ]
            tests.append(test)
    if not tests:
        return None
    return {
        "rule_files": [f"../rules/{f.stem}.yaml" for f in loaded],
        "evaluation_interval": EVALUATION_INTERVAL,
        "tests": tests,
    }
