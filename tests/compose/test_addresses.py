"""Every address a rendered config uses resolves inside compose to a service that listens on that port."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.compose.test_compose_files import CASES, NOT_RUNNABLE
from tests.compose.wiring import assert_addresses_resolve, used_addresses

RUNNABLE = [c for c in CASES if c[0].stem not in NOT_RUNNABLE]


@pytest.mark.parametrize(("spec", "folder"), RUNNABLE, ids=[c[0].stem for c in RUNNABLE])
def test_every_address_resolves_to_a_listening_service(composecheck: str, spec: Path, folder: Path) -> None:
    assert_addresses_resolve(composecheck, folder)


def test_two_tier_addresses_resolve(composecheck: str, two_tier_dns: tuple[Path, Path]) -> None:
    _, folder = two_tier_dns
    assert_addresses_resolve(composecheck, folder)


def test_an_address_no_service_answers_is_caught(composecheck: str, tmp_path: Path) -> None:
    folder = tmp_path / "shop"
    shutil.copytree(CASES[0][1], folder)
    assert {host for _, host, _ in used_addresses(folder)} == {"tempo", "prometheus", "loki", "otel-collector"}
    datasources = folder / "grafana" / "provisioning" / "datasources" / "datasources.yaml"
    text = datasources.read_text(encoding="utf-8")
    datasources.write_text(text.replace("url: http://loki:3100", "url: http://logs:3100"), encoding="utf-8")
    with pytest.raises(AssertionError, match="logs:3100 is no compose service"):
        assert_addresses_resolve(composecheck, folder)
    datasources.write_text(text.replace("url: http://loki:3100", "url: http://loki:3101"), encoding="utf-8")
    with pytest.raises(AssertionError, match="loki does not listen on 3101"):
        assert_addresses_resolve(composecheck, folder)
