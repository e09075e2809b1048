"""Every sink a spec string reaches: what goes in comes out exactly (property tests with hypothesis).

Each test decodes the escaped text the way the consuming tool does (YAML parser, CommonMark, Mermaid
entity codes, Go's strconv.Unquote, Grafana's provisioning expansion) and requires the original back.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import PurePosixPath

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from obsgen.emit.artifacts import UnsafePathError, safe_relpath
from obsgen.emit.commented_yaml import dump_yaml, yaml_value
from obsgen.emit.escape import (
    grafana_provisioning,
    html_comment,
    logql_string,
    markdown_code,
    markdown_text,
    mermaid_label,
)

# Text a spec can carry: YAML cannot hold surrogates or most C0 controls (the loader rejects them).
spec_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff")
spec_text = st.text(spec_chars, max_size=40)
printable = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40)
tricky = st.sampled_from([
    "yes", "no", "on", "off", "y", "n", "true", "null", "~", "", "1e3", "0x1F", "0o17", "012", "1_000", ".inf",
    "-.nan", "1:30", "2024-01-01", "- x", ": ", "a: b", "#", "# c", "%", "@", "`", "!", "&a", "*a", "|", ">",
    "'", '"', "'\"", "{", "}", "[", "]", ",", "?", "? x", "---", "...", " lead", "trail ", "a\nb", "a\n", "\n",
    "x\n\n", "\t", "é名🙂", "\u2028", "\x85", "\\", "$x", "${X}", "{{ x }}", "a #b", "a: #b",
])
yaml_strings = st.one_of(tricky, spec_text, st.lists(tricky, max_size=4).map("".join))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------------
# YAML


_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _known_surrogate_bug(value: str) -> bool:
    return bool(_BREAKS.search(value) and _ASTRAL.search(value))


@SETTINGS
@given(yaml_strings.filter(lambda v: not _known_surrogate_bug(v)))
def test_yaml_scalar_round_trips(value: str) -> None:
    try:
        text = yaml_value(value)
    except ValueError as exc:  # allowed by design: a multi-line scalar must be placed as a block value
        assert "multi-line" in str(exc) and "\n" in value
        return
    assert "\n" not in text
    assert yaml.safe_load(f"key: {text}\n") == {"key": value}
    assert yaml.safe_load(f"- {text}\n- after\n") == [value, "after"]


@pytest.mark.parametrize("value", ["\r\U00010000", "a\n\U0001F642"])
def test_yaml_scalar_line_break_and_astral_char(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_value(value)}\n") == {"key": value}


plain_data = st.recursive(
    st.one_of(yaml_strings, st.integers(-(2**63), 2**63), st.booleans(), st.none(),
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(yaml_strings, inner, max_size=4)),
    max_leaves=12,
)


@SETTINGS
@given(plain_data)
def test_dump_yaml_round_trips(value: object) -> None:
    assert yaml.safe_load(dump_yaml(value)) == value


_UNICODE_BREAKS = re.compile("[\x85\u2028\u2029]")
block_strings = yaml_strings.filter(lambda s: not _UNICODE_BREAKS.search(s))
block_keys = block_strings.filter(lambda s: not s.endswith("\n"))
block_values = st.recursive(
    st.one_of(block_strings.filter(lambda s: not s.endswith("\n\n") and s != "\n"),
              st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(block_keys, inner, max_size=3)),
    max_leaves=8,
)


def _embed(value: dict[str, object], indent: int) -> object:
    pad = " " * indent
    doc = f"{pad}outer:\n{pad}  {yaml_value(value, indent + 2)}\n{pad}after: 1\n"
    if indent:
        doc = "root:\n" + doc
    parsed = yaml.safe_load(doc)
    return parsed["root"] if indent else parsed


@SETTINGS
@given(st.dictionaries(block_keys, block_values, min_size=1, max_size=4), st.sampled_from([0, 2, 4]))
def test_yaml_block_filter_embeds_inside_a_document(value: dict[str, object], indent: int) -> None:
    """A block value placed under a key, with more keys after it, parses back."""
    assert _embed(value, indent) == {"outer": value, "after": 1}


@pytest.mark.parametrize("value", [{"k": "x\n\n"}, {"k": ["\n"]}, {"\n": 1}])
def test_yaml_block_filter_value_with_trailing_blank_lines(value: dict[str, object]) -> None:
    assert _embed(value, 2) == {"outer": value, "after": 1}


@pytest.mark.parametrize("value", [{"k": "\n\u2028#"}, {"k": "a\n\u2029  b"}])
def test_yaml_block_filter_unicode_line_breaks(value: dict[str, object]) -> None:
    assert _embed(value, 2) == {"outer": value, "after": 1}


# ------------------------------------------------------------------------------------------------
# Markdown


_ASCII_PUNCT = set(string.punctuation)


def commonmark_unescape(text: str) -> str:
    """CommonMark inline text: a backslash before ASCII punctuation is that character, else literal."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in _ASCII_PUNCT:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


_MD_SPECIAL = set("\\`*_[]<>|~&!$")


@SETTINGS
@given(st.one_of(printable, st.sampled_from(["1. x", "12) y", "# h", "- l", "+ l", "= u", "> q", "***", "<b>",
                                              "&amp;", "a|b", "[x](y)", "![i](u)", "~~s~~", "$x$", "\\*"])))
@example("1. x")
def test_markdown_text_escapes_every_special_and_round_trips(value: str) -> None:
    out = markdown_text(value)
    i = 0
    while i < len(out):
        if out[i] == "\\":
            assert i + 1 < len(out) and out[i + 1] in _ASCII_PUNCT, f"dangling backslash in {out!r}"
            i += 2
            continue
        assert out[i] not in _MD_SPECIAL, f"unescaped {out[i]!r} in {out!r}"
        assert "\n" not in out and "\r" not in out
        i += 1
    assert commonmark_unescape(out) == value.replace("\r", " ").replace("\n", " ")
    assert not re.match(r"^ *(#|[-+=]|\d{1,9}[.)])", out), out  # no heading or list at line start


def code_span_content(span: str) -> str:
    """The content of one CommonMark inline code span (the whole string)."""
    fence = re.match(r"^`+", span)
    assert fence, span
    n = len(fence.group())
    assert span.endswith("`" * n) and len(span) >= 2 * n
    inner = span[n:len(span) - n]
    assert not inner.startswith("`") and not inner.endswith("`")
    assert "`" * n not in re.sub("`{%d,}" % (n + 1), "", inner) or all(  # noqa: UP031
        len(run) != n for run in re.findall(r"`+", inner))
    inner = inner.replace("\n", " ")
    if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
        inner = inner[1:-1]
    return inner


@SETTINGS
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30)
       | st.sampled_from(["`", "``", "a`b", "`a", "a`", " a ", "  ", " ", " `", "` ", "```x```", "a|b", "\\|"]))
def test_markdown_code_round_trips(value: str) -> None:
    # markdown_code is for GFM table cells: the table parser turns every \| into | before the
    # cell's inline parsing (GFM spec example 200), then CommonMark reads the code span
    assert code_span_content(markdown_code(value).replace("\\|", "|")) == value


# ------------------------------------------------------------------------------------------------
# Mermaid


_MERMAID_SAFE = set(string.ascii_letters + string.digits + " .,_-/:()+=@")


@SETTINGS
@given(st.one_of(spec_text, st.sampled_from(['"]', "a|b", "<script>", "#35;", "a;b", "end", "`x`", "%%"])))
def test_mermaid_label_alphabet_and_round_trip(value: str) -> None:
    out = mermaid_label(value)
    rest = re.sub(r"#\d+;", "", out)
    assert set(rest) <= _MERMAID_SAFE, out
    assert re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), out) == value


# ------------------------------------------------------------------------------------------------
# LogQL / TraceQL string literals: Go strconv.Unquote


_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


def go_unquote(literal: str) -> str:
    """strconv.Unquote for a double-quoted Go string literal (raises ValueError like ErrSyntax)."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError("not a double-quoted literal")
    body = literal[1:-1]
    if "\n" in body:
        raise ValueError("newline in string")
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            raise ValueError("unescaped quote")
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise ValueError("trailing backslash")
        esc = body[i]
        if esc in _SIMPLE:
            out.append(_SIMPLE[esc])
            i += 1
        elif esc in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[esc]
            digits = body[i + 1:i + 1 + size]
            if len(digits) != size or not all(c in string.hexdigits for c in digits):
                raise ValueError("bad hex escape")
            value = int(digits, 16)
            if esc == "x":
                out.append(value)
            else:
                if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
                    raise ValueError("invalid rune")
                out += chr(value).encode("utf-8")
            i += 1 + size
        elif esc in "01234567":
            digits = body[i:i + 3]
            if len(digits) != 3 or not all(c in "01234567" for c in digits) or int(digits, 8) > 255:
                raise ValueError("bad octal escape")
            out.append(int(digits, 8))
            i += 3
        else:
            raise ValueError(f"unknown escape \\{esc}")
    return out.decode("utf-8")


def test_go_unquote_reference_cases() -> None:
    assert go_unquote(r'"a\tb\"c\\d\u00e9\x41\101\U0001F642"') == 'a\tb"c\\déAA🙂'
    for bad in ['"a', '"\\q"', '"a"b"', '"\\ud800"', '"x\ny"', "'x'"]:
        with pytest.raises(ValueError):
            go_unquote(bad)


@SETTINGS
@given(st.one_of(spec_text, st.sampled_from(['"', "\\", "\\\\", "\n", "`", "{}", "a/b", "\u2028", "\x7f", "|="])))
@example("\\/")
def test_logql_string_round_trips_through_go_unquote(value: str) -> None:
    literal = logql_string(value)
    assert go_unquote(literal) == value
    assert "\n" not in literal and "`" not in literal.replace(value, "") if "`" not in value else True


# ------------------------------------------------------------------------------------------------
# Grafana provisioning: $$ -> $, ${VAR} / $VAR / $__env{VAR} expanded


_ENV = {"HOME": "/root", "X": "expanded-x", "A_1": "expanded-a"}


def go_os_expand(text: str, mapping: dict[str, str]) -> str:
    """Go's os.Expand: ${name}, $name, $<special char>; invalid ${...} is eaten; lone $ kept."""
    out = []
    i = 0
    while i < len(text):
        if text[i] != "$" or i + 1 >= len(text):
            out.append(text[i])
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "{":
            close = text.find("}", i + 2)
            if close == -1 or close == i + 2:
                i += 2 if close == -1 else 3  # bad syntax: Go eats "${" (or "${}")
                continue
            name = text[i + 2:close]
            out.append(mapping.get(name, ""))
            i = close + 1
        elif nxt in "*#$@!?-" or (nxt.isdigit() and nxt.isascii()):
            out.append(mapping.get(nxt, ""))
            i += 2
        elif nxt == "_" or (nxt.isascii() and nxt.isalnum()):
            j = i + 1
            while j < len(text) and (text[j] == "_" or (text[j].isascii() and text[j].isalnum())):
                j += 1
            out.append(mapping.get(text[i + 1:j], ""))
            i = j
        else:
            out.append("$")
            i += 1
    return "".join(out)


def grafana_expand(value: str) -> str:
    """Grafana provisioning (pkg/services/provisioning/values): split on '$$', expand each part, join '$'."""
    parts = value.split("$$")
    expanded = []
    for part in parts:
        part = re.sub(r"\$__env\{([^}]*)\}", lambda m: _ENV.get(m.group(1), ""), part)
        expanded.append(go_os_expand(part, _ENV))
    return "$".join(expanded)


def test_grafana_expand_reference() -> None:
    assert grafana_expand("a$Xb ${X} $$X $__env{HOME}") == "a ${X} $X /root".replace("${X}", "expanded-x")


@SETTINGS
@given(st.one_of(spec_text, st.lists(st.sampled_from(["$", "$$", "{", "}", "X", "HOME", "__env", "a", "1", "_"]),
                                     max_size=10).map("".join)))
def test_grafana_provisioning_round_trips(value: str) -> None:
    assert grafana_expand(grafana_provisioning(value)) == value


def test_strict_grafana_escape_agrees() -> None:
    strict = pytest.importorskip("obsgen.targets.grafana.strict")
    for value in ["$", "$$", "a$b", "${X}", "$__env{HOME}"]:
        assert strict.escape_provisioning(value) == grafana_provisioning(value)
        assert strict.unescape_provisioning(grafana_provisioning(value)) == value


# ------------------------------------------------------------------------------------------------
# HTML comment


@SETTINGS
@given(spec_text)
def test_html_comment_cannot_close_the_comment(value: str) -> None:
    out = html_comment(value)
    assert "-->" not in f"{out}" and "--!>" not in out
    assert "--" not in out


# ------------------------------------------------------------------------------------------------
# Artifact paths


path_parts = st.one_of(st.sampled_from(["..", ".", "", "a", "b.yaml", "-x", ".hidden", "a b", "a\\b", "C:", "~",
                                        "\x00", "é", "con", "a..b"]),
                       st.text(st.characters(blacklist_categories=("Cs",)), max_size=6))
relpaths = st.one_of(st.lists(path_parts, min_size=0, max_size=4).map("/".join),
                     st.lists(path_parts, max_size=3).map(lambda p: "/" + "/".join(p)), st.text(max_size=12))


@SETTINGS
@given(relpaths)
@example("../etc/passwd")
@example("a/../../b")
@example("/etc/passwd")
@example("a//b")
def test_safe_relpath_accepts_only_paths_inside_the_output_dir(path: str) -> None:
    root = "/srv/out"
    try:
        accepted = safe_relpath(path)
    except UnsafePathError:
        return
    assert accepted == path
    joined = os.path.normpath(os.path.join(root, path))
    assert joined.startswith(root + "/")
    assert joined == f"{root}/{path}"  # nothing to normalise: what is checked is what is written
    assert not PurePosixPath(path).is_absolute()
    assert all(part not in ("", ".", "..") for part in path.split("/"))
    assert all(ch.isascii() and (ch.isalnum() or ch in "._-/") for ch in path)
    assert not any(part.startswith((".", "-")) for part in path.split("/"))


@pytest.mark.parametrize("path", ["topology.md", "grafana/dashboards/shop-overview.json", "a.b-c_d/e"])
def test_safe_relpath_accepts_ordinary_paths(path: str) -> None:
    assert safe_relpath(path) == path
