"""Semantic checks that guard the rendered artifacts (beyond the invalid-spec catalogue)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.generate import plan_spec
from obsgen.plan import naming


def _codes(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    spec = tmp_path / "s.yaml"
    spec.write_text(text, encoding="utf-8")
    return [(d.code, d.path) for d in plan_spec(spec).diagnostics]


@pytest.mark.parametrize("label", sorted(naming.COLLECTOR_SPAN_METRICS.intrinsic_labels | {"slo", "severity", "le"}))
def test_routing_labels_may_not_reuse_labels_obsgen_sets_or_reads(tmp_path: Path, label: str) -> None:
    found = _codes(tmp_path, f"services: {{api: {{}}}}\nalerting: {{labels: {{{label}: x}}}}\n")
    assert ("OBS202", f"alerting.labels.{label}") in found


def test_routing_label_team_is_fine(tmp_path: Path) -> None:
    assert _codes(tmp_path, "services: {api: {}}\nalerting: {labels: {team: sre}}\n") == []


def test_series_budget_warns_with_biggest_contributors(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "attributes: {country: {values: [a, b, c, d, e, f, g, h, i, j]}}\n"
        "span_metrics: {dimensions: [country], series_budget: 100}\n"
        "services:\n  big: {endpoints: [GET /a, GET /b, GET /c]}\n  small: {endpoints: [GET /a]}\n",
        encoding="utf-8",
    )
    diags = plan_spec(spec).diagnostics
    assert [d.code for d in diags] == ["OBS503"]
    assert "big (" in diags[0].message and diags[0].message.index("big") < diags[0].message.index("small")
    assert (diags[0].line, diags[0].column) == (2, 54)


def test_did_you_mean_costs_a_bounded_number_of_comparisons() -> None:
    from obsgen.spec.errors import Suggester

    names = [f"service-{i}" for i in range(1000)]
    suggest_service = Suggester(names, budget=3)
    assert suggest_service("service-12x") == "did you mean 'service-12'?"
    assert suggest_service("zzz") == ""
    assert suggest_service("service-7y") == "did you mean 'service-7'?"
    assert suggest_service("service-12x") == "did you mean 'service-12'?"  # known words stay free
    assert suggest_service("service-99y") == ""  # budget spent: no more comparisons against all names


def test_renamed_services_get_suggestions_for_the_first_unknown_names(tmp_path: Path) -> None:
    services: dict[str, object] = {f"node-{i}": {"calls": [f"nodes-{i + 1}"]} for i in range(80)}
    services["node-80"] = {}
    spec = tmp_path / "renamed.yaml"
    spec.write_text(yaml.safe_dump({"name": "renamed", "services": services}), encoding="utf-8")
    diags = [d for d in plan_spec(spec).diagnostics if d.code == "OBS300"]
    assert len(diags) == 80
    assert "(did you mean" in diags[0].message
    assert sum("(did you mean" in d.message for d in diags) <= 50


_NOT_SPEC = """\
attributes: {{tenant.tier: {{values: [free, pro, enterprise]}}}}
services: {{api: {{}}}}
sampling:
  policies:
    - name: p
{policy}
"""


def test_not_of_an_attribute_match_warns_and_names_the_other_declared_values(tmp_path: Path) -> None:
    """not.go turns the NotSampled of a trace without the attribute into Sampled: say so, and suggest the rest."""
    spec = tmp_path / "s.yaml"
    spec.write_text(_NOT_SPEC.format(policy="      not: {string_attribute: {key: tenant.tier, values: [free]}}"),
                    encoding="utf-8")
    (found,) = [d for d in plan_spec(spec).diagnostics if d.code == "OBS413"]
    assert found.path == "sampling.policies[0].not" and found.severity.value == "warning"
    assert "'tenant.tier'" in found.message
    hint = found.hint.split("write string_attribute ", 1)[1]
    assert yaml.safe_load(hint) == {"key": "tenant.tier", "values": ["pro", "enterprise"]}  # reads back as written


@pytest.mark.parametrize("policy", [
    "      string_attribute: {key: tenant.tier, values: [pro, enterprise]}",
    "      not: {latency: {threshold: 1s}}",
    "      and: [{string_attribute: {key: tenant.tier, values: [free]}}]",
])
def test_policies_without_that_trap_stay_quiet(tmp_path: Path, policy: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(_NOT_SPEC.format(policy=policy), encoding="utf-8")
    result = plan_spec(spec)
    assert result.plan is not None, result.diagnostics  # checked, not refused before the sampling checks
    assert not [d for d in result.diagnostics if d.code == "OBS413"]


@pytest.mark.parametrize("sub", ["numeric_attribute: {key: n, min: 1}", "boolean_attribute: {key: b, value: true}"])
def test_every_attribute_policy_under_not_warns(tmp_path: Path, sub: str) -> None:
    found = _codes(tmp_path, _NOT_SPEC.format(policy=f"      not: {{{sub}}}"))
    assert ("OBS413", "sampling.policies[0].not") in found
