"""Does Go's regexp (RE2 syntax) accept a pattern? Checked in pure Python, at validate time.

The Collector compiles tail-sampling regexes when it builds the processor; a pattern with PCRE-only
syntax (look-around, back-references, possessive quantifiers) makes it refuse to start. Telling the
user at ``obsgen validate`` is the whole point of this module.
"""

from __future__ import annotations

import re

_MAX_REPEAT = 1000
# Escapes Go accepts after a backslash (besides punctuation, handled separately).
_GO_ESCAPES = set("aftnrvdDsSwWbBAzpPQEx0123456789")
_CLASS_ESCAPES = set("aftnrvdDsSwWpPx0123456789")
_POSIX_CLASSES = {"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
                  "space", "upper", "word", "xdigit"}


def re2_error(pattern: str) -> str | None:
    """None when Go's regexp.Compile accepts ``pattern``, else a short reason."""
    try:
        _Scanner(pattern).run()
    except _Reject as exc:
        return str(exc)
    return None


class _Reject(Exception):
    pass


class _Scanner:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.depth = 0
        self.groups = 0
        self.can_repeat = False

    def run(self) -> None:
        p = self.p
        while self.i < len(p):
            ch = p[self.i]
            if ch == "\\":
                self.escape(in_class=False)
                self.can_repeat = True
            elif ch == "(":
                self.group()
            elif ch == ")":
                if self.depth == 0:
                    raise _Reject("unexpected ')'")
                self.depth -= 1
                self.i += 1
                self.can_repeat = True
            elif ch == "[":
                self.char_class()
                self.can_repeat = True
            elif ch in "*+?":
                self.repeat_op(1)
            elif ch == "{" and self.brace_repeat():
                pass
            elif ch == "|":
                self.i += 1
                self.can_repeat = False
            else:
                self.i += 1
                self.can_repeat = ch not in "^$"
                if ch in "^$":
                    self.can_repeat = True  # Go allows repeating anchors (they are empty-width literals)
        if self.depth:
            raise _Reject("missing ')'")

    def repeat_op(self, width: int) -> None:
        if not self.can_repeat:
            raise _Reject(f"missing argument to repetition operator {self.p[self.i:self.i + width]!r}")
        self.i += width
        if self.i < len(self.p) and self.p[self.i] == "?":
            self.i += 1  # lazy
        if self.i < len(self.p) and self.p[self.i] in "*+?":
            raise _Reject("invalid nested repetition operator (possessive quantifiers are not supported by RE2)")
        if self.i < len(self.p) and self.p[self.i] == "{" and re.match(r"\{\d+(,\d*)?\}", self.p[self.i:]):
            raise _Reject("invalid nested repetition operator")
        self.can_repeat = False

    def brace_repeat(self) -> bool:
        match = re.match(r"\{(\d+)(,(\d*))?\}", self.p[self.i:])
        if not match:
            self.i += 1  # a literal '{' in Go when it is not a valid repeat
            self.can_repeat = True
            return True
        low = int(match.group(1))
        high = match.group(3)
        if low > _MAX_REPEAT or (high and int(high) > _MAX_REPEAT):
            raise _Reject(f"invalid repeat count: at most {_MAX_REPEAT}")
        if high and int(high) < low:
            raise _Reject("invalid repeat count: max below min")
        self.repeat_op(len(match.group(0)))
        return True

    def group(self) -> None:
        p = self.p
        rest = p[self.i:]
        for prefix, what in (("(?=", "look-ahead (?=...)"), ("(?!", "negative look-ahead (?!...)"),
                             ("(?<=", "look-behind (?<=...)"), ("(?<!", "negative look-behind (?<!...)"),
                             ("(?>", "atomic group (?>...)"), ("(?(", "conditional (?(...)"),
                             ("(?P=", "named back-reference (?P=name)"), ("(?#", "comment group (?#...)")):
            if rest.startswith(prefix):
                raise _Reject(f"{what} is not supported by RE2 (Go regexp)")
        named = re.match(r"\(\?P?<([A-Za-z0-9_]+)>", rest)
        if named:
            self.i += len(named.group(0))
        elif rest.startswith("(?"):
            flags = re.match(r"\(\?([imsU]*)(-[imsU]*)?(:|\))", rest)
            if not flags or (flags.group(2) == "-"):
                raise _Reject("invalid or unsupported group flags (Go supports i, m, s, U)")
            self.i += len(flags.group(0))
            if flags.group(3) == ")":
                self.can_repeat = False
                return
        else:
            self.i += 1
        self.groups += 1
        self.depth += 1
        self.can_repeat = False

    def escape(self, in_class: bool) -> None:
        p = self.p
        if self.i + 1 >= len(p):
            raise _Reject("trailing backslash")
        ch = p[self.i + 1]
        if ch.isdigit() and ch != "0" and not in_class:
            raise _Reject(f"back-reference \\{ch} is not supported by RE2 (Go regexp)")
        if ch in "0" + "1234567" and in_class and ch != "0":
            pass
        if ch.isascii() and not ch.isalnum():
            self.i += 2
            return
        allowed = _CLASS_ESCAPES if in_class else _GO_ESCAPES
        if ch not in allowed:
            raise _Reject(f"invalid escape sequence \\{ch}")
        if ch == "x":
            m = re.match(r"\\x([0-9A-Fa-f]{2}|\{[0-9A-Fa-f]{1,6}\})", p[self.i:])
            if not m:
                raise _Reject("invalid hex escape")
            self.i += len(m.group(0))
            return
        if ch in "pP":
            m = re.match(r"\\[pP](\{\^?[A-Za-z_]+\}|[A-Za-z])", p[self.i:])
            if not m:
                raise _Reject("invalid character class range")
            self.i += len(m.group(0))
            return
        if ch == "Q":
            end = p.find("\\E", self.i + 2)
            self.i = len(p) if end < 0 else end + 2
            return
        if ch == "0":
            m = re.match(r"\\[0-7]{1,3}", p[self.i:])
            self.i += len(m.group(0)) if m else 2
            return
        self.i += 2

    def char_class(self) -> None:
        p = self.p
        self.i += 1
        if self.i < len(p) and p[self.i] == "^":
            self.i += 1
        first = True
        while True:
            if self.i >= len(p):
                raise _Reject("missing closing ]")
            ch = p[self.i]
            if ch == "]" and not first:
                self.i += 1
                return
            if p.startswith("[:", self.i):
                m = re.match(r"\[:(\^?)([a-z]+):\]", p[self.i:])
                if m:
                    if m.group(2) not in _POSIX_CLASSES:
                        raise _Reject(f"invalid character class range [:{m.group(2)}:]")
                    self.i += len(m.group(0))
                    first = False
                    continue
            lo = self.class_atom()
            if self.i + 1 < len(p) and p[self.i] == "-" and p[self.i + 1] != "]":
                self.i += 1
                hi = self.class_atom()
                if lo is not None and hi is not None and hi < lo:
                    raise _Reject("invalid character class range")
            first = False

    def class_atom(self) -> str | None:
        p = self.p
        if p[self.i] == "\\":
            start = self.i
            self.escape(in_class=True)
            text = p[start:self.i]
            return text[1] if len(text) == 2 and not text[1].isalnum() else None
        ch = p[self.i]
        self.i += 1
        return ch


def _top_level(pattern: str) -> tuple[list[str], bool]:
    """The pattern's tokens (an escape, a ``\\Q...\\E`` run and a character class are one token each) and
    whether a ``|`` splits it outside every group."""
    tokens: list[str] = []
    alternation = False
    depth = 0
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("\\Q", i):
            end = pattern.find("\\E", i + 2)
            end = len(pattern) if end < 0 else end + 2
            tokens.append(pattern[i:end])
            i = end
            continue
        if ch == "\\":
            tokens.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "[":
            j = i + 1
            if pattern.startswith("^", j):
                j += 1
            if pattern.startswith("]", j):  # a ']' first in a class is a literal
                j += 1
            while j < len(pattern) and pattern[j] != "]":
                if pattern.startswith("[:", j):  # [:alpha:]
                    close = pattern.find(":]", j + 2)
                    j = close + 2 if close >= 0 else j + 1
                    continue
                j += 2 if pattern[j] == "\\" else 1
            tokens.append(pattern[i:j + 1])
            i = j + 1
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            alternation = True
        tokens.append(ch)
        i += 1
    return tokens, alternation


def is_anchored(pattern: str) -> bool:
    """True when the pattern can only match a whole value: ``^...$`` (or ``\\A``/``\\z``) around every branch."""
    tokens, alternation = _top_level(pattern)
    if not tokens or alternation:  # ^a|b$ anchors only the outer ends of two different branches
        return False
    return len(tokens) >= 2 and tokens[0] in ("^", "\\A") and tokens[-1] in ("$", "\\z")


def anchored(pattern: str) -> str:
    """The pattern rewritten to match whole values only: ``a|b`` -> ``^(?:a|b)$``, ``^api`` -> ``^api$``.

    Anchors already at the ends are kept out of the group, so the suggestion does not repeat them.
    """
    tokens, _ = _top_level(pattern)
    if tokens and tokens[0] in ("^", "\\A"):
        tokens = tokens[1:]
    if tokens and tokens[-1] in ("$", "\\z"):
        tokens = tokens[:-1]
    core = "".join(tokens)
    _, alternation = _top_level(core)
    tidy = f"^(?:{core})$" if alternation else f"^{core}$"
    if re2_error(tidy) is None and is_anchored(tidy):
        return tidy
    return f"^(?:{pattern})$"  # e.g. '^+|': the stripped '^' was the operand of the '+'
