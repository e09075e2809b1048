"""Pieces of a panel's ``fieldConfig``: threshold steps and per-field overrides, as Grafana stores them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from obsgen.targets.grafana.dashboards.query_targets import Json


def threshold_steps(base: str, steps: Sequence[tuple[float, str]] = ()) -> list[Json]:
    """Absolute threshold steps: ``base`` colour below the first value, then each (value, colour).

    Grafana stores the base step with ``"value": null`` (it applies from minus infinity).
    """
    return [{"color": base, "value": None}] + [{"color": color, "value": value} for value, color in steps]


def absolute_thresholds(steps: Sequence[Json]) -> Json:
    """``fieldConfig.defaults.thresholds``: ``steps`` compared with the field's absolute values."""
    return {"mode": "absolute", "steps": list(steps)}


def override(matcher: Literal["byName", "byRegexp", "byFrameRefID"], name: str, **properties: object) -> Json:
    """A fieldConfig override: ``properties`` map Grafana property ids (dots as ``__``) to values."""
    return {
        "matcher": {"id": matcher, "options": name},
        "properties": [{"id": key.replace("__", "."), "value": value} for key, value in sorted(properties.items())],
    }
