"""Servers the test harnesses run (Prometheus, Collectors): loopback only, a log file each, bounded waits,
never orphaned; and the HTTP API of a running Prometheus.

One copy for the live Prometheus tests (``tests/live/prometheus.py``), the end-to-end harness
(``tests/e2e/stack.py``) and the benchmarks that run the real tools. A ``Server`` is started with
``PR_SET_PDEATHSIG`` on Linux, so a killed pytest leaves nothing running, waits until its ready URL answers,
and is stopped with SIGTERM then SIGKILL. Every request goes out with proxies disabled: urllib honours
``http_proxy``, and nothing here may leave the loopback interface.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
HTTP_TIMEOUT = 30.0  # seconds per HTTP request
READY_POLL = 0.05  # seconds between probes of the ready URL

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HarnessError(RuntimeError):
    """A server or tool of a test harness did not start or answered wrongly; the message says why (with the
    tail of a server's log)."""


class PromQLError(HarnessError):
    """The query API rejected an expression (``errorType`` ``bad_data``, ``execution``, ...)."""

    def __init__(self, expr: str, error_type: str, error: str) -> None:
        super().__init__(f"{error_type}: {error}\n  expr: {expr}")
        self.expr = expr
        self.error_type = error_type
        self.error = error


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range for the local ports of outgoing connections (Linux; the usual default elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback TCP port that was free a moment ago and is not handed out twice by this process.

    Chosen below the ephemeral range: a port from ``bind(0)`` lies inside it, where any outgoing connection
    (a scrape, the sender's kept-alive connection, another test's client) may take it before the server
    it is meant for binds it (the e2e's Collector once failed with "address already in use" that way).
    """
    low, _ = _ephemeral_range()
    first = 10000 if low > 10000 + 2048 else 1024
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(first, low)
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((LOOPBACK, port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise HarnessError("no free loopback port below the ephemeral range after 200 tries")


def tool_env() -> dict[str, str]:
    """The environment for child processes: no proxies, so loopback stays loopback."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = f"{LOOPBACK},localhost"
    return env


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the server if the test process dies, so a killed pytest leaves no orphan."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def http_get(url: str, timeout: float = HTTP_TIMEOUT) -> bytes:
    """GET ``url`` (no proxy); raises urllib's errors."""
    with _OPENER.open(url, timeout=timeout) as resp:
        return bytes(resp.read())


def http_post(url: str, body: bytes, content_type: str, timeout: float = HTTP_TIMEOUT) -> bytes:
    """POST ``body`` to ``url`` (no proxy); raises urllib's errors."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    with _OPENER.open(request, timeout=timeout) as resp:
        return bytes(resp.read())


@dataclass
class Server:
    """One server process: ``start`` waits until ``ready_url`` answers 200."""

    name: str
    args: Sequence[str]
    log: Path
    ready_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    stop_timeout: float = STOP_TIMEOUT
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> None:
        environment = tool_env()
        environment.update(self.env)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                list(self.args), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment,
                preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
                http_get(self.ready_url, timeout=2)
                return
            time.sleep(READY_POLL)
        raise HarnessError(f"{self.name} not ready after {timeout:.0f}s ({self.ready_url}):\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, wait, SIGKILL; safe twice, or after a failed start."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log, for error messages."""
        if not self.log.exists():
            return "(no log)"
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


class PrometheusAPI:
    """The HTTP API of a running Prometheus (``/api/v1``)."""

    def __init__(self, url: str, timeout: float = HTTP_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout

    def call(self, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]] = (), *, expr: str = "") -> Any:
        """POST to ``/api/v1/<path>``; returns ``data`` or raises PromQLError with the API's error."""
        body = urllib.parse.urlencode(params).encode()
        try:
            raw = http_post(f"{self.url}/api/v1/{path}", body, "application/x-www-form-urlencoded", self.timeout)
        except urllib.error.HTTPError as exc:  # 400 bad_data, 422 execution, 503 timeout: the body says why
            raw = exc.read()
            try:
                json.loads(raw)
            except ValueError:
                raise HarnessError(f"HTTP {exc.code} from {path}: {exc.reason}") from exc
        payload = json.loads(raw)
        if payload.get("status") != "success":
            shown = expr or f"{path} {dict(params) if isinstance(params, Mapping) else params}"
            raise PromQLError(shown, payload.get("errorType", "?"), payload.get("error", "?"))
        return payload["data"]

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        """Instant query at ``at`` (unix seconds): the result list (vector/matrix items; scalars wrapped)."""
        data = self.call("query", {"query": expr, "time": f"{at:.3f}"}, expr=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """Range query: the matrix."""
        data = self.call("query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                         "step": f"{step:g}"}, expr=expr)
        return list(data["result"])

    def exemplars(self, expr: str, start: float, end: float) -> list[dict[str, Any]]:
        return list(self.call("query_exemplars", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}"},
                              expr=expr))

    def label_values(self, label: str, matchers: Sequence[str], start: float, end: float) -> list[str]:
        params = [("start", f"{start:.3f}"), ("end", f"{end:.3f}")] + [("match[]", m) for m in matchers]
        query = urllib.parse.urlencode(params)
        raw = http_get(f"{self.url}/api/v1/label/{urllib.parse.quote(label, safe='')}/values?{query}", self.timeout)
        return list(json.loads(raw)["data"])

    def rules(self) -> list[dict[str, Any]]:
        """Rule groups as the server loaded them (``/api/v1/rules``)."""
        return list(json.loads(http_get(f"{self.url}/api/v1/rules", self.timeout))["data"]["groups"])

    def alerts(self) -> list[dict[str, Any]]:
        return list(json.loads(http_get(f"{self.url}/api/v1/alerts", self.timeout))["data"]["alerts"])

    def targets(self) -> list[dict[str, Any]]:
        return list(json.loads(http_get(f"{self.url}/api/v1/targets", self.timeout))["data"]["activeTargets"])


class ServerHandle:
    """What a wrapper that owns one ``Server`` on ``port`` shows of it (the Prometheus of the live tests and
    of the benchmarks): its URL and its process."""

    port: int
    _server: Server | None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The running server process, None when stopped."""
        return self._server.process if self._server is not None else None
