"""The result cache may save time, never change an answer: a differential test.

Every scenario runs the same sequence of steps twice, in two fresh working directories: once with the
cache on and once with ``OBSGEN_NO_CACHE=1``. After every step both runs must agree on the exit code,
stdout, stderr and the files in the working directory. Steps edit the spec (also during a run, through
a seam around the render), tamper with the output (hand edit, deleted file, extra file), plant entries
in the cache (copied from another key, corrupt, wrong shape, doctored) and change a dependency.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen import cli, generate, targets
from obsgen.emit.artifacts import Artifact
from obsgen.output import cache
from tests.conftest import ROOT

CORPUS = {"shop": ROOT / "specs" / "shop.yaml", "minimal": ROOT / "tests" / "specs" / "minimal.yaml",
          "distributed": ROOT / "tests" / "specs" / "distributed.yaml"}


@dataclass
class World:
    """One working directory: the spec, its output, and (cached mode) the cache directory."""

    root: Path
    spec: Path
    cached: bool

    @property
    def out(self) -> Path:
        return self.root / "generated" / self.spec.stem

    @property
    def cache_dir(self) -> Path:
        return self.root.parent / f"{self.root.name}-cache"


Step = Callable[[World], None]


def _run(world: World, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.chdir(world.root)
    monkeypatch.setenv("OBSGEN_NO_CACHE", "0" if world.cached else "1")
    monkeypatch.setenv("OBSGEN_CACHE_DIR", str(world.cache_dir))
    # every obsgen command is a new process: nothing is remembered between them
    cache.code_fingerprint.cache_clear()
    if hasattr(cache, "_listing"):
        cache._listing.cache_clear()
    result = CliRunner().invoke(cli.main, [*args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------------------
# Steps: each acts on one world; the cached world may hold entries the uncached one has no use for


def edit_spec(old: str, new: str) -> Step:
    def step(world: World) -> None:
        text = world.spec.read_text()
        assert old in text
        world.spec.write_text(text.replace(old, new, 1))
    return step


ADD_SERVICE = edit_spec("services:\n", "services:\n  zz-added: {}\n")
DROP_SERVICE = edit_spec("services:\n  zz-added: {}\n", "services:\n")


def append_spec(text: str) -> Step:
    def step(world: World) -> None:
        world.spec.write_text(world.spec.read_text() + text)
    return step


def hand_edit(world: World) -> None:
    path = world.out / "topology.md"
    path.write_text(path.read_text() + "edited by hand\n")


def delete_file(world: World) -> None:
    (world.out / "topology.md").unlink()


def extra_file(world: World) -> None:
    (world.out / "notes.txt").write_text("mine\n")


def delete_manifest(world: World) -> None:
    (world.out / "obsgen-manifest.json").unlink()


def _entries(world: World) -> list[Path]:
    return sorted(world.cache_dir.glob("*.json")) if world.cache_dir.is_dir() else []


def _current_key(world: World, command: str) -> str:
    cache.code_fingerprint.cache_clear()
    return cache.key(world.spec.read_bytes(), world.spec.name, command)


def plant_copied(world: World) -> None:
    """Every entry there is copied to the keys of the spec as it is now (cp old.json new.json)."""
    for command in ("render", "validate"):
        target = world.cache_dir / f"{_current_key(world, command)}.json"
        for entry in _entries(world):
            if entry != target and json.loads(entry.read_text()).get("command", command) == command:
                shutil.copy(entry, target)


def plant(content: str | Callable[[dict[str, object]], object]) -> Step:
    """Replace the current keys' entries with ``content`` (or a function of the genuine entry)."""
    def step(world: World) -> None:
        if not world.cached:
            return
        for command in ("render", "validate"):
            path = world.cache_dir / f"{_current_key(world, command)}.json"
            if isinstance(content, str):
                path.parent.mkdir(mode=0o700, exist_ok=True)
                path.write_text(content)
            elif path.exists():
                path.write_text(json.dumps(content(json.loads(path.read_text()))))
    return step


def _doctored(entry: dict[str, object]) -> dict[str, object]:
    """The genuine entry with topology.md left out of its files and the digest recomputed: a forger who
    knows the format. The manifest on disk still lists the file, so this must not pass for a hit."""
    if "files" in entry:
        files = dict(entry["files"])  # type: ignore[call-overload]
        files.pop("topology.md", None)
        entry = {**entry, "files": files}
    else:
        entry = {**entry, "diagnostics": [{"code": "OBS999", "message": "planted", "severity": "warning",
                                           "file": "x", "line": 1, "column": 1, "path": "", "hint": ""}]}
    entry["digest"] = cache._digest(entry) if hasattr(cache, "_digest") else ""
    return entry


def _wrong_shape(entry: dict[str, object]) -> object:
    return {**entry, "diagnostics": [{"code": 5}], "files": ["topology.md"], "series": None}


# ------------------------------------------------------------------------------------------------
# An edit while obsgen runs: the seam is the render itself, which the edit happens just before


@pytest.fixture
def edit_during_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Append a text: the next render rewrites the spec file with it just before it parses (the user
    saved another version after obsgen read the file). Cleared after each command (a hit renders nothing)."""
    armed: list[str] = []
    real = generate.generate

    def generate_with_edit(path: Path, *args: object, **kwargs: object) -> generate.Result:
        if armed:
            Path(path).write_text(armed.pop())
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(generate, "generate", generate_with_edit)
    return armed


# ------------------------------------------------------------------------------------------------
# A dependency: a distribution on sys.path whose code shapes the output


@pytest.fixture
def fake_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``fakedep``, installed with a RECORD; its impl.py's text ends up in topology.md. Returns impl.py."""
    site = tmp_path / "site"
    package = site / "fakedep"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from fakedep.impl import VALUE\n")
    (package / "impl.py").write_text('VALUE = "one"\n')
    info = site / "fakedep-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakedep\nVersion: 1.0\n")
    (info / "RECORD").write_text("fakedep/__init__.py,,\nfakedep/impl.py,,\nfakedep-1.0.dist-info/METADATA,,\n"
                                 "fakedep-1.0.dist-info/RECORD,,\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(cache, "_DEPENDENCIES", (*cache._DEPENDENCIES, "fakedep"))
    real_load = targets.load

    def load(name: str) -> targets.Target:
        render = real_load(name)
        if name != "topology":
            return render

        def with_dependency(plan: object) -> list[Artifact]:
            # what the dependency's code makes of the output: its current text on disk
            value = (package / "impl.py").read_text().split('"')[1]
            return [Artifact(a.path, a.text + f"\nrendered with fakedep {value}\n") if a.path == "topology.md"
                    else a for a in render(plan)]  # type: ignore[arg-type]
        return with_dependency

    monkeypatch.setattr(targets, "load", load)
    return package / "impl.py"


def change_dependency(impl: Path) -> Step:
    """An edit deep inside the distribution (not its __init__.py) that keeps size and mtime."""
    def step(world: World) -> None:
        if not world.cached:  # both worlds share the one installation: change it once, before the cached run
            return
        before = impl.stat()
        text = impl.read_text()
        impl.write_text(text.replace('"one"', '"two"') if '"one"' in text else text.replace('"two"', '"one"'))
        os.utime(impl, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert impl.stat().st_size == before.st_size
    return step


# ------------------------------------------------------------------------------------------------
# The driver


CHECK = ("render", "--check")
RENDER = ("render",)
VALIDATE = ("validate",)


def _differential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: Path,
                  steps: list[Step | tuple[str, ...]], after_command: Callable[[], None] = lambda: None) -> None:
    worlds = []
    for name, cached in (("cached", True), ("uncached", False)):
        root = tmp_path / name
        root.mkdir()
        spec = root / source.name
        shutil.copy(source, spec)
        worlds.append(World(root, spec, cached))
    for index, step in enumerate(steps):
        answers = []
        for world in worlds:
            if callable(step):
                step(world)
                continue
            args = [*step, world.spec.name]
            answers.append((*_run(world, monkeypatch, *args), _files(world.root / "generated")))
            after_command()
        if answers:
            assert answers[0] == answers[1], f"step {index} {step}: the cached run answered differently"


BASICS: list[Step | tuple[str, ...]] = [
    RENDER, CHECK, VALIDATE, RENDER,
    hand_edit, CHECK, RENDER, CHECK,
    delete_file, CHECK, RENDER, CHECK,
    extra_file, CHECK, RENDER, CHECK,
    ADD_SERVICE, CHECK, VALIDATE, RENDER, CHECK,
    append_spec("# only a comment\n"), CHECK, VALIDATE,
    append_spec("bogus_key: 1\n"), VALIDATE, CHECK, RENDER,
    edit_spec("bogus_key: 1\n", ""), DROP_SERVICE, CHECK, VALIDATE, RENDER, CHECK,
    delete_manifest, CHECK, RENDER, ("render", "--force"), CHECK,
]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_edits_and_tampering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    _differential(tmp_path, monkeypatch, CORPUS[name], BASICS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_planted_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    _differential(tmp_path, monkeypatch, CORPUS[name], [
        RENDER, VALIDATE,
        # another version's entries under this version's keys: stale output must stay stale
        ADD_SERVICE, plant_copied, CHECK, VALIDATE, RENDER, CHECK,
        DROP_SERVICE, CHECK, RENDER,
        # a deleted file and an entry that no longer lists it
        plant(_doctored), delete_file, CHECK, RENDER, CHECK, VALIDATE,
        plant("not json"), CHECK, VALIDATE,
        plant("[1, 2]"), CHECK, VALIDATE,
        plant('{"diagnostics": 5, "files": {"topology.md": 5}, "series": []}'), CHECK, VALIDATE,
        plant(""), CHECK, VALIDATE, RENDER,
        plant(_wrong_shape), CHECK, VALIDATE,
        plant(lambda entry: {**entry, "digest": "0" * 64}), hand_edit, CHECK, VALIDATE,
    ])


def test_an_edit_during_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit_during_run: list[str]) -> None:
    """The spec is saved again while obsgen renders: what was read (and keyed) is what is rendered."""
    source = CORPUS["shop"]
    original = source.read_text()
    invalid = original + "bogus_key: 1\n"
    added = original.replace("services:\n", "services:\n  zz-added: {}\n", 1)

    def arm(text: str) -> Step:
        return lambda world: edit_during_run.append(text)

    def put(text: str) -> Step:
        return lambda world: world.spec.write_text(text)

    _differential(tmp_path, monkeypatch, source, [
        put(added), RENDER,
        put(original), arm(added), RENDER, put(original), CHECK, VALIDATE,
        put(invalid), arm(original), VALIDATE, put(invalid), VALIDATE, CHECK,
        put(original), arm(invalid), CHECK, put(original), CHECK, RENDER,
    ], after_command=edit_during_run.clear)


def test_a_changed_dependency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_dependency: Path) -> None:
    _differential(tmp_path, monkeypatch, CORPUS["minimal"], [
        RENDER, CHECK,
        change_dependency(fake_dependency), CHECK, RENDER, CHECK, VALIDATE,
        change_dependency(fake_dependency), CHECK, RENDER,
    ])
