"""A real Prometheus server for tests: loopback only, a free port, a temp data dir, bounded waits.

Data gets in by backfill, never by scraping or remote write (see docs/live-prometheus.md):

1. ``import_openmetrics``: ``promtool tsdb create-blocks-from openmetrics`` turns synthetic OpenMetrics text
   into TSDB blocks in the data dir, before the server starts.
2. ``LivePrometheus``: starts ``prometheus`` on that data dir (optionally with rule files, which it also
   evaluates in real time: over no data, so harmlessly), waits for ``/-/ready``, stops it on exit.
3. ``backfill_recording_rules``: ``promtool tsdb create-blocks-from rules`` evaluates recording rules over
   the past window against the running server and writes blocks; the server is restarted to load them.
   promtool cannot see series it is creating, so rules that read other recorded series are backfilled in
   dependency levels, one restart per level.

Queries go through the HTTP API (``/api/v1/query?time=...``) with proxies disabled. The process and the API
client are the harnesses' shared ones (``tests/servers.py``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from tests.servers import LOOPBACK, HarnessError, PrometheusAPI, PromQLError, Server, ServerHandle, free_port, tool_env

__all__ = ["LivePrometheus", "PromQLError", "PrometheusError", "Rule", "backfill_recording_rules", "free_port",
           "import_openmetrics", "load_rules", "recording_levels"]

READY_TIMEOUT = 30.0  # seconds for /-/ready after start
TOOL_TIMEOUT = 120.0  # seconds per promtool run
RETENTION = "36500d"  # backfilled data is in the past: never let retention delete it at startup

PrometheusError = HarnessError
"""The server or promtool failed; the message carries the tail of its log (PromQLError: a rejected query)."""


def _run(args: Sequence[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(list(args), capture_output=True, text=True, timeout=TOOL_TIMEOUT, env=tool_env(),
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise PrometheusError(f"{what} timed out after {TOOL_TIMEOUT:.0f}s: {' '.join(args)}") from exc
    if proc.returncode != 0:
        raise PrometheusError(f"{what} failed (exit {proc.returncode}): {' '.join(args)}\n"
                              f"{proc.stdout[-4000:]}{proc.stderr[-4000:]}")
    return proc


def import_openmetrics(promtool: str, openmetrics: Path, data_dir: Path) -> list[Path]:
    """Backfill an OpenMetrics file into ``data_dir`` (created); returns the new block directories."""
    data_dir.mkdir(parents=True, exist_ok=True)
    before = set(data_dir.iterdir())
    _run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(openmetrics), str(data_dir)],
         "promtool tsdb create-blocks-from openmetrics")
    blocks = sorted(p for p in set(data_dir.iterdir()) - before if p.is_dir())
    if not blocks:
        raise PrometheusError(f"promtool wrote no blocks from {openmetrics}")
    return blocks


@dataclass
class LivePrometheus(ServerHandle):
    """A Prometheus server on a private data dir. Use as a context manager; ``stop`` is idempotent.

    ``rule_files`` are loaded (the server refuses to start on an invalid one) and evaluated in real time.
    ``url`` changes on every (re)start: a fresh free port each time.
    """

    binary: str
    data_dir: Path
    rule_files: Sequence[Path] = ()
    workdir: Path | None = None
    extra_args: Sequence[str] = ()
    port: int = 0
    _server: Server | None = field(default=None, repr=False)
    _own_workdir: bool = field(default=False, repr=False)


    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> LivePrometheus:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _config(self) -> Path:
        assert self.workdir is not None
        config = {
            "global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
            "rule_files": [str(Path(p).resolve()) for p in self.rule_files],
            "scrape_configs": [],
        }
        path = self.workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    def start(self, attempts: int = 3) -> None:
        """Start on a free loopback port and wait for ``/-/ready`` (retrying if the port was taken)."""
        if self.process is not None:
            raise PrometheusError("already running")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="live-prometheus-"))
            self._own_workdir = True
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self._config()
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            self._server = Server("prometheus", [
                self.binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--storage.tsdb.retention.time={RETENTION}",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--web.enable-lifecycle",
                "--log.level=info",
                *self.extra_args,
            ], self.workdir / f"prometheus-{self.port}.log", f"{self.url}/-/ready")
            try:
                self._server.start(READY_TIMEOUT)
                return
            except HarnessError as exc:
                last = str(exc)
                self.stop()
                if "address already in use" not in last:
                    break
        raise PrometheusError(last)

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL. Safe to call twice or after a failed start."""
        if self._server is not None:
            self._server.stop()

    def restart(self) -> None:
        """Stop and start again (a new port): how backfilled blocks get loaded."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop and remove the work dir if this object created it (the data dir belongs to the caller)."""
        self.stop()
        if self._own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server log, for error messages."""
        return self._server.log_tail(chars) if self._server is not None else "(no log)"

    # -- HTTP API ----------------------------------------------------------------------------------

    def _api(self) -> PrometheusAPI:
        if self.process is None:
            raise PrometheusError("prometheus is not running")
        return PrometheusAPI(self.url)

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        """Instant query at ``at`` (unix seconds): the result list (vector/matrix items; scalars wrapped)."""
        return self._api().query(expr, at)

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """Range query: the matrix."""
        return self._api().query_range(expr, start, end, step)

    def value(self, expr: str, at: float) -> float:
        """The single value of an expression expected to return exactly one sample."""
        result = self.query(expr, at)
        if len(result) != 1:
            raise AssertionError(f"expected one series, got {len(result)}: {result[:5]}\n  expr: {expr}")
        return float(result[0]["value"][1])

    def rules(self) -> list[dict[str, Any]]:
        """Rule groups as the server loaded them (``/api/v1/rules``)."""
        return self._api().rules()


# ------------------------------------------------------------------------------------------------
# Recording rules over past data


@dataclass(frozen=True)
class Rule:
    """One rule from a rule file."""

    file: str
    group: str
    interval: str | None
    record: str | None
    alert: str | None
    expr: str
    labels: dict[str, str]
    annotations: dict[str, str]
    raw: dict[str, Any]

    @property
    def name(self) -> str:
        """The recorded series or alert name."""
        return self.record or self.alert or "?"


def load_rules(rule_files: Iterable[Path]) -> list[Rule]:
    """Every rule of every file, in file order."""
    out: list[Rule] = []
    for path in rule_files:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for group in doc.get("groups") or []:
            for raw in group.get("rules") or []:
                out.append(Rule(
                    file=Path(path).name, group=str(group.get("name")), interval=group.get("interval"),
                    record=raw.get("record"), alert=raw.get("alert"), expr=str(raw.get("expr", "")),
                    labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                    annotations={str(k): str(v) for k, v in (raw.get("annotations") or {}).items()}, raw=raw,
                ))
    return out


def _mentions(expr: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_:]){re.escape(name)}(?![A-Za-z0-9_:])", expr) is not None


def recording_levels(rules: Sequence[Rule]) -> list[list[Rule]]:
    """Recording rules by dependency level: level 0 reads only raw series, level n reads level < n."""
    recording = [r for r in rules if r.record]
    names = {r.record for r in recording}
    level: dict[str, int] = {}

    def level_of(rule: Rule, seen: frozenset[str]) -> int:
        assert rule.record is not None
        if rule.record in level:
            return level[rule.record]
        deps = [n for n in names if n != rule.record and _mentions(rule.expr, n)]
        if any(d in seen for d in deps):
            raise PrometheusError(f"recording rules form a cycle through {rule.record}")
        result = 0
        for dep in deps:
            for other in recording:
                if other.record == dep:
                    result = max(result, 1 + level_of(other, seen | {rule.record}))
        level[rule.record] = result
        return result

    for r in recording:
        level_of(r, frozenset())
    out: list[list[Rule]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for r in recording:
        assert r.record is not None
        out[level[r.record]].append(r)
    return out


def _level_file(rules: Sequence[Rule], path: Path) -> Path:
    groups: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
    for r in rules:
        groups.setdefault((r.file, r.group, r.interval), []).append(r.raw)
    doc = {"groups": []}
    for i, ((_, name, interval), raws) in enumerate(groups.items()):
        group: dict[str, Any] = {"name": f"{name}#{i}", "rules": raws}
        if interval:
            group["interval"] = interval
        doc["groups"].append(group)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def backfill_recording_rules(server: LivePrometheus, promtool: str, rules: Sequence[Rule], start: int, end: int,
                             eval_interval: str = "30s") -> int:
    """Backfill every recording rule over [start, end] into the server's data dir; returns the level count.

    Per level: ``promtool tsdb create-blocks-from rules`` against the running server, move the blocks into
    the data dir, restart. Groups keep their ``interval`` (promtool's ``--eval-interval`` is the default).
    """
    levels = recording_levels(rules)
    assert server.workdir is not None
    for n, level in enumerate(levels):
        work = Path(tempfile.mkdtemp(prefix=f"rules-level{n}-", dir=server.workdir))
        out = work / "blocks"
        out.mkdir()
        rule_file = _level_file(level, work / "rules.yaml")
        proc = _run([promtool, "tsdb", "create-blocks-from", "rules", f"--url={server.url}", f"--start={start}",
                     f"--end={end}", f"--eval-interval={eval_interval}", f"--output-dir={out}", str(rule_file)],
                    "promtool tsdb create-blocks-from rules")
        if "level=error" in proc.stdout + proc.stderr:
            raise PrometheusError(f"promtool rules backfill reported errors:\n{proc.stdout[-4000:]}"
                                  f"{proc.stderr[-4000:]}")
        blocks = [p for p in out.iterdir() if p.is_dir()]
        if blocks:
            server.stop()
            for block in blocks:
                shutil.move(str(block), str(server.data_dir / block.name))
            server.start()
        shutil.rmtree(work, ignore_errors=True)
    return len(levels)
