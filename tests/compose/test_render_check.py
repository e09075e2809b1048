"""The compose artifact's own check (run on every render before anything is written) catches what compose-go
would load without complaint but ``docker compose up`` would trip over."""

from __future__ import annotations

import copy

import pytest
import yaml

from obsgen.targets.compose.strict import check_compose
from tests.conftest import ROOT

SHOP = yaml.safe_load((ROOT / "generated" / "shop" / "docker-compose.yaml").read_text(encoding="utf-8"))


def test_the_rendered_file_passes() -> None:
    assert check_compose(SHOP) == []


@pytest.mark.parametrize(("path", "value", "message"), [
    (("tempo", "image"), "grafana/tempo:latest", "services.tempo.image: image grafana/tempo:latest is not pinned"),
    (("tempo", "image"), "grafana/tempo", "services.tempo.image: image grafana/tempo has no tag"),
    (("tempo", "volumes", 0, "read_only"), False, "services.tempo.volumes[0]: every mount is a read-only bind"),
    (("grafana", "ports", 0, "host_ip"), "0.0.0.0", "services.grafana.ports[0]: published ports bind 127.0.0.1"),
    (("grafana", "depends_on", "loki"), {"condition": "service_healthy"}, None),
])
def test_a_broken_file_is_refused(path: tuple[object, ...], value: object, message: str | None) -> None:
    doc = copy.deepcopy(SHOP)
    node = doc["services"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    errors = [f"{e.path}: {e.message}" for e in check_compose(doc)]
    if message is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].startswith(message), errors


def test_waiting_for_health_needs_a_health_check() -> None:
    doc = copy.deepcopy(SHOP)
    del doc["services"]["tempo"]["healthcheck"]
    errors = [f"{e.path}: {e.message}" for e in check_compose(doc)]
    assert errors == ["services.otel-collector.depends_on.tempo: waits for tempo to be healthy, which has no "
                      "healthcheck", "services.grafana.depends_on.tempo: waits for tempo to be healthy, which "
                      "has no healthcheck"]
    doc["services"]["grafana"]["depends_on"]["mimir"] = {"condition": "service_started"}
    assert "services.grafana.depends_on.mimir: depends on a service that does not exist" in [
        f"{e.path}: {e.message}" for e in check_compose(doc)]
