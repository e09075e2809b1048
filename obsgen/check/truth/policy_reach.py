"""OBS411: every keep policy of the rendered tail-sampling config can match a span the topology declares.

Read from the rendered ``tail_sampling`` processor(s), with the matching rules of contrib
``processor/tailsamplingprocessor/internal/sampling`` v0.159.0:

* ``string_attribute`` (``string_tag_filter.go``): a resource or span attribute ``key`` whose ``Str()`` is one of
  ``values``, or, with ``enabled_regex_matching``, that one of them matches (Go ``regexp.MatchString``: unanchored);
  ``invert_match`` samples unless a value matches, so it can always match.
* ``numeric_attribute`` (``numeric_tag_filter.go``): an ``Int()`` in ``[min_value, max_value]`` (open ends are
  ``math.MinInt64``/``math.MaxInt64``).
* ``boolean_attribute`` (``boolean_tag_filter.go``): ``Bool() == value``.
* ``and`` (``and.go``): every sub-policy samples; ``composite`` (``composite.go``): each sub-policy is a keep rule
  of its own. Both are checked per sub-policy.
* ``status_code``, ``latency``, ``probabilistic``, ``always_sample``, ``rate_limiting``, ``bytes_limiting``: any
  declared span can be an error, slow, or picked; ``span_count``, ``trace_state``, ``ottl_condition`` and ``not``
  are not decided here. ``drop`` policies are not keep policies.

The declared spans (``obsgen.check.truth.declared_spans``) carry: the attributes of ``attributes:`` (a string one only
its listed ``values`` when it lists them), ``service.name`` (resource) of each instrumented service,
``http.route``/``http.request.method`` of its HTTP endpoints, ``rpc.system``/``rpc.service``/``rpc.method`` of
its gRPC ones, and the ``db.*``/``peer.service``/``messaging.system`` its calls' spans carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from obsgen.check.truth import declared_spans as spans
from obsgen.spec.endpoints import Protocol, endpoint_protocol, parse_route
from obsgen.spec.models import AttributeType, Policy, Spec, policy_value

Add = Callable[..., None]
Loc = tuple[str | int, ...]
_INT64 = (-(2**63), 2**63 - 1)
# semantic-convention attributes a declared span may carry with any value of their type
_READS = {"string_attribute": AttributeType.STRING, "numeric_attribute": AttributeType.INT,
          "boolean_attribute": AttributeType.BOOL}
# semantic-convention attributes the declared spans carry when the spec names their values (endpoints, calls);
# with none named, the spec says nothing about them and a policy on them is not judged
_SEMCONV_STRINGS = frozenset({
    "service.name", "http.route", "http.request.method", "rpc.system", "rpc.service", "rpc.method", "db.name",
    "db.namespace", "db.system", "peer.service", "messaging.system",
})
_SEMCONV_INTS = frozenset({"http.response.status_code", "http.status_code", "rpc.grpc.status_code", "server.port"})


class Domain(NamedTuple):
    """The values declared spans can give one attribute (``values`` None: any value of ``type``)."""

    type: AttributeType
    values: frozenset[str] | None


def domains(spec: Spec) -> dict[str, Domain]:
    """Every attribute a declared span can carry, with its possible values."""
    found: dict[str, set[str]] = {}

    def add(key: str, value: str) -> None:
        found.setdefault(key, set()).add(value)

    declared = spans.declare(spec)
    for service, names in declared.span_names.items():
        add("service.name", service)
        for name in names:
            route = parse_route(name)
            protocol = endpoint_protocol(name)
            if protocol is Protocol.HTTP and route.path is not None:
                add("http.route", route.path)
                if route.method is not None:
                    add("http.request.method", route.method)
            elif protocol is Protocol.GRPC:
                rpc_service, _, method = name.partition("/")
                add("rpc.system", "grpc")
                add("rpc.service", rpc_service)
                add("rpc.method", method)
    for call in declared.calls:
        for key, value in call.attributes:
            add(key, value)
    out = {k: Domain(AttributeType.STRING, frozenset(v)) for k, v in found.items()}
    for key in _SEMCONV_INTS:
        out[key] = Domain(AttributeType.INT, None)
    for key, attr in spec.attributes.items():
        listed = frozenset(attr.values) if attr.values and attr.type is AttributeType.STRING else None
        out[key] = Domain(attr.type, listed)
    return out


def tail_sampling_policies(doc: dict[str, object]) -> list[object]:
    """The policies of every tail_sampling processor of one rendered Collector config."""
    processors = doc.get("processors")
    out: list[object] = []
    for pid, conf in (processors.items() if isinstance(processors, dict) else ()):
        if str(pid).split("/")[0] == "tail_sampling" and isinstance(conf, dict):
            out += conf.get("policies") or []
    return out


def check(spec: Spec, rendered: list[object], add: Add) -> None:
    """OBS411 (warning) for each keep policy no declared span can match, at the spec policy it came from."""
    known = domains(spec)
    locations = _spec_locations(spec)
    seen: set[str] = set()
    for policy, parent in _keep_policies(rendered):
        name = str(_get(policy, "name"))
        why = _never(policy, known)
        if why is None or name in seen:
            continue
        seen.add(name)
        loc = locations.get(name) or locations.get(parent or "") or ("sampling", "policies")
        add("OBS411", loc, f"keep policy {name!r} can never match a span the topology declares: {why}",
            warning=True,
            hint="declare the attribute (attributes:, with its values) or the endpoint it matches, or fix the "
                 "policy's key or values")


def _keep_policies(policies: list[object], parent: str | None = None) -> Iterator[tuple[object, str | None]]:
    for policy in policies:
        ptype = _get(policy, "type")
        if ptype == "drop":
            continue
        if ptype == "and":
            yield from _keep_policies(_list(_get(_get(policy, "and"), "and_sub_policy")), str(_get(policy, "name")))
        elif ptype == "composite":
            yield from _keep_policies(_list(_get(_get(policy, "composite"), "composite_sub_policy")),
                                      str(_get(policy, "name")))
        else:
            yield policy, parent


def _never(policy: object, known: dict[str, Domain]) -> str | None:
    """Why no declared span can match ``policy``, or None when one can (or it cannot be decided here)."""
    ptype = _get(policy, "type")
    conf = _get(policy, str(ptype))
    if ptype not in ("string_attribute", "numeric_attribute", "boolean_attribute") or _get(conf, "invert_match"):
        return None
    key = str(_get(conf, "key"))
    domain = known.get(key)
    if domain is None:
        if key in _SEMCONV_STRINGS:
            return None  # set by instrumentation the spec does not describe here (no endpoint, call, ... names it)
        return f"no declared span carries {key!r}"
    if domain.type is not _READS[str(ptype)]:
        return None  # a type the policy cannot read is OBS409's finding (validate), not reported twice
    if ptype == "boolean_attribute":
        return None
    if ptype == "numeric_attribute":
        low, high = _get(conf, "min_value"), _get(conf, "max_value")
        lo = int(low) if isinstance(low, int | float) else _INT64[0]
        hi = int(high) if isinstance(high, int | float) else _INT64[1]
        return None if lo <= hi else f"its range [{lo}, {hi}] is empty"
    if domain.values is None:
        return None
    values = [str(v).replace("$$", "$") for v in _list(_get(conf, "values"))]  # the Collector's $$ escape
    if _get(conf, "enabled_regex_matching"):
        import re2  # Go's regexp semantics (RE2), unanchored like MatchString

        if any(re2.search(p, v) for p in values for v in domain.values):
            return None
    elif set(values) & domain.values:
        return None
    shown = ", ".join(repr(v) for v in sorted(domain.values)[:8])
    return f"{key!r} only takes {shown} on declared spans"


def _spec_locations(spec: Spec) -> dict[str, Loc]:
    """Rendered policy name -> the spec item it came from (sub-policies rendered as ``<parent>-<n>`` too)."""
    out: dict[str, Loc] = {}

    def walk(items: list[Policy], loc: Loc, parent: str | None) -> None:
        for i, policy in enumerate(items):
            here: Loc = (*loc, i)
            if policy.name:
                out.setdefault(policy.name, here)
            if parent is not None:
                out.setdefault(f"{parent}-{i + 1}", here)
            value = policy_value(policy)
            name = policy.name or (f"{parent}-{i + 1}" if parent else None)
            if policy.kind == "and":
                walk(value, (*here, "and"), name)
            elif policy.kind == "composite":
                walk(value.policies, (*here, "composite", "policies"), name)

    walk(spec.sampling.policies, ("sampling", "policies"), None)
    return out


def _get(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, dict) else None


def _list(obj: object) -> list[object]:
    return obj if isinstance(obj, list) else []
