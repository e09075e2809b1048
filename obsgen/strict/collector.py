"""Strict validation of OpenTelemetry Collector (contrib) configs, as the Collector itself would decode them.

Public API:

* :func:`validate_collector_config` checks a whole parsed config for one pinned contrib version.
* :func:`validate_tail_sampling`, :func:`validate_span_metrics`, :func:`validate_service_graph` and
  :func:`validate_load_balancing` check a single component block (for upstream fragments).
* :func:`component_ids` maps obsgen's logical component names to the type id of a version.

Component type renames (collector reference section 1). Each old id stays a deprecated alias, so both
ids are accepted from ``since`` on; before it only the old id exists:

=========================  ======================================  =========  ==============================
logical name               old id -> new id                        since      evidence
=========================  ======================================  =========  ==============================
otlp_exporter              otlp -> otlp_grpc                       v0.145.0   core metadata.yaml, CHANGELOG
otlphttp_exporter          otlphttp -> otlp_http                   v0.145.0   core metadata.yaml, CHANGELOG
span_metrics               spanmetrics -> span_metrics             v0.152.0   contrib PR #47963 (2026-04-28)
service_graph              servicegraph -> service_graph           v0.152.0   contrib PR #47971 (2026-04-28)
load_balancing             loadbalancing -> load_balancing         v0.153.0   contrib PR #48533 (2026-05-19)
prometheus_remote_write    prometheusremotewrite -> ...            v0.154.0   contrib PR #48705 (2026-05-27)
=========================  ======================================  =========  ==============================

The two connector PRs landed on the day contrib v0.151.0 was cut (the releases repo tagged v0.151.0 at
2026-04-29 00:19 UTC), so v0.152.0 is the first release certain to contain them; choosing the later
release is safe because the old id keeps working either way.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from obsgen.strict._base import StrictError
from obsgen.strict.collector_contrib import (
    FORWARD,
    LOAD_BALANCING,
    PROMETHEUS_EXPORTER,
    PROMETHEUS_REMOTE_WRITE,
    SERVICE_GRAPH,
    SPAN_METRICS,
)
from obsgen.strict.collector_core import (
    BATCH,
    DEBUG_EXPORTER,
    HEALTH_CHECK,
    MEMORY_LIMITER,
    OTLP_GRPC_EXPORTER,
    OTLP_HTTP_EXPORTER,
    OTLP_RECEIVER,
    PPROF,
    ZPAGES,
)
from obsgen.strict.collector_schema import (
    ALL_LINTS,
    LINT_COMPOSITE_RATE_ALLOCATION,
    LINT_MEMORY_LIMITER_FIRST,
    AnyMapping,
    Ctx,
    Field,
    ListOf,
    Loc,
    Obj,
    Str,
    Version,
    err,
    type_name,
    vstr,
)
from obsgen.strict.collector_tailsampling import TAIL_SAMPLING

__all__ = [
    "ALL_LINTS",
    "LINT_COMPOSITE_RATE_ALLOCATION",
    "LINT_MEMORY_LIMITER_FIRST",
    "component_ids",
    "validate_collector_config",
    "validate_load_balancing",
    "validate_service_graph",
    "validate_span_metrics",
    "validate_tail_sampling",
]

SIGNALS = ("traces", "metrics", "logs")
ALL_SIGNALS = frozenset(SIGNALS)
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
TOP_LEVEL_KEYS = (*KINDS, "service")


@dataclass(frozen=True)
class ComponentSpec:
    """One modelled component type: its ids across the rename, schema and pipeline capabilities."""

    kind: str
    logical: str
    old_id: str
    schema: Obj
    new_id: str | None = None
    since: Version | None = None
    signals: frozenset[str] = ALL_SIGNALS
    # Connectors only: the (exporter-side signal, receiver-side signal) pairs they support.
    routes: frozenset[tuple[str, str]] = frozenset()

    def id_for(self, version: Version) -> str:
        """The id obsgen should emit for ``version``."""
        if self.new_id is not None and self.since is not None and version >= self.since:
            return self.new_id
        return self.old_id


_TRACES_TO_METRICS = frozenset({("traces", "metrics")})
SPECS: tuple[ComponentSpec, ...] = (
    ComponentSpec("receivers", "otlp_receiver", "otlp", OTLP_RECEIVER),
    ComponentSpec("processors", "batch", "batch", BATCH),
    ComponentSpec("processors", "memory_limiter", "memory_limiter", MEMORY_LIMITER),
    ComponentSpec(
        "processors", "tail_sampling", "tail_sampling", TAIL_SAMPLING, signals=frozenset({"traces"})
    ),
    ComponentSpec(
        "connectors",
        "span_metrics",
        "spanmetrics",
        SPAN_METRICS,
        "span_metrics",
        (0, 152, 0),
        routes=_TRACES_TO_METRICS,
    ),
    ComponentSpec(
        "connectors",
        "service_graph",
        "servicegraph",
        SERVICE_GRAPH,
        "service_graph",
        (0, 152, 0),
        routes=_TRACES_TO_METRICS,
    ),
    ComponentSpec("connectors", "forward", "forward", FORWARD, routes=frozenset((s, s) for s in SIGNALS)),
    ComponentSpec("exporters", "otlp_exporter", "otlp", OTLP_GRPC_EXPORTER, "otlp_grpc", (0, 145, 0)),
    ComponentSpec("exporters", "otlphttp_exporter", "otlphttp", OTLP_HTTP_EXPORTER, "otlp_http", (0, 145, 0)),
    ComponentSpec(
        "exporters",
        "prometheus_remote_write",
        "prometheusremotewrite",
        PROMETHEUS_REMOTE_WRITE,
        "prometheus_remote_write",
        (0, 154, 0),
        signals=frozenset({"metrics"}),
    ),
    ComponentSpec(
        "exporters", "prometheus_exporter", "prometheus", PROMETHEUS_EXPORTER, signals=frozenset({"metrics"})
    ),
    ComponentSpec(
        "exporters", "load_balancing", "loadbalancing", LOAD_BALANCING, "load_balancing", (0, 153, 0)
    ),
    ComponentSpec("exporters", "debug", "debug", DEBUG_EXPORTER),
    ComponentSpec("extensions", "health_check", "health_check", HEALTH_CHECK),
    ComponentSpec("extensions", "pprof", "pprof", PPROF),
    ComponentSpec("extensions", "zpages", "zpages", ZPAGES),
)
_BY_LOGICAL = {spec.logical: spec for spec in SPECS}


def component_ids(version: Version) -> dict[str, str]:
    """Map each logical component name to the type id obsgen should emit for collector ``version``."""
    return {spec.logical: spec.id_for(version) for spec in SPECS if spec.kind != "extensions"}


def lookup(kind: str, ctype: str, version: Version) -> tuple[ComponentSpec | None, str]:
    """Find the modelled spec for a component type; the string explains a version mismatch."""
    for spec in SPECS:
        if spec.kind != kind:
            continue
        if ctype == spec.old_id:
            return spec, ""
        if ctype == spec.new_id:
            if spec.since is not None and version < spec.since:
                return (
                    None,
                    f"'{ctype}' exists from {vstr(spec.since)} on; use '{spec.old_id}' for {vstr(version)}",
                )
            return spec, ""
    return None, ""


_TYPE_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")


def split_id(raw: object) -> tuple[str, str] | None:
    """Split ``type[/name]`` like ``component.ID``; ``None`` when it is not a valid id."""
    if not isinstance(raw, str):
        return None
    ctype, sep, name = raw.partition("/")
    if not _TYPE_RE.match(ctype) or (sep and (not name or "/" in name or re.search(r"\s", name))):
        return None
    return ctype, name


def _ctx(version: Version, lints: Collection[str], extensions: frozenset[str] | None = None) -> Ctx:
    unknown = set(lints) - ALL_LINTS
    if unknown:
        raise ValueError(f"unknown lints: {sorted(unknown)}; known: {sorted(ALL_LINTS)}")
    return Ctx(version=version, lints=frozenset(lints), extensions=extensions)


def _sorted(errors: list[StrictError]) -> list[StrictError]:
    """Deduplicate and order errors by path so results are stable."""
    return sorted(set(errors), key=lambda e: (e.path, e.message))


def validate_tail_sampling(
    block: object, version: Version, *, lints: Collection[str] = ALL_LINTS
) -> list[StrictError]:
    """Check one ``tail_sampling`` processor body; paths are relative to the block."""
    return _sorted(TAIL_SAMPLING.check(block, (), _ctx(version, lints)))


def validate_span_metrics(block: object, version: Version) -> list[StrictError]:
    """Check one ``spanmetrics``/``span_metrics`` connector body; paths are relative to the block."""
    return _sorted(SPAN_METRICS.check(block, (), _ctx(version, ())))


def validate_service_graph(block: object, version: Version) -> list[StrictError]:
    """Check one ``servicegraph``/``service_graph`` connector body; paths are relative to the block."""
    return _sorted(SERVICE_GRAPH.check(block, (), _ctx(version, ())))


def validate_load_balancing(block: object, version: Version) -> list[StrictError]:
    """Check one ``loadbalancing``/``load_balancing`` exporter body; paths are relative to the block."""
    return _sorted(LOAD_BALANCING.check(block, (), _ctx(version, ())))


def _views_need_detailed(cfg: Mapping[str, object], loc: Loc, ctx: Ctx) -> list[StrictError]:
    level = str(cfg.get("level") or "normal").lower()
    if cfg.get("views") is not None and level != "detailed":
        return [
            err((*loc, "views"), "views can only be set when service::telemetry::metrics::level is detailed")
        ]
    return []


# Internal telemetry is an otelconf (declarative SDK) schema; it is checked loosely: known sections,
# mappings where mappings belong, and the enumerated levels.
TELEMETRY = Obj(
    "service telemetry",
    {
        "logs": Obj(
            "telemetry logs",
            {
                "level": Str(
                    choices=("debug", "info", "warn", "error", "dpanic", "panic", "fatal"),
                    case_insensitive=True,
                ),
                "processors": ListOf(AnyMapping()),
            },
            open_=True,
        ),
        "metrics": Obj(
            "telemetry metrics",
            {
                "level": Str(choices=("none", "basic", "normal", "detailed"), case_insensitive=True),
                "readers": ListOf(AnyMapping()),
                "views": ListOf(AnyMapping()),
                # Removed when the disableAddressFieldForInternalTelemetry gate went stable.
                "address": Field(Str(), until=(0, 128, 0), why="use readers instead"),
            },
            [_views_need_detailed],
            open_=True,
        ),
        "traces": AnyMapping(),
        "resource": AnyMapping(),
    },
)


@dataclass
class _Doc:
    """The parsed config plus what the cross-reference checks need."""

    version: Version
    allow_unknown: bool
    ctx: Ctx
    defined: dict[str, dict[str, ComponentSpec | None]]


def _check_components(doc: Mapping[str, object], state: _Doc) -> list[StrictError]:
    out: list[StrictError] = []
    for kind in KINDS:
        section = doc.get(kind)
        if section is None:
            continue
        if not isinstance(section, dict):
            out.append(err((kind,), f"expected a mapping of component ids, got {type_name(section)}"))
            continue
        for raw_id, body in section.items():
            parsed = split_id(raw_id)
            if parsed is None:
                out.append(
                    err((kind, str(raw_id)), f"invalid component id {raw_id!r} (expected type[/name])")
                )
                continue
            spec, why = lookup(kind, parsed[0], state.version)
            state.defined[kind][raw_id] = spec
            if spec is not None:
                out += spec.schema.check(body, (kind, raw_id), state.ctx)
            elif why:
                out.append(err((kind, raw_id), f'unknown type: "{parsed[0]}" for id: "{raw_id}" ({why})'))
            elif parsed[0] == "logging" and kind == "exporters":
                out.append(
                    err(
                        (kind, raw_id),
                        "the logging exporter has been removed, use the debug exporter instead",
                    )
                )
            elif not state.allow_unknown:
                out.append(err((kind, raw_id), f'unknown type: "{parsed[0]}" for id: "{raw_id}"'))
    for conn in state.defined["connectors"]:
        for other in ("exporters", "receivers"):
            if conn in state.defined[other]:
                out.append(
                    err(("connectors", conn), f"ambiguous ID: found both {other[:-1]} and connector '{conn}'")
                )
    return out


_PIPELINE = Obj(
    "pipeline",
    {
        "receivers": ListOf(Str(non_empty=True)),
        "processors": ListOf(Str(non_empty=True)),
        "exporters": ListOf(Str(non_empty=True)),
    },
)


def _as_ids(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return [str(item) for item in value] if isinstance(value, list) else []


def _check_pipeline(pid: str, body: Mapping[str, object], state: _Doc) -> list[StrictError]:
    loc: Loc = ("service", "pipelines", pid)
    signal = pid.partition("/")[0]
    out: list[StrictError] = []
    refs = {role: _as_ids(body.get(role)) for role in ("receivers", "processors", "exporters")}
    for role in ("receivers", "exporters"):
        if not refs[role]:
            out.append(err((*loc, role), f"must have at least one {role[:-1]}"))
    sources = {
        "receivers": ("receivers", "connectors"),
        "processors": ("processors",),
        "exporters": ("exporters", "connectors"),
    }
    for role, ids in refs.items():
        for index, ref in enumerate(ids):
            kinds = [k for k in sources[role] if ref in state.defined[k]]
            if not kinds:
                out.append(
                    err((*loc, role, index), f'references {role[:-1]} "{ref}" which is not configured')
                )
                continue
            spec = state.defined[kinds[0]][ref]
            if kinds[0] != "connectors" and spec is not None and signal not in spec.signals:
                out.append(
                    err((*loc, role, index), f'{role[:-1]} "{ref}" does not support the {signal} signal')
                )
        if role == "processors" and len(set(ids)) != len(ids):
            dupes = sorted({r for r in ids if ids.count(r) > 1})
            out.append(err((*loc, role), f"references processor {dupes} multiple times"))
    if LINT_MEMORY_LIMITER_FIRST in state.ctx.lints:
        for index, ref in enumerate(refs["processors"]):
            if ref.partition("/")[0] == "memory_limiter" and index != 0:
                out.append(
                    err(
                        (*loc, "processors", index),
                        f"lint({LINT_MEMORY_LIMITER_FIRST}): memory_limiter must be the first processor",
                    )
                )
    return out


def _check_connectors(pipelines: Mapping[str, Mapping[str, object]], state: _Doc) -> list[StrictError]:
    out: list[StrictError] = []
    for conn, spec in state.defined["connectors"].items():
        as_exporter = [p for p, body in pipelines.items() if conn in _as_ids(body.get("exporters"))]
        as_receiver = [p for p, body in pipelines.items() if conn in _as_ids(body.get("receivers"))]
        loc: Loc = ("connectors", conn)
        if not as_exporter and not as_receiver:
            continue
        if spec is None:
            routes = {(a.partition("/")[0], b.partition("/")[0]) for a in as_exporter for b in as_receiver}
        else:
            routes = set(spec.routes)
        for pid in as_exporter:
            signal = pid.partition("/")[0]
            if not any(a == signal and b in {r.partition("/")[0] for r in as_receiver} for a, b in routes):
                out.append(
                    err(
                        loc,
                        f'connector "{conn}" used as exporter in {pid} pipeline but not used in any '
                        "supported receiver pipeline",
                    )
                )
        for pid in as_receiver:
            signal = pid.partition("/")[0]
            if not any(b == signal and a in {e.partition("/")[0] for e in as_exporter} for a, b in routes):
                out.append(
                    err(
                        loc,
                        f'connector "{conn}" used as receiver in {pid} pipeline but not used in any '
                        "supported exporter pipeline",
                    )
                )
    return out


def _check_service(service: object, state: _Doc) -> list[StrictError]:
    if not isinstance(service, dict):
        return [err(("service",), f"expected a mapping, got {type_name(service)}")]
    out: list[StrictError] = []
    for key in service:
        if key not in ("extensions", "pipelines", "telemetry"):
            out.append(err(("service", str(key)), f"has invalid keys: {key} (not a field of service)"))
    extensions = _as_ids(service.get("extensions"))
    for index, ref in enumerate(extensions):
        if ref not in state.defined["extensions"]:
            out.append(
                err(("service", "extensions", index), f'references extension "{ref}" which is not configured')
            )
        elif extensions.index(ref) != index:
            out.append(err(("service", "extensions", index), f'references extension "{ref}" multiple times'))
    out += TELEMETRY.check(service.get("telemetry"), ("service", "telemetry"), state.ctx)
    pipelines = service.get("pipelines")
    if not isinstance(pipelines, dict) or not pipelines:
        return [*out, err(("service", "pipelines"), "service must have at least one pipeline")]
    clean: dict[str, Mapping[str, object]] = {}
    for pid, body in pipelines.items():
        ptype = split_id(pid)
        if ptype is None or ptype[0] not in SIGNALS:
            out.append(
                err(
                    ("service", "pipelines", str(pid)),
                    f"invalid pipeline id {pid!r} (traces|metrics|logs[/name])",
                )
            )
            continue
        shape = _PIPELINE.check(body, ("service", "pipelines", pid), state.ctx)
        out += shape
        if not shape:
            clean[pid] = body or {}
            out += _check_pipeline(pid, clean[pid], state)
    return out + _check_connectors(clean, state)


def validate_collector_config(
    doc: object,
    version: Version,
    *,
    allow_unknown_components: bool = False,
    lints: Collection[str] = ALL_LINTS,
) -> list[StrictError]:
    """Check a parsed collector config the way ``otelcol-contrib validate`` of ``version`` would.

    Unknown keys, wrong scalar types, bad Go durations, component Validate() rules, dangling pipeline
    references and connector wiring are errors. With ``allow_unknown_components`` a component of an
    unmodelled type is accepted without field checks (its references are still checked). ``lints``
    selects obsgen-only rules reported as ``lint(<name>): ...``; pass ``()`` for upstream behaviour.
    """
    if not isinstance(doc, dict):
        return [err((), f"expected a mapping at the top level, got {type_name(doc)}")]
    out = [
        err((str(k),), f"has invalid keys: {k} (not a top-level section)")
        for k in doc
        if k not in TOP_LEVEL_KEYS
    ]
    extension_ids = frozenset(doc["extensions"]) if isinstance(doc.get("extensions"), dict) else frozenset()
    state = _Doc(
        version=version,
        allow_unknown=allow_unknown_components,
        ctx=replace(_ctx(version, lints), extensions=extension_ids),
        defined={kind: {} for kind in KINDS},
    )
    out += _check_components(doc, state)
    if not state.defined["receivers"]:
        out.append(err(("receivers",), "no receiver configuration specified in config"))
    if not state.defined["exporters"]:
        out.append(err(("exporters",), "no exporter configuration specified in config"))
    out += _check_service(doc.get("service"), state)
    return _sorted(out)
