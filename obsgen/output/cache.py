"""A machine-local cache of render results, so an unchanged spec is answered without rendering.

Pre-commit hooks run ``obsgen render --check`` and ``obsgen validate`` on every commit, and almost
always on a spec that did not change. The cache may save time, never change an answer:

- The key covers every input of a render: the spec's bytes (read once by the caller, and exactly
  those bytes are rendered on a miss), its displayed name, the command, obsgen's own code (by
  content), every installed file of each dependency distribution (its RECORD plus
  size, mtime, ctime and inode of each file it lists: an edit anywhere in a dependency changes the
  ctime even when size and mtime are put back) and the Python build.
- An entry holds its own key, the command and a SHA-256 of its content; anything that does not
  parse, has the wrong shape, belongs to another key or fails its digest is a miss, never an error.
- A hit may skip rendering, never the comparison of the output directory against the entry: every
  file is hashed on disk, and the manifest on disk must list exactly the entry's files. A planted or
  copied entry therefore cannot make ``--check`` pass on files a render would not have produced.
- Entries live in a directory owned by the user and writable by nobody else (else the cache is
  off): without a secret there is no defence against the user's own forgeries, only against other
  users' and against corruption.
- Size is bounded: an entry over ``MAX_ENTRY_BYTES`` is not stored, and after each store the least
  recently used entries (by mtime; a hit touches its entry) go until ``MAX_TOTAL_BYTES`` holds.

Set ``OBSGEN_NO_CACHE=1`` to turn it off; ``OBSGEN_CACHE_DIR`` moves it.

This module must stay cheap to import: the fast path exists to avoid importing pydantic (and obsgen modules
that import it).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import stat
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the obsgen package (this module is obsgen/output/cache.py)
# Import names of every distribution obsgen needs at run time, with their own dependencies
# (tests/test_cache.py checks this against the installed metadata of obsgen's requirements).
_DEPENDENCIES = (
    "pydantic", "pydantic_core", "annotated_types", "typing_extensions", "typing_inspection", "yaml",
    "attr", "click", "jsonschema", "jsonschema_specifications", "referencing", "rpds",
    "promql_parser", "re2",
)
# Import name -> distribution name, where they differ.
_DISTRIBUTION_NAMES = {"yaml": "pyyaml", "attr": "attrs", "rpds": "rpds_py", "re2": "google_re2"}
FORMAT = 2
MANIFEST = "obsgen-manifest.json"  # obsgen.output.MANIFEST, without importing it
MAX_ENTRY_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
_STALE_TMP_SECONDS = 3600
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # obsgen.emit.artifacts.safe_relpath's rule
_DIAGNOSTIC_FIELDS = {"code": str, "message": str, "severity": str, "file": str, "line": int, "column": int,
                      "path": str, "hint": str}
SERIES_FIELDS = ("total", "span_metrics", "service_graph", "recording_rules", "rules_read_per_evaluation")


def enabled() -> bool:
    """False when the user turned the cache off."""
    return os.environ.get("OBSGEN_NO_CACHE", "").lower() not in ("1", "true", "yes")


def cache_dir() -> Path:
    """Where entries live: $OBSGEN_CACHE_DIR, else $XDG_CACHE_HOME/obsgen, else ~/.cache/obsgen."""
    if os.environ.get("OBSGEN_CACHE_DIR"):
        return Path(os.environ["OBSGEN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "obsgen"


# ------------------------------------------------------------------------------------------------
# The key


@cache
def code_fingerprint() -> str:
    """Hash of obsgen's code, the dependencies' installed files, and the Python build."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{sys.implementation.cache_tag}\0".encode())
    for label, path in code_files():
        digest.update(label.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _DEPENDENCIES:
        digest.update(f"{name}\0".encode() + _dependency_state(name).encode() + b"\0")
    return digest.hexdigest()


def code_files() -> list[tuple[str, Path]]:
    """Every file of obsgen's package, as (label, path)."""
    return [(str(path.relative_to(_PACKAGE)), path) for path in sorted(_PACKAGE.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts]


def _dependency_state(name: str) -> str:
    """Every installed file of the distribution that provides import ``name``, as RECORD plus stat data.

    RECORD lists every file the installer wrote (PyPA spec "Recording installed projects").

    Without a distribution record (a source tree on sys.path) every file below the package is walked.
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return "missing"
    origin = Path(spec.origin)
    package_dir = origin.parent if spec.submodule_search_locations else None
    site = package_dir.parent if package_dir is not None else origin.parent
    record = _find_record(site, _DISTRIBUTION_NAMES.get(name, name))
    if record is None:
        files = sorted(p for p in package_dir.rglob("*") if "__pycache__" not in p.parts) if package_dir else [origin]
        return "walk\0" + "\0".join(_stat_line(p, str(p)) for p in files)
    record_text = record.read_text(encoding="utf-8", errors="replace")
    lines = [f"{record}\0{record_text}"]
    for row in record_text.splitlines():
        rel = row.rsplit(",", 2)[0] if row.count(",") >= 2 else row
        if rel and "__pycache__" not in rel:
            lines.append(_stat_line(site / rel, rel))
    return "\0".join(lines)


def _stat_line(path: Path, label: str) -> str:
    # ctime cannot be set back by a user: utimensat(2) (os.utime) sets atime/mtime and stamps ctime with
    # the current time, as every write does; so an edit shows even with size and mtime put back
    try:
        st = path.stat()
    except OSError:
        return f"{label}\0gone"
    return f"{label}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _find_record(site: Path, distribution: str) -> Path | None:
    """The RECORD of ``distribution`` installed in ``site``, or None."""
    wanted = _normalise(distribution)
    for entry in _listing(site):
        if entry.endswith(".dist-info") and _normalise(entry[: -len(".dist-info")].split("-")[0]) == wanted:
            record = site / entry / "RECORD"
            if record.is_file():
                return record
    return None


@cache
def _listing(site: Path) -> tuple[str, ...]:
    try:
        return tuple(sorted(os.listdir(site)))
    except OSError:
        return ()


def key(spec_bytes: bytes, display: str, command: str) -> str:
    """The cache key of one command on one spec."""
    digest = hashlib.sha256(f"{command}\0{display}\0{code_fingerprint()}\0".encode())
    digest.update(spec_bytes)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------
# Entries


def _trusted_dir(directory: Path) -> bool:
    """The cache directory exists, is a directory, is ours and nobody else can write to it."""
    try:
        st = os.stat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o022:
        return False
    return not hasattr(os, "geteuid") or st.st_uid == os.geteuid()


def _digest(entry: dict[str, object]) -> str:
    body = {k: v for k, v in entry.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def _read_entry(path: Path) -> bytes | None:
    """The entry's bytes: a regular file of ours, not through a symlink, at most MAX_ENTRY_BYTES."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode) or (hasattr(os, "geteuid") and st.st_uid != os.geteuid()):
            return None
        data = handle.read(MAX_ENTRY_BYTES + 1)
    return data if len(data) <= MAX_ENTRY_BYTES else None


def _valid_diagnostics(items: object) -> bool:
    if not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, dict) or set(item) != set(_DIAGNOSTIC_FIELDS):
            return False
        if any(type(item[name]) is not kind for name, kind in _DIAGNOSTIC_FIELDS.items()):
            return False
        # only results without errors are stored, so an error in an entry is never genuine
        if item["severity"] != "warning" or not re.fullmatch(r"OBS\d{3}", item["code"]):
            return False
    return True


def _safe_relpath(rel: str) -> bool:
    parts = rel.split("/")
    return all(p not in (".", "..") and _SAFE_PART.match(p) for p in parts)


def _valid_files(files: object) -> bool:
    return (isinstance(files, dict) and MANIFEST in files
            and all(isinstance(rel, str) and _safe_relpath(rel) and isinstance(h, str) and _HEX64.match(h)
                    for rel, h in files.items()))


def _valid_series(series: object) -> bool:
    return (isinstance(series, dict) and set(series) == set(SERIES_FIELDS)
            and all(type(v) is int and v >= 0 for v in series.values()))


_PAYLOAD = {"render": ("files", _valid_files), "validate": ("series", _valid_series)}


def lookup(entry_key: str, command: str) -> dict[str, object] | None:
    """The stored entry for ``entry_key``, or None when there is none or it is anything but well formed."""
    directory = cache_dir()
    if command not in _PAYLOAD or not _trusted_dir(directory):
        return None
    path = directory / f"{entry_key}.json"
    raw = _read_entry(path)
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    field, valid = _PAYLOAD[command]
    if not isinstance(entry, dict) or set(entry) != {"format", "key", "command", "diagnostics", field, "digest"}:
        return None
    if (entry["format"] != FORMAT or entry["key"] != entry_key or entry["command"] != command
            or entry["digest"] != _digest(entry) or not _valid_diagnostics(entry["diagnostics"])
            or not valid(entry[field])):
        return None
    with contextlib.suppress(OSError):  # least recently used goes first: a hit counts as a use
        os.utime(path)
    return entry


def store(entry_key: str, command: str, diagnostics: list[dict[str, object]], payload: object) -> None:
    """Write an entry atomically, then evict; a cache that cannot be written is silently skipped."""
    field, _ = _PAYLOAD[command]
    entry: dict[str, object] = {"format": FORMAT, "key": entry_key, "command": command,
                                "diagnostics": diagnostics, field: payload}
    entry["digest"] = _digest(entry)
    data = json.dumps(entry, sort_keys=True, ensure_ascii=True).encode()
    if len(data) > MAX_ENTRY_BYTES:
        return
    directory = cache_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted_dir(directory):
            return
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, directory / f"{entry_key}.json")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        evict(directory)
    except OSError:
        return


def evict(directory: Path, max_total: int | None = None) -> None:
    """Remove least recently used entries until the cache holds at most ``max_total`` bytes."""
    limit = MAX_TOTAL_BYTES if max_total is None else max_total
    entries: list[tuple[int, str, int]] = []
    now = time.time()
    for item in os.scandir(directory):
        try:
            st = item.stat(follow_symlinks=False)
        except OSError:
            continue
        if item.name.startswith(".tmp-"):
            if now - st.st_mtime > _STALE_TMP_SECONDS:  # left by a killed run
                with contextlib.suppress(OSError):
                    os.unlink(item.path)
        elif item.name.endswith(".json"):
            entries.append((st.st_mtime_ns, item.name, st.st_size))
    total = sum(size for _, _, size in entries)
    for _, name, size in sorted(entries):
        if total <= limit:
            break
        with contextlib.suppress(OSError):
            os.unlink(directory / name)
        total -= size


# ------------------------------------------------------------------------------------------------
# A hit is checked against the disk


def output_matches(out_dir: Path, files: dict[str, str], spec_file: str) -> bool:
    """True when every file of a cached render (manifest included) is on disk with the same hash and the
    manifest on disk lists exactly those files, for this spec."""
    if out_dir.is_symlink() or not out_dir.is_dir():
        return False
    try:
        # a stage left by a killed in-place write still owns files: only a full render sorts that out
        if any(name.startswith(".obsgen-stage-") for name in os.listdir(out_dir)):
            return False
    except OSError:
        return False
    manifest: bytes = b""
    for rel, expected in files.items():
        path = out_dir / rel
        try:
            if path.is_symlink():
                return False
            data = path.read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != expected:
            return False
        if rel == MANIFEST:
            manifest = data
    try:
        doc = json.loads(manifest)
    except ValueError:
        return False
    listed = {rel: h for rel, h in files.items() if rel != MANIFEST}
    return (isinstance(doc, dict) and doc.get("generated_by") == "obsgen" and doc.get("spec") == spec_file
            and doc.get("files") == listed)
