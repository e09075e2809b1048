"""Does Go's ``regexp.Compile`` accept a pattern? RE2 (C++, ``google-re2``) plus Go's known differences.

The Collector (tail sampling, filters) and Prometheus compile their regexes with Go's ``regexp``, whose
parser is Go's own (``src/regexp/syntax/parse.go``), not C++ RE2. The tail-sampling processor (0.159.0)
compiles them only when it starts (processor.go ``Start`` -> ``loadSamplingPolicies`` ->
internal/sampling/string_tag_filter.go ``addFilters``), so ``otelcol validate`` accepts a bad one and the
Collector then refuses to start: this checker, not ``validate``, is what catches them before a deploy.

Go and C++ RE2 implement the same syntax, so the maintained C++ engine decides almost everything; each
place where Go 1.26 decides differently is one small rule below, with the Go function it follows.
``tests/test_go_regexp_differential.py`` runs a corpus through this checker and through Go's own
``regexp.Compile`` (``tools/gocheck``) and asserts they agree on every case.

The differences, Go's side first (what Go rejects and RE2 accepts, then what Go accepts and RE2 rejects):

- ``\\C`` (any byte): Go rejects it everywhere (``parse``: "any byte; not supported"; in a class,
  ``parseEscape`` has no case for it). RE2 accepts it outside a class.
- Capture names: Go allows only ASCII letters, digits and ``_`` (``isValidCaptureName``); RE2 also
  Unicode word characters.
- ``\\p{Name}``: Go looks the name up in its own Unicode 15.0 tables after ``canonicalName`` (case,
  ``_``, ``-`` and spaces ignored), with ``Any``, ``Assigned``, ``ASCII``, ``LC`` and the long category
  aliases (``Letter``, ``Cased_Letter``) added (``unicodeTable``). RE2 knows exact names only, of its
  newer Unicode; and because Go canonicalises the name but not the script table's keys, Go 1.26 rejects
  scripts with an underscore or inner capital (``\\p{Old_Italic}``, ``\\p{SignWriting}``).
- Repeat counts: Go reads ``{n}`` with up to 9 digits and rejects any count over 1000 (``parseRepeat``,
  ``parseInt``: a 10-digit count becomes -1, then "invalid repeat count"); RE2 takes a count too long
  for its integer as literal text.
- Nested repeats: both reject a ``{n,m}`` whose nesting multiplies to more than 1000 copies
  (``repeatIsValid``), but Go does not look inside ``x{0}`` and RE2 does: ``((a{1000}){0}){2}`` is valid
  in Go.
- Limits on the parse tree: Go rejects a tree more than 1000 nodes high ("expression nests too deeply",
  ``checkHeight``) and a repeat whose compiled size exceeds 128 MB / 40 instructions ("expression too
  large", ``checkSize``/``calcSize``). RE2 has neither rule at these limits; its own limit is the memory
  of its compiled program, which Go does not share (``\\pL{1000}`` is fine in Go) and which obsgen does not
  spend (``_re2_options``). Those two Go rules are computed on a model of Go's parse tree (``_GoTree``)
  that leaves out Go's factoring of alternations: it can only overestimate, so at the extreme it rejects
  a pattern Go would just accept, never the reverse. A spec's regex (at most 1,024 characters) is far
  from either limit; PromQL matchers and ``lint`` inputs are not.
- Invalid UTF-8: Go rejects it (``checkUTF8``). A Python string holds it as lone surrogates
  (``surrogateescape``, or a ``\\ud800`` escape in YAML), which cannot reach RE2 at all.

Prometheus 3 (model/labels/regexp.go, NewFastRegexMatcher) parses a matcher's regex with
``syntax.Parse(v, Perl|DotNL)`` (the flags of ``regexp.Compile`` plus one that changes no verdict) and then
compiles ``^(?s:`` + the simplified tree + ``)$``; a literal alternation such as ``a|b`` skips both. The
second compile sees one more level and repeats written out, so it can differ only at Go's height and
size limits, which this checker applies to the pattern as written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from obsgen.spec import go_unicode_names

# src/regexp/syntax/parse.go: maxHeight; maxSize = 128 << 20 / instSize (5 * 8); the repeat limit 1000.
MAX_HEIGHT = 1000
MAX_SIZE = (128 << 20) // 40
MAX_REPEAT = 1000

# RE2's error texts (re2/regexp.cc, kErrorStrings) -> Go's ErrorCode texts (regexp/syntax/parse.go).
_RE2_TO_GO = {
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class range": "invalid character class range",
    "invalid character class": "invalid character class",
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
    "invalid named capture group": "invalid named capture",
}
_RE2_TOO_LARGE = "pattern too large - compile failed"

# What a PCRE habit turns into, added to Go's terse message.
_EXPLAIN = (
    (re.compile(r"\(\?<?[=!]"), "look-ahead and look-behind are not supported (Go's regexp is RE2: no look-around)"),
    (re.compile(r"\(\?>"), "atomic groups are not supported (Go's regexp is RE2)"),
    (re.compile(r"\(\?P?[=>]"), "named back-references and recursion are not supported (Go's regexp is RE2)"),
    (re.compile(r"\(\?#"), "comment groups are not supported (Go's regexp is RE2)"),
    (re.compile(r"\(\?\("), "conditionals are not supported (Go's regexp is RE2)"),
    (re.compile(r"\\[1-9]"), "back-references are not supported (Go's regexp is RE2)"),
    (re.compile(r"\\[gk]"), "back-references are not supported (Go's regexp is RE2)"),
    (re.compile(r"[*+?}][+]"), "possessive quantifiers are not supported (Go's regexp is RE2)"),
    (re.compile(r"\\Z"), r"Go has no \Z: use \z (end of text) or $"),
)


class GoRegexpError(Exception):
    """Go's ``regexp.Compile`` would refuse the pattern; the message is Go's, in Go's words."""


def go_regexp_error(pattern: str) -> str | None:
    """None when Go's ``regexp.Compile`` accepts ``pattern``, else why not (Go's message, explained)."""
    return _cached_error(pattern)


@functools.lru_cache(maxsize=1024)
def _cached_error(pattern: str) -> str | None:
    try:
        _check(pattern)
    except GoRegexpError as exc:
        message = str(exc)
        for found, why in _EXPLAIN:
            if found.search(message):
                return f"{message} ({why})"
        return message
    return None


def _go_error(code: str, expr: str) -> GoRegexpError:
    # regexp/syntax Error.Error(): "error parsing regexp: " + code + ": `" + expr + "`"; the prefix is
    # left out because the diagnostic already says what failed.
    return GoRegexpError(f"{code}: `{expr}`")


# Where one of Go's lexical rules could apply: \C, \p, a capture name, a {n} count.
_GO_RULES_MAY_APPLY = re.compile(r"\\[CpP]|\(\?P?<|\{[0-9]")


def _check(pattern: str) -> None:
    if not _is_valid_utf8(pattern):
        raise _go_error("invalid UTF-8", "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in pattern))
    if len(pattern) < MAX_HEIGHT and _GO_RULES_MAY_APPLY.search(pattern) is None:
        # The common case, decided by RE2 alone: no Go-only rule can apply, and the tree is far from
        # Go's limits (every token is a character or more, the tree is at most one level higher than
        # there are tokens, and without {n,m} its size is at most twice that).
        _raise_re2_problem(_re2_problem(pattern))
        return
    scan = _Scan(pattern)
    tokens = list(scan.tokens())  # raises the lexical rules' errors (\C, capture names, \p names, counts)
    problem = _re2_problem(scan.rewritten())
    repetition = problem is not None and problem[0] == "invalid repetition size"
    if repetition:
        # RE2 also walks into x{0}, which Go skips: the tree model below has Go's exact rule, and RE2
        # checks the rest of the syntax with every {n,m} turned into a plain '*'.
        problem = _re2_problem(scan.rewritten(braces_as_star=True))
    _raise_re2_problem(problem)
    if repetition or _tree_may_reach_limits(tokens):
        _GoTree(tokens).build()


def _raise_re2_problem(problem: tuple[str, str] | None) -> None:
    # "Too large" only means RE2 was given no memory to compile (_re2_options): its parse succeeded.
    if problem is not None and problem[0] != _RE2_TOO_LARGE:
        code, expr = problem
        raise _go_error(_RE2_TO_GO.get(code, code), expr)


def _tree_may_reach_limits(tokens: list[_Token]) -> bool:
    """Whether Go's tree limits or nested-repeat rule could matter, so that the tree model must run.

    calcSize gives a node at most twice as many instructions as it has tokens, times the counts of the
    {n,m} repeats above them; one {n,m} alone needs no repeatIsValid walk.
    """
    if len(tokens) >= MAX_HEIGHT:
        return True
    braces = [t for t in tokens if t.kind == REPEAT]
    product = 1
    for brace in braces:
        product *= max(1, brace.max if brace.max >= 0 else brace.min)
    return len(braces) > 1 or 2 * (len(tokens) + 1) * product > MAX_SIZE


def _is_valid_utf8(pattern: str) -> bool:
    try:
        pattern.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _re2_options() -> object:
    import re2  # google-re2: imported on first use, so only validating a regex pays for it

    options = re2.Options()
    options.log_errors = False  # RE2 would print every rejected pattern on stderr
    # RE2 parses (every syntax error is found there) and then compiles a program within 2/3 of max_mem.
    # The program is not needed: Go's size limit is its own (_GoTree). With 2/3 of max_mem above 0 (0
    # means RE2's default of 100,000 instructions) and below sizeof(Prog), re2/compile.cc's
    # Compiler::Setup leaves room for no instruction, so RE2 says "pattern too large" at once instead
    # of spending up to 8 MB and a third of a second on a hostile \pL{1000}. A pattern costs a parse.
    options.max_mem = 3
    return options


def _re2_problem(pattern: str) -> tuple[str, str] | None:
    """None when C++ RE2 accepts; else (RE2's error code text, the offending part)."""
    # The binding's own re2.compile builds the same RE2 object (re2/__init__.py, _Regexp.__init__), after
    # copying 13 options through Python and into an LRU cache of compiled objects: four times the cost
    # of the verdict, which is all obsgen needs, for the thousands of matchers a large render checks.
    from re2 import _re2

    regexp = _re2.RE2(pattern.encode("utf-8"), _re2_options())
    if regexp.ok():
        return None
    raw = regexp.error()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    code, _, expr = text.partition(": ")
    return code, expr


# ------------------------------------------------------------------------------ lexical rules and tokens

# Token kinds for the tree model.
LIT, CLASS, EMPTY, OPEN_CAP, OPEN_GROUP, CLOSE, BAR, STAR, PLUS, QUEST, REPEAT = range(11)


class _Token(NamedTuple):
    kind: int
    min: int = 0
    max: int = 0
    text: str = ""  # a repeat operator as written, for Go's message


def _canonical_name(name: str) -> str:
    """Go's canonicalName (regexp/syntax/parse.go): first letter upper, rest lower, no ``_ -`` or space."""
    out = []
    first = True
    for c in name:
        if c in "_- ":
            continue
        if first:
            out.append(c.upper() if "a" <= c <= "z" else c)
            first = False
        else:
            out.append(c.lower() if "A" <= c <= "Z" else c)
    return "".join(out)


@functools.cache
def _category_aliases() -> frozenset[str]:
    # initCategoryAliases: the aliases' keys go through canonicalName, the tables' keys do not.
    return frozenset(_canonical_name(name) for name in go_unicode_names.CATEGORY_ALIASES)


def _go_unicode_class_ok(name: str) -> bool:
    """Go's unicodeTable (regexp/syntax/parse.go) finds a table for ``name``."""
    if name.startswith("^"):
        name = name[1:]
    canon = _canonical_name(name)
    return (
        canon in ("Any", "Assigned", "Ascii", "Lc")
        or canon in go_unicode_names.CATEGORIES
        or canon in go_unicode_names.SCRIPTS
        or canon in _category_aliases()
    )


def _is_capture_name(name: str) -> bool:
    """Go's isValidCaptureName: ``[A-Za-z0-9_]+``, ASCII only."""
    # ASCII tests on purpose: str.lower() maps the Kelvin sign to 'k', and isalnum() admits any script.
    return bool(name) and all(c == "_" or "0" <= c <= "9" or "a" <= c <= "z" or "A" <= c <= "Z" for c in name)


_HEX_ESCAPE = re.compile(r"\\x(?:\{[0-9A-Fa-f]*\}?|[0-9A-Fa-f]{0,2})")
_OCTAL_ESCAPE = re.compile(r"\\[0-7]{1,3}")
_FLAGS = re.compile(r"\(\?[imsU]*(?:-[imsU]*)?([:)])")


class _Scan:
    """One pass over the pattern, as Go's ``parse`` reads it: Go-only rejections, tokens, RE2 rewrites.

    Only patterns RE2 also parses reach the tree model, so the scan can be lenient about syntax RE2
    rejects anyway; it must be exact about token boundaries Go and RE2 share.
    """

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self._rewrites: list[tuple[int, int, str]] = []  # (start, end, text for RE2)
        self._braces: list[tuple[int, int]] = []  # spans of {n,m} repeat operators

    def rewritten(self, braces_as_star: bool = False) -> str:
        edits = sorted(self._rewrites + ([(s, e, "*") for s, e in self._braces] if braces_as_star else []))
        out, at = [], 0
        for start, end, text in edits:
            out.append(self.p[at:start])
            out.append(text)
            at = end
        out.append(self.p[at:])
        return "".join(out)

    def tokens(self) -> Iterator[_Token]:
        p, n = self.p, len(self.p)
        i = 0
        while i < n:
            c = p[i]
            if c == "\\":
                if i + 1 >= n:
                    return  # trailing backslash: RE2 reports it
                d = p[i + 1]
                if d == "Q":  # \Q...\E: literal text, no escapes inside (parse, case 'Q')
                    end = p.find("\\E", i + 2)
                    text = p[i + 2 :] if end < 0 else p[i + 2 : end]
                    for _ in text:
                        yield _Token(LIT)
                    i = n if end < 0 else end + 2
                    continue
                i, kind = self._escape(i, in_class=False)
                yield _Token(kind)
            elif c == "[":
                i = self._char_class(i)
                yield _Token(CLASS)
            elif c == "(":
                i, token = self._group(i)
                if token is not None:
                    yield token
            elif c == ")":
                i += 1
                yield _Token(CLOSE)
            elif c == "|":
                i += 1
                yield _Token(BAR)
            elif c in "*+?":
                i += 1
                i += p.startswith("?", i)  # non-greedy
                yield _Token({"*": STAR, "+": PLUS, "?": QUEST}[c])
            elif c == "{":
                parsed = _parse_repeat(p, i)
                if parsed is None:  # not a repeat: '{' is a literal (parse, case '{')
                    i += 1
                    yield _Token(LIT)
                    continue
                low, high, end = parsed
                if low < 0 or low > MAX_REPEAT or high > MAX_REPEAT or (high >= 0 and low > high):
                    raise _go_error("invalid repeat count", p[i:end])
                self._braces.append((i, end))
                token = _Token(REPEAT, low, high, p[i:end])
                i = end + p.startswith("?", end)
                yield token
            elif c in "^$":
                i += 1
                yield _Token(EMPTY)
            elif c == ".":
                i += 1
                yield _Token(CLASS)
            else:
                i += 1
                yield _Token(LIT)

    def _escape(self, i: int, in_class: bool) -> tuple[int, int]:
        """Read the escape at ``i``; returns (index after it, token kind)."""
        p = self.p
        d = p[i + 1]
        if d == "C":
            # parse: `case 'C': // any byte; not supported`; in a class parseEscape has no 'C' case.
            raise _go_error("invalid escape sequence", "\\C")
        if d in "pP":
            return self._unicode_class(i), CLASS
        if d in "dDsSwW":
            return i + 2, CLASS
        if d in "AzbB" and not in_class:
            return i + 2, EMPTY
        if d == "x":
            m = _HEX_ESCAPE.match(p, i)
            return (m.end() if m else i + 2), LIT
        if d in "01234567":
            m = _OCTAL_ESCAPE.match(p, i)
            return (m.end() if m else i + 2), LIT
        return i + 2, LIT  # punctuation, \a \f \n \r \t \v, or something RE2 rejects

    def _unicode_class(self, i: int) -> int:
        """``\\pX``, ``\\p{Name}``, ``\\p{^Name}``: Go's parseUnicodeClass and unicodeTable decide."""
        p = self.p
        if i + 2 >= len(p):
            raise _go_error("invalid character class range", p[i:])
        if p[i + 2] != "{":
            name, end = p[i + 2], i + 3
        else:
            close = p.find("}", i + 2)
            if close < 0:
                raise _go_error("invalid character class range", p[i:])
            name, end = p[i + 3 : close], close + 1
        if not _go_unicode_class_ok(name):
            raise _go_error("invalid character class range", p[i:end])
        # RE2 only needs to see a class here: one it knows, with the same sign.
        self._rewrites.append((i, end, "\\" + p[i + 1] + "L"))
        return end

    def _char_class(self, i: int) -> int:
        """Skip ``[...]`` (parseClass), applying the escape rules inside; returns the index after it."""
        p, n = self.p, len(self.p)
        i += 1
        if p.startswith("^", i):
            i += 1
        if p.startswith("]", i):  # a ']' right after '[' or '[^' is a member
            i += 1
        while i < n and p[i] != "]":
            if p.startswith("[:", i):
                close = p.find(":]", i + 2)
                if close >= 0:
                    i = close + 2
                    continue
            if p[i] == "\\" and i + 1 < n:
                i, _ = self._escape(i, in_class=True)
                continue
            i += 1
        return i + 1

    def _group(self, i: int) -> tuple[int, _Token | None]:
        """``(``, ``(?:``, ``(?flags)``, ``(?flags:``, ``(?P<name>``, ``(?<name>`` (parsePerlFlags)."""
        p = self.p
        if not p.startswith("(?", i):
            return i + 1, _Token(OPEN_CAP)
        named = (p.startswith("(?P<", i) and len(p) - i > 4) or (p.startswith("(?<", i) and len(p) - i > 3)
        if named and not p.startswith(("(?<=", "(?<!"), i):
            start = i + (4 if p[i + 2] == "P" else 3)
            close = p.find(">", start)
            if close < 0:
                return len(p), None  # RE2 reports the unterminated name
            if not _is_capture_name(p[start:close]):
                raise _go_error("invalid named capture", p[i : close + 1])
            return close + 1, _Token(OPEN_CAP)
        flags = _FLAGS.match(p, i)
        if flags is None:
            return i + 2, None  # look-around and other Perl syntax: RE2 reports it
        return flags.end(), (_Token(OPEN_GROUP) if flags.group(1) == ":" else None)


def _parse_repeat(p: str, i: int) -> tuple[int, int, int] | None:
    """Go's parseRepeat: ``{min}``, ``{min,}``, ``{min,max}`` at ``i`` -> (min, max or -1, end), or None.

    A count is digits without a leading zero; parseInt gives -1 for one of 10 digits or more.
    """

    def integer(at: int) -> tuple[int, int] | None:
        end = at
        while end < len(p) and "0" <= p[end] <= "9":
            end += 1
        digits = p[at:end]
        if not digits or (len(digits) > 1 and digits[0] == "0"):
            return None
        return (int(digits) if len(digits) <= 9 else -1), end

    first = integer(i + 1)
    if first is None:
        return None
    low, at = first
    high = low
    if p.startswith(",", at):
        at += 1
        if p.startswith("}", at):
            high = -1
        else:
            second = integer(at)
            if second is None:
                return None
            high, at = second
            if high < 0:
                low = -1
    if not p.startswith("}", at):
        return None
    return low, high, at + 1


# ------------------------------------------------------------------------------ Go's parse-tree limits


@dataclass
class _Node:
    kind: int  # LIT, CLASS, EMPTY, OPEN_CAP (a capture), STAR, PLUS, QUEST, REPEAT, or _CONCAT/_ALT
    subs: list[_Node] = field(default_factory=list)
    runes: int = 0  # literal length
    min: int = 0
    max: int = 0
    size: int = 1
    height: int = 1
    grouped: bool = False  # a literal closed by ')' is one operand of a following repeat
    count: int = 1  # how many branches an alternation has once nested ones are spliced in


_CONCAT, _ALT, _EMPTY_MATCH = 100, 101, 102


class _GoTree:
    """Go's parse tree, as far as its limits need: heights, sizes and nested repeat counts.

    Nodes follow parse.go: adjacent literal runes merge into one literal (maybeConcat); a repeat takes
    the last rune only; ``(?:...)`` adds no node, and its concatenation or alternation is spliced into
    the enclosing one (collapse); an alternation of single characters and classes is one
    class (mergeCharClass). Go also factors common prefixes out of alternations (factor); that is left
    out, so heights and sizes here are never below Go's.
    """

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens

    def build(self) -> None:
        frames: list[tuple[bool, list[_Node], list[_Node]]] = [(False, [], [])]  # (capture?, branches, items)
        for token in self.tokens:
            capture, branches, items = frames[-1]
            kind = token.kind
            if kind == LIT:
                last = items[-1] if items else None
                if last is not None and last.kind == LIT and not last.grouped:
                    last.runes += 1
                    last.size = last.runes
                else:
                    items.append(_Node(LIT, runes=1))
            elif kind in (CLASS, EMPTY):
                items.append(self._check(_Node(kind)))
            elif kind in (STAR, PLUS, QUEST, REPEAT):
                if not items:
                    continue  # RE2 reported the missing argument
                items.append(self._repeat(token, self._operand(items)))
            elif kind == BAR:
                branches.append(self._concat(items))
                items.clear()
            elif kind in (OPEN_CAP, OPEN_GROUP):
                frames.append((kind == OPEN_CAP, [], []))
            elif kind == CLOSE and len(frames) > 1:
                frames.pop()
                node = self._alternate([*branches, self._concat(items)])
                if capture:
                    node = self._check(_Node(OPEN_CAP, [node], size=2 + node.size, height=1 + node.height))
                elif node.kind == LIT:
                    node.grouped = True
                frames[-1][2].append(node)
        _, branches, items = frames[0]
        self._alternate([*branches, self._concat(items)])

    @staticmethod
    def _operand(items: list[_Node]) -> _Node:
        last = items[-1]
        if last.kind == LIT and last.runes > 1 and not last.grouped:
            last.runes -= 1
            last.size = last.runes
            return _Node(LIT, runes=1)
        return items.pop()

    def _repeat(self, token: _Token, sub: _Node) -> _Node:
        kind = token.kind
        if kind == STAR:
            size = 2 + sub.size
        elif kind in (PLUS, QUEST):
            size = 1 + sub.size
        elif token.max == -1:  # calcSize: x{n,} is x* or xxx+
            size = 2 + sub.size if token.min == 0 else 1 + token.min * sub.size
        else:  # calcSize: x{2,5} = xx(x(x(x)?)?)?
            size = token.max * sub.size + (token.max - token.min)
        node = self._check(_Node(kind, [sub], min=token.min, max=token.max, size=max(1, size), height=1 + sub.height))
        if kind == REPEAT and (token.min >= 2 or token.max >= 2) and not _repeat_is_valid(node, MAX_REPEAT):
            raise GoRegexpError(f"invalid repeat count: `{token.text}` (nested repeats multiply to more than 1000)")
        return node

    def _concat(self, items: list[_Node]) -> _Node:
        if not items:
            return _Node(_EMPTY_MATCH)
        if len(items) == 1:
            return items[0]
        # collapse (parse.go) splices a concatenation from (?:...) into this one: its parts count one
        # level lower. Sizes add up either way. subs keeps the unspliced items, enough for repeatIsValid.
        height = 1 + max(n.height - (n.kind == _CONCAT) for n in items)
        return self._check(_Node(_CONCAT, list(items), size=sum(n.size for n in items), height=height))

    def _alternate(self, branches: list[_Node]) -> _Node:
        if len(branches) == 1:
            return self._check(branches[0])
        if all(b.kind == CLASS or (b.kind == LIT and b.runes == 1) for b in branches):
            return _Node(CLASS)
        # As in _concat, a nested alternation's branches are spliced in (collapse); its size included
        # one '|' instruction per extra branch, which the spliced count adds back.
        count = sum(b.count if b.kind == _ALT else 1 for b in branches)
        size = sum(b.size - (b.count - 1 if b.kind == _ALT else 0) for b in branches) + count - 1
        height = 1 + max(b.height - (b.kind == _ALT) for b in branches)
        return self._check(_Node(_ALT, branches, size=size, height=height, count=count))

    @staticmethod
    def _check(node: _Node) -> _Node:
        # checkLimits runs on every node pushed and every repeat built (parse.go push, repeat).
        if node.height > MAX_HEIGHT:
            raise GoRegexpError(f"expression nests too deeply (more than {MAX_HEIGHT} levels)")
        if node.size > MAX_SIZE:
            raise GoRegexpError(f"expression too large (a repeat compiles to more than {MAX_SIZE} instructions)")
        return node


def _repeat_is_valid(root: _Node, limit: int) -> bool:
    """Go's repeatIsValid (regexp/syntax/parse.go): at most ``limit`` copies of the innermost repeated thing.

    Go recurses; this walks with a stack, since a tree of (?:...) groups can be deeper than Python's
    recursion limit before collapse flattens it.
    """
    stack = [(root, limit)]
    while stack:
        node, n = stack.pop()
        if node.kind == REPEAT:
            m = node.max
            if m == 0:
                continue
            if m < 0:
                m = node.min
            if m > n:
                return False
            if m > 0:
                n //= m
        stack.extend((sub, n) for sub in node.subs)
    return True


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
    if not go_regexp_error(tidy) and is_anchored(tidy):
        return tidy
    return f"^(?:{pattern})$"  # e.g. '^+|': the stripped '^' was the operand of the '+'
