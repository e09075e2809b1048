"""The benchmark hook really switches each piece of speed machinery off (benchmarks/variant.py).

Without this, a renamed module would leave a switch doing nothing and the machinery table would
measure the same path twice. Each check runs in a fresh process: the switches patch modules.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

# piece -> code that fails if the fast path still runs when rendering shop
PROBES = {
    "emitters": "mock.patch.object(fast, 'block_yaml', side_effect=AssertionError), "
                "mock.patch.object(fast, 'indented_json', side_effect=AssertionError)",
}

_SCRIPT = """
import os, sys
from contextlib import ExitStack
from pathlib import Path
from unittest import mock
import benchmarks.variant as variant
variant.switch_off({{{piece!r}}})
import obsgen.emit.fast as fast
import obsgen.generate as generate
with {probe}:
    result = generate.generate(Path("specs/shop.yaml"))
assert result.ok and result.artifacts
"""


@pytest.mark.parametrize("piece", sorted(PROBES))
def test_a_switched_off_piece_is_not_used(piece: str) -> None:
    script = _SCRIPT.format(piece=piece, probe=PROBES[piece])
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False,
                          env={"PATH": "/usr/bin:/bin", "OBSGEN_NO_CACHE": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_the_probes_fail_with_the_piece_on() -> None:
    """The probes are real: with every piece on, each one trips."""
    for piece, probe in PROBES.items():
        script = _SCRIPT.format(piece="none", probe=probe).replace("variant.switch_off({'none'})", "")
        proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False,
                              env={"PATH": "/usr/bin:/bin", "OBSGEN_NO_CACHE": "1"})
        assert proc.returncode != 0 and "AssertionError" in proc.stderr, piece
