"""The spec file's name: it becomes the default system name and is written into every generated header.

The system name (``name:``, default: the file stem) becomes rule group names, Grafana tags, UIDs and
titles, so a stem that stands in for it must pass the same identifier check as ``name:`` itself. The
file name is written into YAML comments, JSON, an HTML comment and Grafana text whatever ``name:``
says, so it must be text every one of those sinks can hold (``escape.source_file_name``).
"""

from __future__ import annotations

import re
from pathlib import PurePath

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.emit.escape import UnsafeText, source_file_name
from obsgen.spec.loader import LoadedSpec
from obsgen.spec.models import Spec
from obsgen.spec.types import IDENT_PATTERN

_IDENT = re.compile(IDENT_PATTERN)


def stem_is_identifier(stem: str) -> bool:
    """The identifier check of ``name:`` (``types.Ident``), for a file stem."""
    return bool(_IDENT.match(stem)) and ".." not in stem


def check(path: PurePath, spec: Spec, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS207 for a file name no generated file can hold; OBS203 for a stem that cannot be the system name."""
    out: list[Diagnostic] = []
    try:
        source_file_name(path.name)
    except UnsafeText as exc:
        out.append(Diagnostic(
            "OBS207", str(exc), Severity.ERROR, loaded.file, 1, 1, "",
            hint="rename the spec file: letters, digits, spaces and ._-+@,()=~ only",
        ))
    if spec.name is None and not stem_is_identifier(path.stem):
        line, column = loaded.where(())
        out.append(Diagnostic(
            "OBS203", f"the spec has no 'name' and its file stem {path.stem!r} is not an identifier, so it "
            "cannot be the system name", Severity.ERROR, loaded.file, line, column, "name",
            hint="add 'name: <identifier>' ([A-Za-z0-9._-], starting and ending alphanumeric, at most 63 "
                 "characters) or rename the file",
        ))
    return out
