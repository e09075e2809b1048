"""A writer of commented YAML documents whose only inputs are comment lines, keys and plain data.

The Collector, Tempo, Grafana provisioning and Prometheus configs are YAML with comments that explain
them. :class:`CommentedYaml` writes them line by line, and no spec string can reach the output
unescaped, by construction rather than by reviewer attention:

* No method takes text to place as it is. A key or value is plain data (``str``, ``int``, ``float``,
  ``bool``, ``None``, ``dict``, ``list``) and always goes through the YAML serialiser
  (:func:`yaml_value`: ``obsgen.emit.fast.block_yaml``, which writes the bytes of
  ``obsgen.emit.reference.dump_yaml_reference``, or ``obsgen.emit.escape.yaml_double_quoted`` for an
  inline string with a line break); a flow value goes through ``escape.yaml_flow_json``; a comment
  line through ``escape.yaml_comment``, which refuses a line break or a character YAML cannot read.
  So a string such as ``"a: b\\n- c"`` given as a value or a key is written quoted and reads back as
  itself; there is no "already serialised" type a caller could forge to bypass the serialiser.
* A scalar key, value or comment of any other type (a ``str`` subclass, bytes, an object with its own
  ``__str__``) is refused with ``TypeError`` instead of being turned into text. What a mapping or
  sequence holds is the serialiser's to judge: it writes what it represents as data and refuses the
  rest (a ``str`` subclass, an object: ``yaml.representer.RepresenterError``).
* The writer adds only its own structure: indentation (an ``int``), ``#``, ``:``, ``- `` and line breaks.

It replaced six Jinja templates (103 lines) that only placed comments and filtered values: Jinja's import
and the templates' compilation cost ~0.05 s of every render. The text is the templates' text, byte for
byte (the goldens and ``generated/`` prove it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Self

from obsgen.emit.escape import YAML_LINE_BREAKS, yaml_comment, yaml_double_quoted, yaml_flow_json
from obsgen.emit.fast import block_yaml

# The scalar types the serialiser writes; exact types only, so a subclass cannot bring its own text.
_SCALARS = (str, int, float, bool, type(None))
# YAML 1.2 section 7.4.2: an implicit key is "restricted to a single line" and "limited to 1024 Unicode
# characters"; PyYAML's scanner refuses a longer one ("could not find expected ':'").
IMPLICIT_KEY_LIMIT = 1024


def dump_yaml(data: object) -> str:
    """Deterministic block YAML for any plain data (dict order is kept: callers decide key order).

    Byte-identical to ``dump_yaml_reference``; ``obsgen.emit.fast.block_yaml`` writes the block structure
    directly and asks the reference only for each distinct scalar's text (or for whole documents it
    is not sure about), which takes most of PyYAML's per-node Python work out of a render.
    """
    return block_yaml(data)


def yaml_value(value: object, indent: int = 0) -> str:
    """``value`` as YAML text: a scalar inline, or a block mapping/sequence indented by ``indent`` spaces.

    For a block value the first line starts without indentation: the caller places it on its own line
    at column ``indent`` (or after ``- ``). An empty mapping or sequence is inline (``{}``, ``[]``).
    """
    if type(value) is dict or type(value) is list:
        if not value:
            return "{}" if type(value) is dict else "[]"
        text = dump_yaml(value).rstrip("\n")
        pad = " " * indent
        return ("\n" + pad).join(text.split("\n"))
    if type(value) not in _SCALARS:
        raise TypeError(f"{type(value).__name__} is not plain YAML data: {value!r} was not written")
    if type(value) is str and any(ch in value for ch in YAML_LINE_BREAKS):
        # inline, a line break must be an escape inside a double-quoted scalar
        return yaml_double_quoted(value)
    text = dump_yaml(value)
    # a scalar document ends with "...\n" when plain; take the scalar line only
    text = text.removesuffix("\n...\n").rstrip("\n")
    if "\n" in text:
        raise ValueError("a multi-line scalar must be placed as a block value")
    return text


def _key(key: str) -> str:
    if type(key) is not str:
        raise TypeError(f"a mapping key must be a str, not {type(key).__name__}: {key!r}")
    text = yaml_value(key)
    if len(text) > IMPLICIT_KEY_LIMIT:
        raise ValueError(f"a key written as {len(text)} characters is longer than YAML's implicit key limit")
    return text


def _pad(indent: int) -> str:
    if type(indent) is not int or indent < 0:
        raise TypeError(f"indentation must be a non-negative int, not {indent!r}")
    return " " * indent


class CommentedYaml:
    """One YAML document built line by line from comments, keys and plain data (see the module docstring).

    Each method writes whole lines at the column ``indent``; nesting is the caller's choice of columns,
    as in the YAML it writes (``open("receivers")`` then ``entry("otlp", {...}, indent=2)``). The strict
    check parses every artifact back, so a wrong column is caught as a wrong document, never as
    injected text.
    """

    __slots__ = ("_lines",)

    def __init__(self) -> None:
        self._lines: list[str] = []

    def comment(self, text: str, indent: int = 0) -> Self:
        """``# text`` (``escape.yaml_comment``: a line break or unreadable character is refused)."""
        if type(text) is not str:
            raise TypeError(f"a comment must be a str, not {type(text).__name__}: {text!r}")
        self._lines.append(f"{_pad(indent)}# {yaml_comment(text)}\n")
        return self

    def comments(self, lines: Iterable[str], indent: int = 0) -> Self:
        """One ``# line`` per line."""
        for line in lines:
            self.comment(line, indent)
        return self

    def blank(self) -> Self:
        """An empty line between sections."""
        self._lines.append("\n")
        return self

    def open(self, key: str, indent: int = 0) -> Self:
        """``key:`` alone: the block under it is written by the next calls, at a deeper column."""
        self._lines.append(f"{_pad(indent)}{_key(key)}:\n")
        return self

    def entry(self, key: str, value: object, indent: int = 0, value_indent: int | None = None) -> Self:
        """``key: value``; a non-empty mapping or sequence goes below the key, at ``value_indent``
        (default two columns deeper; 0 under a top-level key writes a sequence unindented)."""
        if (type(value) is dict or type(value) is list) and value:
            below = indent + 2 if value_indent is None else value_indent
            pad = _pad(below)
            self._lines.append(f"{_pad(indent)}{_key(key)}:\n{pad}{yaml_value(value, below)}\n")
        else:
            self._lines.append(f"{_pad(indent)}{_key(key)}: {yaml_value(value)}\n")
        return self

    def flow(self, key: str, value: object, indent: int = 0) -> Self:
        """``key: <value as JSON>`` on one line (``escape.yaml_flow_json``: YAML reads the same data)."""
        self._lines.append(f"{_pad(indent)}{_key(key)}: {yaml_flow_json(value)}\n")
        return self

    def item(self, value: object, indent: int = 0) -> Self:
        """``- value``: a sequence item; a block value continues two columns deeper."""
        self._lines.append(f"{_pad(indent)}- {yaml_value(value, indent + 2)}\n")
        return self

    def block(self, value: dict[str, object] | list[object], indent: int = 0) -> Self:
        """A whole non-empty mapping or sequence at column ``indent`` (a document's body)."""
        if not ((type(value) is dict or type(value) is list) and value):
            raise TypeError(f"a block is a non-empty dict or list, not {value!r}")
        self._lines.append(f"{_pad(indent)}{yaml_value(value, indent)}\n")
        return self

    def text(self) -> str:
        """The document written so far."""
        return "".join(self._lines)
