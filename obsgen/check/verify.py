"""``obsgen verify``: every rendered artifact through the real tool that will run it.

obsgen's strict models are written from documentation and upstream source; a model and the generator can be
wrong together. ``verify`` closes that gap on a user's machine: it renders in memory (nothing is written to the
output directory), writes the artifacts into a private temporary directory, and runs each real tool it finds
on them: ``otelcol validate`` on every Collector config, ``promtool check rules`` / ``promtool test rules`` on
every rule and unit-test file, ``tempo -config.verify`` on the Tempo config. The tools' messages are reported
against the generated paths (``otel-collector/config.yaml``), never the temporary ones.

Guarantees: a tool is only ever given paths inside the temporary directory (checked before every run) and runs
there as its working directory; the directory is removed afterwards, whatever happens; each run has a timeout.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath

import yaml

from obsgen.emit.artifacts import Artifact
from obsgen.plan import Plan
from obsgen.targets.prometheus.rules.model import RULES_DIR, TESTS_DIR

TOOLS = ("otelcol", "promtool", "tempo")
# tool -> environment variable naming its path (the --otelcol/--promtool/--tempo flags win over it)
ENV_VARS = {"otelcol": "OBSGEN_OTELCOL", "promtool": "OBSGEN_PROMTOOL", "tempo": "OBSGEN_TEMPO"}
# Names looked up on PATH, in order. The contrib distribution first: the core ``otelcol`` distribution has
# no tail sampling, span metrics or service graph, so it rejects every config obsgen renders.
PATH_NAMES = {"otelcol": ("otelcol-contrib", "otelcol"), "promtool": ("promtool",), "tempo": ("tempo",)}
DEFAULT_TIMEOUT = 120.0
VERSION_TIMEOUT = 15.0
COLLECTOR_DIR = "otel-collector/"
TEMPO_CONFIG = "tempo/tempo.yaml"  # obsgen.targets.tempo.target.PATH, not imported: that pulls in the template engine
# Value given to an environment variable a config reads without a default when it is unset here: a deployment
# provides it (a pod always has HOSTNAME), and an empty value is not what the tool would see there.
PLACEHOLDER = "obsgen-verify"

# exit codes (obsgen.cli's): 1 a tool rejected an artifact, 2 verify could not do what was asked
EXIT_OK, EXIT_REJECTED, EXIT_INCOMPLETE = 0, 1, 2


class Status(StrEnum):
    """How one tool run on one artifact ended."""

    OK = "ok"
    FAIL = "FAIL"  # the tool rejected the artifact (OBS910)
    ERROR = "error"  # the tool could not be run or did not finish (OBS912)


@dataclass(frozen=True)
class Tool:
    """A real tool found for this run."""

    name: str
    path: str
    source: str  # "--otelcol", "OBSGEN_OTELCOL" or "PATH"
    version: str = ""
    note: str = ""


@dataclass(frozen=True)
class Missing:
    """A tool that was not found. ``error`` when it was required or named explicitly (OBS911)."""

    name: str
    reason: str
    error: bool


@dataclass(frozen=True)
class Check:
    """One tool run planned on one artifact. ``args`` hold ``{file}`` where the artifact's path goes."""

    tool: str
    args: tuple[str, ...]
    artifact: str
    label: str  # the command as shown: "validate", "check rules", "-config.verify"
    note: str = ""
    text: str | None = None  # what is written for the tool instead of the artifact (a modified copy)
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """A check and how it ended; ``message`` is the tool's output with temporary paths mapped back."""

    check: Check
    status: Status
    message: str = ""

    @property
    def code(self) -> str:
        return {Status.OK: "", Status.FAIL: "OBS910", Status.ERROR: "OBS912"}[self.status]


@dataclass
class Report:
    """What ``verify`` found: the tools, the missing ones and every check's outcome."""

    tools: list[Tool] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """2 when verification is incomplete (a required tool missing, a tool that could not run), else 1
        when a tool rejected an artifact, else 0. Incomplete wins: some artifact went unchecked."""
        if any(m.error for m in self.missing) or any(o.status is Status.ERROR for o in self.outcomes):
            return EXIT_INCOMPLETE
        if any(o.status is Status.FAIL for o in self.outcomes):
            return EXIT_REJECTED
        return EXIT_OK


# --------------------------------------------------------------------------------------------
# Finding the tools


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def locate(name: str, flag: str | None, environ: Mapping[str, str], required: bool) -> Tool | Missing:
    """The tool ``name``: from its flag, else its environment variable, else PATH.

    A path named explicitly (flag or variable) that is not an executable file is an error, not a skip: the
    user asked for that tool. Only a tool absent from PATH is skipped, unless ``required``.
    """
    env_var = ENV_VARS[name]
    for source, value in ((f"--{name}", flag), (env_var, environ.get(env_var) or None)):
        if value is not None:
            if _executable(value):
                return Tool(name, value, source)
            return Missing(name, f"{source} {value} is not an executable file", error=True)
    for candidate in PATH_NAMES[name]:
        found = shutil.which(candidate, path=environ.get("PATH", os.defpath))
        if found is not None:
            return Tool(name, found, "PATH")
    looked = " or ".join(PATH_NAMES[name])
    reason = f"no --{name}, no {env_var}, no {looked} on PATH"
    return Missing(name, f"--require {name}, and {reason}" if required else reason, error=required)


_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def with_version(tool: Tool, pinned: str, environ: Mapping[str, str]) -> Tool:
    """``tool`` with the version it reports, and a note when its major.minor is not the one the spec pins."""
    flag = "-version" if tool.name == "tempo" else "--version"  # Tempo uses Go's flag package: -version
    try:
        _, out = _execute([tool.path, flag], None, environ, VERSION_TIMEOUT, _Processes())
    except OSError:
        return tool
    found = _VERSION.search(out)
    if found is None:
        return tool
    version = found.group(0)
    note = ""
    if found.group(1, 2) != tuple(pinned.split(".")[:2]):
        note = f"the spec pins {pinned}: results may differ from what that version accepts"
    return Tool(tool.name, tool.path, tool.source, version, note)


# --------------------------------------------------------------------------------------------
# What to run on which artifact


def static_resolver_copy(text: str) -> tuple[str, bool]:
    """The Collector config with every load-balancing ``k8s`` resolver replaced by a ``static`` one.

    The static resolver lists the same service on the same ports, so the rest of the exporter is checked as
    rendered. Returns (text, swapped); the text is only re-dumped when something was swapped.
    """
    doc = yaml.safe_load(text)
    swapped = False
    exporters = doc.get("exporters") if isinstance(doc, dict) else None
    for cid, exporter in (exporters or {}).items():
        if str(cid).split("/")[0] not in ("loadbalancing", "load_balancing") or not isinstance(exporter, dict):
            continue
        resolver = exporter.get("resolver")
        if isinstance(resolver, dict) and isinstance(resolver.get("k8s"), dict):
            k8s = resolver.pop("k8s")
            service = str(k8s.get("service", "sampler"))
            # without ports the k8s resolver's backends are bare endpoints too (resolver_k8s.go, resolve)
            ports = k8s.get("ports") or []
            resolver["static"] = {"hostnames": [f"{service}:{port}" for port in ports] or [service]}
            swapped = True
    return (yaml.safe_dump(doc, sort_keys=False, allow_unicode=True) if swapped else text), swapped


# ${NAME}, ${env:NAME}, with an optional :-default; $$ is a literal dollar (confmap's escape)
_COLLECTOR_REF = re.compile(r"\$\$|\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():  # confmap expands values only, not keys
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def collector_env_needed(text: str) -> list[str]:
    """Environment variables the Collector config reads without a default (comments do not count)."""
    names = []
    for value in _strings(yaml.safe_load(text)):
        for match in _COLLECTOR_REF.finditer(value):
            if match.group(1) and match.group(2) is None and match.group(1) not in names:
                names.append(match.group(1))
    return names


def tempo_env_needed(text: str) -> list[str]:
    """Variables Tempo's ``-config.expand-env`` reads without a default (drone/envsubst also reads comments)."""
    from obsgen.targets.tempo.envsubst import references

    return sorted({name for name in references(text) if f"${{{name}}}" in text})


def _placeholders(names: Iterable[str], environ: Mapping[str, str]) -> dict[str, str]:
    return {name: PLACEHOLDER for name in names if not environ.get(name)}


def _env_note(env: Mapping[str, str]) -> str:
    if not env:
        return ""
    return f"unset {', '.join(sorted(env))} set to {PLACEHOLDER!r} for the check"


def plan_checks(artifacts: Sequence[Artifact], plan: Plan, environ: Mapping[str, str]) -> list[Check]:
    """Every tool run the artifacts call for, in a stable order (tool, then path, then command)."""
    from obsgen.targets.tempo.target import uses_expand_env

    checks: list[Check] = []
    for art in sorted(artifacts, key=lambda a: a.path):
        suffix = PurePosixPath(art.path).suffix
        if art.path.startswith(COLLECTOR_DIR) and suffix == ".yaml":
            # Older contrib releases' newLoadBalancer (exporter/loadbalancingexporter/loadbalancer.go) create the
            # k8s resolver's in-cluster client when the exporter is built, which validate does, so they fail
            # outside a cluster; v0.159.0 passes a nil client and creates it in start(). A user's Collector may
            # be older, so the copy that is validated resolves statically.
            text, swapped = static_resolver_copy(art.text)
            env = _placeholders(collector_env_needed(art.text), environ)
            notes = ["k8s resolver swapped to static (same service and ports) for the check"] if swapped else []
            notes += [_env_note(env)] if env else []
            checks.append(Check("otelcol", ("validate", "--config={file}"), art.path, "validate", "; ".join(notes),
                                text if swapped else None, env))
        elif art.path.startswith(RULES_DIR + "/") and suffix == ".yaml":
            checks.append(Check("promtool", ("check", "rules", "{file}"), art.path, "check rules"))
        elif art.path.startswith(TESTS_DIR + "/") and suffix == ".yaml":
            # promtool reads the test's rule_files relative to the test file: the whole tree is written
            checks.append(Check("promtool", ("test", "rules", "{file}"), art.path, "test rules"))
        elif art.path == TEMPO_CONFIG:
            args: tuple[str, ...] = ("-config.verify", "-config.file={file}")
            env = {}
            if uses_expand_env(plan):  # the file is written for drone/envsubst: $ and \ doubled
                args += ("-config.expand-env=true",)
                env = _placeholders(tempo_env_needed(art.text), environ)
            checks.append(Check("tempo", args, art.path, "-config.verify", _env_note(env), env=env))
    order = {name: i for i, name in enumerate(TOOLS)}
    return sorted(checks, key=lambda c: (order[c.tool], c.artifact, c.label))


# --------------------------------------------------------------------------------------------
# Running them


class _Processes:
    """The tool processes still running, so an interrupted verify leaves none behind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()
        self._stopped = False

    def add(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._live.add(proc)
            if self._stopped:  # started while verify was being stopped: it goes too
                _kill(proc)

    def discard(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._live.discard(proc)

    def kill_all(self) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._live:
                _kill(proc)


def _kill(proc: subprocess.Popen[str]) -> None:
    # its own session: the whole group goes (a wrapper script's children too); it may have ended already
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def map_paths(text: str, root: Path) -> str:
    """``text`` with the temporary directory's paths written as the generated relative paths."""
    prefixes = sorted({str(root), os.path.realpath(root)}, key=len, reverse=True)
    for prefix in prefixes:
        text = text.replace(prefix + os.sep, "").replace(prefix, ".")
    return text


def _inside(path: str, root: Path) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


def _execute(argv: list[str], cwd: Path | None, env: Mapping[str, str], timeout: float,
             live: _Processes) -> tuple[int | None, str]:
    """Run ``argv``: (exit status, or None when it timed out and was killed; its stdout and stderr interleaved).

    In a session of its own, so a timeout or an interruption kills the whole process group, and no pipe is
    left open by a child of a wrapper script. Raises OSError when it cannot be started.
    """
    proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    live.add(proc)
    try:
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            out, _ = proc.communicate()
            return None, out
        return proc.returncode, out
    except BaseException:  # interrupted while waiting: the tool does not outlive verify
        _kill(proc)
        raise
    finally:
        live.discard(proc)


MAX_MESSAGE_LINES = 400
# Control characters (a tool may echo spec text, or colour its output) are shown escaped, so a tool's
# message cannot move the cursor or forge lines in a CI log; every message line is also indented.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _trim(text: str) -> str:
    """The tool's output as shown: no blank lines around it (promtool 3 prints empty lines around a failure),
    control characters escaped, at most MAX_MESSAGE_LINES lines. Split on newlines only (the pipe is read in
    universal-newline mode, so a carriage return is one already): U+2028 and friends are escaped, not lines."""
    lines = [_CONTROL.sub(lambda m: json.dumps(m.group())[1:-1], line.rstrip()) for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) > MAX_MESSAGE_LINES:
        lines[MAX_MESSAGE_LINES:] = [f"... ({len(lines) - MAX_MESSAGE_LINES} more lines)"]
    return "\n".join(lines)


def _run_one(tool: Tool, check: Check, root: Path, environ: Mapping[str, str], timeout: float,
             live: _Processes) -> Outcome:
    file = str(root / check.artifact)
    argv = [tool.path, *(arg.format(file=file) for arg in check.args)]
    # Only the artifact's own path reaches a tool; refuse anything else rather than trust the planning above.
    for arg in argv[1:]:
        candidate = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
        if os.sep in candidate and not _inside(candidate, root):
            raise RuntimeError(f"refusing to run {tool.name} on {candidate}: outside the render's directory")
    try:
        returncode, out = _execute(argv, root, {**environ, **check.env}, timeout, live)
    except OSError as exc:
        return Outcome(check, Status.ERROR, map_paths(f"cannot run {tool.path}: {exc.strerror or exc}", root))
    if returncode is None:
        message = _trim(f"timed out after {timeout:g}s (--timeout)\n{out}")
        return Outcome(check, Status.ERROR, map_paths(message, root))
    if returncode == 0:
        return Outcome(check, Status.OK)
    message = _trim(out) or f"exit status {returncode}, no output"
    if returncode < 0:  # killed by a signal: it did not judge the file
        return Outcome(check, Status.ERROR, map_paths(f"killed by signal {-returncode}\n{message}", root))
    return Outcome(check, Status.FAIL, map_paths(message, root))


def _jobs(environ: Mapping[str, str]) -> int:
    """Tool runs at a time: ``OBSGEN_JOBS`` when it is a positive number (1: one at a time), else the cores,
    at most 4 (each tool is a process of its own; more only contend for the same cores)."""
    value = environ.get("OBSGEN_JOBS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return min(os.cpu_count() or 1, 4)


def write_tree(root: Path, artifacts: Sequence[Artifact], checks: Sequence[Check]) -> None:
    """Every artifact at its relative path below ``root`` (the tools read each other's files: a promtool
    test its rule files), with the modified copies some checks ask for in place of the rendered text."""
    replaced = {c.artifact: c.text for c in checks if c.text is not None}
    for art in artifacts:
        target = root / art.path  # artifact paths are validated relative POSIX paths (safe_relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = replaced.get(art.path)
        target.write_bytes(art.data if text is None else text.encode("utf-8"))


def run_checks(artifacts: Sequence[Artifact], checks: Sequence[Check], tools: Mapping[str, Tool],
               environ: Mapping[str, str], timeout: float, jobs: int | None = None) -> list[Outcome]:
    """Run every check whose tool was found, in a fresh private directory that is removed afterwards."""
    runnable = [c for c in checks if c.tool in tools]
    if not runnable:
        return []
    root = Path(tempfile.mkdtemp(prefix="obsgen-verify-"))  # mode 0700: private to this user
    live = _Processes()
    try:
        write_tree(root, artifacts, runnable)
        workers = max(1, min(jobs or _jobs(environ), len(runnable)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_run_one, tools[c.tool], c, root, environ, timeout, live) for c in runnable]
            try:
                return [f.result() for f in futures]
            except BaseException:  # Ctrl-C or a refusal: no tool is left running, nothing more starts
                pool.shutdown(wait=False, cancel_futures=True)
                live.kill_all()
                raise
    finally:
        shutil.rmtree(root, ignore_errors=True)


def verify_artifacts(artifacts: Sequence[Artifact], plan: Plan, flags: Mapping[str, str | None],
                     require: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT,
                     environ: Mapping[str, str] | None = None) -> Report:
    """Find the tools and run each on the artifacts it checks. ``flags``: tool -> path given on the command line."""
    env = dict(os.environ if environ is None else environ)
    required = set(require)
    pins = {"otelcol": plan.spec.stack.collector, "promtool": plan.spec.stack.prometheus,
            "tempo": plan.spec.stack.tempo}
    report = Report()
    found: dict[str, Tool] = {}
    for name in TOOLS:
        located = locate(name, flags.get(name), env, name in required)
        if isinstance(located, Missing):
            report.missing.append(located)
        else:
            found[name] = with_version(located, pins[name], env)
            report.tools.append(found[name])
    checks = plan_checks(artifacts, plan, env)
    report.outcomes = run_checks(artifacts, checks, found, env, timeout)
    return report


# --------------------------------------------------------------------------------------------
# Output


def _indent(message: str) -> str:
    return "".join(f"    {line}\n" for line in message.splitlines())


def format_text(report: Report) -> str:
    """One line per tool and per file checked, the tool's message indented below a failure, then a summary."""
    lines: list[str] = []
    tools = {t.name: t for t in report.tools}
    missing = {m.name: m for m in report.missing}
    for name in TOOLS:
        if name in missing:
            m = missing[name]
            outcome = "error OBS911" if m.error else "skipped"
            lines.append(f"{name}: not found, {outcome} ({m.reason})\n")
            continue
        tool = tools[name]
        about = f"{tool.path} from {tool.source}" + (f", version {tool.version}" if tool.version else "")
        lines.append(f"{name}: {about}" + (f" (warning: {tool.note})" if tool.note else "") + "\n")
        for out in (o for o in report.outcomes if o.check.tool == name):
            status = out.status.value if out.status is Status.OK else f"{out.status.value} {out.code}"
            detail = f"{name} {out.check.label}" + (f"; {out.check.note}" if out.check.note else "")
            lines.append(f"{out.check.artifact}: {status} ({detail})\n" + _indent(out.message))
    counts = {s: sum(o.status is s for o in report.outcomes) for s in Status}
    skipped = sum(not m.error for m in report.missing)
    summary = f"verify: {counts[Status.OK]} ok, {counts[Status.FAIL]} rejected"
    if counts[Status.ERROR]:
        summary += f", {counts[Status.ERROR]} could not run"
    if skipped:
        summary += f", {skipped} tool(s) skipped"
    if any(m.error for m in report.missing):
        summary += f", {sum(m.error for m in report.missing)} tool(s) missing"
    return "".join(lines) + summary + "\n"


def to_json_data(report: Report) -> dict[str, object]:
    """The report as plain data (the ``verify`` section of ``--format json``)."""
    tools: list[dict[str, object]] = [
        {"tool": t.name, "path": t.path, "source": t.source, "version": t.version, "note": t.note, "status": "found"}
        for t in report.tools]
    tools += [{"tool": m.name, "status": "missing", "error": m.error, "reason": m.reason,
               "code": "OBS911" if m.error else ""} for m in report.missing]
    return {
        "tools": sorted(tools, key=lambda t: TOOLS.index(str(t["tool"]))),
        "checks": [{"tool": o.check.tool, "command": o.check.label, "artifact": o.check.artifact,
                    "status": o.status.value, "code": o.code, "message": o.message, "note": o.check.note}
                   for o in report.outcomes],
    }
