"""SLO metadata recordings: every SLO's objective and budget as series keyed by labels.

Sloth's pattern (slok/sloth ``internal/prometheus/recording_rules.go``, ``GenerateMetadataRecordingRules``):
beside the SLI recordings, each SLO records its objective (``slo:objective:ratio``, a ``vector(...)``
constant) and its burn rate over the SLO's whole window (``slo:period_burn_rate:ratio``), among others, all
carrying the SLO's identifying labels. A dashboard then reads every
SLO with one selector (``slo:obsgen_objective:ratio``) and joins by label, instead of one ``or`` branch
per SLO with the objective pasted in (120-550 KB queries at 668-2,000 SLOs, issue #15). The alerts keep
their literal thresholds, as Sloth's and Pyrra's do: one rule group per SLO.
"""

from __future__ import annotations

from obsgen.plan import Plan, PlannedService, PlannedSLO, naming
from obsgen.targets.prometheus.rules.model import Recording, num, selector

OBJECTIVE = "slo:obsgen_objective:ratio"
"""The SLO's objective (0.999), a constant; its error budget is ``1 - objective``."""
PERIOD_BURN_RATE = "slo:obsgen_period_burn_rate:ratio"
"""The error ratio over the SLO's whole window divided by the budget (1: the budget is spent exactly;
``1 - burn rate`` is the share of the budget left)."""
WINDOW_LABEL = "slo_window"
"""The SLO's window (``30d``) on both metadata series, for tables that show it."""

META_SERIES: tuple[str, ...] = (OBJECTIVE, PERIOD_BURN_RATE)


def identity(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str) -> tuple[tuple[str, str], ...]:
    """The labels every series of one SLO objective carries: service, SLO name and kind (the SLI recordings'
    labels), plus the window."""
    return ((plan.span_metrics.service_label, service.name), (naming.SLO_LABEL, slo.name),
            (naming.SLO_KIND_LABEL, kind), (WINDOW_LABEL, slo.window.prom()))


def meta_recordings(plan: Plan, service: PlannedService, slo: PlannedSLO, kind: str, budget: float
                    ) -> list[Recording]:
    """The metadata recordings of one SLO objective (``budget`` = 1 - objective).

    Two of Sloth's six: its error budget and budget remaining are ``1 - `` these, which a query computes
    as cheaply as it reads a series, and each recording costs a rule per SLO (668 SLOs at 1,000 services).
    """
    labels = identity(plan, service, slo, kind)
    mine = [(naming.SLO_LABEL, "=", slo.name), (naming.SLO_KIND_LABEL, "=", kind)]
    period = selector(naming.recorded("slo", "sli_error", naming.slo_window_text(slo.window)), mine)
    return [
        # vector() has no labels: every identifying label is a rule label
        Recording(OBJECTIVE, f"vector({num(1 - budget)})", labels),
        # the window ratio carries service, slo and slo_kind already; as rule labels too, they keep
        # promtool's duplicate-rule lint (same name and rule labels in one file) quiet
        Recording(PERIOD_BURN_RATE, f"{period}\n/\n{num(budget)}", labels),
    ]
