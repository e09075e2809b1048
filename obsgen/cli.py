"""Command line: parse arguments, call the core, print diagnostics, set the exit code.

Exit codes: 0 success, 1 invalid spec or stale output, 2 usage or I/O error; `diff` follows diff(1):
0 no changes, 1 changes, 2 trouble (invalid spec included).
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from pathlib import Path
from typing import ClassVar

import click

from obsgen.ci.formats import FORMATS, format_report, github_stale
from obsgen.console import summaries
from obsgen.console.paths import diff_prefix
from obsgen.console.terminal import term, version_option
from obsgen.diagnostics import Diagnostic, Severity, to_json
from obsgen.output import cache

EXIT_OK, EXIT_INVALID, EXIT_IO = 0, 1, 2
# obsgen reads a spec itself: an unreadable one is its own positioned OBS100 (exit 2), not click's usage error.
SPEC_PATH = click.Path(path_type=Path, dir_okay=False, readable=False)


# Above the loader's MAX_SPEC_BYTES, so the loader still sees (and reports, OBS105) an oversized spec
# from these bytes; bounded, so a huge file is never read whole (tests/test_cache.py checks the order).
_SPEC_READ_LIMIT = 16 * 1024 * 1024


def _read_spec(spec: Path) -> bytes | None:
    """The spec's bytes, read once: the cache key and the render both use exactly these. None when the
    file cannot be read (the loader then reports why, OBS100)."""
    try:
        with spec.open("rb") as handle:
            return handle.read(_SPEC_READ_LIMIT)
    except OSError:
        return None


def _cache_entry(spec: Path, data: bytes | None, command: str) -> tuple[str | None, dict[str, object] | None]:
    """(key, entry) of a cached result for ``command`` on ``spec``; (None, None) when uncacheable."""
    if data is None or not cache.enabled():
        return None, None
    entry_key = cache.key(data, str(spec), command)
    return entry_key, cache.lookup(entry_key, command)


def _cached_diagnostics(entry: dict[str, object]) -> list[Diagnostic]:
    out = []
    for item in entry["diagnostics"]:  # type: ignore[attr-defined]
        data = dict(item)
        data["severity"] = Severity(data["severity"])
        out.append(Diagnostic(**data))
    return out


def _diagnostics_data(diags: list[Diagnostic]) -> list[dict[str, object]]:
    return [d.to_json_data() for d in diags]


def _report(diags: list[Diagnostic], fmt: str, extra: dict[str, object] | None = None, strict: bool = False) -> None:
    from obsgen.diagnostics import sort_key

    diags = [d for d in diags if term.shown(d, strict)] if fmt in ("text", "github") else diags  # --quiet
    if fmt == "json":
        click.echo(to_json(diags, extra), nl=False)
        return
    if fmt in ("github", "sarif"):  # CI formats: workflow commands, or a SARIF log for code scanning
        click.echo(format_report(diags, fmt), nl=False)
        return
    for diag in sorted(diags, key=sort_key):
        term.echo(term.diagnostic(diag), err=True)


def _exit_for(diags: list[Diagnostic], strict: bool) -> int:
    if any(d.is_error for d in diags):
        return EXIT_INVALID
    if strict and diags:
        return EXIT_INVALID
    return EXIT_OK


def _emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it to ``output``; a file that cannot be written is an I/O error (exit 2)."""
    if output is None:
        click.echo(text, nl=False)
        return
    from obsgen.output.errors import write_failure

    failure = write_failure(output, text)
    if failure is not None:
        click.echo(failure.format(), err=True)
        sys.exit(EXIT_IO)


def _out_dir(spec: Path, out: Path | None) -> Path:
    """The output directory: ``--out``, else ``generated/<spec file stem>`` below the working directory."""
    return out if out is not None else Path("generated") / spec.stem


def _io_failure(diags: list[Diagnostic]) -> bool:
    return any(d.code in ("OBS100",) for d in diags)


def run() -> None:
    """The ``obsgen`` command: ``main``, then a last flush that a reader gone away cannot turn into a traceback.

    A pipe's reader may close early (``obsgen ... | head``) and a caller may close stdout (``>&-``). The
    failed flush makes the exit code EXIT_IO; the broken stream is then pointed at /dev/null, so that the
    interpreter's own flush at exit has nothing to complain about (the Python docs' "Note on SIGPIPE", in
    the ``signal`` module, recommends exactly this).
    """
    # obsgen's spec models are its own: a pydantic plugin installed beside it (logfire's, say) has nothing to
    # observe there, and finding plugins reads the entry points of every installed distribution (pydantic
    # plugin/_loader.py get_plugins, ~20 ms with 55 of them) on every run. Set to anything else, it is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # A command is a short batch job that makes almost no reference cycles (a 1,000-service render holds 4% more
    # memory without collections, a 300 s `sampling simulate` none), so CPython's cyclic collector would only
    # traverse the growing heap again and again: ~20% of a 1,000-service render, ~6% of shop's
    # (benchmarks/README.md, "Speed machinery"). `traffic`, which runs for minutes with the OpenTelemetry SDK's
    # threads, turns it back on.
    gc.disable()
    try:
        main()  # click's standalone mode always ends in SystemExit
    except SystemExit as exc:
        code = exc.code
    except OSError as exc:  # writing to stdout failed (a full disk, a reader gone away): no traceback
        with contextlib.suppress(OSError, ValueError, AttributeError):
            print(f"obsgen: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        code = EXIT_IO
    else:  # pragma: no cover - standalone mode never returns
        code = 0
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message"): Python prints it and exits with 1
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None when the descriptor was closed (`obsgen ... >&-`)
                stream.flush()
        except (OSError, ValueError):  # the reader of a pipe went away; a stream closed by the caller
            code = code or EXIT_IO
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    sys.exit(code)


class _LazyGroup(click.Group):
    """A group whose sub-command packages are imported when that command runs, not at every start-up.

    ``obsgen init``'s Collector importer alone pulls in the dashboard builders, which ``validate`` and
    ``render --check`` would otherwise pay on every run.
    """

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {
        "lint": ("obsgen.lint.command", "lint"),  # hand-written configs through the strict models
        "init": ("obsgen.starter.command", "init"),  # a commented starter spec (obsgen/starter/)
        "sampling": ("obsgen.sampling.command", "sampling"),  # simulate|explain: what the rendered policies keep
        "traffic": ("obsgen.traffic.command", "traffic"),  # synthetic traces to a real Collector
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY and cmd_name not in self.commands:
            import importlib

            module, attr = self.LAZY[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@version_option
def main() -> None:
    """obsgen: one service-topology spec, the whole tracing stack's configs generated from it."""




@main.command()
@click.argument("specs", nargs=-1, required=True, type=SPEC_PATH)
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text; json; github (Actions annotations); sarif (SARIF 2.1.0 for code scanning).")
@term.quiet_option
def validate(specs: tuple[Path, ...], strict: bool, fmt: str) -> None:
    """Check specs and print diagnostics (file:line:col: severity CODE path: message).

    Renders every artifact in memory (nothing is written) so the strict models, the cross-artifact
    checks and the rule lint run too. An unchanged spec is answered from obsgen's cache.
    """

    all_diags: list[Diagnostic] = []
    io_error = False
    failed: set[str] = set()
    series: dict[str, dict[str, int]] = {}
    for spec in specs:
        data = _read_spec(spec)
        entry_key, hit = _cache_entry(spec, data, "validate")
        hit_diags = _usable_diagnostics(hit)
        if hit is not None and hit_diags is not None:
            all_diags.extend(hit_diags)
            series[str(spec)] = hit["series"]  # type: ignore[assignment]
            if _exit_for(hit_diags, strict) != EXIT_OK:
                failed.add(str(spec))
            continue
        from obsgen.generate import generate, rule_selectors
        from obsgen.plan.cardinality import estimate, rule_series

        with term.progress(f"validating {spec}"):
            result = generate(spec, str(spec), data=data)
        all_diags.extend(result.diagnostics)
        if _io_failure(result.diagnostics) or _exit_for(result.diagnostics, strict) != EXIT_OK:
            failed.add(str(spec))
        io_error = io_error or _io_failure(result.diagnostics)
        if result.plan is not None:
            est = estimate(result.plan, [r for f in result.facts for r in f.recordings])
            series[str(spec)] = {"total": est.total, "span_metrics": est.span_metrics,
                                 "service_graph": est.service_graph, "recording_rules": est.recorded,
                                 "rules_read_per_evaluation": rule_series(result.plan, rule_selectors(result.facts))}
        if entry_key is not None and result.ok:
            cache.store(entry_key, "validate", _diagnostics_data(result.diagnostics), series[str(spec)])
    _report(all_diags, fmt, {"expected_series": series}, strict)
    code = EXIT_IO if io_error else _exit_for(all_diags, strict)
    if fmt in ("text", "github"):  # stderr: a CI log reads as a terminal does
        for name, counts in series.items():
            term.note(f"{name}: expected active series {counts['total']:,} (span metrics "
                      f"{counts['span_metrics']:,}, service graph {counts['service_graph']:,}, recording rules "
                      f"{counts['recording_rules']:,}); rules read "
                      f"{counts['rules_read_per_evaluation']:,} series per evaluation")
        term.summary(summaries.validate_summary([str(s) for s in specs], all_diags, failed),
                     "ok" if code == EXIT_OK else "error")
    sys.exit(code)


def _usable_diagnostics(entry: dict[str, object] | None) -> list[Diagnostic] | None:
    """The entry's diagnostics, or None when they do not make Diagnostics (an unknown code): a miss."""
    if entry is None:
        return None
    try:
        return _cached_diagnostics(entry)
    except (ValueError, TypeError):
        return None


def _render_result(spec: Path, data: bytes | None, strict: bool, fmt: str) -> tuple[object, int]:
    from obsgen.generate import generate

    with term.progress(f"rendering {spec}"):
        result = generate(spec, str(spec), data=data)
    _report(result.diagnostics, fmt, strict=strict)
    if _io_failure(result.diagnostics):
        return result, EXIT_IO
    return result, _exit_for(result.diagnostics, strict)


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Output directory (default: generated/<spec file stem>).")
@click.option("--check", is_flag=True, help="Write nothing; print a diff and exit 1 when the output is stale.")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Format of diagnostics: text, json, github (Actions annotations), sarif (SARIF 2.1.0).")
@click.option("--force", is_flag=True, help="Overwrite files obsgen does not own (not in its manifest).")
@term.quiet_option
def render(spec: Path, out: Path | None, check: bool, strict: bool, fmt: str, force: bool) -> None:
    """Render every artifact of SPEC into the output directory (atomically)."""
    out_dir = _out_dir(spec, out)
    data = _read_spec(spec)
    entry_key, hit = _cache_entry(spec, data, "render")
    diags = _usable_diagnostics(hit)
    if hit is not None and diags is not None and cache.output_matches(out_dir, hit["files"], spec.name):  # type: ignore[arg-type]
        # same spec, same obsgen, same files on disk: nothing to render, nothing to write
        _report(diags, fmt, strict=strict)
        code = _exit_for(diags, strict)
        if code == EXIT_OK:
            term.summary(summaries.up_to_date(out_dir) if check else
                         summaries.render_summary(len(hit["files"]), out_dir, 0, 0, 0))  # type: ignore[arg-type]
        sys.exit(code)

    from obsgen import output

    result, code = _render_result(spec, data, strict, fmt)
    if code != EXIT_OK:
        sys.exit(code)
    artifacts = result.artifacts  # type: ignore[attr-defined]
    if entry_key is not None:
        cache.store(entry_key, "render", _diagnostics_data(result.diagnostics),  # type: ignore[attr-defined]
                    {a.path: output.sha256(a.data) for a in artifacts})
    if check:
        changes, diff = output.unified_diff(out_dir, artifacts, diff_prefix(out_dir))
        if changes.clean:
            term.summary(summaries.up_to_date(out_dir))
            sys.exit(EXIT_OK)
        if not term.quiet:
            to_stderr = fmt == "sarif"  # stdout holds the SARIF log then
            term.echo(term.diff(diff, sys.stderr if to_stderr else sys.stdout), nl=False, err=to_stderr)
        differing = len(changes.added) + len(changes.changed) + len(changes.removed)
        term.failure(summaries.stale(spec, out_dir, out, differing))
        if fmt == "github":
            click.echo(github_stale(str(spec), summaries.shown_dir(out_dir), summaries.stale_advice(spec, out)),
                       nl=False)
        sys.exit(EXIT_INVALID)
    try:
        changes = output.write(out_dir, artifacts, force=force)
    except output.OutputError as exc:
        click.echo(f"{out_dir}: error {exc.code} {exc}", err=True)
        sys.exit(EXIT_IO)
    except OSError as exc:
        click.echo(f"{out_dir}: error OBS901 {exc}", err=True)
        sys.exit(EXIT_IO)
    for rel in changes.edited:
        term.note(f"{out_dir}/{rel}: warning: hand edits overwritten (generated files are owned by obsgen)")
    term.summary(summaries.render_summary(len(artifacts), out_dir, len(changes.added), len(changes.changed),
                                          len(changes.removed)))


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Output directory (default: generated/<spec file stem>).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing; only the exit code tells (as git diff --quiet).")
def diff(spec: Path, out: Path | None, quiet: bool) -> None:
    """Print what a render would change, then a summary.

    Exit codes, as diff(1) and `git diff --exit-code`: 0 no changes, 1 changes, 2 trouble (invalid
    spec, unreadable file, usage error).
    """
    from obsgen import output

    term.quiet = quiet
    result, code = _render_result(spec, _read_spec(spec), False, "text")
    if code != EXIT_OK:
        sys.exit(EXIT_IO)  # an invalid spec is trouble here: 1 means "there are changes"
    out_dir = _out_dir(spec, out)
    changes, text = output.unified_diff(out_dir, result.artifacts, diff_prefix(out_dir))  # type: ignore[attr-defined]
    if not quiet:
        term.echo(term.diff(text, sys.stdout), nl=False)
        click.echo(summaries.diff_summary(len(changes.added), len(changes.removed), len(changes.changed)))
    sys.exit(EXIT_OK if changes.clean else EXIT_INVALID)


@main.command()
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the schema here instead of stdout.")
def schema(output: Path | None) -> None:
    """Print the spec's JSON Schema (generated from the models)."""
    from obsgen.spec.schema import schema_text

    _emit(schema_text(), output)


@main.command()
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the reference here instead of stdout.")
def docs(output: Path | None) -> None:
    """Print the spec reference (docs/spec.md), generated from the models."""
    from obsgen.spec.docs import spec_docs

    _emit(spec_docs(), output)


@main.command()
@click.argument("spec", type=SPEC_PATH)
@click.option("--otelcol", type=str, default=None, metavar="PATH",
              help="The Collector binary (default: $OBSGEN_OTELCOL, then otelcol-contrib or otelcol on PATH).")
@click.option("--promtool", type=str, default=None, metavar="PATH",
              help="promtool (default: $OBSGEN_PROMTOOL, then PATH).")
@click.option("--tempo", type=str, default=None, metavar="PATH", help="Tempo (default: $OBSGEN_TEMPO, then PATH).")
@click.option("--require", "require", multiple=True, type=click.Choice(["otelcol", "promtool", "tempo"]),
              help="A missing TOOL is an error (exit 2), not a skip. Repeatable.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=120.0, show_default=True,
              help="Seconds each tool run may take.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify(spec: Path, otelcol: str | None, promtool: str | None, tempo: str | None, require: tuple[str, ...],
           timeout: float, fmt: str) -> None:
    """Render SPEC in memory and run the real tools on it (otelcol validate, promtool check/test rules,
    tempo -config.verify) in a private temporary directory. Exit 1 when a tool rejects an artifact, 2 when
    a required tool is missing or a tool cannot run; writes nothing to the output directory."""
    from obsgen.check import verify as verifier
    from obsgen.generate import generate

    result = generate(spec, str(spec))
    code = EXIT_IO if _io_failure(result.diagnostics) else _exit_for(result.diagnostics, False)
    report = None
    if code == EXIT_OK:
        report = verifier.verify_artifacts(result.artifacts, result.plan,  # type: ignore[arg-type]
                                           {"otelcol": otelcol, "promtool": promtool, "tempo": tempo},
                                           require, timeout)
        code = report.exit_code
    if fmt == "json":
        _report(result.diagnostics, fmt, {"spec": str(spec), "exit_code": code,
                                          "verify": verifier.to_json_data(report) if report else None})
        sys.exit(code)
    _report(result.diagnostics, fmt)
    if report is not None:
        click.echo(verifier.format_text(report), nl=False)
    sys.exit(code)
