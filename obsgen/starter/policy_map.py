"""One upstream ``tail_sampling`` policy -> the spec's policy, or the reason it cannot be written.

The inverse of ``obsgen.plan.resolve_policy``: rendering the returned spec policy gives back the same
upstream policy (same name, type and block; tests/starter/test_from_collector.py renders the shop,
imports its Collector config and compares). Upstream behaviour cited here is contrib
``processor/tailsamplingprocessor`` at v0.159.0.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from obsgen.spec.types import ATTRIBUTE_PATTERN, IDENT_PATTERN

# The block of each type is read by one function below; types obsgen's spec has no word for are refused.
_IDENT = re.compile(IDENT_PATTERN)
_ATTRIBUTE = re.compile(ATTRIBUTE_PATTERN)
_TRACE_STATE_KEY = re.compile(r"^[a-z0-9][a-z0-9_*/@-]{0,255}$")


class Unmappable(ValueError):
    """The policy (or a part of it) has no equivalent in the spec; the message says why."""


def collector_literal(value: object, where: str) -> object:
    """A config value as the Collector reads it: ``$$`` is a literal ``$``; a ``${...}`` reference is
    resolved from the environment at start (core confmap/resolver.go), which a spec cannot hold."""
    if not isinstance(value, str) or "$" not in value:
        return value
    out: list[str] = []
    index = 0
    while index < len(value):
        if value.startswith("$$", index):
            out.append("$")
            index += 2
        elif value.startswith("${", index):
            raise Unmappable(f"{where} reads {value[index:].split('}', 1)[0]}}} from the environment when the "
                             "Collector starts; a spec holds values, not references")
        else:
            out.append(value[index])
            index += 1
    return "".join(out)


def _block(policy: Mapping[str, object], ptype: str) -> Mapping[str, object]:
    block = policy.get(ptype)
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise Unmappable(f"its '{ptype}' block is not a mapping")
    return block


def _known_fields(block: Mapping[str, object], ptype: str, fields: tuple[str, ...]) -> None:
    extra = sorted(str(key) for key in block if key not in fields)
    if extra:
        raise Unmappable(f"'{ptype}' has field(s) obsgen does not know: {', '.join(extra)}")


def _int(block: Mapping[str, object], key: str, ptype: str) -> int | None:
    value = collector_literal(block.get(key), f"{ptype}.{key}")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unmappable(f"{ptype}.{key} is {value!r}, not an integer")
    return value


def _str(block: Mapping[str, object], key: str, ptype: str) -> str:
    value = collector_literal(block.get(key), f"{ptype}.{key}")
    if not isinstance(value, str) or not value:
        raise Unmappable(f"{ptype}.{key} is {value!r}, not a non-empty string")
    return value


def _strings(block: Mapping[str, object], key: str, ptype: str) -> list[str]:
    values = block.get(key)
    if not isinstance(values, list) or not values:
        raise Unmappable(f"{ptype}.{key} is {values!r}, not a non-empty list")
    out = []
    for index, item in enumerate(values):
        literal = collector_literal(item, f"{ptype}.{key}[{index}]")
        if not isinstance(literal, str):
            raise Unmappable(f"{ptype}.{key}[{index}] is {literal!r}, not a string")
        out.append(literal)
    return out


def _attribute_key(block: Mapping[str, object], ptype: str) -> str:
    key = _str(block, "key", ptype)
    if not _ATTRIBUTE.fullmatch(key):
        raise Unmappable(f"attribute key {key!r} is not one the spec accepts (pattern {ATTRIBUTE_PATTERN})")
    return key


def _no_invert(block: Mapping[str, object], ptype: str) -> None:
    if block.get("invert_match") is True:
        # processor.go (v0.159.0) makeDecision: InvertNotSampled wins over every Sampled, like a drop
        raise Unmappable(f"{ptype}.invert_match has no spec equivalent: upstream keeps the traces that do "
                         "not match, and a match vetoes every other policy's keep (InvertNotSampled wins over "
                         "Sampled in processor.go); write a 'drop' policy if a veto is what you meant")


def _ms(value: int) -> str:
    """Milliseconds as a spec duration: whole seconds as ``Ns``, else ``Nms``."""
    return f"{value // 1000}s" if value % 1000 == 0 and value else f"{value}ms"


def _whole(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _latency(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "latency", ("threshold_ms", "upper_threshold_ms"))
    threshold = _int(block, "threshold_ms", "latency") or 0
    if threshold <= 0:
        raise Unmappable("latency.threshold_ms is not above 0 (the spec requires a threshold above 0)")
    out: dict[str, object] = {"threshold": _ms(threshold)}
    upper = _int(block, "upper_threshold_ms", "latency")
    if upper:  # 0 means no upper bound (internal/sampling/latency.go)
        out["upper_threshold"] = _ms(upper)
    return out


def _numeric(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "numeric_attribute", ("key", "min_value", "max_value", "invert_match"))
    _no_invert(block, "numeric_attribute")
    out: dict[str, object] = {"key": _attribute_key(block, "numeric_attribute")}
    # processor.go getSharedPolicyEvaluator: a bound of 0 is "not set"
    low, high = _int(block, "min_value", "numeric_attribute"), _int(block, "max_value", "numeric_attribute")
    if low:
        out["min"] = low
    if high:
        out["max"] = high
    if len(out) == 1:
        raise Unmappable("numeric_attribute has neither a non-zero min_value nor max_value (upstream only logs "
                         "an error and never matches)")
    return out


def _probabilistic(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "probabilistic", ("sampling_percentage", "hash_salt"))
    percentage = collector_literal(block.get("sampling_percentage", 0), "probabilistic.sampling_percentage")
    if isinstance(percentage, bool) or not isinstance(percentage, int | float) or not math.isfinite(percentage):
        raise Unmappable(f"probabilistic.sampling_percentage is {percentage!r}, not a number")
    if not 0 <= percentage <= 100:
        raise Unmappable(f"probabilistic.sampling_percentage {percentage:g} is outside 0..100")
    out: dict[str, object] = {"percentage": _whole(percentage)}
    salt = collector_literal(block.get("hash_salt"), "probabilistic.hash_salt")
    if salt:
        out["hash_salt"] = str(salt)
    return out


def _string_attribute(block: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    _known_fields(block, "string_attribute", ("key", "values", "enabled_regex_matching", "cache_max_size",
                                              "invert_match"))
    _no_invert(block, "string_attribute")
    out: dict[str, object] = {"key": _attribute_key(block, "string_attribute"),
                              "values": _strings(block, "values", "string_attribute")}
    if block.get("enabled_regex_matching") is True:
        out["regex"] = True
    notes = []
    if block.get("cache_max_size") is not None:
        notes.append("string_attribute.cache_max_size is left out: the spec has no such field, so the upstream "
                     "default regex cache size applies (matching is the same)")
    return out, notes


def _span_count(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "span_count", ("min_spans", "max_spans"))
    out: dict[str, object] = {}
    for upstream, spec in (("min_spans", "min"), ("max_spans", "max")):
        value = _int(block, upstream, "span_count")
        if value is not None:
            out[spec] = value
    if not out:
        raise Unmappable("span_count has neither min_spans nor max_spans")
    return out


def _rate_limiting(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "rate_limiting", ("spans_per_second", "burst_capacity"))
    rate = _int(block, "spans_per_second", "rate_limiting")
    if not rate or rate < 1:
        raise Unmappable("rate_limiting.spans_per_second is not a positive integer")
    burst = _int(block, "burst_capacity", "rate_limiting")
    # processor.go: burst_capacity <= 0 means NewRateLimiting, whose burst is 2 x spans_per_second
    if burst and burst > 0 and burst != 2 * rate:
        raise Unmappable(f"rate_limiting.burst_capacity {burst} is not the default 2 x spans_per_second; the "
                         "spec's rate_limiting always uses the default burst")
    return {"spans_per_second": rate}


def _bytes_limiting(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "bytes_limiting", ("bytes_per_second", "burst_capacity"))
    rate = _int(block, "bytes_per_second", "bytes_limiting")
    if not rate or rate < 1:
        raise Unmappable("bytes_limiting.bytes_per_second is not a positive integer")
    out: dict[str, object] = {"bytes_per_second": rate}
    burst = _int(block, "burst_capacity", "bytes_limiting")
    if burst and burst > 0:
        out["burst_capacity"] = burst
    return out


def _trace_state(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "trace_state", ("key", "values"))
    key = _str(block, "key", "trace_state")
    if not _TRACE_STATE_KEY.fullmatch(key):
        raise Unmappable(f"trace_state.key {key!r} is not a W3C tracestate key")
    return {"key": key, "values": _strings(block, "values", "trace_state")}


def _boolean(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "boolean_attribute", ("key", "value", "invert_match"))
    _no_invert(block, "boolean_attribute")
    value = block.get("value", False)
    if not isinstance(value, bool):
        raise Unmappable(f"boolean_attribute.value is {value!r}, not a boolean")
    return {"key": _attribute_key(block, "boolean_attribute"), "value": value}


def _ottl(block: Mapping[str, object]) -> dict[str, object]:
    _known_fields(block, "ottl_condition", ("error_mode", "span", "spanevent"))
    out: dict[str, object] = {}
    for key in ("span", "spanevent"):
        if block.get(key):
            out[key] = _strings(block, key, "ottl_condition")
    if not out:
        raise Unmappable("ottl_condition has no span or spanevent condition")
    mode = collector_literal(block.get("error_mode", "propagate"), "ottl_condition.error_mode")
    if mode not in ("ignore", "silent", "propagate"):
        raise Unmappable(f"ottl_condition.error_mode {mode!r} is not ignore, silent or propagate")
    out["error_mode"] = mode
    return out


def _status_codes(block: Mapping[str, object]) -> list[str]:
    _known_fields(block, "status_code", ("status_codes",))
    codes = _strings(block, "status_codes", "status_code")
    for code in codes:
        if code not in ("OK", "ERROR", "UNSET"):
            raise Unmappable(f"status code {code!r} is not OK, ERROR or UNSET")
    return codes


# Which spec kinds may sit inside which combinator: the Collector's nesting
# (obsgen.targets.collector.strict.tailsampling ALLOWED_AT), which the spec's semantic checks also enforce.
_NESTED_IN = {
    "and": frozenset({"and", "composite", "drop"}),
    "drop": frozenset({"and", "composite", "drop"}),
    "not": frozenset({"and", "composite", "drop", "not"}),
    "composite": frozenset({"composite", "drop", "not"}),
}


def _name(policy: Mapping[str, object], where: str) -> str:
    name = policy.get("name")
    if not isinstance(name, str) or not name:
        raise Unmappable(f"{where} has no name")
    return name


def spec_policy(policy: object, parent: str | None = None, default_name: str | None = None,
                notes: list[str] | None = None) -> dict[str, object]:
    """The spec's form of one upstream policy (``parent``: the combinator it sits in, if any).

    ``default_name`` is the name obsgen's plan would give this sub-policy when it has none; a name equal
    to it is left out of the spec. ``notes`` collects what was left out without changing a decision.
    Raises :class:`Unmappable`.
    """
    notes = notes if notes is not None else []
    if not isinstance(policy, Mapping):
        raise Unmappable("the policy is not a mapping")
    ptype = policy.get("type")
    if not isinstance(ptype, str) or not ptype:
        raise Unmappable("the policy has no type")
    if parent is not None and ptype in _NESTED_IN.get(parent, frozenset()):
        raise Unmappable(f"a '{ptype}' policy cannot be nested inside '{parent}'")
    extra = sorted(str(k) for k in policy if k not in ("name", "type", ptype))
    if extra:
        raise Unmappable(f"it has keys besides name, type and '{ptype}': {', '.join(extra)} (evaluator extension "
                         "config, which obsgen does not write)")
    out: dict[str, object] = {}
    name = policy.get("name")
    if parent is None or parent == "composite":
        name = _name(policy, "a composite sub-policy" if parent else "the policy")
    if isinstance(name, str) and name and name != default_name:
        if not _IDENT.fullmatch(name) or ".." in name:
            raise Unmappable(f"its name {name!r} is not an identifier ([A-Za-z0-9._-], starting and ending "
                             "alphanumeric, at most 63 characters), which the spec requires")
        out["name"] = name
    block = _block(policy, ptype)
    own = str(name) if isinstance(name, str) and name else (default_name or "policy")
    if ptype == "always_sample":
        out["always_sample"] = True
    elif ptype == "latency":
        out["latency"] = _latency(block)
    elif ptype == "numeric_attribute":
        out["numeric_attribute"] = _numeric(block)
    elif ptype == "probabilistic":
        out["probabilistic"] = _probabilistic(block)
    elif ptype == "status_code":
        out["status_code"] = _status_codes(block)
    elif ptype == "string_attribute":
        out["string_attribute"], more = _string_attribute(block)
        notes.extend(more)
    elif ptype == "rate_limiting":
        out["rate_limiting"] = _rate_limiting(block)
    elif ptype == "bytes_limiting":
        out["bytes_limiting"] = _bytes_limiting(block)
    elif ptype == "span_count":
        out["span_count"] = _span_count(block)
    elif ptype == "trace_state":
        out["trace_state"] = _trace_state(block)
    elif ptype == "boolean_attribute":
        out["boolean_attribute"] = _boolean(block)
    elif ptype == "ottl_condition":
        out["ottl_condition"] = _ottl(block)
    elif ptype in ("and", "drop"):
        key = f"{ptype}_sub_policy"
        _known_fields(block, ptype, (key,))
        subs = block.get(key)
        if not isinstance(subs, list) or not subs:
            raise Unmappable(f"{ptype}.{key} is not a non-empty list")
        out[ptype] = [spec_policy(sub, ptype, f"{own}-{i + 1}", notes) for i, sub in enumerate(subs)]
    elif ptype == "not":
        _known_fields(block, "not", ("not_sub_policy",))
        out["not"] = spec_policy(block.get("not_sub_policy"), "not", f"{own}-1", notes)
    elif ptype == "composite":
        out["composite"] = _composite(block, own, notes)
    else:
        # trace_flags, or an evaluator extension's type
        raise Unmappable(f"policy type '{ptype}' has no spec equivalent")
    return out


def _composite(block: Mapping[str, object], own: str, notes: list[str]) -> dict[str, object]:
    _known_fields(block, "composite", ("max_total_spans_per_second", "policy_order", "composite_sub_policy",
                                       "rate_allocation"))
    total = _int(block, "max_total_spans_per_second", "composite")
    if not total or total < 1:
        raise Unmappable("composite.max_total_spans_per_second is not a positive integer")
    subs = block.get("composite_sub_policy")
    if not isinstance(subs, list) or not subs:
        raise Unmappable("composite.composite_sub_policy is not a non-empty list")
    percent: dict[str, int] = {}
    allocations = block.get("rate_allocation") or []
    if not isinstance(allocations, list):
        raise Unmappable("composite.rate_allocation is not a list")
    for entry in allocations:
        if isinstance(entry, Mapping) and isinstance(entry.get("policy"), str):
            value = _int(entry, "percent", "composite.rate_allocation")
            if value is not None:
                percent[str(entry["policy"])] = value
    policies = []
    for index, sub in enumerate(subs):
        spec_sub = spec_policy(sub, "composite", f"{own}-{index + 1}", notes)
        sub_name = _name(sub, "a composite sub-policy")  # type: ignore[arg-type]
        spec_sub["name"] = sub_name  # a composite sub-policy always carries its name in the spec
        share = percent.get(sub_name, 0)
        if share <= 0:
            # composite_helper.go getRateAllocationMap: no (or a non-positive) allocation = an equal share
            if 100 % len(subs):
                raise Unmappable(f"sub-policy '{sub_name}' has no rate_allocation, so upstream gives it an equal "
                                 f"share (1/{len(subs)} of the budget), which whole-percent shares cannot write")
            share = 100 // len(subs)
        if share > 100:
            raise Unmappable(f"sub-policy '{sub_name}' is allocated {share}%, over 100%")
        spec_sub["share"] = share
        policies.append(spec_sub)
    # policy_order is decoded but never read in v0.159.0 (only config.go mentions PolicyOrder): sub-policies
    # are evaluated in composite_sub_policy order, which the spec's list keeps.
    return {"max_spans_per_second": total, "policies": policies}


def attributes_used(policy: Mapping[str, object]) -> list[tuple[str, str]]:
    """(attribute key, spec type) of every attribute a spec policy matches on, in order."""
    found: list[tuple[str, str]] = []
    for kind, kind_type in (("numeric_attribute", "int"), ("string_attribute", "string"),
                            ("boolean_attribute", "bool")):
        block = policy.get(kind)
        if isinstance(block, Mapping):
            found.append((str(block["key"]), kind_type))
    for kind in ("and", "drop"):
        for sub in policy.get(kind) or []:  # type: ignore[attr-defined]
            found += attributes_used(sub)
    if isinstance(policy.get("not"), Mapping):
        found += attributes_used(policy["not"])  # type: ignore[arg-type]
    composite = policy.get("composite")
    if isinstance(composite, Mapping):
        for sub in composite["policies"]:  # type: ignore[union-attr]
            found += attributes_used(sub)
    return found
