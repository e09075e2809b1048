"""How much history the SLO windows need Prometheus to keep, and the check of a retention the spec declares.

The SLO rules read each objective's whole window (the 30d ratio and the error budget left): a Prometheus that
keeps less answers for the part it still has, with no error, so the budget panel and ratio quietly describe a
shorter window. obsgen runs Prometheus itself only in the local stack; on Kubernetes the retention is the
operator's (Prometheus Operator, a Helm chart), often under 30 days, and the spec may say what it is.
"""

from __future__ import annotations

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.spec.durations import Duration
from obsgen.spec.loader import LoadedSpec
from obsgen.spec.models import Spec

# cmd/prometheus/main.go (v3.5.0): defaultRetentionString = "15d", used when neither retention flag is given
DEFAULT_RETENTION_DAYS = 15
_DAY_NS = 86_400 * 10**9


def retention_days(window: Duration) -> int:
    """Days of data an SLO window needs kept: the window in whole days, plus a day for the evaluation lag and
    the 5m recordings it sums."""
    return -(-window.ns // _DAY_NS) + 1


def longest_window(spec: Spec) -> tuple[str, Duration] | None:
    """(name, window) of the SLO with the longest window (the first of equals, in spec order), or None."""
    best: tuple[str, Duration] | None = None
    for svc in spec.services.values():
        for slo in svc.slos:
            if best is None or slo.window > best[1]:
                best = (slo.name, slo.window)
    return best


def check(spec: Spec, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS205 for a retention Prometheus cannot take; OBS513 when ``backends.prometheus.retention`` is shorter
    than the longest SLO window needs."""
    declared = spec.backends.prometheus.retention
    if declared is None:
        return []
    loc = ("backends", "prometheus", "retention")
    line, column = loaded.where(loc)
    where = ".".join(loc)
    # Prometheus reads the flag as a model.Duration (whole milliseconds), and a 0 as "no retention set", which
    # is its default of 15d (cmd/prometheus/main.go v3.5.0)
    if declared.ns < 3_600 * 10**9 or declared.ns % 1_000_000:
        return [Diagnostic("OBS205", f"a Prometheus retention of {declared.go()} keeps no useful history",
                           Severity.ERROR, loaded.file, line, column, where,
                           hint="write at least 1h in whole milliseconds, e.g. 31d")]
    longest = longest_window(spec)
    if longest is None:
        return []
    name, window = longest
    days = retention_days(window)
    if declared.ns >= days * _DAY_NS:
        return []
    return [Diagnostic(
        "OBS513", f"Prometheus keeps {declared.prom()}, but SLO {name!r} reads its whole {window.prom()} window "
        f"({days}d with the evaluation lag): its ratio over the window and its error budget left would describe "
        f"only the last {declared.prom()}, without any error", Severity.WARNING, loaded.file, line, column, where,
        hint=f"run that Prometheus with --storage.tsdb.retention.time={days}d (the Operator's and the Helm "
             "chart's `retention`) and declare it here, or shorten the SLO window")]
