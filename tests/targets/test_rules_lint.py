"""rule_lint: mixtool-style quality checks over rendered rule groups."""

from __future__ import annotations

import yaml

from obsgen.generate import generate
from obsgen.spec.rule_lint import lint_artifacts, lint_rule_file, lint_rule_files
from tests.conftest import ROOT


def _alert(**overrides: object) -> dict:
    rule = {"alert": "ServiceDown", "expr": "up == 0", "for": "5m", "labels": {"severity": "page"},
            "annotations": {"summary": "down"}}
    rule.update(overrides)
    return rule


def _codes(doc: dict) -> list[str]:
    return [d.code for d in lint_rule_file(doc, "r.yaml")]


def test_clean_file_has_no_findings() -> None:
    assert _codes({"groups": [{"name": "g", "rules": [_alert(), {"record": "a:b:c", "expr": "1"}]}]}) == []


def test_each_finding_has_its_code() -> None:
    doc = {"groups": [{"name": "g", "rules": [
        _alert(alert="service down"),
        _alert(annotations={"description": "x"}),
        _alert(labels={"severity": "critical"}),
        _alert(labels={}),
    ]}]}
    assert _codes(doc) == ["OBS600", "OBS601", "OBS602", "OBS602"]
    diags = lint_rule_file(doc, "r.yaml")
    assert diags[0].file == "r.yaml" and diags[0].path == "groups[0].rules[0].alert"


def test_group_size_limit() -> None:
    doc = {"groups": [{"name": "big", "rules": [_alert() for _ in range(5)]}]}
    assert _codes(doc) == []
    diags = lint_rule_file(doc, "r.yaml", max_rules=4)
    assert [d.code for d in diags] == ["OBS603"] and not diags[0].is_error


def test_rendered_rules_of_every_example_are_clean() -> None:
    for spec in [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]:
        result = generate(spec, targets=["rules"])
        assert result.ok
        assert lint_artifacts(result.artifacts) == [], spec
        docs = {a.path: yaml.safe_load(a.text) for a in result.artifacts if "/rules/" in a.path}
        assert lint_rule_files(docs) == []
