"""The result cache answers an unchanged spec without rendering, and never hides a change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen import cli, generate
from tests.conftest import ROOT


@pytest.fixture
def cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OBSGEN_NO_CACHE", "0")
    monkeypatch.setenv("OBSGEN_CACHE_DIR", str(tmp_path / "cache"))
    spec = tmp_path / "shop.yaml"
    shutil.copy(ROOT / "specs" / "shop.yaml", spec)
    monkeypatch.chdir(tmp_path)
    return spec


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _no_render(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object, **__: object) -> None:
        raise AssertionError("rendered although the cache should have answered")

    monkeypatch.setattr(generate, "generate", fail)


def test_unchanged_spec_and_output_are_answered_from_the_cache(cached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run("render", str(cached))[0] == 0
    _no_render(monkeypatch)
    code, out, err = _run("render", "--check", str(cached))
    assert (code, out) == (0, "") and "up to date" in err


def test_validate_is_answered_from_the_cache(cached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _run("validate", "--format", "json", str(cached))
    assert first[0] == 0
    _no_render(monkeypatch)
    assert _run("validate", "--format", "json", str(cached)) == first


def test_a_hand_edit_is_noticed_despite_the_cache(cached: Path) -> None:
    assert _run("render", str(cached))[0] == 0
    topology = Path("generated/shop/topology.md")
    topology.write_text(topology.read_text() + "edited\n")
    code, out, _ = _run("render", "--check", str(cached))
    assert code == 1 and "-edited" in out


def test_a_changed_spec_is_rendered_again(cached: Path) -> None:
    assert _run("render", str(cached))[0] == 0
    cached.write_text(cached.read_text().replace("availability: 99.5", "availability: 99.6"))
    code, out, _ = _run("render", "--check", str(cached))
    assert code == 1 and "99.6" in out


def test_cached_warnings_still_fail_strict(cached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached.write_text(cached.read_text().replace("source: collector", "source: tempo"))
    assert _run("render", str(cached))[0] == 0
    _no_render(monkeypatch)
    code, _, err = _run("render", "--check", "--strict", str(cached))
    assert code == 1 and "OBS406" in err
