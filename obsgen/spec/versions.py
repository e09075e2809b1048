"""Version strings of the pinned tools."""

from __future__ import annotations


def version_tuple(text: str) -> tuple[int, int, int]:
    """``"0.159.0"`` -> ``(0, 159, 0)``."""
    major, minor, patch = (int(p) for p in text.split("."))
    return major, minor, patch
