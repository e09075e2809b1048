"""Fixtures for the live Prometheus tests: scenario data as TSDB blocks, and servers over it.

``live_prometheus(scenario, rule_files=())`` is the one entry point tests need: it returns a running
``LivePrometheus`` over a private copy of the scenario's blocks, with ``rule_files`` loaded and their
recording rules backfilled over the scenario window. Servers are cached for the session per
(scenario, rule file contents) and all stopped at the end of the session, whatever happened.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.live import synthetic
from tests.live.prometheus import LivePrometheus, backfill_recording_rules, import_openmetrics, load_rules

ScenarioBlocks = Callable[[synthetic.Scenario], Path]
StartPrometheus = Callable[..., LivePrometheus]


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    """Path of the Prometheus server (fails in CI, skips elsewhere, when missing)."""
    return require_tool("prometheus")


@pytest.fixture(scope="session")
def promtool_bin() -> str:
    """Path of promtool."""
    return require_tool("promtool")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def scenario_blocks(tmp_path_factory: pytest.TempPathFactory, promtool_bin: str) -> ScenarioBlocks:
    """``scenario_blocks(name)``: a directory of TSDB blocks holding the scenario (read-only: copy it).

    Built once per test run and shared by xdist workers (a lock file in the run's common temp dir), keyed
    by the generator's source so an edit to the tables rebuilds it.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    key = hashlib.sha256(Path(synthetic.__file__).read_bytes()).hexdigest()[:12]
    cache = root / f"live-blocks-{key}"
    cache.mkdir(exist_ok=True)

    def build(scenario: synthetic.Scenario) -> Path:
        dest = cache / scenario
        with _locked(cache / f"{scenario}.lock"):
            if not (dest / ".complete").exists():
                shutil.rmtree(dest, ignore_errors=True)
                staging = cache / f"{scenario}.staging"
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir()
                text = synthetic.write_openmetrics(scenario, cache / f"{scenario}.om")
                try:
                    import_openmetrics(promtool_bin, text, staging)
                finally:
                    text.unlink(missing_ok=True)  # ~100 MB of text; the blocks are a few MB
                (staging / ".complete").touch()
                staging.rename(dest)
        return dest

    return build


@pytest.fixture(scope="session")
def live_prometheus(tmp_path_factory: pytest.TempPathFactory, prometheus_bin: str, promtool_bin: str,
                    scenario_blocks: ScenarioBlocks) -> Iterator[StartPrometheus]:
    """``live_prometheus(scenario, rule_files=())`` -> a running server with the scenario's data.

    Recording rules in ``rule_files`` are backfilled over ``[synthetic.T_START, synthetic.T_END]`` (in
    dependency levels), so alert expressions that read recorded series can be evaluated at ``T_END``.
    """
    servers: dict[tuple[object, ...], LivePrometheus] = {}

    def start(scenario: synthetic.Scenario, rule_files: Sequence[Path] = ()) -> LivePrometheus:
        files = tuple(Path(p) for p in rule_files)
        key = (scenario, *(hashlib.sha256(p.read_bytes()).hexdigest() for p in files))
        if key in servers and servers[key].process is not None:
            return servers[key]
        work = tmp_path_factory.mktemp(f"live-{scenario}")
        data = work / "data"
        shutil.copytree(scenario_blocks(scenario), data, ignore=shutil.ignore_patterns(".complete"))
        server = LivePrometheus(prometheus_bin, data, files, workdir=work)
        servers[key] = server  # registered first: stopped at session end even if start or backfill fails
        server.start()
        if files:
            backfill_recording_rules(server, promtool_bin, load_rules(files), synthetic.T_START, synthetic.T_END)
        return server

    try:
        yield start
    finally:
        for server in servers.values():
            server.stop()
