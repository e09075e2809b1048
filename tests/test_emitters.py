"""The fast emitters write exactly what the reference serialisers write, and really are the fast path.

``block_yaml`` must equal ``obsgen.emit.reference.dump_yaml_reference`` and ``indented_json`` must equal
``json.dumps(..., indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\\n"`` for every
input — the same text, or the same exception. Hypothesis drives nested data with hostile strings;
the deterministic cases pin each fallback rule and the fact that ordinary data does not fall back.
"""

from __future__ import annotations

import collections
import enum
import json
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from obsgen.emit import fast as emitters
from obsgen.emit.artifacts import dump_json
from obsgen.emit.commented_yaml import dump_yaml, yaml_value
from obsgen.emit.fast import block_yaml, indented_json
from obsgen.emit.reference import dump_yaml_reference

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def json_reference(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def outcome(fn: Callable[[object], str], data: object) -> tuple[str, str]:
    """The text, or the exception (type and message) — a fast path must match the reference in both."""
    try:
        return ("text", fn(data))
    except Exception as exc:  # the reference's error is part of its behaviour
        return (type(exc).__name__, str(exc))


@pytest.fixture(autouse=True)
def cold_memo() -> Iterator[None]:
    """Each test starts with empty memos, so the 'ask the reference' path is exercised too."""
    emitters._value_text.clear()
    emitters._key_text.clear()
    yield


def clear_memo() -> None:
    emitters._value_text.clear()
    emitters._key_text.clear()


# ------------------------------------------------------------------------------------------------
# Strategies: strings a YAML emitter has to quote, escape, fold or block

tricky = st.sampled_from([
    "", " ", "  ", "yes", "no", "Yes", "NO", "on", "off", "y", "n", "true", "False", "null", "Null", "~",
    "1e3", "1E3", "0x1f", "0o17", "017", "0b101", "1_000", "+1", "-0", "0.5", ".5", "1.", ".inf", "-.Inf",
    ".nan", "1:30", "190:20:30", "2001-01-01", "2001-12-14t21:59:43.10-05:00", "<<", "=", "- ", "-", "- x",
    "-x", "a - b", ": ", ":", "a: b", "a:b", "key: value", "#", "# c", "a #b", "a# b", "%", "%TAG", "@", "`",
    "!", "!!str", "&a", "*a", "|", "|-", ">", "'", '"', "'\"", "''", "{", "}", "[", "]", "{}", "[]", ",",
    "?", "? x", "?x", "---", "...", "--- x", " lead", "trail ", " both ", "a\nb", "a\n", "\n", "\n\n",
    "x\n\n", "a\n\nb", "a\n b", " a\nb", "a \nb", "a\n\n\nb\n", "\na", "a\r\nb", "a\rb", "\t", "a\tb",
    "a\tb\nc", "\x00", "\x07", "\x1b", "\x7f", "\x85", "\xa0", "\u2028", "\u2029", "a\u2028b", "\ufeff",
    "\ue000", "\uffff", "é名🙂", "🙂\n🙂", "\\", "\\n", "$x", "${X}", "{{ x }}", "{{ $value }}",
    "x" * 130, "a " * 70, "é" * 70, "ab\n" * 5, "=" * 3,
])
chars = st.characters(blacklist_categories=("Cs",))
strings = st.one_of(
    tricky,
    st.text(chars, max_size=20),
    st.lists(tricky, max_size=4).map("".join),
    st.text(st.sampled_from("ab :#-\n '\"é\t"), max_size=40),
    st.text(chars, min_size=100, max_size=300),
)
# keys around libyaml's simple-key limit (128 bytes), in 1-, 2- and 4-byte characters
long_keys = st.builds(lambda ch, n: ch * n, st.sampled_from(["k", "é", "🙂", "a\n"]), st.integers(28, 140))
short_strings = st.one_of(
    tricky, st.text(chars, max_size=20), st.text(st.sampled_from("ab :#-\n '\"é\t"), max_size=20)
)
# Mostly keys that stay simple keys; multi-line and long ones (complex keys) make the document fall
# back, so they are rarer to keep most examples on the fast path.
simple_keys = short_strings.filter(lambda s: len(s) < 40 and not any(br in s for br in "\n\r\x85\u2028\u2029"))
keys = st.one_of(*[simple_keys] * 8, strings, long_keys)
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(strings, st.integers(-(2**70), 2**70), st.booleans(), st.none(), floats)


def nested(keys: st.SearchStrategy[object], scalars: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
        max_leaves=30,
    )


yaml_data = nested(keys, scalars)
# Other scalars as keys too: such documents must fall back.
yaml_data_any_keys = nested(st.one_of(keys, st.integers(), st.booleans(), st.none(), floats), scalars)


# ------------------------------------------------------------------------------------------------
# YAML: equal to the reference


@SETTINGS
@given(yaml_data)
@example({"a": "x\ny", "b": ["p\n\nq\n", {"c": [["r\n s"]]}]})
@example([[["x\ny"]], {"k": {"l": "m\nn"}}])
@example({"k" * 128: 1, "k" * 129: 2})
@example({"a": [], "b": {}, "c": [[], {}], "": {"": [""]}})
def test_block_yaml_equals_reference(data: object) -> None:
    expected = outcome(dump_yaml_reference, data)
    clear_memo()
    assert outcome(block_yaml, data) == expected  # cold: texts asked in one batch
    assert outcome(block_yaml, data) == expected  # warm: texts from the memo


@SETTINGS
@given(yaml_data_any_keys)
def test_block_yaml_with_any_keys_equals_reference(data: object) -> None:
    assert outcome(block_yaml, data) == outcome(dump_yaml_reference, data)


@SETTINGS
@given(st.lists(yaml_data, min_size=2, max_size=4))
def test_block_yaml_shares_memo_across_documents(documents: list[object]) -> None:
    for doc in documents:
        assert outcome(block_yaml, doc) == outcome(dump_yaml_reference, doc)


@SETTINGS
@given(yaml_data)
def test_block_yaml_with_tiny_memo(data: object) -> None:
    original = emitters._MEMO_LIMIT
    emitters._MEMO_LIMIT = 2  # clearing mid-render must not change a byte
    try:
        assert outcome(block_yaml, data) == outcome(dump_yaml_reference, data)
        assert outcome(block_yaml, [data, data]) == outcome(dump_yaml_reference, [data, data])
    finally:
        emitters._MEMO_LIMIT = original


@SETTINGS
@given(st.lists(scalars, min_size=1, max_size=8))
def test_batched_scalar_texts_equal_one_at_a_time(values: list[object]) -> None:
    def alone(value: object) -> object:
        try:
            return emitters._item_text(dump_yaml_reference([value])[2:-1])
        except emitters._Fallback:
            return "fallback"

    try:
        batched: list[object] = list(emitters._ask_values(values))
    except emitters._Fallback:
        batched = ["fallback"]
    singles = [alone(v) for v in values]
    if batched == ["fallback"]:
        assert "fallback" in singles
    else:
        assert batched == singles


def test_batch_that_does_not_split_asks_one_value_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    real = emitters._yaml_reference

    def garbled(data: object) -> str:
        text = real(data)
        return text + "junk\n" if isinstance(data, list) and len(data) > 1 else text

    monkeypatch.setattr(emitters, "_yaml_reference", garbled)
    data = {"a": "x", "b": ["y\nz", 1, None, 2.5], "c": {"d": "yes"}}
    assert block_yaml(data) == dump_yaml_reference(data)


def test_yaml_value_still_uses_the_same_text() -> None:
    data = {"a": ["x: y", "#c"], "b": {"c": "m\nn"}}
    assert yaml_value(data, 4) == "\n    ".join(dump_yaml_reference(data).rstrip("\n").split("\n"))
    assert dump_yaml(data) == dump_yaml_reference(data)


# ------------------------------------------------------------------------------------------------
# YAML: every fallback rule, pinned


class Colour(enum.Enum):
    RED = "red"


class Name(str):
    pass


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({}, "top level"),
        ([], "top level"),
        ("text", "top level"),
        (1, "top level"),
        (None, "top level"),
        ((1, 2), "top level"),
        ({"a": (1, 2)}, "type tuple"),
        ({"a": collections.OrderedDict(b=1)}, "type OrderedDict"),
        ({"a": Name("x")}, "type Name"),
        ([Colour.RED], "type Colour"),
        ({1: "x"}, "non-str key"),
        ({None: 1}, "non-str key"),
        ({True: 1}, "non-str key"),
        ({Name("k"): 1}, "non-str key"),
        ({"k" * 200: 1}, "complex key"),
        ({"a\nb": 1}, "complex key"),
        ({"a\u2028b": 1}, "complex key"),
        ({"a": " x\ny"}, "multi-line scalar"),  # single-quoted over several lines
        ({"a": ["x\ny "]}, "multi-line scalar"),
        ({"a": "x\u2028y"}, "multi-line scalar"),
        ([{"a": "\u2029"}], "multi-line scalar"),
    ],
)
def test_yaml_fallback_rules(data: object, reason: str) -> None:
    before = emitters.FALLBACKS[f"yaml:{reason}"]
    assert outcome(block_yaml, data) == outcome(dump_yaml_reference, data)
    assert emitters.FALLBACKS[f"yaml:{reason}"] == before + 1


@pytest.mark.parametrize("data", [{"a": float("nan")}, [float("inf")], {"a": [object()]}])
def test_yaml_errors_are_the_references(data: object) -> None:
    expected = outcome(dump_yaml_reference, data)
    assert expected[0] != "text"
    assert outcome(block_yaml, data) == expected


def test_yaml_recursive_data_raises_like_the_reference() -> None:
    data: list[object] = ["x"]
    data.append(data)
    with pytest.raises(RecursionError):
        dump_yaml_reference(data)
    with pytest.raises(RecursionError):
        block_yaml(data)


# ------------------------------------------------------------------------------------------------
# The fast path is taken for ordinary data


ORDINARY = {
    "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"}, "http": {}}}},
    "processors": {"batch": {"timeout": "5s", "send_batch_size": 8192}, "memory_limiter": {"limit_mib": 512}},
    "groups": [
        {
            "name": "svc-1",
            "rules": [
                {"alert": "High", "expr": "sum(rate(x{a=\"b\"}[5m])) > 0.5\nor\nvector(0)", "for": "5m",
                 "labels": {"severity": "page"}, "annotations": {"summary": "svc-1: 2% of requests failed"}},
                {"record": "job:x:rate5m", "expr": "rate(x[5m])", "keep": True, "ratio": 0.25, "none": None},
            ],
        }
    ],
    "list": [["a", "b"], [], {}, "yes", "", "- x", 1e-06],
}


def test_ordinary_yaml_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = dump_yaml_reference(ORDINARY)
    before = emitters.FALLBACKS.copy()
    asked: list[object] = []
    real = emitters._yaml_reference
    monkeypatch.setattr(emitters, "_yaml_reference", lambda data: asked.append(data) or real(data))
    assert dump_yaml(ORDINARY) == expected
    assert before == emitters.FALLBACKS
    assert len(asked) == 2  # one batch of keys, one of values: never the whole document
    asked.clear()
    assert dump_yaml(ORDINARY) == expected
    assert asked == []  # warm: nothing asked at all


def test_ordinary_json_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = json_reference(ORDINARY)
    before = emitters.FALLBACKS.copy()

    def refuse(data: object) -> str:
        raise AssertionError("json.dumps fallback taken for ordinary data")

    monkeypatch.setattr(emitters, "_json_reference", refuse)
    assert dump_json(ORDINARY) == expected
    mixed = [ORDINARY, [], {}, "x", 1, None, True, 2.5, ("a", -0.0)]
    assert dump_json(mixed) == json_reference(mixed)
    assert before == emitters.FALLBACKS


# ------------------------------------------------------------------------------------------------
# JSON


json_scalars = st.one_of(
    strings, st.integers(-(2**70), 2**70), st.booleans(), st.none(), st.floats(), st.just(-0.0)
)
json_keys = st.one_of(
    keys, keys, keys, keys, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False)
)
json_data = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=3).map(tuple),
        *[st.dictionaries(keys, inner, max_size=5)] * 3,
        st.dictionaries(json_keys, inner, max_size=3),  # mixed key types: json sorts (or raises)
        st.dictionaries(st.integers(), inner, max_size=3),  # int keys: json converts them
    ),
    max_leaves=30,
)


@SETTINGS
@given(json_data)
@example({"b": [1, 2.5, -0.0, 1e300, True, None], "a": {}, "c": [], "é": "\x00\u2028\"\\"})
@example({"a": float("nan")})
@example([float("-inf")])
@example({1: "a", 2: "b"})
@example({1: "a", "b": 2})
@example((1, (2, {})))
def test_indented_json_equals_json_dumps(data: object) -> None:
    assert outcome(indented_json, data) == outcome(json_reference, data)


class Level(enum.IntEnum):
    HIGH = 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({1: "x"}, "non-str key"),
        ({None: 1}, "non-str key"),
        ({2.5: 1, 1.5: 2}, "non-str key"),
        ({"a": Level.HIGH}, "type Level"),
        ({"a": Name("x")}, "type Name"),
        ({"a": collections.OrderedDict(b=1)}, "type OrderedDict"),
        (Name("x"), "type Name"),
        ({"a": float("nan")}, "non-finite float"),
        ([float("inf")], "non-finite float"),
        ({"a": 1, 2: "b"}, "error"),  # sorted() cannot order str and int: json raises the same TypeError
        ({"a": object()}, "type object"),
    ],
)
def test_json_fallback_rules(data: object, reason: str) -> None:
    before = emitters.FALLBACKS[f"json:{reason}"]
    assert outcome(indented_json, data) == outcome(json_reference, data)
    assert emitters.FALLBACKS[f"json:{reason}"] == before + 1


def test_json_circular_data_raises_like_json() -> None:
    data: dict[str, object] = {}
    data["self"] = data
    assert outcome(indented_json, data) == outcome(json_reference, data) == ("ValueError",
                                                                               "Circular reference detected")


def test_json_deep_indentation() -> None:
    data: object = "leaf"
    for i in range(60):
        data = {f"k{i}": [data]}
    assert indented_json(data) == json_reference(data)
