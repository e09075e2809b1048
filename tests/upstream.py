"""The upstream config corpus in ``../shared/upstream``: present beside the checkout in CI, absent in a clone.

Tests that read it go through this module, so that without the corpus every one of them is still
collected and skips with one reason (and in CI, where it must be present, fails instead of skipping).
A parametrised test takes its values from ``names()``: without the corpus it gets a single placeholder
case, which ``path()`` turns into that skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parent.parent.parent / "shared" / "upstream"
ABSENT_REASON = "../shared/upstream (the upstream config corpus) is not beside this checkout; CI has it"
ABSENT = "<shared/upstream absent>"


def require(subdir: str = "") -> Path:
    """The corpus folder ``subdir``; skips (fails in CI) when the corpus is absent."""
    folder = UPSTREAM / subdir
    if not folder.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{folder} is missing in CI")
        pytest.skip(ABSENT_REASON)
    return folder


def names(subdir: str, *patterns: str) -> list[str]:
    """Sorted file names in ``subdir`` matching any of ``patterns``; ``[ABSENT]`` when the corpus is absent."""
    folder = UPSTREAM / subdir
    if not folder.is_dir():
        return [ABSENT]
    return sorted({p.name for pattern in patterns for p in folder.glob(pattern)})


def path(subdir: str, name: str) -> Path:
    """The file ``subdir/name`` of the corpus (skips, or fails in CI, when the corpus is absent)."""
    return require(subdir) / name
