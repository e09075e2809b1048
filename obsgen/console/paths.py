"""How output directories and commands are shown: diff headers that ``git apply`` takes, advice that can be
copy-pasted.

- Diff headers name files relative to the git work tree the output directory is in (``a/generated/shop/x``
  from whatever subdirectory obsgen ran in), else relative to the working directory, else by the absolute
  path without its leading ``/`` (as ``git diff --no-index`` does), never by a temporary path of obsgen's.
- Advice repeats the spec path and ``--out`` exactly as given, shell-quoted, so it runs from where the user is.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path, PurePath


def git_root(start: Path) -> Path | None:
    """The work tree root at or above ``start`` (a ``.git`` directory or file), without running git."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _nearest_existing(path: Path) -> Path:
    for folder in (path, *path.parents):
        if folder.exists():
            return folder
    return Path("/")


def _below(path: Path, base: Path) -> bool:
    return os.path.commonpath([str(base), str(path)]) == str(base)


def diff_prefix(out_dir: Path) -> str:
    """The directory part of the ``a/...``/``b/...`` diff headers for files of ``out_dir``."""
    absolute = Path(os.path.abspath(out_dir))
    root = git_root(_nearest_existing(absolute))
    if root is not None:
        # resolve symlinks the same way on both sides before comparing
        real = Path(os.path.realpath(_nearest_existing(absolute))) / absolute.relative_to(_nearest_existing(absolute))
        if _below(real, root):
            return PurePath(os.path.relpath(real, root)).as_posix()
    cwd = Path(os.path.abspath(os.getcwd()))
    if _below(absolute, cwd):
        return PurePath(os.path.relpath(absolute, cwd)).as_posix()
    return PurePath(absolute).as_posix().lstrip("/")


def shown_dir(out_dir: Path) -> str:
    """``out_dir`` as the user gave it, with one trailing slash: ``generated/shop/``."""
    return str(out_dir).rstrip("/") + "/"


def render_command(spec: Path, out: Path | None) -> str:
    """The ``obsgen render`` command that brings ``out`` (default: the spec's own directory) up to date."""
    words = ["obsgen", "render", shlex.quote(str(spec))]
    if out is not None:
        words += ["--out", shlex.quote(str(out))]
    return " ".join(words)
