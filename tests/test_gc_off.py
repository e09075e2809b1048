"""The CLI runs without CPython's cyclic collector (obsgen.cli.run): speed machinery that must change nothing.

benchmarks/machinery.py measures what it saves (a piece stays only at >= 20% of shop's or a 1,000-service
render's time, issue 15); these tests prove it is really off in a command, really on again where the command
runs for minutes (``traffic``) and in the benchmark's "without it" variant, and that the output is the same
byte for byte either way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

_ENV = {"PATH": "/usr/bin:/bin", "OBSGEN_NO_CACHE": "1"}

_STATE_AFTER = """
import gc, sys
{prelude}
import obsgen.cli
sys.argv = ["obsgen", *{args!r}]
try:
    obsgen.cli.run()
except SystemExit:
    pass
print("GC", gc.isenabled(), file=sys.stderr)
"""


def _gc_after(args: list[str], prelude: str = "") -> bool:
    proc = subprocess.run([sys.executable, "-c", _STATE_AFTER.format(prelude=prelude, args=args)], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=_ENV)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("GC ")]
    assert line, proc.stderr[-2000:]
    return line[-1] == "GC True"


def test_a_command_runs_without_the_cyclic_collector() -> None:
    assert _gc_after(["validate", "specs/shop.yaml"]) is False


def test_the_benchmark_variant_keeps_it_on() -> None:
    prelude = "import benchmarks.variant as variant\nvariant.switch_off({'gc'})"
    assert _gc_after(["validate", "specs/shop.yaml"], prelude) is True


def test_traffic_turns_it_back_on() -> None:
    # an invalid spec ends the command right after it starts: long enough to see the switch
    assert _gc_after(["traffic", "tests/invalid/self-call.yaml", "--otlp", "localhost:4317"]) is True


def _render(out: Path, spec: Path, *, collector_on: bool) -> dict[str, bytes]:
    command = ["-m", "benchmarks.variant", "--off", "gc", "--"] if collector_on else ["-m", "obsgen"]
    proc = subprocess.run([sys.executable, *command, "render", str(spec), "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, check=False, env=_ENV)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("services", [None, 60])
def test_the_output_is_the_same_with_the_collector_on(tmp_path: Path, services: int | None) -> None:
    from benchmarks.synth import write_spec

    spec = ROOT / "specs" / "shop.yaml" if services is None else write_spec(services, tmp_path)
    off = _render(tmp_path / "off", spec, collector_on=False)
    on = _render(tmp_path / "on", spec, collector_on=True)
    assert off and off == on
