"""Terminal manners: colour, ``--quiet``, the progress line, summary lines and ``--version``.

- Colour only where a person reads: the stream is a terminal and ``TERM`` is not ``dumb``. ``NO_COLOR``
  (https://no-color.org: present and not empty) always turns it off; ``FORCE_COLOR``
  (https://force-color.org: present and not empty) turns it on where no terminal is, e.g. a CI log that
  renders ANSI colours. ``NO_COLOR`` wins over ``FORCE_COLOR``. Machine formats (json, github, sarif)
  are never coloured.
- ``--quiet``: errors only. Summary lines, warnings, the progress line and other chatter are left out;
  an error diagnostic, the one-line stale advice and the exit code stay.
- The progress line: a render or validation still running after a second shows
  ``obsgen: rendering SPEC (Ns)`` on stderr, updated each second and erased when done, on a terminal
  only. It is driven by ``SIGALRM`` rather than a thread, so the render runs undisturbed in the main thread.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import IO, Any, TypeVar

import click

from obsgen.diagnostics import Diagnostic, Severity

F = TypeVar("F", bound=Callable[..., Any])

_RESET = "\x1b[0m"
_STYLES = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "ok": "\x1b[32m", "dim": "\x1b[2m",
           "add": "\x1b[32m", "remove": "\x1b[31m", "hunk": "\x1b[36m", "header": "\x1b[1m"}
PROGRESS_AFTER = 1.0
"""Seconds a render runs before the progress line appears."""


def _env_set(name: str) -> bool:
    return bool(os.environ.get(name, ""))


def colour_enabled(stream: IO[str] | None) -> bool:
    """Whether text written to ``stream`` may carry ANSI colours (see the module docstring)."""
    if _env_set("NO_COLOR"):
        return False
    if _env_set("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb" or stream is None:
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def paint(text: str, style: str, stream: IO[str] | None) -> str:
    """``text`` in ``style`` when ``stream`` takes colour, else unchanged."""
    return f"{_STYLES[style]}{text}{_RESET}" if text and colour_enabled(stream) else text


class Terminal:
    """The state one command run shares: whether ``--quiet`` was given."""

    def __init__(self) -> None:
        self.quiet = False

    # --- options -------------------------------------------------------------------------------

    def quiet_option(self, fn: F) -> F:
        """``-q/--quiet`` on a command: errors only."""

        def set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
            self.quiet = bool(value)

        return click.option("-q", "--quiet", is_flag=True, expose_value=False, is_eager=True, callback=set_quiet,
                            help="Print errors only (no summary, warnings or progress).")(fn)

    # --- output --------------------------------------------------------------------------------

    def diagnostic(self, diag: Diagnostic) -> str:
        """The text form of ``diag`` for stderr, its severity coloured on a terminal."""
        text = diag.format()
        word = diag.severity.value
        style = "error" if diag.severity is Severity.ERROR else "warning"
        marker = f": {word} {diag.code}"
        head, found, tail = text.partition(marker)
        if not found:
            return text
        return f"{head}: {paint(word, style, sys.stderr)} {diag.code}{tail}"

    def shown(self, diag: Diagnostic, strict: bool = False) -> bool:
        """Whether ``diag`` is printed: with ``--quiet`` only errors (and, with ``--strict``, warnings, which
        then fail the run too)."""
        return not self.quiet or diag.is_error or strict

    @staticmethod
    def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
        """``click.echo`` that keeps the colours :func:`paint` decided on (click strips ANSI codes from a
        stream that is no terminal, which would undo ``FORCE_COLOR``)."""
        click.echo(text, err=err, nl=nl, color=True)

    def summary(self, text: str, style: str = "ok") -> None:
        """The command's one summary line on stderr (left out with ``--quiet``)."""
        if not self.quiet:
            self.echo(paint(text, style, sys.stderr), err=True)

    def note(self, text: str) -> None:
        """An informational line on stderr (left out with ``--quiet``)."""
        if not self.quiet:
            click.echo(text, err=True)

    def failure(self, text: str) -> None:
        """A line that explains a failure: printed even with ``--quiet``."""
        self.echo(paint(text, "error", sys.stderr), err=True)

    def diff(self, text: str, stream: IO[str] | None) -> str:
        """A unified diff, its lines coloured as git colours them when ``stream`` takes colour."""
        if not text or not colour_enabled(stream):
            return text
        out = []
        for line in text.splitlines(keepends=True):
            body = line.rstrip("\n")
            end = line[len(body):]
            if body.startswith(("+++ ", "--- ")):
                out.append(paint(body, "header", stream) + end)
            elif body.startswith("@@"):
                out.append(paint(body, "hunk", stream) + end)
            elif body.startswith("+"):
                out.append(paint(body, "add", stream) + end)
            elif body.startswith("-"):
                out.append(paint(body, "remove", stream) + end)
            else:
                out.append(line)
        return "".join(out)

    # --- progress ------------------------------------------------------------------------------

    @contextmanager
    def progress(self, label: str) -> Iterator[None]:
        """Show ``obsgen: LABEL (Ns)`` on stderr while the block runs longer than ``PROGRESS_AFTER``."""
        stream = sys.stderr
        usable = (not self.quiet and stream is not None and hasattr(signal, "setitimer")
                  and threading.current_thread() is threading.main_thread())
        try:
            usable = usable and stream.isatty()
            fd = stream.fileno() if usable else -1
        except (AttributeError, ValueError, OSError):
            usable = False
        if not usable:
            yield
            return
        started = time.monotonic()
        shown = False

        def tick(signum: int, frame: object) -> None:
            nonlocal shown
            shown = True
            seconds = int(time.monotonic() - started)
            # os.write, not the stream: a handler may run while the main code is inside a stream write
            with suppress(OSError):
                os.write(fd, f"\r\x1b[2Kobsgen: {label} ({seconds}s)".encode(errors="replace"))

        previous = signal.signal(signal.SIGALRM, tick)
        signal.setitimer(signal.ITIMER_REAL, PROGRESS_AFTER, 1.0)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if shown:
                with suppress(OSError):
                    os.write(fd, b"\r\x1b[2K")  # erase the line: what follows starts clean


term = Terminal()
"""The process's terminal state (one CLI command per process)."""


# --- --version -----------------------------------------------------------------------------------

_TOOL_NAMES = {"collector": "OpenTelemetry Collector (contrib)", "tempo": "Grafana Tempo", "grafana": "Grafana",
               "prometheus": "Prometheus", "loki": "Grafana Loki"}


def version_text() -> str:
    """obsgen's version and the stack versions a spec targets when its ``stack:`` says nothing."""
    from importlib import metadata

    from obsgen.spec.models import Stack

    try:
        version = metadata.version("obsgen")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        version = "0+unknown"
    defaults = Stack().model_dump(mode="json")
    lines = [f"obsgen {version}", "targets by default (a spec's stack: section overrides these):"]
    for key, value in defaults.items():
        lines.append(f"  {_TOOL_NAMES.get(key, key)} {value}")
    if "loki" not in defaults:
        lines.append("  Grafana Loki: not pinned (obsgen writes no Loki config, only Grafana's Loki datasource and "
                     "the trace-to-logs queries)")
    return "\n".join(lines) + "\n"


def version_option(fn: F) -> F:
    """``--version``: :func:`version_text`, then exit 0."""

    def show(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            click.echo(version_text(), nl=False)
            ctx.exit(0)

    return click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=show,
                        help="Show obsgen's version and the tool versions it targets by default.")(fn)
