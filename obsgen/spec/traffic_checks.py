"""Checks of the ``traffic:`` section that its schema cannot express: references to services, endpoints and
attributes, latency percentiles in order, value shares that fit in 100% and values of the attribute's type.
Called from ``semantic._Checker.run``.
"""

from __future__ import annotations

from collections.abc import Callable

from obsgen.spec.endpoints import parse_route
from obsgen.spec.errors import suggest
from obsgen.spec.models import AttributeType, Call, Endpoint, ServiceKind, Spec
from obsgen.spec.traffic import LatencyDistribution, Traffic

Add = Callable[..., None]
Loc = tuple[str | int, ...]


def routes_of(spec: Spec, key: str) -> list[str]:
    """Span names of the endpoints service ``key`` declares."""
    return [parse_route(e.route if isinstance(e, Endpoint) else e).span_name for e in spec.services[key].endpoints]


def declared_callees(spec: Spec, key: str) -> list[str]:
    """Keys of the services ``key`` declares calls to."""
    return [c.service if isinstance(c, Call) else c for c in spec.services[key].calls]


def parse_value(kind: AttributeType, text: str) -> str | int | float | bool:
    """A mix value's text as the attribute's type (ValueError when it is not one)."""
    if kind is AttributeType.INT:
        return int(text, 10)
    if kind is AttributeType.DOUBLE:
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return value
    if kind is AttributeType.BOOL:
        if text not in ("true", "false"):
            raise ValueError("not true or false")
        return text == "true"
    return text


def attribute_type(spec: Spec, key: str) -> AttributeType:
    """Declared type of an attribute (string when undeclared)."""
    from obsgen.spec.truth_checks import KNOWN_TYPES

    declared = spec.attributes.get(key)
    return declared.type if declared is not None else KNOWN_TYPES.get(key, AttributeType.STRING)


def check_traffic(spec: Spec, add: Add) -> None:
    """Every check of the traffic section (nothing when the spec has none)."""
    traffic = spec.traffic
    if traffic is None:
        return
    base: Loc = ("traffic",)
    _check_entries(spec, traffic, add)
    _check_endpoints(spec, traffic, add)
    errors = traffic.errors
    for key in errors.services:
        _service(spec, (*base, "errors", "services", key), key, add, key_loc=True)
    for i, rule in enumerate(errors.by_attribute):
        loc: Loc = (*base, "errors", "by_attribute", i)
        if rule.attribute not in traffic.attributes:
            add("OBS308", (*loc, "attribute"), f"attribute {rule.attribute!r} has no value mix in traffic.attributes",
                hint="a trace only carries the attributes traffic.attributes gives it")
        if rule.service is not None:
            _service(spec, (*loc, "service"), rule.service, add)
    latency = traffic.latency
    _check_distribution(latency.default, (*base, "latency", "default"), add)
    _check_distribution(traffic.network, (*base, "network"), add)
    for key, dist in latency.services.items():
        _service(spec, (*base, "latency", "services", key), key, add, key_loc=True)
        _check_distribution(dist, (*base, "latency", "services", key), add)
    for i, edge in enumerate(latency.edges):
        loc = (*base, "latency", "edges", i)
        if _service(spec, (*loc, "from"), edge.source, add) and _service(spec, (*loc, "to"), edge.to, add) \
                and edge.to not in declared_callees(spec, edge.source):
            add("OBS424", loc, f"{edge.source!r} declares no call to {edge.to!r}",
                hint=f"add it to services.{edge.source}.calls, or remove this edge")
        _check_distribution(edge, loc, add)
    _check_attributes(spec, traffic, add)


def _service(spec: Spec, loc: Loc, key: str, add: Add, *, key_loc: bool = False) -> bool:
    if key in spec.services:
        return True
    hint = suggest(key, spec.services)
    add("OBS300", loc, f"unknown service {key!r}" + (f" ({hint})" if hint else ""), key=key_loc,
        hint="traffic names keys of 'services'")
    return False


def _endpoint(spec: Spec, loc: Loc, key: str, route: str, add: Add, *, key_loc: bool = False) -> bool:
    routes = routes_of(spec, key)
    if parse_route(route).span_name in routes:
        return True
    hint = suggest(route, routes)
    add("OBS301", loc, f"{key!r} has no endpoint {route!r}" + (f" ({hint})" if hint else ""), key=key_loc,
        hint=f"declare it under services.{key}.endpoints")
    return False


def _check_entries(spec: Spec, traffic: Traffic, add: Add) -> None:
    total = 0.0
    for key, rates in traffic.requests_per_second.items():
        loc: Loc = ("traffic", "requests_per_second", key)
        if not _service(spec, loc, key, add, key_loc=True):
            continue
        if spec.services[key].kind is not ServiceKind.SERVICE:
            add("OBS307", loc, f"{key!r} is a {spec.services[key].kind.value}: it emits no spans, so it cannot "
                "start a trace", key=True, hint="give the rate to the instrumented service that calls it")
            continue
        for route, rate in rates.items():
            _endpoint(spec, (*loc, route), key, route, add, key_loc=True)
            total += rate
    if traffic.requests_per_second and total == 0:
        add("OBS423", ("traffic", "requests_per_second"), "every entry rate is 0: the model sends no traffic",
            warning=True, hint="give at least one entry endpoint a rate above 0")


def _check_endpoints(spec: Spec, traffic: Traffic, add: Add) -> None:
    for key, routes in traffic.endpoints.items():
        loc: Loc = ("traffic", "endpoints", key)
        if not _service(spec, loc, key, add, key_loc=True):
            continue
        declared = declared_callees(spec, key)
        for route, calls in routes.items():
            if not _endpoint(spec, (*loc, route), key, route, add, key_loc=True):
                continue
            for i, item in enumerate(calls):
                callee = item if isinstance(item, str) else item.service
                cloc: Loc = (*loc, route, i)
                if not _service(spec, cloc if isinstance(item, str) else (*cloc, "service"), callee, add):
                    continue
                if callee not in declared:
                    add("OBS424", cloc, f"{key!r} declares no call to {callee!r}",
                        hint=f"add it to services.{key}.calls: the service graph, its alerts and the dashboards "
                             "only know declared calls")
                    continue
                if not isinstance(item, str) and item.endpoint is not None:
                    _endpoint(spec, (*cloc, "endpoint"), callee, item.endpoint, add)


def _check_distribution(dist: LatencyDistribution | object, loc: Loc, add: Add) -> None:
    median = dist.median  # type: ignore[attr-defined]
    p99 = dist.p99  # type: ignore[attr-defined]
    if median.ns <= 0:
        add("OBS420", (*loc, "median"), "a latency median must be above 0", hint="write e.g. 5ms")
    elif p99.ns < median.ns:
        add("OBS420", (*loc, "p99"), f"p99 {p99.go()} is below the median {median.go()}",
            hint="the 99th percentile is at least the median")


def _check_attributes(spec: Spec, traffic: Traffic, add: Add) -> None:
    for key, mix in traffic.attributes.items():
        loc: Loc = ("traffic", "attributes", key)
        kind = attribute_type(spec, key)
        if mix.same_as is not None:
            if mix.values:
                add("OBS202", (*loc, "same_as"), "an attribute takes either values or same_as, not both")
            other = traffic.attributes.get(mix.same_as)
            if other is None:
                add("OBS308", (*loc, "same_as"), f"attribute {mix.same_as!r} has no value mix in traffic.attributes")
            elif other.same_as is not None:
                add("OBS425", (*loc, "same_as"), f"{mix.same_as!r} takes its value from another attribute itself",
                    hint="point same_as at an attribute with values")
            elif attribute_type(spec, mix.same_as) is not kind:
                add("OBS422", (*loc, "same_as"), f"{mix.same_as!r} is a {attribute_type(spec, mix.same_as).value}, "
                    f"{key!r} a {kind.value}")
        elif not mix.values:
            add("OBS201", loc, "an attribute mix needs values (value -> share in %) or same_as", key=True)
        total = sum(mix.values.values())
        if total > 100 + 1e-9:
            add("OBS421", (*loc, "values"), f"the value shares sum to {total:g}%, over 100%",
                hint="shares are % of traces; those under 100% leave the rest of the traces without the attribute")
        for text in mix.values:
            try:
                parse_value(kind, text)
            except ValueError:
                add("OBS422", (*loc, "values", text), f"{text!r} is not of type {kind.value}", key=True,
                    hint=f"attributes.{key}.type is {kind.value}" if key in spec.attributes
                    else f"declare {key!r} under attributes with its type")
            declared = spec.attributes.get(key)
            if declared is not None and declared.values and kind is AttributeType.STRING \
                    and text not in declared.values:
                add("OBS422", (*loc, "values", text), f"{text!r} is not one of the values attributes.{key} lists",
                    key=True, warning=True, hint=f"known values: {', '.join(declared.values)}")
        for i, svc in enumerate(mix.services):
            _service(spec, (*loc, "services", i), svc, add)
