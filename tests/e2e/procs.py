"""Child processes of the end-to-end harness: loopback only, a log file each, bounded waits, never orphaned.

A ``Proc`` is one server (a Collector or Prometheus). It is started with ``PR_SET_PDEATHSIG`` on Linux, so a
killed pytest leaves nothing running, and stopped with SIGTERM then SIGKILL.
"""

from __future__ import annotations

import contextlib
import json
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

from tests.live.prometheus import _die_with_parent, _tool_env, free_port

__all__ = ["HarnessError", "Proc", "free_port", "http_get", "http_post"]

STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 30.0
# urllib honours http_proxy; everything here is on loopback
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class HarnessError(RuntimeError):
    """A server did not start or answered wrongly; the message carries the tail of its log."""


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
class Proc:
    """One server process: ``start`` waits until ``ready_url`` answers 200."""

    name: str
    args: Sequence[str]
    log: Path
    ready_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> None:
        environment = _tool_env()
        environment.update(self.env)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                list(self.args), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
                http_get(self.ready_url, timeout=2)
                return
            time.sleep(0.1)
        raise HarnessError(f"{self.name} not ready after {timeout:.0f}s ({self.ready_url}):\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """SIGTERM, wait, SIGKILL; safe twice."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)

    def log_tail(self, chars: int = 3000) -> str:
        if not self.log.exists():
            return "(no log)"
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


class PromAPI:
    """The HTTP API of a running Prometheus (``/api/v1``), proxies off."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _call(self, path: str, params: Mapping[str, str] | Sequence[tuple[str, str]]) -> Any:
        body = urllib.parse.urlencode(params).encode()
        try:
            raw = http_post(f"{self.url}/api/v1/{path}", body, "application/x-www-form-urlencoded")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
        payload = json.loads(raw)
        if payload.get("status") != "success":
            raise HarnessError(f"{path} {dict(params) if isinstance(params, Mapping) else params}: "
                               f"{payload.get('errorType')}: {payload.get('error')}")
        return payload["data"]

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        data = self._call("query", {"query": expr, "time": f"{at:.3f}"})
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        data = self._call("query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                          "step": f"{step:g}"})
        return list(data["result"])

    def exemplars(self, expr: str, start: float, end: float) -> list[dict[str, Any]]:
        return list(self._call("query_exemplars", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}"}))

    def label_values(self, label: str, matchers: Sequence[str], start: float, end: float) -> list[str]:
        params = [("start", f"{start:.3f}"), ("end", f"{end:.3f}")] + [("match[]", m) for m in matchers]
        query = urllib.parse.urlencode(params)
        raw = http_get(f"{self.url}/api/v1/label/{urllib.parse.quote(label, safe='')}/values?{query}")
        return list(json.loads(raw)["data"])

    def alerts(self) -> list[dict[str, Any]]:
        return list(json.loads(http_get(f"{self.url}/api/v1/alerts"))["data"]["alerts"])

    def targets(self) -> list[dict[str, Any]]:
        return list(json.loads(http_get(f"{self.url}/api/v1/targets"))["data"]["activeTargets"])
