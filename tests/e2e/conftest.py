"""The end-to-end run, once per test session: every case's stack at once, results shared as JSON.

All cases run concurrently (threads; the processes are mostly idle, waiting for the phases), so the e2e takes
one case's time. Under xdist the results go to the run's common temp dir behind a lock: the first worker that
needs them runs the stacks, any other reads the file (``make test`` also groups the e2e tests on one worker).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fcntl
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests import realtools
from tests.e2e.cases import CASES
from tests.e2e.scenario import Run


def _run_all(workdir: Path, otelcol: str, prometheus: str) -> dict[str, Any]:
    sender = os.environ.get("OBSGEN_E2E_SENDER") or None  # "own": the harness's sender for every case
    for name in CASES:
        (workdir / name).mkdir(parents=True, exist_ok=True)
    runs = {name: Run(name, case, workdir / name, otelcol, prometheus, sender=sender) for name, case in CASES.items()}
    out: dict[str, Any] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {name: pool.submit(run.run) for name, run in runs.items()}
        for name, future in futures.items():
            try:
                out[name] = dataclasses.asdict(future.result())
            except Exception as exc:  # one broken stack must not hide the others' results
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


@pytest.fixture(scope="session")
def e2e_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    otelcol = realtools.require("otelcol")
    prometheus = realtools.require("prometheus")
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    results = root / "e2e-results.json"
    with (root / "e2e.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not results.exists():
            data = _run_all(root / "e2e", otelcol, prometheus)
            results.write_text(json.dumps(data), encoding="utf-8")
    return dict(json.loads(results.read_text(encoding="utf-8")))


@pytest.fixture(params=sorted(CASES))
def observed(request: pytest.FixtureRequest, e2e_results: dict[str, Any]) -> dict[str, Any]:
    """One case's observations (fails when its stack could not run)."""
    result = e2e_results[request.param]
    if "error" in result:
        pytest.fail(f"{request.param}: the end-to-end run failed: {result['error']}")
    return dict(result)
