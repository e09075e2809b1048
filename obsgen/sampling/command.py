"""``obsgen sampling simulate`` and ``obsgen sampling explain``: what the rendered tail-sampling policies keep.

Both read the tail_sampling processor obsgen renders for the spec (in memory, nothing is written:
``obsgen.targets.collector.target.tail_sampling_data``): the policies that ship, not the spec's intent.
Exit codes: 0 done, 1 invalid spec, 2 usage or I/O error (an unreadable trace file, a scenario naming unknown
services, a config the simulator cannot evaluate).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from obsgen.diagnostics import Diagnostic, sort_key, to_json

if TYPE_CHECKING:
    from obsgen.plan import Plan

SPEC_PATH = click.Path(path_type=Path, dir_okay=False, readable=False)
EXIT_INVALID, EXIT_IO = 1, 2
DEFAULT_SEED = 1
DEFAULT_DURATION = 300.0


def _plan(spec: Path, fmt: str) -> Plan:
    from obsgen.generate import plan_spec

    result = plan_spec(spec, str(spec))
    if result.plan is None or not result.ok:
        _diagnostics(result.diagnostics, fmt)
        sys.exit(EXIT_IO if any(d.code == "OBS100" for d in result.diagnostics) else EXIT_INVALID)
    return result.plan


def _diagnostics(diags: list[Diagnostic], fmt: str) -> None:
    if fmt == "json":
        click.echo(to_json(diags), nl=False)
        return
    for diag in sorted(diags, key=sort_key):
        click.echo(diag.format(), err=True)


def _fail(message: str) -> None:
    click.echo(f"obsgen sampling: {message}", err=True)
    sys.exit(EXIT_IO)


@click.group()
def sampling() -> None:
    """What the tail-sampling policies keep: simulate traffic, explain one trace."""


@sampling.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Seed of the synthetic traffic.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True, max=86_400), default=DEFAULT_DURATION,
              show_default=True, help="Seconds of traffic.")
@click.option("--scenario", default="", help="Degraded behaviour, e.g. errors:payment-provider=50,"
              "slow:main-service->postgresql=10,from=60.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def simulate(spec: Path, seed: int, duration: float, scenario: str, fmt: str) -> None:
    """Send seeded synthetic traffic through the rendered tail-sampling policies and report what is kept."""
    from obsgen.sampling import report
    from obsgen.sampling.engine import EngineError
    from obsgen.sampling.simulate import simulate as run
    from obsgen.sampling.synth import Scenario
    from obsgen.targets.collector.target import tail_sampling_data

    plan = _plan(spec, fmt)
    try:
        parsed = Scenario.parse(scenario) if scenario else None
        path, block = tail_sampling_data(plan)
        result = run(plan.spec, block, seed=seed, duration_s=duration,
                     scenario=parsed, replicas=plan.spec.collector.replicas,
                     config_path=path, spec_name=plan.name)
    except (EngineError, ValueError) as exc:
        _fail(str(exc))
        return
    click.echo(report.to_json(result) if fmt == "json" else report.to_text(result), nl=False)


@sampling.command()
@click.argument("spec", type=SPEC_PATH)
@click.argument("trace", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def explain(spec: Path, trace: Path, fmt: str) -> None:
    """Which policies match one trace (OTLP JSON: the file exporter's or Tempo's) and the final decision."""
    from obsgen.sampling import explain as explaining
    from obsgen.sampling.engine import EngineError
    from obsgen.sampling.otlp import OtlpJsonError, read_trace
    from obsgen.targets.collector.target import tail_sampling_data

    plan = _plan(spec, fmt)
    try:
        text = trace.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{trace}: cannot read: {exc}")
        return
    try:
        trace_id, spans, size = read_trace(text)
        _, block = tail_sampling_data(plan)
        result = explaining.explain(block, trace_id, spans, size)
    except (OtlpJsonError, EngineError) as exc:
        _fail(f"{trace}: {exc}")
        return
    click.echo(explaining.to_json(result) if fmt == "json" else explaining.to_text(result), nl=False)
