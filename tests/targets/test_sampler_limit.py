"""Issue 20: the sampler pod's memory limit, its memory_limiter and GOMEMLIMIT follow the tail-sampling estimate.

With a kubernetes section and no explicit ``collector.memory_limit_mib``, the plan decides the sampler's
container limit once (``Plan.sampler_memory``): the smallest multiple of 64 MiB whose memory_limiter soft
limit covers the estimate. The collector target sizes sampler.yaml's memory_limiter from it and the Helm
target gives the pod the same limit; a limit the spec writes is kept (and OBS326 still guards it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.targets import helm
from obsgen.targets.collector import target as collector
from obsgen.targets.collector.memory import LIMIT_STEP_MIB
from obsgen.targets.collector.values import memory_sizing
from obsgen.targets.helm import names

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "tests" / "specs" / "kubernetes.yaml").read_text()


def _variant(tmp_path: Path, *, tps: int = 4000, wait: str = "15s", collector_extra: str = "") -> Plan:
    text = EXAMPLE.replace("expected_traces_per_second: 4000", f"expected_traces_per_second: {tps}")
    text = text.replace("  decision_wait: 15s\n", f"  decision_wait: {wait}\n")
    text = text.replace("collector:\n  replicas: 3\n", f"collector:\n  replicas: 3\n{collector_extra}")
    assert (tps, wait) == (4000, "15s") or text != EXAMPLE
    path = tmp_path / f"k-{tps}-{wait}-{len(collector_extra)}.yaml"
    path.write_text(text)
    result = plan_spec(path)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan


def _rendered(plan: Plan) -> tuple[dict, dict, dict]:
    """sampler.yaml, gateway.yaml and the sampler values, parsed."""
    configs = {a.path: yaml.safe_load(a.text) for a in collector.render(plan)}
    values = {a.path: yaml.safe_load(a.text) for a in helm.render(plan)}
    return (configs[f"{collector.DIRECTORY}/sampler.yaml"], configs[f"{collector.DIRECTORY}/gateway.yaml"],
            values[names.SAMPLER_VALUES])


def _mib(quantity: str) -> int:
    assert quantity.endswith("Mi"), quantity
    return int(quantity.removesuffix("Mi"))


def _soft(limit: int) -> int:
    sizing = memory_sizing(limit)
    return sizing.limit_mib - sizing.spike_limit_mib


def test_the_example_sampler_limit_is_the_smallest_that_covers_the_estimate(tmp_path: Path) -> None:
    plan = _variant(tmp_path)
    assert "memory_limit_mib" not in plan.spec.collector.model_fields_set
    memory = plan.sampler_memory
    # 30000 traces x 24 KiB = 704 MiB + caches 58 + baseline 256 = 1018 MiB; 1536 MiB has soft limit 983 MiB,
    # 1600 MiB has 1024 MiB.
    assert memory.request_mib == 1018 and memory.limit_mib == 1600
    assert _soft(1600) >= 1018 > _soft(1600 - LIMIT_STEP_MIB)
    _, _, values = _rendered(plan)
    assert _mib(values["resources"]["limits"]["memory"]) == 1600
    assert _mib(values["resources"]["requests"]["memory"]) == 1018


@pytest.mark.parametrize(("tps", "wait"), [(1000, "10s"), (4000, "15s"), (8000, "15s"), (8000, "30s"),
                                           (40000, "30s")])
def test_the_pod_limit_and_the_limiter_are_one_limit(tmp_path: Path, tps: int, wait: str) -> None:
    plan = _variant(tmp_path, tps=tps, wait=wait)
    sampler, _, values = _rendered(plan)
    pod_limit = _mib(values["resources"]["limits"]["memory"])
    request = _mib(values["resources"]["requests"]["memory"])
    limiter = sampler["processors"]["memory_limiter"]
    sizing = memory_sizing(pod_limit)
    assert (limiter["limit_mib"], limiter["spike_limit_mib"]) == (sizing.limit_mib, sizing.spike_limit_mib)
    assert values["extraEnvs"] == [{"name": "GOMEMLIMIT", "value": f"{sizing.gomemlimit_mib}MiB"}]
    # the values' config is sampler.yaml plus nulls that delete the chart's percentage defaults
    chart_limiter = values["config"]["processors"]["memory_limiter"]
    assert {k: v for k, v in chart_limiter.items() if v is not None} == limiter
    # smallest multiple of the step whose soft limit covers the request
    assert pod_limit % LIMIT_STEP_MIB == 0
    assert _soft(pod_limit) >= request
    assert pod_limit == LIMIT_STEP_MIB or _soft(pod_limit - LIMIT_STEP_MIB) < request


def test_the_limit_grows_with_traffic_and_decision_wait(tmp_path: Path) -> None:
    limits = [_variant(tmp_path, tps=tps, wait=wait).sampler_memory.limit_mib
              for tps, wait in [(1000, "10s"), (4000, "10s"), (4000, "20s"), (16000, "20s"), (16000, "40s")]]
    assert limits == sorted(limits) and len(set(limits)) == len(limits), limits


def test_the_gateway_keeps_the_collector_limit(tmp_path: Path) -> None:
    plan = _variant(tmp_path)
    _, gateway, _ = _rendered(plan)
    values = {a.path: yaml.safe_load(a.text) for a in helm.render(plan)}[names.GATEWAY_VALUES]
    default = plan.spec.collector.memory_limit_mib
    assert _mib(values["resources"]["limits"]["memory"]) == default
    assert gateway["processors"]["memory_limiter"]["limit_mib"] == memory_sizing(default).limit_mib


@pytest.mark.parametrize("limit", [2048, 4096])
def test_an_explicit_limit_is_kept(tmp_path: Path, limit: int) -> None:
    # 2048 is the default: written explicitly it is still the user's choice (model_fields_set), not derived.
    plan = _variant(tmp_path, collector_extra=f"  memory_limit_mib: {limit}\n")
    assert plan.sampler_memory.limit_mib == limit
    sampler, _, values = _rendered(plan)
    assert _mib(values["resources"]["limits"]["memory"]) == limit
    assert sampler["processors"]["memory_limiter"]["limit_mib"] == memory_sizing(limit).limit_mib
    [text] = [a.text for a in collector.render(plan) if a.path.endswith("/sampler.yaml")]
    assert f"Container memory limit {limit} MiB (collector.memory_limit_mib)." in text


def test_an_explicit_limit_below_the_estimate_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.yaml"
    explicit = "collector:\n  replicas: 3\n  memory_limit_mib: 1024\n"
    path.write_text(EXAMPLE.replace("collector:\n  replicas: 3\n", explicit))
    result = plan_spec(path)
    assert [(d.code, d.path) for d in result.diagnostics if d.code == "OBS326"] == [
        ("OBS326", "collector.memory_limit_mib")]


def test_without_kubernetes_the_collector_limit_is_used(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("services: {api: {}}\ncollector: {replicas: 2}\n")
    result = plan_spec(path)
    assert result.plan is not None
    assert result.plan.sampler_memory.limit_mib == result.plan.spec.collector.memory_limit_mib == 2048
