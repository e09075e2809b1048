"""Compose a spec's YAML events into nodes, with every limit checked while the events stream in.

PyYAML's composer (C or pure) builds the whole node graph before anyone can look at it: a 7 MB spec
of a million keys took 12.8 s and 0.9 GB, an 8 MiB flow sequence 20 s and 1.6 GB, only to be refused
afterwards for having too many values. This composer reads libyaml's events one at a time and stops
at the first event past a limit (values, nesting), so a hostile spec costs at most ``MAX_NODES``
events. It builds the same ``yaml.Node`` objects as ``yaml.composer.Composer`` (anchors are registered
before their children, so a recursive alias is seen by the expansion check), iteratively, so no
nesting can exhaust Python's stack; and an undefined alias is reported by name. Nodes keep no end
mark (nothing reads it), which is a third of a node's memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)

from obsgen.diagnostics import Diagnostic

try:  # the C parser is much faster on large specs; the pure one produces the same events
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_DEPTH = 64
MAX_NODES = 200_000
"""Values (scalars, sequences, mappings, aliases) a spec may write out; aliases' expansion is bounded
separately (loader.MAX_ALIAS_EXPANSION). The synthetic 1,000-service benchmark spec has about 64,000."""


class ComposeError(Exception):
    """A limit or an alias problem found while composing; ``diagnostic`` says where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format())
        self.diagnostic = diagnostic


@dataclass
class _Open:
    """A sequence or mapping whose end event has not come yet."""

    node: yaml.SequenceNode | yaml.MappingNode
    depth: int
    items: list[yaml.Node] | None
    """A sequence's items (None for a mapping)."""
    key: yaml.Node | None = None
    """For a mapping: the key whose value comes next."""


@dataclass
class Composer:
    """One spec's composition; ``events`` counts the node events read (the seam tests bound it with)."""

    text: str
    file: str
    max_nodes: int = MAX_NODES
    max_depth: int = MAX_DEPTH
    events: int = 0
    anchors: dict[str, yaml.Node] = field(default_factory=dict)
    aliased: bool = False
    """Whether any alias was read: without one the node graph is a tree, which no alias can expand."""

    def fail(self, code: str, mark: yaml.Mark | None, message: str, hint: str = "") -> ComposeError:
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return ComposeError(Diagnostic(code, message, file=self.file, line=line, column=column, hint=hint))

    def compose(self) -> yaml.Node | None:
        """The single document's root node (None for an empty stream).

        Raises ComposeError for the limits, and yaml.YAMLError for syntax errors (the caller positions them).
        """
        loader = _Loader(self.text)
        try:
            loader.get_event()  # StreamStartEvent
            root = None
            if not loader.check_event(StreamEndEvent):
                root = self._document(loader)
            if not loader.check_event(StreamEndEvent):
                event = loader.get_event()
                raise yaml.composer.ComposerError("expected a single document in the stream",
                                                  root.start_mark if root is not None else None,
                                                  "but found another document", event.start_mark)
            loader.get_event()
            return root
        finally:
            loader.dispose()

    def _document(self, loader: yaml.Loader) -> yaml.Node:
        event = loader.get_event()
        assert isinstance(event, DocumentStartEvent | StreamStartEvent)
        stack: list[_Open] = []
        get_event = loader.get_event
        resolve = _RESOLVER.resolve
        while True:
            event = get_event()
            kind = type(event)
            parent = stack[-1] if stack else None
            if kind is SequenceEndEvent or kind is MappingEndEvent:
                node: yaml.Node = stack.pop().node
                parent = stack[-1] if stack else None
            elif kind is ScalarEvent and event.anchor is None and len(stack) <= self.max_depth:
                # the common case, kept short: a plain value that is no anchor and not too deep
                self.events += 1
                if self.events > self.max_nodes:
                    raise self._too_many(event)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolve(yaml.ScalarNode, event.value, event.implicit)
                node = yaml.ScalarNode(tag, event.value, event.start_mark, None, style=event.style)
            else:
                node = self._node(event, len(stack), parent)
                if kind is not AliasEvent and isinstance(node, yaml.SequenceNode | yaml.MappingNode):
                    stack.append(_Open(node, len(stack), node.value if kind is SequenceStartEvent else None))
                    continue
            if parent is None:
                break
            if parent.items is not None:
                parent.items.append(node)
            elif parent.key is None:
                parent.key = node
            else:
                parent.node.value.append((parent.key, node))
                parent.key = None
        end = get_event()
        assert isinstance(end, DocumentEndEvent)
        self.anchors = {}
        return node

    def _too_many(self, event: yaml.Event) -> ComposeError:
        return self.fail("OBS108", event.start_mark, f"the spec has more than {self.max_nodes:,} values",
                         "obsgen stops reading here; split the system into several specs")

    def _node(self, event: yaml.Event, depth: int, parent: _Open | None) -> yaml.Node:
        self.events += 1
        if self.events > self.max_nodes:
            raise self._too_many(event)
        # a mapping key is not a level of its own: nesting counts the values, as the spec's paths do
        is_key = parent is not None and parent.items is None and parent.key is None
        if depth > self.max_depth and not is_key:
            raise self.fail("OBS107", event.start_mark, f"nesting deeper than {self.max_depth} levels")
        if isinstance(event, AliasEvent):
            self.aliased = True
            if event.anchor not in self.anchors:
                raise self.fail("OBS104", event.start_mark, f"alias '*{event.anchor}' refers to no anchor",
                                f"define '&{event.anchor}' on a value before this alias, or copy the value")
            return self.anchors[event.anchor]
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            first = self.anchors[anchor].start_mark
            raise self.fail("OBS104", event.start_mark,
                            f"anchor '&{anchor}' is defined twice (first at line {first.line + 1})",
                            "give each anchor its own name")
        node: yaml.Node
        if isinstance(event, ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, None, style=event.style)
        elif isinstance(event, SequenceStartEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(yaml.SequenceNode, None, event.implicit)
            node = yaml.SequenceNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        elif isinstance(event, MappingStartEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = _RESOLVER.resolve(yaml.MappingNode, None, event.implicit)
            node = yaml.MappingNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        else:  # pragma: no cover - libyaml's parser emits only the events above inside a document
            raise self.fail("OBS102", event.start_mark, f"unexpected YAML event {type(event).__name__}")
        if anchor is not None:
            self.anchors[anchor] = node
        return node


_RESOLVER = yaml.resolver.Resolver()
