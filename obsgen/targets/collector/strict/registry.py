"""Registry of the component types obsgen models: ids across the renames, schemas, pipeline signals."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from obsgen.targets.collector.strict.contrib import (
    FILE_EXPORTER,
    FORWARD,
    LOAD_BALANCING,
    PROMETHEUS_EXPORTER,
    PROMETHEUS_REMOTE_WRITE,
    SERVICE_GRAPH,
    SPAN_METRICS,
)
from obsgen.targets.collector.strict.core import (
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
from obsgen.targets.collector.strict.schema import Obj, Version, vstr
from obsgen.targets.collector.strict.tailsampling import TAIL_SAMPLING

SIGNALS = ("traces", "metrics", "logs")
ALL_SIGNALS = frozenset(SIGNALS)
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
TOP_LEVEL_KEYS = (*KINDS, "service")


class ComponentSpec(NamedTuple):
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
    ComponentSpec("exporters", "otlp_exporter", "otlp", OTLP_GRPC_EXPORTER, "otlp_grpc", (0, 144, 0)),
    ComponentSpec("exporters", "otlphttp_exporter", "otlphttp", OTLP_HTTP_EXPORTER, "otlp_http", (0, 144, 0)),
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
    ComponentSpec("exporters", "file", "file", FILE_EXPORTER),
    ComponentSpec("extensions", "health_check", "health_check", HEALTH_CHECK),
    ComponentSpec("extensions", "pprof", "pprof", PPROF),
    ComponentSpec("extensions", "zpages", "zpages", ZPAGES),
)


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


def valid_name(name: str) -> bool:
    """``nameRegexp`` of component/identifiable.go and pipeline/pipeline.go (v1.65.0),
    ``^[^\\pZ\\pC\\pS]+$``: no separator, control or symbol character; ``/`` is allowed."""
    return bool(name) and not any(unicodedata.category(c)[0] in "ZCS" for c in name)


def split_id(raw: object) -> tuple[str, str] | None:
    """Split ``type[/name]`` at the first ``/`` like ``component.ID``; ``None`` when it is not a valid id."""
    if not isinstance(raw, str):
        return None
    ctype, sep, name = raw.partition("/")
    if not _TYPE_RE.match(ctype) or (sep and not valid_name(name)):
        return None
    return ctype, name
