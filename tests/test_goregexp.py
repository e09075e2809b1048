"""obsgen.spec.goregexp: Go's messages, the PCRE explanations, and every place that checks a regex.

Whether Go accepts a pattern is proven against Go itself in test_go_regexp_differential.py; these tests
pin what a user reads, and that the spec, the strict Collector model and PromQL share the checker.
"""

from __future__ import annotations

import pytest

from obsgen.spec.goregexp import go_regexp_error, is_anchored
from obsgen.targets.collector.strict.config import validate_tail_sampling
from obsgen.targets.prometheus.promql import PromQLError, parse

ISSUE_13 = [r"(a{500}){3}", r"[a-\d]", r"\x{110000}"]


@pytest.mark.parametrize(("pattern", "message"), [
    (r"(a{500}){3}", "invalid repeat count: `{3}` (nested repeats multiply to more than 1000)"),
    (r"[a-\d]", r"invalid escape sequence: `\d`"),
    (r"\x{110000}", r"invalid escape sequence: `\x{110000`"),
    (r"a{1001}", "invalid repeat count: `{1001}`"),
    (r"a{10000000000}", "invalid repeat count: `{10000000000}`"),
    (r"x\C", r"invalid escape sequence: `\C`"),
    (r"[\C]", r"invalid escape sequence: `\C`"),
    (r"(?P<é>x)", "invalid named capture: `(?P<é>`"),
    (r"\p{Old_Italic}", r"invalid character class range: `\p{Old_Italic}`"),
    (r"\p{Garay}", r"invalid character class range: `\p{Garay}`"),
    (r"\pé", r"invalid character class range: `\pé`"),
    ("(" * 1001 + ")" * 1001, "expression nests too deeply (more than 1000 levels)"),
    ("(?:" + "a" * 3356 + "){1000}", "expression too large"),
    ("a\udcff", "invalid UTF-8: `a\ufffd`"),
    ("\ud800b", "invalid UTF-8: `\ufffdb`"),
    (r"(a", "missing closing ): `(a`"),
    (r"a)", "unexpected ): `a)`"),
    (r"[a", "missing closing ]: `[a`"),
    ("a\\", "trailing backslash at end of expression"),
    (r"*", "missing argument to repetition operator: `*`"),
    (r"[z-a]", "invalid character class range: `z-a`"),
])  # fmt: skip
def test_messages_are_gos(pattern: str, message: str) -> None:
    error = go_regexp_error(pattern)
    assert error is not None
    assert error.startswith(message)


@pytest.mark.parametrize(("pattern", "explained"), [
    (r"^/(?!health)", "look-ahead and look-behind are not supported"),
    (r"(?<=/api)/v1", "look-ahead and look-behind are not supported"),
    (r"(\w+)\1", "back-references are not supported"),
    (r"(?P<n>a)\k<n>", "back-references are not supported"),
    (r"(?>a)", "atomic groups are not supported"),
    (r"a++", "possessive quantifiers are not supported"),
    (r"a{2}+", "possessive quantifiers are not supported"),
    (r"(?#note)", "comment groups are not supported"),
    (r"a\Z", r"use \z"),
])  # fmt: skip
def test_pcre_habits_are_explained(pattern: str, explained: str) -> None:
    assert explained in (go_regexp_error(pattern) or "")


@pytest.mark.parametrize("pattern", [
    r"^(GET|POST) /orders/[0-9]+$", r"(?i)^checkout", r"\p{Greek}+", r"\p{greek}", r"\p{Letter}", r"\p{ASCII}",
    r"(?<name>x)", r"(?P<name>x)", r"\pL{1000}", r"((a{1000}){0}){2}", r"a{1000}", r"\x{10FFFF}", r"\Qa.b", "é+",
])  # fmt: skip
def test_patterns_go_accepts(pattern: str) -> None:
    assert go_regexp_error(pattern) is None


def test_rejections_print_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # RE2 logs every pattern it rejects to stderr by default; validate's output is its diagnostics only.
    for pattern in [*ISSUE_13, r"(?!x)", r"\pL{1000}", r"\8"]:
        go_regexp_error(pattern + "#fresh")  # not cached
    captured = capfd.readouterr()
    assert captured.err == ""
    assert captured.out == ""


@pytest.mark.parametrize("pattern", ISSUE_13)
def test_strict_collector_model_rejects_what_go_rejects(pattern: str) -> None:
    policy = {
        "name": "re",
        "type": "string_attribute",
        "string_attribute": {"key": "http.route", "values": ["^/ok$", pattern], "enabled_regex_matching": True},
    }
    block = {"decision_wait": "10s", "policies": [policy]}
    errors = validate_tail_sampling(block, (0, 159, 0))
    assert [e.path for e in errors] == ["policies[0].string_attribute.values[1]"]
    assert go_regexp_error(pattern) in errors[0].message


@pytest.mark.parametrize("pattern", ISSUE_13)
def test_promql_matchers_reject_what_go_rejects(pattern: str) -> None:
    expr = 'up{path=~"' + pattern.replace("\\", "\\\\") + '"}'
    # promql-parser checks matchers with Rust's regex crate first ("illegal regex"); what that crate
    # accepts and Go rejects, such as the nested repeat, obsgen's checker rejects after it.
    with pytest.raises(PromQLError, match=r"invalid regular expression|illegal regex"):
        parse(expr)


def test_promql_nested_repeat_is_rejected_by_obsgens_checker() -> None:
    with pytest.raises(PromQLError, match=r"invalid regular expression .*invalid repeat count"):
        parse('up{path=~"(a{500}){3}"}')


def test_promql_matchers_accept_go_only_syntax() -> None:
    parse('up{path=~"\\\\p{Letter}+"}')
    parse('up{path=~"(?<n>x)"}')


@pytest.mark.parametrize(("pattern", "anchored"), [
    ("^a$", True), (r"\Aa\z", True), ("^a|b$", False), ("^(a|b)$", True), ("a$", False), (r"^a\$", False),
    ("^[|]$", True),
])  # fmt: skip
def test_is_anchored(pattern: str, anchored: bool) -> None:
    assert is_anchored(pattern) is anchored
