"""Every example spec under both span-metrics sources: the Collector's connectors and Tempo's metrics-generator."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
SOURCES = ("collector", "tempo")
CASES = [(spec, source) for spec in SPECS for source in SOURCES]
IDS = [f"{spec.stem}-{source}" for spec, source in CASES]


def with_source(spec: Path, source: str, tmp_path: Path) -> Path:
    """A copy of ``spec`` (same file name, so the same output names) with ``span_metrics.source: source``."""
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data.setdefault("span_metrics", {})
    data["span_metrics"] = {**(data["span_metrics"] or {}), "source": source}
    out = tmp_path / source / spec.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out
