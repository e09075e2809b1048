"""A simulation's findings as a text table (``obsgen sampling simulate``), JSON (``--format json``) and Markdown
(``generated/<spec>/sampling-report.md``). Every text that comes from the spec or the config goes through
``obsgen.emit.escape`` in the Markdown; numbers are formatted the same way on every machine."""

from __future__ import annotations

import json

from obsgen.emit.escape import markdown_code, markdown_text
from obsgen.sampling.simulate import Guarantee, SimResult
from obsgen.spec.traffic import Expectation
from obsgen.targets.collector.memory import CACHE_ENTRY_BYTES, SPAN_BYTES, TRACE_OVERHEAD_BYTES

KIND_NAMES = {
    "AlwaysSample": "always_sample", "Latency": "latency", "NumericAttribute": "numeric_attribute",
    "StringAttribute": "string_attribute", "BooleanAttribute": "boolean_attribute", "StatusCode": "status_code",
    "SpanCount": "span_count", "TraceState": "trace_state", "Probabilistic": "probabilistic",
    "RateLimiting": "rate_limiting", "BytesLimiting": "bytes_limiting", "Ottl": "ottl_condition", "And": "and",
    "Not": "not", "Drop": "drop", "Composite": "composite",
}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f}/s" if seconds > 0 else "-"


def _guarantee_text(g: Guarantee) -> str:
    if g.total == 0:
        return f"{g.name}: none in this run"
    text = f"{g.name}: {g.kept:,} of {g.total:,} kept"
    if g.kept == g.total:
        return text + " (all)"
    lost = "; ".join(f"{count:,} {reason}" for reason, count in sorted(g.lost.items()))
    return f"{text}; NOT kept: {lost}"


def to_data(r: SimResult) -> dict[str, object]:
    """The JSON document (sorted keys when dumped)."""
    memory = r.memory
    return {
        "spec": r.spec_name,
        "config": r.config_path,
        "seed": r.seed,
        "duration_s": r.duration_s,
        "scenario": r.scenario,
        "sampler_replicas": r.replicas,
        "traffic": {"traces": r.traces, "spans": r.spans, "bytes": r.bytes,
                    "traces_per_second": r.traces / r.duration_s, "entries": r.entries},
        "kept": {
            "traces": r.kept_traces, "spans": r.kept_spans, "bytes": r.kept_bytes,
            "trace_fraction": r.kept_fraction, "span_fraction": r.kept_span_fraction,
            "traces_per_second": r.kept_traces / r.duration_s, "spans_per_second": r.kept_spans / r.duration_s,
            "storage_reduction": r.storage_reduction,
        },
        "dropped_by_drop_policies": r.dropped_by_drop_policies,
        "evicted_before_decision": r.evicted,
        "policies": [{"name": p.name, "type": KIND_NAMES.get(p.kind, p.kind), "hits": p.hits, "kept_only_by": p.only,
                      "decisions": p.decisions} for p in r.policies],
        "guarantees": [{"name": g.name, "total": g.total, "kept": g.kept, "all_kept": g.kept == g.total,
                        "lost": g.lost} for g in r.guarantees],
        "slow_threshold_ms": r.slow_threshold_ms,
        "composite_peak_budget_use": r.composite_max_share,
        "memory": {
            "num_traces_configured": r.num_traces_configured,
            "num_traces_needed": r.num_traces_needed,
            "sampled_cache_size_configured": r.sampled_cache_configured,
            "non_sampled_cache_size_configured": r.non_sampled_cache_configured,
            "sampled_cache_size_needed": r.sampled_cache_needed,
            "non_sampled_cache_size_needed": r.non_sampled_cache_needed,
            "sampled_decisions_per_second": r.sampled_per_second,
            "non_sampled_decisions_per_second": r.non_sampled_per_second,
            "late_spans": r.late_spans,
            "late_spans_following_the_decision": r.late_spans_followed,
            "late_spans_starting_a_new_trace": r.late_spans_new_trace,
            "estimate_mib": memory.total_mib if memory else 0,
            "estimate": memory.explain() if memory else "",
        },
    }


def to_json(r: SimResult) -> str:
    """``--format json``."""
    return json.dumps(to_data(r), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _cache_seconds(size: int, per_second: float) -> str:
    return f"~{size / per_second:,.0f} s of decisions" if per_second > 0 else "no decisions of that kind"


def _caches(r: SimResult) -> str:
    sampled = _cache_seconds(r.sampled_cache_configured, r.sampled_per_second)
    non_sampled = _cache_seconds(r.non_sampled_cache_configured, r.non_sampled_per_second)
    return (f"sampled {r.sampled_cache_configured:,} ({sampled}), non-sampled {r.non_sampled_cache_configured:,} "
            f"({non_sampled})")


def to_text(r: SimResult) -> str:
    """The text table."""
    d = r.duration_s
    lines = [
        f"{r.spec_name}: {d:g} s of synthetic traffic (seed {r.seed}"
        + (f", scenario {r.scenario}" if r.scenario else "") + f") through {r.config_path} "
        f"({len(r.policies)} policies" + (f", {r.replicas} sampler replicas" if r.replicas > 1 else "") + ")",
        f"  sent     {r.traces:>10,} traces ({_rate(r.traces, d)})  {r.spans:>12,} spans ({_rate(r.spans, d)})",
        f"  kept     {r.kept_traces:>10,} traces ({_pct(r.kept_fraction)}, {_rate(r.kept_traces, d)})  "
        f"{r.kept_spans:>12,} spans ({_pct(r.kept_span_fraction)}, {_rate(r.kept_spans, d)})",
        f"  storage  {_pct(1 - r.storage_reduction)} of the bytes kept: reduction {_pct(r.storage_reduction)}",
        f"  dropped by drop policies: {r.dropped_by_drop_policies:,} traces; evicted before a decision: {r.evicted:,}",
        "",
        f"  {'policy':<28} {'type':<18} {'hits':>10} {'kept only by it':>16}",
    ]
    for p in r.policies:
        only = "-" if p.kind == "Drop" else f"{p.only:,}"
        lines.append(f"  {p.name:<28} {KIND_NAMES.get(p.kind, p.kind):<18} {p.hits:>10,} {only:>16}")
    lines += ["", "  guarantees"] + [f"    {_guarantee_text(g)}" for g in r.guarantees]
    for name, share in sorted(r.composite_max_share.items()):
        lines.append(f"    composite {name}: busiest second used {_pct(share)} of max_total_spans_per_second")
    memory = r.memory
    lines += [
        "", "  Collector memory",
        f"    num_traces: {r.num_traces_configured:,} configured, {r.num_traces_needed:,} needed (most traces "
        "waiting for a decision at once)",
        f"    decision caches: {_caches(r)}; late spans {r.late_spans:,}, needing "
        f"{r.sampled_cache_needed:,} / {r.non_sampled_cache_needed:,} entries",
    ]
    if memory is not None:
        lines.append(f"    estimate at the needed sizes: {memory.total_mib:,} MiB ({memory.explain()})")
    return "\n".join(lines) + "\n"


def expectation(r: SimResult, expect: Expectation) -> list[str]:
    """Whether the simulation bears out what the spec's traffic.expect says."""
    parts: list[str] = []
    checks: list[bool] = []
    if expect.kept_percent is not None:
        parts.append(f"{expect.kept_percent:g}% of the traces kept")
        checks.append(abs(100 * r.kept_fraction - expect.kept_percent) <= expect.tolerance)
    if expect.storage_reduction_percent is not None:
        parts.append(f"a {expect.storage_reduction_percent:g}% storage reduction")
        checks.append(abs(100 * r.storage_reduction - expect.storage_reduction_percent) <= expect.tolerance)
    if not parts:
        return []
    source = f" ({markdown_text(expect.source)})" if expect.source else ""
    verdict = "**holds**" if all(checks) else "**does not hold**"
    text = (f"Expected{source}: {' and '.join(parts)}. Within {expect.tolerance:g} percentage points, the "
            f"expectation {verdict}: the simulation keeps {_pct(r.kept_fraction)} of the traces and reduces storage "
            f"by {_pct(r.storage_reduction)}.")
    if r.kept_span_fraction > r.kept_fraction + 0.05:
        text += (f" Kept traces are the larger ones ({_pct(r.kept_span_fraction)} of the spans are kept): policies "
                 "that keep whole request paths (critical endpoints, errors) keep most of the bytes, so the share "
                 "of traces kept understates the cost.")
    return [text]


def to_markdown(r: SimResult, expect: Expectation | None = None, spec_file: str = "SPEC") -> str:
    """``sampling-report.md``."""
    d = r.duration_s
    md = markdown_text
    lines = [
        f"# {md(r.spec_name)}: what the tail-sampling policies keep",
        "",
        "Generated by `obsgen render` from the spec's traffic model: "
        f"{d:g} s of seeded synthetic traffic (seed {r.seed}) through the tail_sampling processor of "
        f"{markdown_code(r.config_path)}, simulated with the decision semantics of the pinned Collector. "
        f"Reproduce: {markdown_code(f'obsgen sampling simulate {spec_file} --seed {r.seed} --duration {d:g}')}.",
        "",
        "| | traces | spans | per second (traces / spans) |",
        "|---|---:|---:|---:|",
        f"| sent | {r.traces:,} | {r.spans:,} | {_rate(r.traces, d)} / {_rate(r.spans, d)} |",
        f"| kept | {r.kept_traces:,} ({_pct(r.kept_fraction)}) | {r.kept_spans:,} ({_pct(r.kept_span_fraction)}) | "
        f"{_rate(r.kept_traces, d)} / {_rate(r.kept_spans, d)} |",
        "",
        f"**Kept: {_pct(r.kept_fraction)} of the traces. Storage reduction: {_pct(r.storage_reduction)}** "
        f"(bytes of the kept spans against all spans, before compression).",
        "",
    ]
    if expect is not None and (claim := expectation(r, expect)):
        lines += [*claim, ""]
    lines += [
        "## Policies",
        "",
        "Hits: traces the policy sampled (dropped, for a drop policy). Kept only by it: kept traces no other "
        "policy sampled, i.e. what removing the policy would lose.",
        "",
        "| policy | type | hits | kept only by it |",
        "|---|---|---:|---:|",
    ]
    for p in r.policies:
        only = "-" if p.kind == "Drop" else f"{p.only:,}"
        lines.append(f"| {md(p.name)} | {KIND_NAMES.get(p.kind, p.kind)} | {p.hits:,} | {only} |")
    lines += ["", "## Guarantees", ""]
    lines += [f"- {md(_guarantee_text(g))}" for g in r.guarantees]
    if r.slow_threshold_ms is not None:
        lines.append(f"- slow means longer than {r.slow_threshold_ms:,} ms (the lowest latency policy threshold, "
                     "else the smallest SLO latency threshold)")
    for name, share in sorted(r.composite_max_share.items()):
        lines.append(f"- composite {md(name)}: the busiest second used {_pct(share)} of its span budget")
    memory = r.memory
    lines += [
        "", "## Collector memory", "",
        f"- `num_traces`: {r.num_traces_configured:,} configured; at most {r.num_traces_needed:,} traces waited for "
        "a decision at once.",
        f"- decision caches: {_caches(r)}; {r.late_spans:,} spans arrived after their trace's decision.",
    ]
    if memory is not None:
        lines.append(f"- memory at the needed sizes: {memory.total_mib:,} MiB ({memory.explain()}; per trace "
                     f"{TRACE_OVERHEAD_BYTES} B + {SPAN_BYTES} B a span, {CACHE_ENTRY_BYTES} B a cache entry, "
                     "from obsgen's sampler memory estimate).")
    lines += ["", "## Traffic", "", "| entry endpoint | traces |", "|---|---:|"]
    lines += [f"| {md(name)} | {count:,} |" for name, count in r.entries.items()]
    return "\n".join(lines) + "\n"
