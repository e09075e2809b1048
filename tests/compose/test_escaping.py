"""Spec text in the compose file reads back exactly through compose-go's interpolation (``$`` doubled)."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsgen import output
from obsgen.emit.escape import compose_value
from obsgen.generate import generate
from tests.compose.conftest import loaded_project

SPEC = """name: dollar
backends:
  grafana:
    dashboards_path: {path}
services:
  api:
    endpoints: [GET /]
"""


def test_compose_value_doubles_every_dollar() -> None:
    assert compose_value("a$b$$c${d}") == "a$$b$$$$c$${d}"


@pytest.mark.parametrize(("path", "home_set"), [
    ("/var/lib/grafana/d$HOME$$x$", True),
    ("/var/lib/grafana/d${X:-y}$__env{HOME}", False),  # Grafana would expand these in the setting
])
def test_dashboards_path_reads_back_literally(composecheck: str, tmp_path: Path, path: str, home_set: bool) -> None:
    spec = tmp_path / "dollar.yaml"
    spec.write_text(SPEC.format(path=f"'{path}'"), encoding="utf-8")
    result = generate(spec, spec.name)
    assert result.ok, [d.format() for d in result.diagnostics]
    output.write(tmp_path / "out", result.artifacts)
    project = loaded_project(composecheck, tmp_path / "out" / "docker-compose.yaml",
                             env={"HOME": "/root", "X": "interpolated"})
    grafana = project["services"]["grafana"]  # type: ignore[index]
    assert path in [v["target"] for v in grafana["volumes"]]
    home = grafana["environment"].get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    assert home == (f"{path}/dollar-overview.json" if home_set else None)
    warnings = [d for d in result.diagnostics if d.code == "OBS330"]
    assert [(d.path, d.line, d.extra) for d in warnings] == ([] if home_set else [(
        "backends.grafana.dashboards_path", 4,
        {"omitted": "docker-compose.yaml",
         "setting": "services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"})])
