"""Cross-component checks of a whole collector config: ids, ``service`` pipelines and connector wiring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from obsgen.check.strict import StrictError
from obsgen.targets.collector.strict.registry import KINDS, SIGNALS, ComponentSpec, lookup, split_id
from obsgen.targets.collector.strict.schema import (
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
)


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


class DocState(NamedTuple):
    """The parsed config plus what the cross-reference checks need."""

    version: Version
    allow_unknown: bool
    ctx: Ctx
    defined: dict[str, dict[str, ComponentSpec | None]]


def check_components(doc: Mapping[str, object], state: DocState) -> list[StrictError]:
    """Check every component section: ids, known types for the version, and each modelled body."""
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


# []component.ID, not []string: a comma-separated string is not split (confmap's StringToSliceHookFunc
# only targets []string), so it is refused ("source data must be an array or slice, got string").
_IDS = ListOf(Str(non_empty=True), split=False)
_PIPELINE = Obj("pipeline", {"receivers": _IDS, "processors": _IDS, "exporters": _IDS})


def _as_ids(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",")]
    return [str(item) for item in value] if isinstance(value, list) else []


def _check_pipeline(pid: str, body: Mapping[str, object], state: DocState) -> list[StrictError]:
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


def _check_connectors(pipelines: Mapping[str, Mapping[str, object]], state: DocState) -> list[StrictError]:
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
        reversed_routes = {(b, a) for a, b in routes}
        out += _unpaired(conn, loc, as_exporter, as_receiver, routes, ("exporter", "receiver"))
        out += _unpaired(conn, loc, as_receiver, as_exporter, reversed_routes, ("receiver", "exporter"))
    return out


def _unpaired(conn: str, loc: Loc, mine: list[str], theirs: list[str], routes: set[tuple[str, str]],
              roles: tuple[str, str]) -> list[StrictError]:
    """A connector in pipelines ``mine`` (as ``roles[0]``) needs a supported route (this signal -> other
    signal) to one of ``theirs``; the Collector checks both sides the same way."""
    other_signals = {p.partition("/")[0] for p in theirs}
    return [
        err(loc, f'connector "{conn}" used as {roles[0]} in {pid} pipeline but not used in any '
                 f"supported {roles[1]} pipeline")
        for pid in mine
        if not any(a == pid.partition("/")[0] and b in other_signals for a, b in routes)
    ]


def check_service(service: object, state: DocState) -> list[StrictError]:
    """Check ``service``: extensions, telemetry, pipelines and connector wiring against ``state``."""
    if not isinstance(service, dict):
        return [err(("service",), f"expected a mapping, got {type_name(service)}")]
    out: list[StrictError] = []
    for key in service:
        if key not in ("extensions", "pipelines", "telemetry"):
            out.append(err(("service", str(key)), f"has invalid keys: {key} (not a field of service)"))
    shape = _IDS.check(service.get("extensions"), ("service", "extensions"), state.ctx)
    out += shape
    extensions = [] if shape else _as_ids(service.get("extensions"))
    # otelcol/config.go Validate (v0.159.0) checks that each is configured; listing one twice is accepted
    for index, ref in enumerate(extensions):
        if ref not in state.defined["extensions"]:
            out.append(
                err(("service", "extensions", index), f'references extension "{ref}" which is not configured')
            )
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
