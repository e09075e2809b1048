"""Every rendered Collector config passes the real Collector's ``otelcol validate``.

The Collector is the one ``make tools`` builds from ``tools/otelcol`` (the Collector Builder's manifest:
exactly the components obsgen can emit, at one release). ``validate`` decodes the config strictly, runs
every component's ``Validate()`` and builds the pipeline graph (each factory's Create runs), so a config
it accepts is one the Collector starts with (upstream ``otelcol/command_validate.go``).

Two things differ from a deployment, on purpose and said here:
- The load-balancing exporter's ``k8s`` resolver needs a cluster. Older contrib releases created the
  in-cluster client in ``newLoadBalancer`` (so ``validate`` failed outside a cluster, as
  ``shared/reference/real-tools.md`` says); at v0.159.0 ``loadbalancer.go`` passes a nil client there and
  creates it in ``start()`` "to allow validation outside k8s cluster", and the built Collector accepts the
  rendered gateway. It is validated twice all the same: as rendered, and as the copy ``obsgen verify``
  validates, with the resolver swapped to ``static`` on the same service and ports (the rest of the
  document equal), which is also what a run outside a cluster (the end-to-end tests) needs.
- ``HOSTNAME`` is set, as it is in every pod: the remote-write exporter's ``collector_instance`` external
  label reads it, and an empty label value is refused.

A spec that pins a Collector other than the built one is validated with the built one, which accepts the
older component ids as deprecated aliases; ``test_pinned_version_is_the_built_one`` keeps the examples
on the built version except where a spec exists to test an older pin.
"""

from __future__ import annotations

import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from obsgen.check.verify import static_resolver_copy
from obsgen.emit.artifacts import Artifact
from obsgen.generate import generate
from tests import realtools
from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
BUILT_VERSION = re.search(r"^  version: (\S+)$", (ROOT / "tools" / "otelcol" / "builder-config.yaml").read_text(),
                          re.MULTILINE).group(1)  # type: ignore[union-attr]
# Specs that exist to test an older Collector pin; everything else pins the built version.
OLDER_PINS = {"old-collector"}


def _collector_artifacts(spec: Path) -> list[Artifact]:
    result = generate(spec, str(spec.relative_to(ROOT)))
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    found = [a for a in result.artifacts if a.path.startswith("otel-collector/")]
    assert found, f"{spec.name} renders no Collector config"
    return found


def otelcol_validate(otelcol: str, path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOSTNAME": "collector-0"}
    return subprocess.run([otelcol, "validate", f"--config={path}"], capture_output=True, text=True,
                          timeout=60, env=env, check=False)


CASES = [pytest.param(spec, id=spec.stem) for spec in SPECS]


@pytest.mark.parametrize("spec", CASES)
def test_every_rendered_collector_config_passes_otelcol_validate(spec: Path, tmp_path: Path) -> None:
    otelcol = realtools.require("otelcol")
    files: list[tuple[str, Path, bool]] = []
    for artifact in _collector_artifacts(spec):
        target = tmp_path / artifact.path.replace("/", "__")
        target.write_bytes(artifact.data)
        files.append((artifact.path, target, False))
        text, swapped = static_resolver_copy(artifact.data.decode())
        if swapped:
            static = target.with_suffix(".static.yaml")
            static.write_text(text, encoding="utf-8")
            files.append((artifact.path, static, True))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda f: otelcol_validate(otelcol, f[1]), files))
    failures = [f"{rel}{' (k8s resolver swapped to static)' if swapped else ''}: {res.stderr.strip()[-2000:]}"
                for (rel, _, swapped), res in zip(files, results, strict=True) if res.returncode != 0]
    assert not failures, "otelcol validate rejected:\n" + "\n".join(failures)


def test_the_gateway_layout_is_validated_with_a_static_resolver() -> None:
    """The scale-out example really has a k8s resolver, and the copy that is validated has none."""
    gateway = next(a for a in _collector_artifacts(ROOT / "tests" / "specs" / "scaleout.yaml")
                   if a.path.endswith("gateway.yaml"))
    text, swapped = static_resolver_copy(gateway.data.decode())
    assert swapped
    assert "k8s:" in gateway.data.decode() and "k8s:" not in text and "static:" in text


def test_a_config_the_collector_refuses_fails_the_check(tmp_path: Path) -> None:
    """The check can fail: an unknown key in a rendered config is refused by the real Collector."""
    otelcol = realtools.require("otelcol")
    shop = next(a for a in _collector_artifacts(ROOT / "specs" / "shop.yaml") if a.path.endswith("config.yaml"))
    doc = yaml.safe_load(shop.data)
    doc["processors"][next(k for k in doc["processors"] if k.startswith("tail_sampling"))]["decision_wiat"] = "5s"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = otelcol_validate(otelcol, broken)
    assert result.returncode != 0
    assert "decision_wiat" in result.stderr


@pytest.mark.parametrize("spec", CASES)
def test_pinned_version_is_the_built_one(spec: Path) -> None:
    pinned = (yaml.safe_load(spec.read_text()).get("stack") or {}).get("collector")
    if spec.stem in OLDER_PINS:
        assert pinned != BUILT_VERSION
        return
    assert pinned in (None, BUILT_VERSION), f"{spec.name} pins {pinned}; the built Collector is {BUILT_VERSION}"


def test_obsgen_default_is_the_built_version() -> None:
    from obsgen.spec.models import Stack

    assert Stack().collector == BUILT_VERSION


def test_the_built_module_requires_every_manifest_component_at_its_version() -> None:
    """tools/otelcol/go.mod is what the builder generated from builder-config.yaml (`make tools-regen`)."""
    manifest = (ROOT / "tools" / "otelcol" / "builder-config.yaml").read_text()
    go_mod = (ROOT / "tools" / "otelcol" / "go.mod").read_text()
    pins = re.findall(r"gomod: (\S+) (\S+)", manifest)
    assert len(pins) >= 17
    for module, version in pins:
        assert re.search(rf"^\t{re.escape(module)} {re.escape(version)}$", go_mod, re.MULTILINE), (module, version)
