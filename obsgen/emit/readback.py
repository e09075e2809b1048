"""Read YAML back the way PyYAML's safe loader does, faster: libyaml parses, a direct walk constructs.

Every rendered YAML artifact is parsed back before it is checked. With libyaml the parsing itself is
C, but PyYAML then resolves each scalar's tag with a list of regexes and constructs each node through
several layers of Python (generators for recursive structures, merge-key handling, a per-node
bookkeeping dict). Our artifacts are plain block YAML, so this loader

* memoises tag resolution per (node kind, text, implicit flags) — the implicit resolvers are fixed
  per class, so the answer cannot change — and
* builds maps, sequences and the common scalar types directly from the composed nodes, with the
  safe constructor's own methods for non-string scalars.

Aliases give the one shared object, as in PyYAML. Anything else in a document (merge keys ``<<``,
``=`` value keys, other tags, unhashable keys, recursive aliases) sends the whole document through
PyYAML's own constructor, so results and errors are always the safe loader's.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
# Keys the safe constructor treats specially when flattening a mapping.
_SPECIAL_KEYS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
# Scalar tags built with the safe constructor's method and memoised (their values are immutable).
_SCALARS = ("null", "bool", "int", "float", "timestamp")

_MEMO_LIMIT = 1 << 12  # keys and common values repeat; a memo of every distinct text only costs memory


class _Fallback(Exception):
    """This document needs PyYAML's own constructor."""


_IN_PROGRESS = object()  # a collection whose children are being built


class FastSafeLoader(_Base):  # type: ignore[misc,valid-type]
    """A safe loader (libyaml when available) with memoised resolution and direct construction."""

    _tags: ClassVar[dict[tuple[object, ...], str]] = {}
    _scalars: ClassVar[dict[tuple[str, str], object]] = {}

    def resolve(self, kind: type[Node], value: str | None, implicit: Any) -> str:
        if self.yaml_path_resolvers:  # the answer would depend on the position in the document
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            if len(self._tags) >= _MEMO_LIMIT:
                self._tags.clear()
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag

    def construct_document(self, node: Node) -> object:
        # an alias is the same node object again: it must give the same (shared) object, built once
        self._collections: dict[int, object] = {}
        try:
            return self._build(node)
        except (_Fallback, RecursionError):
            return super().construct_document(node)
        finally:
            self._collections = {}

    def _build(self, node: Node) -> object:
        tag = node.tag
        kind = type(node)
        if kind is ScalarNode:
            if tag == _STR:
                return node.value
            key = (tag, node.value)
            value = self._scalars.get(key, _Fallback)
            if value is _Fallback:
                constructor = _SCALAR_CONSTRUCTORS.get(tag)
                if constructor is None:
                    raise _Fallback(tag)
                if len(self._scalars) >= _MEMO_LIMIT:
                    self._scalars.clear()
                value = self._scalars[key] = constructor(self, node)
            return value
        built = self._collections.get(id(node), _Fallback)
        if built is _IN_PROGRESS:
            raise _Fallback("recursive alias")  # PyYAML builds recursive structures
        if built is not _Fallback:
            return built
        if kind is MappingNode and tag == _MAP:
            self._collections[id(node)] = _IN_PROGRESS
            data: dict[object, object] = {}
            for key_node, value_node in node.value:
                if key_node.tag in _SPECIAL_KEYS:
                    raise _Fallback(key_node.tag)
                key = self._build(key_node)
                try:
                    hash(key)
                except TypeError:  # the safe constructor's error says where
                    raise _Fallback("unhashable key") from None
                data[key] = self._build(value_node)
            self._collections[id(node)] = data
            return data
        if kind is SequenceNode and tag == _SEQ:
            self._collections[id(node)] = _IN_PROGRESS
            items = self._collections[id(node)] = [self._build(item) for item in node.value]
            return items
        raise _Fallback(tag)


_SCALAR_CONSTRUCTORS = {
    f"tag:yaml.org,2002:{name}": getattr(yaml.constructor.SafeConstructor, f"construct_yaml_{name}")
    for name in _SCALARS
}


def load_yaml(text: str) -> object:
    """``yaml.load(text, Loader=CSafeLoader)``: the same data, or the same error, faster."""
    return yaml.load(text, Loader=FastSafeLoader)  # a safe loader
