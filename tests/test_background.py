"""The second process that renders the sampling report: same result as in-process, and never a lost result."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from obsgen.emit import background
from obsgen.generate import generate

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not background.parallel_allowed(), reason="no fork here (or OBSGEN_JOBS=1)")


@needs_fork
def test_the_work_runs_in_another_process() -> None:
    assert background.start(os.getpid).join() != os.getpid()


def test_one_job_keeps_the_work_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OBSGEN_JOBS", "1")
    assert not background.parallel_allowed()
    assert background.start(os.getpid).join() == os.getpid()


@pytest.fixture
def jobs(monkeypatch: pytest.MonkeyPatch) -> list[background.Job[object]]:
    """Every job started while the test runs."""
    started: list[background.Job[object]] = []
    original = background.start

    def start(fn: object) -> background.Job[object]:
        job = original(fn)  # type: ignore[arg-type]
        started.append(job)
        return job

    monkeypatch.setattr(background, "start", start)
    return started


@needs_fork
def test_a_result_comes_back_whole() -> None:
    big = {"text": "x" * 5_000_000, "items": list(range(100_000))}  # more than a pipe buffer holds
    job = background.start(lambda: (os.getpid(), big))
    pid, value = job.join()
    assert value == big and pid != os.getpid() and job.delivered


@needs_fork
def test_asking_twice_gives_the_same_result_without_redoing_the_work() -> None:
    job = background.start(lambda: object())
    assert job.join() is job.join()


def test_join_after_cancel_is_an_error() -> None:
    job = background.start(os.getpid)
    job.cancel()
    with pytest.raises(RuntimeError):
        job.join()


@needs_fork
def test_a_result_arrives_when_someone_else_reaps_the_child() -> None:
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps children itself
    try:
        job = background.start(os.getpid)
        assert job.join() != os.getpid() and job.delivered
    finally:
        signal.signal(signal.SIGCHLD, previous)


@needs_fork
def test_an_exception_is_raised_here_with_its_type() -> None:
    def fails() -> None:
        raise KeyError("broken check")

    job = background.start(fails)
    with pytest.raises(KeyError, match="broken check"):
        job.join()


@needs_fork
def test_a_killed_child_costs_time_not_the_result() -> None:
    parent = os.getpid()

    def work() -> int:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
        return 42

    assert background.start(work).join() == 42


@needs_fork
def test_a_cancelled_child_is_stopped_and_reaped_and_the_work_not_redone(tmp_path: Path) -> None:
    marker = tmp_path / "ran-here"
    parent = os.getpid()

    def work() -> None:
        if os.getpid() == parent:
            marker.touch()  # cancel must never fall back to doing the work here
        time.sleep(60)

    job = background.start(work)
    pid = job._pid
    started = time.monotonic()
    job.cancel()
    assert time.monotonic() - started < 10
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left
    assert not marker.exists()
    job.cancel()  # twice is harmless


@pytest.mark.parametrize(("spec", "children"), [("specs/shop.yaml", 1), ("tests/sampling/data/odds-mixed.yaml", 1),
                                               ("tests/specs/large.yaml", 0)])
def test_two_processes_change_nothing(spec: str, children: int, monkeypatch: pytest.MonkeyPatch,
                                      jobs: list[background.Job[object]]) -> None:
    """The same artifacts, diagnostics (OBS426's included) and facts with the report child as without; a spec
    without a traffic model has no report and no traffic check, so no child."""
    two = generate(ROOT / spec, spec)
    assert len(jobs) == children and all(job.delivered == background.parallel_allowed() for job in jobs)
    monkeypatch.setenv("OBSGEN_JOBS", "1")
    one = generate(ROOT / spec, spec)
    assert [(a.path, a.text) for a in two.artifacts] == [(a.path, a.text) for a in one.artifacts]
    assert two.sorted_diagnostics() == one.sorted_diagnostics()
    assert two.facts == one.facts
    if spec == "specs/shop.yaml":  # the check that ran in the child reported
        assert len([d for d in two.diagnostics if d.code == "OBS426"]) == 5


def test_a_failure_in_the_second_process_is_reported_as_in_one(monkeypatch: pytest.MonkeyPatch,
                                                               jobs: list[background.Job[object]]) -> None:
    """Text the report could not write safely fails the render with OBS705, whichever process rendered it."""
    import obsgen.targets.sampling_report.target as report
    from obsgen.emit.escape import UnsafeText

    def unsafe(plan: object) -> list[object]:
        raise UnsafeText("a line break in a Markdown table cell")

    monkeypatch.setattr(report, "render", unsafe)
    result = generate(ROOT / "specs/shop.yaml", "shop.yaml")
    assert len(jobs) == 1 and not jobs[0].delivered  # the child failed: the parent ran it again
    assert not result.ok and not result.artifacts
    (found,) = [d for d in result.diagnostics if d.code == "OBS705"]
    assert "a line break in a Markdown table cell" in found.message


def test_a_failure_here_cancels_the_child(monkeypatch: pytest.MonkeyPatch,
                                         jobs: list[background.Job[object]]) -> None:
    import obsgen.targets.grafana.dashboards.target as dashboards

    had_child: list[bool] = []
    original = background.Job.cancel

    def cancel(self: background.Job[object]) -> None:
        had_child.append(self._pid is not None)
        original(self)

    def broken(plan: object) -> list[object]:
        raise RuntimeError("dashboards target failed")

    monkeypatch.setattr(background.Job, "cancel", cancel)
    monkeypatch.setattr(dashboards, "render", broken)
    with pytest.raises(RuntimeError, match="dashboards target failed"):
        generate(ROOT / "specs/shop.yaml", "shop.yaml")
    assert had_child == [background.parallel_allowed()]
    assert len(jobs) == 1 and not jobs[0].delivered


def test_the_sampling_report_is_rendered_in_the_second_process(monkeypatch: pytest.MonkeyPatch,
                                                               jobs: list[background.Job[object]]) -> None:
    """The report's simulation runs on the second core (a pure target no other reads); alone, or with no fork
    allowed, it is rendered here, with the same text (test_checking_in_two_processes_changes_nothing)."""
    import obsgen.targets.sampling_report.target as report
    from obsgen.emit.artifacts import Artifact

    monkeypatch.setattr(report, "render", lambda plan: [Artifact("sampling-report.md", f"{os.getpid()}\n")])
    result = generate(ROOT / "specs/shop.yaml", "shop.yaml", targets=["sampling-report"])
    assert len(jobs) == 1 and jobs[0].delivered == background.parallel_allowed()
    (art,) = result.artifacts[:-1]  # and the manifest
    assert (int(art.text) != os.getpid()) == background.parallel_allowed()


def test_no_child_when_no_target_is_checked_in_the_background(jobs: list[background.Job[object]]) -> None:
    generate(ROOT / "specs/shop.yaml", "shop.yaml", targets=["topology", "tempo"])
    assert jobs == []


_ORPHAN_PARENT = """
import os, sys, time
from obsgen.emit import background

pid_file = sys.argv[1]
if sys.argv[2] == "fallback":  # a platform without PR_SET_PDEATHSIG
    background._set_parent_death_signal = lambda: False

def work():
    with open(pid_file + ".tmp", "w") as handle:
        handle.write(str(os.getpid()))
    os.rename(pid_file + ".tmp", pid_file)
    time.sleep(60)  # a long check: the parent is killed meanwhile
    return 0

job = background.start(work)
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


@needs_fork
@pytest.mark.parametrize(("mode", "rounds"), [("prctl", 20), ("fallback", 5)])
def test_the_child_dies_with_a_killed_parent(tmp_path: Path, mode: str, rounds: int) -> None:
    """kill -9 of obsgen must not leave the checking child running as an orphan (issue 14: 5 of 30)."""
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(_ORPHAN_PARENT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    survivors = []
    for i in range(rounds):
        pid_file = tmp_path / f"child-{i}"
        parent = subprocess.Popen([sys.executable, str(script), str(pid_file), mode], env=env)
        try:
            deadline = time.monotonic() + 30
            while not pid_file.exists():
                assert parent.poll() is None and time.monotonic() < deadline, "the child never started"
                time.sleep(0.01)
            child = int(pid_file.read_text())
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait()
        deadline = time.monotonic() + 5
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        if not _gone(child):
            survivors.append(child)
            os.kill(child, signal.SIGKILL)
    assert survivors == []
