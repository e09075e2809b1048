"""The selectors of a PromQL expression, parsed once per *shape*: the text with its matcher values taken out.

A 1,000-service render checks ~28k dashboard queries that differ only in the values they match (service,
span and edge names): a few dozen shapes. Parsing each shape once and putting the values back gives the
same selectors as parsing every expression (``obsgen.targets.prometheus.promql``), and the values get
the checks their text needs on its own:

- a matcher value is the string literal right after ``=``, ``!=``, ``=~`` or ``!~``; each distinct
  literal is parsed alone by the same parser (its escapes, its value) and, for a regex matcher, inside a
  selector, through the same regex checks (``promql.parse``: the library's and Go's ``regexp``);
- everything else of the expression (structure, names, ranges, functions, other string arguments) is
  in the shape and parsed as it is.

Anything whose meaning could depend on a value goes the whole way through the full parse instead, so the
result and its error are always the full parse's: a selector without a metric name (Prometheus refuses
one whose matchers all match the empty string), a comment (``#``: a quote in it is not a literal), a
U+FFFD, a text holding the placeholder, and any expression whose shape or literal does not parse.
``tests/test_promql_shapes.py`` compares the two paths on every query of every example spec and on a
corpus of edge cases.
"""

from __future__ import annotations

import re

from obsgen.targets.prometheus import promql as promql_tree

# Every string literal, scanned left to right as the lexer does (no comments here): "..." or '...' with
# escapes, or `...` (raw). One right after a matcher operator is a matcher value.
_LITERAL = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`""")
_MARK = "obsgen_value_"
_LIMIT = 1 << 12  # shapes and literals repeat within a render; clearing only costs parsing again

SelectorParts = tuple[str | None, tuple[tuple[str, str, str], ...]]

_shapes: dict[str, tuple[SelectorParts, ...] | None] = {}
_literals: dict[tuple[str, bool], str | None] = {}


class _Whole(Exception):
    """This expression must be parsed whole."""


def _placeholder(index: int) -> str:
    return f'"{_MARK}{index}"'


def _value(literal: str, regex: bool) -> str:
    """The value of a matcher's string literal, checked as the full parse would check it."""
    if not regex and literal[0] == '"' and "\\" not in literal and literal.isprintable():
        return literal[1:-1]  # no escape, no control character: the text between the quotes is the value
    key = (literal, regex)
    if key in _literals:
        value = _literals[key]
    else:
        if len(_literals) >= _LIMIT:
            _literals.clear()
        try:
            # inside a selector, so the regex checks run exactly as for the whole expression
            tree = promql_tree.parse(f"x{{a{'=~' if regex else '='}{literal}}}")
            value = promql_tree.selectors(tree)[0].matchers[0].value
        except promql_tree.PromQLError:
            value = None
        _literals[key] = value
    if value is None:
        raise _Whole
    return value


def _shape(shape: str) -> tuple[SelectorParts, ...]:
    if shape in _shapes:
        parts = _shapes[shape]
    else:
        if len(_shapes) >= _LIMIT:
            _shapes.clear()
        try:
            found = promql_tree.selectors(promql_tree.parse(shape))
        except promql_tree.PromQLError:
            found = None
        # a selector named only by matchers could be refused for its values (all matching ""): parse whole
        parts = None if found is None or any(s.metric_name is None or s.metric_name.startswith(_MARK)
                                             for s in found) else tuple(
            (s.metric_name, tuple((m.name, m.op, m.value) for m in s.matchers)) for s in found)
        _shapes[shape] = parts
    if parts is None:
        raise _Whole
    return parts


def selectors(expr: str) -> tuple[SelectorParts, ...]:
    """Every vector selector of ``expr`` as (metric name, ((label, op, value), ...)), in source order.

    Exactly ``promql_tree.selectors(promql_tree.parse(expr))``; raises ``promql_tree.PromQLError`` as
    that parse does.
    """
    try:
        return _by_shape(expr)
    except _Whole:
        tree = promql_tree.parse(expr)
        return tuple((s.metric_name, tuple((m.name, m.op, m.value) for m in s.matchers))
                     for s in promql_tree.selectors(tree))


def _by_shape(expr: str) -> tuple[SelectorParts, ...]:
    if "#" in expr or "\ufffd" in expr or _MARK in expr:
        raise _Whole
    values: list[str] = []
    pieces: list[str] = []
    end = 0
    for match in _LITERAL.finditer(expr):
        before = expr[end:match.start()]
        pieces.append(before)
        # only the text since the last literal can hold the operator: a literal never ends in one
        tail = before.rstrip()[-2:]
        if tail[-1:] == "=" or tail in ("=~", "!~"):
            values.append(_value(match.group(), tail in ("=~", "!~")))
            pieces.append(_placeholder(len(values) - 1))
        else:
            pieces.append(match.group())
        end = match.end()
    pieces.append(expr[end:])
    shape = "".join(pieces)
    if not values:
        raise _Whole  # nothing to share: the plain parse (and its cache) is as good
    placeholders = {f"{_MARK}{i}": v for i, v in enumerate(values)}
    out = []
    for name, matchers in _shape(shape):
        filled = tuple((label, op, placeholders.get(value, value)) for label, op, value in matchers)
        out.append((placeholders.get(name, name) if name is not None else None, filled))
    return tuple(out)
