"""Compose interpolates ``$`` in every value: spec text is escaped, the stack's own variables are not."""

from __future__ import annotations

from obsgen.emit.escape import compose_value


class Interpolation(str):
    """A value written for compose to interpolate (``${VAR:-default}``): left as it is."""

    __slots__ = ()


def variable(name: str, default: str) -> Interpolation:
    """``${NAME:-default}``; ``default`` is literal text (its ``$`` doubled)."""
    return Interpolation(f"${{{name}:-{compose_value(default)}}}")


def escaped(value: object) -> object:
    """Every string value with its ``$`` doubled, so compose reads back exactly the text obsgen meant."""
    if isinstance(value, Interpolation):
        return str(value)
    if isinstance(value, str):
        return compose_value(value)
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escaped(item) for item in value]
    return value
