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
otlp_exporter              otlp -> otlp_grpc                       v0.144.0   core CHANGELOG v1.50.0/v0.144.0
otlphttp_exporter          otlphttp -> otlp_http                   v0.144.0   core CHANGELOG (#14403, #14396)
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

from collections.abc import Collection

from obsgen.check.strict import StrictError
from obsgen.targets.collector.strict.contrib import LOAD_BALANCING, SERVICE_GRAPH, SPAN_METRICS
from obsgen.targets.collector.strict.registry import KINDS, TOP_LEVEL_KEYS, component_ids
from obsgen.targets.collector.strict.schema import (
    ALL_LINTS,
    LINT_COMPOSITE_RATE_ALLOCATION,
    LINT_MEMORY_LIMITER_FIRST,
    Ctx,
    Version,
    err,
    type_name,
    unescape_dollars,
)
from obsgen.targets.collector.strict.service import DocState, check_components, check_service
from obsgen.targets.collector.strict.tailsampling import TAIL_SAMPLING

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


def _ctx(version: Version, lints: Collection[str], extensions: frozenset[str] | None = None) -> Ctx:
    """Build the check context, refusing lint names that do not exist (a typo would silently disable)."""
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
    # Component bodies are checked as the Collector decodes them: after `$$` -> `$`.
    doc = unescape_dollars(doc)
    assert isinstance(doc, dict)
    out = [
        err((str(k),), f"has invalid keys: {k} (not a top-level section)")
        for k in doc
        if k not in TOP_LEVEL_KEYS
    ]
    extension_ids = frozenset(doc["extensions"]) if isinstance(doc.get("extensions"), dict) else frozenset()
    state = DocState(
        version=version,
        allow_unknown=allow_unknown_components,
        ctx=_ctx(version, lints)._replace(extensions=extension_ids),
        defined={kind: {} for kind in KINDS},
    )
    out += check_components(doc, state)
    if not state.defined["receivers"]:
        out.append(err(("receivers",), "no receiver configuration specified in config"))
    if not state.defined["exporters"]:
        out.append(err(("exporters",), "no exporter configuration specified in config"))
    out += check_service(doc.get("service"), state)
    return _sorted(out)
