"""``obsgen init``: write a commented starter spec; asks nothing, overwrites nothing without ``--force``."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import click

from obsgen.console.terminal import term
from obsgen.diagnostics import Diagnostic
from obsgen.spec.types import IDENT_PATTERN
from obsgen.starter.collector_import import Imported, Skipped, import_config, read_collector_config
from obsgen.starter.schema_ref import schema_ref
from obsgen.starter.spec_text import Starter, starter_text

EXIT_INVALID, EXIT_IO = 1, 2
_IDENT = re.compile(IDENT_PATTERN)
DEFAULT_SERVICES = ("frontend", "backend")
DEFAULT_CALLS = (("frontend", "backend"),)
# Checking the spec refuses what the import could not know (an attribute typed two ways, a nesting the
# spec forbids): such a policy or dimension is listed as not imported, with the check's message.
_POLICY_PATH = re.compile(r"^sampling\.policies\[(\d+)\]")
_DIMENSION_PATH = re.compile(r"^span_metrics\.dimensions\[(\d+)\]")


def _ident(value: str, what: str) -> str:
    if not _IDENT.fullmatch(value) or ".." in value:
        raise click.BadParameter(f"{value!r} is not a valid {what}: letters, digits, '.', '_' and '-', starting "
                                 "and ending with a letter or digit, at most 63 characters, no '..'")
    return value


def _topology(services: tuple[str, ...], calls: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    if not services and not calls:
        return DEFAULT_SERVICES, DEFAULT_CALLS
    names = [_ident(s, "service name") for s in services]
    edges: list[tuple[str, str]] = []
    for call in calls:
        parts = call.split("->")
        if len(parts) != 2:
            raise click.BadParameter(f"{call!r} is not CALLER->CALLEE", param_hint="--call")
        caller, callee = (_ident(p.strip(), "service name") for p in parts)
        if caller == callee:
            raise click.BadParameter(f"{call!r} is a self call, which the spec refuses (OBS304)", param_hint="--call")
        for name in (caller, callee):
            if name not in names:
                names.append(name)
        if (caller, callee) not in edges:
            edges.append((caller, callee))
    return tuple(dict.fromkeys(names)), tuple(edges)


def _problems(text: str, path: Path, display: str) -> list[Diagnostic]:
    from obsgen.generate import plan_spec

    return plan_spec(path, display, text.encode("utf-8")).diagnostics


def _refuse(imported: Imported, diags: list[Diagnostic]) -> tuple[Imported, list[Skipped]] | None:
    """Move the policies and dimensions the spec check refused out of ``imported``; None when an error is
    about anything else (a defect of init itself)."""
    refused: list[Skipped] = []
    drop_policies: dict[int, str] = {}
    drop_dimensions: dict[int, str] = {}
    for diag in diags:
        if not diag.is_error:
            continue
        policy, dimension = _POLICY_PATH.match(diag.path), _DIMENSION_PATH.match(diag.path)
        if policy:
            drop_policies.setdefault(int(policy.group(1)), f"{diag.code} {diag.message}")
        elif dimension:
            drop_dimensions.setdefault(int(dimension.group(1)), f"{diag.code} {diag.message}")
        else:
            return None
    for index, reason in sorted(drop_policies.items()):
        line, what = imported.policy_origins[index]
        refused.append(Skipped(line, what, f"the spec check refuses it: {reason}"))
    dims = list(imported.span_metrics.get("dimensions", []))  # type: ignore[call-overload]
    for index, reason in sorted(drop_dimensions.items()):
        line, what = imported.dimension_origins[index]
        refused.append(Skipped(line, what, f"the spec check refuses it: {reason}", "span_metrics"))
    span_metrics = dict(imported.span_metrics)
    span_metrics["dimensions"] = [d for i, d in enumerate(dims) if i not in drop_dimensions]
    kept = replace(
        imported,
        policies=[p for i, p in enumerate(imported.policies) if i not in drop_policies],
        policy_origins=[o for i, o in enumerate(imported.policy_origins) if i not in drop_policies],
        span_metrics=span_metrics,
        dimension_origins=[o for i, o in enumerate(imported.dimension_origins) if i not in drop_dimensions],
    )
    return kept, refused


def _checked_text(starter: Starter, path: Path) -> tuple[str, Starter]:
    """The starter text, once the spec check accepts it; imports it refuses are listed instead."""
    text = starter_text(starter)
    for _ in range(8):  # each round removes at least one refused entry; a few rounds always suffice
        diags = _problems(text, path, starter.spec_display)
        if not any(d.is_error for d in diags):
            return text, starter
        moved = _refuse(starter.imported, diags) if starter.imported is not None else None
        if moved is None:
            break
        imported, refused = moved
        starter = replace(starter, imported=imported, refused=(*starter.refused, *refused))
        text = starter_text(starter)
    for diag in diags:
        click.echo(diag.format(), err=True)
    click.echo("obsgen init: the starter spec does not validate (a bug in obsgen init; please report it)", err=True)
    sys.exit(EXIT_INVALID)


def _exists(path: Path) -> Diagnostic:
    return Diagnostic("OBS903", "already exists; obsgen init does not overwrite a file", file=str(path),
                      hint="pass --force to overwrite it, or -o to write elsewhere")


def _rendered_components(text: str, path: Path, display: str) -> dict[str, dict[str, object]]:
    """The tail_sampling processor and span-metrics connector obsgen renders for the starter text, by kind;
    exits when the text does not render (a defect of init itself)."""
    import yaml

    from obsgen.generate import generate

    result = generate(path, display, data=text.encode("utf-8"))
    if not result.ok:
        for diag in result.diagnostics:
            term.echo(term.diagnostic(diag), err=True)
        click.echo("obsgen init: the starter spec does not render (a bug in obsgen init; please report it)", err=True)
        sys.exit(EXIT_INVALID)
    found: dict[str, dict[str, object]] = {}
    for artifact in result.artifacts:
        if not artifact.path.startswith("otel-collector/"):
            continue
        config = yaml.safe_load(artifact.text) or {}
        for kind, section, types in (("sampling", "processors", ("tail_sampling",)),
                                     ("span_metrics", "connectors", ("span_metrics", "spanmetrics"))):
            for cid, cfg in (config.get(section) or {}).items():
                if cid.split("/", 1)[0] in types and isinstance(cfg, dict):
                    found.setdefault(kind, cfg)
    return found


def _without_rendered_defaults(starter: Starter, text: str, path: Path) -> tuple[str, Starter]:
    """Leave out the settings obsgen could not import but renders with the same value anyway."""
    if starter.imported is None:
        return text, starter
    rendered = _rendered_components(text, path, starter.spec_display)
    kept = [s for s in starter.imported.skipped
            if s.field_value is None or rendered.get(s.section, {}).get(s.field_value[0], object()) != s.field_value[1]]
    if len(kept) == len(starter.imported.skipped):
        return text, starter
    starter = replace(starter, imported=replace(starter.imported, skipped=kept))
    return starter_text(starter), starter


def _write(path: Path, text: str, force: bool) -> Diagnostic | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w" if force else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        return _exists(path)
    except OSError as exc:
        return Diagnostic("OBS901", f"cannot write: {exc.strerror or exc}", file=str(path))
    return None


def _summary(starter: Starter, display: str) -> str:
    services = len(starter.services)
    calls = len(starter.calls)
    parts = [f"{services} service{'s' * (services != 1)}", f"{calls} call{'s' * (calls != 1)}"]
    if starter.imported is not None:
        imported = starter.imported
        dims = len(imported.span_metrics.get("dimensions", []))  # type: ignore[arg-type]
        parts.append(f"{len(imported.policies)} policies and {dims} dimension{'s' * (dims != 1)} imported")
        skipped = len(imported.skipped) + len(starter.refused)
        if skipped:
            parts.append(f"{skipped} item{'s' * (skipped != 1)} not imported (listed in the file)")
    return f"wrote {display} ({', '.join(parts)}); next: obsgen render {display}"


@click.command("init")
@click.option("--name", default=None, help="System name (default: the output file's name, else 'app').")
@click.option("--service", "services", multiple=True, metavar="NAME", help="A service (repeatable).")
@click.option("--call", "calls", multiple=True, metavar="A->B",
              help="A call from service A to service B (repeatable; services are added as needed).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
              help="Where to write the spec (default: specs/<name>.yaml; '-' for stdout).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--from-collector", "collector", type=str, default=None, metavar="CONFIG",
              help="Import tail-sampling policies and span-metrics dimensions from a Collector config.")
@term.quiet_option
def init(name: str | None, services: tuple[str, ...], calls: tuple[str, ...], output: Path | None, force: bool,
         collector: str | None) -> None:
    """Write a commented starter spec that validates and renders as written (asks nothing)."""
    if name is not None:
        name = _ident(name, "--name")
    elif output is not None and str(output) != "-" and _IDENT.fullmatch(output.stem) and ".." not in output.stem:
        name = output.stem
    else:
        name = "app"
    names, edges = _topology(services, calls)
    to_stdout = output is not None and str(output) == "-"
    path = Path("specs") / f"{name}.yaml" if output is None else output
    if not to_stdout:
        from obsgen.emit.escape import UnsafeText, source_file_name

        try:  # the file name goes into every generated header: refuse what the render would refuse (OBS207)
            source_file_name(path.name)
        except UnsafeText as exc:
            term.echo(term.diagnostic(Diagnostic("OBS207", str(exc), file=str(path),
                                                  hint="letters, digits, spaces and ._-+@,()=~ only")), err=True)
            sys.exit(EXIT_IO)
    if not to_stdout and path.exists() and not force:
        term.echo(term.diagnostic(_exists(path)), err=True)
        sys.exit(EXIT_IO)
    imported = None
    if collector is not None:
        from obsgen.lint.source import ReadError

        try:
            imported = import_config(read_collector_config(collector, collector))
        except ReadError as exc:
            term.echo(term.diagnostic(exc.diagnostic), err=True)
            sys.exit(EXIT_IO if exc.io else EXIT_INVALID)
    spec_dir = Path.cwd() if to_stdout else path.parent
    ref = schema_ref(spec_dir)
    display = "SPEC" if to_stdout else str(path)
    starter = Starter(name, names, edges, ref.ref, display, imported)
    check_path = Path(f"{name}.yaml") if to_stdout else path
    text, starter = _checked_text(starter, check_path)
    text, starter = _without_rendered_defaults(starter, text, check_path)
    if to_stdout:
        click.echo(text, nl=False)
        if ref.write_to is not None:
            term.note(f"the schema line points at {ref.ref} beside the spec: save the schema there with "
                      "`obsgen schema -o obsgen.schema.json`")
        return
    failure = _write(path, text, force)
    if failure is not None:
        term.echo(term.diagnostic(failure), err=True)
        sys.exit(EXIT_IO)
    if ref.write_to is not None and not ref.write_to.exists():
        from obsgen.spec.schema import schema_text

        schema_failure = _write(ref.write_to, schema_text(), False)
        if schema_failure is not None:
            term.echo(term.diagnostic(schema_failure), err=True)
            sys.exit(EXIT_IO)
    term.summary(_summary(starter, display))
