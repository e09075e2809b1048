"""Output is byte-identical across PYTHONHASHSEED, TZ, locale and working directory.

Each environment is one subprocess that renders every spec (shop and tests/specs/*.yaml) through the
CLI into absolute output paths; the trees, exit codes and diagnostics must match byte for byte. A spec
that does not render (yet) still has to fail identically everywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]

_DRIVER = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    from click.testing import CliRunner
    from obsgen.cli import main

    out_root, specs = Path(sys.argv[1]), sys.argv[2:]
    report = {}
    for i, spec in enumerate(specs):
        out = out_root / f"{i}-{Path(spec).stem}"
        result = CliRunner().invoke(main, ["render", spec, "--out", str(out)], catch_exceptions=True)
        text = result.output.replace(str(out), "<out>")
        report[spec] = {"exit": result.exit_code, "output": text,
                        "exception": None if isinstance(result.exception, (SystemExit, type(None)))
                        else repr(result.exception)}
    print(json.dumps(report, sort_keys=True))
''')

ENVIRONMENTS = [
    {"PYTHONHASHSEED": "0", "TZ": "UTC", "LANG": "C", "LC_ALL": "C"},
    {"PYTHONHASHSEED": "1", "TZ": "Asia/Kolkata", "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8"},
    {"PYTHONHASHSEED": "random", "TZ": "America/St_Johns", "LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"},
]


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _start(tmp_path: Path, index: int, env_vars: dict[str, str]) -> tuple[subprocess.Popen[str], Path, Path]:
    cwd = tmp_path / f"cwd{index}" / ("nested/" * index)
    cwd.mkdir(parents=True)
    out_root = tmp_path / f"out{index}"
    driver = tmp_path / "driver.py"
    driver.write_text(_DRIVER)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONHASHSEED"))}
    env.update(env_vars)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen([sys.executable, str(driver), str(out_root), *map(str, SPECS)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, cwd, out_root


def test_byte_identical_across_environments(tmp_path: Path) -> None:
    runs = [_start(tmp_path, i, env) for i, env in enumerate(ENVIRONMENTS)]  # concurrently
    results = []
    for (proc, cwd, out_root), env_vars in zip(runs, ENVIRONMENTS, strict=True):
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr
        report = json.loads(stdout)
        for spec, entry in report.items():
            assert entry["exception"] is None, f"{spec} under {env_vars}: {entry['exception']}"
        assert list(cwd.iterdir()) == []  # absolute --out: nothing lands in the working directory
        results.append((env_vars, report, _tree(out_root) if out_root.exists() else {}))
    _, baseline_report, baseline_tree = results[0]
    assert baseline_report[str(SPECS[0])]["exit"] == 0, baseline_report[str(SPECS[0])]["output"]
    for env_vars, report, files in results[1:]:
        assert report == baseline_report, f"exit codes or diagnostics differ under {env_vars}"
        assert files.keys() == baseline_tree.keys(), f"file sets differ under {env_vars}"
        for rel, data in files.items():
            assert data == baseline_tree[rel], f"{rel} differs under {env_vars}"


def test_shop_renders_in_a_real_process(tmp_path: Path) -> None:
    """`python -m obsgen render` of the shop succeeds and equals the in-process render, byte for byte."""
    shop = str(ROOT / "specs" / "shop.yaml")
    proc = subprocess.run([sys.executable, "-m", "obsgen", "render", shop, "--out", str(tmp_path / "a")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from click.testing import CliRunner

    from obsgen.cli import main

    result = CliRunner().invoke(main, ["render", shop, "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert len(_tree(tmp_path / "a")) > 1
