"""Run a pure function in a forked child while the caller goes on: the second core of a 2-core CI runner.

Only for pure work whose result pickles (checking rendered artifacts): if the child cannot be
started or does not deliver, the function simply runs again in the caller, so the outcome never
depends on whether a child ran. ``OBSGEN_JOBS=1`` keeps everything in one process.
"""

from __future__ import annotations

import gc
import os
import pickle
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

Join = Callable[[], T]


def parallel_allowed() -> bool:
    """True where forking is available and safe: POSIX, one thread, not switched off."""
    return (
        hasattr(os, "fork")
        and os.environ.get("OBSGEN_JOBS", "").strip() != "1"
        # forking a process with other threads can copy a lock some thread holds
        and threading.active_count() == 1
    )


def start(fn: Callable[[], T]) -> Join[T]:
    """Start ``fn`` in a child process; the returned function waits for and returns its result.

    Without a child (not allowed, or fork failed) ``fn`` runs when the result is asked for.
    """
    if not parallel_allowed():
        return fn
    try:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
    except OSError:
        return fn
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        _run_child(fn, read_fd, write_fd)
    os.close(write_fd)

    def join() -> T:
        with os.fdopen(read_fd, "rb") as pipe:
            payload = pipe.read()  # read to the end before waiting: a full pipe would block the child
        _, status = os.waitpid(pid, 0)
        if status != 0 or not payload:
            return fn()  # the child died (killed, out of memory): do the work here
        ok, value = pickle.loads(payload)
        if not ok:
            return fn()  # re-raise the child's exception here, with a real traceback
        return value  # type: ignore[no-any-return]

    return join


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
