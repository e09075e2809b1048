"""Issue 16: spec checks that match what the tools do (policy attribute types, sampler memory, gRPC endpoints)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.targets.collector import target as collector
from obsgen.targets.collector.memory import sampler_memory
from tests.truth.helpers import diagnostics, make_plan

ATTRS = """
    attributes:
      amount: {type: double}
      tier: {type: string}
      retries: {type: int}
      flag: {type: bool}
    services: {api: {}}
"""


@pytest.mark.parametrize(("policy", "path"), [
    ("numeric_attribute: {key: amount, min: 10}", "numeric_attribute"),
    ("numeric_attribute: {key: tier, min: 1}", "numeric_attribute"),
    ("string_attribute: {key: retries, values: ['3']}", "string_attribute"),
    ("boolean_attribute: {key: tier, value: false}", "boolean_attribute"),
    ("string_attribute: {key: http.response.status_code, values: ['500']}", "string_attribute"),
])
def test_policy_kind_must_fit_the_attribute_type(tmp_path: Path, policy: str, path: str) -> None:
    spec = ATTRS + f"    sampling:\n      policies:\n        - name: p\n          {policy}\n"
    assert ("OBS409", f"sampling.policies[0].{path}.key", "error") in diagnostics(tmp_path, spec)


@pytest.mark.parametrize("policy", [
    "numeric_attribute: {key: retries, min: 1}",
    "string_attribute: {key: tier, values: [gold]}",
    "boolean_attribute: {key: flag, value: true}",
    "numeric_attribute: {key: http.response.status_code, min: 500}",
])
def test_fitting_policy_kinds_pass(tmp_path: Path, policy: str) -> None:
    spec = ATTRS + f"    sampling:\n      policies:\n        - name: p\n          {policy}\n"
    assert not [d for d in diagnostics(tmp_path, spec) if d[0] == "OBS409"]


def test_nested_policies_are_checked_too(tmp_path: Path) -> None:
    spec = ATTRS + """    sampling:
      policies:
        - name: p
          and:
            - numeric_attribute: {key: amount, min: 1}
            - probabilistic: {percentage: 5}
"""
    assert ("OBS409", "sampling.policies[0].and[0].numeric_attribute.key", "error") in diagnostics(tmp_path, spec)


def test_sampler_memory_over_the_limit_warns(tmp_path: Path) -> None:
    """The issue's case: large.yaml's topology with 450k buffered traces and 2 x 4.5M decision-cache entries
    against its 3,276 MiB limit (4,096 MiB container)."""
    from tests.conftest import ROOT

    text = (ROOT / "tests" / "specs" / "large.yaml").read_text()
    assert "expected_traces_per_second: 2000" in text and "memory_limit_mib: 4096" in text
    text = text.replace("expected_traces_per_second: 2000", "expected_traces_per_second: 20000")
    plan = make_plan(tmp_path, text)
    ts = yaml.safe_load(collector.render(plan)[0].text)["processors"]["tail_sampling"]
    assert ts["num_traces"] == 450_000 and ts["decision_cache"]["sampled_cache_size"] == 4_500_000
    (tmp_path / "spec.yaml").write_text(text)
    assert ("OBS410", "collector.memory_limit_mib", "warning") in diagnostics(tmp_path, text)
    # the caches alone are ~859 MiB: 9M entries x 100 B
    assert sampler_memory(plan.spec).caches_mib == 859
    # as committed (45k traces, 2 x 450k entries) large.yaml fits
    assert not [d for d in diagnostics(tmp_path, (ROOT / "tests" / "specs" / "large.yaml").read_text())
                if d[0] == "OBS410"]


def test_sampler_memory_within_the_limit_is_quiet(tmp_path: Path) -> None:
    assert not [d for d in diagnostics(tmp_path, "services: {api: {}}\n") if d[0] == "OBS410"]


def test_grpc_critical_endpoint_is_matched_on_rpc_attributes(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        services:
          api:
            endpoints:
              - {route: POST /orders, critical: true}
              - {route: shop.v1.Payments/Charge, critical: true}
        sampling:
          policies: [{name: crit, critical_endpoints: true}]
    """)
    policy = yaml.safe_load(collector.render(plan)[0].text)["processors"]["tail_sampling"]["policies"][0]
    assert policy["type"] == "ottl_condition"
    assert policy["ottl_condition"]["span"] == [
        'attributes["http.route"] == "/orders"',
        'attributes["rpc.service"] == "shop.v1.Payments" and attributes["rpc.method"] == "Charge"',
    ]


def test_http_only_critical_endpoints_keep_the_route_policy(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, """
        services:
          api: {endpoints: [{route: POST /orders, critical: true}]}
        sampling:
          policies: [{name: crit, critical_endpoints: true}]
    """)
    policy = yaml.safe_load(collector.render(plan)[0].text)["processors"]["tail_sampling"]["policies"][0]
    assert policy == {"name": "crit", "type": "string_attribute",
                      "string_attribute": {"key": "http.route", "values": ["/orders"]}}


def test_critical_endpoint_of_unknown_protocol_warns_and_matches_the_span_name(tmp_path: Path) -> None:
    spec = """
        services:
          worker: {endpoints: [{route: process order, critical: true}]}
        sampling:
          policies: [{name: crit, critical_endpoints: true}]
    """
    assert ("OBS313", "services.worker.endpoints[0]", "warning") in diagnostics(tmp_path, spec)
    policy = yaml.safe_load(collector.render(make_plan(tmp_path, spec))[0].text)["processors"]["tail_sampling"]
    assert policy["policies"][0]["ottl_condition"]["span"] == ['name == "process order"']


def test_real_collector_accepts_the_grpc_policy(tmp_path: Path) -> None:
    import subprocess

    from tests import realtools

    otelcol = realtools.require("otelcol")
    plan = make_plan(tmp_path, """
        services:
          api:
            endpoints: [{route: shop.v1.Payments/Charge, critical: true}, {route: 'say "hi"', critical: true}]
        sampling:
          policies: [{name: crit, critical_endpoints: true}]
    """)
    path = tmp_path / "config.yaml"
    path.write_text(collector.render(plan)[0].text)
    run = subprocess.run([otelcol, "validate", f"--config={path}"], capture_output=True, text=True, timeout=120,
                         env={"HOSTNAME": "pod-0", "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr


CRITICAL = """
    services:
      api:
        endpoints:
          - {route: POST /pay, critical: true}
          - GET /health
      web:
        endpoints:
          - {route: POST /buy, critical: true}
"""


@pytest.mark.parametrize(("policies", "warned"), [
    ("[{name: errors, errors: true}]", {"api", "web"}),
    # a critical_endpoints policy inside drop or not keeps nothing
    ("[{name: d, drop: [{critical_endpoints: true}]}]", {"api", "web"}),
    ("[{name: n, not: {critical_endpoints: true}}]", {"api", "web"}),
    ("[{name: c, critical_endpoints: {services: [api]}}]", {"web"}),
    ("[{name: c, critical_endpoints: true}]", set()),
    ("[{name: c, and: [{critical_endpoints: true}, {probabilistic: {percentage: 50}}]}]", set()),
    ("[{name: all, always_sample: true}]", set()),
])
def test_a_critical_endpoint_no_policy_keeps_is_warned_about(tmp_path: Path, policies: str, warned: set[str]) -> None:
    spec = CRITICAL + f"    sampling:\n      policies: {policies}\n"
    found = {d[1] for d in diagnostics(tmp_path, spec) if d[0] == "OBS412"}
    assert found == {f"services.{s}.endpoints[0].critical" for s in warned}
