"""In-process PromQL parser (Prometheus 2.42 grammar and type rules) and quoting helpers.

obsgen uses it to prove every generated expression parses without running ``promtool`` per
expression, and to list the metric and label names an expression reads so cross-artifact checks
can show each one is produced by the configured telemetry source.

The AST is made of frozen dataclasses; sequences are tuples. Node positions (``pos``, a 0-based
character offset) are excluded from equality so ASTs of differently formatted sources compare equal.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from obsgen import escape
from obsgen.promql_lex import (
    _MATCHER,
    DURATION,
    EOF,
    FUSED_BRACES,
    IDENTIFIER,
    KEYWORDS,
    METRIC_IDENTIFIER,
    NUMBER,
    STRING,
    PromQLError,
    RawToken,
    _scan,
)
from obsgen.spec.re2check import re2_error

__all__ = [
    "FUNCTIONS",
    "AggregateExpr",
    "BinaryExpr",
    "Call",
    "Expr",
    "Matcher",
    "MatrixSelector",
    "NumberLiteral",
    "ParenExpr",
    "PromQLError",
    "StringLiteral",
    "SubqueryExpr",
    "UnaryExpr",
    "VectorMatching",
    "VectorSelector",
    "label_names_used",
    "metric_names_used",
    "parse",
    "quote",
    "regex_quote",
    "selectors",
    "value_type",
]

ValueType = Literal["scalar", "vector", "matrix", "string"]
SCALAR: ValueType = "scalar"
VECTOR: ValueType = "vector"
MATRIX: ValueType = "matrix"
STRING_T: ValueType = "string"
_TYPE_NAMES = {SCALAR: "scalar", VECTOR: "instant vector", MATRIX: "range vector", STRING_T: "string"}

# name -> (argument types, variadic, return type). variadic: 0 = fixed arity, n > 0 = the last
# argument is optional and may appear up to n times, -1 = the last argument may repeat without limit.
FUNCTIONS: dict[str, tuple[tuple[ValueType, ...], int, ValueType]] = {
    **{name: ((VECTOR,), 0, VECTOR) for name in (
        "abs", "absent", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "deg", "exp",
        "floor", "histogram_count", "histogram_sum", "ln", "log10", "log2", "rad", "sgn", "sin", "sinh", "sort",
        "sort_desc", "sqrt", "tan", "tanh", "timestamp",
    )},
    **{name: ((MATRIX,), 0, VECTOR) for name in (
        "absent_over_time", "avg_over_time", "changes", "count_over_time", "delta", "deriv", "idelta", "increase",
        "irate", "last_over_time", "max_over_time", "min_over_time", "present_over_time", "rate", "resets",
        "stddev_over_time", "stdvar_over_time", "sum_over_time",
    )},
    **{name: ((VECTOR,), 1, VECTOR) for name in (
        "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year",
    )},
    "clamp": ((VECTOR, SCALAR, SCALAR), 0, VECTOR),
    "clamp_max": ((VECTOR, SCALAR), 0, VECTOR),
    "clamp_min": ((VECTOR, SCALAR), 0, VECTOR),
    "histogram_fraction": ((SCALAR, SCALAR, VECTOR), 0, VECTOR),
    "histogram_quantile": ((SCALAR, VECTOR), 0, VECTOR),
    "holt_winters": ((MATRIX, SCALAR, SCALAR), 0, VECTOR),
    "label_join": ((VECTOR, STRING_T, STRING_T, STRING_T), -1, VECTOR),
    "label_replace": ((VECTOR, STRING_T, STRING_T, STRING_T, STRING_T), 0, VECTOR),
    "pi": ((), 0, SCALAR),
    "predict_linear": ((MATRIX, SCALAR), 0, VECTOR),
    "quantile_over_time": ((SCALAR, MATRIX), 0, VECTOR),
    "round": ((VECTOR, SCALAR), 1, VECTOR),
    "scalar": ((VECTOR,), 0, SCALAR),
    "time": ((), 0, SCALAR),
    "vector": ((SCALAR,), 0, VECTOR),
}  # fmt: skip

_AGGREGATORS = frozenset({"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk",
                          "count_values", "quantile"})  # fmt: skip
_PARAM_TYPES: dict[str, ValueType] = {"topk": SCALAR, "bottomk": SCALAR, "quantile": SCALAR, "count_values": STRING_T}
# Keywords the grammar also accepts as a metric name in operand position.
_METRIC_KEYWORDS = _AGGREGATORS | {"by", "without", "and", "or", "unless", "offset", "start", "end"}
_COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_SET_OPS = frozenset({"and", "or", "unless"})
_PRECEDENCE = {
    "or": 1, "and": 2, "unless": 2,
    **dict.fromkeys(_COMPARISONS, 3),
    "+": 4, "-": 4,
    "*": 5, "/": 5, "%": 5, "atan2": 5,
    "^": 6,
}  # fmt: skip
_SIGNS = frozenset({"+", "-"})
_POSTFIX = frozenset({"[", "offset", "@"})
_CALL_CONTEXTS: dict[str, str] = {}  # function name -> "call to function 'name'" (error context)
_UNARY_PRECEDENCE = 6  # unary +/- bind like * : tighter operators (only ^) stay inside the operand
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DURATION = re.compile(r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?")
_DURATION_MS = (365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
_MAX_INT64 = 2**63 - 1
_REGEX_META = escape.REGEX_META


# --------------------------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Matcher:
    """A label matcher ``name op "value"``; ``op`` is one of ``=``, ``!=``, ``=~``, ``!~``."""

    name: str
    op: Literal["=", "!=", "=~", "!~"]
    value: str

    def matches(self, text: str) -> bool:
        """Whether a label value ``text`` satisfies this matcher (regexes are fully anchored, as in Prometheus)."""
        if self.op == "=":
            return text == self.value
        if self.op == "!=":
            return text != self.value
        # Python's re agrees with RE2 on every pattern the parser accepted (no look-around, no back-references)
        hit = re.fullmatch(self.value, text, flags=re.DOTALL) is not None
        return hit if self.op == "=~" else not hit


@dataclass(frozen=True)
class NumberLiteral:
    """A scalar number literal (unary minus on a literal is folded into it)."""

    value: float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class StringLiteral:
    """A string literal, already unquoted."""

    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class VectorSelector:
    """An instant vector selector.

    ``metric_name`` is the name before the braces, or the value of an ``=`` matcher on ``__name__``.
    ``matchers`` are the matchers written in braces, in source order (a name written before the
    braces is not repeated there). ``offset_ms`` may be negative; ``at`` is a Unix time in seconds or
    ``"start"``/``"end"``.
    """

    metric_name: str | None
    matchers: tuple[Matcher, ...] = ()
    offset_ms: int | None = None
    at: float | str | None = None
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class MatrixSelector:
    """A range vector selector ``selector[range]``; offset and ``@`` live on the inner selector."""

    selector: VectorSelector
    range_ms: int
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SubqueryExpr:
    """A subquery ``expr[range:step]``; ``step_ms`` is ``None`` when the step is left to the default."""

    expr: Expr
    range_ms: int
    step_ms: int | None = None
    offset_ms: int | None = None
    at: float | str | None = None
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A function call; ``func`` is a key of :data:`FUNCTIONS`."""

    func: str
    args: tuple[Expr, ...] = ()
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class AggregateExpr:
    """An aggregation; ``param`` is the first argument of topk/bottomk/quantile/count_values."""

    op: str
    expr: Expr
    param: Expr | None = None
    grouping: tuple[str, ...] = ()
    without: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class VectorMatching:
    """``on``/``ignoring`` labels plus the ``group_left``/``group_right`` side and its extra labels."""

    on: bool = False
    labels: tuple[str, ...] = ()
    group: Literal["left", "right"] | None = None
    include: tuple[str, ...] = ()


@dataclass(frozen=True)
class BinaryExpr:
    """A binary operation; ``matching`` is ``None`` unless on/ignoring was written."""

    op: str
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    matching: VectorMatching | None = None
    pos: int = field(default=0, compare=False)
    result_type: ValueType = field(default=VECTOR, compare=False, repr=False)


@dataclass(frozen=True)
class UnaryExpr:
    """Unary ``+``/``-`` on a non-literal operand."""

    op: Literal["+", "-"]
    expr: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class ParenExpr:
    """A parenthesised expression."""

    expr: Expr
    pos: int = field(default=0, compare=False)


Expr = (
    NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | Call | AggregateExpr
    | BinaryExpr | UnaryExpr | ParenExpr
)  # fmt: skip


def value_type(expr: Expr) -> ValueType:
    """The PromQL value type an expression evaluates to: scalar, vector (instant), matrix (range) or string."""
    cls = type(expr)
    fixed = _FIXED_TYPES.get(cls)
    if fixed is not None:
        return fixed
    if cls is Call:
        return FUNCTIONS[expr.func][2]  # type: ignore[union-attr]
    if cls is BinaryExpr:
        return expr.result_type  # type: ignore[union-attr]
    while isinstance(expr, ParenExpr | UnaryExpr):
        expr = expr.expr
    match expr:
        case NumberLiteral():
            return SCALAR
        case StringLiteral():
            return STRING_T
        case VectorSelector() | AggregateExpr():
            return VECTOR
        case MatrixSelector() | SubqueryExpr():
            return MATRIX
        case Call():
            return FUNCTIONS[expr.func][2]
        case BinaryExpr():
            return expr.result_type
    raise TypeError(f"not a PromQL expression: {expr!r}")


# The type of a node of exactly one of these classes (value_type's fast path; subclasses take the slow one).
_FIXED_TYPES: dict[type, ValueType] = {
    NumberLiteral: SCALAR, StringLiteral: STRING_T, VectorSelector: VECTOR, AggregateExpr: VECTOR,
    MatrixSelector: MATRIX, SubqueryExpr: MATRIX,
}  # fmt: skip


# ------------------------------------------------------------------------------------------ helpers


def _anchored(regex: str) -> str:
    return f"^(?:{regex})$"


def _parse_number(text: str, pos: int) -> float:
    """Mirror Go's ParseInt(base 0) then ParseFloat, including their failure modes."""
    low = text.lower()
    if low in ("inf", "nan"):
        return float(low)
    try:
        if low.startswith("0x"):
            value = int(low[2:], 16)
            if value > _MAX_INT64:
                raise ValueError("hexadecimal literal out of range")
            return float(value)
        if text.isdigit():
            value = int(text, 8) if len(text) > 1 and text[0] == "0" and set(text) <= set("01234567") else int(text)
            if value <= _MAX_INT64:
                return float(value)
        result = float(text)
    except ValueError as exc:
        raise PromQLError(f"error parsing number {text!r}: {exc}", pos) from None
    if math.isinf(result):
        raise PromQLError(f"error parsing number {text!r}: value out of range", pos)
    return result


@functools.lru_cache(maxsize=1024)
def _duration_ms(text: str) -> int | str:
    """Duration text -> milliseconds, or the error message; units must appear in y, w, d, h, m, s, ms order."""
    m = _DURATION.fullmatch(text)
    if m is None or not text:
        return f"not a valid duration string: {text!r}"
    total = sum(int(g) * unit for g, unit in zip(m.groups(), _DURATION_MS, strict=True) if g)
    if total * 1_000_000 > _MAX_INT64:
        return f"duration out of range: {text!r}"
    if total == 0:
        return "duration must be greater than 0"
    return total


def _parse_duration(tok: RawToken) -> int:
    """Duration token -> milliseconds."""
    result = _duration_ms(tok[1])
    if isinstance(result, str):
        raise PromQLError(result, tok[2])
    return result


def _describe(tok: RawToken) -> str:
    return "end of input" if tok[0] == EOF else repr(tok[1])


# ------------------------------------------------------------------------------------------- parser


class _Parser:
    """Precedence-climbing parser over the token list; semantic (type) checks happen as nodes are built."""

    __slots__ = ("i", "kinds", "tokens")

    def __init__(self, tokens: list[RawToken]) -> None:
        self.tokens = tokens
        self.kinds = [tok[0] for tok in tokens]  # peeking at kinds is what the parser does most
        self.i = 0

    @property
    def peek(self) -> RawToken:
        return self.tokens[self.i]

    def advance(self) -> RawToken:
        tok = self.tokens[self.i]
        if tok[0] != EOF:
            self.i += 1
        return tok

    def expect(self, kind: str, context: str) -> RawToken:
        tok = self.tokens[self.i]
        if tok[0] != kind:
            raise PromQLError(f"unexpected {_describe(tok)} in {context}, expected {kind!r}", tok[2])
        self.i += 1  # (kind is never EOF: nothing expects the end of input)
        return tok

    # --- expressions

    def expr(self, min_prec: int = 0) -> Expr:
        kinds = self.kinds
        if kinds[self.i] in _SIGNS:
            left = self.unary()
        else:
            left = self.primary()
            if kinds[self.i] in _POSTFIX:
                left = self.postfix(left)
        while (prec := _PRECEDENCE.get(kinds[self.i])) is not None and prec >= min_prec:
            op = self.advance()
            return_bool, matching = self.binary_modifiers()
            # ^ is right-associative: its right operand may itself contain ^.
            rhs = self.expr(prec if op[0] == "^" else prec + 1)
            left = _binary(op, left, rhs, return_bool, matching)
        return left

    def unary(self) -> Expr:
        if self.kinds[self.i] not in ("+", "-"):
            return self.postfix(self.primary())
        op = self.advance()
        operand = self.expr(_UNARY_PRECEDENCE)
        if isinstance(operand, NumberLiteral):
            value = -operand.value if op[0] == "-" else operand.value
            return NumberLiteral(value, op[2])
        if value_type(operand) not in (SCALAR, VECTOR):
            raise PromQLError("unary expression only allowed on expressions of type scalar or instant vector", op[2])
        return UnaryExpr("-" if op[0] == "-" else "+", operand, op[2])

    def primary(self) -> Expr:
        i = self.i
        tok = self.tokens[i]
        kind = tok[0]
        if kind != EOF:
            self.i = i + 1
        if kind == IDENTIFIER:
            return self.call(tok) if self.kinds[self.i] == "(" else self.selector(tok[1], tok[2])
        if kind == METRIC_IDENTIFIER:
            return self.selector(tok[1], tok[2])
        if kind == NUMBER:
            return NumberLiteral(_parse_number(tok[1], tok[2]), tok[2])
        if kind == STRING:
            return StringLiteral(tok[3], tok[2])
        if kind == "(":
            inner = self.expr()
            self.expect(")", "parenthesised expression")
            return ParenExpr(inner, tok[2])
        if kind == FUSED_BRACES or kind == "{":
            return self.selector(None, tok[2], tok)
        if kind in _AGGREGATORS and self.kinds[self.i] in ("(", "by", "without"):
            return self.aggregate(tok)
        if kind in _METRIC_KEYWORDS:
            return self.selector(tok[1], tok[2])
        raise PromQLError(f"unexpected {_describe(tok)}, expected an expression", tok[2])

    def postfix(self, node: Expr) -> Expr:
        # Range/subquery brackets, offset and @ bind tighter than any operator, so they attach to
        # the operand just parsed.
        while True:
            kind = self.kinds[self.i]
            if kind == "[":
                node = self.range_or_subquery(node)
            elif kind == "offset":
                node = self.offset(node)
            elif kind == "@":
                node = self.at(node)
            else:
                return node

    def range_or_subquery(self, node: Expr) -> Expr:
        bracket = self.advance()
        range_ms = _parse_duration(self.expect(DURATION, "range or subquery selector"))
        tok = self.advance()
        if tok[0] == "]":
            if not isinstance(node, VectorSelector):
                raise PromQLError("ranges only allowed for vector selectors", bracket[2])
            if node.offset_ms is not None:
                raise PromQLError("no offset modifiers allowed before range", bracket[2])
            if node.at is not None:
                raise PromQLError("no @ modifiers allowed before range", bracket[2])
            return MatrixSelector(node, range_ms, node.pos)
        if tok[0] != ":":
            raise PromQLError(f"unexpected {_describe(tok)} in subquery or range, expected ':' or ']'", tok[2])
        step_ms = None
        if self.kinds[self.i] == DURATION:
            step_ms = _parse_duration(self.advance())
        self.expect("]", "subquery selector")
        if value_type(node) != VECTOR:
            raise PromQLError(f"subquery is only allowed on instant vector, got {value_type(node)}", bracket[2])
        return SubqueryExpr(node, range_ms, step_ms, pos=_start(node))

    def offset(self, node: Expr) -> Expr:
        tok = self.advance()
        negative = self.kinds[self.i] == "-"
        if negative:
            self.advance()
        offset_ms = _parse_duration(self.expect(DURATION, "offset"))
        offset_ms = -offset_ms if negative else offset_ms
        target = node.selector if isinstance(node, MatrixSelector) else node
        if not isinstance(target, VectorSelector | SubqueryExpr):
            raise PromQLError(
                "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                tok[2],
            )
        if target.offset_ms is not None:
            raise PromQLError("offset may not be set multiple times", tok[2])
        return _rewrap(node, replace(target, offset_ms=offset_ms))

    def at(self, node: Expr) -> Expr:
        tok = self.advance()
        when: float | str
        nxt = self.advance()
        if nxt[0] in ("start", "end"):
            self.expect("(", "@ modifier")
            self.expect(")", "@ modifier")
            when = nxt[0]
        else:
            sign = 1.0
            if nxt[0] in ("+", "-"):
                sign = -1.0 if nxt[0] == "-" else 1.0
                nxt = self.advance()
            if nxt[0] != NUMBER:
                raise PromQLError(f"unexpected {_describe(nxt)} in @, expected timestamp", nxt[2])
            when = sign * _parse_number(nxt[1], nxt[2])
            if math.isinf(when) or math.isnan(when) or not -(2.0**63) < when < 2.0**63:
                raise PromQLError(f"timestamp out of bounds for @ modifier: {when}", nxt[2])
        target = node.selector if isinstance(node, MatrixSelector) else node
        if not isinstance(target, VectorSelector | SubqueryExpr):
            raise PromQLError(
                "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                tok[2],
            )
        if target.at is not None:
            raise PromQLError("@ <timestamp> may not be set multiple times", tok[2])
        return _rewrap(node, replace(target, at=when))

    # --- selectors

    def selector(self, name: str | None, pos: int, brace: RawToken | None = None) -> VectorSelector:
        """A selector named ``name`` (braces optional) or, with ``brace`` already consumed, a bare ``{...}``."""
        if brace is None and self.kinds[self.i] in (FUSED_BRACES, "{"):
            brace = self.advance()
        matchers: tuple[Matcher, ...] = ()
        if brace is not None:
            matchers = _fused_matchers(brace[3], brace[2]) if brace[0] == FUSED_BRACES else self.matchers()  # type: ignore[arg-type]
        if name is not None:
            for m in matchers:
                if m.name == "__name__":
                    raise PromQLError(f"metric name must not be set twice: {name!r}", pos)
            return VectorSelector(name, matchers, None, None, pos)
        if all(m.matches("") for m in matchers):
            raise PromQLError("vector selector must contain at least one non-empty matcher", pos)
        metric = next((m.value for m in matchers if m.name == "__name__" and m.op == "="), None)
        return VectorSelector(metric, matchers, pos=pos)

    def matchers(self) -> tuple[Matcher, ...]:
        found: list[Matcher] = []
        while self.kinds[self.i] != "}":
            label = self.expect(IDENTIFIER, "label matching")
            op = self.advance()
            if op[0] not in ("=", "!=", "=~", "!~"):
                raise PromQLError(f"unexpected {_describe(op)} in label matching, expected matching operator", op[2])
            value = self.expect(STRING, "label matching")
            if op[0] in ("=~", "!~"):
                _check_regex(value[3], value[2])
            found.append(Matcher(label[1], op[0], value[3]))  # type: ignore[arg-type]
            if self.kinds[self.i] != "}":
                self.expect(",", "label matching")
        self.advance()
        return tuple(found)

    # --- calls and aggregations

    def call_args(self, context: str) -> tuple[Expr, ...]:
        self.expect("(", context)
        kinds = self.kinds
        args: list[Expr] = []
        while kinds[self.i] != ")":
            args.append(self.expr())
            if kinds[self.i] != ")":
                comma = self.expect(",", context)
                if kinds[self.i] == ")":
                    raise PromQLError("trailing commas not allowed in function call args", comma[2])
        self.i += 1  # the ")"
        return tuple(args)

    def call(self, tok: RawToken) -> Call:
        name = tok[1]
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise PromQLError(f"unknown function with name {name!r}", tok[2])
        context = _CALL_CONTEXTS.get(name)
        if context is None:
            context = _CALL_CONTEXTS[name] = f"call to function {name!r}"
        args = self.call_args(context)
        arg_types, variadic, _ = spec
        required = len(arg_types) - (1 if variadic else 0)
        if variadic == 0 and len(args) != len(arg_types):
            message = f"expected {len(arg_types)} argument(s) in call to {tok[1]!r}, got {len(args)}"
            raise PromQLError(message, tok[2])
        if len(args) < required:
            raise PromQLError(f"expected at least {required} argument(s) in call to {tok[1]!r}", tok[2])
        if variadic > 0 and len(args) > required + variadic:
            raise PromQLError(f"expected at most {required + variadic} argument(s) in call to {tok[1]!r}", tok[2])
        last = len(arg_types) - 1
        for index, arg in enumerate(args):
            want = arg_types[index if index < last else last]
            if value_type(arg) != want:
                _expect_type(arg, want, context)
        return Call(name, args, tok[2])

    def aggregate(self, tok: RawToken) -> AggregateExpr:
        grouping: tuple[str, ...] = ()
        without = False
        modifier_first = self.kinds[self.i] in ("by", "without")
        if modifier_first:
            without = self.advance()[0] == "without"
            grouping = self.grouping_labels()
        args = self.call_args("aggregation")
        if not modifier_first and self.kinds[self.i] in ("by", "without"):
            without = self.advance()[0] == "without"
            grouping = self.grouping_labels()
        if not args:
            raise PromQLError("no arguments for aggregate expression provided", tok[2])
        param_type = _PARAM_TYPES.get(tok[0])
        wanted = 2 if param_type else 1
        if len(args) != wanted:
            raise PromQLError(f"wrong number of arguments for aggregate expression: expected {wanted}", tok[2])
        _expect_type(args[-1], VECTOR, "aggregation expression")
        if param_type:
            _expect_type(args[0], param_type, "aggregation parameter")
        return AggregateExpr(tok[0], args[-1], args[0] if param_type else None, grouping, without, tok[2])

    def grouping_labels(self) -> tuple[str, ...]:
        self.expect("(", "grouping opts")
        names: list[str] = []
        while self.kinds[self.i] != ")":
            tok = self.advance()
            label_like = tok[0] in (IDENTIFIER, METRIC_IDENTIFIER) or tok[0] in KEYWORDS
            if not label_like or not _LABEL_NAME.fullmatch(tok[1]):
                raise PromQLError(f"unexpected {_describe(tok)} in grouping opts, expected label", tok[2])
            names.append(tok[1])
            if self.kinds[self.i] != ")":
                self.expect(",", "grouping opts")
        self.advance()
        return tuple(names)

    def binary_modifiers(self) -> tuple[bool, VectorMatching | None]:
        return_bool = self.kinds[self.i] == "bool"
        if return_bool:
            self.advance()
        if self.kinds[self.i] not in ("on", "ignoring"):
            return return_bool, None
        on = self.advance()[0] == "on"
        labels = self.grouping_labels()
        group: Literal["left", "right"] | None = None
        include: tuple[str, ...] = ()
        if self.kinds[self.i] in ("group_left", "group_right"):
            group = "left" if self.advance()[0] == "group_left" else "right"
            if self.kinds[self.i] == "(":
                include = self.grouping_labels()
        return return_bool, VectorMatching(on, labels, group, include)


def _fused_matchers(source: str, pos: int) -> tuple[Matcher, ...]:
    """Matchers of a :data:`FUSED_BRACES` token (``source`` at ``pos``), checked as :meth:`_Parser.matchers` does."""
    if "~" not in source:  # no regex matcher, so nothing to check and nothing position-dependent
        return _plain_matchers(source)
    found: list[Matcher] = []
    for m in _MATCHER.finditer(source):
        name, op, quoted = m.groups()
        if op in ("=~", "!~"):
            _check_regex(quoted[1:-1], pos + m.start(3))
        found.append(Matcher(name, op, quoted[1:-1]))  # type: ignore[arg-type]
    return tuple(found)


@functools.lru_cache(maxsize=1 << 14)
def _plain_matchers(source: str) -> tuple[Matcher, ...]:
    # Generated rules repeat the same braces across many expressions; the (immutable) matchers are shared.
    return tuple([Matcher(name, op, quoted[1:-1]) for name, op, quoted in _MATCHER.findall(source)])  # type: ignore[arg-type]


def _go_only_rejects(regex: str) -> str | None:
    """Syntax C++ RE2 accepts but Go's regexp package (which Prometheus uses) rejects."""
    in_class = False
    i = 0
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            if regex[i + 1 : i + 2] == "C" and not in_class:
                return "invalid escape sequence \\C"
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal member, not the end of the class.
            i += 2 if regex[i + 1 : i + 2] == "]" else 3 if regex[i + 1 : i + 3] == "^]" else 1
            continue
        elif regex.startswith("(?<", i):
            return "invalid or unsupported Perl syntax: (?<"
        i += 1
    return None


def _check_regex(regex: str, pos: int) -> None:
    # obsgen's pure-Python Go-regexp checker: the C++ RE2 binding is only a test dependency
    problem = _go_only_rejects(regex) or re2_error(regex)
    if problem is not None:
        raise PromQLError(f"invalid regular expression {regex!r}: {problem}", pos)


def _start(node: Expr) -> int:
    return node.pos


def _rewrap(node: Expr, target: VectorSelector | SubqueryExpr) -> Expr:
    """Put a modified selector/subquery back where it came from (inside a matrix selector or bare)."""
    if isinstance(node, MatrixSelector):
        assert isinstance(target, VectorSelector)
        return replace(node, selector=target)
    return target


def _expect_type(node: Expr, want: ValueType, context: str) -> None:
    got = value_type(node)
    if got != want:
        raise PromQLError(f"expected type {_TYPE_NAMES[want]} in {context}, got {_TYPE_NAMES[got]}", _start(node))


def _binary(op: RawToken, lhs: Expr, rhs: Expr, return_bool: bool, matching: VectorMatching | None) -> BinaryExpr:
    """Build a binary expression, applying Prometheus's operand-type and modifier rules."""
    kind = op[0]
    lt, rt = value_type(lhs), value_type(rhs)
    if return_bool and kind not in _COMPARISONS:
        raise PromQLError("bool modifier can only be used on comparison operators", op[2])
    if kind in _COMPARISONS and not return_bool and lt == SCALAR and rt == SCALAR:
        raise PromQLError("comparisons between scalars must use BOOL modifier", op[2])
    if lt not in (SCALAR, VECTOR) or rt not in (SCALAR, VECTOR):
        raise PromQLError("binary expression must contain only scalar and instant vector types", op[2])
    if matching is not None:
        if matching.on and set(matching.labels) & set(matching.include):
            raise PromQLError("a label must not occur in ON and GROUP clause at once", op[2])
        if (lt != VECTOR or rt != VECTOR) and matching.labels:
            raise PromQLError("vector matching only allowed between instant vectors", op[2])
        if kind in _SET_OPS and lt == VECTOR and rt == VECTOR and matching.group is not None:
            raise PromQLError(f"no grouping allowed for {kind!r} operation", op[2])
    if kind in _SET_OPS and SCALAR in (lt, rt):
        raise PromQLError(f"set operator {kind!r} not allowed in binary scalar expression", op[2])
    result: ValueType = SCALAR if lt == SCALAR and rt == SCALAR else VECTOR
    return BinaryExpr(kind, lhs, rhs, return_bool, matching, _start(lhs), result)


# ----------------------------------------------------------------------------------------- public




# An artifact's expressions are parsed by its strict model, the cross-check facts and the rule lint
# one right after another, so reuse is within one artifact; a bigger cache only holds trees longer.
@functools.lru_cache(maxsize=1 << 12)
def parse(expr: str) -> Expr:
    """Parse and type-check a PromQL expression; raises :class:`PromQLError` (message, position) if invalid."""
    return _parse_tokens(_scan(expr, fuse=True))


def _parse_tokens(tokens: list[RawToken]) -> Expr:
    """Parse a token list, fused (from ``_scan(src, fuse=True)``) or not (from either lexer)."""
    if tokens[0][0] == EOF:
        raise PromQLError("no expression found in input", 0)
    parser = _Parser(tokens)
    try:
        node = parser.expr()
    except RecursionError:
        # Recursive descent: pathological nesting is refused rather than crashing the caller.
        raise PromQLError("expression nested too deeply", tokens[parser.i][2]) from None
    tail = parser.peek
    if tail[0] != EOF:
        raise PromQLError(f"unexpected {_describe(tail)}", tail[2])
    return node


def _children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions in source order (an aggregation's parameter precedes its operand)."""
    match node:
        case MatrixSelector():
            return (node.selector,)
        case SubqueryExpr() | UnaryExpr() | ParenExpr():
            return (node.expr,)
        case Call():
            return node.args
        case AggregateExpr():
            return (node.expr,) if node.param is None else (node.param, node.expr)
        case BinaryExpr():
            return (node.lhs, node.rhs)
    return ()


def _walk(node: Expr) -> Iterator[Expr]:
    """Pre-order walk in source order; iterative so long operator chains cannot exhaust the stack."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(_children(current)))


def selectors(expr: Expr) -> list[VectorSelector]:
    """Every vector selector in ``expr`` (including those inside range selectors), in source order."""
    return [node for node in _walk(expr) if isinstance(node, VectorSelector)]


def metric_names_used(expr: Expr) -> set[str]:
    """Metric names the expression reads (selectors whose name is only given by a regex are not included)."""
    return {vs.metric_name for vs in selectors(expr) if vs.metric_name is not None}


def _string_arg(node: Expr) -> str | None:
    while isinstance(node, ParenExpr):
        node = node.expr
    return node.value if isinstance(node, StringLiteral) else None


def label_names_used(expr: Expr) -> set[str]:
    """Label names the expression mentions.

    Covers matcher names (``__name__`` included when written), by/without, on/ignoring and
    group_left/group_right lists, and the destination and source labels of label_replace and
    label_join. Empty label names (the ``label_replace(v, "dst", "x", "", "")`` idiom) are skipped.
    """
    names: set[str] = set()
    for node in _walk(expr):
        match node:
            case VectorSelector():
                names.update(m.name for m in node.matchers)
            case AggregateExpr():
                names.update(node.grouping)
            case BinaryExpr() if node.matching is not None:
                names.update(node.matching.labels)
                names.update(node.matching.include)
            case Call(func="label_replace"):
                names.update(s for s in (_string_arg(node.args[1]), _string_arg(node.args[3])) if s)
            case Call(func="label_join"):
                names.update(s for a in (node.args[1], *node.args[3:]) if (s := _string_arg(a)))
    return names


quote = escape.promql_string
regex_quote = escape.promql_regex
