"""The parse-back loader gives exactly what PyYAML's safe loader gives: the same data or the same error."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from obsgen.emit import readback as yaml_load
from obsgen.emit.readback import load_yaml
from tests import upstream

ROOT = Path(__file__).resolve().parent.parent
SAFE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def reference(text: str) -> tuple[str, object]:
    try:
        return "ok", yaml.load(text, Loader=SAFE)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def fast(text: str) -> tuple[str, object]:
    try:
        return "ok", load_yaml(text)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def same(text: str) -> None:
    """Equal data of the same types in the same order (``==`` alone takes 1, 1.0 and True as equal)."""
    expected, got = reference(text), fast(text)
    assert _normal(got) == _normal(expected), text
    assert repr(got) == repr(expected), text


def _normal(value: object) -> object:
    """NaN is not equal to itself; everything else compares as is."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {_normal(k): _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_normal(v) for v in value)
    return value


# Scalars whose tag YAML 1.1 resolves implicitly, and texts around them.
TRICKY = [
    "yes", "No", "on", "OFF", "y", "~", "null", "Null", "", "true", "False", "0x1F", "0o17", "017", "1_000",
    "1:30", "190:20:30", "1e3", "1.5e-3", ".inf", "-.Inf", ".nan", "+1", "-0", "0.", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "=", "<<", "- x", "a: b", "#c", "'q'",
    '"dq"', "multi\nline", "trailing ", " leading", "tab\there", "ünïcödé", "\u2028", "@x", "`x", "%x",
    "!x", "&a", "*a", "|", ">", "?", ":", "{}", "[]", "a,b", "[a]", "{a: 1}",
]

scalars = st.one_of(
    st.sampled_from(TRICKY), st.text(max_size=20), st.integers(), st.floats(), st.booleans(), st.none(),
)
keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=12), st.integers(), st.booleans(), st.none())
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(data, st.sampled_from([False, True, None]), st.sampled_from([None, "'", '"', "|"]))
def test_any_dumped_document(value: object, flow: bool | None, style: str | None) -> None:
    same(yaml.dump(value, default_flow_style=flow, default_style=style, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TRICKY), min_size=1, max_size=6), st.sampled_from(["key: {}\n", "- {}\n", "{}\n"]))
def test_plain_texts_resolve_alike(texts: list[str], shape: str) -> None:
    same("".join(shape.format(t) for t in texts))


@pytest.mark.parametrize("text", [
    "base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n",               # merge key
    "a: &x [1, 2]\nb: *x\n",                                                # alias, shared
    "= : v\n",                                                              # value key, plain
    "!!value x: 1\n",                                                        # value tag
    "[1, 2]: x\n",                                                          # unhashable key
    "{a: 1}: x\n",                                                          # unhashable key
    "a: 1\na: 2\n",                                                         # duplicate key: last wins
    "!!set {a, b}\n", "!!omap [a: 1, b: 2]\n", "!!pairs [a: 1, a: 2]\n",
    "!!binary aGVsbG8=\n", "!!python/object:os.system x\n", "!local x\n",
    "t: 2001-12-14t21:59:43.10-05:00\n", "d: 2002-12-14\n",
    "a: !!str 1\nb: !!int '7'\nc: !!float '1'\n", "a: !!bool yes\n",
    "x: !!map {a: 1}\ny: !!seq [1]\n",
    "", "# only a comment\n", "--- a\n", "a\n--- b\n", "a: [1, 2\n", "a: 'x\n", "\t- x\n",
])
def test_every_special_case(text: str) -> None:
    same(text)


def test_an_alias_is_one_shared_object_as_in_pyyaml() -> None:
    text = "a: &x [1, {b: 2}]\nb: *x\nc: &y {k: v}\nd: [*y, *y]\n"
    data = load_yaml(text)
    assert data == yaml.load(text, Loader=SAFE)
    assert data["a"] is data["b"] and data["d"][0] is data["d"][1] is data["c"]


def test_nested_aliases_are_built_once() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    data = load_yaml("\n".join(levels) + "\n")  # 10^8 leaves if every alias were copied
    assert data["a7"][0] is data["a6"] and data["a6"][9] is data["a5"]


def test_a_recursive_alias() -> None:
    text = "a: &x [1, *x]\n"
    assert repr(load_yaml(text)) == repr(yaml.load(text, Loader=SAFE)) == "{'a': [1, [...]]}"


def test_a_real_render_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = {path: path.read_text(encoding="utf-8") for path in sorted((ROOT / "generated" / "shop").rglob("*.yaml"))}
    expected = {path: yaml.load(text, Loader=SAFE) for path, text in texts.items()}

    def slow(self: object, node: object) -> object:
        raise AssertionError("fell back to PyYAML's constructor")

    monkeypatch.setattr(yaml_load._Base, "construct_document", slow)
    assert len(texts) > 15
    for path, text in texts.items():
        assert load_yaml(text) == expected[path], path


def test_upstream_configs_read_alike() -> None:
    corpus = upstream.require()
    files = sorted(corpus.rglob("*.yaml")) + sorted(corpus.rglob("*.yml"))
    assert len(files) > 20
    for path in files:
        same(path.read_text(encoding="utf-8", errors="replace"))
