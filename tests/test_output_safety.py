"""The output directory under unlucky conditions (issue 14): a mount point that cannot be swapped, two
renders racing for one directory, a file obsgen does not own where it wants to write.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen import output, targets
from obsgen.cli import main
from obsgen.output import MANIFEST, OutputError
from obsgen.output import lock as output_lock
from tests.test_output import NEW, OLD, USER, arts, expected_tree, make_old_tree, tree

ROOT = Path(__file__).resolve().parent.parent


def _without_stages(state: dict[str, object]) -> dict[str, object]:
    return {rel: v for rel, v in state.items() if not rel.split("/")[0].startswith(output._STAGE_TAG)}


def _generated(files: dict[str, str]) -> dict[str, bytes]:
    return {rel: text.encode() for rel, text in files.items()}


@pytest.fixture
def old_tree(tmp_path: Path) -> Path:
    return make_old_tree(tmp_path)


# ------------------------------------------------------------------------------------------------
# Files obsgen does not own


def test_a_file_at_a_generated_path_without_a_manifest_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "b.yaml").write_text("the user's own b\n")
    before = tree(out)
    with pytest.raises(OutputError, match=r"sub/b\.yaml.*no manifest.*--force") as caught:
        output.write(out, arts(NEW))
    assert caught.value.code == "OBS903"
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    output.write(out, arts(NEW), force=True)
    assert tree(out) == expected_tree(NEW, {})


def test_a_file_the_manifest_does_not_list_is_refused(old_tree: Path) -> None:
    (old_tree / "fresh").mkdir()
    (old_tree / "fresh" / "d.yaml").write_text("d: the user's\n")
    before = tree(old_tree)
    with pytest.raises(OutputError, match=rf"fresh/d\.yaml.*not in {MANIFEST}"):
        output.write(old_tree, arts(NEW))
    assert tree(old_tree) == before


def test_files_it_owns_and_user_files_elsewhere_are_fine(old_tree: Path) -> None:
    (old_tree / "elsewhere.txt").write_text("mine\n")
    output.write(old_tree, arts(NEW))
    assert (old_tree / "elsewhere.txt").read_text() == "mine\n"


def test_cli_names_the_file_and_force_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "names", lambda: ["fake"])
    monkeypatch.setattr(targets, "load", lambda name: lambda plan: arts(NEW)[:-1])
    spec = tmp_path / "s.yaml"
    spec.write_text("services: {api: {}}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.yaml").write_text("hand-written\n")
    result = CliRunner().invoke(main, ["render", str(spec), "--out", str(out)])
    assert result.exit_code == 2
    assert "error OBS903" in result.stderr and f"{out}/a.yaml" in result.stderr and "--force" in result.stderr
    assert (out / "a.yaml").read_text() == "hand-written\n"
    result = CliRunner().invoke(main, ["render", str(spec), "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert (out / "a.yaml").read_text() == NEW["a.yaml"]


# ------------------------------------------------------------------------------------------------
# A directory that cannot be swapped (a mount point): EBUSY or EXDEV through a seam


@pytest.mark.parametrize("code", [errno.EBUSY, errno.EXDEV])
def test_a_directory_that_cannot_be_swapped_is_written_in_place(
        old_tree: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def cannot(a: Path, b: Path) -> bool:
        raise OSError(code, os.strerror(code), str(a))

    monkeypatch.setattr(output, "_exchange", cannot)
    inodes = {rel: (old_tree / rel).stat().st_ino for rel in USER}
    directory = old_tree.stat().st_ino
    changes = output.write(old_tree, arts(NEW))
    assert changes.removed == ["gone/c.yaml"] and sorted(changes.added) == ["fresh/d.yaml"]
    assert tree(old_tree) == expected_tree(NEW, USER)
    assert old_tree.stat().st_ino == directory
    assert {rel: (old_tree / rel).stat().st_ino for rel in USER} == inodes
    assert output.read_consistent(old_tree) == _generated(NEW)
    assert sorted(p.name for p in old_tree.parent.iterdir()) == ["out"]


def test_no_exchange_and_a_busy_rename(old_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without renameat2 the fallback renames the directory away, which a mount point refuses too."""
    real_rename = os.rename

    def rename(src: object, dst: object) -> None:
        if Path(src) == old_tree:  # type: ignore[arg-type]
            raise OSError(errno.EBUSY, "Device or resource busy", str(src))
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    monkeypatch.setattr(os, "rename", rename)
    output.write(old_tree, arts(NEW))
    assert tree(old_tree) == expected_tree(NEW, USER)
    assert sorted(p.name for p in old_tree.parent.iterdir()) == ["out"]


def test_a_mount_point_is_recognised_up_front(old_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def never(a: Path, b: Path) -> bool:
        raise AssertionError("a mount point is never swapped")

    monkeypatch.setattr(output, "_exchange", never)
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == old_tree)
    output.write(old_tree, arts(NEW))
    assert tree(old_tree) == expected_tree(NEW, USER)


_IN_PLACE_HELPER = textwrap.dedent('''
    import errno, json, os, signal, sys
    from pathlib import Path
    from obsgen import output
    from obsgen.emit.artifacts import Artifact

    out, files_json, point, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    items = [Artifact(p, t) for p, t in sorted(json.loads(files_json).items())]
    artifacts = [*items, output.manifest_artifact(items, "spec.yaml")]

    def busy(a, b):
        raise OSError(errno.EBUSY, "Device or resource busy", str(a))

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    counts = {"write": 0, "move": 0}
    real_write, real_rename, real_unlink = output._write_file, os.rename, Path.unlink

    def write_file(path, data):
        if point == "write" and counts["write"] == n:
            die()
        counts["write"] += 1
        real_write(path, data)

    def rename(src, dst):
        if output._STAGE_TAG in str(src) and output._STAGE_TAG not in str(dst):
            is_manifest = Path(src).name == output.MANIFEST
            if point == "move" and counts["move"] == n and not is_manifest:
                die()
            if point == "manifest" and is_manifest:
                die()
            counts["move"] += 1
        real_rename(src, dst)
        if point == "after-manifest" and Path(src).name == output.MANIFEST:
            die()

    def unlink(self, *args, **kwargs):
        if point == "remove":
            die()
        return real_unlink(self, *args, **kwargs)

    output._exchange = busy
    output._write_file = write_file
    os.rename = rename
    Path.unlink = unlink
    output.write(Path(out), artifacts)
    print("finished")
''')

# writes 0-4 build the stage beside (the swap that fails), 5-7 the stage inside
_IN_PLACE_POINTS = [("write", 0), ("write", 5), ("write", 7), ("move", 0), ("move", 1), ("remove", 0), ("manifest", 0),
                    ("after-manifest", 0)]


def _helper(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    helper = tmp_path / "helper.py"
    helper.write_text(script)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(helper), *args], capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize(("point", "n"), _IN_PLACE_POINTS, ids=[f"{p}-{n}" for p, n in _IN_PLACE_POINTS])
def test_a_killed_in_place_write_is_never_taken_for_a_whole_tree(tmp_path: Path, point: str, n: int) -> None:
    """Killed at any moment: the files are the old or the new tree, or a mix that the reader contract
    (``read_consistent``) rejects; the next render completes the new tree and owns all of it."""
    parent = tmp_path / "work"
    parent.mkdir()
    out = parent / "out"
    output.write(out, arts(OLD))
    for rel, text in USER.items():
        (out / rel).write_text(text)
    old, new = expected_tree(OLD, USER), expected_tree(NEW, USER)
    generated = {"old": _generated(OLD), "new": _generated(NEW)}

    proc = _helper(tmp_path, _IN_PLACE_HELPER, str(out), json.dumps(NEW), point, str(n))
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    state = _without_stages(tree(out))
    seen = output.read_consistent(out)
    if state == old:
        assert seen == generated["old"]
    elif state == new:
        assert seen == generated["new"]
    else:
        assert seen is None, f"a mixed tree passed the reader contract after a kill at {point} {n}"
    if point == "after-manifest":
        assert state == new

    proc = _helper(tmp_path, _IN_PLACE_HELPER, str(out), json.dumps(NEW), "none", "0")
    assert proc.returncode == 0, proc.stderr
    assert tree(out) == new
    assert sorted(p.name for p in parent.iterdir()) == ["out"]


def test_a_real_bind_mount(tmp_path: Path) -> None:
    """The output directory is a bind mount in a private mount namespace: the real EBUSY."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("needs root and unshare(1) for a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m is not allowed here: {probe.stderr.decode().strip()}")
    out = tmp_path / "out"
    output.write(out, arts(OLD))
    script = tmp_path / "render.py"
    script.write_text(textwrap.dedent(f'''
        import errno, json, os, sys
        from pathlib import Path
        from obsgen import output
        from obsgen.emit.artifacts import Artifact
        out = Path({str(out)!r})
        # a bind mount of a directory of the same filesystem: os.path.ismount cannot tell
        print("ismount:", os.path.ismount(out))
        try:
            os.rename(out, out.parent / "elsewhere")
        except OSError as exc:
            print("rename:", errno.errorcode[exc.errno])
        items = [Artifact(p, t) for p, t in sorted(json.loads(sys.argv[1]).items())]
        output.write(out, [*items, output.manifest_artifact(items, "spec.yaml")])
        print("written")
    '''))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount --bind "$1" "$1" && exec "$2" "$3" "$4"', "sh", str(out), sys.executable, str(script),
         json.dumps(NEW)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "rename: EBUSY" in proc.stdout and "written" in proc.stdout
    assert tree(out) == expected_tree(NEW, {})


# ------------------------------------------------------------------------------------------------
# Two renders into one directory


_RACER = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path
    from obsgen import output
    from obsgen.emit.artifacts import Artifact

    out, files_json, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    items = [Artifact(p, t) for p, t in sorted(json.loads(files_json).items())]
    real_check = output._check_paths

    def slow_check(*args):
        # between reading the old tree and building the new one: where the other render slips in
        print("compared", flush=True)
        time.sleep(pause)
        return real_check(*args)

    output._check_paths = slow_check
    try:
        output.write(Path(out), [*items, output.manifest_artifact(items, "spec.yaml")])
    except output.OutputError as exc:
        print(exc.code, exc, flush=True)
        sys.exit(2)
    print("finished", time.monotonic(), flush=True)
''')

FIRST = {"a.yaml": "a: first\n", "only-first/x.yaml": "x: 1\n"}
SECOND = {"a.yaml": "a: second\n", "only-second/y.yaml": "y: 1\n"}


def _racer(tmp_path: Path, out: Path, files: dict[str, str], pause: float,
           timeout: str = "60") -> subprocess.Popen[str]:
    script = tmp_path / "racer.py"
    script.write_text(_RACER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OBSGEN_LOCK_TIMEOUT": timeout}
    return subprocess.Popen([sys.executable, str(script), str(out), json.dumps(files), str(pause)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _owned_exactly(out: Path) -> dict[str, object]:
    """The tree, after checking that every file in it is listed by the manifest (none left unowned)."""
    state = tree(out)
    listed = set(json.loads((out / MANIFEST).read_text())["files"]) | {MANIFEST}
    files = {rel for rel, v in state.items() if v != "dir"}
    assert files == listed, f"files nobody owns: {sorted(files - listed)}"
    return state


def test_two_renders_into_one_directory_take_turns(tmp_path: Path) -> None:
    out = tmp_path / "out"
    output.write(out, arts(OLD))
    first = _racer(tmp_path, out, FIRST, pause=2.0)
    assert first.stdout is not None and first.stdout.readline().strip() == "compared"
    second = _racer(tmp_path, out, SECOND, pause=0.0)
    out_first, err_first = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), err_first + err_second
    done_first = float(out_first.split()[-1])
    done_second = float(out_second.split()[-1])
    assert done_second > done_first, "the second render did not wait for the first"
    assert _owned_exactly(out) == expected_tree(SECOND, {})
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "racer.py") == ["out"]


def test_the_second_render_gives_up_clearly_after_the_timeout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    output.write(out, arts(OLD))
    first = _racer(tmp_path, out, FIRST, pause=8.0)
    assert first.stdout is not None and first.stdout.readline().strip() == "compared"
    second = _racer(tmp_path, out, SECOND, pause=0.0, timeout="0.5")
    out_second, _ = second.communicate(timeout=120)
    assert first.poll() is None, "the second render should have given up while the first still ran"
    assert second.returncode == 2
    assert out_second.startswith("OBS902") and f"process {first.pid}" in out_second
    assert "OBSGEN_LOCK_TIMEOUT" in out_second
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert _owned_exactly(out) == expected_tree(FIRST, {})


def test_the_lock_file_is_gone_afterwards_and_a_symlink_is_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    output.write(out, arts(OLD))
    lock = output_lock.lock_path(out)
    assert not lock.exists()
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    lock.symlink_to(victim)
    with pytest.raises(OutputError, match="symlink"):
        output.write(out, arts(NEW))
    assert victim.read_text() == "keep\n"
