"""Spec checks that match what the tools do (issue 16): service-graph naming, policy attribute types,
sampler memory, endpoint protocols and critical endpoints no policy keeps. Called from ``semantic._Checker.run``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from obsgen.spec.endpoints import Protocol, endpoint_protocol
from obsgen.spec.models import AttributeType, Endpoint, Policy, ServiceKind, Spec, policy_value

Add = Callable[..., None]
Loc = tuple[str | int, ...]

# Types of the semantic-convention attributes policies commonly use (everything else known is a string).
KNOWN_TYPES: dict[str, AttributeType] = {
    "http.response.status_code": AttributeType.INT,
    "http.status_code": AttributeType.INT,
    "rpc.grpc.status_code": AttributeType.INT,
    "server.port": AttributeType.INT,
}
# The pdata value type each policy reads (contrib tailsamplingprocessor internal/sampling, v0.159.0):
# numeric_tag_filter.go reads v.Int(), string_tag_filter.go v.Str(), boolean_tag_filter.go v.Bool(); pdata's
# Value.Int/Str/Bool return 0, "" and false for any other type (pcommon/value.go), so a mismatch never matches
# (or, for a range holding 0 or value: false, matches every span that has the attribute).
POLICY_TYPES: dict[str, AttributeType] = {
    "numeric_attribute": AttributeType.INT,
    "string_attribute": AttributeType.STRING,
    "boolean_attribute": AttributeType.BOOL,
}
_NODE_FIELDS: dict[str, frozenset[ServiceKind]] = {
    "db_name": frozenset({ServiceKind.DATABASE, ServiceKind.CACHE}),
    "db_system": frozenset({ServiceKind.DATABASE, ServiceKind.CACHE}),
    "peer_service": frozenset({ServiceKind.DATABASE, ServiceKind.CACHE, ServiceKind.EXTERNAL, ServiceKind.QUEUE}),
    "messaging_system": frozenset({ServiceKind.QUEUE}),
}


def run(spec: Spec, add: Add) -> None:
    """Every check of this module."""
    check_graph_naming(spec, add)
    check_policy_attribute_types(spec, add)
    check_sampler_memory(spec, add)
    check_endpoint_protocols(spec, add)
    check_critical_endpoints_kept(spec, add)


def check_graph_naming(spec: Spec, add: Add) -> None:
    """Node naming fields only where the service graph reads them; consumers of real queues; queues consumed."""
    for key, svc in spec.services.items():
        for field, kinds in _NODE_FIELDS.items():
            if getattr(svc, field) is not None and svc.kind not in kinds:
                add("OBS202", ("services", key, field),
                    f"{field} names a {'/'.join(sorted(k.value for k in kinds))} node in the service graph; "
                    f"{key!r} is a {svc.kind.value}",
                    hint="an instrumented service is named by its service.name (service_name)")
        for j, queue in enumerate(svc.consumes):
            target = spec.services.get(queue)
            if target is None:
                add("OBS300", ("services", key, "consumes", j), f"unknown queue {queue!r}")
            elif target.kind is not ServiceKind.QUEUE:
                add("OBS202", ("services", key, "consumes", j),
                    f"{queue!r} is a {target.kind.value}, not a queue", hint="list it under calls instead")
            elif svc.kind is not ServiceKind.SERVICE:
                add("OBS307", ("services", key, "consumes", j),
                    f"{key!r} is a {svc.kind.value} (not instrumented), so it emits no consumer spans")
    for key, svc in spec.services.items():
        if svc.kind is not ServiceKind.QUEUE:
            continue
        producers = [k for k, s in spec.services.items()
                     if any((c if isinstance(c, str) else c.service) == key for c in s.calls)]
        readers = [k for k, s in spec.services.items() if key in s.consumes]
        if producers and not readers:
            add("OBS312", ("services", key),
                f"{', '.join(producers)} produce to queue {key!r} but no service consumes it: the service graph "
                "pairs a producer with its consumer, so these messages only appear as a virtual node after "
                "store.ttl", warning=True,
                hint=f"add consumes: [{key}] to the services that read it")


def _attribute_type(spec: Spec, key: str) -> AttributeType | None:
    if key in spec.attributes:
        return spec.attributes[key].type
    if key in KNOWN_TYPES:
        return KNOWN_TYPES[key]
    return AttributeType.STRING if key in _STRING_KNOWN else None


_STRING_KNOWN = frozenset({
    "http.route", "http.target", "http.method", "http.request.method", "url.path", "url.full", "http.url",
    "server.address", "service.name", "db.system", "db.name", "db.namespace", "rpc.system", "rpc.service",
    "rpc.method", "messaging.system", "peer.service", "error.type", "exception.type",
})


def _walk(policies: list[Policy], loc: Loc) -> Iterator[tuple[Policy, Loc]]:
    for i, policy in enumerate(policies):
        here: Loc = (*loc, i)
        yield policy, here
        value = policy_value(policy)
        if policy.kind in ("and", "drop"):
            yield from _walk(value, (*here, policy.kind))
        elif policy.kind == "not":
            yield from _walk([value], (*here, "not"))
        elif policy.kind == "composite":
            yield from _walk(value.policies, (*here, "composite", "policies"))


def check_policy_attribute_types(spec: Spec, add: Add) -> None:
    """numeric/string/boolean_attribute on an attribute of another declared (or semconv) type."""
    for policy, loc in _walk(spec.sampling.policies, ("sampling", "policies")):
        expected = POLICY_TYPES.get(policy.kind)
        if expected is None:
            continue
        key = policy_value(policy).key
        actual = _attribute_type(spec, key)
        if actual is None or actual is expected:
            continue
        reads = {"numeric_attribute": "Int()", "string_attribute": "Str()", "boolean_attribute": "Bool()"}
        zero = {"numeric_attribute": "0", "string_attribute": '""', "boolean_attribute": "false"}[policy.kind]
        hint = {
            AttributeType.INT: "use numeric_attribute",
            AttributeType.DOUBLE: "a double cannot be matched by numeric_attribute (integers only): use "
                                  "ottl_condition, e.g. attributes[\"" + key + "\"] >= 10.5",
            AttributeType.STRING: "use string_attribute",
            AttributeType.BOOL: "use boolean_attribute",
        }[actual]
        add("OBS409", (*loc, policy.kind, "key"),
            f"{key!r} is a {actual.value} attribute but {policy.kind} reads it as {expected.value} "
            f"(pdata Value.{reads[policy.kind]} gives {zero} for a {actual.value}), so the policy does not "
            "match what it says", hint=hint)


def check_sampler_memory(spec: Spec, add: Add) -> None:
    """Buffered traces, both decision caches and the baseline against the memory limiter's soft limit, where it
    starts refusing data (with a kubernetes section OBS326 makes this an error: the pods are sized from it)."""
    from obsgen.targets.collector.memory import sampler_memory

    if spec.kubernetes is not None:
        return
    est = sampler_memory(spec)
    if est.request_mib > est.soft_limit_mib:
        add("OBS410", ("collector", "memory_limit_mib"),
            f"the tail sampler may need ~{est.request_mib:,} MiB per sampler ({est.explain()}), above the memory "
            f"limiter's soft limit {est.soft_limit_mib:,} MiB: it will refuse data and drop traces too early",
            warning=True,
            hint="raise collector.memory_limit_mib or replicas, or lower expected_traces_per_second, "
                 "decision_wait or headroom")


def check_endpoint_protocols(spec: Spec, add: Add) -> None:
    """A critical endpoint whose protocol cannot be told is matched on its span name only."""
    for key, svc in spec.services.items():
        for j, item in enumerate(svc.endpoints):
            endpoint = item if isinstance(item, Endpoint) else Endpoint(route=item)
            if endpoint.critical and endpoint_protocol(endpoint.route) is Protocol.UNKNOWN:
                add("OBS313", ("services", key, "endpoints", j),
                    f"cannot tell whether {endpoint.route!r} is HTTP ('METHOD /path') or gRPC ('pkg.Service/Method'): "
                    "critical_endpoints matches it on the span name only", warning=True,
                    hint="write HTTP endpoints as 'POST /path' and gRPC ones as 'package.Service/Method'")


def _keeps(policies: list[Policy]) -> Iterator[Policy]:
    """The policies that can keep a trace: top level, and inside ``and`` and ``composite`` (never inside
    ``drop`` or ``not``, where a match drops or refuses)."""
    for policy in policies:
        yield policy
        value = policy_value(policy)
        if policy.kind == "and":
            yield from _keeps(value)
        elif policy.kind == "composite":
            yield from _keeps(value.policies)


def check_critical_endpoints_kept(spec: Spec, add: Add) -> None:
    """``critical: true`` does something only through a ``critical_endpoints`` sampling policy: an endpoint
    marked critical that no such policy covers is sampled like any other (and a reviewer believes otherwise)."""
    covered: set[str] | None = set()
    for policy in _keeps(spec.sampling.policies):
        if policy.kind == "always_sample":
            return
        if policy.kind == "critical_endpoints":
            value = policy_value(policy)
            if value is True or (value is not False and value.services is None):
                covered = None
                break
            if value is not False:
                covered |= set(value.services)
    if covered is None:
        return
    for key, svc in spec.services.items():
        if key in covered:
            continue
        for j, item in enumerate(svc.endpoints):
            if isinstance(item, Endpoint) and item.critical:
                route = item.route
                add("OBS412", ("services", key, "endpoints", j, "critical"),
                    f"{key} {route!r} is marked critical, but no critical_endpoints sampling policy covers "
                    f"{key}: its traces are sampled like any other", warning=True,
                    hint="add `- {name: critical-endpoints, critical_endpoints: true}` to sampling.policies "
                         "(or list this service in its services), or drop `critical: true`")
