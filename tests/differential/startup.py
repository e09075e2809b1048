"""Start the real Collector on a config and report whether it comes up (``Everything is ready``).

``otelcol validate`` decodes the config, runs every ``Validate()`` and creates the components, but
some checks only run in ``Start``. The one that matters here: the tail-sampling processor builds its
policy evaluators in ``Start`` (contrib ``processor/tailsamplingprocessor/processor.go`` at v0.159.0,
``Start`` -> ``loadSamplingPolicies`` -> ``getPolicyEvaluator``), so an unknown policy type, a
duplicate policy name or a regex Go's ``regexp`` refuses passes ``validate`` and stops the Collector
at start-up. For a config ``validate`` accepts, the start-up is the tool's verdict.

Listening addresses that have a port are moved to ``127.0.0.1:0`` first (the tests run in parallel and
beside other work on the machine); an address without a port is left as written, so its failure shows.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import threading
from pathlib import Path

import yaml

READY = "Everything is ready"
_HAS_PORT = re.compile(r"^(\[[^\]]*\]|[^:\[\]]*):\d+$")
_FREE = "127.0.0.1:0"
TIMEOUT = 30.0


def _free_port(value: object) -> object:
    return _FREE if isinstance(value, str) and _HAS_PORT.match(value.strip()) else value


def _listen_paths(config: dict[str, object]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for rid, body in (config.get("receivers") or {}).items():  # type: ignore[union-attr]
        protocols = body.get("protocols") if isinstance(body, dict) else None
        for proto in ("grpc", "http"):
            if isinstance(protocols, dict) and proto in protocols:
                if not isinstance(protocols[proto], dict):  # null: the default port might be taken
                    protocols[proto] = {}
                protocols[proto].setdefault("endpoint", _FREE)
                out.append(("receivers", rid, "protocols", proto, "endpoint"))
    for section, kind in (("extensions", "health_check"), ("exporters", "prometheus")):
        for cid, body in (config.get(section) or {}).items():  # type: ignore[union-attr]
            if str(cid).partition("/")[0] == kind and isinstance(body, dict) and "endpoint" in body:
                out.append((section, cid, "endpoint"))
    return out


def for_startup(config: dict[str, object]) -> dict[str, object]:
    """A copy whose listening addresses with a port are free ports, and internal metrics on a free port."""
    out = copy.deepcopy(config)
    for path in _listen_paths(out):
        parent = out
        for part in path[:-1]:
            parent = parent[part]  # type: ignore[assignment,index]
        parent[path[-1]] = _free_port(parent[path[-1]])
    service = out.get("service")
    if isinstance(service, dict):
        telemetry = service.setdefault("telemetry", {}) or {}
        service["telemetry"] = telemetry
        metrics = telemetry.setdefault("metrics", {}) or {}
        telemetry["metrics"] = metrics
        if isinstance(metrics, dict) and str(metrics.get("level", "normal")).lower() != "none":
            metrics["readers"] = [{"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": 0}}}}]
    return out


def start(binary: str, config: dict[str, object], path: Path, env: dict[str, str]) -> tuple[bool, str]:
    """Start the Collector on ``config`` (written to ``path``): (came up, the error line when it did not)."""
    path.write_text(yaml.safe_dump(for_startup(config), sort_keys=False), encoding="utf-8")
    proc = subprocess.Popen([binary, f"--config={path}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env})
    killer = threading.Timer(TIMEOUT, proc.kill)
    killer.start()
    errors: list[str] = []
    ready = False
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if READY in line:
                ready = True
                break
            if line.startswith("Error:") or "\terror\t" in line:
                errors.append(line.strip())
    finally:
        if proc.poll() is None:
            proc.kill()  # the verdict is in; a graceful shutdown would only cost time
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        killer.cancel()
    return ready, (errors[-1] if errors else ("" if ready else "exited before it was ready"))
