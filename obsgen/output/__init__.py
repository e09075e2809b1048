"""Writing a render to disk: deterministic bytes, a manifest, atomic replacement, check and diff.

The output directory may hold files the user put there. obsgen owns exactly the files its manifest
lists: those it replaces or removes, everything else it carries over untouched, and a file it does
not own at a path it writes is refused (``force`` overrides). One render at a time writes a
directory (``obsgen.output.lock``).

The new tree is built beside the old one and swapped in with one atomic rename, so a render killed
at any point leaves either the complete old tree or the complete new one. A mount point (a Docker
or Kubernetes volume) cannot be swapped (EBUSY, or EXDEV from a stage on the parent's filesystem):
there the new files are staged inside the directory and each is renamed into place atomically,
obsolete files are removed, and the manifest is renamed last. Every file is then always complete,
and a reader that checks the files against the manifest it read first (``read_consistent``) never
accepts a mix of two renders; a write killed half-way leaves its stage, whose manifest still owns
the files it had moved, and the next render completes the job.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from obsgen.emit.artifacts import Artifact, UnsafePathError, dump_json, generated_notice, safe_relpath
from obsgen.output import lock as output_lock

MANIFEST = "obsgen-manifest.json"
_STAGE_TAG = ".obsgen-stage-"  # beside: .<dir name>.obsgen-stage-<pid>; inside (in-place write): .obsgen-stage-<pid>
# A rename of the output directory itself fails with these when it is a mount point: rename(2) gives
# EBUSY for a directory "in use by the system (for example as a mount point)", EXDEV across filesystems.
_CANNOT_SWAP = (errno.EBUSY, errno.EXDEV)
_NAMED_AT_MOST = 10


class OutputError(Exception):
    """The output directory cannot be written safely; nothing was changed. ``code``: its OBS9xx code."""

    def __init__(self, message: str, code: str = "OBS900") -> None:
        super().__init__(message)
        self.code = code


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


def _manifest_files(path: Path) -> dict[str, str] | None:
    """The files a manifest lists (path -> hash), unsafe entries ignored; None when ``path`` is no manifest."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict):
        return None
    owned: dict[str, str] = {}
    for rel, digest in files.items():
        try:
            owned[safe_relpath(rel)] = str(digest)
        except UnsafePathError:
            continue
    return owned


def _owned(out_dir: Path) -> dict[str, str]:
    """Files obsgen generated here (path -> hash): its manifest's, plus those that an in-place write
    killed half-way had already moved in (its stage's manifest lists them)."""
    owned: dict[str, str] = {}
    for stage in _dead_inside_stages(out_dir):
        owned.update(_manifest_files(stage / MANIFEST) or {})
    owned.update(_manifest_files(out_dir / MANIFEST) or {})
    return owned


def _dead_inside_stages(out_dir: Path) -> list[Path]:
    """Stages of in-place writes whose process is gone."""
    try:
        names = sorted(os.listdir(out_dir))
    except OSError:
        return []
    out = []
    for name in names:
        pid = name[len(_STAGE_TAG):]
        path = out_dir / name
        if (name.startswith(_STAGE_TAG) and pid.isdigit() and not _alive(int(pid))
                and path.is_dir() and not path.is_symlink()):
            out.append(path)
    return out


def read_consistent(out_dir: Path) -> dict[str, bytes] | None:
    """The reader contract: every generated file, as the manifest read first lists it, or None while
    the directory holds a mix (an in-place write in progress or killed): read again later.

    A reader that needs all files of one render reads the manifest, then the files, checks each
    file's SHA-256 against the manifest, and reads the manifest again to see it unchanged.
    """
    path = out_dir / MANIFEST
    before = _read(path)
    files = _manifest_files(path)
    if before is None or files is None:
        return None
    out: dict[str, bytes] = {}
    for rel, digest in files.items():
        data = _read(out_dir / rel)
        if data is None or sha256(data) != digest:
            return None
        out[rel] = data
    return out if _read(path) == before else None


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
    import difflib  # only for a diff: a --check that finds the output up to date never loads it

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
    import ctypes  # only for a write (~2 ms of import a --check never needs)

    # dlopen(NULL): the symbols the process already has, libc's among them. ctypes.util.find_library("c")
    # would run ldconfig (and maybe a compiler) in a subprocess on every write to find the same library.
    libc = ctypes.CDLL(None, use_errno=True)
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


def write(out_dir: Path, artifacts: list[Artifact], *, force: bool = False,
          lock_timeout: float | None = None) -> Changes:
    """Make ``out_dir`` hold exactly ``artifacts`` plus the user's own files, atomically.

    ``force``: overwrite files obsgen does not own. ``lock_timeout``: seconds to wait for another
    render of the same directory (default ``OBSGEN_LOCK_TIMEOUT``, else 60).
    """
    # Absolute, but symlinks not resolved: '.' or 'x/..' must name a real directory with a parent
    # to build the new tree in (the stage beside it), never a stage inside the tree it copies.
    shown = Path(out_dir)
    out_dir = Path(os.path.abspath(out_dir))
    if out_dir.parent == out_dir:
        raise OutputError(f"{out_dir} is the filesystem root; choose an output directory")
    _check_target(out_dir)
    mount = out_dir.is_dir() and os.path.ismount(out_dir)
    if not mount:  # a mount point is written in place, never swapped away under the shell
        _check_not_cwd(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    timeout = output_lock.timeout_from_env() if lock_timeout is None else lock_timeout
    try:
        with output_lock.locked(out_dir, timeout):
            _check_target(out_dir)  # again: it may have changed while we waited
            return _write_locked(out_dir, artifacts, force=force, mount=mount, shown=shown)
    except output_lock.LockTimeout as exc:
        raise OutputError(str(exc), "OBS902") from None
    except output_lock.UnsafeLock as exc:
        raise OutputError(str(exc)) from None


def _write_locked(out_dir: Path, artifacts: list[Artifact], *, force: bool, mount: bool, shown: Path) -> Changes:
    _clean_stale_stages(out_dir)  # also when up to date: a run killed after its swap left one behind
    changes, _ = compare(out_dir, artifacts)
    if changes.clean:
        _remove_dead_inside_stages(out_dir)
        return changes
    _check_paths(out_dir, [a.path for a in artifacts] + changes.removed)
    if not force:
        _refuse_unowned(out_dir, artifacts, shown)
    if mount:
        _write_in_place(out_dir, artifacts, changes)
        return changes
    try:
        _write_swapped(out_dir, artifacts, changes)
    except OSError as exc:
        if exc.errno not in _CANNOT_SWAP or not out_dir.is_dir():
            raise
        # a mount point not recognised as one: os.path.ismount compares st_dev/st_ino with the parent's,
        # which "is not able to reliably detect bind mounts on the same filesystem" (Python's docs)
        _write_in_place(out_dir, artifacts, changes)
    return changes


def _refuse_unowned(out_dir: Path, artifacts: list[Artifact], shown: Path) -> None:
    """OBS903 when a path obsgen would write holds a file no manifest of obsgen lists."""
    owned = _owned(out_dir)
    manifest_ok = _manifest_files(out_dir / MANIFEST) is not None
    unowned = []
    for art in artifacts:
        path = out_dir / art.path
        if not os.path.lexists(path) or path.is_dir():
            continue
        if (art.path == MANIFEST and not manifest_ok) or (art.path != MANIFEST and art.path not in owned):
            unowned.append(art.path)
    if unowned:
        named = ", ".join(str(shown / rel) for rel in unowned[:_NAMED_AT_MOST])
        more = f" and {len(unowned) - _NAMED_AT_MOST} more" if len(unowned) > _NAMED_AT_MOST else ""
        raise OutputError(
            f"{named}{more}: not generated by obsgen ({'no manifest' if not manifest_ok else 'not in ' + MANIFEST})"
            " but in the way of a generated file; move it away, or pass --force to overwrite it", "OBS903")


def _write_swapped(out_dir: Path, artifacts: list[Artifact], changes: Changes) -> None:
    """Build the new tree beside the old one and swap the two directories atomically."""
    stage = out_dir.parent / f".{out_dir.name}{_STAGE_TAG}{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    try:
        skip = {a.path for a in artifacts} | set(changes.removed)
        skip |= {p.name for p in _dead_inside_stages(out_dir)}  # their files are owned (and listed) now
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


def _write_in_place(out_dir: Path, artifacts: list[Artifact], changes: Changes) -> None:
    """Stage inside ``out_dir``, rename each new file into place, remove obsolete ones, manifest last."""
    stage = out_dir / f"{_STAGE_TAG}{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    moved = False
    try:
        dirty = set(changes.added) | set(changes.changed)
        todo = [a for a in artifacts if a.path in dirty and a.path != MANIFEST]
        for art in todo:
            _write_file(stage / art.path, art.data)
        # From here on the stage's manifest owns what is moved out of the stage, should we be killed.
        manifest = next(a for a in artifacts if a.path == MANIFEST)
        _write_file(stage / MANIFEST, manifest.data)
        _fsync_dir(stage)
        for art in todo:
            target = out_dir / art.path
            target.parent.mkdir(parents=True, exist_ok=True)
            moved = True
            os.rename(stage / art.path, target)
        for rel in changes.removed:
            with contextlib.suppress(FileNotFoundError):
                (out_dir / rel).unlink()
        _drop_emptied_dirs(out_dir, changes.removed)
        os.rename(stage / MANIFEST, out_dir / MANIFEST)
        _fsync_dir(out_dir)
    except BaseException:
        if not moved:  # a stage that moved files keeps owning them until the next render
            shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(stage, ignore_errors=True)
    _remove_dead_inside_stages(out_dir)


def _remove_dead_inside_stages(out_dir: Path) -> None:
    """After a write whose manifest owns everything they did, stages of killed in-place writes go."""
    for stage in _dead_inside_stages(out_dir):
        shutil.rmtree(stage, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
