"""The result cache answers an unchanged spec without rendering, and never hides a change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen import cli, generate
from obsgen.output import cache
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


# ------------------------------------------------------------------------------------------------
# Fingerprint, entry validation and size bounds


def test_the_dependency_list_covers_every_runtime_distribution() -> None:
    """_DEPENDENCIES must name every distribution obsgen's requirements pull in, transitively."""
    import importlib.metadata as md
    import re

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "_", name).lower()

    seen: set[str] = set()
    todo = [req for req in md.requires("obsgen") or [] if "extra ==" not in req]
    while todo:
        req = todo.pop()
        if ";" in req and "extra ==" in req:
            continue
        name = norm(re.match(r"[A-Za-z0-9._-]+", req).group())  # type: ignore[union-attr]
        if name in seen:
            continue
        seen.add(name)
        try:
            todo += [r for r in md.requires(name) or [] if "extra ==" not in r]
        except md.PackageNotFoundError:
            seen.discard(name)  # an optional marker for another platform or Python
    covered = {norm(cache._DISTRIBUTION_NAMES.get(n, n)) for n in cache._DEPENDENCIES}
    assert seen - covered == set()


def test_a_change_deep_inside_a_dependency_changes_the_fingerprint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only __init__.py, and even with size and mtime put back (issue 14)."""
    site = tmp_path / "site"
    (site / "fakedep").mkdir(parents=True)
    (site / "fakedep" / "__init__.py").write_text("")
    impl = site / "fakedep" / "impl.py"
    impl.write_text("VALUE = 1\n")
    (site / "fakedep-1.0.dist-info").mkdir()
    (site / "fakedep-1.0.dist-info" / "RECORD").write_text("fakedep/__init__.py,,\nfakedep/impl.py,,\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(cache, "_DEPENDENCIES", (*cache._DEPENDENCIES, "fakedep"))
    cache.code_fingerprint.cache_clear()
    before = cache.code_fingerprint()
    stat = impl.stat()
    impl.write_text("VALUE = 2\n")
    import os

    os.utime(impl, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    cache.code_fingerprint.cache_clear()
    cache._listing.cache_clear()
    assert cache.code_fingerprint() != before
    cache.code_fingerprint.cache_clear()


def test_the_code_fingerprint_covers_every_file_of_obsgen() -> None:
    """Every module, wherever the cache module itself lives (a layout move once left the
    fingerprint covering obsgen/output/ alone, so a cached render --check answered for old code)."""
    import obsgen

    package = Path(obsgen.__file__).resolve().parent
    expected = {p.resolve() for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    covered = {path.resolve() for _, path in cache.code_files()}
    assert expected - covered == set()
    assert any(p.suffix == ".py" and "targets" in p.parts for p in covered)


def test_editing_any_module_changes_the_fingerprint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import obsgen

    package = Path(obsgen.__file__).resolve().parent
    copy = tmp_path / "obsgen"
    import shutil

    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_PACKAGE", copy)
    cache.code_fingerprint.cache_clear()
    before = cache.code_fingerprint()
    deep = copy / "targets" / "collector" / "memory.py"
    deep.write_text(deep.read_text() + "\n# edited\n")
    cache.code_fingerprint.cache_clear()
    assert cache.code_fingerprint() != before
    cache.code_fingerprint.cache_clear()


def test_the_spec_read_limit_lets_the_loader_see_an_oversized_spec() -> None:
    from obsgen.spec.loader import MAX_SPEC_BYTES

    assert cli._SPEC_READ_LIMIT > MAX_SPEC_BYTES


@pytest.fixture
def cache_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("OBSGEN_CACHE_DIR", str(root))
    return root


SERIES = {"total": 1, "span_metrics": 1, "service_graph": 0, "recording_rules": 0, "rules_read_per_evaluation": 0}


def test_an_entry_is_bound_to_its_key(cache_root: Path) -> None:
    cache.store("a" * 64, "validate", [], SERIES)
    assert cache.lookup("a" * 64, "validate") is not None
    assert cache.lookup("a" * 64, "render") is None  # another command's shape
    (cache_root / f"{'b' * 64}.json").write_bytes((cache_root / f"{'a' * 64}.json").read_bytes())
    assert cache.lookup("b" * 64, "validate") is None


@pytest.mark.parametrize("mutate", [
    lambda e: {**e, "series": {**e["series"], "total": -1}},
    lambda e: {**e, "series": {**e["series"], "total": 2}},  # digest no longer matches
    lambda e: {**e, "extra": 1},
    lambda e: {k: v for k, v in e.items() if k != "digest"},
    lambda e: [e],
])
def test_an_odd_entry_is_a_miss(cache_root: Path, mutate: object) -> None:
    import json

    cache.store("a" * 64, "validate", [], SERIES)
    path = cache_root / f"{'a' * 64}.json"
    path.write_text(json.dumps(mutate(json.loads(path.read_text()))))  # type: ignore[operator]
    assert cache.lookup("a" * 64, "validate") is None


def test_a_cache_others_can_write_is_not_used(cache_root: Path) -> None:
    cache.store("a" * 64, "validate", [], SERIES)
    cache_root.chmod(0o777)
    assert cache.lookup("a" * 64, "validate") is None
    cache.store("c" * 64, "validate", [], SERIES)
    assert not (cache_root / f"{'c' * 64}.json").exists()


def test_an_oversized_entry_is_neither_stored_nor_read(cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 300)
    files = {f"f{i}.yaml": "0" * 64 for i in range(10)} | {"obsgen-manifest.json": "0" * 64}
    cache.store("a" * 64, "render", [], files)
    assert not (cache_root / f"{'a' * 64}.json").exists()
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 1 << 20)
    cache.store("a" * 64, "render", [], files)
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 300)
    assert cache.lookup("a" * 64, "render") is None


def test_least_recently_used_entries_are_evicted(cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    cache.store("a" * 64, "validate", [], SERIES)
    size = (cache_root / f"{'a' * 64}.json").stat().st_size
    monkeypatch.setattr(cache, "MAX_TOTAL_BYTES", 2 * size)
    cache.store("b" * 64, "validate", [], SERIES)
    for age, name in ((300, "a"), (200, "b")):
        os.utime(cache_root / f"{name * 64}.json", (1_000_000 - age, 1_000_000 - age))
    assert cache.lookup("a" * 64, "validate") is not None  # a hit makes "a" the most recently used
    cache.store("c" * 64, "validate", [], SERIES)
    assert sorted(p.name[0] for p in cache_root.glob("*.json")) == ["a", "c"]
    (cache_root / ".tmp-left-by-a-killed-run").write_text("x")
    os.utime(cache_root / ".tmp-left-by-a-killed-run", (0, 0))
    cache.store("d" * 64, "validate", [], SERIES)
    assert not (cache_root / ".tmp-left-by-a-killed-run").exists()
    assert sum(p.stat().st_size for p in cache_root.iterdir()) <= 2 * size
