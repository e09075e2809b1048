"""Grafana's LogQL and TraceQL lezer grammars, run by node (tests/lezer_trees.mjs), for the escaping tests.

The npm packages (@grafana/lezer-logql, @grafana/lezer-traceql) come from ``tools/js/node_modules``,
installed by ``make js-tools``. In CI (``CI`` set) anything missing fails the test; elsewhere it skips
with the command that installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tests" / "lezer_trees.mjs"
_CANDIDATES = (ROOT / "tools" / "js" / "node_modules",)
_PACKAGES = ("@grafana/lezer-logql", "@grafana/lezer-traceql")


@dataclass(frozen=True)
class Node:
    """One syntax-tree node: lezer type name ("⚠" for an error), depth, and its UTF-16 span."""

    name: str
    depth: int
    start: int
    end: int


def _node_modules() -> Path | None:
    for candidate in _CANDIDATES:
        if all((candidate / name / "package.json").is_file() for name in _PACKAGES):
            return candidate
    return None


def require() -> tuple[str, Path]:
    """(node, node_modules): fails in CI and skips elsewhere when either is missing."""
    node = os.environ.get("OBSGEN_NODE") or shutil.which("node")
    modules = _node_modules()
    reason = None
    if node is None:
        reason = "node is not installed (Debian: apt-get install nodejs npm)"
    elif modules is None:
        reason = "Grafana's lezer grammars are not installed: `make js-tools` installs them into tools/js"
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must have them")
        pytest.skip(reason)
    assert node is not None and modules is not None
    return node, modules


def parse_many(queries: list[tuple[str, str]]) -> list[list[Node]]:
    """Syntax trees of (lang, query) pairs, lang "logql" or "traceql", in one node process."""
    node, modules = require()
    payload = "".join(json.dumps({"lang": lang, "query": query}) + "\n" for lang, query in queries)
    env = {**os.environ, "OBSGEN_NODE_MODULES": str(modules)}
    proc = subprocess.run([node, str(SCRIPT)], input=payload, capture_output=True, text=True, timeout=120,
                          check=True, env=env)
    trees = []
    for line in proc.stdout.split("\n")[:-1]:  # not splitlines(): U+2028 may be raw inside JSON
        result = json.loads(line)
        assert "error" not in result, result
        trees.append([Node(*n) for n in result["nodes"]])
    assert len(trees) == len(queries), proc.stderr
    return trees


def utf16_slice(text: str, start: int, end: int) -> str:
    """``text[start:end]`` with lezer's UTF-16 offsets."""
    data = text.encode("utf-16-le")
    return data[2 * start:2 * end].decode("utf-16-le")
