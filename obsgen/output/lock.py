"""One render at a time per output directory: an exclusive flock on a lock file.

Two renders into one directory used to race: the later one carried the earlier one's new files over
as if they were the user's. Now the second waits for the lock, up to a timeout, and then fails
naming the process that holds it.

The lock file sits beside the output directory (``.<name>.obsgen-lock``), because the directory
itself is swapped away by every write; when the output directory is a mount point (never swapped,
its parent possibly read-only) it sits inside (``.obsgen-lock``). The holder removes it before
releasing; a waiter that wins the lock on a file that was removed meanwhile tries again, so two
processes never hold locks on two different files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock (documented in README)
    fcntl = None  # type: ignore[assignment]

DEFAULT_TIMEOUT = 60.0
_POLL = 0.05
INSIDE_NAME = ".obsgen-lock"


class LockTimeout(Exception):
    """Another render held the lock for longer than the timeout."""


class UnsafeLock(Exception):
    """The lock file's path holds a symlink."""


def lock_path(out_dir: Path) -> Path:
    """Where the lock for ``out_dir`` (absolute) lives."""
    if os.path.ismount(out_dir):
        return out_dir / INSIDE_NAME
    return out_dir.parent / f".{out_dir.name}.obsgen-lock"


def timeout_from_env() -> float:
    """``OBSGEN_LOCK_TIMEOUT`` in seconds, else DEFAULT_TIMEOUT."""
    try:
        return max(0.0, float(os.environ.get("OBSGEN_LOCK_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextlib.contextmanager
def locked(out_dir: Path, timeout: float) -> Iterator[Path]:
    """Hold the exclusive lock of ``out_dir`` (absolute, its parent existing) while the block runs."""
    path = lock_path(out_dir)
    if fcntl is None:  # pragma: no cover
        yield path
        return
    deadline = time.monotonic() + timeout
    fd = _acquire(path, deadline, timeout)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # while still holding it: see the module docstring
        os.close(fd)


def _acquire(path: Path, deadline: float, timeout: float) -> int:
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeLock(f"{path} is a symlink; obsgen does not write through symlinks") from None
            raise
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(_timeout_message(path, fd, timeout)) from None
                    time.sleep(_POLL)
            mine = os.fstat(fd)
            try:
                current = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                current = None
            if current is not None and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the previous holder removed this file after we opened it: lock the new one


def _timeout_message(path: Path, fd: int, timeout: float) -> str:
    try:
        holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    except OSError:
        holder = ""
    who = f"process {holder}" if holder.isdigit() else "another process"
    return (f"another obsgen render ({who}) is writing this output directory; waited {timeout:g} s for "
            f"the lock {path} (OBSGEN_LOCK_TIMEOUT sets the wait)")
