"""SLO rules: SLI recordings per window and multiwindow, multi-burn-rate alerts (SRE workbook ch. 5).

Per SLO objective (availability and/or latency) the group records events and bad events per second
over the 5m base window from raw span metrics, then the error ratio over every window the burn-rate
tiers need, derived from those recorded series. Alerts read only the recorded ratios.
"""

from __future__ import annotations

import math

from obsgen.plan import Plan, PlannedService, PlannedSLO, naming
from obsgen.targets.prometheus import compat as prometheus_compat
from obsgen.targets.prometheus import sim
from obsgen.targets.prometheus.rules import slo_meta
from obsgen.targets.prometheus.rules.common import (
    enough_traffic,
    low_traffic_per_minute,
    make_alert,
    pct,
    seconds_text,
    traffic_guard,
)
from obsgen.targets.prometheus.rules.model import (
    BASE_WINDOW_MINUTES,
    Alert,
    BurnTier,
    Group,
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


def scope_text(service: PlannedService, slo: PlannedSLO) -> str:
    """``main-service POST /checkout`` or ``payments-service``."""
    return f"{service.name} {slo.endpoint.route.span_name}" if slo.endpoint else service.name


def sli_recordings(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str) -> list[Recording]:
    """Events, bad events and the error ratio of one SLI over every window its alerts read."""
    sm = plan.span_metrics
    scope = [(sm.service_label, "=", service.name), (sm.span_kind_label, *service.entry_kind)]
    if slo.endpoint is not None:
        scope.append((sm.span_name_label, "=", slo.endpoint.route.span_name))
    labels = ((naming.SLO_LABEL, slo.name), (naming.SLO_KIND_LABEL, kind))
    mine = [(naming.SLO_LABEL, "=", slo.name), (naming.SLO_KIND_LABEL, "=", kind)]
    rec = naming.recorded
    requests, errors = rec("slo", "sli_requests", BASE), rec("slo", "sli_errors", BASE)
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
    rules = [Recording(requests, total, labels), Recording(errors, failed, labels)]
    for window in sli_windows(slo):
        ratio = rec("slo", "sli_error", window)
        if window == BASE:
            expr = f"{selector(errors, mine)}\n/\n{selector(requests, mine)}"
        else:
            expr = (f"sum_over_time({selector(errors, mine)}[{window}])\n/\n"
                    f"sum_over_time({selector(requests, mine)}[{window}])")
        rules.append(Recording(ratio, expr, labels))
    return rules


def span_metrics_delivery(plan: Plan) -> prometheus_compat.Delivery:
    """How span metrics reach Prometheus: Tempo always remote-writes; the Collector as ``metrics_export`` says."""
    if plan.span_metrics.source == "tempo":
        return "remote_write"
    return "scrape" if plan.spec.collector.metrics_export == "scrape" else "remote_write"


def sli_windows(slo: PlannedSLO) -> list[str]:
    """Every window the SLO's alerts and dashboards read, shortest first (the SLO window last)."""
    return naming.slo_windows(slo.window)


def _tier_expr(plan: Plan, tiers: list[BurnTier], slo: PlannedSLO, kind: str) -> str:
    mine = [(naming.SLO_LABEL, "=", slo.name), (naming.SLO_KIND_LABEL, "=", kind)]
    b = num(budget(slo, kind))
    parts = []
    for t in tiers:
        long = selector(naming.recorded("slo", "sli_error", t.long), mine)
        short = selector(naming.recorded("slo", "sli_error", t.short), mine)
        op, _ = naming.tier_threshold(t, budget(slo, kind))
        # a capped tier compares with 1 itself: `f * b` would print a factor that is not the rule's
        bound = f"{num(t.factor)} * {b}" if op == ">" else "1"
        parts.append(f"(\n  {long} {op} {bound}\nand\n  {short} {op} {bound}\n)")
    tiers_expr = "\nor\n".join(parts)
    requests = selector(naming.recorded("slo", "sli_requests", BASE), mine)
    guard = traffic_guard(plan, requests, (plan.span_metrics.service_label, naming.SLO_LABEL, naming.SLO_KIND_LABEL))
    return f"(\n{tiers_expr}\n){guard}" if guard else tiers_expr


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


def slo_group(plan: Plan, service: PlannedService, slo: PlannedSLO) -> Group:
    """Recordings and page/ticket burn-rate alerts of one SLO (each objective it has)."""
    rules: list[Recording | Alert] = []
    kinds = [k for k, v in ((AVAILABILITY, slo.availability), (LATENCY, slo.latency_threshold)) if v is not None]
    for kind in kinds:
        rules += sli_recordings(plan, service, slo, kind)
    for kind in kinds:
        rules += slo_meta.meta_recordings(plan, service, slo, kind, budget(slo, kind))
    for kind in kinds:
        rules += burn_alerts(plan, service, slo, kind)
    return Group(f"{plan.name}-slo-{slo.name}", tuple(rules))


def burn_alerts(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str) -> list[Alert]:
    """One page and one ticket alert: ``(long > f*budget and short > f*budget)`` per tier pair."""
    tiers = burn_tiers(slo.window)
    b = budget(slo, kind)
    name = naming.ALERTS.slo_availability_burn if kind == AVAILABILITY else naming.ALERTS.slo_latency_burn
    sm = plan.span_metrics
    scope = scope_text(service, slo)
    window = slo.window.prom()
    if kind == AVAILABILITY:
        assert slo.availability is not None
        what, objective = "failed", f"availability objective {pct(slo.availability)} over {window}"
    else:
        assert slo.latency_threshold is not None and slo.latency_objective is not None
        thr = seconds_text(slo.latency_threshold.seconds)
        what = f"were slower than {thr}"
        objective = f"latency objective {pct(slo.latency_objective)} within {thr} over {window}"
    # bad-event shares: over every page factor, between the ticket factors, and within budget
    shares = (("budget burning fast", min(1.0, 20 * b)), ("budget burning slowly", 2 * b), ("within budget", 0.5 * b))
    mine = [(naming.SLO_LABEL, "=", slo.name), (naming.SLO_KIND_LABEL, "=", kind)]
    full = [(sm.service_label, "=", service.name), *mine]

    def samples(share: float) -> tuple[tuple[str, str, float], ...]:
        # every recorded window holds the same ratio under constant traffic
        ratios = tuple((selector(naming.recorded("slo", "sli_error", w), mine),
                        selector("", full), share) for w in sli_windows(slo))
        # and the metadata recordings follow from it and the objective
        meta = selector("", [(k, "=", v) for k, v in slo_meta.identity(plan, service, slo, kind)])
        return (*ratios, (selector(slo_meta.OBJECTIVE, mine), meta, 1 - b),
                (selector(slo_meta.PERIOD_BURN_RATE, mine), meta, share / b))

    scenarios = tuple(
        Scenario(f"{slo.name} {kind}: {label}", scenario_traffic(plan, service, slo, kind, share),
                 samples(share) if i == 0 else ())
        for i, (label, share) in enumerate(shares)
    )
    low = low_traffic_per_minute(plan)
    if low is not None:
        scenarios += (Scenario(f"{slo.name} {kind}: every request bad on too little traffic",
                               scenario_traffic(plan, service, slo, kind, 1.0, low)),)
    alerts = []
    for severity in naming.SEVERITIES:
        pairs = [t for t in tiers if t.severity == severity]
        conditions = " or ".join(_condition_text(t, b) for t in pairs)

        def predict(traffic: Traffic, pairs: list[BurnTier] = pairs, kind: str = kind) -> list:
            ratio = _ratio(plan, service, slo, kind, traffic)
            if ratio is None or not any(_breaches(ratio, t, b) for t in pairs):
                return []
            labels = ((sm.service_label, service.name), (naming.SLO_LABEL, slo.name), (naming.SLO_KIND_LABEL, kind))
            return [(labels, ratio)]

        speed = "fast" if severity == naming.SEVERITY_PAGE else "slow"
        alerts.append(make_alert(
            plan, service, name=name, expr=_tier_expr(plan, pairs, slo, kind), for_=FOR[severity], severity=severity,
            summary=(f"SLO {slo.name}: {speed} {kind} error budget burn on {scope}",),
            description=(Value(ValueFormat.PERCENT),
                         f" of {scope} requests {what} ({objective}); the error budget burns faster than "
                         f"{conditions}."),
            predict=predict, scenarios=scenarios,
            # the expression yields these too; as rule labels they keep promtool's duplicate-rule lint quiet
            extra_labels={naming.SLO_LABEL: slo.name, naming.SLO_KIND_LABEL: kind},
        ))
    return alerts
