"""The README's "Use it in CI" section, followed step by step where it can be here.

The YAML snippets are taken from the README itself: the pre-commit config runs with pre-commit
(hook source: this checkout), the GitHub workflow's and GitLab job's shell steps run with bash as the
runners would (``bash -eo pipefail``), with this checkout's obsgen on PATH in place of the install step.
The SARIF file the workflow writes is validated against the SARIF 2.1.0 schema; the upload itself
needs GitHub and is not run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.ci.conftest import HookSource, Project
from tests.conftest import ROOT

SARIF_SCHEMA = json.loads((ROOT / "tests" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
GOOD = "services:\n  api: {}\n  db: {kind: database}\n"
BAD_DURATION = (ROOT / "tests" / "invalid" / "duration-bad.yaml").read_text(encoding="utf-8")
OBSGEN_BIN = Path(sys.executable).parent  # the obsgen script of this checkout's environment


def ci_snippets() -> list[dict[str, object]]:
    """Every YAML block of the README's "Use it in CI" section, parsed."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Use it in CI\n", 1)[1].split("\n## ", 1)[0]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)]


def snippet(key: str) -> dict[str, object]:
    (found,) = [s for s in ci_snippets() if key in s]
    return found


def sh(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A run step as GitHub's default shell runs it (bash --noprofile --norc -eo pipefail)."""
    env = {**os.environ, "PATH": f"{OBSGEN_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=300)


def is_install(command: str) -> bool:
    return command.startswith("pip install ") and "obsgen @ git+" in command


def run_workflow(cwd: Path) -> list[tuple[str, subprocess.CompletedProcess[str] | None]]:
    """The workflow's run steps in order; a failed step skips the rest, except steps that run
    `if: ${{ !cancelled() }}`. Returns (step name, result or None when skipped)."""
    (job,) = snippet("jobs")["jobs"].values()  # type: ignore[attr-defined]
    results: list[tuple[str, subprocess.CompletedProcess[str] | None]] = []
    failed = False
    for step in job["steps"]:
        if "run" not in step or is_install(step["run"]):
            continue
        if failed and step.get("if") != "${{ !cancelled() }}":
            results.append((step["name"], None))
            continue
        result = sh(step["run"], cwd)
        failed = failed or result.returncode != 0
        results.append((step["name"], result))
    return results


def sarif_upload_file() -> str:
    (job,) = snippet("jobs")["jobs"].values()  # type: ignore[attr-defined]
    (upload,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    return str(upload["with"]["sarif_file"])


def specs_dir(tmp_path: Path, **specs: str) -> Path:
    (tmp_path / "specs").mkdir()
    for name, text in specs.items():
        (tmp_path / "specs" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_workflow_installs_obsgen_then_validates_checks_and_uploads() -> None:
    (job,) = snippet("jobs")["jobs"].values()  # type: ignore[attr-defined]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert is_install(runs[0])
    assert any("obsgen validate --format github" in run for run in runs)
    assert any("obsgen render --check" in run for run in runs)
    assert job["permissions"]["security-events"] == "write"


def test_workflow_on_a_clean_repository(tmp_path: Path) -> None:
    cwd = specs_dir(tmp_path, app=GOOD)
    assert sh("obsgen render specs/app.yaml", cwd).returncode == 0
    results = run_workflow(cwd)
    assert all(r is not None and r.returncode == 0 for _, r in results), results
    log = json.loads((cwd / sarif_upload_file()).read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []


def test_workflow_on_an_invalid_spec_annotates_and_still_writes_sarif(tmp_path: Path) -> None:
    cwd = specs_dir(tmp_path, app=GOOD, bad=BAD_DURATION)
    steps = dict(run_workflow(cwd))
    validate = steps["Validate the specs"]
    assert validate is not None and validate.returncode == 1
    assert validate.stdout.startswith("::error file=specs/bad.yaml,line=5,col=18,title=OBS204::")
    assert steps["Generated configs are up to date"] is None  # skipped after a failure, as on GitHub
    sarif = steps["SARIF for code scanning"]
    assert sarif is not None and sarif.returncode == 0  # findings are the log's content, not a failure
    log = json.loads((cwd / sarif_upload_file()).read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["ruleId"] == "OBS204" and result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "specs/bad.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 5, "startColumn": 18}}


def test_workflow_check_step_reports_every_stale_spec(tmp_path: Path) -> None:
    cwd = specs_dir(tmp_path, app=GOOD, other="services:\n  web: {}\n")
    steps = dict(run_workflow(cwd))
    check = steps["Generated configs are up to date"]
    assert check is not None and check.returncode == 1
    stale = [line for line in check.stdout.splitlines() if line.startswith("::error ")]
    assert [line.split(",")[0] for line in stale] == ["::error file=specs/app.yaml", "::error file=specs/other.yaml"]


def test_workflow_stale_annotation_carries_the_command_that_fixes_it(tmp_path: Path) -> None:
    """The annotation's advice, pasted as it reads, brings the output up to date: the next run passes."""
    cwd = specs_dir(tmp_path, app=GOOD)
    check = dict(run_workflow(cwd))["Generated configs are up to date"]
    assert check is not None and check.returncode == 1
    (message,) = [line.split("::", 2)[2] for line in check.stdout.splitlines() if line.startswith("::error ")]
    assert message == "generated/app/ is stale; run `obsgen render specs/app.yaml`"
    (advice,) = re.findall(r"run `([^`]+)`", message)
    assert sh(advice, cwd).returncode == 0
    assert all(r is not None and r.returncode == 0 for _, r in run_workflow(cwd))


def test_gitlab_job(tmp_path: Path) -> None:
    script = snippet("obsgen")["obsgen"]["script"]  # type: ignore[index]
    assert is_install(script[0])
    commands = "\n".join(script[1:])
    cwd = specs_dir(tmp_path, app=GOOD)
    stale = sh(commands, cwd)
    assert stale.returncode == 1 and "generated/app/ is stale" in stale.stderr
    assert sh("obsgen render specs/app.yaml", cwd).returncode == 0
    assert sh(commands, cwd).returncode == 0
    (cwd / "specs" / "bad.yaml").write_text(BAD_DURATION, encoding="utf-8")
    invalid = sh(commands, cwd)
    assert invalid.returncode == 1 and "specs/bad.yaml:5:18: error OBS204" in invalid.stderr


def test_precommit_snippet(project: Project, hook_source: HookSource) -> None:
    config = snippet("repos")
    (repo,) = config["repos"]  # type: ignore[misc]
    assert repo["repo"].endswith("/obsgen")  # the README's placeholder, replaced by this checkout
    repo.update(repo=str(hook_source.repo), rev=hook_source.rev)
    project.write(".pre-commit-config.yaml", yaml.safe_dump(config, sort_keys=False))
    project.write("specs/app.yaml", GOOD)
    assert project.obsgen("render", "specs/app.yaml").returncode == 0
    result = project.pre_commit("--all-files")
    assert result.returncode == 0, result.stdout
    assert re.search(r"^obsgen validate\.+Passed$", result.stdout, re.MULTILINE)
    assert re.search(r"^obsgen render --check\.+Passed$", result.stdout, re.MULTILINE)
    project.write("specs/app.yaml", GOOD + "  cache: {kind: cache}\n")
    result = project.pre_commit("--all-files")
    assert result.returncode == 1 and "generated/app/ is stale" in result.stdout


@pytest.mark.parametrize("key", ["jobs", "obsgen", "repos"])
def test_each_snippet_is_in_the_readme_once(key: str) -> None:
    assert len([s for s in ci_snippets() if key in s]) == 1
