"""The output directory contract: user files survive, the manifest decides what obsgen owns, symlinks
are refused, and a render that fails or is killed at any moment leaves the complete old tree or the
complete new one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen import output, targets
from obsgen.cli import main
from obsgen.emit.artifacts import Artifact
from obsgen.output import MANIFEST, OutputError

OLD = {"a.yaml": "a: 1\n", "sub/b.yaml": "b: 1\n", "gone/c.yaml": "c: 1\n", "keep.json": "{}\n"}
NEW = {"a.yaml": "a: 2\n", "sub/b.yaml": "b: 1\n", "fresh/d.yaml": "d: 1\n", "keep.json": "{}\n"}


def arts(files: dict[str, str]) -> list[Artifact]:
    items = [Artifact(p, t) for p, t in sorted(files.items())]
    return [*items, output.manifest_artifact(items, "spec.yaml")]


def tree(root: Path) -> dict[str, object]:
    """Content view of a tree: file bytes, symlink targets, directories."""
    out: dict[str, object] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = "dir"
            elif path.is_file():
                out[rel] = path.read_bytes()
            else:
                out[rel] = ("special", path.lstat().st_mode)
    return out


def expected_tree(files: dict[str, str], user: dict[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for rel, text in {**files, **user}.items():
        parts = rel.split("/")
        for i in range(1, len(parts)):
            out["/".join(parts[:i])] = "dir"
        out[rel] = text.encode()
    out[MANIFEST] = arts(files)[-1].data
    return out


USER = {"README.md": "mine\n", "sub/notes.txt": "also mine\n", "gone/user.txt": "user file in a generated dir\n"}


def make_old_tree(tmp_path: Path) -> Path:
    """An output directory rendered from OLD, with the user's own files (USER) beside the generated ones."""
    out = tmp_path / "out"
    output.write(out, arts(OLD))
    for rel, text in USER.items():
        (out / rel).write_text(text)
    return out


@pytest.fixture
def old_tree(tmp_path: Path) -> Path:
    return make_old_tree(tmp_path)


# ------------------------------------------------------------------------------------------------
# Ownership


def test_user_files_survive_with_same_inode(old_tree: Path) -> None:
    inodes = {rel: (old_tree / rel).stat().st_ino for rel in USER}
    (old_tree / "link-to-readme").symlink_to("README.md")
    changes = output.write(old_tree, arts(NEW))
    assert sorted(changes.added) == ["fresh/d.yaml"]
    assert sorted(changes.changed) == ["a.yaml", MANIFEST]
    assert changes.removed == ["gone/c.yaml"]
    for rel, text in USER.items():
        assert (old_tree / rel).read_text() == text
        assert (old_tree / rel).stat().st_ino == inodes[rel]
    assert os.readlink(old_tree / "link-to-readme") == "README.md"
    expected = expected_tree(NEW, USER)
    expected["link-to-readme"] = ("link", "README.md")
    assert tree(old_tree) == expected


def test_files_no_longer_generated_are_removed_with_their_empty_dirs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    output.write(out, arts({"x/y/z.yaml": "z: 1\n", "a.yaml": "a: 1\n"}))
    output.write(out, arts({"a.yaml": "a: 1\n"}))
    assert tree(out) == expected_tree({"a.yaml": "a: 1\n"}, {})


def test_files_not_in_manifest_are_never_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    output.write(out, arts({"a.yaml": "a: 1\n"}))
    (out / "b.yaml").write_text("looks generated but the manifest never listed it\n")
    output.write(out, arts({"c.yaml": "c: 1\n"}))
    assert (out / "b.yaml").exists()
    assert not (out / "a.yaml").exists()


def test_hand_edited_generated_file_is_overwritten_and_reported(old_tree: Path) -> None:
    (old_tree / "sub" / "b.yaml").write_text("b: edited\n")
    changes = output.write(old_tree, arts(NEW))
    assert "sub/b.yaml" in changes.edited
    assert (old_tree / "sub" / "b.yaml").read_text() == "b: 1\n"


def test_generated_file_replaced_by_user_symlink_is_refused(old_tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (old_tree / "a.yaml").unlink()
    (old_tree / "a.yaml").symlink_to(outside)
    with pytest.raises(OutputError, match="symlink"):
        output.write(old_tree, arts(NEW))
    assert outside.read_text() == "precious\n"


def test_hostile_manifest_entries_are_ignored(old_tree: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    doc = json.loads((old_tree / MANIFEST).read_text())
    doc["files"].update({"../victim.txt": "0", str(victim): "0", "sub/../../victim.txt": "0", "README.md": "0"})
    (old_tree / MANIFEST).write_text(json.dumps(doc))
    output.write(old_tree, arts(NEW))
    assert victim.read_text() == "keep me\n"
    # an entry naming a user file is honoured: the manifest is obsgen's record of what it owns
    assert not (old_tree / "README.md").exists()


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"files": ["a.yaml"]}', '{"files": {"a.yaml": 5}}'])
def test_corrupt_manifest_does_not_crash(old_tree: Path, content: str) -> None:
    (old_tree / MANIFEST).write_text(content)
    if content != '{"files": {"a.yaml": 5}}':
        # without a manifest obsgen owns nothing: the generated paths hold files it must not overwrite
        before = tree(old_tree)
        with pytest.raises(OutputError, match=f"{MANIFEST}.*--force") as caught:
            output.write(old_tree, arts(NEW))
        assert caught.value.code == "OBS903" and str(old_tree / "a.yaml") in str(caught.value)
        assert tree(old_tree) == before
    output.write(old_tree, arts(NEW), force=True)
    assert (old_tree / "fresh" / "d.yaml").read_text() == "d: 1\n"
    assert json.loads((old_tree / MANIFEST).read_text())["files"].keys() == NEW.keys()


# ------------------------------------------------------------------------------------------------
# Symlinks and things in the way


def test_output_dir_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "out"
    link.symlink_to(real)
    with pytest.raises(OutputError, match="symlink"):
        output.write(link, arts(NEW))
    assert list(real.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "real"]


def test_parent_symlink_pointing_outside_is_refused(old_tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "mine.txt").write_text("x\n")
    before = tree(old_tree)
    os.rename(old_tree / "sub", tmp_path / "sub-moved")
    (old_tree / "sub").symlink_to(outside)
    before = tree(old_tree)
    with pytest.raises(OutputError, match="symlink"):
        output.write(old_tree, arts(NEW))
    assert tree(outside) == {"mine.txt": b"x\n"}
    assert tree(old_tree) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "outside", "sub-moved"]


def test_removal_through_symlinked_dir_is_refused(old_tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "c.yaml").write_text("c: 1\n")  # same name and bytes as the generated file it would remove
    for p in (old_tree / "gone").iterdir():
        p.unlink()
    (old_tree / "gone").rmdir()
    (old_tree / "gone").symlink_to(outside)
    with pytest.raises(OutputError, match="symlink"):
        output.write(old_tree, arts(NEW))
    assert (outside / "c.yaml").read_text() == "c: 1\n"


def test_file_where_a_directory_is_needed_is_refused(old_tree: Path) -> None:
    (old_tree / "fresh").write_text("user file named like a generated dir\n")
    before = tree(old_tree)
    with pytest.raises(OutputError, match="in the way"):
        output.write(old_tree, arts(NEW))
    assert tree(old_tree) == before


def test_fifo_in_output_dir_is_refused_without_changes(old_tree: Path) -> None:
    os.mkfifo(old_tree / "pipe")
    before = tree(old_tree)
    with pytest.raises(OutputError):
        output.write(old_tree, arts(NEW))
    assert tree(old_tree) == before
    assert sorted(p.name for p in old_tree.parent.iterdir()) == ["out"]


def test_cli_refuses_symlinks_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "names", lambda: ["fake"])
    monkeypatch.setattr(targets, "load", lambda name: lambda plan: arts(NEW)[:-1])
    spec = tmp_path / "s.yaml"
    spec.write_text("services: {api: {}}\n")
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real)
    result = CliRunner().invoke(main, ["render", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "error OBS900" in result.stderr
    assert list(real.iterdir()) == []
    outside = tmp_path / "outside"
    outside.mkdir()
    out2 = tmp_path / "out2"
    out2.mkdir()
    (out2 / "sub").symlink_to(outside)
    result = CliRunner().invoke(main, ["render", str(spec), "--out", str(out2)])
    assert result.exit_code == 2, result.output
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in out2.iterdir()) == ["sub"]


def test_failed_render_changes_nothing(old_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "names", lambda: ["fake"])
    monkeypatch.setattr(targets, "load", lambda name: lambda plan: arts(NEW)[:-1])
    spec = old_tree.parent / "bad.yaml"
    spec.write_text("services:\n  api: {calls: [api]}\n")
    before = tree(old_tree.parent)
    stat_before = {p: p.lstat() for p in old_tree.rglob("*")}
    result = CliRunner().invoke(main, ["render", str(spec), "--out", str(old_tree)])
    assert result.exit_code == 1
    assert tree(old_tree.parent) == before
    assert {p: (s.st_ino, s.st_mtime_ns) for p, s in stat_before.items()} == {
        p: (p.lstat().st_ino, p.lstat().st_mtime_ns) for p in old_tree.rglob("*")}


def test_dot_as_output_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """'.' is resolved against cwd (never a stage inside the tree being copied); the current directory
    itself, or one of its ancestors, is refused: the swap would leave the user's shell in a deleted one."""
    out = tmp_path / "here"
    (out / "deeper").mkdir(parents=True)
    (out / "README.md").write_text("mine\n")
    monkeypatch.chdir(out)
    with pytest.raises(OutputError, match="current directory"):
        output.write(Path("."), arts(OLD))
    monkeypatch.chdir(out / "deeper")
    with pytest.raises(OutputError, match="current directory"):
        output.write(Path(".."), arts(OLD))
    assert tree(tmp_path) == {"here": "dir", "here/deeper": "dir", "here/README.md": b"mine\n"}
    monkeypatch.chdir(tmp_path)
    output.write(Path("here/."), arts(OLD))
    output.write(Path("here/deeper/.."), arts(NEW))
    assert tree(out) == {**expected_tree(NEW, {"README.md": "mine\n"}), "deeper": "dir"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here"]


def test_filesystem_root_is_refused() -> None:
    with pytest.raises(OutputError):
        output.write(Path("/"), arts(NEW))


# ------------------------------------------------------------------------------------------------
# Killed renders: a subprocess that SIGKILLs itself at a chosen point of output.write


_HELPER = textwrap.dedent('''
    import json, os, shutil, signal, sys
    from pathlib import Path
    from obsgen import output
    from obsgen.emit.artifacts import Artifact

    out, files_json, point, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    files = json.loads(files_json)
    items = [Artifact(p, t) for p, t in sorted(files.items())]
    artifacts = [*items, output.manifest_artifact(items, "spec.yaml")]

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    count = 0
    real_write, real_exchange, real_rmtree, real_link = (
        output._write_file, output._exchange, shutil.rmtree, os.link)

    def write_file(path, data):
        global count
        if point == "write" and count == n:
            die()
        if point == "write-half" and count == n:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(data[: len(data) // 2])
                handle.flush()
            die()
        count += 1
        real_write(path, data)

    def exchange(a, b):
        if point == "before-exchange":
            die()
        done = real_exchange(a, b)
        if point == "after-exchange":
            die()
        return done

    def rmtree(path, *args, **kwargs):
        if point == "rmtree" and output._STAGE_TAG in str(path) and not kwargs.get("ignore_errors"):
            # after the swap, half-way through deleting the old tree
            entries = sorted(Path(path).rglob("*"))
            for entry in entries[: len(entries) // 2]:
                if entry.is_file():
                    entry.unlink()
            die()
        return real_rmtree(path, *args, **kwargs)

    def link(src, dst, *args, **kwargs):
        if point == "carry":
            die()
        return real_link(src, dst, *args, **kwargs)

    output._write_file = write_file
    output._exchange = exchange
    shutil.rmtree = rmtree
    os.link = link
    output.write(Path(out), artifacts)
    print("finished")
''')

_KILL_POINTS = [("write", n) for n in range(len(NEW) + 1)] + [
    ("write-half", 1), ("carry", 0), ("before-exchange", 0), ("after-exchange", 0), ("rmtree", 0)]


def _run_helper(tmp_path: Path, out: Path, files: dict[str, str], point: str, n: int) -> subprocess.CompletedProcess:
    helper = tmp_path / "helper.py"
    helper.write_text(_HELPER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, str(helper), str(out), json.dumps(files), point, str(n)],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize(("point", "n"), _KILL_POINTS, ids=[f"{p}-{n}" for p, n in _KILL_POINTS])
def test_killed_render_leaves_old_or_new_tree(tmp_path: Path, point: str, n: int) -> None:
    parent = tmp_path / "work"
    parent.mkdir()
    out = parent / "out"
    output.write(out, arts(OLD))
    for rel, text in USER.items():
        (out / rel).write_text(text)
    old, new = expected_tree(OLD, USER), expected_tree(NEW, USER)
    assert tree(out) == old

    proc = _run_helper(tmp_path, out, NEW, point, n)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    state = tree(out)
    assert state in (old, new), f"mixed tree after kill at {point} {n}"
    if point in ("after-exchange", "rmtree"):
        assert state == new
    else:
        assert state == old

    # the next (uninterrupted) render cleans the stale stage and finishes the job
    proc = _run_helper(tmp_path, out, NEW, "none", 0)
    assert proc.returncode == 0, proc.stderr
    assert tree(out) == new
    assert sorted(p.name for p in parent.iterdir()) == ["out"]


def test_killed_first_render_leaves_no_output_dir(tmp_path: Path) -> None:
    parent = tmp_path / "work"
    parent.mkdir()
    out = parent / "out"
    proc = _run_helper(tmp_path, out, NEW, "write", 2)
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    assert _run_helper(tmp_path, out, NEW, "none", 0).returncode == 0
    assert tree(out) == expected_tree(NEW, {})
    assert sorted(p.name for p in parent.iterdir()) == ["out"]


def test_stale_stage_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    live = tmp_path / f".out{output._STAGE_TAG}{os.getppid()}"
    dead = tmp_path / f".out{output._STAGE_TAG}999999999"
    other = tmp_path / ".other.obsgen-stage-1"
    for d in (live, dead, other):
        d.mkdir()
    output.write(out, arts(NEW))
    assert live.exists() and other.exists()
    assert not dead.exists()


def test_glob_characters_in_output_dir_name(tmp_path: Path) -> None:
    out = tmp_path / "out[1]*"
    stale = tmp_path / f".out[1]*{output._STAGE_TAG}999999999"
    stale.mkdir()
    bystander = tmp_path / f".out1x{output._STAGE_TAG}999999999"
    bystander.mkdir()
    output.write(out, arts(NEW))
    assert tree(out) == expected_tree(NEW, {})
    assert not stale.exists()
    assert bystander.exists()
