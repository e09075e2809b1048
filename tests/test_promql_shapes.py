"""Selectors parsed once per shape (``obsgen.promql_shapes``) are exactly the full parse's, errors included.

The reference is ``promql_tree.selectors(promql_tree.parse(expr))``; the corpus is every expression every
example spec renders, the PromQL differential corpus (valid, invalid, known differences with promtool,
upstream rules and their mutants), and cases aimed at the shape path itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from obsgen.check import promql_shapes
from obsgen.targets.prometheus import promql as promql_tree
from tests.test_promql_differential import INVALID, KNOWN_DIFFERENCE_EXAMPLES, VALID, _mutants, rendered_expressions

SHAPE_CASES = [
    # values that look like syntax, or hold a matcher operator
    'x{a="=\\"b"}', "x{a='=~'}", 'x{a=`"`, b="`"}', 'label_replace(x{a="1"}, "d", "a=", "s", "(.*)")',
    'label_replace(x{a="1"}, "d", "=", "s", "=")', 'x{a="1"} == x{a="2"}', 'x{a="1"} == "s"', 'x{a="#"}',
    'x{a="1"} # a "comment"', 'x{a="obsgen_value_0"}', 'x{a="\\ufffd"}', 'x{a="\ufffd"}',
    # values the full parse refuses or that change what it refuses
    'x{a="\\q"}', 'x{a=~"("}', 'x{a=~"a{1001}"}', 'x{a=~"\\\\C"}', 'x{a=~"(?<n>x)"}', 'x{a!~"[z-a]"}',
    '{a=""}', '{a=~".*"}', '{a!~""}', '{a="x"}', '{__name__=""}', '{__name__="x"}', '{__name__=~"x|y"}',
    'x{__name__="y"}', '{"x.y"}', '{"x.y", a="1"}', 'x{"a.b"="1"}', 'sum by ("a.b") (x{a="1"})',
    # the same shape with different values, one after another (the memo must not mix them)
    'rate(x_total{service_name="a", span_kind="SPAN_KIND_SERVER"}[5m])',
    'rate(x_total{service_name="b", span_kind="SPAN_KIND_SERVER"}[5m])',
    'rate(x_total{service_name="a", span_kind=~"b|c"}[5m])', 'rate(x_total{service_name="a", span_kind=~"("}[5m])',
    "x{a='single \\' quote'} or y{b=`raw \\n`}", 'x{a="1"}[5m:1m] offset 1h @ 100',
]


def _reference(expr: str) -> object:
    try:
        tree = promql_tree.parse(expr)
    except promql_tree.PromQLError as exc:
        return ("error", str(exc))
    return tuple((s.metric_name, tuple((m.name, m.op, m.value) for m in s.matchers))
                 for s in promql_tree.selectors(tree))


def _shaped(expr: str) -> object:
    try:
        return promql_shapes.selectors(expr)
    except promql_tree.PromQLError as exc:
        return ("error", str(exc))


def _check(exprs: list[str]) -> None:
    for expr in exprs:
        assert _shaped(expr) == _reference(expr), expr


def test_every_rendered_expression() -> None:
    exprs = rendered_expressions()
    assert len(exprs) > 500
    promql_shapes._shapes.clear()
    _check(exprs)
    # the point of it: far fewer shapes than expressions
    assert len(promql_shapes._shapes) < len(set(exprs)) / 3


@pytest.mark.parametrize("corpus", ["shape", "valid", "invalid", "known", "mutants"])
def test_the_corpus(corpus: str) -> None:
    exprs = {"shape": SHAPE_CASES, "valid": VALID, "invalid": INVALID, "known": KNOWN_DIFFERENCE_EXAMPLES,
             "mutants": _mutants(seed=7, count=1500)}[corpus]
    _check(exprs)
    _check(list(reversed(exprs)))  # with the memos filled in the other order


def test_a_shape_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    promql_shapes._shapes.clear()
    calls: list[str] = []
    real = promql_tree.parse.__wrapped__

    monkeypatch.setattr(promql_tree, "parse", lambda expr: calls.append(expr) or real(expr))
    for service in ("a", "b", "c"):
        promql_shapes.selectors(f'rate(x_total{{service_name="{service}", span_kind="S"}}[5m])')
    shapes = [c for c in calls if "obsgen_value_" in c]
    assert len(shapes) == 1


_VALUE = st.lists(st.sampled_from([*'ab\\"\'`=~!{}#,()[].*|\n\t é', "\\n", "\\x41", "\\u00e9", "obsgen_value_1"]),
                  max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["=", "!=", "=~", "!~"]), st.sampled_from("\"'`"), _VALUE),
                min_size=1, max_size=3),
       st.sampled_from(["x{%s}", "{%s}", "sum by (a) (rate(x{%s}[5m]))", 'x{%s} or y{b="1"}']))
def test_generated_matchers(matchers: list[tuple[str, str, str]], template: str) -> None:
    body = ", ".join(f"l{i}{op}{q}{v}{q}" for i, (op, q, v) in enumerate(matchers))
    expr = template % body
    assert _shaped(expr) == _reference(expr)
