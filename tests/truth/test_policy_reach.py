"""Issue 16: every keep policy of the rendered tail-sampling config can match a span the topology declares (OBS411).

Every example spec, under both span-metrics sources, renders without OBS411, and the check did look at its
attribute policies; specs with a policy no declared span can match get the warning at that policy's spec line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from obsgen.check.truth.policy_reach import _keep_policies, _never, domains, tail_sampling_policies
from obsgen.generate import Result, generate
from tests.truth.sources import CASES, IDS, with_source


def _render(path: Path) -> Result:
    result = generate(path)
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    return result


@pytest.mark.parametrize(("spec", "source"), CASES, ids=IDS)
def test_every_keep_policy_of_every_example_can_match(spec: Path, source: str, tmp_path: Path) -> None:
    result = _render(with_source(spec, source, tmp_path))
    assert [d.format() for d in result.diagnostics if d.code == "OBS411"] == []
    assert result.plan is not None
    rendered = [p for a in result.artifacts if a.path.startswith("otel-collector/")
                for p in tail_sampling_policies(yaml.safe_load(a.text))]
    keep = [p for p, _ in _keep_policies(rendered)]
    assert keep, "every example keeps something"
    known = domains(result.plan.spec)
    # each attribute policy names an attribute a declared span carries, with a value it can take
    for policy in keep:
        assert _never(policy, known) is None, policy


SPEC = """
    name: rides
    attributes:
      country: {values: [US, BR]}
      vip: {type: bool}
      fare.cents: {type: int}
    services:
      gateway:
        endpoints: [{route: POST /rides, critical: true}, 'GET /rides/{id}']
        calls: [dispatch, pg]
      dispatch:
        endpoints: [dispatch.v1.Dispatch/Match]
      pg: {kind: database, db_name: rides}
    sampling:
      policies:
        - {name: errors, errors: true}
"""


def _found(tmp_path: Path, policies: str) -> list[tuple[str, str, int, str]]:
    path = tmp_path / "rides.yaml"
    path.write_text(textwrap.dedent(SPEC) + textwrap.indent(textwrap.dedent(policies), "    "))
    result = _render(path)
    return [(d.code, d.path, d.line, d.message) for d in result.diagnostics if d.code == "OBS411"]


@pytest.mark.parametrize(("policy", "why"), [
    ("{name: mx, string_attribute: {key: country, values: [MX]}}", "'country' only takes 'BR', 'US'"),
    ("{name: mx-re, string_attribute: {key: country, values: ['^M'], regex: true}}", "'country' only takes"),
    ("{name: tenant, string_attribute: {key: tenant.id, values: [a]}}", "no declared span carries 'tenant.id'"),
    ("{name: route, string_attribute: {key: http.route, values: [/payments]}}", "'http.route' only takes"),
    ("{name: grpc, string_attribute: {key: rpc.method, values: [Cancel]}}", "'rpc.method' only takes 'Match'"),
    ("{name: db, string_attribute: {key: db.name, values: [orders]}}", "'db.name' only takes 'rides'"),
    ("{name: svc, string_attribute: {key: service.name, values: [billing]}}", "'service.name' only takes"),
    ("{name: big, numeric_attribute: {key: http.status_code_x, min: 500}}", "no declared span carries"),
])
def test_a_keep_policy_that_can_never_match_is_a_warning_at_the_policy(tmp_path: Path, policy: str, why: str) -> None:
    [(code, path, line, message)] = _found(tmp_path, f"    - {policy}\n")
    assert (code, path, line) == ("OBS411", "sampling.policies[1]", 17)
    assert why in message


def test_sub_policies_point_at_themselves(tmp_path: Path) -> None:
    found = _found(tmp_path, """\
            - name: br-vip
              and:
                - string_attribute: {key: country, values: [BR]}
                - string_attribute: {key: country, values: [FR]}
            - name: budget
              composite:
                max_spans_per_second: 100
                policies:
                  - {name: us, share: 50, string_attribute: {key: country, values: [US]}}
                  - {name: nowhere, share: 50, string_attribute: {key: region, values: [eu]}}
        """)
    assert [(p, line) for _, p, line, _ in found] == [
        ("sampling.policies[1].and[1]", 20), ("sampling.policies[2].composite.policies[1]", 26)]


def test_policies_that_can_match_are_quiet(tmp_path: Path) -> None:
    assert _found(tmp_path, """\
            - {name: br, string_attribute: {key: country, values: [BR, MX]}}
            - {name: re, string_attribute: {key: country, values: ['^B'], regex: true}}
            - {name: vip, boolean_attribute: {key: vip, value: true}}
            - {name: fare, numeric_attribute: {key: fare.cents, min: 10000}}
            - {name: rides, string_attribute: {key: http.route, values: ['/rides/{id}']}}
            - {name: match, string_attribute: {key: rpc.service, values: [dispatch.v1.Dispatch]}}
            - {name: pg, string_attribute: {key: db.name, values: [rides]}}
            - {name: gw, string_attribute: {key: service.name, values: [gateway]}}
            - {name: drop-bots, drop: [{string_attribute: {key: user_agent, values: [bot]}}]}
        """) == []


def test_a_semantic_attribute_the_spec_names_no_value_of_is_not_judged(tmp_path: Path) -> None:
    """No endpoint declared anywhere: the spec says nothing about http.route, so nothing is claimed."""
    path = tmp_path / "bare.yaml"
    path.write_text("services:\n  api: {}\nsampling:\n  policies:\n"
                    "    - {name: r, string_attribute: {key: http.route, values: [/x]}}\n"
                    "    - {name: t, string_attribute: {key: tenant.id, values: [a]}}\n")
    result = _render(path)
    assert [(d.code, d.path) for d in result.diagnostics if d.code == "OBS411"] == [("OBS411", "sampling.policies[1]")]
