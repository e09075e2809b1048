"""Writing PromQL text: string literals and regexes that read back as exactly the value given.

Every spec value that reaches PromQL (service names, routes, label values) goes through these two
functions; ``tests/test_promql_differential.py`` parses their output with promql-parser and promtool 3.
"""

from __future__ import annotations

import re

_PLAIN_STRING = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII without '"' and '\\'
_REGEX_META = frozenset("\\.+*?()|[]{}^$")


def quote(value: str) -> str:
    """A PromQL double-quoted string literal that parses back to exactly ``value``.

    Lone surrogates U+DC80..U+DCFF (how ``surrogateescape`` carries non-UTF-8 bytes, and how this
    parser returns ``\\xNN`` escapes that are not UTF-8) become the corresponding byte escape; any
    other lone surrogate cannot exist in a Prometheus string and raises ``ValueError``.
    """
    if _PLAIN_STRING.fullmatch(value):
        return f'"{value}"'  # the common case, and quote() runs thousands of times per render
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"lone surrogate U+{code:04X} cannot be represented in a PromQL string")
        elif ch == "\ufffd":
            # Prometheus's lexer rejects a literal U+FFFD (it looks like invalid UTF-8), but accepts the escape.
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def regex_quote(value: str) -> str:
    """Escape RE2 metacharacters so the result, used in an ``=~`` matcher, matches exactly ``value``.

    The result is a regex, not yet a PromQL string literal: wrap it with :func:`quote`.
    """
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("a regex cannot match a lone surrogate (non-UTF-8 byte)")
    return "".join("\\" + ch if ch in _REGEX_META else ch for ch in value)
