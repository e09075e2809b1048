"""Size of the generated output: files and bytes per kind, for shop and synthetic specs (issue #15 targets).

    python benchmarks/output_size.py              # shop and 1,000 services
    python benchmarks/output_size.py 100 1000     # shop and the given synthetic sizes

Each spec is rendered by a whole ``obsgen render`` process into an empty directory; the table counts every
file obsgen wrote (the manifest included), by what it is. Target for 1,000 services: <= 300 files, <= 15 MB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synth import write_spec  # noqa: E402

KINDS = (
    ("prometheus/rules/", "rule files"),
    ("prometheus/tests/", "promtool tests"),
    ("grafana/dashboards/", "dashboards"),
)
TARGET_FILES, TARGET_MB = 300, 15.0


def kind_of(relative: str) -> str:
    """The row a generated file is counted in."""
    return next((name for prefix, name in KINDS if relative.startswith(prefix)), "other")


def measure(spec: Path, out: Path) -> tuple[Counter[str], Counter[str]]:
    """Render ``spec`` into ``out``; (files, bytes) per kind."""
    subprocess.run([sys.executable, "-m", "obsgen", "render", "--out", str(out), str(spec)], check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    files: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        kind = kind_of(path.relative_to(out).as_posix())
        files[kind] += 1
        size[kind] += path.stat().st_size
    return files, size


def table(rows: list[tuple[str, Counter[str], Counter[str]]]) -> str:
    """A markdown table: one row per spec, files/MB per kind and in total."""
    kinds = [name for _, name in KINDS] + ["other"]
    head = ["spec", *(f"{k} files / MB" for k in kinds), "total files", "total MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, files, size in rows:
        cells = [f"{files[k]:,} / {size[k] / 1e6:.2f}" for k in kinds]
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {sum(files.values()):,} | {sum(size.values()) / 1e6:.2f} |")
    return "\n".join(lines)


def main() -> None:
    """Render and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", type=int, nargs="*", default=[1000], help="synthetic service counts")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        specs = [("shop", ROOT / "specs" / "shop.yaml")]
        specs += [(f"{n:,} services", write_spec(n, base / "specs")) for n in args.sizes]
        for i, (label, spec) in enumerate(specs):
            files, size = measure(spec, base / f"out{i}")
            rows.append((label, files, size))
    sys.stdout.write(table(rows) + "\n")
    sys.stdout.write(f"target at 1,000 services: <= {TARGET_FILES} files, <= {TARGET_MB:g} MB\n")


if __name__ == "__main__":
    main()
