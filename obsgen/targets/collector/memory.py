"""How much memory one tail sampler needs: the one estimate behind the OBS410/OBS326 checks and the Helm values.

traces per second x decision_wait x headroom / replicas = the traces one sampler buffers
(``collector.values.trace_buffer_sizing``, the same ``num_traces`` the rendered config has); times the memory
of one buffered trace, plus the two decision caches, plus the process baseline. The Helm sampler's memory
*request* is this estimate. Its *limit*, from which the sampler's rendered ``memory_limiter`` and ``GOMEMLIMIT``
are sized, is ``collector.memory_limit_mib`` when the spec sets it; with a ``kubernetes:`` section and no
explicit limit it follows the estimate (``estimate_limit_mib``): the smallest multiple of ``LIMIT_STEP_MIB``
whose soft limit covers the request. The plan decides it once (``Plan.sampler_memory``) for both the collector
and the Helm target. The limiter refuses data from its soft limit (limit_mib - spike_limit_mib), so an
estimate above it means a sampler that refuses data in steady state.

Sources (contrib ``processor/tailsamplingprocessor`` v0.159.0):

* A buffered trace is a ``*TraceData`` in ``idToTrace map[pcommon.TraceID]*TraceData`` plus a
  ``container/list`` element in the delete queue (``processor.go``). ``TraceData`` embeds
  ``samplingpolicy.TraceData`` (SpanCount, SizeBytes, ``ReceivedBatches ptrace.Traces``) and adds the decision,
  policy name, two ``time.Time`` and the list element: ~120 bytes, a 128-byte allocation; the map slot (16-byte
  key, pointer, tophash, load factor 6.5/8) ~32 bytes; the list element 48 bytes. Then the spans themselves:
  ``ReceivedBatches`` holds a copy of every span in pdata's generated structs (a ``Span`` is ~200 bytes before
  its attributes; each attribute a ``KeyValue`` with an ``AnyValue`` is ~64 bytes plus its text), and each
  batch repeats its resource and scope. ~1 KiB per span is a modest figure for spans with a dozen attributes.
  With a ``kubernetes:`` section the spec states the average trace size itself (``sampler.trace_size_kib``,
  measured is best) and that figure is used instead.
* A decision-cache entry (``cache/lru_cache.go``) is a ``hashicorp/golang-lru/v2`` entry keyed by the right
  half of the trace id (``rightHalfTraceID``: a ``uint64``, not the 16-byte id) holding
  ``DecisionMetadata{PolicyName string}``: the list ``Entry`` (next, prev, list pointers, key, value,
  ``ExpiresAt time.Time``) is 80 bytes allocated, its map slot (uint64 key and pointer) ~20 bytes at the average
  load factor. There are two caches, sampled and non-sampled, each ``DECISION_CACHE_FACTOR`` x num_traces.

The figures are estimates for a warning and a memory request, not a guarantee; a load test is the real measure.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

from obsgen.spec.models import ServiceKind, Spec
from obsgen.targets.collector.values import (
    HARD_LIMIT_SHARE,
    SPIKE_SHARE,
    MemorySizing,
    memory_sizing,
    trace_buffer_sizing,
)

TRACE_OVERHEAD_BYTES = 128 + 32 + 48
SPAN_BYTES = 1024
CACHE_ENTRY_BYTES = 80 + 20
LIMIT_STEP_MIB = 64
"""A limit sized from the estimate is a multiple of this (the schema's minimum ``memory_limit_mib``)."""
MAX_LIMIT_MIB = 1_048_576
"""The schema's maximum ``memory_limit_mib``: a derived limit is never more than a user could write."""
DEFAULT_BASE_MIB = 256
"""Process baseline without a kubernetes section (``kubernetes.sampler.base_memory_mib``'s default)."""
MIB = 1024 * 1024


def spans_per_trace(spec: Spec) -> int:
    """Spans of the largest request the topology declares: from an entry service (one nobody calls), one
    server span per instrumented service it reaches and one client span per call between them."""
    calls = {key: [c if isinstance(c, str) else c.service for c in svc.calls] for key, svc in spec.services.items()}
    called = {callee for targets in calls.values() for callee in targets}
    entries = [k for k, s in spec.services.items() if s.kind is ServiceKind.SERVICE and k not in called]
    best = 1
    for entry in entries or [k for k, s in spec.services.items() if s.kind is ServiceKind.SERVICE][:1]:
        seen = {entry}
        stack = [entry]
        spans = 0
        while stack:
            key = stack.pop()
            svc = spec.services.get(key)
            if svc is None or svc.kind is not ServiceKind.SERVICE:
                continue
            spans += 1 + len(calls[key])
            for callee in calls[key]:
                if callee not in seen:
                    seen.add(callee)
                    stack.append(callee)
        best = max(best, spans)
    return best


class SamplerMemory(NamedTuple):
    """The estimate for one sampler replica and its parts (MiB, rounded up), with the limits it meets."""

    num_traces: int
    trace_bytes: Fraction
    trace_basis: str
    """Where ``trace_bytes`` came from, for the explanation."""
    cache_entries: int
    traces_mib: int
    caches_mib: int
    base_mib: int
    limit_mib: int
    """The sampler's container limit, from which its memory_limiter and GOMEMLIMIT are sized."""
    limit_basis: str
    """Where ``limit_mib`` came from (``collector.memory_limit_mib`` or the estimate), for comments."""
    soft_limit_mib: int
    gomemlimit_mib: int

    def limiter(self) -> MemorySizing:
        """The memory_limiter sized from ``limit_mib``: the sampler config's, and its GOMEMLIMIT."""
        return memory_sizing(self.limit_mib, self.limit_basis)

    @property
    def request_mib(self) -> int:
        """Buffer, caches and baseline: what one sampler needs in steady state."""
        return self.traces_mib + self.caches_mib + self.base_mib

    def explain(self) -> str:
        """The arithmetic, for a diagnostic."""
        return (
            f"{self.num_traces:,} buffered traces x {self.trace_basis} = {self.traces_mib:,} MiB, plus "
            f"{self.cache_entries:,} decision-cache entries x ~{CACHE_ENTRY_BYTES} B = {self.caches_mib:,} MiB, "
            f"plus a {self.base_mib:,} MiB baseline"
        )

    def comment(self) -> str:
        """The arithmetic, for a comment above the Helm resources block."""
        return (
            f"memory request = {self.num_traces} buffered traces (num_traces) x {self.trace_basis} = "
            f"{self.traces_mib} MiB + decision caches {self.caches_mib} MiB + baseline {self.base_mib} MiB = "
            f"{self.request_mib} MiB; limit = {self.limit_mib} MiB ({self.limit_basis}; memory_limiter "
            f"soft limit {self.soft_limit_mib} MiB, GOMEMLIMIT {self.gomemlimit_mib}MiB)"
        )


def limit_is_explicit(spec: Spec) -> bool:
    """Whether the spec itself wrote ``collector.memory_limit_mib`` (pydantic's ``model_fields_set``)."""
    return "memory_limit_mib" in spec.collector.model_fields_set


def estimate_limit_mib(request_mib: int) -> int:
    """The smallest multiple of LIMIT_STEP_MIB whose memory_limiter soft limit covers ``request_mib``.

    The soft limit is about 64% of the container (the 80% hard limit minus its 20% spike), so start from
    request / 0.64 and step up past the rounding down in ``memory_sizing``.
    """
    share = HARD_LIMIT_SHARE * (1 - SPIKE_SHARE)
    limit = max(LIMIT_STEP_MIB, math.ceil(Fraction(request_mib) / share / LIMIT_STEP_MIB) * LIMIT_STEP_MIB)
    while limit < MAX_LIMIT_MIB:
        sizing = memory_sizing(limit)
        if sizing.limit_mib - sizing.spike_limit_mib >= request_mib:
            break
        limit += LIMIT_STEP_MIB
    return min(limit, MAX_LIMIT_MIB)


def sampler_memory(spec: Spec) -> SamplerMemory:
    """The memory estimate of one sampler replica."""
    sampling = spec.sampling
    buffer = trace_buffer_sizing(sampling.expected_traces_per_second, sampling.decision_wait, sampling.headroom,
                                 spec.collector.replicas)
    k8s = spec.kubernetes
    if k8s is not None:
        kib = k8s.sampler.trace_size_kib
        trace_bytes = Fraction(repr(kib)) * 1024
        basis = f"{kib:g} KiB"
        base = k8s.sampler.base_memory_mib
    else:
        spans = spans_per_trace(spec)
        trace_bytes = Fraction(TRACE_OVERHEAD_BYTES + spans * SPAN_BYTES)
        basis = f"(~{spans} spans x ~{SPAN_BYTES} B + {TRACE_OVERHEAD_BYTES} B)"
        base = DEFAULT_BASE_MIB
    cache_entries = 2 * buffer.decision_cache_size
    buffered = buffer_mib(buffer.num_traces, trace_bytes)
    caches = caches_mib(cache_entries)
    if k8s is not None and not limit_is_explicit(spec):
        # obsgen sizes the pod, so the limit follows the estimate: the limiter never refuses in steady state.
        request = buffered + caches + base
        limit = estimate_limit_mib(request)
        limit_basis = (f"collector.memory_limit_mib unset: the smallest multiple of {LIMIT_STEP_MIB} MiB whose "
                       f"soft limit covers the {request} MiB estimate")
    else:
        limit, limit_basis = spec.collector.memory_limit_mib, "collector.memory_limit_mib"
    limiter = memory_sizing(limit, limit_basis)
    return SamplerMemory(
        num_traces=buffer.num_traces,
        trace_bytes=trace_bytes,
        trace_basis=basis,
        cache_entries=cache_entries,
        traces_mib=buffered,
        caches_mib=caches,
        base_mib=base,
        limit_mib=limit,
        limit_basis=limit_basis,
        soft_limit_mib=limiter.limit_mib - limiter.spike_limit_mib,
        gomemlimit_mib=limiter.gomemlimit_mib,
    )


def buffer_mib(num_traces: int, trace_bytes: Fraction) -> int:
    """MiB (rounded up) of ``num_traces`` buffered traces of ``trace_bytes`` each."""
    return math.ceil(num_traces * trace_bytes / MIB)


def caches_mib(cache_entries: int) -> int:
    """MiB (rounded up) of ``cache_entries`` decision-cache entries (both caches together)."""
    return math.ceil(Fraction(cache_entries * CACHE_ENTRY_BYTES, MIB))


class BufferMemory(NamedTuple):
    """The buffer and caches alone, at sizes a simulation observed (no baseline, no limits)."""

    num_traces: int
    spans_per_trace: int
    cache_entries: int

    @property
    def trace_bytes(self) -> Fraction:
        return Fraction(TRACE_OVERHEAD_BYTES + self.spans_per_trace * SPAN_BYTES)

    @property
    def total_mib(self) -> int:
        """Buffer plus caches, in MiB (rounded up), by the same arithmetic as ``sampler_memory``."""
        return buffer_mib(self.num_traces, self.trace_bytes) + caches_mib(self.cache_entries)

    def explain(self) -> str:
        """The arithmetic, for a report."""
        return (
            f"{self.num_traces:,} buffered traces x ~{self.spans_per_trace} spans x ~{SPAN_BYTES} B + "
            f"{TRACE_OVERHEAD_BYTES} B each = {buffer_mib(self.num_traces, self.trace_bytes):,} MiB, plus "
            f"{self.cache_entries:,} decision-cache entries x ~{CACHE_ENTRY_BYTES} B = "
            f"{caches_mib(self.cache_entries):,} MiB"
        )


def estimate(num_traces: int, cache_entries: int, spans: int) -> BufferMemory:
    """Memory of ``num_traces`` buffered traces of ``spans`` spans and ``cache_entries`` cache entries (both caches)."""
    return BufferMemory(num_traces, spans, cache_entries)
