"""Helpers shared by the Grafana provisioning files (datasources, dashboard provider)."""

from __future__ import annotations

from obsgen.emit.escape import grafana_provisioning


def escape_strings(value: object) -> object:
    """Escape every string of plain data for a provisioning file, keys too (Grafana expands the whole file).

    Data is built with the literal ``$`` Grafana should end up with and escaped once, here.
    """
    if isinstance(value, str):
        return grafana_provisioning(value)
    if isinstance(value, dict):
        return {escape_strings(k): escape_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [escape_strings(v) for v in value]
    return value
