"""Terminal manners: summary lines, colour (TTY through a pty, NO_COLOR, FORCE_COLOR), --quiet, the progress
line of a slow render, --version, repository-relative diff headers and copy-paste stale advice."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen.cli import main
from obsgen.spec.models import Stack
from tests.conftest import ROOT

GOOD = "services:\n  api: {}\n  db: {kind: database}\n"
CYCLE = "services:\n  a: {calls: [b]}\n  b: {calls: [a]}\n"  # OBS304, a warning
BAD_DURATION = (ROOT / "tests" / "invalid" / "duration-bad.yaml").read_text(encoding="utf-8")
ESC = "\x1b["
OBSGEN_BIN = Path(sys.executable).parent


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return {**base, "TERM": "xterm-256color", **extra}


def run_pty(argv: list[str], cwd: Path, environ: dict[str, str]) -> tuple[int, str]:
    """Run ``argv`` with stdin, stdout and stderr on a pseudo-terminal; (exit code, everything it wrote)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, cwd=cwd, env=environ, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed its side
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def obsgen(*args: str) -> list[str]:
    return [sys.executable, "-m", "obsgen", *args]


def piped(argv: list[str], cwd: Path, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "app.yaml").write_text(GOOD)
    (tmp_path / "specs" / "bad.yaml").write_text(BAD_DURATION)
    (tmp_path / "specs" / "cycle.yaml").write_text(CYCLE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------------------------------------------
# Summary lines


def test_one_summary_line_per_command(project: Path) -> None:
    code, _, err = cli("render", "specs/app.yaml")
    assert code == 0
    count = len(list((project / "generated" / "app").rglob("*.*")))
    assert err == f"rendered {count} files into generated/app/ ({count} added)\n"
    assert cli("render", "specs/app.yaml")[2] == f"rendered {count} files into generated/app/ (none changed)\n"
    assert cli("render", "--check", "specs/app.yaml")[2] == "generated/app/ is up to date\n"
    err = cli("validate", "specs/app.yaml")[2]
    assert err.splitlines()[-1] == "specs/app.yaml: valid (0 warnings)"
    err = cli("validate", "specs/cycle.yaml")[2]
    assert err.splitlines()[-1] == "specs/cycle.yaml: valid (1 warning)"
    code, _, err = cli("validate", "specs/app.yaml", "specs/bad.yaml")
    assert code == 1 and err.splitlines()[-1] == "2 specs: 1 valid, 1 invalid (1 error, 0 warnings)"
    (project / "specs" / "app.yaml").write_text(GOOD + "  cache: {kind: cache}\n")
    (project / "generated" / "app" / "topology.md").unlink()
    code, _, err = cli("render", "specs/app.yaml")
    assert code == 0 and re.fullmatch(r"rendered \d+ files into generated/app/ \(\d+ added, \d+ changed\)\n", err)


# ------------------------------------------------------------------------------------------------
# Colour


def test_colour_on_a_terminal_only_and_never_with_no_color(project: Path) -> None:
    code, text = run_pty(obsgen("validate", "specs/bad.yaml"), project, env())
    assert code == 1 and f"{ESC}1;31merror{ESC}0m OBS204" in text
    for off in (env(NO_COLOR="1"), env(NO_COLOR="1", FORCE_COLOR="1"), env(TERM="dumb")):
        code, text = run_pty(obsgen("validate", "specs/bad.yaml"), project, off)
        assert code == 1 and "error OBS204" in text and ESC not in text
    # no-color.org: an empty NO_COLOR does not count
    assert ESC in run_pty(obsgen("validate", "specs/bad.yaml"), project, env(NO_COLOR=""))[1]


def test_no_colour_in_a_pipe_unless_forced(project: Path) -> None:
    plain = piped(obsgen("validate", "specs/bad.yaml"), project, env())
    assert plain.returncode == 1 and "error OBS204" in plain.stderr and ESC not in plain.stderr
    forced = piped(obsgen("validate", "specs/bad.yaml"), project, env(FORCE_COLOR="1"))
    assert f"{ESC}1;31merror{ESC}0m OBS204" in forced.stderr
    # machine formats are never coloured
    github = piped(obsgen("validate", "--format", "github", "specs/bad.yaml"), project, env(FORCE_COLOR="1"))
    assert github.stdout.startswith("::error ") and ESC not in github.stdout


def test_a_stale_diff_is_coloured_on_a_terminal(project: Path) -> None:
    assert cli("render", "specs/app.yaml")[0] == 0
    (project / "specs" / "app.yaml").write_text(GOOD + "  cache: {kind: cache}\n")
    code, text = run_pty(obsgen("render", "--check", "specs/app.yaml"), project, env())
    assert code == 1 and f"{ESC}32m+| cache |" in text and f"{ESC}1m+++ b/generated/app/topology.md" in text
    code, text = run_pty(obsgen("render", "--check", "specs/app.yaml"), project, env(NO_COLOR="1"))
    text = re.sub(r"\r\x1b\[2K(obsgen: rendering [^\r\n]*)?", "", text)  # the progress line of a slow machine
    assert code == 1 and "+| cache |" in text and ESC not in text


# ------------------------------------------------------------------------------------------------
# --quiet


def test_quiet_prints_errors_only(project: Path) -> None:
    assert cli("validate", "-q", "specs/app.yaml", "specs/cycle.yaml") == (0, "", "")  # warnings left out
    code, out, err = cli("validate", "--quiet", "--strict", "specs/cycle.yaml")
    assert code == 1 and "warning OBS304" in err  # with --strict a warning fails the run: it is shown
    code, _, err = cli("validate", "-q", "specs/bad.yaml")
    assert code == 1 and err.startswith("specs/bad.yaml:5:18: error OBS204") and "(1 error" not in err
    assert cli("render", "-q", "specs/app.yaml") == (0, "", "")
    assert cli("render", "-q", "--check", "specs/app.yaml") == (0, "", "")
    (project / "specs" / "app.yaml").write_text(GOOD + "  cache: {kind: cache}\n")
    code, out, err = cli("render", "-q", "--check", "specs/app.yaml")
    assert code == 1 and out == "" and err.startswith("generated/app/ is stale (") and err.count("\n") == 1
    assert cli("diff", "-q", "specs/app.yaml") == (1, "", "")  # as git diff --quiet: the exit code only


# ------------------------------------------------------------------------------------------------
# The progress line

SLOW = """\
import sys, time
import obsgen.generate as generate
seconds = float(sys.argv[1])
real = generate.generate
def slow(*args, **kwargs):
    time.sleep(seconds)
    return real(*args, **kwargs)
generate.generate = slow
from obsgen.cli import run
sys.argv = ["obsgen", *sys.argv[2:]]
run()
"""


def slow_obsgen(seconds: float, *args: str) -> list[str]:
    """obsgen whose render takes ``seconds`` longer (the real render, after a sleep)."""
    return [sys.executable, "-c", SLOW, str(seconds), *args]


def test_progress_line_on_a_slow_render_on_a_terminal(project: Path) -> None:
    code, text = run_pty(slow_obsgen(2.5, "render", "specs/app.yaml"), project, env(NO_COLOR="1"))
    assert code == 0
    assert "\r\x1b[2Kobsgen: rendering specs/app.yaml (1s)" in text
    assert "\r\x1b[2Kobsgen: rendering specs/app.yaml (2s)" in text  # updated each second
    # erased before the summary line, which starts clean
    assert re.search(r"\(\d+s\)\r\x1b\[2Krendered \d+ files into generated/app/", text)
    code, text = run_pty(slow_obsgen(1.5, "validate", "specs/app.yaml"), project, env(NO_COLOR="1"))
    assert code == 0 and "obsgen: validating specs/app.yaml (1s)" in text


def test_no_progress_line_when_quiet_or_not_a_terminal(project: Path) -> None:
    code, text = run_pty(slow_obsgen(1.5, "render", "-q", "specs/app.yaml"), project, env())
    assert (code, text) == (0, "")
    result = piped(slow_obsgen(1.5, "render", "specs/app.yaml"), project, env())
    assert result.returncode == 0 and "obsgen: rendering" not in result.stderr and "\x1b" not in result.stderr


# ------------------------------------------------------------------------------------------------
# --version


def test_version_names_obsgen_and_the_default_stack() -> None:
    from importlib import metadata

    code, out, _ = cli("--version")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"obsgen {metadata.version('obsgen')}"
    defaults = Stack()
    assert f"  OpenTelemetry Collector (contrib) {defaults.collector}" in lines
    assert f"  Grafana Tempo {defaults.tempo}" in lines
    assert f"  Grafana {defaults.grafana}" in lines
    assert f"  Prometheus {defaults.prometheus}" in lines
    assert any(line.startswith("  Grafana Loki") for line in lines)


# ------------------------------------------------------------------------------------------------
# diff headers and stale advice


def _git_init(path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(path)], check=True)


def test_diff_headers_are_relative_to_the_git_work_tree(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _git_init(project)
    assert cli("render", "specs/app.yaml")[0] == 0
    (project / "specs" / "app.yaml").write_text(GOOD + "  cache: {kind: cache}\n")
    (project / "deploy").mkdir()
    monkeypatch.chdir(project / "deploy")  # from a subdirectory, with a relative and an absolute --out
    for out in ("../generated/app", str(project / "generated" / "app")):
        code, text, _ = cli("diff", "../specs/app.yaml", "--out", out)
        assert code == 1
        headers = [line for line in text.splitlines() if line.startswith(("--- ", "+++ "))]
        assert headers and all(h[4:] == "/dev/null" or h[4:].startswith(("a/generated/app/", "b/generated/app/"))
                               for h in headers), headers
    # the headers apply with git apply from the work tree's root
    code, text, _ = cli("diff", "../specs/app.yaml", "--out", "../generated/app")
    patch = "".join(line + "\n" for line in text.splitlines()[:-1])  # without the summary line
    subprocess.run(["git", "apply", "--check", "-"], cwd=project, input=patch, text=True, check=True)


def test_diff_headers_outside_a_work_tree_are_relative_to_the_working_directory(project: Path) -> None:
    if any((parent / ".git").exists() for parent in (project, *project.parents)):
        pytest.skip("the temporary directory is inside a git work tree")
    assert cli("render", "specs/app.yaml", "--out", str(project / "out"))[0] == 0
    (project / "specs" / "app.yaml").write_text(GOOD + "  cache: {kind: cache}\n")
    text = cli("diff", "specs/app.yaml", "--out", str(project / "out"))[1]
    assert "+++ b/out/topology.md" in text and str(project) not in text


def test_stale_advice_repeats_spec_and_out_and_can_be_pasted(project: Path) -> None:
    out = "build/obs out"  # a space: the advice quotes it for the shell
    assert cli("render", "specs/app.yaml", "--out", out)[0] == 0
    (project / "specs" / "app.yaml").write_text(GOOD + "  cache: {kind: cache}\n")
    code, _, err = cli("render", "--check", "specs/app.yaml", "--out", out)
    assert code == 1
    (advice,) = re.findall(r"run `([^`]+)`", err)
    assert advice == "obsgen render specs/app.yaml --out 'build/obs out'"
    environ = env(PATH=f"{OBSGEN_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    assert subprocess.run(["bash", "-c", advice], cwd=project, env=environ, check=False).returncode == 0
    assert cli("render", "--check", "specs/app.yaml", "--out", out)[2] == "build/obs out/ is up to date\n"
    # without --out the advice has none
    (project / "specs" / "app.yaml").write_text(GOOD)
    err = cli("render", "--check", "specs/app.yaml")[2]
    assert err.endswith("; run `obsgen render specs/app.yaml`\n")
