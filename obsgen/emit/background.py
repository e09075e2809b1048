"""Run a pure function in a forked child while the caller goes on: the second core of a 2-core CI runner.

Only for pure work whose result pickles (rendering the sampling report, whose simulation is the biggest
single piece of a shop render: see ``obsgen.generate`` and benchmarks/README.md): if the child cannot be
started or does not deliver, the function simply runs again in the caller, so the outcome never depends on
whether a child ran. ``OBSGEN_JOBS=1`` keeps everything in one process.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def parallel_allowed() -> bool:
    """True where forking is available and safe: POSIX, one thread, not switched off."""
    return (
        hasattr(os, "fork")
        and os.environ.get("OBSGEN_JOBS", "").strip() != "1"
        # forking a process with other threads can copy a lock some thread holds
        and threading.active_count() == 1
    )


class Job(Generic[T]):
    """Work started by ``start``: ``join()`` for its result, ``cancel()`` when it is no longer wanted."""

    def __init__(self, fn: Callable[[], T], pid: int | None = None, read_fd: int | None = None) -> None:
        self._fn = fn
        self._pid = pid
        self._read_fd = read_fd
        self._result: tuple[T] | None = None
        self._cancelled = False
        self.delivered = False
        """True once the result came from the child (False: it was computed here)."""

    def join(self) -> T:
        """The result: the child's, or ``fn()`` run here when there is no child or it did not deliver
        (an exception ``fn`` raised in the child is raised again here, with a real traceback).
        Asking again gives the same result."""
        if self._cancelled:
            raise RuntimeError("join() after cancel()")
        if self._result is None:
            self._result = (self._collect(),)
        return self._result[0]

    def cancel(self) -> None:
        """Stop and reap the child, if any, without ever running ``fn`` (the caller failed or was
        interrupted)."""
        self._cancelled = True
        pid, fd = self._pid, self._read_fd
        self._pid = self._read_fd = None
        if pid is not None:
            _stop(pid)
        if fd is not None:
            os.close(fd)

    def _collect(self) -> T:
        payload = self._receive()
        if payload:
            try:
                ok, value = pickle.loads(payload)
            except Exception:  # cut short: the child died while writing
                ok = False
            if ok:
                self.delivered = True
                return value  # type: ignore[no-any-return]
        return self._fn()

    def _receive(self) -> bytes | None:
        """Everything the child wrote (None without a child); the child is reaped in every case."""
        pid, fd = self._pid, self._read_fd
        self._pid = self._read_fd = None
        if pid is None or fd is None:
            return None
        try:
            with os.fdopen(fd, "rb") as pipe:
                payload = pipe.read()  # to the end before waiting: a full pipe would block the child
        except BaseException:  # interrupted while waiting (Ctrl-C): leave no child behind
            _stop(pid)
            raise
        with contextlib.suppress(ChildProcessError):  # reaped elsewhere (SIGCHLD ignored, waitpid(-1))
            os.waitpid(pid, 0)
        return payload


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def start(fn: Callable[[], T]) -> Job[T]:
    """Start ``fn`` in a child process when parallel work is allowed; without one it runs on ``join()``."""
    if not parallel_allowed():
        return Job(fn)
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return Job(fn)
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        _die_with_parent(parent)
        _run_child(fn, read_fd, write_fd)
    os.close(write_fd)
    return Job(fn, pid, read_fd)


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WATCH_INTERVAL = 0.2


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the child
    """Make this child end when ``parent`` does: a ``kill -9`` of obsgen must not leave it running.

    On Linux the kernel sends SIGKILL on the parent's exit (prctl(2), PR_SET_PDEATHSIG: the signal is
    sent when the *thread* that created this process terminates; obsgen forks only from a
    single-threaded process, see ``parallel_allowed``). The parent may
    already have died between fork and prctl: then getppid() no longer names it and the child ends
    here. Elsewhere a daemon thread polls getppid().
    """
    if _set_parent_death_signal():
        if os.getppid() != parent:
            os._exit(1)
        return
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_WATCH_INTERVAL)
        os._exit(1)

    threading.Thread(target=watch, name="obsgen-parent-watch", daemon=True).start()


def _set_parent_death_signal() -> bool:
    """True when the kernel will SIGKILL this process once its parent exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the symbols already loaded: libc's prctl, no search
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _run_child(fn: Callable[[], object], read_fd: int, write_fd: int) -> None:  # pragma: no cover
    os.close(read_fd)
    # Everything inherited stays out of the child's collections: a collection writes to each tracked
    # object's header, which would copy nearly every page shared with the parent.
    gc.freeze()
    code = 0
    try:
        try:
            payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # any failure is reported by rerunning in the parent
            payload = pickle.dumps((False, None))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    except BaseException:  # never let the child return into the caller's code
        code = 1
    finally:
        # skip atexit handlers and buffered stdio the parent still owns
        os._exit(code)
