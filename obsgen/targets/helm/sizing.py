"""Memory of one sampler pod from the tail-sampling sizing rule.

traces per second x decision_wait x headroom / replicas = traces one sampler buffers
(``collector_values.trace_buffer_sizing``, the same ``num_traces`` the rendered sampler config has);
times the average buffered trace size, plus the two decision caches, plus the process baseline. The
pod's memory *request* is this estimate; its *limit* is ``collector.memory_limit_mib`` (what the
rendered ``memory_limiter`` is sized from), which must leave the estimate under the limiter's soft
limit or the sampler refuses data in steady state (semantic check OBS326).

Works on the spec (not the plan) so the semantic checks can use it before a plan exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from obsgen.spec.models import Spec
from obsgen.targets.collector.values import memory_sizing, trace_buffer_sizing

# One decision-cache entry: a 16-byte trace id in an LRU list element and its map slot. An estimate
# (golang-lru's element plus map overhead), deliberately generous; the caches are small next to traces.
DECISION_CACHE_ENTRY_BYTES = 128
MIB = 1024 * 1024


@dataclass(frozen=True)
class SamplerMemory:
    """The estimate and its parts, in MiB (rounded up), with the limits it is compared with."""

    num_traces: int
    traces_mib: int
    caches_mib: int
    base_mib: int
    request_mib: int
    limit_mib: int
    soft_limit_mib: int
    gomemlimit_mib: int

    def comment(self, spec: Spec) -> str:
        """The arithmetic, for a comment above the resources block."""
        kib = spec.kubernetes.sampler.trace_size_kib if spec.kubernetes else 0
        return (
            f"memory request = {self.num_traces} buffered traces (num_traces) x {kib:g} KiB = {self.traces_mib} MiB"
            f" + decision caches {self.caches_mib} MiB + baseline {self.base_mib} MiB = {self.request_mib} MiB;"
            f" limit = collector.memory_limit_mib {self.limit_mib} MiB (memory_limiter soft limit "
            f"{self.soft_limit_mib} MiB, GOMEMLIMIT {self.gomemlimit_mib}MiB)"
        )


def sampler_memory(spec: Spec) -> SamplerMemory:
    """The memory estimate of one sampler replica for a spec with a kubernetes section."""
    sampling = spec.sampling
    k8s = spec.kubernetes
    trace_kib = Fraction(repr(k8s.sampler.trace_size_kib)) if k8s else Fraction(20)
    base = k8s.sampler.base_memory_mib if k8s else 256
    buffer = trace_buffer_sizing(sampling.expected_traces_per_second, sampling.decision_wait, sampling.headroom,
                                 spec.collector.replicas)
    traces_mib = math.ceil(buffer.num_traces * trace_kib / 1024)
    caches_mib = math.ceil(Fraction(2 * buffer.decision_cache_size * DECISION_CACHE_ENTRY_BYTES, MIB))
    limiter = memory_sizing(spec.collector.memory_limit_mib)
    return SamplerMemory(
        num_traces=buffer.num_traces,
        traces_mib=traces_mib,
        caches_mib=caches_mib,
        base_mib=base,
        request_mib=traces_mib + caches_mib + base,
        limit_mib=spec.collector.memory_limit_mib,
        soft_limit_mib=limiter.limit_mib - limiter.spike_limit_mib,
        gomemlimit_mib=limiter.gomemlimit_mib,
    )
