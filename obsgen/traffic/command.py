"""``obsgen traffic SPEC --otlp URL``: send the spec's synthetic traffic to an OTLP endpoint, paced.

Exit codes as the rest of the CLI: 0 everything sent and accepted, 1 invalid spec, 2 usage or I/O trouble (the
extra is missing, the endpoint refuses, spans were not accepted), 130 interrupted (after a flush and the
summary of what was sent).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from obsgen.console.terminal import term

if TYPE_CHECKING:
    from obsgen.plan import Plan
    from obsgen.sampling.synth import Scenario
    from obsgen.traffic.endpoint import Endpoint
    from obsgen.traffic.sender import Sender

EXIT_OK, EXIT_INVALID, EXIT_IO, EXIT_INTERRUPTED = 0, 1, 2, 130
PROGRESS_EVERY_S = 0.25


def _fail(message: str, code: int = EXIT_IO) -> None:
    term.failure(f"traffic: error: {message}")
    sys.exit(code)


@click.command()
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False, readable=False))
@click.option("--otlp", "url", required=True, metavar="URL",
              help="The OTLP endpoint: host:port or http(s)://host:port (gRPC), or an OTLP/HTTP base URL.")
@click.option("--protocol", type=click.Choice(["grpc", "http"]), default="grpc", show_default=True)
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Traces per second, the entry endpoints keeping their shares (default: the traffic model's).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds of traffic (traces start in [0, duration); arrivals are a Poisson process).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Generator seed: the same seed sends the same traces `obsgen sampling simulate` evaluates.")
@click.option("--scenario", "scenario_text", default=None, metavar="SCENARIO",
              help="Degrade the system: errors:SERVICE=PERCENT (its failure rate), slow:SERVICE=FACTOR or "
                   "slow:CALLER->CALLEE=FACTOR (latency times FACTOR), from=SECONDS (when it starts); "
                   "comma-separated, e.g. errors:payments-service=30,slow:main-service->postgresql=10.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds one export may take.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Format of the summary (stdout).")
@term.quiet_option
def traffic(spec: Path, url: str, protocol: str, rate: float | None, duration: float, seed: int,
            scenario_text: str | None, timeout: float, fmt: str) -> None:
    """Send SPEC's synthetic traffic as real OTLP traces (needs `pip install 'obsgen[traffic]'`).

    One OpenTelemetry SDK TracerProvider per service (resource service.name), W3C trace context across
    calls, the generator's ids, timestamps (shifted to now), attributes and errors. Point it at your own
    Collector running a rendered config to see what it keeps before production.
    """
    import gc

    gc.enable()  # a run of minutes with the SDK's exporter threads: not the batch job obsgen.cli.run assumes
    from obsgen.generate import plan_spec
    from obsgen.traffic import endpoint as endpoints
    from obsgen.traffic.sender import SdkMissing, Sender
    from obsgen.traffic.source import ScenarioError, parse_scenario

    result = plan_spec(spec, str(spec))
    for diag in result.sorted_diagnostics():
        if term.shown(diag):
            term.echo(term.diagnostic(diag), err=True)
    if result.plan is None or not result.ok:
        sys.exit(EXIT_IO if any(d.code == "OBS100" for d in result.diagnostics) else EXIT_INVALID)
    plan = result.plan
    try:
        target = endpoints.parse(url, protocol)
        scenario = parse_scenario(scenario_text, plan)
    except (endpoints.EndpointError, ScenarioError) as exc:
        _fail(str(exc))
        return
    try:
        sender = Sender(target, timeout_s=timeout)
    except SdkMissing as exc:
        _fail(str(exc))
        return
    try:
        endpoints.check_reachable(target)
    except endpoints.EndpointError as exc:
        _fail(str(exc))
        return
    _run(spec, plan, sender, target, rate, duration, seed, scenario_text, scenario, fmt, term.quiet)


def _run(spec: Path, plan: Plan, sender: Sender, target: Endpoint, rate: float | None, duration: float, seed: int,
         scenario_text: str | None, scenario: Scenario | None, fmt: str, quiet: bool) -> None:
    from obsgen.traffic.report import Summary, Tally, progress_line
    from obsgen.traffic.schedule import Timeline
    from obsgen.traffic.source import default_rate, synthetic_traces

    rate = rate if rate is not None else default_rate(plan, scenario)
    traces = synthetic_traces(plan, seed=seed, duration_s=duration, scenario=scenario, rate=rate)
    # A progress line only for a person watching (obsgen.console.terminal's rules): stderr is a terminal that
    # is not TERM=dumb, and no --quiet or --format json. It has no colour, so NO_COLOR changes nothing.
    show = not quiet and fmt == "text" and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    tally = Tally()
    interrupted = False
    # The run's timeline is the generator's: spans start at their offsets from the run start and each is
    # ended (so exported) at its own end, as the services would; the receiver sees the arrivals simulate assumes.
    timeline = Timeline()
    wall_start_ns = time.time_ns()
    last_progress = 0.0
    try:
        for trace in traces:
            timeline.run_until(trace.start_ns)
            for end_ns, end in sender.begin(trace, wall_start_ns):
                timeline.push(end_ns, end)
            tally.add(trace)
            now = timeline.elapsed()
            if show and now - last_progress >= PROGRESS_EVERY_S:
                last_progress = now
                click.echo("\r" + progress_line(tally, now, duration) + "\033[K", nl=False, err=True)
        timeline.drain()
    except KeyboardInterrupt:
        interrupted = True
    elapsed = timeline.elapsed()
    if show:
        click.echo("\r\033[K", nl=False, err=True)
    flushed = sender.close()
    summary = Summary(str(spec), target.url, target.protocol, seed, scenario_text, rate, duration, elapsed, tally,
                      sender.sent, flushed, timeline.max_lag_s)
    if fmt == "json":
        click.echo(summary.to_json(), nl=False)
    elif not quiet:
        click.echo(summary.to_text(), nl=False)
    elif not summary.ok:  # --quiet: errors only
        for line in summary.to_text().splitlines():
            if line.startswith("error:"):
                term.failure(f"traffic: {line}")
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if summary.ok else EXIT_IO)
