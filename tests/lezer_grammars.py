"""Grafana's LogQL and TraceQL lezer grammars as syntax trees, for the escaping tests.

The trees come from the same node script as the parse verdicts (``tools/js/check-queries.mjs``, through
``tests.grafana_grammars``); the packages are installed by ``make js-tools``. In CI anything missing fails
the test; elsewhere it skips with the command that installs it.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass

from tests.grafana_grammars import SCRIPT
from tests.grafana_js import JS_DIR, require_node


@dataclass(frozen=True)
class Node:
    """One syntax-tree node: lezer type name ("⚠" for an error), depth, and its UTF-16 span."""

    name: str
    depth: int
    start: int
    end: int


def parse_many(queries: list[tuple[str, str]]) -> list[list[Node]]:
    """Syntax trees of (lang, query) pairs, lang "logql" or "traceql", in one node process."""
    node = require_node()
    payload = "".join(json.dumps({"lang": lang, "query": query}) + "\n" for lang, query in queries)
    proc = subprocess.run([node, str(SCRIPT)], input=payload, capture_output=True, text=True, timeout=300,
                          check=True, cwd=JS_DIR)
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
