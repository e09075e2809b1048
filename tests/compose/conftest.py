"""Shared helpers of the local-stack tests: the built composecheck and a run of it."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from obsgen import output
from obsgen.generate import generate
from tests import realtools
from tests.conftest import ROOT


@dataclass(frozen=True)
class Checked:
    """What composecheck said about one compose file."""

    code: int
    stdout: str
    stderr: str

    @property
    def problems(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if not line.startswith(("ok:", "{"))]


@pytest.fixture(scope="session")
def composecheck() -> str:
    """Path of tools/composecheck as ``make tools`` builds it (CI: missing fails; elsewhere: skip)."""
    return realtools.require("composecheck")


def run_check(tool: str, compose_file: Path, images: dict[str, str] | None = None, *, dump: bool = False,
              env: dict[str, str] | None = None) -> Checked:
    """composecheck on ``compose_file``; the traffic service's checkout mount points at this checkout."""
    args = [tool]
    if dump:
        args.append("-print")
    for repository, tag in sorted((images or {}).items()):
        args += ["-image", f"{repository}={tag}"]
    args.append(str(compose_file))
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"),
                   "OBSGEN_CHECKOUT": str(ROOT), **(env or {})}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, env=environment, check=False)
    return Checked(proc.returncode, proc.stdout, proc.stderr)


def loaded_project(tool: str, compose_file: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    """The project compose-go loaded, as JSON (what Docker Compose would run)."""
    checked = run_check(tool, compose_file, dump=True, env=env)
    assert checked.code == 0, checked.stdout + checked.stderr
    text = checked.stdout[: checked.stdout.rindex("\n}") + 2]
    project: dict[str, object] = json.loads(text)
    return project


@pytest.fixture(scope="session")
def two_tier_dns(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """scaleout.yaml with the dns resolver, rendered: the gateway + samplers layout compose can run."""
    root = tmp_path_factory.mktemp("two-tier")
    text = (ROOT / "tests" / "specs" / "scaleout.yaml").read_text(encoding="utf-8")
    assert "resolver: k8s" in text
    spec = root / "scaleout-dns.yaml"
    spec.write_text(text.replace("resolver: k8s", "resolver: dns"), encoding="utf-8")
    result = generate(spec, spec.name)
    assert result.ok, [d.format() for d in result.diagnostics]
    out = root / "out"
    output.write(out, result.artifacts)
    return spec, out
