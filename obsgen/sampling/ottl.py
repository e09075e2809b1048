"""The part of OTTL (the Collector's transformation language) that span conditions in tail sampling use.

``ottl_condition`` policies evaluate boolean OTTL over each span (contrib tailsamplingprocessor
``internal/sampling/ottl.go`` v0.159.0: the first span whose condition holds samples the trace). Supported here:
``and``/``or``/``not``, parentheses, the comparisons ``== != < <= > >=``, the paths ``attributes["k"]``,
``resource.attributes["k"]`` (also with a ``span.`` prefix), ``name``, ``kind``, ``status.code``, the literals
(strings, ints, floats, ``true``/``false``, ``nil``), the enums ``STATUS_CODE_*`` and ``SPAN_KIND_*``, and
``IsMatch(path, "regex")`` (RE2, as Go's regexp). Anything else is refused when the config is read
(``OttlUnsupported``), never guessed. Comparison semantics follow pkg/ottl ``compare.go``: values of different
types are unequal (so ``!=`` holds), ints and floats compare numerically, ``nil`` equals only ``nil``, and an
ordering between incomparable types is false.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import NamedTuple

import re2

Value = str | int | float | bool | None


class OttlUnsupported(ValueError):
    """A condition outside the subset this module evaluates."""


class SpanView(NamedTuple):
    """What a condition reads of one span (a NamedTuple: cheaper to define and to make than a frozen
    dataclass, one per span of each trace shape the simulator evaluates)."""

    name: str
    kind: int
    status_code: int
    attributes: Mapping[str, object]
    resource: Mapping[str, object]
    start_ns: int = 0
    end_ns: int = 0
    trace_state: str = ""


Condition = Callable[[SpanView], bool]
Operand = Callable[[SpanView], Value]

ENUMS: dict[str, int] = {
    "STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
    "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
}
_TOKEN = re.compile(r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[()\[\],.])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""", re.VERBOSE)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise OttlUnsupported(f"cannot read {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, value: str | None = None) -> bool:
        return self.i < len(self.toks) and (value is None or self.toks[self.i][1] == value)

    def take(self, value: str | None = None) -> tuple[str, str]:
        if not self.peek(value):
            raise OttlUnsupported(f"expected {value or 'more'} in {self.text!r}")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def parse(self) -> Condition:
        cond = self.or_()
        if self.i != len(self.toks):
            raise OttlUnsupported(f"unexpected {self.toks[self.i][1]!r} in {self.text!r}")
        return cond

    def or_(self) -> Condition:
        parts = [self.and_()]
        while self.peek("or"):
            self.take()
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]

        def either(s: SpanView) -> bool:  # any() over a generator: a generator object per span, ~2x slower
            for part in parts:  # noqa: SIM110 - a loop on purpose
                if part(s):
                    return True
            return False
        return either

    def and_(self) -> Condition:
        parts = [self.not_()]
        while self.peek("and"):
            self.take()
            parts.append(self.not_())
        if len(parts) == 1:
            return parts[0]

        def every(s: SpanView) -> bool:
            for part in parts:  # noqa: SIM110 - a loop on purpose
                if not part(s):
                    return False
            return True
        return every

    def not_(self) -> Condition:
        if self.peek("not"):
            self.take()
            inner = self.not_()
            return lambda s: not inner(s)
        return self.primary()

    def primary(self) -> Condition:
        if self.peek("("):
            self.take("(")
            inner = self.or_()
            self.take(")")
            return inner
        if self.peek("true") or self.peek("false"):
            value = self.take()[1] == "true"
            if not (self.i < len(self.toks) and self.toks[self.i][0] == "op"):
                return lambda s: value
            self.i -= 1
        if self.peek("IsMatch"):
            self.take()
            self.take("(")
            target = self.operand()
            self.take(",")
            kind, pattern = self.take()
            if kind != "string":
                raise OttlUnsupported("IsMatch takes a string literal pattern here")
            regex = re2.compile(_unquote(pattern))
            self.take(")")
            return lambda s: isinstance(v := target(s), str) and regex.search(v) is not None
        left = self.operand()
        kind, op = self.take()
        if kind != "op":
            raise OttlUnsupported(f"expected a comparison, found {op!r} in {self.text!r}")
        right = self.operand()
        return _compare(left, op, right)

    def operand(self) -> Operand:
        kind, word = self.take()
        if kind == "string":
            text = _unquote(word)
            return lambda s: text
        if kind == "number":
            number: int | float = float(word) if "." in word else int(word)
            return lambda s: number
        if kind != "word":
            raise OttlUnsupported(f"unexpected {word!r} in {self.text!r}")
        if word in ENUMS:
            enum = ENUMS[word]
            return lambda s: enum
        if word in ("true", "false"):
            flag = word == "true"
            return lambda s: flag
        if word == "nil":
            return lambda s: None
        path = [word]
        while self.peek("."):
            self.take(".")
            path.append(self.take()[1])
        if path[0] == "span" and len(path) > 1:
            path = path[1:]
        key = None
        if self.peek("["):
            self.take("[")
            k_kind, k_text = self.take()
            if k_kind != "string":
                raise OttlUnsupported("map keys must be string literals here")
            key = _unquote(k_text)
            self.take("]")
        dotted = ".".join(path)
        if dotted == "attributes" and key is not None:
            return lambda s: _plain(s.attributes.get(key))
        if dotted == "resource.attributes" and key is not None:
            return lambda s: _plain(s.resource.get(key))
        if key is None and dotted == "name":
            return lambda s: s.name
        if key is None and dotted == "kind":
            return lambda s: s.kind
        if key is None and dotted == "status.code":
            return lambda s: s.status_code
        raise OttlUnsupported(f"path {dotted}{'[...]' if key else ''} is not supported by the simulator")


# isinstance with a tuple of types, not a union (int | float): the same test, ~4x faster on Python 3.11, where
# a condition runs once per span of every trace shape the simulator evaluates (the shop's OTTL policy spent
# ~3 ms of a render's report here).
_PLAIN = (str, int, float, bool)
_NUMBER = (int, float)


def _plain(value: object) -> Value:
    return value if isinstance(value, _PLAIN) else None


def _compare(left: Operand, op: str, right: Operand) -> Condition:
    def check(span: SpanView) -> bool:
        return compare(left(span), op, right(span))
    return check


def _numeric(v: Value) -> bool:
    return isinstance(v, _NUMBER) and not isinstance(v, bool)


def compare(a: Value, op: str, b: Value) -> bool:
    """OTTL's comparison of two values."""
    numeric = _numeric
    if op in ("==", "!="):
        equal = a == b and ((numeric(a) and numeric(b)) or type(a) is type(b))
        return equal if op == "==" else not equal
    if (numeric(a) and numeric(b)) or (isinstance(a, str) and isinstance(b, str)):
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]  # type: ignore[operator]
    return False


def parse_condition(text: str) -> Condition:
    """A condition's evaluator (``OttlUnsupported`` outside the subset)."""
    return _Parser(text).parse()
