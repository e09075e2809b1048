"""Issue #14: the loader's limits stop the parse inside the event stream, before a huge structure exists.

No timings here (see benchmarks/): the composer's event counter and tracemalloc's peak are the bounds.
"""

from __future__ import annotations

import tracemalloc
from typing import ClassVar

import pytest

from obsgen.spec import loader
from obsgen.spec.compose import MAX_NODES, ComposeError, Composer
from obsgen.spec.loader import LoadError, load_text

MILLION_KEYS = "services:\n  api: {}\nx:\n" + "".join(f"  k{i}: 1\n" for i in range(1_000_000))
FLOW_ITEMS = "services: {api: {}}\nx: [" + "1," * 1_000_000 + "1]\n"


class _Recording(Composer):
    """The loader's composer, remembered so a test can read how many events it consumed."""

    made: ClassVar[list[Composer]] = []

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text, file)
        _Recording.made.append(self)


@pytest.mark.parametrize(("text", "position"), [(MILLION_KEYS, (100_000, 11)), (FLOW_ITEMS, (2, 399_991))],
                         ids=["million-keys", "flow-sequence"])
def test_too_many_values_stop_the_parse_at_the_limit(text: str, position: tuple[int, int],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _Recording.made.clear()
    monkeypatch.setattr(loader, "Composer", _Recording)
    with pytest.raises(LoadError) as info:
        load_text(text, "big.yaml")
    diag = info.value.diagnostic
    assert (diag.code, diag.line, diag.column) == ("OBS108", *position)
    assert "more than 200,000 values" in diag.message and "split" in diag.hint
    (composer,) = _Recording.made
    assert composer.events == MAX_NODES + 1  # not one event (or node) more than the limit


def test_composition_memory_is_bounded_by_the_limit_not_the_input() -> None:
    """A fifth of the limit costs a fifth of the memory: nothing is built past the limit."""
    text = "x: [" + "1," * 4_000_000 + "1]\n"  # 8 MiB, 4 million values
    tracemalloc.start()
    try:
        with pytest.raises(ComposeError):
            Composer(text, "big.yaml", max_nodes=40_000).compose()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the parser's UTF-8 copy of the text (8 MiB) plus ~200 bytes per node; all of it was 1.6 GB
    assert peak < 8 * 2**20 + 40_000 * 400


def test_nesting_limit_is_checked_while_composing() -> None:
    # (deep flow nesting is refused by libyaml's scanner itself, which looks ahead for keys)
    composer = Composer("".join("  " * i + f"k{i}:\n" for i in range(200)), "deep.yaml")
    with pytest.raises(ComposeError) as info:
        composer.compose()
    assert (info.value.diagnostic.code, info.value.diagnostic.line) == ("OBS107", 66)
    assert composer.events == 2 * 65 + 1  # the root, then 65 keys and their mappings: the last is 65 deep


def test_undefined_alias_is_named() -> None:
    with pytest.raises(LoadError) as info:
        load_text("services:\n  api: *defaults\n", "a.yaml")
    diag = info.value.diagnostic
    assert (diag.code, diag.line, diag.column) == ("OBS104", 2, 8)
    assert diag.message == "alias '*defaults' refers to no anchor"
    assert "&defaults" in diag.hint


def test_duplicate_anchor_is_named_with_both_places() -> None:
    with pytest.raises(LoadError) as info:
        load_text("a: &x 1\nb: &x 2\nservices: {api: {}}\n", "a.yaml")
    diag = info.value.diagnostic
    assert (diag.code, diag.line, diag.column) == ("OBS104", 2, 4)
    assert "'&x' is defined twice (first at line 1)" in diag.message


def test_composed_nodes_match_pyyaml() -> None:
    """Same tags, values, styles and start marks as PyYAML's own composer, anchors and aliases included."""
    import yaml

    text = ("services:\n  api: &svc {language: go, endpoints: ['GET /', {route: POST /x, critical: yes}]}\n"
            "  web: *svc\nn: [1, 2.5, ~, true, 2026-01-01, '3', \"q\"]\nb: |\n  block\nempty: {}\n")

    def shape(node: yaml.Node, seen: dict[int, int]) -> object:
        if id(node) in seen:
            return ("alias", seen[id(node)])
        seen[id(node)] = len(seen)
        mark = (node.start_mark.line, node.start_mark.column)
        if isinstance(node, yaml.MappingNode):
            return (node.tag, mark, [(shape(k, seen), shape(v, seen)) for k, v in node.value])
        if isinstance(node, yaml.SequenceNode):
            return (node.tag, mark, [shape(v, seen) for v in node.value])
        return (node.tag, mark, node.value, node.style)

    ours = Composer(text, "s.yaml").compose()
    theirs = yaml.compose(text, Loader=yaml.CSafeLoader)  # what the loader used before
    assert ours is not None and theirs is not None
    assert shape(ours, {}) == shape(theirs, {})
