"""Hostile-input benchmarks: wall time and peak RSS of `obsgen validate` on specs built to exhaust it.

    python benchmarks/hostile.py

Issue #14 measured a 7 MB spec of a million keys at 12.8 s / 0.9 GB and an 8 MiB flow sequence at
20 s / 1.6 GB before their clean errors. The composer now stops at the value limit (tests bound it by
event count and tracemalloc, not by time: tests/test_loader_limits.py).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "million keys (7 MB)": "services: {api: {}}\n" + "".join(f"{i:x}:\n" for i in range(1_000_000)),
    "flow sequence (8 MiB)": "services: {api: {}}\nx: [" + "1," * (4 * 1024 * 1024 - 20) + "1]\n",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in CASES.items():
            spec = Path(tmp, "hostile.yaml")
            spec.write_text(text)
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "obsgen", "validate", str(spec)], capture_output=True,
                                  text=True, env={"OBSGEN_NO_CACHE": "1", "PATH": ""})
            seconds = time.perf_counter() - start
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            code = proc.stderr.split(" error ", 1)[1][:6] if " error " in proc.stderr else "?"
            print(f"{name:24} exit {proc.returncode}  {code}  {seconds:5.2f} s  peak RSS so far {peak_mb:6.0f} MB")


if __name__ == "__main__":
    main()
