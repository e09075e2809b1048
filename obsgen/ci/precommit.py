"""``python -m obsgen.ci.precommit [RENDER-OPTIONS] SPEC...``: ``obsgen render --check`` for each spec.

The ``obsgen-check`` pre-commit hook (.pre-commit-hooks.yaml). pre-commit passes every matching
file at once, but ``render --check`` takes one spec (its output directory is per spec), so this runs
it once per spec and fails when any run fails: the worst exit code wins (2, an I/O error, over 1, a
stale or invalid spec). Options (a hook's ``args:``) go to every run; give a value in the same word
(``--format=github``), since every other word is a spec.
"""

from __future__ import annotations

import subprocess
import sys


def main(argv: list[str]) -> int:
    options = [arg for arg in argv if arg.startswith("-")]
    specs = [arg for arg in argv if not arg.startswith("-")]
    worst = 0
    for spec in specs:
        # a child process per spec: each render gets a fresh interpreter, as `obsgen` on a command line does
        code = subprocess.run([sys.executable, "-m", "obsgen", "render", "--check", *options, spec],
                              check=False).returncode
        worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
