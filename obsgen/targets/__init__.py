"""Targets: pure functions from a plan to artifacts, one module per artifact family.

A target is registered here by module path and imported only when a render needs it, so
``obsgen validate`` does not pay for the dashboard builders. A new target plugs in with one line.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from obsgen.emit.artifacts import Artifact
from obsgen.plan import Plan

Target = Callable[[Plan], list[Artifact]]

# (name, module); each module defines ``render(plan) -> list[Artifact]``. Order is cosmetic only:
# artifacts are sorted by path before they are written.
REGISTRY: tuple[tuple[str, str], ...] = (
    ("topology", "obsgen.targets.topology.target"),
    ("collector", "obsgen.targets.collector.target"),
    ("tempo", "obsgen.targets.tempo.target"),
    ("datasources", "obsgen.targets.grafana.datasources"),
    ("dashboards", "obsgen.targets.grafana.dashboards.target"),
    ("rules", "obsgen.targets.prometheus.target"),
    ("helm", "obsgen.targets.helm"),
    ("compose", "obsgen.targets.compose.target"),
    ("sampling-report", "obsgen.targets.sampling_report.target"),
)


def load(name: str) -> Target:
    """The render function of the target called ``name``."""
    module = dict(REGISTRY)[name]
    render: Target = importlib.import_module(module).render
    return render


def names() -> list[str]:
    """Registered target names."""
    return [name for name, _ in REGISTRY]
