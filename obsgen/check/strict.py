"""Shared result type and helpers for the strict config models."""

from __future__ import annotations

from typing import NamedTuple


class StrictError(NamedTuple):
    """One violation found in a rendered (or upstream) config document.

    ``path`` is a dotted location inside the document (``processors.tail_sampling.policies[2].name``),
    ``message`` says what is wrong in the words of the tool that would reject it.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def format_loc(loc: tuple[object, ...]) -> str:
    """Render a pydantic/our own location tuple as ``a.b[2].c``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
