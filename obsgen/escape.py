"""Escaping for every sink a spec string can reach that has no serialiser of its own.

YAML and JSON go through real serialisers (``obsgen.render``, ``json``); PromQL quoting lives in
``obsgen.promql_quote``. What remains are the text formats: Markdown, Mermaid, LogQL, Grafana's ``$``.
"""

from __future__ import annotations

import json

_MERMAID_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,_-/:()+=@")
# Characters with inline meaning anywhere in a line (GitHub: also ``$`` math and ``~`` strike-through).
_MARKDOWN_SPECIAL = set("\\`*_[]<>|~&!$")


def mermaid_label(text: str) -> str:
    """A Mermaid label for use inside double quotes: every other character becomes an entity code.

    Mermaid reads ``#35;``-style codes in quoted labels, so quotes, brackets, pipes, backticks and
    HTML never reach its parser (or the SVG) as syntax.
    """
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def markdown_text(text: str) -> str:
    """Inline Markdown text (also safe in a table cell): specials are backslash-escaped, no raw HTML.

    Line breaks become spaces. A backslash only escapes ASCII punctuation in CommonMark, so a line that
    would start a list (``1. x``) gets its ``.`` escaped, not the digit (``\\1`` would show the backslash).
    """
    out: list[str] = []
    start = len(text) - len(text.lstrip(" "))  # up to 3 leading spaces still start a block
    digits = len(text) - start - len(text[start:].lstrip("0123456789"))
    list_marker = start + digits if digits and start + digits < len(text) and text[start + digits] in ".)" else -1
    for i, ch in enumerate(text):
        if ch in _MARKDOWN_SPECIAL or (i == start and ch in "#-+=") or i == list_marker:
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def markdown_code(text: str) -> str:
    """Inline code span that holds ``text`` exactly, whatever backticks or spaces it contains.

    CommonMark strips one space from each end when both ends are spaces (and the content is not all
    spaces), and a backtick at either end would merge with the fence: both cases get one padding space.
    """
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    stripped = text.startswith(" ") and text.endswith(" ") and text.strip(" ") != ""
    pad = " " if text.startswith("`") or text.endswith("`") or stripped else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def logql_string(value: str) -> str:
    """A LogQL double-quoted string literal (Go strconv.Unquote rules) holding ``value`` exactly."""
    # JSON's escapes are a subset of Go's (Python never writes JSON's optional "\\/"); the old
    # .replace("\\/", "/") turned a literal backslash before '/' into an invalid Go escape.
    return json.dumps(value, ensure_ascii=False)


def grafana_provisioning(value: str) -> str:
    """Grafana expands ``$VAR``/``${VAR}`` in provisioning files; a literal ``$`` is written ``$$``."""
    return value.replace("$", "$$")


def grafana_unprovisioning(value: str) -> str:
    """Inverse of :func:`grafana_provisioning` (``$$`` -> ``$``); env references are left as written."""
    return value.replace("$$", "$")


def html_comment(text: str) -> str:
    """Text safe inside ``<!-- ... -->``: only ``--`` could end or break the comment."""
    return text.replace("--", "- -").replace(">", "&gt;")
