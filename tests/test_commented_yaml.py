"""The commented-YAML writer keeps "no spec string reaches YAML unescaped" a property of the machinery.

It replaced Jinja templates whose ``finalize`` refused any output that had not passed a serialising filter
(``| yaml``, ``| json``, ``| comment``). The writer has no text-taking method at all: these tests hold that every
method, fed hostile text in every argument, either refuses it or writes it as data that reads back unchanged, and
that what is not plain data or a one-line comment is refused rather than turned into text.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings

from obsgen.emit import escape
from obsgen.emit.commented_yaml import IMPLICIT_KEY_LIMIT, CommentedYaml, yaml_value
from tests.conftest import ROOT
from tests.hostile_text import LINE_BREAKS, any_text
from tests.test_escape_sinks import _known_surrogate_bug

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAYLOADS = ("x\nevil: 1", "x\revil: 1", "x\u2028evil: 1", "x\x85evil: 1", "evil: 1", "- evil", "x # evil: 1",
            "{evil: 1}", "x\n  evil: 1", "'evil: 1", '"evil: 1', "evil:", "? evil", "!!python/object evil", "&a evil")


def _commented(note: str) -> str:
    """``note`` when a comment can hold it, else a stand-in (refusal is tested on its own below)."""
    try:
        return escape.yaml_comment(note)
    except escape.UnsafeText:
        return "stand-in"


@SETTINGS
@given(any_text.filter(lambda v: not _known_surrogate_bug(v) and len(v) <= IMPLICIT_KEY_LIMIT // 8),
       any_text)
@example("x\u2028- name: pwn\u2028  type: always_sample", "x\u2028evil: 1")
@example("a: b\n- c", "")
@example("{{ .Labels.x }}", "# c")
def test_hostile_text_in_every_position_reads_back_as_data(text: str, note: str) -> None:
    assume(text not in ("nested", "empty", "flow", "items"))  # a duplicate key is not the point here
    note = _commented(note)
    out = (CommentedYaml().comment(note).blank()
           .open("top").comment(note, 2)
           .entry(text, text, 2)
           .entry("nested", {text: [text, {"k": text}]}, 2)
           .entry("empty", {}, 2)
           .flow("flow", [text, {text: text}], 2)
           .open("items", 2).comment(note, 4).item({"name": text, "v": [text]}, 4).item(text, 4)
           .blank().comment(note)
           .entry("sequence", [text, text], value_indent=0)
           .block({"last": text}))
    assert yaml.safe_load(out.text()) == {
        "top": {text: text, "nested": {text: [text, {"k": text}]}, "empty": {}, "flow": [text, {text: text}],
                "items": [{"name": text, "v": [text]}, text]},
        "sequence": [text, text],
        "last": text,
    }


def _arguments(method: inspect.Signature, payload: object) -> dict[str, object]:
    """Every argument that could carry text gets ``payload``; columns are 0."""
    args: dict[str, object] = {}
    for name, param in method.parameters.items():
        if name == "self" or param.kind is param.VAR_KEYWORD:
            continue
        if name in ("indent", "value_indent"):
            args[name] = 0 if name == "indent" else None
        elif name == "lines":
            args[name] = [payload]
        else:
            args[name] = payload
    return args


def _strings(data: object) -> list[str]:
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return [data] if isinstance(data, str) else []


PUBLIC = [name for name, _ in inspect.getmembers(CommentedYaml, inspect.isfunction)
          if not name.startswith("_") and name != "text"]


def test_the_writer_methods_are_the_ones_tested_here() -> None:
    """A new method must take its place in the next test (which feeds every method hostile text)."""
    assert sorted(PUBLIC) == ["blank", "block", "comment", "comments", "entry", "flow", "item", "open"]


@pytest.mark.parametrize("method", PUBLIC)
@pytest.mark.parametrize("shape", ["text", "mapping", "sequence"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_method_places_text_as_it_is(method: str, shape: str, payload: str) -> None:
    """Hostile text in any argument of any method: refused, or in the document only as that exact string."""
    value = {"text": payload, "mapping": {"k": payload}, "sequence": [payload]}[shape]
    out = CommentedYaml()
    try:
        getattr(out, method)(**_arguments(inspect.signature(getattr(CommentedYaml, method)), value))
    except (TypeError, escape.UnsafeText):
        assert out.text() == ""  # a refused call writes nothing
        return
    data = yaml.safe_load(out.text())
    assert not (isinstance(data, dict) and "evil" in data)
    assert all(s == payload or "evil" not in s for s in _strings(data)), out.text()


@pytest.mark.parametrize("brk", LINE_BREAKS)
def test_a_comment_with_a_line_break_is_refused(brk: str) -> None:
    out = CommentedYaml()
    with pytest.raises(escape.UnsafeText):
        out.comment(f"note{brk}evil: 1", 2)
    with pytest.raises(escape.UnsafeText):
        out.comments(["fine", f"note{brk}- evil"])
    assert out.text() == "# fine\n"  # the line before the refused one, nothing of it


class _Sneaky(str):
    """A str whose text, if anything asked for it, would be raw YAML."""

    def __str__(self) -> str:
        return "x\nevil: 1"

    def __format__(self, spec: str) -> str:
        return "x\nevil: 1"


class _Object:
    def __str__(self) -> str:
        return "evil: 1"


NOT_DATA = [_Sneaky("ok"), _Object(), b"evil: 1", ("evil", 1), {"evil"}, 1j]


@pytest.mark.parametrize("value", NOT_DATA, ids=lambda v: type(v).__name__)
def test_a_value_that_is_not_plain_data_is_refused_not_stringified(value: object) -> None:
    """The templates' ``finalize`` refused output that skipped a filter; the writer refuses what it cannot
    serialise instead of writing its ``str()``."""
    with pytest.raises(TypeError):
        CommentedYaml().entry("k", value)
    with pytest.raises(TypeError):
        CommentedYaml().item(value)
    with pytest.raises(TypeError):
        yaml_value(value)


@pytest.mark.parametrize("key", [_Sneaky("ok"), 1, None, b"k", _Object()], ids=lambda v: type(v).__name__)
def test_a_key_that_is_not_a_str_is_refused(key: object) -> None:
    for write in (lambda out: out.open(key), lambda out: out.entry(key, 1), lambda out: out.flow(key, [1])):
        with pytest.raises(TypeError):
            write(CommentedYaml())


@pytest.mark.parametrize("comment", [_Sneaky("ok"), 1, None, _Object()], ids=lambda v: type(v).__name__)
def test_a_comment_that_is_not_a_str_is_refused(comment: object) -> None:
    with pytest.raises(TypeError):
        CommentedYaml().comment(comment)  # type: ignore[arg-type]


@pytest.mark.parametrize("nested", [{"k": _Sneaky("ok")}, {_Sneaky("ok"): 1}, [_Object()]],
                         ids=["str-subclass-value", "str-subclass-key", "object-item"])
def test_not_plain_data_inside_a_block_is_refused(nested: object) -> None:
    with pytest.raises(yaml.representer.RepresenterError):
        CommentedYaml().entry("k", nested)


def test_a_key_longer_than_yaml_allows_is_refused() -> None:
    """YAML 1.2 caps an implicit key at 1024 characters; the reader refuses a longer one."""
    fits = "k" * IMPLICIT_KEY_LIMIT
    assert yaml.safe_load(CommentedYaml().entry(fits, 1).text()) == {fits: 1}
    with pytest.raises(ValueError, match="implicit key"):
        CommentedYaml().entry(fits + "k", 1)
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(f"{fits}k: 1\n")


@pytest.mark.parametrize("indent", [-1, 1.5, "2", True])
def test_indentation_is_a_column_not_text(indent: object) -> None:
    with pytest.raises(TypeError):
        CommentedYaml().comment("c", indent)  # type: ignore[arg-type]


def test_the_layout_is_the_one_the_templates_wrote() -> None:
    """Columns, blank lines and inline empty collections, exactly (the goldens hold it for every config)."""
    out = (CommentedYaml().comments(["title", ""]).blank().open("s").comment("c", 2).open("id", 2)
           .entry("k", "v", 4).entry("m", {"a": [1]}, 4).entry("e", [], 4).open("l", 4).item({"x": 1, "y": 2}, 6)
           .entry("none", {}, 2).flow("f", ["b", "a"], 2).blank().entry("seq", [1], value_indent=0).block({"z": None}))
    assert out.text() == (
        "# title\n# \n\ns:\n  # c\n  id:\n    k: v\n    m:\n      a:\n      - 1\n    e: []\n    l:\n"
        "      - x: 1\n        y: 2\n  none: {}\n  f: [\"b\", \"a\"]\n\nseq:\n- 1\nz: null\n"
    )


def test_a_render_imports_no_template_engine() -> None:
    """Jinja's import and compilation were ~0.05 s of every render: keep it out (issue 15)."""
    code = ("import sys; from pathlib import Path; from obsgen.generate import generate; "
            "r = generate(Path('specs/shop.yaml')); assert r.ok, r.diagnostics; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'markupsafe')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
