"""docs/spec.md, generated from the models and the diagnostics catalogue so it cannot drift."""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from obsgen.diagnostics import CODES
from obsgen.spec.durations import Duration
from obsgen.spec.models import POLICY_KINDS, Spec

_INTRO = """# The obsgen spec

One YAML file describes one system's tracing intent. Every key below is checked by
`obsgen validate`; unknown keys are errors with a did-you-mean hint. Editors get completion from
`specs/obsgen.schema.json` (add `# yaml-language-server: $schema=./obsgen.schema.json` to a spec).

This page is generated from the models (`obsgen docs`); a test fails when it is stale.

A minimal spec:

```yaml
services:
  api: {}
```

Durations use Go syntax (`500ms`, `30s`, `1h30m`; `d` for days is accepted too). Percentages are
numbers such as `99.9`. A sampling policy is a mapping with a `name` and exactly one kind key:
"""


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        parts = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return " or ".join(dict.fromkeys(parts))
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is dict:
        key, value = get_args(annotation)
        return f"map {_type_name(key)} → {_type_name(value)}"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" if not isinstance(a, bool) else f"`{str(a).lower()}`"
                            for a in get_args(annotation))
    if isinstance(annotation, type):
        if issubclass(annotation, Duration):
            return "duration"
        if issubclass(annotation, Enum):
            return " \\| ".join(f"`{m.value}`" for m in annotation)
        if issubclass(annotation, BaseModel):
            return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
        return {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation)


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "**required**"
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is None or value is PydanticUndefined:
        return "—"
    if isinstance(value, BaseModel):
        return "see type"
    if isinstance(value, Duration):
        return f"`{value}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict | list):
        return "`[]`" if value == [] else ("`{}`" if value == {} else "see description")
    return f"`{value}`"


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    queue = [root]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            queue.extend(_nested(info.annotation))
    return seen


def _nested(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found += _nested(arg)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def spec_docs() -> str:
    """The full text of docs/spec.md."""
    from obsgen.spec.field_docs import document_fields

    document_fields()  # field descriptions from the models' docstrings
    lines = [_INTRO.rstrip(), ""]
    lines.append(", ".join(f"`{k}`" for k in POLICY_KINDS) + ".")
    lines.append("")
    for model in _models(Spec):
        lines += [f"## {model.__name__}", "", _cell((model.__doc__ or "").strip().split("\n\n")[0]), ""]
        lines += ["| key | type | default | description |", "|---|---|---|---|"]
        for name, info in model.model_fields.items():
            key = info.alias or name
            lines.append(
                f"| `{key}` | {_type_name(info.annotation)} | {_default(info)} | {_cell(info.description or '')} |"
            )
        lines.append("")
    lines += ["## Diagnostic codes", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {text} |" for code, text in CODES.items()]
    return "\n".join(lines) + "\n"
