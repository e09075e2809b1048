"""What ``obsgen traffic`` sent: running totals, the progress line and the final summary (text or JSON)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from obsgen.sampling.synth import SynthTrace
from obsgen.traffic.sender import Sent

# Spans leaving this much later than they ended change what a receiver's per-second budgets see.
LAG_WARNING_S = 1.0


@dataclass
class Tally:
    """Traces and spans handed to the SDK, with errors, per service (by reported service.name)."""

    traces: int = 0
    spans: int = 0
    error_traces: int = 0
    error_spans: int = 0
    spans_by_service: Counter[str] = field(default_factory=Counter)
    errors_by_service: Counter[str] = field(default_factory=Counter)

    def add(self, trace: SynthTrace) -> None:
        self.traces += 1
        self.spans += len(trace.spans)
        errors = [s for s in trace.spans if s.error]
        self.error_spans += len(errors)
        self.error_traces += bool(errors)
        self.spans_by_service.update(s.service for s in trace.spans)
        self.errors_by_service.update(s.service for s in errors)


def progress_line(tally: Tally, elapsed_s: float, duration_s: float) -> str:
    """One status line (rewritten in place on a terminal)."""
    rate = tally.traces / elapsed_s if elapsed_s > 0 else 0.0
    return (f"traffic: {elapsed_s:5.1f}/{duration_s:g}s  {tally.traces:,} traces  {tally.spans:,} spans  "
            f"{tally.error_traces:,} with errors  {rate:.1f} traces/s")


@dataclass(frozen=True)
class Summary:
    """The run, for the final report."""

    spec: str
    endpoint: str
    protocol: str
    seed: int
    scenario: str | None
    rate: float
    duration_s: float
    elapsed_s: float
    tally: Tally
    sent: Sent
    flushed: bool
    max_lag_s: float = 0.0

    @property
    def failed_spans(self) -> int:
        return sum(self.sent.failed.values())

    @property
    def unsent_spans(self) -> int:
        """Spans neither accepted nor refused: dropped by a full SDK queue, or never ended (interrupted)."""
        return max(0, self.tally.spans - sum(self.sent.exported.values()) - self.failed_spans)

    @property
    def ok(self) -> bool:
        return self.flushed and self.failed_spans == 0 and self.unsent_spans == 0

    def to_json(self) -> str:
        t = self.tally
        services = sorted(set(t.spans_by_service) | set(self.sent.failed))
        data = {
            "spec": self.spec, "endpoint": self.endpoint, "protocol": self.protocol, "seed": self.seed,
            "scenario": self.scenario, "rate": self.rate, "duration_s": self.duration_s,
            "elapsed_s": round(self.elapsed_s, 3),
            "traces": t.traces, "spans": t.spans, "error_traces": t.error_traces, "error_spans": t.error_spans,
            "exported_spans": sum(self.sent.exported.values()), "failed_spans": self.failed_spans,
            "unsent_spans": self.unsent_spans, "flushed": self.flushed, "max_lag_s": round(self.max_lag_s, 3),
            "services": {s: {"spans": t.spans_by_service[s], "error_spans": t.errors_by_service[s],
                             "exported_spans": self.sent.exported[s], "failed_spans": self.sent.failed[s]}
                         for s in services},
        }
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    def to_text(self) -> str:
        t = self.tally
        achieved = t.traces / self.duration_s
        share = f" ({t.error_traces / t.traces:.1%})" if t.traces else ""
        lines = [
            f"traffic: {self.spec} -> {self.endpoint} ({self.protocol}), seed {self.seed}"
            + (f", scenario {self.scenario}" if self.scenario else ""),
            f"sent {t.traces:,} traces, {t.spans:,} spans: {self.duration_s:g}s of traffic at {achieved:.1f} traces/s "
            f"(asked {self.rate:g}/s; Poisson arrivals), done in {self.elapsed_s:.1f}s",
            f"traces with an error: {t.error_traces:,}{share}; error spans: {t.error_spans:,}",
        ]
        width = max((len(s) for s in t.spans_by_service), default=7)
        lines.append(f"  {'service':<{width}}  {'spans':>8}  {'errors':>7}  {'exported':>8}  {'failed':>7}")
        for service in sorted(set(t.spans_by_service) | set(self.sent.failed)):
            lines.append(f"  {service:<{width}}  {t.spans_by_service[service]:>8,}  "
                         f"{t.errors_by_service[service]:>7,}  {self.sent.exported[service]:>8,}  "
                         f"{self.sent.failed[service]:>7,}")
        if self.max_lag_s > LAG_WARNING_S:
            lines.append(f"warning: spans left up to {self.max_lag_s:.1f}s after they ended: this machine could not "
                         f"keep up with {self.rate:g} traces/s, so arrivals were bunched (try a lower --rate)")
        if self.failed_spans:
            lines.append(f"error: {self.failed_spans:,} span(s) were not accepted by {self.endpoint}")
        if self.unsent_spans:
            lines.append(f"error: {self.unsent_spans:,} span(s) never left (the SDK's queue was full while the "
                         "endpoint was slow, or the run was interrupted)")
        if not self.flushed:
            lines.append("error: the exporters did not finish sending in time; some spans may not have arrived")
        return "\n".join(lines) + "\n"
