"""Read a pydantic error location against the spec models, so union-member tags are told from keys.

pydantic puts a tag for the union member it tried into an error's location:
``('services', 'api', 'calls', 0, 'Call', 'endpoint')`` when ``calls: [name | {service, endpoint}]``
failed as a ``Call``. A tag is a model's class name or a scalar schema's name (``'bool'``,
``'constrained-str'``), and a spec key may be spelled the same way (``Payments``, ``bool``), so a tag
cannot be recognised by its spelling. It is recognised by where it stands: the location is walked
along the models, and a part is a tag exactly when the annotation reached at that point is a union.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from obsgen.spec.models import Spec

Loc = tuple[str | int, ...]
Member = Literal["model", "scalar"]
KEY_MARKER = "[key]"
"""What pydantic appends to the location of a dict key that failed validation."""


class SpecLocation(NamedTuple):
    """An error location in spec terms: ``loc`` holds only keys and indexes of the spec's data."""

    loc: Loc
    branches: tuple[tuple[Loc, Member], ...] = ()
    """For each union passed on the way: the spec location of the union and the member tried there."""
    key_error: bool = False
    """The error is about the mapping key at ``loc`` itself, not its value."""


def _strip(annotation: Any) -> list[Any]:
    """The alternatives an annotation stands for, without ``Annotated`` wrappers and ``None``."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        out: list[Any] = []
        for arg in get_args(annotation):
            if arg is not type(None):
                out += _strip(arg)
        return out
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key == (info.alias or name):
            return info.annotation
    return None


_LEAF = object()
"""Past the end of what the models describe (an unknown key, a scalar): parts are taken as they are."""


def spec_location(raw: tuple[int | str, ...], error_type: str = "", root: type[BaseModel] = Spec) -> SpecLocation:
    """Split a pydantic location into the spec location, the union members tried, and key-ness."""
    loc: list[str | int] = []
    branches: list[tuple[Loc, Member]] = []
    current: Any = root
    parts = list(raw)
    i = 0
    while i < len(parts):
        part = parts[i]
        if current is _LEAF:
            loc.append(part)
            i += 1
            continue
        choices = _strip(current)
        if len(choices) > 1:  # a union: this part is the tag of the member pydantic tried
            models = [c for c in choices if _is_model(c) and c.__name__ == part]
            scalars = [c for c in choices if not _is_model(c)]
            if models:
                branches.append((tuple(loc), "model"))
                current = models[0]
            else:
                branches.append((tuple(loc), "scalar"))
                current = scalars[0] if scalars else _LEAF
            i += 1
            continue
        (only,) = choices if choices else (_LEAF,)
        origin = get_origin(only)
        if _is_model(only):
            loc.append(part)
            found = _field(only, str(part))
            current = found if found is not None else _LEAF
        elif origin is list:
            loc.append(part)
            current = get_args(only)[0]
        elif origin is dict:
            loc.append(part)
            rest = parts[i + 1:]
            if rest == [KEY_MARKER] and error_type not in ("extra_forbidden", "missing"):
                return SpecLocation(tuple(loc), tuple(branches), key_error=True)
            current = get_args(only)[1]
        else:
            current = _LEAF
            continue
        i += 1
    return SpecLocation(tuple(loc), tuple(branches))


def model_at(loc: Loc, root: type[BaseModel] = Spec) -> list[Any]:
    """The annotations a spec location may hold (several where a union allows several shapes)."""
    current: list[Any] = [root]
    for part in loc:
        nxt: list[Any] = []
        for cand in current:
            for only in _strip(cand):
                origin = get_origin(only)
                if _is_model(only) and isinstance(part, str):
                    found = _field(only, part)
                    if found is not None:
                        nxt.append(found)
                elif origin is list and isinstance(part, int):
                    nxt.append(get_args(only)[0])
                elif origin is dict:
                    nxt.append(get_args(only)[1])
        current = nxt
    return current


def field_at(loc: Loc, root: type[BaseModel] = Spec) -> FieldInfo | None:
    """The model field a spec location belongs to: itself, or the list/dict field holding it.

    None when the location's last key is no field of its model (an unknown key).
    """
    from obsgen.spec.field_docs import document_fields

    document_fields()  # the returned field's description (error wording) comes from its docstring
    for end in range(len(loc), 0, -1):
        key = loc[end - 1]
        if not isinstance(key, str):
            continue  # a list index: the field is further up
        models = [m for parent in model_at(loc[:end - 1], root) for m in _strip(parent) if _is_model(m)]
        if not models:
            continue  # a dict key: the field is further up
        for model in models:
            for name, info in model.model_fields.items():
                if key == (info.alias or name):
                    return info
        return None
    return None
