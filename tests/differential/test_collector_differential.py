"""Differential test: obsgen's strict Collector model against the real ``otelcol validate`` (0.159.0).

Every case of ``collector_corpus`` goes through ``obsgen lint`` (in-process) and through the Collector
binary obsgen builds with exactly its components; both must accept or both reject. Cases the model
cannot decide carry their reason in the corpus and are listed, not compared. The binary runs two at a
time (the machine has two cores); nothing is cached, so a changed binary or model is always seen.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from obsgen.lint.kinds import COLLECTOR, Options
from obsgen.lint.run import lint_text
from tests.differential.collector_corpus import ENV, Case, corpus
from tests.differential.startup import start
from tests.realtools import require

# The cases the model cannot decide, each with its reason in the corpus (Case.undecidable); a new one
# must be added here on purpose.
UNDECIDABLE = {
    "golden:tests/golden/scaleout/otel-collector/gateway.yaml",  # k8s resolver (checked with static too)
    "golden:tests/golden/kubernetes/otel-collector/gateway.yaml",  # likewise
    "id:extension-pprof", "id:extension-zpages",  # not in obsgen's Collector build
    "policy-block:ottl-bad-condition",  # OTTL syntax
    "value:balancer-unknown",  # gRPC balancer registry
}


@dataclass(frozen=True)
class Verdict:
    case: Case
    lint_ok: bool
    lint_says: str
    tool_ok: bool
    tool_says: str


def run_otelcol(binary: str, config: Path) -> tuple[bool, str]:
    """``otelcol validate``'s verdict on one file, and its last line of output (the reason)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **ENV}
    proc = subprocess.run([binary, "validate", f"--config={config}"], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return proc.returncode == 0, lines[-1] if lines else ""


def tool_verdict(binary: str, case: Case, path: Path) -> tuple[bool, str]:
    """``validate``; when it accepts, the start-up decides (see ``startup``)."""
    ok, says = run_otelcol(binary, path)
    if not ok:
        return ok, says
    ok, says = start(binary, case.config, path.with_suffix(".start.yaml"), ENV)
    return ok, ("start-up: " + says) if says else ""


def judge(cases: list[Case], binary: str, workdir: Path) -> list[Verdict]:
    """Both verdicts for every case (the binary two at a time)."""
    paths = []
    for index, case in enumerate(cases):
        path = workdir / f"case-{index:04d}.yaml"
        path.write_text(case.text(), encoding="utf-8")
        paths.append(path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        tool = list(pool.map(lambda item: tool_verdict(binary, *item), zip(cases, paths, strict=True)))
    out = []
    for case, path, (tool_ok, tool_says) in zip(cases, paths, tool, strict=True):
        result = lint_text(case.text(), str(path), kind=COLLECTOR, options=Options())
        errors = [d for d in result.diagnostics if d.is_error]
        lint_says = "; ".join(f"{d.path}: {d.message}" for d in errors[:2])
        out.append(Verdict(case, not errors, lint_says, tool_ok, tool_says))
    return out


def test_corpus_is_large_and_deterministic() -> None:
    first, second = corpus(), corpus()
    assert len(first) >= 300
    assert [(c.name, c.text()) for c in first] == [(c.name, c.text()) for c in second]


def test_undecidable_cases_are_the_listed_ones() -> None:
    found = {c.name: c.undecidable for c in corpus() if c.undecidable}
    assert set(found) == UNDECIDABLE
    assert all(len(reason) > 40 for reason in found.values())


def test_strict_model_agrees_with_otelcol_validate(tmp_path: Path) -> None:
    binary = require("otelcol")
    cases = corpus()
    verdicts = judge(cases, binary, tmp_path)
    undecidable = [v for v in verdicts if v.case.undecidable]
    compared = [v for v in verdicts if not v.case.undecidable]
    # both sides must have something to say: a corpus where everything passes (or fails) proves nothing
    assert sum(v.tool_ok for v in compared) >= 50
    assert sum(not v.tool_ok for v in compared) >= 150
    disagreements = [v for v in compared if v.lint_ok != v.tool_ok]
    report = "\n".join(
        f"- {v.case.name}: lint {'accepts' if v.lint_ok else 'rejects'} ({v.lint_says or '-'}); otelcol "
        f"{'accepts' if v.tool_ok else 'rejects'} ({v.tool_says or '-'})"
        for v in disagreements
    )
    assert not disagreements, f"{len(disagreements)} of {len(compared)} cases disagree:\n{report}"
    assert all(v.case.undecidable for v in undecidable)
