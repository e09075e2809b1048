"""A machine-local cache of render results, so an unchanged spec is answered without rendering.

Pre-commit hooks run ``obsgen render --check`` and ``obsgen validate`` on every commit, and almost
always on a spec that did not change. The cache key covers every input of a render: the spec's bytes
and displayed name, obsgen's own code and templates, the installed dependencies and the Python
version. A hit still compares the output directory file by file against the cached hashes, so a
hand-edited or deleted file is always noticed (and then rendered in full, to print the diff).
Set ``OBSGEN_NO_CACHE=1`` to turn it off; ``OBSGEN_CACHE_DIR`` moves it.

This module must stay cheap to import: the fast path exists to avoid importing pydantic, jinja2
and grafanalib.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_DEPENDENCIES = ("pydantic", "pydantic_core", "yaml", "jinja2", "grafanalib", "click", "attr")
FORMAT = 1


def enabled() -> bool:
    """False when the user turned the cache off."""
    return os.environ.get("OBSGEN_NO_CACHE", "").lower() not in ("1", "true", "yes")


def cache_dir() -> Path:
    """Where entries live: $OBSGEN_CACHE_DIR, else $XDG_CACHE_HOME/obsgen, else ~/.cache/obsgen."""
    if os.environ.get("OBSGEN_CACHE_DIR"):
        return Path(os.environ["OBSGEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "obsgen"


@cache
def code_fingerprint() -> str:
    """Hash of obsgen's code and templates, the dependencies' installed files, and the Python version."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0".encode())
    templates = _PACKAGE / "templates"
    for root in (_PACKAGE, templates.resolve()):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    for name in _DEPENDENCIES:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        if origin is not None and origin.exists():
            stat = origin.stat()
            digest.update(f"{name}\0{origin}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def key(spec_bytes: bytes, display: str, command: str) -> str:
    """The cache key of one command on one spec."""
    digest = hashlib.sha256(f"{command}\0{display}\0{code_fingerprint()}\0".encode())
    digest.update(spec_bytes)
    return digest.hexdigest()


def lookup(entry_key: str) -> dict[str, object] | None:
    """The stored entry, or None."""
    path = cache_dir() / f"{entry_key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def store(entry_key: str, entry: dict[str, object]) -> None:
    """Write an entry atomically; a cache that cannot be written is silently skipped."""
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle, sort_keys=True)
        os.replace(tmp, directory / f"{entry_key}.json")
    except OSError:
        return


def output_matches(out_dir: Path, files: dict[str, str]) -> bool:
    """True when every file of a cached render (manifest included) is on disk with the same hash."""
    if out_dir.is_symlink() or not out_dir.is_dir():
        return False
    for rel, expected in files.items():
        path = out_dir / rel
        try:
            if path.is_symlink() or hashlib.sha256(path.read_bytes()).hexdigest() != expected:
                return False
        except OSError:
            return False
    return True
