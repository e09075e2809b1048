"""Values for Collector configs: the ``$`` escape applied to data, and the sizing arithmetic (explained).

The escape itself is ``obsgen.emit.escape.collector_value``: every ``$`` of a value doubled; map keys are
not expanded, only values.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

from obsgen.emit.escape import collector_value as collector_literal
from obsgen.spec.durations import Duration

# memory_limiter README: hard limit ~80% of the container, spike ~20% of the hard limit, and
# GOMEMLIMIT ~80% of the hard limit so the Go GC works hard before the limiter refuses data.
# The limiter refuses data from the soft limit (limit_mib - spike_limit_mib) on, not the hard one:
# core internal/memorylimiter/memorylimiter.go (v0.159.0) CheckMemLimits stores mustRefuse = aboveSoftLimit;
# above the hard limit it only forces a GC sooner.
HARD_LIMIT_SHARE = Fraction(8, 10)
SPIKE_SHARE = Fraction(2, 10)
GOMEMLIMIT_SHARE = Fraction(8, 10)
# Tail-sampling schema text: decision caches of at least 10x num_traces, so late spans of a decided
# trace follow the decision instead of starting a fresh, partial one.
DECISION_CACHE_FACTOR = 10
# servicegraph connector default store TTL: how long a half edge waits for its other span.
SERVICE_GRAPH_STORE_TTL = Duration(2_000_000_000)


def escape_values(data: object) -> object:
    """``collector_literal`` applied to every string value of plain data (mapping keys stay as they are)."""
    if isinstance(data, str):
        return collector_literal(data)
    if isinstance(data, dict):
        return {key: escape_values(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [escape_values(item) for item in data]
    return data


def env_reference(variable: str) -> str:
    """A deliberate ``${env:NAME}`` reference (never built from spec text)."""
    if not variable.replace("_", "").isalnum() or not variable[:1].isalpha():
        raise ValueError(f"not an environment variable name: {variable!r}")
    return "${env:" + variable + "}"


def _number(value: Fraction) -> str:
    """A sizing factor as written in a comment (``2``, ``1.5``)."""
    return f"{float(value):g}"


class MemorySizing(NamedTuple):
    """memory_limiter settings derived from the container memory limit."""

    container_mib: int
    limit_mib: int
    spike_limit_mib: int
    gomemlimit_mib: int
    source: str = "collector.memory_limit_mib"
    """Where the container limit came from, for the comment."""

    def comments(self) -> list[str]:
        """The arithmetic, for a YAML comment above the processor."""
        soft = self.limit_mib - self.spike_limit_mib
        return [
            f"Container memory limit {self.container_mib} MiB ({self.source}).",
            f"limit_mib = 80% of it = {self.limit_mib} MiB: the hard limit; above it a GC is forced at once.",
            f"spike_limit_mib = 20% of limit_mib = {self.spike_limit_mib} MiB, so the soft limit is "
            f"{soft} MiB: from there on data is refused (clients retry) and GCs are forced, which leaves "
            "room for the growth between two 1s checks.",
            f"Run the container with GOMEMLIMIT={self.gomemlimit_mib}MiB (about 80% of limit_mib) so the Go "
            "garbage collector reclaims memory before the limiter has to refuse data.",
        ]


def memory_sizing(container_mib: int, source: str = "collector.memory_limit_mib") -> MemorySizing:
    """Size the memory_limiter from the container limit (integer MiB, rounded down)."""
    limit = math.floor(container_mib * HARD_LIMIT_SHARE)
    spike = max(1, math.floor(limit * SPIKE_SHARE))
    return MemorySizing(container_mib, limit, spike, math.floor(limit * GOMEMLIMIT_SHARE), source)


class TraceBufferSizing(NamedTuple):
    """Tail-sampling buffer sizes derived from the expected traffic."""

    traces_per_second: int
    decision_wait: Duration
    headroom: Fraction
    replicas: int
    num_traces: int
    new_traces_per_second: int
    decision_cache_size: int

    def num_traces_comment(self) -> str:
        """The num_traces arithmetic."""
        wait = Fraction(self.decision_wait.ns, 10**9)
        text = (
            f"num_traces = {self.traces_per_second} traces/s x {_number(wait)}s decision_wait x "
            f"{_number(self.headroom)} headroom"
        )
        if self.replicas > 1:
            text += f" / {self.replicas} sampler replicas (each holds its share of trace ids), rounded up"
        return f"{text} = {self.num_traces}"

    def cache_comment(self) -> str:
        """Why the decision caches have their size."""
        return (
            f"Decision caches = {DECISION_CACHE_FACTOR} x num_traces: spans arriving after the decision "
            "follow it instead of starting a new, partial trace."
        )


def trace_buffer_sizing(
    traces_per_second: int, decision_wait: Duration, headroom: float, replicas: int
) -> TraceBufferSizing:
    """num_traces = traffic x decision_wait x headroom (per replica), never below 1."""
    factor = Fraction(repr(headroom))
    wait = Fraction(decision_wait.ns, 10**9)
    total = Fraction(traces_per_second) * wait * factor / replicas
    num_traces = max(1, math.ceil(total))
    per_replica_rate = max(1, math.ceil(Fraction(traces_per_second, replicas)))
    return TraceBufferSizing(
        traces_per_second=traces_per_second,
        decision_wait=decision_wait,
        headroom=factor,
        replicas=replicas,
        num_traces=num_traces,
        new_traces_per_second=per_replica_rate,
        decision_cache_size=DECISION_CACHE_FACTOR * num_traces,
    )


class EdgeStoreSizing(NamedTuple):
    """servicegraph store size: half edges waiting for their other span."""

    traces_per_second: int
    edges: int
    headroom: Fraction
    replicas: int
    max_items: int

    def comment(self) -> str:
        """The max_items arithmetic."""
        ttl = Fraction(SERVICE_GRAPH_STORE_TTL.ns, 10**9)
        text = (
            f"store.max_items = {self.traces_per_second} traces/s x {self.edges} declared edges x "
            f"{_number(ttl)}s ttl x {_number(self.headroom)} headroom"
        )
        if self.replicas > 1:
            text += f" / {self.replicas} sampler replicas"
        return f"{text} = {self.max_items} (at least the upstream default 1000)"


def edge_store_sizing(traces_per_second: int, edges: int, headroom: float, replicas: int) -> EdgeStoreSizing:
    """Every declared edge of every trace may wait up to the TTL for its pair."""
    factor = Fraction(repr(headroom))
    ttl = Fraction(SERVICE_GRAPH_STORE_TTL.ns, 10**9)
    edges = max(1, edges)
    items = math.ceil(Fraction(traces_per_second) * edges * ttl * factor / replicas)
    return EdgeStoreSizing(traces_per_second, edges, factor, replicas, max(1000, items))
