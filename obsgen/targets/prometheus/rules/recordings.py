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
    """Requests, errors, error ratio, bucket rates and quantiles of server spans, per window.

    ``level`` is ``service`` (by service) or ``endpoint`` (by service and span name).
    """
    sm = plan.span_metrics
    keys = (sm.service_label,) if level == "service" else (sm.service_label, sm.span_name_label)
    server = [(sm.span_kind_label, "=", naming.KIND_SERVER)]
    failed = [*server, (sm.status_code_label, "=", naming.STATUS_ERROR)]
    rec = naming.recorded
    rules: list[Recording] = []
    for window in naming.RED_WINDOWS:
        requests, errors = rec(level, "requests", window), rec(level, "errors", window)
        bucket = rec(level, "latency_seconds_bucket", window)
        if window == BASE:
            rules += [
                Recording(requests, f"sum {by(*keys)} (rate({selector(sm.calls, server)}[{window}]))"),
                # `or ... * 0` keeps the ratio at 0 (not absent) while nothing has failed yet
                Recording(errors, f"sum {by(*keys)} (rate({selector(sm.calls, failed)}[{window}]))\n"
                                  f"or\n{requests} * 0"),
                Recording(bucket, f"sum {by(*keys, naming.LE_LABEL)} "
                                  f"(rate({selector(sm.duration_bucket, server)}[{window}]))"),
            ]
            if level == "service":
                rules.append(Recording(rec(level, "spans", window),
                                       f"sum {by(*keys)} (rate({sm.calls}[{window}]))"))
        else:
            rules += [
                Recording(requests, f"avg_over_time({rec(level, 'requests', BASE)}[{window}])"),
                Recording(errors, f"avg_over_time({rec(level, 'errors', BASE)}[{window}])"),
                Recording(bucket, f"avg_over_time({rec(level, 'latency_seconds_bucket', BASE)}[{window}])"),
            ]
        rules.append(Recording(rec(level, "error_ratio", window), f"{errors}\n/\n{requests}"))
        for suffix, q in naming.LATENCY_QUANTILES:
            rules.append(Recording(rec(level, f"latency_seconds_{suffix}", window),
                                   f"histogram_quantile({num(q)}, {bucket})"))
    return rules


def edge_rules() -> list[Recording]:
    """Requests, failed requests and failure ratio per service-graph edge (client, server)."""
    sg = naming.SERVICE_GRAPH
    keys = by(sg.client_label, sg.server_label)
    rec = naming.recorded
    rules: list[Recording] = []
    for window in naming.RED_WINDOWS:
        requests, errors = rec("edge", "requests", window), rec("edge", "errors", window)
        if window == BASE:
            rules += [
                Recording(requests, f"sum {keys} (rate({sg.request_total}[{window}]))"),
                Recording(errors, f"sum {keys} (rate({sg.request_failed_total}[{window}]))\nor\n{requests} * 0"),
            ]
        else:
            rules += [
                Recording(requests, f"avg_over_time({rec('edge', 'requests', BASE)}[{window}])"),
                Recording(errors, f"avg_over_time({rec('edge', 'errors', BASE)}[{window}])"),
            ]
        rules.append(Recording(rec("edge", "error_ratio", window), f"{errors}\n/\n{requests}"))
    return rules


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
    """The generic recording groups, one per level (each evaluates its windows in order)."""
    return (
        Group(f"{plan.name}-service-recordings", tuple(span_level_rules(plan, "service"))),
        Group(f"{plan.name}-endpoint-recordings", tuple(span_level_rules(plan, "endpoint"))),
        Group(f"{plan.name}-edge-recordings", tuple(edge_rules())),
    )
