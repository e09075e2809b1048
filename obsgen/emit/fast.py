"""Fast writers for the two serialisations every render spends most of its time in.

``block_yaml`` and ``indented_json`` produce exactly the text of the reference serialisers
(``obsgen.emit.reference.dump_yaml_reference``: PyYAML's emitter with obsgen's representers; ``json.dumps`` with
``indent=2``), only faster. They are not re-implementations of YAML or JSON quoting:

* YAML: the block *structure* (``key: value``, ``- item``, indentation, ``{}``/``[]`` for empty
  collections) is written directly, but the text of every scalar and every key is what the real
  dumper writes for it: the texts a document needs and the memo lacks are asked for in one dump
  (one for keys, one for values) and memoised per distinct value. Anything whose text could
  depend on where it sits in the document (multi-line quoted scalars, ``? `` complex keys, block
  scalars with a keep indicator, ...) or whose type the writer does not know makes the whole
  document go through the reference dumper instead.
* JSON: with ``indent`` set, CPython 3.11 runs the pure-Python encoder. The writer here does the
  same walk with fewer layers (no generators), still encoding every string with the C
  ``encode_basestring`` that ``ensure_ascii=False`` uses and every number with ``int.__repr__`` /
  ``float.__repr__`` as ``json`` does. Non-``str`` keys, NaN/infinity, subclasses and unknown types
  go to ``json.dumps`` itself, so its output (or its exception) is what the caller gets.

Any exception inside a fast writer also falls back to the reference, so errors (unrepresentable
values, circular data) are the reference's own. ``FALLBACKS`` counts whole-document fallbacks by
reason, so tests can tell that ordinary data really takes the fast path.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from json.encoder import encode_basestring
from typing import Any

from obsgen.emit.reference import dump_yaml_reference

# Whole-document fallbacks by reason (``"yaml:<reason>"`` / ``"json:<reason>"``): tests assert this
# stays unchanged for ordinary data, so the speed-up cannot disappear silently.
FALLBACKS: Counter[str] = Counter()


class _Fallback(Exception):
    """Raised inside a fast writer: this document must go through the reference serialiser."""


# ------------------------------------------------------------------------------------------------
# YAML

# Characters libyaml treats as line breaks: a scalar whose text holds one may have been written with
# indentation after the break, which depends on the scalar's position in the document.
_YAML_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")

# The reference's text for each distinct scalar and key seen so far. Values are keyed by the ``str``
# itself or ``(type, value)`` for other scalars so that 1, 1.0 and True never share an entry (and
# ``(float, repr)`` because 0.0 == -0.0). A block scalar is kept as ``(header, lines)``. Small: what
# repeats is mostly keys and values within one document (a 1,000-service render has ~125k distinct
# scalars); a memo of all of them held ~40 MB and saved no time. Clearing only costs asking again.
_MEMO_LIMIT = 1 << 13
ScalarText = str | tuple[str, tuple[str, ...]]
_value_text: dict[object, ScalarText] = {}
_key_text: dict[str, str] = {}

# The only block-scalar headers the writer re-indents: a keep indicator ('|+') makes libyaml end the
# document with '...', and an explicit indentation indicator would need its own proof.
_LITERAL_HEADERS = ("|", "|-")

_BLOCK_PAD = 2  # the reference dumps with indent=2

_KEY, _VALUE = 0, 1  # kinds of a text the writer still has to ask the reference for


def _yaml_reference(data: object) -> str:
    return dump_yaml_reference(data)


def _has_break(text: str) -> bool:
    return any(br in text for br in _YAML_BREAKS)


def _memo_key(value: object) -> object:
    cls = type(value)
    if cls is str:
        return value
    if cls is float:
        return (float, repr(value))
    if cls is int or cls is bool or value is None:
        return (cls, value)
    raise _Fallback(f"type {cls.__name__}")


def _item_text(body: str) -> ScalarText:
    """One scalar's text from a ``- TEXT`` sequence item of the reference (``- `` already removed).

    Style choice (plain, quoted, literal) in libyaml depends only on the value and on being in a
    block, non-key context — the same for a sequence item and a mapping value — so the text is
    reusable anywhere, except for the lines of a block scalar: those are indented relative to the
    enclosing collection. They come back as ``(header, lines)`` with the two-space indentation of
    the top-level sequence removed (empty lines are written without indentation and stay empty).
    Any other multi-line text (a quoted scalar continued on indented lines) is not reused.
    """
    if not _has_break(body):
        return body
    header, _, rest = body.partition("\n")
    if header not in _LITERAL_HEADERS:
        raise _Fallback("multi-line scalar")
    lines = []
    pad = " " * _BLOCK_PAD
    for line in rest.split("\n"):
        if line == "":
            lines.append("")
        elif line.startswith(pad) and line.strip(" ") and not _has_break(line):
            lines.append(line[_BLOCK_PAD:])
        else:  # whitespace-only or under-indented line, or another kind of break: not proven
            raise _Fallback("multi-line scalar")
    return header, tuple(lines)


def _ask_values(values: list[object]) -> list[ScalarText]:
    """The reference's text for each scalar in ``values``, from one dump of them as a sequence.

    One dump instead of one per value saves PyYAML's per-call set-up. Each item starts a line with
    ``- `` at column 0; continuation lines of a multi-line scalar are indented or empty, so splitting
    there is exact — and checked: if the count of items differs, each value is asked on its own.
    """
    text = _yaml_reference(values)
    items: list[list[str]] = []
    if text.endswith("\n"):
        for line in text[:-1].split("\n"):
            if line.startswith("- "):
                items.append([line[2:]])
            elif items and (line == "" or line.startswith(" ")):
                items[-1].append(line)
            else:
                items = []
                break
    if len(items) != len(values):
        items = []
        for value in values:
            one = _yaml_reference([value])
            if not (one.startswith("- ") and one.endswith("\n")):
                raise _Fallback("scalar")
            items.append([one[2:-1]])
    return [_item_text("\n".join(item)) for item in items]


def _ask_keys(keys: list[str]) -> list[str]:
    """The reference's text for each mapping key, from one dump of ``{key: 0, ...}``.

    A key is written in libyaml's simple-key context, where its style depends only on the key, as
    one line ``KEY: 0``. Long (>= 128 bytes) or multi-line keys become ``? `` complex keys over
    several lines, which this writer does not do: then the line count differs and the document
    falls back.
    """
    text = _yaml_reference(dict.fromkeys(keys, 0))
    lines = text[:-1].split("\n") if text.endswith("\n") else []
    if len(lines) != len(keys) or not all(line.endswith(": 0") and not _has_break(line) for line in lines):
        raise _Fallback("complex key")
    return [line[:-3] for line in lines]


def _put_scalar(out: list[str], text: ScalarText, indent: int) -> None:
    """Append a scalar's text; a block scalar's lines go two columns right of its collection's."""
    if type(text) is str:
        out.append(text)
        return
    header, lines = text
    pad = "\n" + " " * (indent + _BLOCK_PAD)
    out.append(header + "".join(pad + line if line else "\n" for line in lines))


def _yaml_scalar(value: object, indent: int, out: list[str], missing: list[tuple[int, int, object, int]]) -> None:
    """Append a scalar value's memoised text, or a placeholder filled in after the walk."""
    text = _value_text.get(value if type(value) is str else _memo_key(value))
    if text is None:
        missing.append((len(out), _VALUE, value, indent))
        out.append("")
    else:
        _put_scalar(out, text, indent)


def _yaml_inline(value: object, indent: int, out: list[str], missing: list[tuple[int, int, object, int]]) -> None:
    """A value written on the line of its key or '- ': a scalar, or an empty ``{}`` / ``[]``; ends the line."""
    if type(value) is dict:
        out.append("{}")
    elif type(value) is list:
        out.append("[]")
    else:
        _yaml_scalar(value, indent, out, missing)
    out.append("\n")


def _yaml_mapping(
    data: dict[Any, Any], indent: int, out: list[str], lead: str, missing: list[tuple[int, int, object, int]]
) -> None:
    """A non-empty mapping whose keys start at column ``indent``; the first key follows ``lead``."""
    pad = " " * indent
    first = True
    for key, value in data.items():
        out.append(lead if first else pad)
        first = False
        if type(key) is not str:
            raise _Fallback("non-str key")
        text = _key_text.get(key)
        if text is None:
            missing.append((len(out), _KEY, key, indent))
            out.append("")
        else:
            out.append(text)
        cls = type(value)
        if cls is dict and value:
            out.append(":\n")
            _yaml_mapping(value, indent + 2, out, " " * (indent + 2), missing)
        elif cls is list and value:
            out.append(":\n")
            # a sequence that is a mapping value is not indented further ('key:\n- item')
            _yaml_sequence(value, indent, out, pad, missing)
        else:
            out.append(": ")
            _yaml_inline(value, indent, out, missing)


def _yaml_sequence(
    data: list[Any], indent: int, out: list[str], lead: str, missing: list[tuple[int, int, object, int]]
) -> None:
    """A non-empty sequence whose '- ' start at column ``indent``; the first one follows ``lead``."""
    pad = " " * indent
    first = True
    for item in data:
        out.append(lead if first else pad)
        first = False
        out.append("- ")
        cls = type(item)
        if cls is dict and item:
            _yaml_mapping(item, indent + 2, out, "", missing)  # first key on the '- ' line
        elif cls is list and item:
            _yaml_sequence(item, indent + 2, out, "", missing)  # '- - x'
        else:
            _yaml_inline(item, indent, out, missing)


def _fill(out: list[str], missing: list[tuple[int, int, object, int]]) -> None:
    """Ask the reference for every text the walk did not know (one dump for keys, one for values)."""
    keys: dict[str, str] = {}
    values: dict[object, object] = {}
    for _, kind, value, _ in missing:
        if kind == _KEY:
            keys[value] = ""  # type: ignore[index]
        else:
            values.setdefault(_memo_key(value), value)
    if len(_key_text) + len(keys) > _MEMO_LIMIT:
        _key_text.clear()
    if len(_value_text) + len(values) > _MEMO_LIMIT:
        _value_text.clear()
    if keys:
        key_list = list(keys)
        keys = dict(zip(key_list, _ask_keys(key_list), strict=True))
        _key_text.update(keys)
    texts: dict[object, ScalarText] = {}
    if values:
        texts = dict(zip(values, _ask_values(list(values.values())), strict=True))
        _value_text.update(texts)
    for pos, kind, value, indent in missing:
        if kind == _KEY:
            out[pos] = keys[value]  # type: ignore[index]
        else:
            piece: list[str] = []
            _put_scalar(piece, texts[_memo_key(value)], indent)
            out[pos] = piece[0]


def block_yaml(data: object) -> str:
    """Exactly ``obsgen.emit.reference.dump_yaml_reference(data)``, written directly for plain nested data.

    The fast path covers a non-empty top-level ``dict`` or ``list`` of exact ``dict``/``list``/
    ``str``/``int``/``float``/``bool``/``None`` values with ``str`` keys. Everything else (top-level
    scalars or empty collections, tuples, subclasses, non-``str`` or complex keys, multi-line scalars
    other than ``|``/``|-`` literal blocks, errors) is dumped by the reference for the whole document.
    """
    return yaml_document(data)[0]


def yaml_document(data: object) -> tuple[str, object | None]:
    """(``block_yaml(data)``, ``data`` when the fast path wrote it, else None).

    Data the fast path writes is plain (exact ``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
    finite ``float``, ``bool``, ``None``; a non-empty mapping or sequence at the top), and PyYAML's safe
    loader reads the reference's text of plain data back as equal data of the same types: its representer
    quotes or tags every scalar whose plain text its own resolver would read as another type (``'yes'``,
    ``'1_000'``, ``!!float 1e-05``), and the loader uses that resolver. So a check may read ``data`` instead of
    parsing the text back (``obsgen.emit.artifacts.yaml_artifact``); ``tests/test_emitters.py`` and
    ``tests/test_artifact_documents.py`` prove it, type for type, on hostile data and every example spec.
    """
    out: list[str] = []
    missing: list[tuple[int, int, object, int]] = []
    cls = type(data)
    try:
        if cls is dict and data:
            _yaml_mapping(data, 0, out, "", missing)  # type: ignore[arg-type]
        elif cls is list and data:
            _yaml_sequence(data, 0, out, "", missing)  # type: ignore[arg-type]
        else:
            raise _Fallback("top level")
        if missing:
            _fill(out, missing)
    except _Fallback as why:
        FALLBACKS[f"yaml:{why}"] += 1
        return _yaml_reference(data), None
    except Exception:  # e.g. NaN (ValueError) or recursion: let the reference raise its own error
        FALLBACKS["yaml:error"] += 1
        return _yaml_reference(data), None
    return "".join(out), data


# ------------------------------------------------------------------------------------------------
# JSON

# "\n" plus the indentation of each nesting level, built as needed.
_json_pads: list[str] = ["\n"]


def _json_pad(level: int) -> str:
    while len(_json_pads) <= level:
        _json_pads.append("\n" + "  " * len(_json_pads))
    return _json_pads[level]


def _json_scalar(value: object) -> str:
    """A non-string scalar exactly as ``json`` writes it (``str`` is handled by the callers)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    cls = type(value)
    if cls is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    if cls is float:
        # json writes NaN/Infinity or, with allow_nan=False, raises: leave both to json itself
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise _Fallback("non-finite float")
        return float.__repr__(value)  # type: ignore[arg-type]
    raise _Fallback(f"type {cls.__name__}")


def _json_value(value: object, level: int, out: list[str]) -> None:
    """Any value, written where its container (at ``level - 1``) puts it."""
    cls = type(value)
    if cls is str:
        out.append(encode_basestring(value))  # type: ignore[arg-type]
    elif cls is dict:
        if value:
            _json_object(value, level, out)  # type: ignore[arg-type]
        else:
            out.append("{}")
    elif cls is list or cls is tuple:
        if value:
            _json_array(value, level, out)  # type: ignore[arg-type]
        else:
            out.append("[]")
    else:
        out.append(_json_scalar(value))


def _json_object(data: dict[Any, Any], level: int, out: list[str]) -> None:
    """A non-empty dict: keys sorted (they are all ``str``, so sorting keys sorts items as json does)."""
    out.append("{")
    inner = _json_pad(level + 1)
    sep = "," + inner
    first = True
    for key in sorted(data):
        if type(key) is not str:
            # sorted() already raised TypeError for mixed key types; this is an all-non-str dict
            raise _Fallback("non-str key")
        out.append(inner if first else sep)
        first = False
        out.append(encode_basestring(key))
        out.append(": ")
        _json_value(data[key], level + 1, out)
    out.append(_json_pad(level))
    out.append("}")


def _json_array(data: list[Any] | tuple[Any, ...], level: int, out: list[str]) -> None:
    """A non-empty list (or tuple: json writes both as arrays)."""
    out.append("[")
    inner = _json_pad(level + 1)
    sep = "," + inner
    first = True
    for value in data:
        out.append(inner if first else sep)
        first = False
        _json_value(value, level + 1, out)
    out.append(_json_pad(level))
    out.append("]")


def _json_reference(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def indented_json(data: object) -> str:
    """Exactly ``json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\\n"``.

    The fast path covers exact ``dict`` (``str`` keys) / ``list`` / ``tuple`` / ``str`` / ``int`` /
    finite ``float`` / ``bool`` / ``None``; anything else, and any error, goes to ``json.dumps``.
    """
    return _indented_json(data)[0]


def _indented_json(data: object) -> tuple[str, bool]:
    """(the text, whether the fast path wrote it)."""
    out: list[str] = []
    try:
        _json_value(data, 0, out)
    except _Fallback as why:
        FALLBACKS[f"json:{why}"] += 1
        return _json_reference(data), False
    except Exception:  # e.g. mixed key types (TypeError from sorted) or recursion: json's own error
        FALLBACKS["json:error"] += 1
        return _json_reference(data), False
    out.append("\n")
    return "".join(out), True


def json_document(data: object) -> tuple[str, object | None]:
    """(``indented_json(data)``, ``data`` when ``json.loads`` of the text gives it back equal, in the same order
    and of the same types, else None).

    That holds for what the fast path writes (exact ``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
    finite ``float`` written by ``float.__repr__``, which reads back exactly, ``bool``, ``None``) when no tuple
    is in it (a tuple reads back as a list) and every mapping's keys are already in sorted order (the text has
    them sorted; checks may depend on order): one walk of the containers decides.
    """
    text, fast = _indented_json(data)
    return text, data if fast and type(data) in (dict, list) and _reads_back_same(data) else None


def _reads_back_same(data: object) -> bool:
    stack = [data]
    while stack:
        node = stack.pop()
        cls = type(node)
        if cls is dict:
            keys = list(node)  # type: ignore[call-overload]
            if keys != sorted(keys):
                return False
            stack.extend(v for v in node.values() if type(v) in _CONTAINERS)  # type: ignore[attr-defined]
        elif cls is list:
            stack.extend(v for v in node if type(v) in _CONTAINERS)  # type: ignore[attr-defined]
        else:  # a tuple
            return False
    return True


_CONTAINERS = frozenset({dict, list, tuple})
