"""``obsgen init --from-collector CONFIG``: what an existing Collector config says that a spec can say too.

Read: the ``tail_sampling`` processor (its policies, every type the spec can express, and its buffer
settings) and the span-metrics connector (``span_metrics``, or ``spanmetrics`` before 0.152: its
dimensions, explicit histogram buckets and cardinality limit). The file is read as the Collector reads
it (YAML 1.2 scalars, ``obsgen.lint.source``). What cannot be written in the spec is kept as a
:class:`Skipped` entry with the reason, which the starter spec lists as comments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from obsgen.lint.source import Loc, Source, build_yaml, compose_yaml, read_text
from obsgen.spec.durations import parse_duration
from obsgen.spec.semantic import BUILTIN_DIMENSIONS, KNOWN_ATTRIBUTES
from obsgen.spec.types import ATTRIBUTE_PATTERN
from obsgen.starter.policy_map import Unmappable, attributes_used, collector_literal, spec_policy

_ATTRIBUTE = re.compile(ATTRIBUTE_PATTERN)
_SPAN_METRICS_TYPES = ("span_metrics", "spanmetrics")
# tail_sampling fields the import reads; the rest of the processor's settings are listed as not mapped.
_SAMPLING_READ = ("policies", "decision_wait", "decision_wait_after_root_received", "num_traces",
                  "expected_new_traces_per_sec", "decision_cache")
_SPAN_METRICS_READ = ("dimensions", "histogram", "aggregation_cardinality_limit")


@dataclass(frozen=True)
class Skipped:
    """Something in the Collector config the spec cannot hold."""

    line: int
    what: str
    reason: str
    section: str = "sampling"
    """The spec section it belongs to: sampling or span_metrics."""
    field_value: tuple[str, object] | None = None
    """(field, value) of a component setting obsgen renders itself: not listed when obsgen renders the same."""


@dataclass
class Imported:
    """The spec sections read from a Collector config."""

    source: str
    policies: list[dict[str, object]] = field(default_factory=list)
    sampling: dict[str, object] = field(default_factory=dict)
    span_metrics: dict[str, object] = field(default_factory=dict)
    attributes: dict[str, dict[str, object]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Left out without changing what the Collector decides (e.g. a cache size)."""
    policy_origins: list[tuple[int, str]] = field(default_factory=list)
    """(line in the config, description) of each imported policy, in order."""
    dimension_origins: list[tuple[int, str]] = field(default_factory=list)
    """(line in the config, description) of each imported dimension, in order."""
    sampling_found: bool = False
    span_metrics_found: bool = False


def read_collector_config(path: str, display: str) -> Source:
    """The config's data and positions; raises ``obsgen.lint.source.ReadError`` with a diagnostic."""
    return build_yaml(compose_yaml(read_text(path, display), display), display, yaml12=True)


def _components(data: object, kind: str, types: tuple[str, ...]) -> list[tuple[str, Mapping[str, object]]]:
    """(id, config) of every ``kind`` component whose type is one of ``types``, in file order."""
    section = data.get(kind) if isinstance(data, Mapping) else None
    if not isinstance(section, Mapping):
        return []
    out = []
    for cid, cfg in section.items():
        if str(cid).split("/", 1)[0] in types:
            out.append((str(cid), cfg if isinstance(cfg, Mapping) else {}))
    return out


def _line(source: Source, loc: Loc) -> int:
    return source.where(loc)[0]


def import_config(source: Source) -> Imported:
    """The spec's sampling policies and settings, span-metrics dimensions and settings, and every attribute
    they use, read from one Collector config."""
    result = Imported(source.file)
    processors = _components(source.data, "processors", ("tail_sampling",))
    for cid, _cfg in processors[1:]:
        result.skipped.append(Skipped(_line(source, ("processors", cid)), f"processor {cid}",
                                      f"a spec has one sampling section; {processors[0][0]} is imported"))
    if processors:
        result.sampling_found = True
        _import_sampling(source, processors[0][0], processors[0][1], result)
    connectors = _components(source.data, "connectors", _SPAN_METRICS_TYPES)
    for cid, _cfg in connectors[1:]:
        result.skipped.append(Skipped(_line(source, ("connectors", cid)), f"connector {cid}",
                                      f"a spec has one span_metrics section; {connectors[0][0]} is imported",
                                      "span_metrics"))
    if connectors:
        result.span_metrics_found = True
        _import_span_metrics(source, connectors[0][0], connectors[0][1], result)
    return result


def _declare(result: Imported, key: str, kind: str) -> None:
    """Declare an attribute a policy or dimension uses (the spec requires it, OBS308), with its type."""
    if key in KNOWN_ATTRIBUTES or key in result.attributes:
        return
    result.attributes[key] = {} if kind == "string" else {"type": kind}


def _duration(value: object, what: str) -> str:
    literal = collector_literal(value, what)
    if isinstance(literal, str):
        parse_duration(literal)  # ValueError when it is not a Go duration the spec reads
        return literal
    raise Unmappable(f"{what} is {literal!r}, not a duration")


def _import_sampling(source: Source, cid: str, cfg: Mapping[str, object], result: Imported) -> None:
    loc: Loc = ("processors", cid)
    sampling: dict[str, object] = {}
    for key in ("decision_wait", "decision_wait_after_root_received"):
        if key in cfg:
            try:
                sampling[key] = _duration(cfg[key], key)
            except (Unmappable, ValueError) as exc:
                result.skipped.append(Skipped(_line(source, (*loc, key)), f"{cid}.{key}", str(exc)))
    tps = cfg.get("expected_new_traces_per_sec")
    if isinstance(tps, int) and not isinstance(tps, bool) and tps >= 1:
        sampling["expected_traces_per_second"] = tps
        headroom = _headroom(cfg.get("num_traces"), tps, sampling.get("decision_wait", "10s"))
        if headroom is not None:
            sampling["headroom"] = headroom
    result.sampling = sampling
    for key in cfg:
        if key not in _SAMPLING_READ:
            result.skipped.append(Skipped(_line(source, (*loc, key)), f"{cid}.{key}",
                                          "not part of the spec: obsgen renders the processor's other settings "
                                          "itself", "sampling", (key, cfg[key])))
    for key in ("num_traces", "decision_cache"):
        if key in cfg:  # listed only when obsgen's sizing gives another value (obsgen.starter.command)
            result.skipped.append(Skipped(_line(source, (*loc, key)), f"{cid}.{key}",
                                          "obsgen sizes it from sampling.expected_traces_per_second, decision_wait "
                                          "and headroom", "sampling", (key, cfg[key])))
    policies = cfg.get("policies")
    if not isinstance(policies, list):
        result.skipped.append(Skipped(_line(source, (*loc, "policies")), f"{cid}.policies", "no list of policies"))
        return
    for index, policy in enumerate(policies):
        name = policy.get("name") if isinstance(policy, Mapping) else None
        what = f"policy {name!r}" if isinstance(name, str) else f"policy #{index + 1}"
        notes: list[str] = []
        try:
            spec = spec_policy(policy, notes=notes)
        except Unmappable as exc:
            result.skipped.append(Skipped(_line(source, (*loc, "policies", index)), what, str(exc)))
            continue
        result.policies.append(spec)
        result.policy_origins.append((_line(source, (*loc, "policies", index)), what))
        result.notes.extend(f"{what}: {note}" for note in notes)
        for key, kind in attributes_used(spec):
            _declare(result, key, kind)


def _import_span_metrics(source: Source, cid: str, cfg: Mapping[str, object], result: Imported) -> None:
    loc: Loc = ("connectors", cid)
    out: dict[str, object] = {}
    dimensions: list[object] = []
    raw = cfg.get("dimensions") or []
    for index, dim in enumerate(raw if isinstance(raw, list) else []):
        where = _line(source, (*loc, "dimensions", index))
        name = dim.get("name") if isinstance(dim, Mapping) else None
        reason = _dimension_problem(dim, name)
        if reason:
            result.skipped.append(Skipped(where, f"{cid} dimension {name!r}", reason, "span_metrics"))
            continue
        assert isinstance(dim, Mapping) and isinstance(name, str)
        default = collector_literal(dim.get("default"), "default") if dim.get("default") is not None else None
        dimensions.append({"name": name, "default": str(default)} if default is not None else name)
        result.dimension_origins.append((where, f"{cid} dimension {name!r}"))
        _declare(result, name, "string")
    if dimensions:
        out["dimensions"] = dimensions
    limit = cfg.get("aggregation_cardinality_limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
        out["cardinality_limit"] = limit
    buckets = _buckets(cfg.get("histogram"))
    if buckets:
        out["histogram_buckets"] = buckets
    elif isinstance(cfg.get("histogram"), Mapping):
        result.skipped.append(Skipped(_line(source, (*loc, "histogram")), f"{cid}.histogram",
                                      "only explicit buckets written as durations can be imported; obsgen "
                                      "renders its own histogram (every SLO threshold a boundary)", "span_metrics"))
    for key in cfg:
        if key not in _SPAN_METRICS_READ:
            result.skipped.append(Skipped(_line(source, (*loc, key)), f"{cid}.{key}",
                                          "not part of the spec: obsgen renders it itself (its rules and "
                                          "dashboards depend on the names and units it writes)", "span_metrics",
                                          (key, cfg[key])))
    result.span_metrics = out


def _headroom(num_traces: object, tps: int, wait: object) -> float | None:
    """The headroom that makes obsgen's num_traces (traffic x decision_wait x headroom, rounded up) the
    config's, when it is in the spec's range 1..100 and has at most two decimals; else None."""
    if isinstance(num_traces, bool) or not isinstance(num_traces, int) or not isinstance(wait, str):
        return None
    seconds = Fraction(parse_duration(wait).ns, 10**9)
    if not seconds:
        return None
    exact = Fraction(num_traces) / (tps * seconds)
    headroom = Fraction(round(exact * 100), 100)
    if not 1 <= headroom <= 100 or math.ceil(tps * seconds * headroom) != num_traces:
        return None
    return int(headroom) if headroom.denominator == 1 else float(headroom)


def _dimension_problem(dim: object, name: object) -> str:
    if not isinstance(dim, Mapping) or not isinstance(name, str):
        return "a dimension without a name"
    extra = sorted(str(k) for k in dim if k not in ("name", "default"))
    if extra:
        return f"the spec's dimensions have a name and a default only, not {', '.join(extra)}"
    if not _ATTRIBUTE.fullmatch(name):
        return f"{name!r} is not an attribute key the spec accepts (pattern {ATTRIBUTE_PATTERN})"
    if name in BUILTIN_DIMENSIONS:
        return f"{name!r} is one of the connector's built-in dimensions, which obsgen always has"
    try:
        collector_literal(dim.get("default"), "default")
    except Unmappable as exc:
        return str(exc)
    return ""


def _buckets(histogram: object) -> list[str]:
    """Explicit buckets as spec durations, or [] when there are none (or they are not durations)."""
    if not isinstance(histogram, Mapping):
        return []
    explicit = histogram.get("explicit")
    buckets = explicit.get("buckets") if isinstance(explicit, Mapping) else None
    if not isinstance(buckets, list) or not buckets:
        return []
    out = []
    for bucket in buckets:
        if not isinstance(bucket, str):
            return []
        try:
            parse_duration(bucket)
        except ValueError:
            return []
        out.append(bucket)
    return out
