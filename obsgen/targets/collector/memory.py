"""How much memory the tail sampler's buffer and decision caches take, estimated from upstream's data structures.

Sources (contrib ``processor/tailsamplingprocessor`` v0.159.0):

* A buffered trace is a ``*TraceData`` in ``idToTrace map[pcommon.TraceID]*TraceData`` plus a
  ``container/list`` element in the delete queue (``processor.go``). ``TraceData`` embeds
  ``samplingpolicy.TraceData`` (SpanCount, SizeBytes, ``ReceivedBatches ptrace.Traces``) and adds the decision,
  policy name, two ``time.Time`` and the list element: ~120 bytes, a 128-byte allocation; the map slot (16-byte
  key, pointer, tophash, load factor 6.5/8) ~32 bytes; the list element 48 bytes. Then the spans themselves:
  ``ReceivedBatches`` holds a copy of every span in pdata's generated structs (a ``Span`` is ~200 bytes before
  its attributes; each attribute a ``KeyValue`` with an ``AnyValue`` is ~64 bytes plus its text), and each
  batch repeats its resource and scope. ~1 KiB per span is a modest figure for spans with a dozen attributes.
* A decision-cache entry (``cache/lru_cache.go``) is a ``hashicorp/golang-lru/v2`` entry keyed by the right
  half of the trace id (``uint64``) holding ``DecisionMetadata{PolicyName string}``: the list ``Entry`` (next,
  prev, list pointers, key, value, ``ExpiresAt time.Time``) is 80 bytes allocated, its map slot (uint64 key and
  pointer) ~20 bytes at the average load factor. There are two caches, sampled and non-sampled.

The figures are estimates for a warning, not a guarantee; a load test is the real measure.
"""

from __future__ import annotations

from dataclasses import dataclass

from obsgen.spec.models import ServiceKind, Spec

TRACE_OVERHEAD_BYTES = 128 + 32 + 48
SPAN_BYTES = 1024
CACHE_ENTRY_BYTES = 80 + 20
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


@dataclass(frozen=True)
class SamplerMemory:
    """The estimate and its parts, in bytes."""

    num_traces: int
    spans_per_trace: int
    cache_entries: int
    traces_bytes: int
    caches_bytes: int

    @property
    def total_mib(self) -> int:
        """Buffer plus caches, in MiB (rounded up)."""
        return -(-(self.traces_bytes + self.caches_bytes) // MIB)

    def explain(self) -> str:
        """The arithmetic, for a diagnostic."""
        return (
            f"{self.num_traces:,} buffered traces x ~{self.spans_per_trace} spans x ~{SPAN_BYTES} B + "
            f"{TRACE_OVERHEAD_BYTES} B each = {self.traces_bytes // MIB:,} MiB, plus {self.cache_entries:,} "
            f"decision-cache entries x ~{CACHE_ENTRY_BYTES} B = {self.caches_bytes // MIB:,} MiB"
        )


def estimate(num_traces: int, cache_entries: int, spans: int) -> SamplerMemory:
    """Memory of ``num_traces`` buffered traces of ``spans`` spans and ``cache_entries`` cache entries (both caches)."""
    traces = num_traces * (TRACE_OVERHEAD_BYTES + spans * SPAN_BYTES)
    return SamplerMemory(num_traces, spans, cache_entries, traces, cache_entries * CACHE_ENTRY_BYTES)
