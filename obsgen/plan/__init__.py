"""The plan: a spec with every default applied and every derived name resolved.

Targets read only the plan. Anything two targets must agree on (bucket boundaries, policy names,
datasource UIDs, metric names via ``naming``) is decided here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from obsgen.emit.escape import slug
from obsgen.plan import naming
from obsgen.plan.service_graph import GraphEdge, graph_edges
from obsgen.spec.durations import Duration, parse_duration
from obsgen.spec.endpoints import Protocol, Route, endpoint_protocol, grpc_parts, parse_route
from obsgen.spec.models import Call, Endpoint, Policy, ServiceKind, Spec, policy_value

if TYPE_CHECKING:  # the estimate lives with the collector target, whose package imports the plan
    from obsgen.targets.collector.memory import SamplerMemory

# Upstream default buckets (reference collector.md §3.1 and tempo-grafana.md §1.8).
COLLECTOR_DEFAULT_BUCKETS = ("2ms", "4ms", "6ms", "8ms", "10ms", "50ms", "100ms", "200ms", "400ms", "800ms",
                             "1s", "1400ms", "2s", "5s", "10s", "15s")
TEMPO_DEFAULT_BUCKETS = tuple(f"{2 * 2**i}ms" for i in range(14))  # ExponentialBuckets(0.002, 2, 14)


class PlannedEndpoint(NamedTuple):
    """An endpoint with its span name and HTTP parts."""

    route: Route
    critical: bool
    index: int


class PlannedCall(NamedTuple):
    """A declared edge."""

    caller: str
    callee: str
    endpoint: str | None
    index: int


class PlannedSLO(NamedTuple):
    """An SLO with objectives as fractions (0.999) and its endpoint resolved."""

    name: str
    service: str
    endpoint: PlannedEndpoint | None
    availability: float | None
    latency_threshold: Duration | None
    latency_objective: float | None
    window: Duration
    description: str | None
    index: int


class PlannedService(NamedTuple):
    """A topology node. ``key`` is the spec identifier, ``name`` the reported service.name."""

    key: str
    name: str
    slug: str
    kind: ServiceKind
    language: str | None
    runtime: str | None
    description: str | None
    team: str | None
    endpoints: tuple[PlannedEndpoint, ...]
    calls: tuple[PlannedCall, ...]
    slos: tuple[PlannedSLO, ...]
    consumes: tuple[str, ...] = ()
    """Queues it consumes from: its consumer spans are entry spans too."""

    @property
    def instrumented(self) -> bool:
        """Only our own services emit server spans; the rest appear through their callers' client spans."""
        return self.kind is ServiceKind.SERVICE

    @property
    def entry_kind(self) -> tuple[str, str]:
        """(operator, value) of the span-kind matcher for the spans this service handles work in."""
        return naming.entry_kind_matcher(bool(self.consumes))


class PlannedPolicy(NamedTuple):
    """A tail-sampling policy in upstream shape: ``{name, type, <type>: {...}}`` plus where it came from."""

    name: str
    type: str
    block: dict[str, object] | None
    index: int


@dataclass(frozen=True)
class Plan:
    """Everything targets need, resolved."""

    spec: Spec
    name: str
    spec_file: str
    services: tuple[PlannedService, ...]
    policies: tuple[PlannedPolicy, ...]
    buckets: tuple[Duration, ...]
    span_metrics: naming.SpanMetricsNames
    dimensions: tuple[tuple[str, str | None], ...]
    by_key: dict[str, PlannedService] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def instrumented(self) -> tuple[PlannedService, ...]:
        """Services that emit their own spans."""
        return tuple(s for s in self.services if s.instrumented)

    @property
    def entry_kind(self) -> tuple[str, str]:
        """(operator, value) of the span-kind matcher for every service's entry spans at once."""
        return naming.entry_kind_matcher(any(s.consumes for s in self.instrumented))

    @cached_property
    def slos(self) -> tuple[PlannedSLO, ...]:
        """Every SLO in the spec, in service then declaration order."""
        return tuple(slo for s in self.services for slo in s.slos)

    @cached_property
    def declared_calls(self) -> tuple[tuple[str, str], ...]:
        """Every declared call as the service graph reports it: (client, server) label values, once each,
        in declaration order. A database is named by its db.name, an external node by its peer.service, and
        a call to a queue is producer -> consumer (see obsgen.plan.service_graph)."""
        return tuple((e.client, e.server) for e in self.graph_edges)

    @cached_property
    def graph_edges(self) -> tuple[GraphEdge, ...]:
        """The service-graph edges the declared calls produce (obsgen.plan.service_graph.graph_edges)."""
        return graph_edges(self.spec)

    @cached_property
    def latency_thresholds(self) -> frozenset[float]:
        """Every latency SLO's threshold in seconds (bucket boundaries tests and SLIs must have)."""
        return frozenset(slo.latency_threshold.seconds for slo in self.slos if slo.latency_threshold is not None)

    @cached_property
    def edges(self) -> tuple[PlannedCall, ...]:
        """Every declared call."""
        return tuple(c for s in self.services for c in s.calls)

    @cached_property
    def sampler_memory(self) -> SamplerMemory:
        """One tail sampler's memory estimate and the container limit decided from it, once: the collector
        target sizes the sampler's memory_limiter from this limit and the Helm target gives the pod the same
        limit and GOMEMLIMIT (``collector.memory_limit_mib`` when the spec sets it; otherwise, with a
        kubernetes section, the smallest limit whose soft limit covers the estimate)."""
        from obsgen.targets.collector.memory import sampler_memory

        return sampler_memory(self.spec)

    @property
    def service_graph_source(self) -> str:
        """Who computes the service graph: the same component as span metrics, so exactly one does.

        Two producers would write every ``traces_service_graph_*`` series twice and double every sum;
        with the Collector as the source it is computed before sampling, like the span metrics.
        """
        return self.spec.span_metrics.source

    def dimension_labels(self) -> tuple[str, ...]:
        """Prometheus labels of the extra span-metrics dimensions."""
        remote_write = self.span_metrics.source == "collector" and self.spec.collector.metrics_export == "remote_write"
        return tuple(naming.label_from_attribute(name, remote_write_exporter=remote_write)
                     for name, _ in self.dimensions)


def _endpoints(items: list[str | Endpoint]) -> tuple[PlannedEndpoint, ...]:
    out = []
    for i, item in enumerate(items):
        ep = item if isinstance(item, Endpoint) else Endpoint(route=item)
        out.append(PlannedEndpoint(parse_route(ep.route), ep.critical, i))
    return tuple(out)


def _calls(caller: str, items: list[str | Call]) -> tuple[PlannedCall, ...]:
    out = []
    for i, item in enumerate(items):
        call = item if isinstance(item, Call) else Call(service=item)
        out.append(PlannedCall(caller, call.service, call.endpoint, i))
    return tuple(out)


def effective_buckets(spec: Spec) -> tuple[Duration, ...]:
    """Histogram buckets: the user's (or the source's defaults) plus every SLO latency threshold."""
    if spec.span_metrics.histogram_buckets is not None:
        base = list(spec.span_metrics.histogram_buckets)
    else:
        defaults = COLLECTOR_DEFAULT_BUCKETS if spec.span_metrics.source == "collector" else TEMPO_DEFAULT_BUCKETS
        base = [parse_duration(b) for b in defaults]
    thresholds = [slo.latency.threshold for s in spec.services.values() for slo in s.slos if slo.latency]
    return tuple(sorted(set(base) | set(thresholds)))


def smallest_latency_threshold(spec: Spec) -> Duration | None:
    """The tightest SLO latency threshold, the default for a bare ``latency: {}`` policy."""
    thresholds = [slo.latency.threshold for s in spec.services.values() for slo in s.slos if slo.latency]
    return min(thresholds) if thresholds else None


def slo_threshold(spec: Spec, name: str) -> Duration | None:
    """The latency threshold of the SLO called ``name``."""
    for service in spec.services.values():
        for slo in service.slos:
            if slo.name == name and slo.latency:
                return slo.latency.threshold
    return None


def build_plan(spec: Spec, *, default_name: str, spec_file: str) -> Plan:
    """Resolve a checked spec into a plan. Call only after ``semantic.check`` found no errors."""
    services = []
    for key, svc in spec.services.items():
        endpoints = _endpoints(svc.endpoints)
        by_route = {e.route.span_name: e for e in endpoints}
        slos = tuple(
            PlannedSLO(
                name=slo.name,
                service=key,
                endpoint=by_route.get(parse_route(slo.endpoint).span_name) if slo.endpoint else None,
                availability=slo.availability / 100 if slo.availability is not None else None,
                latency_threshold=slo.latency.threshold if slo.latency else None,
                latency_objective=slo.latency.percentile / 100 if slo.latency else None,
                window=slo.window,
                description=slo.description,
                index=i,
            )
            for i, slo in enumerate(svc.slos)
        )
        services.append(
            PlannedService(
                key=key, name=svc.service_name or key, slug=slug(key), kind=svc.kind, language=svc.language,
                runtime=svc.runtime, description=svc.description, team=svc.team, endpoints=endpoints,
                calls=_calls(key, svc.calls), slos=slos, consumes=tuple(svc.consumes),
            )
        )
    dims = tuple(
        (d, None) if isinstance(d, str) else (d.name, d.default) for d in spec.span_metrics.dimensions
    )
    plan = Plan(
        spec=spec,
        name=spec.name or default_name,
        spec_file=spec_file,
        services=tuple(services),
        policies=tuple(resolve_policy(spec, p, i) for i, p in enumerate(spec.sampling.policies)),
        buckets=effective_buckets(spec),
        span_metrics=naming.span_metrics(spec.span_metrics.source),
        dimensions=dims,
    )
    plan.by_key.update({s.key: s for s in plan.services})
    return plan


# --------------------------------------------------------------------------------------------
# Sampling policies: spec shorthands -> upstream tail_sampling policy blocks


def critical_paths(spec: Spec, services: list[str] | None) -> list[str]:
    """Route paths of the critical endpoints of ``services`` (all when None), de-duplicated in order."""
    paths: list[str] = []
    for key, svc in spec.services.items():
        if services is not None and key not in services:
            continue
        for ep in _endpoints(svc.endpoints):
            path = ep.route.path or ep.route.span_name
            if ep.critical and path not in paths:
                paths.append(path)
    return paths


def _ottl_string(text: str) -> str:
    """An OTTL string literal (double quotes; backslash and quote escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def critical_conditions(spec: Spec, services: list[str] | None) -> list[str] | None:
    """OTTL span conditions matching each critical endpoint on what its protocol sets, or None when every
    critical endpoint is HTTP (then the route attribute alone tells them apart).

    gRPC server spans carry rpc.service and rpc.method, never http.route (RPC semantic conventions), so
    ``pkg.Service/Method`` is matched on those; an endpoint of unknown protocol on its span name.
    """
    conditions: list[str] = []
    plain_http = True
    for key, svc in spec.services.items():
        if services is not None and key not in services:
            continue
        for ep in _endpoints(svc.endpoints):
            if not ep.critical:
                continue
            protocol = endpoint_protocol(ep.route.span_name)
            if protocol is Protocol.HTTP:
                path = ep.route.path or ep.route.span_name
                condition = f"attributes[{_ottl_string(spec.sampling.route_attribute)}] == {_ottl_string(path)}"
            elif protocol is Protocol.GRPC:
                rpc_service, rpc_method = grpc_parts(ep.route.span_name) or ("", "")
                condition = (f'attributes["rpc.service"] == {_ottl_string(rpc_service)} and '
                             f'attributes["rpc.method"] == {_ottl_string(rpc_method)}')
                plain_http = False
            else:
                condition = f"name == {_ottl_string(ep.route.span_name)}"
                plain_http = False
            if condition not in conditions:
                conditions.append(condition)
    return None if plain_http else conditions


def resolve_policy(spec: Spec, policy: Policy, index: int, name: str | None = None) -> PlannedPolicy:
    """Translate one spec policy (and its sub-policies) into the Collector's policy shape."""
    policy_name = name or policy.name or f"policy-{index}"
    kind, value = policy.kind, policy_value(policy)
    if kind == "errors":
        return PlannedPolicy(policy_name, "status_code", {"status_codes": ["ERROR"]}, index)
    if kind == "critical_endpoints":
        services = getattr(value, "services", None)
        conditions = critical_conditions(spec, services)
        if conditions is None:  # HTTP endpoints only: one string_attribute on the route attribute
            block = {"key": spec.sampling.route_attribute, "values": critical_paths(spec, services)}
            return PlannedPolicy(policy_name, "string_attribute", block, index)
        return PlannedPolicy(policy_name, "ottl_condition", {"error_mode": "ignore", "span": conditions}, index)
    if kind == "always_sample":
        return PlannedPolicy(policy_name, "always_sample", None, index)
    if kind == "status_code":
        return PlannedPolicy(policy_name, "status_code", {"status_codes": [c.value for c in value]}, index)
    if kind == "latency":
        threshold = value.threshold or (slo_threshold(spec, value.slo) if value.slo else None)
        threshold = threshold or smallest_latency_threshold(spec)
        assert threshold is not None, "semantic check guarantees a threshold"
        block: dict[str, object] = {"threshold_ms": _ms(threshold)}
        if value.upper_threshold is not None:
            block["upper_threshold_ms"] = _ms(value.upper_threshold)
        return PlannedPolicy(policy_name, "latency", block, index)
    if kind == "numeric_attribute":
        block = {"key": value.key}
        if value.min is not None:
            block["min_value"] = value.min
        if value.max is not None:
            block["max_value"] = value.max
        return PlannedPolicy(policy_name, "numeric_attribute", block, index)
    if kind == "probabilistic":
        block = {"sampling_percentage": value.percentage}
        if value.hash_salt:
            block["hash_salt"] = value.hash_salt
        return PlannedPolicy(policy_name, "probabilistic", block, index)
    if kind == "string_attribute":
        block = {"key": value.key, "values": list(value.values)}
        if value.regex:
            block["enabled_regex_matching"] = True
        return PlannedPolicy(policy_name, "string_attribute", block, index)
    if kind == "rate_limiting":
        return PlannedPolicy(policy_name, "rate_limiting", {"spans_per_second": value.spans_per_second}, index)
    if kind == "bytes_limiting":
        block = {"bytes_per_second": value.bytes_per_second}
        if value.burst_capacity is not None:
            block["burst_capacity"] = value.burst_capacity
        return PlannedPolicy(policy_name, "bytes_limiting", block, index)
    if kind == "span_count":
        block = {}
        if value.min is not None:
            block["min_spans"] = value.min
        if value.max is not None:
            block["max_spans"] = value.max
        return PlannedPolicy(policy_name, "span_count", block, index)
    if kind == "trace_state":
        return PlannedPolicy(policy_name, "trace_state", {"key": value.key, "values": list(value.values)}, index)
    if kind == "boolean_attribute":
        return PlannedPolicy(policy_name, "boolean_attribute", {"key": value.key, "value": value.value}, index)
    if kind == "ottl_condition":
        block = {"error_mode": value.error_mode}
        if value.span:
            block["span"] = list(value.span)
        if value.spanevent:
            block["spanevent"] = list(value.spanevent)
        return PlannedPolicy(policy_name, "ottl_condition", block, index)
    if kind in ("and", "drop"):
        subs = [_sub(spec, p, i, policy_name) for i, p in enumerate(value)]
        key = "and_sub_policy" if kind == "and" else "drop_sub_policy"
        return PlannedPolicy(policy_name, kind, {key: subs}, index)
    if kind == "not":
        return PlannedPolicy(policy_name, "not", {"not_sub_policy": _sub(spec, value, 0, policy_name)}, index)
    if kind == "composite":
        subs = [_sub(spec, p, i, policy_name) for i, p in enumerate(value.policies)]
        block = {
            "max_total_spans_per_second": value.max_spans_per_second,
            "policy_order": [s["name"] for s in subs],
            "composite_sub_policy": subs,
            "rate_allocation": [
                {"policy": s["name"], "percent": p.share} for s, p in zip(subs, value.policies, strict=True)
            ],
        }
        return PlannedPolicy(policy_name, "composite", block, index)
    raise AssertionError(f"unhandled policy kind {kind}")


def _sub(spec: Spec, policy: Policy, index: int, parent: str) -> dict[str, object]:
    planned = resolve_policy(spec, policy, index, policy.name or f"{parent}-{index + 1}")
    return policy_dict(planned)


def policy_dict(policy: PlannedPolicy) -> dict[str, object]:
    """The upstream YAML shape of a policy: name, type, and the block under the type's key."""
    out: dict[str, object] = {"name": policy.name, "type": policy.type}
    if policy.block is not None:
        out[policy.type] = policy.block
    return out


def _ms(duration: Duration) -> int:
    # threshold_ms is an int64 of milliseconds; sub-millisecond thresholds round up so we never keep less
    return -(-duration.ns // 1_000_000)
