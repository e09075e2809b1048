"""composecheck refuses what would break ``docker compose up``: negative cases on a copy of generated/shop."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from obsgen.targets.compose import images
from tests.compose.conftest import run_check
from tests.compose.test_compose_files import CASES, plan_of

SHOP_SPEC, SHOP = CASES[0]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    folder = tmp_path / "shop"
    shutil.copytree(SHOP, folder)
    return folder


def edit(folder: Path, change: Callable[[dict[str, dict[str, dict[str, object]]]], None]) -> Path:
    compose_file = folder / "docker-compose.yaml"
    data = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    change(data)
    compose_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return compose_file


def test_the_unchanged_copy_passes(composecheck: str, shop: Path) -> None:
    checked = run_check(composecheck, shop / "docker-compose.yaml", images.pinned(plan_of(SHOP_SPEC)))
    assert (checked.code, checked.problems) == (0, [])
    assert checked.stdout.startswith("ok: 6 services")


def test_a_missing_mount_source_fails(composecheck: str, shop: Path) -> None:
    (shop / "tempo" / "tempo.yaml").unlink()
    checked = run_check(composecheck, shop / "docker-compose.yaml")
    assert checked.code == 1
    assert checked.problems == [f"tempo: bind mount source {shop}/tempo/tempo.yaml does not exist "
                                "(-> /etc/tempo/tempo.yaml)"]


def test_a_missing_mounted_directory_fails(composecheck: str, shop: Path) -> None:
    shutil.rmtree(shop / "grafana" / "dashboards")
    checked = run_check(composecheck, shop / "docker-compose.yaml")
    assert checked.code == 1
    assert checked.problems == [f"grafana: bind mount source {shop}/grafana/dashboards does not exist "
                                "(-> /var/lib/grafana/dashboards)"]


def test_a_host_port_clash_fails(composecheck: str, shop: Path) -> None:
    def clash(data: dict[str, dict[str, dict[str, object]]]) -> None:
        data["services"]["grafana"]["ports"][0]["published"] = "9090"  # type: ignore[index]

    checked = run_check(composecheck, edit(shop, clash))
    assert checked.code == 1
    assert checked.problems == ["prometheus: host port 9090/tcp is already published by grafana"]


def test_a_port_on_every_address_clashes_with_loopback(composecheck: str, shop: Path) -> None:
    def clash(data: dict[str, dict[str, dict[str, object]]]) -> None:
        data["services"]["loki"]["ports"] = ["4317:3100"]

    checked = run_check(composecheck, edit(shop, clash))
    assert checked.code == 1
    assert checked.problems == ["otel-collector: host port 4317/tcp is already published by loki"]


def test_replicas_publishing_a_port_clash(composecheck: str, shop: Path) -> None:
    def scale(data: dict[str, dict[str, dict[str, object]]]) -> None:
        data["services"]["tempo"]["deploy"] = {"replicas": 2}

    checked = run_check(composecheck, edit(shop, scale))
    assert checked.code == 1
    assert checked.problems == ["tempo: publishes host port 3200 but runs 2 replicas: they clash"]


@pytest.mark.parametrize(("image", "problem"), [
    ("grafana/tempo:latest", "tempo: image grafana/tempo:latest is not pinned (latest)"),
    ("grafana/tempo", "tempo: image grafana/tempo has no tag (Docker pulls latest)"),
    ("localhost:5000/grafana/tempo", "tempo: image localhost:5000/grafana/tempo has no tag (Docker pulls latest)"),
    ("grafana/tempo:2.9.0", "tempo: image grafana/tempo:2.9.0 should be grafana/tempo:2.10.8 (the spec's stack)"),
])
def test_an_unpinned_or_other_image_fails(composecheck: str, shop: Path, image: str, problem: str) -> None:
    def unpin(data: dict[str, dict[str, dict[str, object]]]) -> None:
        data["services"]["tempo"]["image"] = image

    checked = run_check(composecheck, edit(shop, unpin), images.pinned(plan_of(SHOP_SPEC)))
    assert checked.code == 1
    assert checked.problems == [problem]


def test_what_compose_go_rejects_is_reported(composecheck: str, shop: Path) -> None:
    def unknown(data: dict[str, dict[str, dict[str, object]]]) -> None:
        data["services"]["grafana"]["depends_on"]["tempo"]["condition"] = "service_ready"  # type: ignore[index]

    checked = run_check(composecheck, edit(shop, unknown))
    assert checked.code == 2
    assert checked.stderr.startswith("compose-go: validating ")
    assert "depends_on.tempo.condition value must be one of" in checked.stderr
