"""Every example spec's docker-compose.yaml loads with compose-go and passes composecheck.

The committed outputs (``generated/shop/``, ``tests/golden/<name>/``; test_golden keeps them equal to a
render) are loaded as ``docker compose -f`` loads them: project directory = the rendered folder. A two-tier
layout with the ``dns`` resolver (no example spec has one) is rendered from scaleout.yaml for the same check.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from obsgen import output
from obsgen.diagnostics import Severity
from obsgen.generate import Result, generate
from obsgen.plan import Plan
from obsgen.targets.compose import images
from obsgen.targets.compose.addresses import why_not_runnable
from tests.compose.conftest import loaded_project, run_check
from tests.compose.wiring import assert_addresses_resolve
from tests.conftest import ROOT

CASES = [(ROOT / "specs" / "shop.yaml", ROOT / "generated" / "shop")] + [
    (spec, ROOT / "tests" / "golden" / spec.stem) for spec in sorted((ROOT / "tests" / "specs").glob("*.yaml"))
]
NOT_RUNNABLE = {"distributed": "distributed mode", "kubernetes": "distributed mode", "scaleout": "k8s resolver"}


def plan_of(spec: Path) -> Plan:
    result = generate(spec, spec.name)
    assert result.ok and result.plan is not None
    return result.plan


@pytest.mark.parametrize(("spec", "folder"), CASES, ids=[c[0].stem for c in CASES])
def test_example_compose_file_passes_composecheck(composecheck: str, spec: Path, folder: Path) -> None:
    plan = plan_of(spec)
    compose_file = folder / "docker-compose.yaml"
    if spec.stem in NOT_RUNNABLE:
        reason = why_not_runnable(plan)
        assert reason is not None and NOT_RUNNABLE[spec.stem] in reason
        assert not compose_file.exists()
        return
    assert why_not_runnable(plan) is None
    checked = run_check(composecheck, compose_file, images.pinned(plan))
    assert checked.code == 0 and checked.problems == [], checked.stdout + checked.stderr


def test_two_tier_dns_layout_passes_composecheck(composecheck: str, two_tier_dns: tuple[Path, Path]) -> None:
    spec, out = two_tier_dns
    checked = run_check(composecheck, out / "docker-compose.yaml", images.pinned(plan_of(spec)))
    assert checked.code == 0 and checked.problems == [], checked.stdout + checked.stderr
    project = loaded_project(composecheck, out / "docker-compose.yaml")
    services = project["services"]
    assert isinstance(services, dict)
    assert services["otel-sampler"]["deploy"]["replicas"] == 3
    assert "ports" not in services["otel-sampler"]  # replicas cannot share a host port


@pytest.mark.parametrize(("spec", "folder"), [c for c in CASES if c[0].stem not in NOT_RUNNABLE],
                         ids=[c[0].stem for c in CASES if c[0].stem not in NOT_RUNNABLE])
def test_stack_wiring(composecheck: str, spec: Path, folder: Path) -> None:
    """Start order, health checks, Prometheus' flags, Grafana on localhost:3000, traffic behind a profile."""
    project = loaded_project(composecheck, folder / "docker-compose.yaml")
    services = project["services"]
    assert isinstance(services, dict)
    for name in ("tempo", "prometheus", "grafana") + (("loki",) if "loki" in services else ()):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    front = services["otel-collector"]
    assert {name: d["condition"] for name, d in front["depends_on"].items()} == {
        "tempo": "service_healthy", "prometheus": "service_healthy"}
    grafana_needs = {n for n, d in services["grafana"]["depends_on"].items() if d["condition"] == "service_healthy"}
    assert grafana_needs == {"tempo", "prometheus"} | ({"loki"} if "loki" in services else set())
    assert {"host_ip": "127.0.0.1", "published": "3000", "target": 3000, "protocol": "tcp", "mode": "ingress"
            }.items() <= services["grafana"]["ports"][0].items()
    assert services["grafana"]["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    header = (folder / "prometheus" / "prometheus.yaml").read_text(encoding="utf-8")
    wanted = set(re.findall(r"^# (--[a-z-]+(?:=[a-z-]+)?):", header, re.MULTILINE))
    assert "--enable-feature=exemplar-storage" in wanted
    assert wanted <= set(services["prometheus"]["command"])
    assert services["traffic"]["profiles"] == ["traffic"]
    volumes = {v["target"]: v for s in services.values() for v in s.get("volumes", [])}
    assert all(v["read_only"] for v in volumes.values())


def render_result(tmp_path: Path, backends: str) -> Result:
    spec = tmp_path / "custom.yaml"
    spec.write_text(f"name: custom\nbackends:\n{backends}services:\n  api:\n    endpoints: [GET /]\n", encoding="utf-8")
    result = generate(spec, spec.name)
    assert result.ok and result.plan is not None, [d.format() for d in result.diagnostics]
    output.write(tmp_path / "out", result.artifacts)
    return result


def render_spec(tmp_path: Path, backends: str) -> tuple[Plan, Path]:
    result = render_result(tmp_path, backends)
    assert result.plan is not None
    return result.plan, tmp_path / "out"


def test_other_host_names_become_aliases_and_ports_are_listened_on(composecheck: str, tmp_path: Path) -> None:
    """README: a host name that is not a service's own becomes an alias; each backend listens on its URL's port."""
    plan, out = render_spec(tmp_path, "  prometheus:\n    url: http://metrics.internal:9091\n"
                                      "    remote_write_url: http://metrics.internal:9091/api/v1/write\n"
                                      "  loki:\n    url: http://logs:3101\n"
                                      "  tempo:\n    url: http://tempo:3000\n")  # Grafana's port, inside tempo
    checked = run_check(composecheck, out / "docker-compose.yaml", images.pinned(plan))
    assert (checked.code, checked.problems) == (0, [])
    services = loaded_project(composecheck, out / "docker-compose.yaml")["services"]
    assert isinstance(services, dict)
    assert services["prometheus"]["networks"]["default"]["aliases"] == ["metrics.internal"]
    assert "--web.listen-address=0.0.0.0:9091" in services["prometheus"]["command"]
    assert [(p["published"], p["target"]) for p in services["prometheus"]["ports"]] == [("9090", 9091)]
    assert services["loki"]["networks"]["default"]["aliases"] == ["logs"]
    assert "-server.http-listen-port=3101" in services["loki"]["command"]
    assert [(p["published"], p["target"]) for p in services["tempo"]["ports"]] == [("3200", 3000)]
    assert_addresses_resolve(composecheck, out)


@pytest.mark.parametrize(("backends", "reason", "field", "line"), [
    ("  tempo:\n    url: https://tempo:3200\n", "is not plain http", "backends.tempo.url", 4),
    ("  loki:\n    url: http://10.0.0.7:3100\n", "uses the IP address 10.0.0.7", "backends.loki.url", 4),
    ("  loki:\n    url: http://prometheus:3100\n", "names the host prometheus, which is another service",
     "backends.loki.url", 4),
    ("  loki:\n    url: http://shared:3100\n  tempo:\n    url: http://shared:3200\n",
     "the host name shared is used for both", "backends.loki.url", 4),
    ("  tempo:\n    otlp_endpoint: tempo:4417\n", "receives OTLP on 4317", "backends.tempo.otlp_endpoint", 4),
    ("  prometheus:\n    url: http://prometheus:9090\n    remote_write_url: http://prometheus:9091/api/v1/write\n",
     "name different ports", "backends.prometheus.remote_write_url", 5),
])
def test_configs_compose_cannot_run_get_no_compose_file_and_a_warning_says_why(
        tmp_path: Path, backends: str, reason: str, field: str, line: int) -> None:
    result = render_result(tmp_path, backends)
    assert result.plan is not None
    assert reason in (why_not_runnable(result.plan) or "")
    assert not (tmp_path / "out" / "docker-compose.yaml").exists()
    [warning] = [d for d in result.diagnostics if d.code == "OBS330"]
    assert (warning.severity, warning.path, warning.line) == (Severity.WARNING, field, line)
    assert warning.message.startswith("no docker-compose.yaml: ") and reason in warning.message
    assert warning.extra == {"omitted": "docker-compose.yaml"}


@pytest.mark.parametrize("spec", [c[0] for c in CASES], ids=[c[0].stem for c in CASES])
def test_kubernetes_layouts_get_no_compose_file_and_no_warning(spec: Path) -> None:
    """Tempo's distributed mode and the k8s resolver are layouts helm/ runs: leaving compose out is no finding."""
    result = generate(spec, spec.name)
    assert [d.format() for d in result.diagnostics if d.code == "OBS330"] == []


def test_traffic_service_script(composecheck: str, tmp_path: Path) -> None:
    """The traffic service's shell script and its Python wait loop parse; it dials the Collector's health_check
    extension and OTLP gRPC receiver as the rendered Collector config defines them."""
    folder = CASES[0][1]
    traffic = loaded_project(composecheck, folder / "docker-compose.yaml")["services"]["traffic"]  # type: ignore[index]
    shell, flag, script, name, health_url, otlp_url = traffic["command"]
    assert (shell, flag, name) == ("sh", "-c", "traffic")
    subprocess.run(["sh", "-n", "-c", script], check=True, timeout=10)
    snippet = re.search(r"python -c '(.*?)' \"\$1\"", script, re.DOTALL)
    assert snippet is not None
    compile(snippet.group(1), "wait-for-collector", "exec")
    assert 'obsgen traffic "/src/$OBSGEN_SPEC" --otlp "$2" $OBSGEN_TRAFFIC_ARGS' in script
    collector = yaml.safe_load((folder / "otel-collector" / "config.yaml").read_text(encoding="utf-8"))
    health_port = collector["extensions"]["health_check"]["endpoint"].rsplit(":", 1)[1]
    grpc_port = collector["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].rsplit(":", 1)[1]
    assert (health_url, otlp_url) == (f"http://otel-collector:{health_port}/", f"http://otel-collector:{grpc_port}")
    assert traffic["environment"] == {"OBSGEN_SPEC": "specs/shop.yaml", "OBSGEN_TRAFFIC_ARGS": "--duration 600"}
