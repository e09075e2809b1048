"""Writing a render to disk: deterministic bytes, a manifest, atomic replacement, check and diff.

The output directory may hold files the user put there. obsgen owns exactly the files its manifest
lists: those it replaces or removes, everything else it carries over untouched. The new tree is
built beside the old one and swapped in with one atomic rename, so a render killed at any point
leaves either the complete old tree or the complete new one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import difflib
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from obsgen.artifacts import Artifact, UnsafePathError, dump_json, generated_notice, safe_relpath

MANIFEST = "obsgen-manifest.json"
_STAGE_TAG = ".obsgen-stage-"


class OutputError(Exception):
    """The output directory cannot be written safely; nothing was changed."""


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def manifest_artifact(artifacts: list[Artifact], spec_file: str) -> Artifact:
    """The manifest: every generated file and its hash, so later renders know what they own."""
    files = {a.path: sha256(a.data) for a in artifacts}
    doc = {"generated_by": "obsgen", "notice": generated_notice(spec_file), "spec": spec_file, "files": files}
    return Artifact(MANIFEST, dump_json(doc))


@dataclass
class Changes:
    """How the tree on disk differs from a fresh render."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)  # generated files changed by hand since the last render

    @property
    def clean(self) -> bool:
        """True when disk equals the render."""
        return not (self.added or self.changed or self.removed)


def _owned(out_dir: Path) -> dict[str, str]:
    """Files the previous render generated (path -> hash), from its manifest; unsafe entries ignored."""
    path = out_dir / MANIFEST
    if path.is_symlink() or not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc.get("files", {}) if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}
    owned: dict[str, str] = {}
    for rel, digest in files.items() if isinstance(files, dict) else []:
        try:
            owned[safe_relpath(rel)] = str(digest)
        except UnsafePathError:
            continue
    return owned


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return path.read_bytes()
    except OSError:
        return None


def compare(out_dir: Path, artifacts: list[Artifact]) -> tuple[Changes, dict[str, bytes | None]]:
    """Changes between disk and ``artifacts`` (which include the manifest), plus the old bytes read."""
    changes = Changes()
    old: dict[str, bytes | None] = {}
    owned = _owned(out_dir)
    new_paths = {a.path for a in artifacts}
    for art in artifacts:
        current = _read(out_dir / art.path)
        old[art.path] = current
        if current is None:
            changes.added.append(art.path)
        elif current != art.data:
            changes.changed.append(art.path)
            if art.path in owned and sha256(current) != owned[art.path]:
                changes.edited.append(art.path)
    for rel in sorted(owned):
        if rel not in new_paths and rel != MANIFEST and _read(out_dir / rel) is not None:
            changes.removed.append(rel)
            old[rel] = _read(out_dir / rel)
    return changes, old


def unified_diff(out_dir: Path, artifacts: list[Artifact], display_dir: str) -> tuple[Changes, str]:
    """The unified diff that applying a render would make, as text."""
    changes, old = compare(out_dir, artifacts)
    by_path = {a.path: a for a in artifacts}
    chunks: list[str] = []
    for rel in sorted(set(changes.added) | set(changes.changed) | set(changes.removed)):
        before = (old.get(rel) or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
        after = by_path[rel].text.splitlines(keepends=True) if rel in by_path else []
        name = f"{display_dir.rstrip('/')}/{rel}"
        from_name = f"a/{name}" if rel not in changes.added else "/dev/null"
        to_name = f"b/{name}" if rel not in changes.removed else "/dev/null"
        for line in difflib.unified_diff(before, after, from_name, to_name, n=3):
            chunks.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return changes, "".join(chunks)


# ------------------------------------------------------------------------------------------------
# Writing


def _check_target(out_dir: Path) -> None:
    if out_dir.is_symlink():
        raise OutputError(f"{out_dir} is a symlink; obsgen does not write through symlinks")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir} exists and is not a directory")


def _check_not_cwd(out_dir: Path) -> None:
    """The swap replaces the directory itself: a shell sitting in it would be left in a deleted directory."""
    if not out_dir.exists():
        return
    try:
        here = Path(os.getcwd()).resolve()
    except OSError:
        return
    target = out_dir.resolve()
    if here == target or target in here.parents:
        raise OutputError(f"{out_dir} is (or contains) the current directory; the atomic swap would replace it "
                          "under you: run obsgen from outside the output directory")


def _check_paths(out_dir: Path, rels: list[str]) -> None:
    """Refuse when any existing component of a path we would write or remove is a symlink or not a dir."""
    for rel in rels:
        probe = out_dir
        parts = rel.split("/")
        for i, part in enumerate(parts):
            probe = probe / part
            if probe.is_symlink():
                raise OutputError(f"{probe} is a symlink; obsgen does not write through symlinks")
            last = i == len(parts) - 1
            if probe.exists() and not last and not probe.is_dir():
                raise OutputError(f"{probe} is in the way: a file where obsgen needs a directory")
            if probe.exists() and last and probe.is_dir():
                raise OutputError(f"{probe} is a directory where obsgen writes a file")


def _clean_stale_stages(out_dir: Path) -> None:
    prefix = f".{out_dir.name}{_STAGE_TAG}"
    for name in sorted(os.listdir(out_dir.parent)):  # not glob: the name may hold '[' or '*'
        if not name.startswith(prefix):
            continue
        entry = out_dir.parent / name
        pid = name[len(prefix):].split("-")[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _carry_over(src: Path, dst: Path, skip: set[str], rel: str = "") -> None:
    """Recreate ``src`` under ``dst`` with hard links, leaving out ``skip`` (paths obsgen rewrites or drops)."""
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        child_rel = f"{rel}{entry.name}"
        if child_rel in skip:
            continue
        target = dst / entry.name
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(entry.path), target)
        elif stat.S_ISDIR(mode):
            target.mkdir()
            shutil.copystat(entry.path, target)
            _carry_over(Path(entry.path), target, skip, child_rel + "/")
        elif stat.S_ISREG(mode):
            try:
                os.link(entry.path, target)
            except OSError:
                shutil.copy2(entry.path, target)
        else:
            raise OutputError(f"{entry.path} is not a regular file, directory or symlink")


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2). False when the platform cannot."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        err = ctypes.get_errno()
        if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: filesystem or kernel cannot exchange
            return False
        raise OSError(err, os.strerror(err), str(a))
    return True


def write(out_dir: Path, artifacts: list[Artifact]) -> Changes:
    """Make ``out_dir`` hold exactly ``artifacts`` plus the user's own files, atomically."""
    # Absolute, but symlinks not resolved: '.' or 'x/..' must name a real directory with a parent
    # to build the new tree in (the stage beside it), never a stage inside the tree it copies.
    out_dir = Path(os.path.abspath(out_dir))
    if out_dir.parent == out_dir:
        raise OutputError(f"{out_dir} is the filesystem root; choose an output directory")
    _check_target(out_dir)
    _check_not_cwd(out_dir)
    if out_dir.parent.is_dir():
        _clean_stale_stages(out_dir)  # also when up to date: a run killed after its swap left one behind
    changes, _ = compare(out_dir, artifacts)
    if changes.clean:
        return changes
    _check_paths(out_dir, [a.path for a in artifacts] + changes.removed)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = out_dir.parent / f".{out_dir.name}{_STAGE_TAG}{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        skip = {a.path for a in artifacts} | set(changes.removed)
        if out_dir.exists():
            shutil.copystat(out_dir, stage)
            _carry_over(out_dir, stage, skip)
            _drop_emptied_dirs(stage, changes.removed)
        for art in artifacts:
            _write_file(stage / art.path, art.data)
        if not out_dir.exists():
            os.rename(stage, out_dir)
        elif _exchange(stage, out_dir):
            shutil.rmtree(stage)
        else:
            # Without an atomic exchange there is a moment with no output dir; never one with a mix.
            old = out_dir.parent / f".{out_dir.name}{_STAGE_TAG}{os.getpid()}-old"
            os.rename(out_dir, old)
            os.rename(stage, out_dir)
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return changes


def _drop_emptied_dirs(root: Path, removed: list[str]) -> None:
    """Remove directories that only held generated files which are gone now."""
    for rel in removed:
        parent = (root / rel).parent
        while parent != root:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
