"""The traffic model: how much of what a system serves, how often it fails and how slow it is.

One model drives ``obsgen sampling simulate`` (what the tail-sampling policies keep), the sampling report and
``obsgen traffic`` (the same traces as real OTLP). It is optional: ``defaults(spec)`` is what a spec without a
``traffic:`` section simulates. Spans per trace follow from the topology: an entry endpoint's server span, one
client span per call it makes, the callee's server span (instrumented callees) and so on down the calls.

Percentages are in % like every other share in a spec (``probabilistic.percentage``, SLO objectives).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from obsgen.spec.types import AttributeKey, DurationValue, Float, Ident, Text

Percent0 = Annotated[Float, Field(ge=0, le=100, allow_inf_nan=False)]
Rate = Annotated[Float, Field(ge=0, le=10**7, allow_inf_nan=False)]
RouteText = Annotated[str, Field(min_length=1, max_length=512)]

# Paths of liveness and readiness probes: such an endpoint calls nothing unless the model says it does.
HEALTH_PATHS = frozenset({"/health", "/healthz", "/ready", "/readyz", "/live", "/livez", "/ping", "/metrics"})


class TrafficModel(BaseModel):
    """Base of the traffic models (the same rules as every spec model; not imported from models.py,
    which imports this module)."""

    # the attribute docstrings become field descriptions when read: obsgen.spec.field_docs
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


class LatencyDistribution(TrafficModel):
    """A log-normal latency given by its median and 99th percentile."""

    median: DurationValue
    """Half of the operations are faster than this."""
    p99: DurationValue
    """99% of the operations are faster than this (at least the median)."""


class EdgeLatency(TrafficModel):
    """Latency of the calls from one service to another: network time to an instrumented callee (added to its
    server span), or the whole call to a database, cache, queue or external node."""

    source: Ident = Field(alias="from")
    """Caller (a key of services)."""
    to: Ident
    """Callee (a key of services)."""
    median: DurationValue
    """Median."""
    p99: DurationValue
    """99th percentile (at least the median)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              populate_by_name=False)


class Latency(TrafficModel):
    """Latency distributions: a default, per service (its own work, or a call to it when it is not
    instrumented) and per edge."""

    default: LatencyDistribution = Field(default_factory=lambda: LatencyDistribution(
        median=_d("10ms"), p99=_d("100ms")))
    """Own work of a service without an entry in services."""
    services: dict[Ident, LatencyDistribution] = Field(default_factory=dict)
    """Per service key."""
    edges: list[EdgeLatency] = []
    """Per (from, to) call."""


class AttributeErrorRate(TrafficModel):
    """A failure rate for traces whose attribute has a value (e.g. the payment provider fails 15% of the BR
    payments)."""

    attribute: AttributeKey
    """Attribute of the trace (one of traffic.attributes)."""
    value: Annotated[str, Field(min_length=1, max_length=1024)]
    """Its value, as text (true/false for a boolean)."""
    percent: Percent0
    """Failure rate in % of the calls to service while the attribute has that value."""
    service: Ident | None = None
    """The service (or database, cache, external) that fails; default: every node of the trace."""


class Errors(TrafficModel):
    """How often a node fails. A failure marks the node's span ERROR (and the caller's client span), and
    propagates to every caller up to the root, as a synchronous call chain does."""

    percent: Percent0 = 0.1
    """Default failure rate in % of each visit of a node (server span or uninstrumented call)."""
    services: dict[Ident, Percent0] = Field(default_factory=dict)
    """Failure rate per service key."""
    by_attribute: list[AttributeErrorRate] = []
    """Failure rates while an attribute has a value; the highest matching rate applies."""


class AttributeMix(TrafficModel):
    """The value shares of one attribute. Shares are in % of traces and may sum to less than 100: the other
    traces do not carry the attribute."""

    values: dict[Annotated[str, Field(min_length=1, max_length=1024)], Percent0] = Field(default_factory=dict)
    """Value (as text, typed by attributes.<key>.type: 2500, true, credit_card) -> share in %."""
    same_as: AttributeKey | None = None
    """Take the value another attribute of traffic.attributes drew for the trace (e.g. country = user.country)."""
    services: list[Ident] = []
    """Services whose spans carry it: server spans of instrumented services, client spans calling the
    others. Default: the trace's root span."""


class CallRef(TrafficModel):
    """One call an endpoint makes."""

    service: Ident
    """Callee (a key of services)."""
    endpoint: RouteText | None = None
    """Callee endpoint; default: the declared call's endpoint, else the callee's first endpoint that is not
    a health check."""
    percent: Annotated[Float, Field(gt=0, le=100, allow_inf_nan=False)] = 100.0
    """Share of the requests that make the call, in %."""


class Expectation(TrafficModel):
    """What the team expects the policies to keep; the sampling report says whether the simulation agrees."""

    kept_percent: Percent0 | None = None
    """Share of traces kept, in %."""
    storage_reduction_percent: Percent0 | None = None
    """Storage saved against keeping every span, in %."""
    tolerance: Annotated[Float, Field(ge=0, le=100, allow_inf_nan=False)] = 5.0
    """Percentage points the simulation may differ by and still agree."""
    source: Text | None = None
    """Where the expectation comes from (a document, a ticket)."""


class Traffic(TrafficModel):
    """The traffic model: entry rates, which calls endpoints make, failure rates, latencies and attribute
    value mixes."""

    requests_per_second: dict[Ident, dict[RouteText, Rate]] = Field(default_factory=dict)
    """Entry endpoints (the roots of traces): service -> endpoint -> requests per second. Default:
    sampling.expected_traces_per_second spread over the endpoints (not health checks) of the services no one
    calls."""
    endpoints: dict[Ident, dict[RouteText, list[Ident | CallRef]]] = Field(default_factory=dict)
    """Which calls each endpoint makes: service -> endpoint -> calls. Default: every call the service
    declares (none for a health-check endpoint such as GET /health)."""
    errors: Errors = Field(default_factory=Errors)
    """Failure rates."""
    latency: Latency = Field(default_factory=Latency)
    """Latencies."""
    network: LatencyDistribution = Field(default_factory=lambda: LatencyDistribution(
        median=_d("1ms"), p99=_d("5ms")))
    """Network time of a call to an instrumented service without an edges entry (client span minus the
    callee's server span)."""
    attributes: dict[AttributeKey, AttributeMix] = Field(default_factory=dict)
    """Attribute value mixes (payment method shares, high-value transactions, debug-flagged share)."""
    expect: Expectation | None = None
    """The kept share and storage reduction the team expects (checked in sampling-report.md)."""


def _d(text: str) -> object:
    from obsgen.spec.durations import parse_duration

    return parse_duration(text)
