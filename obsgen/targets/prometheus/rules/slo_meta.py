"""SLO metadata recordings: every SLO's objective and budget as series keyed by labels.

Sloth's pattern (slok/sloth ``internal/prometheus/recording_rules.go``, ``GenerateMetadataRecordingRules``):
beside the SLI recordings, each SLO records its objective (``slo:objective:ratio``, a ``vector(...)``
constant) and its burn rate over the SLO's whole window (``slo:period_burn_rate:ratio``), among others, all
carrying the SLO's identifying labels. A dashboard then reads every
SLO with one selector (``slo:obsgen_objective:ratio``) and joins by label, instead of one ``or`` branch
per SLO with the objective pasted in (120-550 KB queries at 668-2,000 SLOs, issue #15).

Unlike Sloth and Pyrra (one group per SLO, literal thresholds), only the objective is a rule per SLO: the
period burn rate is one rule per SLO window, and the burn-rate alerts (rules.slo) one pair per SLO shape
that selects its SLOs by comparing these objective series with the shape's objective (thresholds stay
literal per shape).
"""

from __future__ import annotations

from obsgen.plan import Plan, PlannedService, PlannedSLO, naming
from obsgen.spec.durations import Duration
from obsgen.targets.prometheus.rules.model import Recording, num, selector

OBJECTIVE = "slo:obsgen_objective:ratio"
"""The SLO's objective (0.999), a constant; its error budget is ``1 - objective``."""
PERIOD_BURN_RATE = "slo:obsgen_period_burn_rate:ratio"
"""The error ratio over the SLO's whole window divided by the budget (1: the budget is spent exactly;
``1 - burn rate`` is the share of the budget left)."""
WINDOW_LABEL = "slo_window"
"""The SLO's window (``30d``) on the SLI and metadata series: tables show it and the window rules select by it."""
OBJECTIVE_LABEL = "slo_objective"
"""On the burn-rate alerts: the objective of the SLO shape (``0.999``) the rule covers."""

META_SERIES: tuple[str, ...] = (OBJECTIVE, PERIOD_BURN_RATE)


def identity(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str) -> tuple[tuple[str, str], ...]:
    """The labels every series of one SLO objective carries: service, SLO name and kind (the SLI recordings'
    labels), plus the window."""
    return ((plan.span_metrics.service_label, service.name), (naming.SLO_LABEL, slo.name),
            (naming.SLO_KIND_LABEL, kind), (WINDOW_LABEL, slo.window.prom()))


def objective_recording(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str, budget: float
                        ) -> Recording:
    """The objective of one SLO objective (``budget`` = 1 - objective): ``vector()`` has no labels, so every
    identifying label is a rule label."""
    return Recording(OBJECTIVE, f"vector({num(1 - budget)})", identity(plan, service, slo, kind))


def period_burn_rate_recording(plan: Plan, slo_window: Duration) -> Recording:
    """The period burn rate of every SLO whose window is ``window``: one rule per distinct SLO window, the
    window's recorded ratio over each SLO's budget read from its objective series (``1 - objective``).

    Two of Sloth's six metadata recordings are kept: its error budget and budget remaining are ``1 - ``
    these, which a query computes as cheaply as it reads a series.
    """
    keys = f"on ({plan.span_metrics.service_label}, {naming.SLO_LABEL}, {naming.SLO_KIND_LABEL})"
    ratio = selector(naming.recorded("slo", "sli_error", naming.slo_window_text(slo_window)),
                     [(WINDOW_LABEL, "=", slo_window.prom())])
    # group_left keeps the ratio's labels (slo_window too): one-to-one `on` would keep only the `on` labels
    # the window as a rule label too (the ratio carries the same value): promtool's duplicate-rule lint
    # tells the rules of different windows apart by their rule labels
    return Recording(PERIOD_BURN_RATE, f"{ratio}\n/ {keys} group_left ()\n  (1 - {OBJECTIVE})",
                     ((WINDOW_LABEL, slo_window.prom()),))

