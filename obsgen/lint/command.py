"""The ``obsgen lint`` command: arguments, output in validate's formats, exit codes."""

from __future__ import annotations

import re
import sys

import click

from obsgen.ci.formats import FORMATS, format_report
from obsgen.lint import KINDS

EXIT_OK, EXIT_FINDINGS, EXIT_IO = 0, 1, 2


def _version(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int, int] | None:
    if value is None:
        return None
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", value)
    if match is None:
        raise click.BadParameter(f"{value!r} is not a version such as 0.159.0")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


@click.command("lint")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Kind of every FILE (default: told from each file's content).")
@click.option("--collector-version", callback=_version, default=None, metavar="X.Y.Z",
              help="Collector version a Collector config is checked against (default: obsgen's default).")
@click.option("--tempo-version", callback=_version, default=None, metavar="X.Y.Z",
              help="Tempo version (2.x or 3.x; default: told from the file, else obsgen's default).")
@click.option("--allow-unknown-components", is_flag=True,
              help="Collector components obsgen does not model are accepted unchecked (their ids still count).")
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text, json, github (Actions annotations) or sarif (SARIF 2.1.0).")
def lint(files: tuple[str, ...], kind: str | None, collector_version: tuple[int, int, int] | None,
         tempo_version: tuple[int, int, int] | None, allow_unknown_components: bool, strict: bool,
         fmt: str) -> None:
    """Check existing config files (Collector, Tempo, Grafana provisioning and dashboards, Prometheus
    rules) with obsgen's strict models; diagnostics as in validate (file:line:col: severity CODE path).

    Exit 0 when every file is clean, 1 on findings, 2 when a file cannot be read or its kind told.
    """
    from obsgen.diagnostics import sort_key, to_json
    from obsgen.lint.kinds import Options
    from obsgen.lint.run import lint_file

    if tempo_version is not None and tempo_version[0] not in (2, 3):
        raise click.BadParameter("obsgen models Tempo 2.x and 3.x", param_hint="--tempo-version")
    options = Options(tempo_major=tempo_version[0] if tempo_version else None,
                      allow_unknown_components=allow_unknown_components)
    if collector_version is not None:
        options = Options(collector_version, options.tempo_major, allow_unknown_components)
    results = [lint_file(name, kind=kind, options=options) for name in files]
    diags = [d for r in results for d in r.diagnostics]
    if fmt == "json":
        click.echo(to_json(diags, {"files": {r.file: r.kind for r in results}}), nl=False)
    elif fmt in ("github", "sarif"):
        click.echo(format_report(diags, fmt), nl=False)
    else:
        for diag in sorted(diags, key=sort_key):
            click.echo(diag.format(), err=True)
    if any(not r.checked for r in results):
        sys.exit(EXIT_IO)
    if any(d.is_error for d in diags) or (strict and diags):
        sys.exit(EXIT_FINDINGS)
    if fmt in ("text", "github"):
        warnings = f", {len(diags)} warning(s)" if diags else ""
        click.echo(f"{len(results)} file(s) clean{warnings}", err=True)
    sys.exit(EXIT_OK)
