"""Shared fixtures: paths, the golden-file switch, and real tools (promtool) that CI must have."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests import realtools

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


# Every test exercises a real render; the result cache is tested on its own (tests/test_cache.py).
os.environ["OBSGEN_NO_CACHE"] = "1"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True only when pytest runs with --update-golden; nothing else rewrites goldens."""
    return bool(request.config.getoption("--update-golden"))


def require_tool(name: str) -> str:
    """Path of a real tool; in CI a missing tool fails the test instead of skipping it.

    The tools ``make tools`` builds (the Collector, Prometheus 3 and its promtool) come from
    ``tests/realtools.py``, never from PATH; anything else is looked up on PATH.
    """
    if name in realtools.ENV:
        return realtools.require(name)
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI (make test installs it)")
        pytest.skip(f"{name} not installed (run make test)")
    return path


@pytest.fixture
def promtool() -> str:
    """Path of promtool."""
    return require_tool("promtool")


def as_file_permissions_apply() -> list[str]:
    """A command prefix under which file permission bits apply, even to root.

    Root passes permission checks through CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (capabilities(7)); with both
    dropped from the bounding set (util-linux ``setpriv``), root is checked as the owner of its own files, so a
    mode-0 file is unreadable and a 0444 file unwritable. CI runs as root: tests of those errors run there too.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("setpriv (util-linux) is needed to test permission errors as root")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
