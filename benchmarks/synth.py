"""Synthetic specs for scale benchmarks: N services, 5 calls and 5 endpoints each, SLOs on a third.

The one span-metrics dimension, ``http.request.method``, declares its one value (every route is a
POST), so the spec's declared cardinality is what a Collector would really export for it: 658,680
span-metrics and service-graph series at 1,000 services (``benchmarks/series.py`` generates them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml


def synth_spec(n: int) -> dict[str, object]:
    """A valid spec with ``n`` services; calls go to later services only, so the graph has no cycles."""
    services: dict[str, object] = {}
    for i in range(n):
        endpoints = [{"route": f"POST /svc{i}/op{j}", "critical": j == 0} for j in range(5)]
        calls = [
            {"service": f"svc-{k}", "endpoint": f"POST /svc{k}/op{(i + k) % 5}"}
            for k in range(i + 1, min(n, i + 6))
        ]
        service: dict[str, object] = {"language": "go", "endpoints": endpoints, "calls": calls}
        if i % 3 == 0:
            service["slos"] = [
                {"name": f"svc-{i}-availability", "availability": 99.9},
                {"name": f"svc-{i}-latency", "endpoint": f"POST /svc{i}/op0",
                 "latency": {"threshold": f"{100 + 50 * (i % 4)}ms", "percentile": 99}},
            ]
        services[f"svc-{i}"] = service
    return {
        "name": f"synth{n}",
        "services": services,
        "attributes": {"http.request.method": {"values": ["POST"]}},
        "span_metrics": {"dimensions": ["http.request.method"]},
        "sampling": {
            "policies": [
                {"name": "errors", "errors": True},
                {"name": "slow", "latency": {}},
                {"name": "critical", "critical_endpoints": True},
                {"name": "baseline", "probabilistic": {"percentage": 10}},
            ]
        },
    }


def write_spec(n: int, directory: Path) -> Path:
    """Write the synthetic spec for ``n`` services into ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"synth{n}.yaml"
    path.write_text(yaml.safe_dump(synth_spec(n), sort_keys=False), encoding="utf-8")
    return path


def main() -> None:
    """``python benchmarks/synth.py N [DIR]``: write a synthetic spec."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", type=int)
    parser.add_argument("directory", type=Path, nargs="?", default=Path("benchmarks/out"))
    args = parser.parse_args()
    sys.stdout.write(f"{write_spec(args.services, args.directory)}\n")


if __name__ == "__main__":
    main()
