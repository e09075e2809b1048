"""A Prometheus 3 server that scrapes a synthetic target and evaluates rendered rule files.

Used by ``benchmarks/rule_eval.py`` and by the live series-estimate test. Loopback only, a private data
directory, stopped (SIGTERM, then SIGKILL) on exit; the process is run by the test harnesses'
``tests/servers.Server``. The binary: ``$OBSGEN_PROMETHEUS``, else the checkout's ``.tools/bin/prometheus``
(``make tools``), else the main checkout's beside this worktree.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.servers import LOOPBACK, Server, ServerHandle, free_port

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 600.0  # loading ~25k rules on a loaded 2-core machine took over a minute
STOP_TIMEOUT = 30.0  # seconds between SIGTERM and SIGKILL
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback must stay loopback


def find_prometheus() -> Path | None:
    """The Prometheus 3 binary, or None."""
    candidates = [os.environ.get("OBSGEN_PROMETHEUS", ""), str(ROOT / ".tools/bin/prometheus"),
                  "/work/main/.tools/bin/prometheus"]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    return None


class Prometheus(ServerHandle):
    """``with Prometheus(binary, rule_files, target, scrape_interval="15s") as prom: ...``"""

    def __init__(self, binary: Path, rule_files: Sequence[Path], target: str | None, scrape_interval: str = "15s",
                 scrape_timeout: str | None = None, data_dir: Path | None = None,
                 extra_args: Sequence[str] = ()) -> None:
        """``target`` None: no scrape job; ``data_dir``: an existing TSDB (kept on exit), else a fresh one."""
        self.binary = binary
        self.rule_files = [Path(p).resolve() for p in rule_files]
        self.target = target
        self.scrape_interval = scrape_interval
        self.scrape_timeout = scrape_timeout or scrape_interval
        self.workdir = Path(tempfile.mkdtemp(prefix="obsgen-prom-"))
        self.data_dir = data_dir or self.workdir / "data"
        self.extra_args = list(extra_args)
        self.port = 0
        self._server: Server | None = None


    def __enter__(self) -> Prometheus:
        config = {
            "global": {"scrape_interval": self.scrape_interval, "scrape_timeout": self.scrape_timeout,
                       "evaluation_interval": "1m"},
            "rule_files": [str(p) for p in self.rule_files],
            "scrape_configs": [{"job_name": "synthetic", "static_configs": [{"targets": [self.target]}]}]
            if self.target else [],
        }
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.port = free_port()
        self._server = Server("prometheus", [
            str(self.binary), f"--config.file={self.workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.data_dir}", f"--web.listen-address={LOOPBACK}:{self.port}",
            "--log.level=warn", *self.extra_args],
            self.workdir / "prometheus.log", self.url + "/-/ready", stop_timeout=STOP_TIMEOUT)
        try:
            self._server.start(READY_TIMEOUT)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self) -> str:
        """The end of the server's log."""
        return self._server.log_tail(3000) if self._server is not None else ""

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """``GET /api/v1/<path>``: its ``data``."""
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        with _OPENER.open(f"{self.url}/api/v1/{path}{query}", timeout=120) as resp:
            payload = json.load(resp)
        if payload.get("status") != "success":
            raise RuntimeError(f"{path}: {payload}")
        return payload["data"]

    def rule_groups(self) -> list[dict[str, Any]]:
        """``/api/v1/rules`` groups."""
        return list(self.get("rules")["groups"])

    def head_series(self) -> int:
        """``/api/v1/status/tsdb`` headStats.numSeries."""
        return int(self.get("status/tsdb")["headStats"]["numSeries"])

    def head_series_by_metric(self) -> dict[str, int]:
        """``/api/v1/status/tsdb`` seriesCountByMetricName, every metric name."""
        stats = self.get("status/tsdb", {"limit": "100000"})["seriesCountByMetricName"]
        return {item["name"]: int(item["value"]) for item in stats}

    def scalar(self, expr: str) -> float:
        """The value of a query returning one sample (0 when it returns none)."""
        result = self.get("query", {"query": expr})["result"]
        return float(result[0]["value"][1]) if result else 0.0

    def own_metrics(self, names: Sequence[str]) -> dict[str, float]:
        """Values of the server's own metrics (``/metrics``), without scraping them into the TSDB."""
        with _OPENER.open(self.url + "/metrics", timeout=30) as resp:
            text = resp.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in names:
                out[name] = float(value)
        return out

    def peak_rss_bytes(self) -> int:
        """The server's peak resident set (VmHWM, Linux)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0
