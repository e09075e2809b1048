"""Writing one generated text file (``schema -o``, ``docs -o``): an OSError becomes a diagnostic, not a traceback."""

from __future__ import annotations

import errno
from pathlib import Path

from obsgen.diagnostics import Diagnostic

_HINTS = {
    errno.ENOENT: "the directory does not exist; create it first",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "the path is a directory; name a file",
    errno.ENOSPC: "the disk is full",
    errno.EIO: "the file system refused the write; write to a regular file",
}


def write_failure(path: Path, text: str) -> Diagnostic | None:
    """Write ``text`` to ``path``; None on success, else an OBS901 diagnostic naming the file and the cause."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return Diagnostic("OBS901", f"cannot write: {exc.strerror or exc}", file=str(path),
                          hint=_HINTS.get(exc.errno or 0, "check the path and its permissions"))
    return None
