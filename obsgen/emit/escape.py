"""Every sink spec text can reach, and the one function that writes text into it.

A sink is a language spec text is written into. Each has exactly one function here; targets call it
and never quote by hand. ``tests/test_escape_sinks.py`` feeds each function hostile text and reads the
result back with the sink's real parser (PyYAML, json, promql-parser, Grafana's lezer grammars,
markdown-it-py, a Mermaid label reader).

=========================================  ====================================================
sink                                       function
=========================================  ====================================================
YAML value                                 ``obsgen.emit.commented_yaml.yaml_value`` / ``dump_yaml`` (the real
                                           serialiser); inline with a line break:
                                           :func:`yaml_double_quoted`
YAML comment                               :func:`yaml_comment`
JSON file                                  ``obsgen.emit.artifacts.dump_json`` (the real serialiser)
JSON inside YAML (a flow value)            :func:`yaml_flow_json`
Collector config value (``${}`` expansion) :func:`collector_value`
Tempo config with ``-config.expand-env``   :func:`envsubst_literal`
Grafana provisioning file                  :func:`grafana_provisioning`
Grafana display text (titles, legends)     :func:`grafana_text`
PromQL string (Prometheus rules)           :func:`promql_string`; regex body: :func:`promql_regex`
PromQL string in a Grafana query           :func:`grafana_promql_string`, :func:`grafana_promql_regex`
LogQL string in a Grafana query            :func:`logql_string`
TraceQL comparison in a Grafana query      :func:`traceql_equals` (string: :func:`traceql_string`)
Go template text (alert annotations)       :func:`go_template_text`
Markdown inline text / table cell          :func:`markdown_text`, :func:`markdown_code`
HTML comment (Markdown page header)        :func:`html_comment`
Mermaid label                              :func:`mermaid_label`
file name / Grafana UID part               :func:`slug`
spec file name in generated text           :func:`source_file_name`
URL query component                        :func:`url_component`
=========================================  ====================================================

Text that no sink can hold (line breaks, control characters, bidi controls) is refused where it
enters, by the spec's ``Text`` type and the semantic checks, using :func:`text_problem`; the sink
functions that cannot hold such text raise :class:`UnsafeText` as a second line of defence.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from urllib.parse import quote as _url_quote

# ------------------------------------------------------------------------------------------------
# What no sink can hold


class UnsafeText(ValueError):
    """Text a sink cannot hold without changing its structure."""


# Line breaks of YAML 1.1 (PyYAML's reader, libyaml) and of Go's gopkg.in/yaml.v3, which the Collector
# and Tempo use (yamlprivateh.go is_break: CR, LF, NEL U+0085, LS U+2028, PS U+2029): each ends a
# comment and a plain scalar's line.
YAML_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")
# Bidirectional formatting controls: text shown in review (Markdown, YAML comments) can be made to
# read differently from what the tools parse ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# Exactly the characters text_problem refuses: Cc (C0, DEL, C1: NEL is one), Zl (U+2028), Zp (U+2029),
# the bidi controls, U+FEFF and the noncharacters U+FFFE/U+FFFF. One regex: free text is checked on
# every load, and a large spec holds megabytes of it.
_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "\ufeff\ufffe\uffff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not one line of printable text, or None when it is.

    Refused: every line break (the YAML ones above, so also NEL), every other C0/C1 control character
    and DEL (category Cc), line and paragraph separators (Zl, Zp), bidi controls, U+FEFF and the
    noncharacters U+FFFE/U+FFFF (not YAML-printable: a YAML reader refuses the whole file).
    """
    match = _UNSAFE_TEXT.search(value)
    if match is None:
        return None
    ch = match.group()
    kind = ("a line break" if ch in YAML_LINE_BREAKS else "a bidi control" if ch in BIDI_CONTROLS
            else "a byte-order mark" if ch == "\ufeff" else "a noncharacter" if ch in "\ufffe\uffff"
            else "a control character")
    return f"control characters are not allowed: {_name(ch)} ({kind})"


def _name(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


# ------------------------------------------------------------------------------------------------
# YAML


_DQ_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x85": "\\N",
               "\u2028": "\\L", "\u2029": "\\P"}


def yaml_double_quoted(value: str) -> str:
    """A YAML double-quoted scalar holding ``value`` exactly, on one line."""
    out = ['"']
    for ch in value:
        if ch in _DQ_ESCAPES:
            out.append(_DQ_ESCAPES[ch])
        elif not ch.isprintable() or ch == "\ufeff":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _yaml_printable(ch: str) -> bool:
    # YAML 1.1 c-printable: #x9 | #x20-#x7E | #x85 | #xA0-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF
    code = ord(ch)
    return (code == 0x9 or 0x20 <= code <= 0x7E or code == 0x85 or 0xA0 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD or code >= 0x10000)


def yaml_comment(text: str) -> str:
    """The text of a ``# ...`` YAML comment: returned unchanged, or :class:`UnsafeText`.

    A comment has no escapes: any YAML line break (also NEL, LS, PS) ends it and the rest is parsed
    as YAML, and a character outside YAML's printable set makes the reader refuse the file.
    """
    for ch in text:
        if ch in YAML_LINE_BREAKS or not _yaml_printable(ch) or ch == "\ufeff":
            raise UnsafeText(f"a YAML comment cannot hold {_name(ch)}")
    return text


def yaml_flow_json(value: object) -> str:
    """JSON text (keys sorted) that is also a YAML flow value reading back the same data.

    JSON leaves DEL, C1 controls, NEL, U+2028/U+2029 and noncharacters raw inside strings; in YAML
    those are a line break (folded to a space inside a quoted scalar) or not printable (the reader
    refuses the file), so they are written as ``\\uXXXX``, which both languages decode.
    """
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return "".join(f"\\u{ord(ch):04x}" if ch in YAML_LINE_BREAKS or not _yaml_printable(ch) or ch == "\ufeff"
                   else ch for ch in text)


# ------------------------------------------------------------------------------------------------
# ${...} expansion: the Collector, Tempo, Grafana provisioning


def collector_value(value: str) -> str:
    """A string for a Collector config value, read back exactly: every ``$`` doubled.

    The Collector resolves ``${...}`` references in every config value and then turns every ``$$``
    into ``$`` (core ``confmap/resolver.go`` ``escapeDollarSigns``; e2e testdata
    ``expand-escaped-env.yaml``: ``"text$$"`` reads as ``text$``). Map keys are not expanded.
    """
    return value.replace("$", "$$")


def envsubst_literal(text: str) -> str:
    """Text for a Tempo config read with ``-config.expand-env``: drone/envsubst gives back ``text``.

    drone/envsubst's text mode: ``$$`` is a literal ``$`` and a backslash before ``\\`` or ``/`` is
    dropped (``parse/scan.go`` scanEscaped), so every ``$`` and every ``\\`` is doubled.
    """
    return text.replace("\\", "\\\\").replace("$", "$$")


def compose_value(value: str) -> str:
    """A string for a Docker Compose file value, read back exactly: every ``$`` doubled.

    Compose interpolates ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` in every value and reads ``$$``
    as a literal ``$`` (compose-go ``template/template.go``: the escaped delimiter); keys are not
    interpolated.
    """
    return value.replace("$", "$$")


def grafana_provisioning(value: str) -> str:
    """Grafana expands ``$VAR``/``${VAR}`` in provisioning files; a literal ``$`` is written ``$$``."""
    return value.replace("$", "$$")


def grafana_unprovisioning(value: str) -> str:
    """Inverse of :func:`grafana_provisioning` (``$$`` -> ``$``); env references are left as written."""
    return value.replace("$$", "$")


# ------------------------------------------------------------------------------------------------
# Grafana: text and queries it interpolates

# Grafana's template variable syntaxes (public/app/features/variables/utils.ts, variableRegex):
# ``$var``, ``${var}``/``${var.path:fmt}`` and the deprecated ``[[var]]``/``[[var:fmt]]``. Titles,
# legends, descriptions, link URLs and every query (also Explore's) are interpolated with it.
_DISPLAY_DOLLAR = "\uff04"  # FULLWIDTH DOLLAR SIGN: reads as "$" but is not Grafana's sigil
_DISPLAY_BRACKET = "\uff3b"  # FULLWIDTH LEFT SQUARE BRACKET


def grafana_text(text: str) -> str:
    """Spec text for a field Grafana interpolates (titles, legends, descriptions): variables made inert.

    Grafana has no escape for a literal ``$`` or ``[[`` in these fields, so ``$`` becomes a look-alike
    and the second ``[`` of ``[[`` too.
    """
    return text.replace("$", _DISPLAY_DOLLAR).replace("[[", "[" + _DISPLAY_BRACKET)


def _grafana_inert(literal: str) -> str:
    """A Go/PromQL-style double-quoted literal with no ``$`` and no ``[`` left for Grafana to expand.

    ``\\x24`` and ``\\x5b`` are byte escapes every one of these languages decodes back to the
    character. A backslash before ``$``/``[`` cannot occur: the quoting functions escape backslashes.
    """
    return literal.replace("$", "\\x24").replace("[", "\\x5b")


# ------------------------------------------------------------------------------------------------
# PromQL

_PLAIN_STRING = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII without '"' and '\\'
# RE2 metacharacters
REGEX_META = frozenset("\\.+*?()|[]{}^$")


def promql_string(value: str) -> str:
    """A PromQL double-quoted string literal that parses back to exactly ``value``.

    Lone surrogates U+DC80..U+DCFF (how ``surrogateescape`` carries non-UTF-8 bytes, and how obsgen's
    parser returns ``\\xNN`` escapes that are not UTF-8) become the corresponding byte escape; any
    other lone surrogate cannot exist in a Prometheus string and raises ``ValueError``.
    """
    if _PLAIN_STRING.fullmatch(value):
        return f'"{value}"'  # the common case, and this runs thousands of times per render
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


def promql_regex(value: str) -> str:
    """An RE2 regex (not yet a string literal) that, used in an ``=~`` matcher, matches exactly ``value``.

    Wrap it with :func:`promql_string` (or :func:`grafana_promql_string`).
    """
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in value):
        raise ValueError("a regex cannot match a lone surrogate (non-UTF-8 byte)")
    return "".join("\\" + ch if ch in REGEX_META else ch for ch in value)


def grafana_promql_string(value: str) -> str:
    """A PromQL string literal for ``value`` in a Grafana query: no ``$`` or ``[`` Grafana could expand."""
    return _grafana_inert(promql_string(value))


def grafana_promql_regex(value: str) -> str:
    """A PromQL string literal holding an (anchored by Prometheus) regex that matches exactly ``value``."""
    return grafana_promql_string(promql_regex(value))


# ------------------------------------------------------------------------------------------------
# LogQL and TraceQL (Grafana Explore links)


def _go_string(value: str) -> str:
    # JSON's escapes are a subset of Go's strconv.Unquote escapes (Python never writes JSON's optional
    # "\\/"), and a raw U+2028 or NEL is fine inside a Go string token.
    return json.dumps(value, ensure_ascii=False)


def logql_string(value: str) -> str:
    """A LogQL double-quoted string literal holding ``value`` exactly, inert for Grafana's interpolation.

    Loki unquotes string tokens with Prometheus' ``strutil.Unquote`` (Go rules; loki
    ``pkg/logql/syntax/lex.go``), which decodes ``\\x24``/``\\x5b``; Grafana interpolates variables in
    the query (also in Explore) before Loki sees it, so no ``$`` or ``[`` is left in the text.
    U+FFFF is written as ``\\uffff``: Grafana's LogQL grammar (@grafana/lezer-logql) parses a string holding
    the raw character as an error node (found by tests/test_escape_sinks.py's property); a spec cannot
    hold it (``text_problem``), but this function is right for every string.
    """
    return _grafana_inert(_go_string(value).replace("\uffff", "\\uffff"))


def traceql_string(value: str) -> str:
    """A TraceQL double-quoted string literal holding ``value`` exactly, with only ``\\\\`` and ``\\"`` escapes.

    Tempo unquotes string tokens with Go's ``strconv.Unquote`` (tempo ``pkg/traceql/lexer.go``), but
    Grafana's TraceQL grammar (@grafana/lezer-traceql 1.0.0, its query editor) accepts no other escape:
    ``\\x24``, ``\\u0024`` or ``\\n`` is a syntax error there. So a value needing another escape
    (a control character), or holding ``$`` or ``[`` that Grafana would interpolate, is refused;
    :func:`traceql_equals` writes such values as a regex instead.
    """
    bad = next((ch for ch in value if ch in "$[" or unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        raise UnsafeText(f"a TraceQL string in a Grafana query cannot hold {_name(bad)}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def traceql_equals(field: str, value: str) -> str:
    """The TraceQL comparison ``field`` equals ``value``, inert for Grafana's interpolation.

    A value with ``$`` or ``[`` becomes ``field =~ "\\A...\\z"``: an RE2 regex (Go regexp, which
    Tempo uses) matching exactly ``value``, with ``$`` and ``[`` written ``\\x24``/``\\x5b`` and the
    anchors ``\\A``/``\\z`` instead of ``^``/``$``, so the text holds neither character.
    """
    if "$" not in value and "[" not in value:
        return f"{field} = {traceql_string(value)}"
    regex = "".join({"$": "\\x24", "[": "\\x5b"}.get(ch, "\\" + ch if ch in REGEX_META else ch) for ch in value)
    anchored = "\\A" + regex + "\\z"
    return f"{field} =~ {traceql_string(anchored)}"


# ------------------------------------------------------------------------------------------------
# Go templates (Prometheus alert annotations and labels)


def go_template_text(text: str) -> str:
    """Spec text placed in an annotation or alert label, which Prometheus expands as a Go template.

    Text without braces is written as-is; anything else becomes a template string action
    (``{{ "..." }}``) so ``{{`` in a service name can never start an action. A PromQL string literal
    is a valid Go string literal (both decode Go's escapes).
    """
    if "{" not in text and "}" not in text:
        return text
    return "{{ " + promql_string(text) + " }}"


# ------------------------------------------------------------------------------------------------
# Markdown and Mermaid (topology.md, rendered by GitHub)

_MERMAID_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,_-/:()+=@")
# Characters with inline meaning anywhere in a line (GitHub: also ``$`` math and ``~`` strike-through).
_MARKDOWN_SPECIAL = set("\\`*_[]<>|~&!$")


def mermaid_label(text: str) -> str:
    """A Mermaid label for use inside double quotes: every other character becomes an entity code.

    Mermaid reads ``#35;``-style codes in quoted labels, so quotes, brackets, pipes, backticks and
    HTML never reach its parser (or the SVG) as syntax. The rule checked by the tests: the result
    holds only ``_MERMAID_SAFE`` characters, ``#``, digits and ``;``.
    """
    return "".join(ch if ch in _MERMAID_SAFE else f"#{ord(ch)};" for ch in text)


def markdown_text(text: str) -> str:
    """Inline Markdown text (also safe in a GFM table cell): specials are backslash-escaped, no raw HTML.

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
        elif ch in YAML_LINE_BREAKS:
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def markdown_code(text: str) -> str:
    """A code span for a GFM table cell that shows ``text`` exactly, whatever it contains.

    GFM splits table cells at every unescaped ``|``, even inside a code span (spec example 200), and
    replaces ``\\|`` by ``|`` before the cell's inline parsing: so ``|`` is written ``\\|``. CommonMark
    strips one space from each end when both ends are spaces (and the content is not all spaces), and
    a backtick at either end would merge with the fence: both cases get one padding space.
    """
    if any(ch in YAML_LINE_BREAKS for ch in text):
        raise UnsafeText("a table cell cannot hold a line break")
    longest = run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    stripped = text.startswith(" ") and text.endswith(" ") and text.strip(" ") != ""
    pad = " " if text.startswith("`") or text.endswith("`") or stripped else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def html_comment(text: str) -> str:
    """Text safe inside ``<!-- ... -->``: only ``--`` could end or break the comment."""
    return text.replace("--", "- -").replace(">", "&gt;")


# ------------------------------------------------------------------------------------------------
# File names, UIDs, URLs


def slug(key: str) -> str:
    """A file-name and Grafana-UID safe form of an identifier; a hash keeps distinct keys distinct."""
    safe = re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-") or "x"
    if safe == key:
        return safe
    return f"{safe[:28]}-{hashlib.sha256(key.encode()).hexdigest()[:6]}"


def _source_name_char(ch: str) -> bool:
    return ch in " ._-+@,()=~" or unicodedata.category(ch)[0] in "LN"


def source_file_name(name: str) -> str:
    """The spec file's name as written into generated headers: returned unchanged, or :class:`UnsafeText`.

    It reaches YAML comments (which Tempo's envsubst expands), JSON, an HTML comment and Grafana text,
    so only letters, digits, spaces and ``._-+@,()=~`` are accepted; a name with a line break, ``$``,
    braces, quotes or Markdown syntax is refused (rename the file).
    """
    bad = next((ch for ch in name if not _source_name_char(ch)), None)
    if bad is not None or not name.strip() or name != name.strip():
        what = repr(bad) if bad is not None else "surrounding spaces"
        raise UnsafeText(f"spec file name {name!r} has {what}, which cannot be written into generated files")
    return name


def url_component(text: str) -> str:
    """Percent-encode for a URL query value; ``$`` becomes ``%24`` so Grafana never interpolates it."""
    return _url_quote(text, safe="")
