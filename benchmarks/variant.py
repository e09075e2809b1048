"""Run the ``obsgen`` command with pieces of speed machinery switched off (a benchmark-only hook).

    python -m benchmarks.variant --off emitters -- render --check specs/shop.yaml

Each piece is replaced by the reference path it stands in for, so a run without it does exactly the
same work the slow way (the output is byte-identical: the differential tests prove the two paths
agree). Nothing here is reachable from ``obsgen`` itself: the switches exist only in this process.

- ``emitters``: YAML through PyYAML's emitter (``dump_yaml_reference``), JSON through ``json.dumps``
  with ``indent=2`` instead of ``obsgen/emit/fast.py``'s direct writers.
- ``gc``: CPython's cyclic garbage collector stays on (``obsgen.cli.run`` turns it off for the command).
- ``documents`` (a before/after switch, not in ``PIECES``): artifacts carry no document
  (``Artifact.document``), so every check parses its artifact's text back, as before issue 15's change.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys

PIECES = ("emitters", "gc")
# Not speed machinery of issue 15's list, but switchable the same way for before/after measurements.
EXTRA = ("documents",)


def _module(*names: str) -> object:
    """The first of ``names`` that imports (module paths before and after the layout move)."""
    for name in names:
        with contextlib.suppress(ModuleNotFoundError):
            return importlib.import_module(name)
    raise ModuleNotFoundError(names[0])


def _json_reference(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def switch_off(pieces: set[str]) -> None:
    """Replace each named piece by its reference path in this process."""
    unknown = pieces - set(PIECES) - set(EXTRA)
    if unknown:
        raise SystemExit(f"unknown piece(s): {', '.join(sorted(unknown))}; known: {', '.join(PIECES + EXTRA)}")
    if "emitters" in pieces:
        templates = _module("obsgen.emit.commented_yaml", "obsgen.emit.templates", "obsgen.render")
        reference = _module("obsgen.emit.reference", "obsgen.render")
        artifacts = _module("obsgen.emit.artifacts", "obsgen.artifacts")
        templates.block_yaml = reference.dump_yaml_reference  # type: ignore[attr-defined]
        artifacts.indented_json = _json_reference  # type: ignore[attr-defined]
        if hasattr(artifacts, "yaml_document"):  # yaml_artifact/json_artifact: the reference text, parsed back
            artifacts.yaml_document = lambda data: (reference.dump_yaml_reference(data), None)  # type: ignore[attr-defined]
            artifacts.json_document = lambda data: (_json_reference(data), None)  # type: ignore[attr-defined]
    if "gc" in pieces:
        import gc

        gc.disable = lambda: None  # obsgen.cli.run's call does nothing: collections run as CPython schedules them
    if "documents" in pieces:
        artifacts = _module("obsgen.emit.artifacts")
        fast_yaml, fast_json = artifacts.yaml_document, artifacts.json_document  # type: ignore[attr-defined]
        artifacts.yaml_document = lambda data: (fast_yaml(data)[0], None)  # type: ignore[attr-defined]
        artifacts.json_document = lambda data: (fast_json(data)[0], None)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    """Parse ``--off``, switch the pieces off, then run ``obsgen`` with the rest of the arguments."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--off", default="", help=f"comma-separated pieces to switch off: {', '.join(PIECES)}")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    ns = parser.parse_args(argv)
    pieces = {p for p in ns.off.split(",") if p}
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    switch_off(pieces)
    cli = _module("obsgen.cli")
    sys.argv = ["obsgen", *args]
    cli.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
