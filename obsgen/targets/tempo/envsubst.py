"""Tempo's ``-config.expand-env``: drone/envsubst runs over the whole file text before YAML parsing.

In drone/envsubst's text mode only ``${...}`` starts a substitution (a bare ``$NAME`` is left alone),
``$$`` is a literal ``$``, and a backslash before ``\\`` or ``/`` is dropped (``parse/scan.go``
scanEscaped). So a literal from the spec survives expansion when every ``$`` and every ``\\`` is
doubled; the references obsgen means (secrets, deployment addresses) are :class:`EnvRef` values
that are written unescaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from obsgen.emit.escape import envsubst_literal as literal

_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# The subset of drone/envsubst's ${...} grammar obsgen writes and the expander below understands.
_REF = re.compile(r"\$\{([A-Za-z0-9_-]+)(?::-([^}]*))?\}")


class SubstitutionError(ValueError):
    """Text drone/envsubst would reject (``bad substitution``) or expand in a way obsgen did not intend."""


@dataclass(frozen=True)
class EnvRef:
    """An intended ``${NAME}`` (or ``${NAME:-default}``) reference, resolved from Tempo's environment."""

    name: str
    default: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"environment variable name {self.name!r} is not UPPER_SNAKE_CASE")
        # A default is read up to the first '}' with no escape processing, so it must hold neither.
        if self.default is not None and any(ch in self.default for ch in "${}\\\n"):
            raise ValueError(f"default {self.default!r} cannot be written inside ${{...:-...}}")

    def text(self) -> str:
        """The reference as written in the config."""
        return f"${{{self.name}}}" if self.default is None else f"${{{self.name}:-{self.default}}}"


def resolve(value: object, *, expand_env: bool) -> object:
    """Turn plain data holding :class:`EnvRef` leaves into YAML-ready data.

    With ``expand_env`` every string (keys too) is escaped with :func:`literal`; without it, strings
    are kept as they are and an :class:`EnvRef` is an error, because nothing would expand it.
    """
    if isinstance(value, EnvRef):
        if not expand_env:
            raise ValueError(f"{value.text()} needs -config.expand-env")
        return value.text()
    if isinstance(value, str):
        return literal(value) if expand_env else value
    if isinstance(value, dict):
        return {resolve(k, expand_env=expand_env): resolve(v, expand_env=expand_env) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(v, expand_env=expand_env) for v in value]
    return value


def expand(text: str, env: Mapping[str, str]) -> str:
    """Expand ``text`` like drone/envsubst's text mode (for the forms obsgen writes); raise on anything else.

    A ``${`` that is not ``${NAME}`` or ``${NAME:-default}`` is an error here even where drone would
    accept a fancier form, because obsgen never means to write one.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        nxt = text[i + 1 : i + 2]
        if ch == "$" and nxt == "$":
            out.append("$")
            i += 2
        elif ch == "\\" and nxt in ("\\", "/"):
            out.append(nxt)
            i += 2
        elif ch == "$" and nxt == "{":
            match = _REF.match(text, i)
            if match is None:
                raise SubstitutionError(f"bad substitution at offset {i}: {text[i:i + 40]!r}")
            value = env.get(match.group(1), "")
            out.append(value if value or match.group(2) is None else match.group(2))
            i = match.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def references(text: str) -> list[str]:
    """Names of the ``${...}`` references drone/envsubst would expand in ``text`` (in order, with repeats)."""
    names: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i) or (text[i] == "\\" and text[i + 1 : i + 2] in ("\\", "/")):
            i += 2
            continue
        if text.startswith("${", i):
            match = _REF.match(text, i)
            if match is None:
                raise SubstitutionError(f"bad substitution at offset {i}: {text[i:i + 40]!r}")
            names.append(match.group(1))
            i = match.end()
            continue
        i += 1
    return names
