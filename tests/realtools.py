"""Where the tests find the real tools that ``make tools`` builds from their Go modules.

Each tool is looked up, in order: its environment variable (``OBSGEN_OTELCOL``, ``OBSGEN_PROMTOOL``,
``OBSGEN_PROMETHEUS``, ``OBSGEN_COMPOSECHECK``), then the checkout's ignored ``.tools/bin/`` folder. PATH is not
searched on purpose: Debian's ``promtool`` is Prometheus 2.42, and a test of 3.x behaviour must never run it by
accident.
In CI (``CI`` set) a missing tool fails the test; elsewhere it skips with the command that builds it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".tools" / "bin"

# tool name -> environment variable that overrides its path
ENV = {"otelcol": "OBSGEN_OTELCOL", "promtool": "OBSGEN_PROMTOOL", "prometheus": "OBSGEN_PROMETHEUS",
       "composecheck": "OBSGEN_COMPOSECHECK"}


def find(name: str) -> Path | None:
    """Path of a built tool, or None when it is not there."""
    override = os.environ.get(ENV[name])
    path = Path(override) if override else TOOLS_BIN / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def require(name: str) -> str:
    """Path of a built tool; fails in CI and skips elsewhere when it is missing."""
    path = find(name)
    if path is None:
        message = f"{name} is not built: `make tools` builds it into .tools/bin/ (or set {ENV[name]})"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must have it")
        pytest.skip(message)
    return str(path)
