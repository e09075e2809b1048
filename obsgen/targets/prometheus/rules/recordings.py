"""Service, endpoint and edge recording rules: the cheap series alerts and dashboards read.

One rule per measure covers every service (``sum by``), so the rule count does not grow with the
topology. Only the 5m base window reads raw span metrics; longer windows are averaged from the
recorded 5m series, so no alert or dashboard query scans raw histograms over hours (issue #9).
"""

from __future__ import annotations

from obsgen.plan import Plan, naming
from obsgen.spec.rule_lint import MAX_RULES_PER_GROUP
from obsgen.targets.prometheus.rules.model import (
    BASE_WINDOW_MINUTES,
    Group,
    Recording,
    by,
    num,
    selector,
    window_text,
)

BASE = window_text(BASE_WINDOW_MINUTES)


def span_level_rules(plan: Plan, level: naming.RecordLevel) -> list[Recording]:
    """Requests, errors and error ratio of server spans over the 5m base window, read from raw span metrics.

    ``level`` is ``service`` (by service) or ``endpoint`` (by service and span name).
    """
    sm = plan.span_metrics
    keys = (sm.service_label,) if level == "service" else (sm.service_label, sm.span_name_label)
    server = [(sm.span_kind_label, *plan.entry_kind)]
    failed = [*server, (sm.status_code_label, "=", naming.STATUS_ERROR)]
    rec = naming.recorded
    requests, errors = rec(level, "requests", BASE), rec(level, "errors", BASE)
    rules = [
        Recording(requests, f"sum {by(*keys)} (rate({selector(sm.calls, server)}[{BASE}]))"),
        # `or ... * 0` keeps the ratio at 0 (not absent) while nothing has failed yet
        Recording(errors, f"sum {by(*keys)} (rate({selector(sm.calls, failed)}[{BASE}]))\nor\n{requests} * 0"),
        Recording(rec(level, "error_ratio", BASE), f"{errors}\n/\n{requests}"),
    ]
    if level == "service":
        rules.append(Recording(rec(level, "spans", BASE), f"sum {by(*keys)} (rate({sm.calls}[{BASE}]))"))
    return rules


def latency_rules(plan: Plan) -> list[Recording]:
    """Per-service bucket rates over the 5m base window and the latency quantiles read from them.

    The only histogram recording: the overview reads the service p99, SLOs read raw buckets at their own
    threshold, and the service dashboard reads raw buckets by endpoint, so per-endpoint and longer-window
    bucket recordings (most of the rule cost: buckets are most of the span-metrics series) fed nothing.
    """
    sm = plan.span_metrics
    keys = (sm.service_label,)
    server = [(sm.span_kind_label, *plan.entry_kind)]
    bucket = naming.recorded("service", "latency_seconds_bucket", BASE)
    rules = [Recording(bucket, f"sum {by(*keys, naming.LE_LABEL)} "
                               f"(rate({selector(sm.duration_bucket, server)}[{BASE}]))")]
    for suffix, q in naming.LATENCY_QUANTILES:
        rules.append(Recording(naming.recorded("service", f"latency_seconds_{suffix}", BASE),
                               f"histogram_quantile({num(q)}, {bucket})"))
    return rules


def window_rules(level: naming.RecordLevel, window: str) -> list[Recording]:
    """Requests, errors and error ratio over a window longer than 5m, averaged from the recorded 5m series."""
    rec = naming.recorded
    requests, errors = rec(level, "requests", window), rec(level, "errors", window)
    return [
        Recording(requests, f"avg_over_time({rec(level, 'requests', BASE)}[{window}])"),
        Recording(errors, f"avg_over_time({rec(level, 'errors', BASE)}[{window}])"),
        Recording(rec(level, "error_ratio", window), f"{errors}\n/\n{requests}"),
    ]


def edge_rules() -> list[Recording]:
    """Requests, failed requests and failure ratio per service-graph edge (client, server), over 5m."""
    sg = naming.SERVICE_GRAPH
    keys = by(sg.client_label, sg.server_label)
    rec = naming.recorded
    requests, errors = rec("edge", "requests", BASE), rec("edge", "errors", BASE)
    return [
        Recording(requests, f"sum {keys} (rate({sg.request_total}[{BASE}]))"),
        Recording(errors, f"sum {keys} (rate({sg.request_failed_total}[{BASE}]))\nor\n{requests} * 0"),
        Recording(rec("edge", "error_ratio", BASE), f"{errors}\n/\n{requests}"),
    ]


def declared_call_groups(plan: Plan) -> tuple[Group, ...]:
    """``naming.DECLARED_CALL`` once per declared call: ``vector(1)`` with the call's client and server
    as static labels (recording-rule labels are not templates), in groups the rule lint accepts."""
    sg = naming.SERVICE_GRAPH
    rules = [Recording(naming.DECLARED_CALL, "vector(1)", ((sg.client_label, client), (sg.server_label, server)))
             for client, server in plan.declared_calls]
    size = MAX_RULES_PER_GROUP
    chunks = [tuple(rules[i:i + size]) for i in range(0, len(rules), size)]
    return tuple(Group(f"{plan.name}-declared-calls" + (f"-{k + 1}" if len(chunks) > 1 else ""), chunk)
                 for k, chunk in enumerate(chunks))


def recording_groups(plan: Plan) -> tuple[Group, ...]:
    """The generic recording groups.

    Prometheus runs each group in its own goroutine (rules/manager.go, ``Update``) but the rules of one group
    one after the other (unless the ``concurrent-rule-eval`` feature flag is on), so the histogram aggregation
    and the service, endpoint and edge aggregations each lead a group of their own, with only the cheap rules
    that derive from them (issue #15: one group of the endpoint rules, buckets included, took 9-13 s per
    evaluation at 1,000 services). Longer windows come last, from the recorded 5m series, which they may read one
    evaluation late (groups run on their own schedule; promtool, without ``group_eval_order``, in an order
    ``orderedGroups`` in cmd/promtool/unittest.go leaves unspecified): invisible in a 1h average, and the
    tests feed constant traffic, under which every evaluation records the same value.
    """
    windows = [w for w in naming.RED_WINDOWS if w != BASE]
    return (
        Group(f"{plan.name}-service-recordings", tuple(span_level_rules(plan, "service"))),
        Group(f"{plan.name}-service-latency-recordings", tuple(latency_rules(plan))),
        Group(f"{plan.name}-endpoint-recordings", tuple(span_level_rules(plan, "endpoint"))),
        Group(f"{plan.name}-edge-recordings", tuple(edge_rules())),
        Group(f"{plan.name}-window-recordings", tuple(
            r for w in windows for level in ("service", "endpoint", "edge") for r in window_rules(level, w))),
    )
