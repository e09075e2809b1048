"""What the local stack takes from the other targets: the paths they render, the flags and sizes they chose.

Every fact the compose file repeats comes from the target that decided it, so the compose file cannot drift
from the configs it mounts (one import site, too, for the package layout to move).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from obsgen.plan import Plan
from obsgen.targets.collector.components import (
    HEALTH_CHECK_ENDPOINT,
    OTLP_GRPC_PORT,
    OTLP_HTTP_ENDPOINT,
    SCRAPE_ENDPOINT,
    TELEMETRY_PORT,
)
from obsgen.targets.collector.target import DIRECTORY as COLLECTOR_DIRECTORY
from obsgen.targets.collector.values import memory_sizing
from obsgen.targets.grafana.dashboards.uids import DASHBOARDS_DIR, dashboard_file
from obsgen.targets.grafana.datasources import PATH as DATASOURCES_PATH
from obsgen.targets.grafana.provider import PATH as DASHBOARD_PROVIDER_PATH
from obsgen.targets.prometheus.config import PATH as PROMETHEUS_CONFIG_PATH
from obsgen.targets.prometheus.config import flags as prometheus_config_flags
from obsgen.targets.tempo.target import PATH as TEMPO_PATH
from obsgen.targets.tempo.target import major_version as tempo_major
from obsgen.targets.tempo.target import uses_expand_env as tempo_expand_env

__all__ = [
    "COLLECTOR_DIRECTORY", "DASHBOARDS_DIR", "DASHBOARD_PROVIDER_PATH", "DATASOURCES_PATH", "OTLP_GRPC_PORT",
    "OTLP_HTTP_PORT", "PROMETHEUS_CONFIG_PATH", "TELEMETRY_PORT", "TEMPO_PATH", "collector_health_port",
    "gomemlimit", "overview_dashboard", "prometheus_flags", "scrape_port", "tempo_expand_env", "tempo_major",
]

OTLP_HTTP_PORT = int(OTLP_HTTP_ENDPOINT.rsplit(":", 1)[1])


def collector_health_port() -> int:
    """Port of the Collector's health_check extension."""
    return int(HEALTH_CHECK_ENDPOINT.rsplit(":", 1)[1])


def scrape_port() -> int:
    """Port the Collector exposes span metrics on with ``metrics_export: scrape``."""
    return int(SCRAPE_ENDPOINT.rsplit(":", 1)[1])


def gomemlimit(plan: Plan, *, tail_sampling: bool = False) -> str:
    """GOMEMLIMIT for a Collector container, as its rendered memory_limiter comment asks for (a tail-sampling
    container's limiter is sized from the plan's sampler limit)."""
    if tail_sampling:
        return f"{plan.sampler_memory.gomemlimit_mib}MiB"
    return f"{memory_sizing(plan.spec.collector.memory_limit_mib).gomemlimit_mib}MiB"


def prometheus_flags(plan: Plan) -> list[str]:
    """The flags the rendered prometheus.yaml header names."""
    return [f.flag for f in prometheus_config_flags(plan) if f.flag is not None]


def overview_dashboard(plan: Plan) -> str:
    """File name of the overview dashboard inside the dashboards directory (Grafana's home dashboard)."""
    return PurePosixPath(dashboard_file(plan, None, "overview")).name
