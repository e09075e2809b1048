"""Jinja2 for YAML artifacts, with values allowed into the output only through serialising filters.

A template that writes ``{{ name }}`` instead of ``{{ name | yaml }}`` fails at render time: the
environment's ``finalize`` rejects anything that did not pass a filter. That makes "no string from a
spec reaches YAML unescaped" a property of the machinery, not of reviewer attention.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from obsgen.emit.escape import yaml_comment, yaml_double_quoted, yaml_flow_json
from obsgen.emit.fast import block_yaml


class Serialized(str):
    """Text produced by a serialising filter: safe to place in a template's output."""

    __slots__ = ()


def dump_yaml(data: object) -> str:
    """Deterministic block YAML for any plain data (dict order is kept: callers decide key order).

    Byte-identical to ``dump_yaml_reference``; ``obsgen.emit.fast.block_yaml`` writes the block structure
    directly and asks the reference only for each distinct scalar's text (or for whole documents it
    is not sure about), which takes most of PyYAML's per-node Python work out of a render.
    """
    return block_yaml(data)


def yaml_filter(value: object, indent: int = 0) -> Serialized:
    """``{{ x | yaml }}``: a scalar inline, or a block mapping/sequence indented by ``indent`` spaces.

    For a block value the first line starts without indentation, so write it on its own line in the
    template at the right column (``key:\\n  {{ value | yaml(2) }}``).
    """
    if isinstance(value, dict | list):
        if not value:
            return Serialized("{}" if isinstance(value, dict) else "[]")
        text = dump_yaml(value).rstrip("\n")
        pad = " " * indent
        return Serialized(("\n" + pad).join(text.split("\n")))
    if isinstance(value, str) and any(ch in value for ch in "\n\r\x85\u2028\u2029"):
        # inline, a line break must be an escape inside a double-quoted scalar
        return Serialized(yaml_double_quoted(value))
    text = dump_yaml(value)
    # a scalar document ends with "...\n" when plain; take the scalar line only
    text = text.removesuffix("\n...\n").rstrip("\n")
    if "\n" in text:
        raise ValueError("a multi-line scalar must be placed as a block value")
    return Serialized(text)


def json_filter(value: object) -> Serialized:
    """``{{ x | json }}``: a JSON value that YAML reads as the same flow value, keys sorted."""
    return Serialized(yaml_flow_json(value))


def comment_filter(value: object) -> Serialized:
    """``{{ x | comment }}``: text for a YAML comment (``escape.yaml_comment``: a line break is refused)."""
    return Serialized(yaml_comment(str(value)))


def _finalize(value: object) -> object:
    if isinstance(value, Serialized):
        return value
    if value is None or value == "":
        return ""
    raise TypeError(
        f"template output {value!r} did not pass a serialising filter (| yaml, | json or | comment)"
    )


def templates_dir() -> Path:
    """The ``templates/`` directory: inside the package when installed (a link to the checkout's ``templates/``
    in a checkout), else next to the package."""
    package = Path(__file__).resolve().parent.parent  # this module is obsgen/emit/templates.py
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("obsgen templates directory not found")


@cache
def environment() -> Any:
    """The shared Jinja2 environment (imported lazily: ``obsgen validate`` never needs it)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["yaml"] = yaml_filter
    env.filters["json"] = json_filter
    env.filters["comment"] = comment_filter
    return env


def render_template(name: str, **context: object) -> str:
    """Render ``templates/<name>`` with ``context``."""
    return str(environment().get_template(name).render(**context))
