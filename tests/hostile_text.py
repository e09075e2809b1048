"""Hostile text for the escaping tests: the classes of issue 14, as hypothesis strategies.

Every Unicode line break and control character, quotes, backslashes, ``$``/``${}``/``$$``, Grafana's
``[[var]]``, Go's ``{{ }}``, ``|``, backticks, HTML, ``-->``, bidi controls and very long text, mixed
with ordinary text. ``any_text`` is everything a sink function may be handed; ``one_line_text`` is
what the spec accepts as free text (``escape.text_problem`` is None, no surrounding spaces).
"""

from __future__ import annotations

from hypothesis import strategies as st

from obsgen.emit.escape import text_problem

LINE_BREAKS = ("\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
CONTROLS = tuple(chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)))
BIDI = ("\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e",
        "\u200f", "\u061c")
FRAGMENTS = (
    '"', "'", "\\", "\\\\", "\\n", "\\x24", "\\u2028", "\\L", "$", "$$", "$$$", "${", "}", "${X}", "${env:HOME}",
    "$X", "$__interval", "${__user.login}", "${__from:date}", "$1", "${1}", "[[__dashboard]]", "[[x:raw]]", "[",
    "]", "{", "{{", "}}", "{{ .Labels.x }}", "{{ $value }}", "{{/* c */}}", "{{- x -}}", "|", "||", "\\|", "`",
    "```", "<b>", "</td>", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!--", "-->", "--!>",
    "&amp;", "&#35;", "#35;", "&", "#", " #", "# c", ":", ": ", "- ", "-- ", "---", "...", "? ", "*", "**",
    "_", "~~", "[x](http://e.com)", "![i](http://e.com/i.png)", "<http://e.com>", "%", "%24", "%0a", "?", "=",
    "+", "@", ",", ";", "!", "^", "(", ")", "end", "graph", "%%", "classDef", "click n0 call x()", "-->|x|",
    "~", "yes", "null", "1e3", "0x1F", ".inf", "é名🙂", "\ufffd", "\ufeff", "\u200b", "\u00a0", "\u3000", "a",
    "api", "GET /x", " ", "  ",
)

_fragment = st.sampled_from(FRAGMENTS)
_break = st.sampled_from(LINE_BREAKS)
_control = st.sampled_from(CONTROLS)
_bidi = st.sampled_from(BIDI)
_printable = st.characters(blacklist_categories=("Cs",))

any_text = st.one_of(
    st.lists(st.one_of(_fragment, _fragment, _fragment, _break, _control, _bidi, st.text(_printable, max_size=4)),
             max_size=12).map("".join),
    st.text(_printable, max_size=30),
    st.tuples(_fragment, st.integers(200, 1100)).map(lambda p: (p[0] * p[1])[:4000]),  # very long text
)
"""Any text except lone surrogates (no UTF-8 file can hold them)."""


def _one_line(text: str) -> str:
    return "".join(ch for ch in text if text_problem(ch) is None).strip()


one_line_text = any_text.map(lambda s: _one_line(s[:1024])).filter(bool)
"""Free text the spec accepts (``types.Text``): one line, no control or bidi characters, no outer spaces."""
