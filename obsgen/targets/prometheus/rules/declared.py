"""The declared-service info series, and how the shared alerts' tests feed and read the declared series.

The alerts that are one rule over every service (rules.service) and every SLO shape (rules.slo) read what
differs between services by label: ``naming.DECLARED_SERVICE`` (one constant series per instrumented
service: its name, its ``team``, whether the error-ratio alert covers it) and ``naming.DECLARED_CALL`` (one
per declared call). Their promtool tests do not load these files: promtool's ``alert_rule_test`` compares
the whole set of firing alerts of a name (cmd/promtool/unittest.go), so loading every declared service
would make every absence alert fire for all of them. The tests feed the few series a case needs as input
series instead (``service_info`` / ``call_info`` below, as constant counters of the test's ``Traffic``),
and each alert's prediction reads the same series back from the traffic (``declared_services`` /
``declared_calls``): a test's expectations follow from its input alone.
"""

from __future__ import annotations

from obsgen.plan import Plan, PlannedService, naming
from obsgen.spec.rule_lint import MAX_RULES_PER_GROUP
from obsgen.targets.prometheus.rules.common import resolved_team
from obsgen.targets.prometheus.rules.model import CounterFlow, Group, Recording, Traffic

ERROR_RATIO_LABEL = "obsgen_error_ratio_alert"
"""On ``naming.DECLARED_SERVICE``: ``"true"`` where the shared ``ServiceHighErrorRatio`` covers the service
(no service-wide availability SLO covers it; its burn-rate alerts do otherwise)."""


def has_error_ratio_alert(service: PlannedService) -> bool:
    """SRE workbook ("Alerting on SLOs"): where an SLO covers the service, its burn-rate alerts are the
    alerts; a threshold alert beside them pages on the same event, sooner and noisier. The error-ratio
    alert stays only for services no service-wide availability SLO covers."""
    return not any(slo.availability is not None and slo.endpoint is None for slo in service.slos)


def service_labels(plan: Plan, service: PlannedService) -> tuple[tuple[str, str], ...]:
    """The labels of ``service``'s declared-service series (no ``team`` when neither it nor the spec has one)."""
    team = resolved_team(plan, service)
    return ((plan.span_metrics.service_label, service.name),
            *(((naming.TEAM_LABEL, team),) if team else ()),
            (ERROR_RATIO_LABEL, "true" if has_error_ratio_alert(service) else "false"))


def declared_service_groups(plan: Plan) -> tuple[Group, ...]:
    """``naming.DECLARED_SERVICE`` once per instrumented service, ``vector(1)`` with static labels
    (recording-rule labels are not templates: a hostile team is data here), in groups the rule lint accepts."""
    rules = [Recording(naming.DECLARED_SERVICE, "vector(1)", service_labels(plan, s)) for s in plan.instrumented]
    size = MAX_RULES_PER_GROUP
    chunks = [tuple(rules[i:i + size]) for i in range(0, len(rules), size)]
    return tuple(Group(f"{plan.name}-declared-services" + (f"-{k + 1}" if len(chunks) > 1 else ""), chunk)
                 for k, chunk in enumerate(chunks))


def service_info(plan: Plan, service: PlannedService) -> CounterFlow:
    """``service``'s declared-service series as a test input (constant 1)."""
    return CounterFlow(naming.DECLARED_SERVICE, service_labels(plan, service), 0.0, 1.0)


def call_info(client: str, server: str) -> CounterFlow:
    """One declared call's series as a test input (constant 1)."""
    sg = naming.SERVICE_GRAPH
    return CounterFlow(naming.DECLARED_CALL, ((sg.client_label, client), (sg.server_label, server)), 0.0, 1.0)


def with_info(traffic: Traffic, *info: CounterFlow) -> Traffic:
    """``traffic`` plus declared series (each once)."""
    counters = list(traffic.counters)
    counters += [c for c in dict.fromkeys(info) if c not in counters]
    return Traffic(traffic.spans, traffic.edges, tuple(counters))


def declared_services(traffic: Traffic) -> list[dict[str, str]]:
    """The labels of every declared-service series the traffic feeds, in order."""
    return [dict(c.labels) for c in traffic.counters if c.metric == naming.DECLARED_SERVICE]


def declared_calls(traffic: Traffic) -> list[tuple[str, str]]:
    """(client, server) of every declared-call series the traffic feeds, in order."""
    sg = naming.SERVICE_GRAPH
    out = []
    for c in traffic.counters:
        if c.metric == naming.DECLARED_CALL:
            labels = dict(c.labels)
            out.append((labels[sg.client_label], labels[sg.server_label]))
    return out


def team_labels(info: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The ``team`` an alert copies from a declared-service series (``group_left (team)``), if it has one."""
    return ((naming.TEAM_LABEL, info[naming.TEAM_LABEL]),) if naming.TEAM_LABEL in info else ()
