"""The pre-commit hooks (.pre-commit-hooks.yaml) run by pre-commit itself, as a user's repository would.

The first test of a session installs the hook environment (a clone plus `pip install` from PyPI,
about a minute); the rest reuse it.
"""

from __future__ import annotations

import re

import yaml

from tests.ci.conftest import HookSource, Project, precommit_config
from tests.conftest import ROOT

GOOD = "services:\n  api: {}\n  db: {kind: database}\n"
BAD_DURATION = (ROOT / "tests" / "invalid" / "duration-bad.yaml").read_text(encoding="utf-8")


def hook_line(output: str, name: str) -> str:
    """pre-commit's status line of a hook: 'obsgen validate......Passed'."""
    lines = [line for line in output.splitlines() if line.startswith(name + ".")]
    assert len(lines) == 1, output
    return lines[0]


def test_hook_definitions_have_the_defaults_a_user_expects() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"obsgen-validate", "obsgen-check"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["files"] == r"^specs/.*\.ya?ml$" and hook["types"] == ["yaml"]
        assert hook["pass_filenames"] is True


def test_a_valid_spec_with_fresh_output_passes(project: Project, hook_source: HookSource) -> None:
    project.write(".pre-commit-config.yaml", precommit_config(hook_source))
    project.write("specs/app.yaml", GOOD)
    assert project.obsgen("render", "specs/app.yaml").returncode == 0
    # a broken YAML file outside specs/ is none of the hooks' business (files: ^specs/)
    project.write("deploy/values.yaml", BAD_DURATION)
    result = project.pre_commit("--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert hook_line(result.stdout, "obsgen validate").endswith("Passed")
    assert hook_line(result.stdout, "obsgen render --check").endswith("Passed")


def test_an_invalid_spec_fails_at_its_position(project: Project, hook_source: HookSource) -> None:
    project.write(".pre-commit-config.yaml", precommit_config(hook_source, ("obsgen-validate",)))
    project.write("specs/good.yaml", GOOD)
    project.write("specs/bad.yml", BAD_DURATION)
    result = project.pre_commit("--all-files")
    assert result.returncode == 1
    assert hook_line(result.stdout, "obsgen validate").endswith("Failed")
    assert "specs/bad.yml:5:18: error OBS204 sampling.decision_wait: invalid duration" in result.stdout


def test_stale_generated_output_fails_with_the_diff(project: Project, hook_source: HookSource) -> None:
    project.write(".pre-commit-config.yaml", precommit_config(hook_source))
    project.write("specs/app.yaml", GOOD)
    project.write("specs/other.yaml", "services:\n  web: {}\n")
    assert project.obsgen("render", "specs/app.yaml").returncode == 0
    assert project.obsgen("render", "specs/other.yaml").returncode == 0
    project.write("specs/app.yaml", GOOD + "  cache: {kind: cache}\n")  # the render is now stale
    result = project.pre_commit("--all-files")
    assert result.returncode == 1
    assert hook_line(result.stdout, "obsgen validate").endswith("Passed")
    assert hook_line(result.stdout, "obsgen render --check").endswith("Failed")
    assert "+++ b/generated/app/topology.md" in result.stdout and "+| cache |" in result.stdout
    stale = r"^generated/app/ is stale \(\d+ files differ\); run `obsgen render specs/app.yaml`$"
    assert re.search(stale, result.stdout, re.MULTILINE)
    assert "generated/other/ is up to date" in result.stdout  # every spec is checked, not just the first
    assert not (project.path / "generated" / "app" / "cache").exists()  # the hook wrote nothing
