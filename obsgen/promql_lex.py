"""Tokenizer for PromQL (Prometheus 2.42 dialect), used by :mod:`obsgen.promql`.

The PromQL lexer is modal: inside ``{...}`` keywords are plain identifiers and only matcher tokens
exist, and inside ``[...]`` a duration must follow the opening bracket. The modes and the odd
corners (keywords are case-insensitive, ``inf``/``nan`` are numbers, a literal U+FFFD inside a
string is rejected because Go's decoder cannot tell it from invalid UTF-8) follow Prometheus, so
that an expression is rejected here exactly when ``promtool`` rejects it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KEYWORDS", "PromQLError", "Token", "tokenize"]


class PromQLError(ValueError):
    """An expression is not valid PromQL; ``position`` is the 0-based character offset of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position})")
        self.message = message
        self.position = position


# Token kinds for keywords are the lower-cased keyword itself; everything else uses these names
# or the operator text ("(", "==", "=~", ...).
NUMBER = "NUMBER"
STRING = "STRING"
DURATION = "DURATION"
IDENTIFIER = "IDENTIFIER"
METRIC_IDENTIFIER = "METRIC_IDENTIFIER"
EOF = "EOF"

KEYWORDS = frozenset(
    {
        "and", "or", "unless", "atan2",
        "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "count_values",
        "quantile",
        "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
        "start", "end",
    }
)  # fmt: skip

_SPACE = " \t\n\r"
_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92}
_HEX = "0123456789abcdefABCDEF"


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token: ``kind`` (see module constants), source ``text``, start ``pos``, decoded ``value``."""

    kind: str
    text: str
    pos: int
    value: str = ""


def _is_alpha(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9" and c != ""


def _is_alnum(c: str) -> bool:
    return c != "" and (_is_alpha(c) or _is_digit(c))


def _one_of(c: str, chars: str) -> bool:
    # `"" in "abc"` is True in Python, and "" is our end-of-input marker.
    return c != "" and c in chars


def _is_bad_rune(c: str) -> bool:
    # Go decodes both invalid UTF-8 and a literal U+FFFD to RuneError; lone surrogates are what
    # invalid UTF-8 becomes on the Python side.
    return c == "\ufffd" or "\ud800" <= c <= "\udfff"


# A token as the scanners produce it: (kind, text, pos, value), the fields of :class:`Token`.
RawToken = tuple[str, str, int, object]


class _Lexer:
    """The reference lexer: character by character, mirroring Prometheus's state machine.

    :func:`_scan` hands it every input its regular expressions do not cover, so it alone decides
    what is an error and where.
    """

    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.tokens: list[RawToken] = []
        self.in_braces = False
        self.in_brackets = False
        self.got_colon = False
        self.paren_depth = 0

    def at(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else ""

    def emit(self, kind: str, end: int, value: str = "") -> None:
        self.tokens.append((kind, self.src[self.pos : end], self.pos, value))
        self.pos = end

    def fail(self, message: str, pos: int | None = None) -> PromQLError:
        return PromQLError(message, self.pos if pos is None else pos)

    def run(self) -> list[RawToken]:
        while not self.tokens or self.tokens[-1][0] != EOF:
            self.step()
        return self.tokens

    def step(self) -> None:
        """Skip one comment or whitespace character, or lex one token."""
        c = self.at(self.pos)
        if c == "#":
            self.skip_comment()
        elif _one_of(c, _SPACE):
            self.pos += 1
        elif self.in_braces:
            self.lex_inside_braces(c)
        else:
            self.lex_statement(c)

    def skip_comment(self) -> None:
        end = self.pos
        while end < len(self.src) and self.src[end] not in "\r\n":
            end += 1
        self.pos = end

    def lex_inside_braces(self, c: str) -> None:
        nxt = self.at(self.pos + 1)
        if c == "":
            raise self.fail("unexpected end of input inside braces")
        if _is_alpha(c):
            end = self.pos
            while _is_alnum(self.at(end)):
                end += 1
            self.emit(IDENTIFIER, end)
        elif c in "\"'":
            self.lex_string(c)
        elif c == "`":
            self.lex_raw_string()
        elif c == ",":
            self.emit(",", self.pos + 1)
        elif c == "=":
            self.emit("=~", self.pos + 2) if nxt == "~" else self.emit("=", self.pos + 1)
        elif c == "!":
            if not _one_of(nxt, "~="):
                raise self.fail(f"unexpected character after '!' inside braces: {nxt!r}")
            self.emit("!" + nxt, self.pos + 2)
        elif c == "}":
            self.emit("}", self.pos + 1)
            self.in_braces = False
        else:
            raise self.fail(f"unexpected character inside braces: {c!r}")

    def lex_statement(self, c: str) -> None:
        nxt = self.at(self.pos + 1)
        if c == "":
            if self.paren_depth:
                raise self.fail("unclosed left parenthesis")
            if self.in_brackets:
                raise self.fail("unclosed left bracket")
            self.emit(EOF, self.pos)
        elif c in ",*/%+-^@":
            self.emit(c, self.pos + 1)
        elif c == "=":
            if nxt == "~":
                raise self.fail("unexpected character after '=': '~'")
            self.emit("==", self.pos + 2) if nxt == "=" else self.emit("=", self.pos + 1)
        elif c == "!":
            if nxt != "=":
                raise self.fail(f"unexpected character after '!': {nxt!r}")
            self.emit("!=", self.pos + 2)
        elif c in "<>":
            self.emit(c + "=", self.pos + 2) if nxt == "=" else self.emit(c, self.pos + 1)
        elif _is_digit(c) or (c == "." and _is_digit(nxt)):
            self.lex_number_or_duration()
        elif c in "\"'":
            self.lex_string(c)
        elif c == "`":
            self.lex_raw_string()
        elif _is_alpha(c) or c == ":":
            if not self.in_brackets:
                self.lex_word()
            elif self.got_colon:
                raise self.fail(f"unexpected colon {c!r}")
            else:
                # Prometheus turns any letter inside brackets into the subquery colon; mirrored so
                # validity agrees with promtool even on such oddities.
                self.emit(":", self.pos + 1)
                self.got_colon = True
        elif c == "(":
            self.emit("(", self.pos + 1)
            self.paren_depth += 1
        elif c == ")":
            self.emit(")", self.pos + 1)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise self.fail("unexpected right parenthesis ')'", self.pos - 1)
        elif c == "{":
            self.emit("{", self.pos + 1)
            self.in_braces = True
        elif c == "[":
            if self.in_brackets:
                raise self.fail("unexpected left bracket '['")
            self.emit("[", self.pos + 1)
            self.got_colon = False
            self.in_brackets = True
            while _one_of(self.at(self.pos), _SPACE):
                self.pos += 1
            self.lex_bracket_duration()
        elif c == "]":
            if not self.in_brackets:
                raise self.fail("unexpected right bracket ']'")
            self.emit("]", self.pos + 1)
            self.in_brackets = False
        else:
            raise self.fail(f"unexpected character: {c!r}")

    def lex_word(self) -> None:
        end = self.pos
        while _is_alnum(self.at(end)) or self.at(end) == ":":
            end += 1
        word = self.src[self.pos : end]
        low = word.lower()
        if low in ("inf", "nan"):
            self.emit(NUMBER, end)
        elif low in KEYWORDS:
            self.emit(low, end)
        else:
            self.emit(METRIC_IDENTIFIER if ":" in word else IDENTIFIER, end)

    def scan_number(self, i: int) -> tuple[int, bool]:
        """Scan a number from ``i``; the flag says whether it is complete (not followed by a letter)."""
        digits = "0123456789"
        if self.at(i) == "0" and _one_of(self.at(i + 1), "xX"):
            i += 2
            digits = _HEX
        while _one_of(self.at(i), digits):
            i += 1
        if self.at(i) == ".":
            i += 1
            while _one_of(self.at(i), digits):
                i += 1
        if _one_of(self.at(i), "eE"):
            i += 1
            if _one_of(self.at(i), "+-"):
                i += 1
            while _is_digit(self.at(i)):
                i += 1
        return i, not _is_alnum(self.at(i))

    def scan_duration_units(self, i: int) -> tuple[int, bool]:
        """Continue a duration after its leading number; bad unit orders are left for the parser."""
        if not _one_of(self.at(i), "smhdwy"):
            return i, False
        i += 1
        if self.at(i) == "s":
            i += 1
        while _is_digit(self.at(i)):
            while _is_digit(self.at(i)):
                i += 1
            if not _one_of(self.at(i), "smhdw"):
                return i, False
            i += 1
            if self.at(i) == "s":
                i += 1
        return i, not _is_alnum(self.at(i))

    def lex_number_or_duration(self) -> None:
        end, complete = self.scan_number(self.pos)
        if complete:
            self.emit(NUMBER, end)
            return
        end, ok = self.scan_duration_units(end)
        if not ok:
            raise self.fail(f"bad number or duration syntax: {self.src[self.pos : end + 1]!r}")
        self.emit(DURATION, end)

    def lex_bracket_duration(self) -> None:
        end, complete = self.scan_number(self.pos)
        if complete:
            raise self.fail("missing unit character in duration")
        end, ok = self.scan_duration_units(end)
        if not ok:
            raise self.fail(f"bad duration syntax: {self.src[self.pos : end + 1]!r}")
        self.emit(DURATION, end)

    def lex_string(self, quote: str) -> None:
        out = bytearray()
        i = self.pos + 1
        while True:
            c = self.at(i)
            if c in ("", "\n"):
                raise self.fail("unterminated quoted string")
            if _is_bad_rune(c):
                raise self.fail("invalid UTF-8 rune", i)
            if c == quote:
                break
            if c == "\\":
                i = self.lex_escape(i + 1, quote, out)
                continue
            out += c.encode("utf-8")
            i += 1
        # \x and octal escapes produce raw bytes, which need not be UTF-8; surrogateescape keeps them.
        self.emit(STRING, i + 1, out.decode("utf-8", "surrogateescape"))

    def lex_escape(self, i: int, quote: str, out: bytearray) -> int:
        """Decode the escape whose letter is at ``i`` into ``out``; return the index after it."""
        c = self.at(i)
        if c in _SIMPLE_ESCAPES and c != "":
            out.append(_SIMPLE_ESCAPES[c])
            return i + 1
        if c == quote:
            out += c.encode()
            return i + 1
        if _one_of(c, "01234567"):
            width, base, limit, start = 3, 8, 255, i
        elif _one_of(c, "xuU"):
            width, base, limit, start = {"x": 2, "u": 4, "U": 8}[c], 16, {"x": 255}.get(c, 0x10FFFF), i + 1
        elif c == "":
            raise self.fail("escape sequence not terminated", i)
        else:
            raise self.fail(f"unknown escape sequence {c!r}", i)
        digits = "01234567" if base == 8 else _HEX
        for j in range(start, start + width):
            d = self.at(j)
            if d == "":
                raise self.fail("escape sequence not terminated", j)
            if d not in digits:
                raise self.fail(f"illegal character {d!r} in escape sequence", j)
        value = int(self.src[start : start + width], base)
        if value > limit or 0xD800 <= value < 0xE000:
            raise self.fail("escape sequence is an invalid Unicode code point", i)
        if c in "uU":
            out += chr(value).encode("utf-8")
        else:
            out.append(value)
        return start + width

    def lex_raw_string(self) -> None:
        i = self.pos + 1
        while True:
            c = self.at(i)
            if c == "":
                raise self.fail("unterminated raw string")
            if _is_bad_rune(c):
                raise self.fail("invalid UTF-8 rune", i)
            if c == "`":
                break
            i += 1
        self.emit(STRING, i + 1, self.src[self.pos + 1 : i])


# ------------------------------------------------------------------------------------ fast scanner
#
# One compiled regular expression per token shape covers what generated PromQL is made of; each
# is written so that when it matches, the reference lexer would produce exactly the same tokens
# (atomic groups stop backtracking into a shorter number than the reference would scan). Anything
# else -- escapes, comments inside braces, letters inside brackets, every error -- goes to the
# reference lexer, one token at a time, so messages and positions come from it alone.

_BAD = "\ud800-\udfff\ufffd"  # invalid UTF-8 (lone surrogates) and a literal U+FFFD
_SP = r"[ \t\n\r]*"
_WS = r"(?>(?:[ \t\n\r]+|#[^\r\n]*)*)"  # whitespace and comments, never given back
_DUR = r"(?>[0-9]+)(?>[smhdwy]s?(?:[0-9]+[smhdw]s?)*)(?![A-Za-z0-9_])"
_NUM = r"(?>0[xX][0-9a-fA-F]*(?:\.[0-9a-fA-F]*)?|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]*)?)(?![A-Za-z0-9_])"
# Strings without escapes (a raw string may hold anything but a backtick).
_STR = "|".join((rf'"[^"\\\n{_BAD}]*"', rf"'[^'\\\n{_BAD}]*'", f"`[^`{_BAD}]*`"))
_LABEL = "[A-Za-z_][A-Za-z0-9_]*"
_MATCH_OP = "=~|!=|!~|="

_MATCHER_SRC = f"{_LABEL}{_SP}(?:{_MATCH_OP}){_SP}(?:{_STR})"
_STATEMENT = re.compile(
    _WS
    + "(?:"
    + "|".join(
        (
            "(?P<word>[A-Za-z_:][A-Za-z0-9_:]*)",
            rf"(?P<str>{_STR})",
            r"(?P<op>==|!=|<=|>=|[<>,*/%+\-^@]|=(?!~))",
            r"(?P<lparen>\()",
            r"(?P<rparen>\))",
            # A whole brace block of matchers with plain strings and no comments, else a bare '{'.
            rf"(?P<braces>\{{{_SP}(?:{_MATCHER_SRC}(?:{_SP},{_SP}{_MATCHER_SRC})*{_SP}(?:,{_SP})?)?\}})",
            r"(?P<lbrace>\{)",
            f"(?P<dur>{_DUR})",
            f"(?P<num>{_NUM})",
            # A whole range or subquery bracket: [d], [d:] or [d:d]. Only whitespace may follow
            # '[' (the reference lexes the duration straight after it).
            rf"(?P<range>\[{_SP}(?P<range1>{_DUR}){_WS}(?:(?P<colon>:){_WS}(?:(?P<range2>{_DUR}){_WS})?)?\])",
            r"(?P<eof>\Z)",
        )
    )
    + ")"
)
_MATCHER = re.compile(f"({_LABEL}){_SP}({_MATCH_OP}){_SP}({_STR})")
_BRACE_TOKEN = re.compile(f"(?P<label>{_LABEL})|(?P<op>{_MATCH_OP})|(?P<str>{_STR})|(?P<comma>,)")
# Group numbers of the token shapes (m.lastindex is the outermost group that matched).
(_WORD, _STR_G, _OP, _LPAREN, _RPAREN, _BRACES, _LBRACE, _DUR_G, _NUM_G, _RANGE, _EOF) = (
    _STATEMENT.groupindex[name]
    for name in ("word", "str", "op", "lparen", "rparen", "braces", "lbrace", "dur", "num", "range", "eof")
)

# Lower-cased word -> token kind, for words that are not plain identifiers.
_WORD_KINDS = {**{k: k for k in KEYWORDS}, "inf": NUMBER, "nan": NUMBER}

# Kind of the token :func:`_scan` emits, with ``fuse``, for a whole ``{...}`` block of matchers:
# its text is "{" (what an error message quotes) and its value the block's source;
# ``_MATCHER.finditer`` over that source yields (label, op, quoted value) for each matcher.
FUSED_BRACES = "{...}"


def _scan(src: str, fuse: bool = False) -> list[RawToken]:
    """Tokens of ``src`` as :data:`RawToken` tuples; the same as the reference lexer's unless ``fuse``.

    With ``fuse``, a brace block of matchers whose strings have no escapes becomes one
    :data:`FUSED_BRACES` token (for the parser, which then needs no token per label, operator and
    string).
    """
    toks: list[RawToken] = []
    append = toks.append
    word_kinds = _WORD_KINDS
    word, str_, op, lparen, rparen, braces, dur, num, range_, eof = (
        _WORD, _STR_G, _OP, _LPAREN, _RPAREN, _BRACES, _DUR_G, _NUM_G, _RANGE, _EOF
    )  # fmt: skip
    depth = 0
    pos = 0  # where the scanner started: the end of the last token it matched
    lexer: _Lexer | None = None
    while True:
        # The scanner matches token after token, each starting where the last one ended.
        next_match = _STATEMENT.scanner(src, pos).match
        while (m := next_match()) is not None:
            group = m.lastindex
            start, end = m.span(group)
            if group == word:
                text = src[start:end]
                kind = word_kinds.get(text.lower())
                if kind is None:
                    kind = METRIC_IDENTIFIER if ":" in text else IDENTIFIER
                append((kind, text, start, ""))
            elif group == lparen:
                append(("(", "(", start, ""))
                depth += 1
            elif group == rparen and depth:
                append((")", ")", start, ""))
                depth -= 1
            elif group == op:
                text = src[start:end]
                append((text, text, start, ""))
            elif group == braces:
                if fuse:
                    append((FUSED_BRACES, "{", start, src[start:end]))
                else:
                    append(("{", "{", start, ""))
                    for t in _BRACE_TOKEN.finditer(src, start + 1, end - 1):
                        g = t.lastgroup
                        text = t.group()
                        if g == "label":
                            append((IDENTIFIER, text, t.start(), ""))
                        elif g == "str":
                            append((STRING, text, t.start(), text[1:-1]))
                        else:
                            append((text, text, t.start(), ""))
                    append(("}", "}", end - 1, ""))
            elif group == str_:
                text = src[start:end]
                append((STRING, text, start, text[1:-1]))
            elif group in (dur, num):
                append((DURATION if group == dur else NUMBER, src[start:end], start, ""))
            elif group == range_:
                append(("[", "[", start, ""))
                s1, e1 = m.span("range1")
                append((DURATION, src[s1:e1], s1, ""))
                colon = m.start("colon")
                if colon >= 0:
                    append((":", ":", colon, ""))
                    s2, e2 = m.span("range2")
                    if s2 >= 0:
                        append((DURATION, src[s2:e2], s2, ""))
                append(("]", "]", end - 1, ""))
            elif group == eof and not depth:
                append((EOF, "", start, ""))
                return toks
            else:  # ')' without '(', end of input inside '(', or a '{' block with more than plain matchers
                pos = start
                break
            pos = end
        # Everything else (including every error) is the reference lexer's, until it is back
        # outside braces and brackets with at least one more token.
        if lexer is None:
            lexer = _Lexer(src)
            lexer.tokens = toks
        lexer.pos = pos
        lexer.paren_depth = depth
        count = len(toks)
        while True:
            lexer.step()
            if len(toks) > count and not lexer.in_braces and not lexer.in_brackets:
                break
        if toks[-1][0] == EOF:
            return toks
        pos = lexer.pos
        depth = lexer.paren_depth


def _reference_tokenize(src: str) -> list[Token]:
    """:func:`tokenize` by the character-by-character reference lexer alone (for tests)."""
    return [Token(*t) for t in _Lexer(src).run()]  # type: ignore[arg-type]


def tokenize(src: str) -> list[Token]:
    """Split ``src`` into tokens, ending with an ``EOF`` token; raises :class:`PromQLError` on lexical errors."""
    return [Token(*t) for t in _scan(src)]  # type: ignore[arg-type]
