"""Escaping for every sink a spec string can reach that has no serialiser of its own.

YAML and JSON go through real serialisers (``obsgen.render``, ``json``); PromQL quoting lives in
``obsgen.promql``. What remains are the text formats: Markdown, Mermaid, LogQL, Grafana's ``$``.
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
    """Inline Markdown text (also safe in a table cell): specials are backslash-escaped, no raw HTML."""
    out: list[str] = []
    if text[:1] in ("#", "-", "+", "=") or (text[:1].isdigit() and text.lstrip("0123456789")[:1] in (".", ")")):
        out.append("\\")  # would start a heading or list at the beginning of a line
    for ch in text:
        if ch in _MARKDOWN_SPECIAL:
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def markdown_code(text: str) -> str:
    """Inline code span that holds ``text`` exactly, whatever backticks it contains."""
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def logql_string(value: str) -> str:
    """A LogQL double-quoted string literal (Go strconv.Unquote rules) holding ``value`` exactly."""
    return json.dumps(value, ensure_ascii=False).replace("\\/", "/")


def grafana_provisioning(value: str) -> str:
    """Grafana expands ``$VAR``/``${VAR}`` in provisioning files; a literal ``$`` is written ``$$``."""
    return value.replace("$", "$$")


def html_comment(text: str) -> str:
    """Text safe inside ``<!-- ... -->``: only ``--`` could end or break the comment."""
    return text.replace("--", "- -").replace(">", "&gt;")
