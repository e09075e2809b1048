"""Issue 20 leftover: one sampler-memory estimate for the OBS410/OBS326 checks and the Helm values, read against
what the rendered configs say (num_traces, decision-cache sizes, the memory_limiter)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.targets.collector.memory import CACHE_ENTRY_BYTES, MIB, sampler_memory
from tests.truth.helpers import diagnostics
from tests.truth.sources import SPECS


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_the_estimate_is_the_rendered_sizing(spec: Path) -> None:
    result = generate(spec)
    assert result.ok and result.plan is not None
    est = sampler_memory(result.plan.spec)
    docs = {a.path: yaml.safe_load(a.text) for a in result.artifacts if a.path.endswith(".yaml")}
    sampler = docs.get("otel-collector/sampler.yaml") or docs["otel-collector/config.yaml"]
    ts = sampler["processors"]["tail_sampling"]
    assert ts["num_traces"] == est.num_traces
    caches = ts["decision_cache"]
    assert caches["sampled_cache_size"] + caches["non_sampled_cache_size"] == est.cache_entries
    assert est.caches_mib == -(-est.cache_entries * CACHE_ENTRY_BYTES // MIB)
    limiter = sampler["processors"]["memory_limiter"]
    assert est.soft_limit_mib == limiter["limit_mib"] - limiter["spike_limit_mib"]
    values = docs.get("helm/otel-collector-sampler.values.yaml")
    if values is not None:  # the Helm sampler asks for exactly this estimate
        assert values["resources"]["requests"]["memory"] == f"{est.request_mib}Mi"


def test_obs410_warns_from_the_soft_limit_where_the_limiter_refuses(tmp_path: Path) -> None:
    # 2,048 MiB container: limit_mib 1,638, spike 327, soft limit 1,311; 2 spans per trace (2,256 B each)
    base = """
        services:
          api: {{endpoints: [GET /a], calls: [db]}}
          db: {{kind: database}}
        sampling: {{expected_traces_per_second: {tps}, decision_wait: 10s, headroom: 1}}
    """
    quiet = [d for d in diagnostics(tmp_path, base.format(tps=20_000)) if d[0] == "OBS410"]
    loud = [d for d in diagnostics(tmp_path, base.format(tps=30_000)) if d[0] == "OBS410"]
    assert quiet == []  # 200k traces: 431 MiB + 4M entries 382 MiB + 256 MiB = 1,069 MiB < 1,311
    # 646 + 573 + 256 = 1,475 MiB: above the soft limit 1,311, below limit_mib 1,638
    assert loud == [("OBS410", "collector.memory_limit_mib", "warning")]
