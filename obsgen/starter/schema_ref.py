"""Where the starter spec's ``# yaml-language-server: $schema=...`` line points.

Always a path relative to the spec file. yaml-language-server resolves a relative ``$schema`` against the
YAML file's own directory (its README: "relativeFilePath ... relative to the open yaml file"), so the line
works in every clone of the repository, wherever it is checked out, offline, and with the schema of the
obsgen that validates the spec. An absolute path would work only on the machine that ran ``init``; a URL
would need the hosting repository to be public and could describe another obsgen version than the one
installed.

1. ``obsgen.schema.json`` already beside the spec (obsgen's own ``specs/``, or a user's repository that
   keeps one there): ``./obsgen.schema.json``.
2. The spec is inside the git work tree that holds the schema obsgen ships (``specs/obsgen.schema.json``
   of this checkout): the relative path to it, e.g. ``../specs/obsgen.schema.json``.
3. Anywhere else (a user's own repository): ``./obsgen.schema.json``, and ``init`` writes the schema there
   (``obsgen schema -o`` refreshes it after an upgrade), so the spec and its schema are committed together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath

from obsgen.console.paths import git_root

SCHEMA_NAME = "obsgen.schema.json"


@dataclass(frozen=True)
class SchemaRef:
    """The ``$schema`` value, and the schema file ``init`` must write for it (None: it exists)."""

    ref: str
    write_to: Path | None


def shipped_schema() -> Path | None:
    """``specs/obsgen.schema.json`` of the checkout obsgen runs from, when there is one."""
    candidate = Path(__file__).resolve().parent.parent.parent / "specs" / SCHEMA_NAME
    return candidate if candidate.is_file() else None


def _relative(target: Path, base: Path) -> str:
    text = PurePath(os.path.relpath(target, base)).as_posix()
    return text if text.startswith("../") else f"./{text}"


def schema_ref(spec_dir: Path) -> SchemaRef:
    """The ``$schema`` for a spec written into ``spec_dir`` (see the module's rules)."""
    beside = spec_dir / SCHEMA_NAME
    if beside.is_file():
        return SchemaRef(f"./{SCHEMA_NAME}", None)
    shipped = shipped_schema()
    if shipped is not None:
        existing = next(folder for folder in (spec_dir.resolve(), *spec_dir.resolve().parents) if folder.exists())
        root = git_root(existing)
        if root is not None and root == git_root(shipped.parent):
            return SchemaRef(_relative(shipped.resolve(), spec_dir.resolve()), None)
    return SchemaRef(f"./{SCHEMA_NAME}", beside)
