"""SLO rules: SLI recordings per window and multiwindow, multi-burn-rate alerts (SRE workbook ch. 5),
per SLO *shape* rather than per SLO (issue 15).

Only what differs between SLOs is a rule per SLO objective (availability and/or latency): its events and bad
events per second over the 5m base window, read from raw span metrics (their selectors differ), and its
objective (rules.slo_meta). The error ratio over every window the burn-rate tiers need is one rule per
window over every SLO, from those recorded series (``slo_window`` selects the SLOs that need a window when
SLO windows differ). The burn-rate alerts are one page and one ticket rule per shape, i.e. per distinct
(kind, budget, SLO window): the thresholds stay literal per shape, and each rule selects its SLOs by their
objective series, ``== <objective>``. Sloth and Pyrra generate a group per SLO instead; at 1,000 services
that was 668 groups and their tests, for 2 shapes. Alerts read only the recorded ratios, and take their
``team`` from the declared-service series (rules.declared).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from obsgen.plan import Plan, PlannedService, PlannedSLO, naming
from obsgen.spec.rule_lint import MAX_RULES_PER_GROUP
from obsgen.targets.prometheus import compat as prometheus_compat
from obsgen.targets.prometheus import sim
from obsgen.targets.prometheus.rules import declared, slo_meta
from obsgen.targets.prometheus.rules.common import (
    enough_traffic,
    low_traffic_per_minute,
    make_alert,
    pct,
    service_dashboard_link,
    traffic_guard,
)
from obsgen.targets.prometheus.rules.model import (
    BASE_WINDOW_MINUTES,
    EVALUATION_INTERVAL,
    Alert,
    BurnTier,
    Group,
    Label,
    Recording,
    Scenario,
    SpanFlow,
    Traffic,
    Value,
    ValueFormat,
    burn_tiers,
    by,
    num,
    selector,
    window_text,
)

AVAILABILITY, LATENCY = "availability", "latency"
BASE = window_text(BASE_WINDOW_MINUTES)
FOR = {naming.SEVERITY_PAGE: "2m", naming.SEVERITY_TICKET: "15m"}
PERIOD_INTERVAL = "3m"
"""Interval of a window ratio no alert reads (the SLO window's own, 30d): read by the period burn rate and the
dashboards only, where a 30d ratio moves little in minutes, and the costliest rule by far (30 days of one-minute
samples of every SLO's two 5m series: ~58 M samples at 668 SLOs; benchmarks/long_windows.py). Kept under
Prometheus' default 5m lookback (``--query.lookback-delta``, cmd/prometheus/main.go) with room for the
evaluation itself, so an instant read (the period burn rate, a stat panel) always finds the last sample: at 5m
the series would vanish from each write's scheduled time until it is appended, seconds later."""
SYNTHETIC_SPAN = "obsgen-synthetic"
REQUESTS_PER_MINUTE = 1200.0


def budget(slo: PlannedSLO, kind: str) -> float:
    """Allowed bad-event ratio (0.001 for 99.9%), rounded so 1 - 0.999 prints as 0.001."""
    objective = slo.availability if kind == AVAILABILITY else slo.latency_objective
    assert objective is not None
    return round(1 - objective, 12)


def scope_span(service: PlannedService, slo: PlannedSLO) -> str:
    """Span name the synthetic test traffic uses for the SLO's scope."""
    if slo.endpoint is not None:
        return slo.endpoint.route.span_name
    return service.endpoints[0].route.span_name if service.endpoints else SYNTHETIC_SPAN


def sli_recordings(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str) -> list[Recording]:
    """Events and bad events per second of one SLI over the 5m base window: the only rules per SLO, as
    only their selectors differ between SLOs (every window ratio is one rule over every SLO, window_rules)."""
    sm = plan.span_metrics
    scope = [(sm.service_label, "=", service.name), (sm.span_kind_label, *service.entry_kind)]
    if slo.endpoint is not None:
        scope.append((sm.span_name_label, "=", slo.endpoint.route.span_name))
    # slo_window lets one window rule select the SLOs that read that window (window_rules)
    labels = ((naming.SLO_LABEL, slo.name), (naming.SLO_KIND_LABEL, kind),
              (slo_meta.WINDOW_LABEL, slo.window.prom()))
    mine = [(naming.SLO_LABEL, "=", slo.name), (naming.SLO_KIND_LABEL, "=", kind)]
    rec = naming.recorded
    requests = rec("slo", "sli_requests", BASE)
    keys = by(sm.service_label)
    if kind == AVAILABILITY:
        total = f"sum {keys} (rate({selector(sm.calls, scope)}[{BASE}]))"
        failed = (f"sum {keys} (rate({selector(sm.calls, [*scope, (sm.status_code_label, '=', naming.STATUS_ERROR)])}"
                  f"[{BASE}]))\nor\n0 * sum {keys} ({selector(requests, mine)})")
    else:
        assert slo.latency_threshold is not None
        # as the pinned Prometheus stores the boundary for this delivery path: "1" pushed, "1.0" scraped by 3.x
        le = prometheus_compat.le_matcher(slo.latency_threshold.seconds, plan.spec.stack.prometheus,
                                          span_metrics_delivery(plan))
        total = f"sum {keys} (rate({selector(sm.duration_count, scope)}[{BASE}]))"
        # slow = all - within the threshold bucket; the threshold is a bucket boundary (plan.buckets)
        failed = (f"{total}\n-\nsum {keys} (rate({selector(sm.duration_bucket, [*scope, le])}[{BASE}]))")
    return [Recording(requests, total, labels), Recording(rec("slo", "sli_errors", BASE), failed, labels)]


def window_rules(plan: Plan) -> list[tuple[str, Recording]]:
    """(window, rule): the error ratio of every SLO over each window some SLO's alerts or dashboards read,
    one rule per window, shortest first.

    A window only some SLO windows need (burn tiers scale with the SLO window) selects those SLOs by their
    ``slo_window`` label; a window every SLO needs selects all.
    """
    needs: dict[str, set[str]] = {}
    all_windows = {slo.window.prom() for slo in plan.slos}
    for slo in plan.slos:
        for w in sli_windows(slo):
            needs.setdefault(w, set()).add(slo.window.prom())
    rec = naming.recorded
    requests, errors = rec("slo", "sli_requests", BASE), rec("slo", "sli_errors", BASE)
    out = []
    for window in sorted(needs, key=naming.minutes_of):
        which = sorted(needs[window])
        only = [] if set(which) == all_windows else [(slo_meta.WINDOW_LABEL, "=~", "|".join(which))]
        if window == BASE:
            expr = f"{selector(errors, only)}\n/\n{selector(requests, only)}"
        else:
            expr = (f"sum_over_time({selector(errors, only)}[{window}])\n/\n"
                    f"sum_over_time({selector(requests, only)}[{window}])")
        out.append((window, Recording(rec("slo", "sli_error", window), expr)))
    return out


def alert_windows(plan: Plan) -> set[str]:
    """Every window a burn-rate alert reads: their ratios keep the 1m interval (the others take
    PERIOD_INTERVAL). The SLO window itself is never one: the longest tier is a tenth of it (burn_tiers)."""
    return {w for slo in plan.slos for tier in naming.burn_tiers(slo.window) for w in (tier.long, tier.short)}


def span_metrics_delivery(plan: Plan) -> prometheus_compat.Delivery:
    """How span metrics reach Prometheus: Tempo always remote-writes; the Collector as ``metrics_export`` says."""
    if plan.span_metrics.source == "tempo":
        return "remote_write"
    return "scrape" if plan.spec.collector.metrics_export == "scrape" else "remote_write"


def sli_windows(slo: PlannedSLO) -> list[str]:
    """Every window the SLO's alerts and dashboards read, shortest first (the SLO window last)."""
    return naming.slo_windows(slo.window)


class Shape(NamedTuple):
    """What a burn-rate alert pair depends on: the SLI kind, the error budget and the SLO window (its burn
    tiers). Every SLO objective of one shape shares one page and one ticket rule, which selects its SLOs
    by their objective series (``slo:obsgen_objective:ratio{slo_kind, slo_window} == <objective>``)."""

    kind: str
    budget: float
    window: str
    members: tuple[tuple[PlannedService, PlannedSLO], ...]

    @property
    def objective(self) -> str:
        """The objective as the objective recording writes it (``0.999``): the rule compares with this text."""
        return num(1 - self.budget)

    @property
    def tiers(self) -> tuple[BurnTier, ...]:
        return burn_tiers(self.members[0][1].window)


def shapes(plan: Plan) -> list[Shape]:
    """Every distinct (kind, budget, window) of the plan's SLO objectives, in order of first appearance."""
    found: dict[tuple[str, float, str], list[tuple[PlannedService, PlannedSLO]]] = {}
    for service in plan.instrumented:
        for slo in service.slos:
            for kind in slo_kinds(slo):
                found.setdefault((kind, budget(slo, kind), slo.window.prom()), []).append((service, slo))
    return [Shape(kind, b, window, tuple(members)) for (kind, b, window), members in found.items()]


def slo_kinds(slo: PlannedSLO) -> list[str]:
    """The objectives an SLO has: availability and/or latency."""
    return [k for k, v in ((AVAILABILITY, slo.availability), (LATENCY, slo.latency_threshold)) if v is not None]


def _tier_expr(plan: Plan, shape: Shape, tiers: list[BurnTier]) -> str:
    sm = plan.span_metrics
    b = num(shape.budget)
    parts = []
    for t in tiers:
        long = naming.recorded("slo", "sli_error", t.long)
        short = naming.recorded("slo", "sli_error", t.short)
        op, _ = naming.tier_threshold(t, shape.budget)
        # a capped tier compares with 1 itself: `f * b` would print a factor that is not the rule's
        bound = f"{num(t.factor)} * {b}" if op == ">" else "1"
        parts.append(f"(\n  {long} {op} {bound}\nand\n  {short} {op} {bound}\n)")
    tiers_expr = "\nor\n".join(parts).replace("\n", "\n  ")
    on = f"on ({sm.service_label}, {naming.SLO_LABEL}, {naming.SLO_KIND_LABEL})"
    objective = selector(slo_meta.OBJECTIVE, [(naming.SLO_KIND_LABEL, "=", shape.kind),
                                              (slo_meta.WINDOW_LABEL, "=", shape.window)])
    requests = naming.recorded("slo", "sli_requests", BASE)
    guard = traffic_guard(plan, requests, (sm.service_label, naming.SLO_LABEL, naming.SLO_KIND_LABEL))
    # the shape's SLOs: those whose objective series has this kind, window and objective
    inner = f"(\n  {tiers_expr}\n)\nand {on}\n  {objective} == {shape.objective}{guard}"
    team = (f"* on ({sm.service_label}) group_left ({naming.TEAM_LABEL})\n  {naming.DECLARED_SERVICE}")
    return f"(\n  {inner.replace(chr(10), chr(10) + '  ')}\n)\n{team}"


def _breaches(ratio: float, tier: BurnTier, b: float) -> bool:
    op, threshold = naming.tier_threshold(tier, b)
    return ratio >= threshold if op == ">=" else ratio > threshold


def _condition_text(tier: BurnTier, b: float) -> str:
    if naming.tier_threshold(tier, b)[0] == ">=":
        return f"{num(round(1 / b, 2))}x (capped from {num(tier.factor)}x) over {tier.long} and {tier.short}"
    return f"{num(tier.factor)}x over {tier.long} and {tier.short}"


def _ratio(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str, traffic: Traffic) -> float | None:
    span = slo.endpoint.route.span_name if slo.endpoint else None
    total = sim.span_rate(traffic, service.name, naming.KIND_SERVER, span)
    if not total or not enough_traffic(plan, total):
        return None
    if kind == AVAILABILITY:
        bad = sim.span_rate(traffic, service.name, naming.KIND_SERVER, span, errors=True)
    else:
        assert slo.latency_threshold is not None
        bad = sim.slower_than(traffic, service.name, naming.KIND_SERVER, span, slo.latency_threshold.seconds)
    return None if bad is None else bad / total


def scenario_traffic(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str, bad: float,
                     per_minute: float = REQUESTS_PER_MINUTE) -> Traffic:
    """Constant traffic in the SLO's scope with a ``bad`` share of failed (or slow) requests."""
    span = scope_span(service, slo)
    if kind == AVAILABILITY:
        flow = SpanFlow(service.name, span, naming.KIND_SERVER, per_minute, error_share=bad,
                        latency=((plan.buckets[0].seconds, 1.0),))
    else:
        assert slo.latency_threshold is not None
        thr = slo.latency_threshold.seconds
        above = [b.seconds for b in plan.buckets if b.seconds > thr]
        slow_le = above[0] if above else math.inf
        flow = SpanFlow(service.name, span, naming.KIND_SERVER, per_minute,
                        latency=((thr, 1 - bad), (slow_le, bad)))
    return Traffic(spans=(flow,))


def slo_groups(plan: Plan) -> tuple[Group, ...]:
    """Every SLO rule: the per-SLO 5m SLI recordings and objectives (in groups the rule lint accepts), each
    window ratio in a group of its own, the period burn rates, and the burn-rate alerts per shape.

    Prometheus evaluates the groups concurrently and the rules of one group in order (rules/manager.go), so
    the SLI recordings (which read raw span metrics) are spread over groups of at most MAX_RULES_PER_GROUP,
    and every window ratio (the 30d one reads 30 days of every SLO's 5m series) runs beside the others
    instead of after them. Rules reading another group's output may read it one evaluation late: invisible
    in a window average, and the tests feed constant traffic (see rules.recordings.recording_groups).
    """
    if not plan.slos:
        return ()
    sli: list[Recording] = []
    objectives: list[Recording] = []
    for service in plan.instrumented:
        for slo in service.slos:
            for kind in slo_kinds(slo):
                sli += sli_recordings(plan, service, slo, kind)
                objectives.append(slo_meta.objective_recording(plan, service, slo, kind, budget(slo, kind)))
    groups = [*_chunked(f"{plan.name}-slo-sli", sli), *_chunked(f"{plan.name}-slo-objectives", objectives)]
    alerting = alert_windows(plan)
    groups += [Group(f"{plan.name}-slo-window-{window}", (rule,),
                     EVALUATION_INTERVAL if window in alerting else PERIOD_INTERVAL)
               for window, rule in window_rules(plan)]
    groups.append(Group(f"{plan.name}-slo-period-burn-rates", tuple(
        slo_meta.period_burn_rate_recording(plan, w) for w in dict.fromkeys(s.window for s in plan.slos))))
    groups.append(Group(f"{plan.name}-slo-alerts",
                        tuple(a for shape in shapes(plan) for a in burn_alerts(plan, shape))))
    return tuple(groups)


def _chunked(name: str, rules: list[Recording]) -> list[Group]:
    size = MAX_RULES_PER_GROUP
    chunks = [tuple(rules[i:i + size]) for i in range(0, len(rules), size)]
    return [Group(name + (f"-{k + 1}" if len(chunks) > 1 else ""), chunk) for k, chunk in enumerate(chunks)]


def burn_alerts(plan: Plan, shape: Shape) -> list[Alert]:
    """One page and one ticket alert over every SLO of ``shape``: ``(long > f*budget and short > f*budget)``
    per tier pair, tested on the shape's first SLO (plus whatever else of the plan the test's traffic breaches)."""
    kind, b = shape.kind, shape.budget
    name = naming.ALERTS.slo_availability_burn if kind == AVAILABILITY else naming.ALERTS.slo_latency_burn
    sm = plan.span_metrics
    window = shape.window
    objective_pct = pct(1 - b)
    if kind == AVAILABILITY:
        what, objective = "failed", f"availability objective {objective_pct} over {window}"
    else:
        what = "were slower than its latency threshold"
        objective = f"latency objective {objective_pct} over {window}"
    service, slo = shape.members[0]
    # bad-event shares: over every page factor, between the ticket factors, and within budget
    shares = (("budget burning fast", min(1.0, 20 * b)), ("budget burning slowly", 2 * b), ("within budget", 0.5 * b))
    mine = [(naming.SLO_LABEL, "=", slo.name), (naming.SLO_KIND_LABEL, "=", kind)]
    identity = slo_meta.identity(plan, service, slo, kind)
    full = selector("", [(k, "=", v) for k, v in identity])

    def samples(share: float) -> tuple[tuple[str, str, float], ...]:
        # every recorded window holds the same ratio under constant traffic
        ratios = tuple((selector(naming.recorded("slo", "sli_error", w), mine), full, share) for w in sli_windows(slo))
        # and the metadata recordings follow from it and the objective
        return (*ratios, (selector(slo_meta.OBJECTIVE, mine), full, 1 - b),
                (selector(slo_meta.PERIOD_BURN_RATE, mine), full, share / b))

    info = declared.service_info(plan, service)
    scenarios = tuple(
        Scenario(f"{slo.name} {kind}: {label}",
                 declared.with_info(scenario_traffic(plan, service, slo, kind, share), info),
                 samples(share) if i == 0 else ())
        for i, (label, share) in enumerate(shares)
    )
    low = low_traffic_per_minute(plan)
    if low is not None:
        scenarios += (Scenario(f"{slo.name} {kind}: every request bad on too little traffic",
                               declared.with_info(scenario_traffic(plan, service, slo, kind, 1.0, low), info)),)
    alerts = []
    for severity in naming.SEVERITIES:
        pairs = [t for t in shape.tiers if t.severity == severity]
        conditions = " or ".join(_condition_text(t, b) for t in pairs)

        def predict(traffic: Traffic, pairs: list[BurnTier] = pairs) -> list:
            teams = {i[sm.service_label]: declared.team_labels(i) for i in declared.declared_services(traffic)}
            out = []
            for svc, member in shape.members:
                if svc.name not in teams:  # no declared-service series: the team join drops it
                    continue
                ratio = _ratio(plan, svc, member, kind, traffic)
                if ratio is None or not any(_breaches(ratio, t, b) for t in pairs):
                    continue
                labels = (*slo_meta.identity(plan, svc, member, kind), *teams[svc.name])
                out.append((labels, ratio))
            return out

        speed = "fast" if severity == naming.SEVERITY_PAGE else "slow"
        svc_label, slo_label = Label(sm.service_label), Label(naming.SLO_LABEL)
        alerts.append(make_alert(
            plan, None, name=name, expr=_tier_expr(plan, shape, pairs), for_=FOR[severity], severity=severity,
            shared=True,
            summary=("SLO ", slo_label, f": {speed} {kind} error budget burn on ", svc_label),
            description=(Value(ValueFormat.PERCENT), " of ", svc_label, " requests in SLO ", slo_label,
                         f" {what} ({objective}); the error budget burns faster than {conditions}."),
            predict=predict, scenarios=scenarios, dashboard_url=service_dashboard_link(plan, sm.service_label),
            # the shape as rule labels: the expression yields slo_window too; both keep promtool's
            # duplicate-rule lint (same name and rule labels in one file) quiet across shapes
            extra_labels={naming.SLO_KIND_LABEL: kind, slo_meta.WINDOW_LABEL: window,
                          slo_meta.OBJECTIVE_LABEL: shape.objective},
        ))
    return alerts
