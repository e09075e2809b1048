"""The README's "Try it locally" section, followed step by step where it can be here.

Its commands run in a scratch copy of the repository's layout (``specs/shop.yaml``): ``obsgen render`` with
this checkout's obsgen, each ``docker compose -f FILE ... up`` as composecheck loading FILE (no Docker engine
runs here: compose-go loads the file as Compose would), and the composecheck line itself. What the section
says about the stack is checked against the file compose-go loaded.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.compose.conftest import loaded_project, run_check
from tests.conftest import ROOT

OBSGEN = Path(sys.executable).parent / "obsgen"


def section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Try it locally\n", 1)[1].split("\n## ", 1)[0]


def commands() -> list[list[str]]:
    """Every command of the section's code blocks, in order."""
    blocks = re.findall(r"```\n(.*?)```", section(), re.DOTALL)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def test_the_section_runs(composecheck: str, tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "shop.yaml", tmp_path / "specs" / "shop.yaml")
    ran = []
    for command in commands():
        if command[:2] == ["obsgen", "render"]:
            proc = subprocess.run([str(OBSGEN), *command[1:]], cwd=tmp_path, capture_output=True, text=True,
                                  timeout=120, check=False)
            assert proc.returncode == 0, proc.stderr
        elif command[:2] == ["docker", "compose"]:
            assert command[-1] == "up" and command[2] == "-f", command
            checked = run_check(composecheck, tmp_path / command[3])
            assert (checked.code, checked.problems) == (0, []), checked.stdout + checked.stderr
        elif command[0] == ".tools/bin/composecheck":
            checked = run_check(composecheck, tmp_path / command[1])
            assert checked.code == 0 and checked.stdout.startswith("ok: "), checked.stdout + checked.stderr
        else:
            raise AssertionError(f"the README's command {command} is not followed by this test")
        ran.append(command[0])
    assert ran == ["obsgen", "docker", "docker", ".tools/bin/composecheck"]
    # the rendered file is the committed one: the section shows what users get
    rendered = (tmp_path / "generated" / "shop" / "docker-compose.yaml").read_text(encoding="utf-8")
    assert rendered == (ROOT / "generated" / "shop" / "docker-compose.yaml").read_text(encoding="utf-8")


def test_what_the_section_says_is_what_compose_loads(composecheck: str) -> None:
    text = section()
    compose_file = ROOT / "generated" / "shop" / "docker-compose.yaml"
    services = loaded_project(composecheck, compose_file)["services"]
    assert isinstance(services, dict)
    for service in ("otel-collector", "tempo", "prometheus", "grafana", "loki"):
        assert f"`{services[service]['image']}`" in text, service
    for flag in ("--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage"):
        assert flag in services["prometheus"]["command"] and f"`{flag}`" in text
    grafana = services["grafana"]
    assert "<http://localhost:3000>" in text
    assert [(p["host_ip"], p["published"]) for p in grafana["ports"]] == [("127.0.0.1", "3000")]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Admin"
    assert grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"].endswith("/shop-overview.json")
    published = {p["published"] for p in services["otel-collector"]["ports"]}
    assert published == {"4317", "4318"} and "`localhost:4317`" in text and "`localhost:4318`" in text
    assert "--profile traffic" in text and services["traffic"]["profiles"] == ["traffic"]
    assert f"`{services['traffic']['image']}`" in text
    assert all(p.get("host_ip") == "127.0.0.1" for s in services.values() for p in s.get("ports", []))
    assert "healthcheck" not in services["otel-collector"]
    raw = yaml.safe_load(compose_file.read_text(encoding="utf-8"))
    assert "compose-go` v2.16.2" in text
    assert (ROOT / "tools" / "composecheck" / "go.mod").read_text(encoding="utf-8").count(
        "github.com/compose-spec/compose-go/v2 v2.16.2") == 1
    assert raw["services"]["traffic"]["volumes"][0]["source"] == "${OBSGEN_CHECKOUT:-../..}"
