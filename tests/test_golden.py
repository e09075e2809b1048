"""Golden files: rendering each example spec reproduces its committed output byte for byte.

``specs/shop.yaml`` is compared with the committed ``generated/shop/`` (what users review);
every ``tests/specs/<name>.yaml`` with ``tests/golden/<name>/``. Only ``pytest --update-golden``
rewrites them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from obsgen import output
from obsgen.generate import generate
from tests.conftest import ROOT

CASES = [(ROOT / "specs" / "shop.yaml", ROOT / "generated" / "shop")] + [
    (spec, ROOT / "tests" / "golden" / spec.stem) for spec in sorted((ROOT / "tests" / "specs").glob("*.yaml"))
]


@pytest.mark.parametrize(("spec", "golden"), CASES, ids=[c[0].stem for c in CASES])
def test_golden(spec: Path, golden: Path, update_golden: bool) -> None:
    result = generate(spec, str(spec.relative_to(ROOT)))
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    if update_golden:
        output.write(golden, result.artifacts)
    changes, diff = output.unified_diff(golden, result.artifacts, str(golden.relative_to(ROOT)))
    assert changes.clean, f"golden output is stale (run pytest --update-golden if intended):\n{diff[:20000]}"
    on_disk = sorted(str(p.relative_to(golden)) for p in golden.rglob("*") if p.is_file())
    assert on_disk == sorted(a.path for a in result.artifacts), "golden dir holds files the render does not make"
