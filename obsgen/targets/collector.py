"""Placeholder until the collector target lands."""

from __future__ import annotations

from obsgen.artifacts import Artifact
from obsgen.plan import Plan


def render(plan: Plan) -> list[Artifact]:
    """No artifacts yet."""
    return []
