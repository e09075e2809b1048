"""Strict models of Prometheus rule files (rulefmt) and promtool unit-test files.

Modelled on Prometheus' own decoders: ``rulefmt`` decodes with yaml.v3 ``KnownFields(true)`` and
promtool's test loader with ``UnmarshalStrict``, so unknown keys are errors in both. Names use the
legacy (pre-UTF-8) character sets: valid there means valid for Prometheus 2.x and 3.x alike.
Expressions are parsed with obsgen's PromQL parser (the 2.42 grammar, a subset of 3.x).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from obsgen.check.strict import StrictError, format_loc
from obsgen.targets.prometheus import promql

Loc = tuple[object, ...]

METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Prometheus model.ParseDuration: units in decreasing order, each at most once, or a bare 0. re.ASCII here and
# below: Go's parsers read only 0-9, where Python's \d also matches other scripts' digits.
DURATION_RE = re.compile(r"^(?:0|(?=\d)(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?)$", re.ASCII)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:Inf|inf|NaN|nan)"
# promtool series values: `_`, `stale`, a number, `axn`, `a+bxn`, `a-bxn`, `_xn`.
_VALUE_TOKEN_RE = re.compile(rf"^(?:_|stale|(?:{_NUMBER})(?:[-+](?:{_NUMBER}))?(?:x\d+)?|_x\d+)$", re.ASCII)

GROUP_KEYS = frozenset({"name", "interval", "query_offset", "limit", "rules"})
RULE_KEYS = frozenset({"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"})
TEST_FILE_KEYS = frozenset({"rule_files", "evaluation_interval", "group_eval_order", "tests"})
TEST_GROUP_KEYS = frozenset({
    "interval", "input_series", "alert_rule_test", "promql_expr_test", "external_labels", "external_url", "name",
})
SERIES_KEYS = frozenset({"series", "values"})
ALERT_TEST_KEYS = frozenset({"eval_time", "alertname", "exp_alerts"})
EXP_ALERT_KEYS = frozenset({"exp_labels", "exp_annotations"})
PROMQL_TEST_KEYS = frozenset({"expr", "eval_time", "exp_samples"})
SAMPLE_KEYS = frozenset({"labels", "value", "histogram"})


class _Checker:
    def __init__(self) -> None:
        self.errors: list[StrictError] = []

    def err(self, loc: Loc, message: str) -> None:
        self.errors.append(StrictError(format_loc(loc), message))

    def mapping(self, value: object, loc: Loc, allowed: Iterable[str], what: str) -> dict | None:
        if not isinstance(value, dict):
            self.err(loc, f"{what} must be a mapping")
            return None
        allowed = frozenset(allowed)
        for key in value:
            if key not in allowed:
                self.err((*loc, str(key)), f"field {key} not found in type {what}")
        return value

    def string(self, obj: dict, key: str, loc: Loc, *, required: bool = False) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.err((*loc, key), f"{key} is required")
            return None
        if not isinstance(value, str):
            self.err((*loc, key), f"{key} must be a string")
            return None
        return value

    def duration(self, obj: dict, key: str, loc: Loc, *, required: bool = False) -> None:
        value = self.string(obj, key, loc, required=required)
        if value is not None and not DURATION_RE.match(value):
            self.err((*loc, key), f"not a valid duration string: {value!r}")

    def string_map(self, value: object, loc: Loc, what: str) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.err(loc, f"{what} must be a mapping of strings")
            return
        for name, text in value.items():
            if not isinstance(name, str) or not LABEL_NAME_RE.match(name):
                self.err((*loc, str(name)), f"invalid {what} name: {name!r}")
            if not isinstance(text, str):
                self.err((*loc, str(name)), f"{what} value must be a string")

    def seq(self, value: object, loc: Loc, what: str) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(loc, f"{what} must be a list")
            return []
        return value


def check_rule_file(doc: object) -> list[StrictError]:
    """Validate a parsed rule file the way ``promtool check rules`` (rulefmt) does, a bit stricter."""
    c = _Checker()
    top = c.mapping(doc, (), ("groups",), "rulefmt.RuleGroups")
    if top is None:
        return c.errors
    names: set[str] = set()
    for gi, group in enumerate(c.seq(top.get("groups"), ("groups",), "groups")):
        loc: Loc = ("groups", gi)
        g = c.mapping(group, loc, GROUP_KEYS, "rulefmt.RuleGroup")
        if g is None:
            continue
        name = c.string(g, "name", loc, required=True)
        if name is not None:
            if not name:
                c.err((*loc, "name"), "Groupname must not be empty")
            elif name in names:
                c.err((*loc, "name"), f"{name!r}: repeated in the same file")
            names.add(name)
        c.duration(g, "interval", loc)
        c.duration(g, "query_offset", loc)
        if "limit" in g and (not isinstance(g["limit"], int) or isinstance(g["limit"], bool) or g["limit"] < 0):
            c.err((*loc, "limit"), "limit must be a non-negative integer")
        for ri, rule in enumerate(c.seq(g.get("rules"), (*loc, "rules"), "rules")):
            _check_rule(c, rule, (*loc, "rules", ri))
    return c.errors


def _check_rule(c: _Checker, rule: object, loc: Loc) -> None:
    r = c.mapping(rule, loc, RULE_KEYS, "rulefmt.Rule")
    if r is None:
        return
    record = c.string(r, "record", loc)
    alert = c.string(r, "alert", loc)
    if (record is None) == (alert is None):
        c.err(loc, "one of 'record' or 'alert' must be set" if record is None else
              "only one of 'record' and 'alert' must be set")
    if record is not None and not METRIC_NAME_RE.match(record):
        c.err((*loc, "record"), f"invalid recording rule name: {record}")
    if alert is not None and not alert:
        c.err((*loc, "alert"), "alert name must not be empty")
    if record is not None:
        for key in ("for", "keep_firing_for", "annotations"):
            if key in r:
                c.err((*loc, key), f"invalid field '{key}' in recording rule")
    c.duration(r, "for", loc)
    c.duration(r, "keep_firing_for", loc)
    expr = c.string(r, "expr", loc, required=True)
    if expr is not None:
        try:
            node = promql.parse(expr)
        except promql.PromQLError as exc:
            c.err((*loc, "expr"), f"could not parse expression: {exc}")
        else:
            kind = promql.value_type(node)
            if kind not in ("vector", "scalar"):
                c.err((*loc, "expr"), f"expression must evaluate to an instant vector or scalar, not {kind}")
    c.string_map(r.get("labels"), (*loc, "labels"), "label")
    if isinstance(r.get("labels"), dict) and "__name__" in r["labels"]:
        c.err((*loc, "labels", "__name__"), "invalid label name: __name__ cannot be set by a rule")
    c.string_map(r.get("annotations"), (*loc, "annotations"), "annotation")
    for key in ("labels", "annotations"):
        for name, text in (r.get(key) or {}).items() if isinstance(r.get(key), dict) else ():
            problem = template_problem(text) if isinstance(text, str) else None
            if problem:
                c.err((*loc, key, str(name)), f"template: {problem}")


def template_problem(text: str) -> str | None:
    """Why Go's text/template lexer would reject ``text`` (an unclosed action or quote), or None.

    Only the lexical level: ``{{`` opens an action that ``}}`` closes, and quoted strings, raw
    strings and character constants inside an action may contain ``}}``.
    """
    i = 0
    while (start := text.find("{{", i)) != -1:
        j = start + 2
        body = j + 2 if text.startswith("- ", j) else j
        if text.startswith("/*", body):
            # a comment action: anything up to */ (quotes included), then the closing delimiter
            end = text.find("*/", body + 2)
            if end == -1:
                return "unclosed comment"
            j = end + 2
            j = j + 2 if text.startswith(" -", j) else j
            if not text.startswith("}}", j):
                return "comment ends before closing delimiter"
            i = j + 2
            continue
        while True:
            if j >= len(text):
                return "unclosed action"
            ch = text[j]
            if text.startswith("}}", j):
                i = j + 2
                break
            if ch in "\"'`":
                end = _skip_quoted(text, j)
                if end is None:
                    return "unterminated quoted string"
                j = end
                continue
            j += 1
    return None


def _skip_quoted(text: str, j: int) -> int | None:
    quote_char = text[j]
    k = j + 1
    while k < len(text):
        if text[k] == "\\" and quote_char != "`":
            k += 2
            continue
        if text[k] == quote_char:
            return k + 1
        if text[k] == "\n" and quote_char != "`":
            return None
        k += 1
    return None


def check_test_file(doc: object) -> list[StrictError]:
    """Validate a parsed promtool unit-test file (``promtool test rules`` input)."""
    c = _Checker()
    top = c.mapping(doc, (), TEST_FILE_KEYS, "main.unitTestFile")
    if top is None:
        return c.errors
    for i, path in enumerate(c.seq(top.get("rule_files"), ("rule_files",), "rule_files")):
        if not isinstance(path, str) or not path:
            c.err(("rule_files", i), "rule file must be a non-empty string")
    c.duration(top, "evaluation_interval", ())
    for i, name in enumerate(c.seq(top.get("group_eval_order"), ("group_eval_order",), "group_eval_order")):
        if not isinstance(name, str):
            c.err(("group_eval_order", i), "group name must be a string")
    for ti, test in enumerate(c.seq(top.get("tests"), ("tests",), "tests")):
        _check_test_group(c, test, ("tests", ti))
    return c.errors


def _check_test_group(c: _Checker, test: object, loc: Loc) -> None:
    t = c.mapping(test, loc, TEST_GROUP_KEYS, "main.testGroup")
    if t is None:
        return
    c.duration(t, "interval", loc)
    c.string(t, "name", loc)
    c.string(t, "external_url", loc)
    c.string_map(t.get("external_labels"), (*loc, "external_labels"), "label")
    for si, series in enumerate(c.seq(t.get("input_series"), (*loc, "input_series"), "input_series")):
        sloc = (*loc, "input_series", si)
        s = c.mapping(series, sloc, SERIES_KEYS, "main.series")
        if s is None:
            continue
        _check_series_desc(c, c.string(s, "series", sloc, required=True), (*sloc, "series"))
        values = c.string(s, "values", sloc)
        for token in (values or "").split():
            if not _VALUE_TOKEN_RE.match(token):
                c.err((*sloc, "values"), f"invalid series value {token!r}")
    for ai, case in enumerate(c.seq(t.get("alert_rule_test"), (*loc, "alert_rule_test"), "alert_rule_test")):
        aloc = (*loc, "alert_rule_test", ai)
        a = c.mapping(case, aloc, ALERT_TEST_KEYS, "main.alertTestCase")
        if a is None:
            continue
        c.duration(a, "eval_time", aloc)  # promtool defaults it to 0
        c.string(a, "alertname", aloc, required=True)
        for ei, exp in enumerate(c.seq(a.get("exp_alerts"), (*aloc, "exp_alerts"), "exp_alerts")):
            eloc = (*aloc, "exp_alerts", ei)
            e = c.mapping(exp, eloc, EXP_ALERT_KEYS, "main.alert")
            if e is not None:
                c.string_map(e.get("exp_labels"), (*eloc, "exp_labels"), "label")
                c.string_map(e.get("exp_annotations"), (*eloc, "exp_annotations"), "annotation")
    for pi, case in enumerate(c.seq(t.get("promql_expr_test"), (*loc, "promql_expr_test"), "promql_expr_test")):
        ploc = (*loc, "promql_expr_test", pi)
        p = c.mapping(case, ploc, PROMQL_TEST_KEYS, "main.promqlTestCase")
        if p is None:
            continue
        c.duration(p, "eval_time", ploc)
        expr = c.string(p, "expr", ploc, required=True)
        if expr is not None:
            try:
                promql.parse(expr)
            except promql.PromQLError as exc:
                c.err((*ploc, "expr"), f"could not parse expression: {exc}")
        for xi, sample in enumerate(c.seq(p.get("exp_samples"), (*ploc, "exp_samples"), "exp_samples")):
            xloc = (*ploc, "exp_samples", xi)
            x = c.mapping(sample, xloc, SAMPLE_KEYS, "main.sample")
            if x is None:
                continue
            _check_series_desc(c, c.string(x, "labels", xloc), (*xloc, "labels"), allow_empty=True)
            value = x.get("value")
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                c.err((*xloc, "value"), "value must be a number")
            c.string(x, "histogram", xloc)


def _check_series_desc(c: _Checker, text: str | None, loc: Loc, *, allow_empty: bool = False) -> None:
    """A series description: ``name{label="value", ...}`` with equality matchers only."""
    if text is None or (allow_empty and text == ""):
        return
    try:
        node = promql.parse(text)
    except promql.PromQLError as exc:
        c.err(loc, f"invalid series description: {exc}")
        return
    if not promql.is_series_description(node):
        c.err(loc, "a series description is a metric name and equality labels only")
