"""PromQL parsed by ``promql-parser`` (a maintained Rust parser of Prometheus 3's grammar), and what obsgen reads
from the tree: value types, selectors and the label names an expression mentions.

obsgen parses every expression it renders before it is written (strict rule model, cross-artifact checks,
rule lint). The library follows Prometheus 3's grammar and type rules (UTF-8 quoted names, number durations,
the 3.x function set); where it is more permissive than Prometheus, this module closes the gap, each rule
proven by ``tests/test_promql_differential.py`` against promtool 3:
- ``{a="1" or b="2"}``: or-ed matcher sets are a promql-parser extension Prometheus does not have;
- experimental functions (``Function.experimental``) are refused unless Prometheus runs with
  ``--enable-feature=promql-experimental-functions``, which obsgen never asks for;
- label-matcher regexes are compiled by Go's ``regexp`` in Prometheus (``labels.NewFastRegexMatcher``), so
  they go through obsgen's Go-regexp checker, not the Rust ``regex`` crate's rules;
- a literal U+FFFD is refused by Prometheus' lexer as an invalid UTF-8 rune (``promql/parser/lex.go``,
  ``lexString``/``lexRawString``); obsgen refuses it anywhere in the text (also in a comment, where Prometheus
  would let it pass: stricter, never wrong for what obsgen writes);
- durations (ranges, offsets) must fit Go's int64 nanoseconds (``time.Duration``); the library keeps larger
  values. ``@`` times the library cannot hold are refused (see ``_SATURATED_AT_SECONDS``).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator
from typing import Literal, NamedTuple

import promql_parser as pp

from obsgen.spec.goregexp import go_regexp_error as go_regex_error

ValueType = Literal["scalar", "vector", "matrix", "string"]
Expr = pp.Expr

# The library's enums are not hashable: they are keyed by their integer values.
_OPS = {int(pp.MatchOp.Equal): "=", int(pp.MatchOp.NotEqual): "!=", int(pp.MatchOp.Re): "=~",
        int(pp.MatchOp.NotRe): "!~"}
_VALUE_TYPES: dict[int, ValueType] = {int(pp.ValueType.Scalar): "scalar", int(pp.ValueType.Vector): "vector",
                                      int(pp.ValueType.Matrix): "matrix", int(pp.ValueType.String): "string"}
_REGEX_OPS = frozenset((int(pp.MatchOp.Re), int(pp.MatchOp.NotRe)))


class PromQLError(ValueError):
    """An expression Prometheus would refuse; the message is the parser's."""


class Match(NamedTuple):
    """One label matcher: ``name op "value"`` with ``op`` one of ``=``, ``!=``, ``=~``, ``!~``."""

    name: str
    op: str
    value: str


class Selector(NamedTuple):
    """A vector selector: its metric name (None when only a regex on ``__name__`` names it) and matchers."""

    metric_name: str | None
    matchers: tuple[Match, ...]


def _children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions in source order (an aggregation's parameter precedes its operand)."""
    if isinstance(node, pp.MatrixSelector):
        return (node.vector_selector,)
    if isinstance(node, pp.SubqueryExpr | pp.UnaryExpr | pp.ParenExpr):
        return (node.expr,)
    if isinstance(node, pp.Call):
        return tuple(node.args)
    if isinstance(node, pp.AggregateExpr):
        return (node.expr,) if node.param is None else (node.param, node.expr)
    if isinstance(node, pp.BinaryExpr):
        return (node.lhs, node.rhs)
    return ()


def walk(node: Expr) -> Iterator[Expr]:
    """Pre-order walk in source order; iterative, so long operator chains cannot exhaust the stack."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def _matches(selector: pp.VectorSelector) -> tuple[Match, ...]:
    return tuple(Match(m.name, _OPS[int(m.op)], m.value) for m in selector.matchers.matchers)


# Go's time.Duration is int64 nanoseconds: about 292 years.
_MAX_DURATION = datetime.timedelta(microseconds=(2**63 - 1) // 1000)
# promql-parser keeps an ``@`` time as a SystemTime that saturates at 2^64 ms (shown as 18446744073709552.000 s);
# Prometheus refuses ``@ t`` from t >= 2^63 s. A saturated value is refused (it is at least 1.8e16 s).
_SATURATED_AT_SECONDS = 18446744073709552.0


def _check_time(node: Expr) -> None:
    try:
        _check_time_fields(node)
    except OverflowError:  # the library's duration does not fit Python's timedelta either
        raise PromQLError("duration out of range: it must fit int64 nanoseconds (~292 years)") from None


def _check_time_fields(node: Expr) -> None:
    offset = getattr(node, "offset", None)
    if offset is not None and abs(offset) > _MAX_DURATION:
        raise PromQLError("offset out of range: it must fit int64 nanoseconds (~292 years)")
    at = getattr(node, "at", None)
    # Reading ``AtModifier.at`` can panic inside the library for some values; its text is safe ("@ 100.000",
    # saturated for huge values, "@ start()" for the functions).
    at_text = str(at).removeprefix("@ ") if at is not None else ""
    if at_text[:1].isdigit() and float(at_text) >= _SATURATED_AT_SECONDS:
        raise PromQLError("timestamp out of bounds for the @ modifier")
    if isinstance(node, pp.MatrixSelector) and node.range > _MAX_DURATION:
        raise PromQLError("range out of range: it must fit int64 nanoseconds (~292 years)")


def _refuse_what_prometheus_refuses(tree: Expr) -> None:
    for node in walk(tree):
        _check_time(node)
        if isinstance(node, pp.VectorSelector):
            if node.matchers.or_matchers:
                raise PromQLError("unexpected 'or' in a label matcher list (not Prometheus syntax)")
            for matcher in node.matchers.matchers:
                if int(matcher.op) in _REGEX_OPS:
                    problem = go_regex_error(matcher.value)
                    if problem is not None:
                        raise PromQLError(f"invalid regular expression {matcher.value!r}: {problem}")
        elif isinstance(node, pp.Call) and node.func.experimental:
            raise PromQLError(f"function {node.func.name!r} is experimental: Prometheus refuses it unless "
                              "started with --enable-feature=promql-experimental-functions")


# An artifact's expressions are parsed by its strict model, the cross-check facts and the rule lint one
# right after another, so reuse is within one artifact; a bigger cache only holds trees longer.
@functools.lru_cache(maxsize=1 << 12)
def parse(expr: str) -> Expr:
    """Parse and type-check ``expr`` as Prometheus 3 does; raises :class:`PromQLError` when it would refuse it."""
    if not expr.strip():
        raise PromQLError("no expression found in input")
    if "\ufffd" in expr:
        raise PromQLError("invalid UTF-8 rune (a literal U+FFFD)")
    try:
        tree = pp.parse(expr)
    except (ValueError, OverflowError) as exc:
        raise PromQLError(str(exc)) from None
    _refuse_what_prometheus_refuses(tree)
    return tree


def value_type(node: Expr) -> ValueType:
    """The type the expression evaluates to (Prometheus' ``Expr.Type()``)."""
    while isinstance(node, pp.ParenExpr | pp.UnaryExpr):
        node = node.expr
    if isinstance(node, pp.NumberLiteral):
        return "scalar"
    if isinstance(node, pp.StringLiteral):
        return "string"
    if isinstance(node, pp.MatrixSelector | pp.SubqueryExpr):
        return "matrix"
    if isinstance(node, pp.Call):
        return _VALUE_TYPES[int(node.func.return_type)]
    if isinstance(node, pp.BinaryExpr):
        both_scalar = value_type(node.lhs) == "scalar" and value_type(node.rhs) == "scalar"
        return "scalar" if both_scalar else "vector"
    return "vector"  # vector selectors and aggregations


def selectors(tree: Expr) -> list[Selector]:
    """Every vector selector in ``tree`` (including those inside range selectors), in source order."""
    found = []
    for node in walk(tree):
        if isinstance(node, pp.VectorSelector):
            matches = _matches(node)
            name = node.name or next((m.value for m in matches if m.name == "__name__" and m.op == "="), None)
            found.append(Selector(name, matches))
    return found


def metric_names_used(tree: Expr) -> set[str]:
    """Metric names the expression reads (selectors named only by a regex are not included)."""
    return {s.metric_name for s in selectors(tree) if s.metric_name is not None}


def _string_arg(node: Expr) -> str | None:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node.val if isinstance(node, pp.StringLiteral) else None


def label_names_used(tree: Expr) -> set[str]:
    """Label names the expression mentions.

    Covers matcher names (``__name__`` included when written), by/without, on/ignoring and
    group_left/group_right lists, and the destination and source labels of label_replace and
    label_join. Empty label names (the ``label_replace(v, "dst", "x", "", "")`` idiom) are skipped.
    """
    names: set[str] = set()
    for node in walk(tree):
        if isinstance(node, pp.VectorSelector):
            names.update(m.name for m in node.matchers.matchers)
        elif isinstance(node, pp.AggregateExpr) and node.modifier is not None:
            names.update(node.modifier.labels)
        elif isinstance(node, pp.BinaryExpr) and node.modifier is not None:
            if node.modifier.matching is not None:
                names.update(node.modifier.matching.labels)
            names.update(node.modifier.group_labels or ())  # group_left(...)/group_right(...)
        elif isinstance(node, pp.Call) and node.func.name == "label_replace":
            names.update(s for s in (_string_arg(node.args[1]), _string_arg(node.args[3])) if s)
        elif isinstance(node, pp.Call) and node.func.name == "label_join":
            names.update(s for a in (node.args[1], *node.args[3:]) if (s := _string_arg(a)))
    return names


def outer_grouping(tree: Expr) -> frozenset[str] | None:
    """Labels of the outermost ``by (...)`` aggregation; None when the result keeps its inputs' labels."""
    node = tree
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if isinstance(node, pp.AggregateExpr):
        modifier = node.modifier
        if modifier is None:
            return frozenset()
        if modifier.type == pp.AggModifierType.By:
            return frozenset(modifier.labels)
    return None


def is_series_description(tree: Expr) -> bool:
    """True for ``name{label="value", ...}``: a metric name and equality matchers only (promtool's series)."""
    return isinstance(tree, pp.VectorSelector) and all(_OPS[int(m.op)] == "=" for m in tree.matchers.matchers)


def range_seconds(node: pp.MatrixSelector) -> float:
    """The range of a range selector, in seconds."""
    return float(node.range.total_seconds())
