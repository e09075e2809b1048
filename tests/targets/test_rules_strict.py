"""Strict models of Prometheus rule files and promtool test files, against real upstream files."""

from __future__ import annotations

import copy

import pytest
import yaml

from obsgen.targets.prometheus.strict import check_rule_file, check_test_file, template_problem
from tests.conftest import SHARED

UPSTREAM = SHARED / "upstream" / "prometheus"
RULE_FILES = sorted(p for p in UPSTREAM.glob("*.y*ml") if not p.name.startswith("promtool-test-"))
TEST_FILES = sorted(UPSTREAM.glob("promtool-test-*.y*ml"))


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.name for p in RULE_FILES])
def test_upstream_rule_files_are_accepted(path) -> None:
    assert check_rule_file(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_upstream_promtool_test_files_are_accepted(path) -> None:
    assert check_test_file(yaml.safe_load(path.read_text())) == []


def test_upstream_files_exist() -> None:
    assert len(RULE_FILES) >= 4 and len(TEST_FILES) >= 2


GOOD = {"groups": [{"name": "g", "interval": "1m", "rules": [
    {"record": "job:up:sum", "expr": "sum by (job) (up)", "labels": {"team": "a"}},
    {"alert": "Down", "expr": "up == 0", "for": "5m", "keep_firing_for": "1m", "labels": {"severity": "page"},
     "annotations": {"summary": "{{ $labels.job }} down"}},
]}]}


def _mutated(path: tuple, value: object) -> dict:
    doc = copy.deepcopy(GOOD)
    node = doc
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


def test_good_rule_file() -> None:
    assert check_rule_file(GOOD) == []


@pytest.mark.parametrize(("path", "value", "message"), [
    (("groups", 0, "unknown"), 1, "not found"),
    (("groups", 0, "rules", 1, "for"), "5 minutes", "duration"),
    (("groups", 0, "rules", 1, "for"), "1h5d", "duration"),
    (("groups", 0, "rules", 0, "record"), "job-up", "recording rule name"),
    (("groups", 0, "rules", 0, "alert"), "X", "only one"),
    (("groups", 0, "rules", 1, "alert"), KeyError, "one of"),
    (("groups", 0, "rules", 0, "annotations"), {"a": "b"}, "recording rule"),
    (("groups", 0, "rules", 1, "labels"), {"bad-name": "x"}, "invalid label"),
    (("groups", 0, "rules", 1, "labels"), {"n": 1}, "must be a string"),
    (("groups", 0, "rules", 1, "expr"), "sum(rate(x[5m])", "parse"),
    (("groups", 0, "rules", 1, "expr"), "rate(x[5m])[1h:]", "instant vector"),
    (("groups", 0, "rules", 1, "annotations"), {"summary": "{{ $value"}, "template"),
    (("groups", 0, "name"), "", "empty"),
    (("groups", 0, "limit"), -1, "limit"),
])
def test_bad_rule_files_are_rejected(path: tuple, value: object, message: str) -> None:
    errors = check_rule_file(_mutated(path, value))
    assert errors and any(message in str(e) for e in errors), errors


def test_duplicate_group_names_are_rejected() -> None:
    doc = {"groups": [GOOD["groups"][0], GOOD["groups"][0]]}
    assert any("repeated" in str(e) for e in check_rule_file(doc))


def test_bad_test_files_are_rejected() -> None:
    good = {"rule_files": ["r.yaml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m", "input_series": [{"series": 'up{job="a"}', "values": "1+0x10 _ stale 2x3 _x2"}],
        "alert_rule_test": [{"eval_time": "5m", "alertname": "Down", "exp_alerts": [{"exp_labels": {"job": "a"}}]}],
        "promql_expr_test": [{"expr": "up", "eval_time": "1m", "exp_samples": [{"labels": 'up{job="a"}', "value": 1}]}],
    }]}
    assert check_test_file(good) == []
    bad = copy.deepcopy(good)
    bad["tests"][0]["input_series"][0]["values"] = "1 two"
    bad["tests"][0]["input_series"][0]["series"] = 'up{job=~"a"}'
    bad["tests"][0]["alert_rule_test"][0]["eval_tme"] = "5m"
    bad["tests"][0]["alert_rule_test"][0]["eval_time"] = "5 min"
    messages = " ".join(str(e) for e in check_test_file(bad))
    assert "invalid series value" in messages and "equality" in messages and "eval_tme" in messages
    assert "not a valid duration" in messages


@pytest.mark.parametrize(("text", "ok"), [
    ("a }} b", True), ('{{ "x}}" }}', True), ("{{ $value", False), ("{{/* it's */}}", True), ('{{ "a }}', False),
])
def test_template_lexing(text: str, ok: bool) -> None:
    assert (template_problem(text) is None) == ok
