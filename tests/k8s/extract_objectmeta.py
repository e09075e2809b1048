"""Extract ObjectMeta's schema (and what it references) from a pinned Kubernetes OpenAPI v3 document.

Run by hand when the pin moves; the output is committed next to this script::

    go mod download -json k8s.io/kubernetes@v1.34.2      # prints Dir
    python -m tests.k8s.extract_objectmeta DIR v1.34.2 > tests/k8s/objectmeta-v1.34.2.json

Only ``components.schemas`` entries reachable from ObjectMeta are kept, unchanged, so the
``#/components/schemas/...`` references still resolve inside the small file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

SOURCE = "api/openapi-spec/v3/api__v1_openapi.json"
ROOT = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
PREFIX = "#/components/schemas/"


def references(node: object) -> set[str]:
    """Schema names a node refers to with ``$ref``."""
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(PREFIX)} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= references(value)
        return found
    if isinstance(node, list):
        return set().union(*(references(v) for v in node)) if node else set()
    return set()


def extract(schemas: dict[str, object], root: str = ROOT) -> dict[str, object]:
    """``root`` and every schema it reaches, by name."""
    keep: dict[str, object] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name not in keep:
            keep[name] = schemas[name]
            todo.extend(sorted(references(schemas[name])))
    return dict(sorted(keep.items()))


def main(module_dir: str, version: str) -> None:
    raw = (Path(module_dir) / SOURCE).read_bytes()
    document = json.loads(raw)
    out = {
        "x-obsgen-source": {"module": f"k8s.io/kubernetes@{version}", "path": SOURCE, "root": ROOT,
                            "sha256": hashlib.sha256(raw).hexdigest(), "license": "Apache-2.0"},
        "components": {"schemas": extract(document["components"]["schemas"])},
    }
    sys.stdout.write(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
