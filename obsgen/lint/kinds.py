"""The config kinds ``obsgen lint`` knows: how each is told from its content and which strict model checks it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from obsgen.check.strict import StrictError
from obsgen.lint import (
    COLLECTOR,
    DASHBOARD,
    DASHBOARD_PROVIDER,
    DATASOURCES,
    KINDS,
    PROMETHEUS_RULES,
    TEMPO,
)
from obsgen.spec.models import Stack
from obsgen.spec.versions import version_tuple

__all__ = ["KINDS", "Options", "checker", "describe_unknown", "detect", "tempo_major"]

# Kinds whose tool reads YAML with gopkg.in/yaml.v2 (YAML 1.1 scalars); the others use yaml.v3 (1.2).
YAML_11_KINDS = frozenset({TEMPO})

_COLLECTOR_SECTIONS = frozenset({"receivers", "processors", "exporters", "connectors", "extensions"})
# Top-level blocks of Tempo's config struct (cmd/tempo/app/config.go) that no other kind has.
_TEMPO_KEYS = frozenset({
    "target", "http_api_prefix", "stream_over_http_enabled", "multitenancy_enabled", "use_otel_tracer", "server",
    "distributor", "ingester", "compactor", "querier", "query_frontend", "metrics_generator", "storage",
    "overrides", "memberlist", "usage_report", "cache", "live_store", "block_builder", "backend_scheduler",
    "backend_worker", "ingest", "internal_server", "autocomplete_filtering_enabled",
})
# Blocks that exist in only one Tempo major (2.x has ingester/compactor; 3.x replaced them).
_TEMPO_2_ONLY = frozenset({"ingester", "compactor"})
_TEMPO_3_ONLY = frozenset({"live_store", "block_builder", "backend_scheduler", "backend_worker", "ingest"})


@dataclass(frozen=True)
class Options:
    """Versions the files are checked against, and how strictly."""

    collector_version: tuple[int, int, int] = version_tuple(Stack().collector)
    tempo_major: int | None = None  # None: told from the file, else the spec's default Tempo
    allow_unknown_components: bool = False


def detect(keys: Sequence[str], is_json: bool) -> str | None:
    """The kind of a document from its top-level keys; ``None`` when it is none of the known kinds."""
    found = set(keys)
    if is_json:
        return DASHBOARD if {"panels", "schemaVersion", "title"} & found else None
    if "service" in found and found & _COLLECTOR_SECTIONS:
        return COLLECTOR
    if "apiVersion" in found or {"datasources", "providers", "deleteDatasources"} & found:
        if "providers" in found:
            return DASHBOARD_PROVIDER
        if {"datasources", "deleteDatasources"} & found:
            return DATASOURCES
    if found == {"groups"} or ("groups" in found and not found & _TEMPO_KEYS):
        return PROMETHEUS_RULES
    if found and found <= _TEMPO_KEYS | {"metrics_generator_enabled", "search_enabled"}:
        return TEMPO
    if {"receivers", "exporters"} <= found:
        return COLLECTOR
    return None


def describe_unknown(keys: Sequence[str]) -> str:
    """Why a document's kind cannot be told, naming what it looks like when that is clear."""
    found = set(keys)
    if {"rule_files", "tests"} & found:
        return "this looks like a promtool unit-test file; lint checks rule files (pass them instead)"
    if not found:
        return "the document has no top-level keys to tell its kind from"
    shown = ", ".join(sorted(found)[:6])
    return f"none of the known kinds has these top-level keys: {shown}"


def tempo_major(keys: Sequence[str], options: Options) -> int:
    """The Tempo major a file is checked against: ``--tempo-version``, else told by 2.x/3.x-only blocks."""
    if options.tempo_major is not None:
        return options.tempo_major
    found = set(keys)
    if found & _TEMPO_2_ONLY and not found & _TEMPO_3_ONLY:
        return 2
    if found & _TEMPO_3_ONLY and not found & _TEMPO_2_ONLY:
        return 3
    return version_tuple(Stack().tempo)[0]


def checker(kind: str, keys: Sequence[str], options: Options) -> Callable[[object], list[StrictError]]:
    """The strict model for ``kind``, with the versions from ``options``."""
    if kind == COLLECTOR:
        from obsgen.targets.collector.strict.config import validate_collector_config

        return lambda doc: validate_collector_config(
            doc, options.collector_version, allow_unknown_components=options.allow_unknown_components
        )
    if kind == TEMPO:
        from obsgen.targets.tempo.strict import validate_tempo_config

        major = tempo_major(keys, options)
        return lambda doc: validate_tempo_config(doc, major)
    from obsgen.targets.grafana import strict as grafana
    from obsgen.targets.prometheus import strict as prometheus

    table: dict[str, Callable[[object], list[StrictError]]] = {
        DATASOURCES: grafana.validate_datasources_file,
        DASHBOARD_PROVIDER: grafana.validate_dashboard_provider_file,
        DASHBOARD: grafana.validate_dashboard,
        PROMETHEUS_RULES: prometheus.check_rule_file,
    }
    return table[kind]
