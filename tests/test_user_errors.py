"""Issue #14, "tracebacks and wrong messages": what a user sees for a wrong spec is obsgen's own words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from obsgen.spec.locations import spec_location


def test_union_tags_are_found_by_position_not_by_spelling() -> None:
    # 'Payments' and 'str' are spec keys; 'Call' and the function-after tag are pydantic's member tags
    where = spec_location(("services", "Payments", "calls", 0, "Call", "Endpoint"), "extra_forbidden")
    assert where.loc == ("services", "Payments", "calls", 0, "Endpoint")
    assert where.branches == ((("services", "Payments", "calls", 0), "model"),)
    where = spec_location(("services", "str", "calls", 1, "function-after[_no_dotdot(), constrained-str]"),
                          "string_pattern_mismatch")
    assert where.loc == ("services", "str", "calls", 1)
    assert where.branches == ((("services", "str", "calls", 1), "scalar"),)
    assert spec_location(("Services",), "extra_forbidden").loc == ("Services",)
    assert spec_location(("sampling", "policies", 0, "critical_endpoints", "CriticalEndpointsPolicy", "Services"),
                         "extra_forbidden").loc == ("sampling", "policies", 0, "critical_endpoints", "Services")


def test_a_key_error_is_told_from_a_key_named_like_the_marker() -> None:
    where = spec_location(("services", "a/b", "[key]"), "string_pattern_mismatch")
    assert (where.loc, where.key_error) == (("services", "a/b"), True)
    where = spec_location(("services", "api", "[key]"), "extra_forbidden")  # a Service field named '[key]'
    assert (where.loc, where.key_error) == (("services", "api", "[key]"), False)


# ------------------------------------------------------------------------------------------------
# Exit codes: schema/docs -o, diff


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBSGEN_NO_CACHE": "1"}
    return subprocess.run([sys.executable, "-m", "obsgen", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


@pytest.mark.parametrize("command", ["schema", "docs"])
def test_writing_to_a_missing_directory_is_an_io_error(command: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.txt"
    proc = _run(command, "-o", str(target))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{target}: error OBS901 cannot write: No such file or directory\n"
                                  "    hint: the directory does not exist")
    (tmp_path / "afile").write_text("")
    target = tmp_path / "afile" / "out.txt"
    proc = _run(command, "-o", str(target))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{target}: error OBS901 cannot write: Not a directory" in proc.stderr


def test_schema_to_a_writable_file_still_works(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert _run("schema", "-o", str(target)).returncode == 0
    assert "services" in json.loads(target.read_text())["properties"]


def test_diff_tells_changes_from_trouble(tmp_path: Path) -> None:
    """diff(1) and `git diff --exit-code`: 0 no changes, 1 changes, 2 trouble (an invalid spec included)."""
    spec = tmp_path / "s.yaml"
    spec.write_text("services:\n  api: {}\n")
    out = tmp_path / "out"
    proc = _run("diff", str(spec), "--out", str(out))
    assert proc.returncode == 1, proc.stderr  # nothing rendered yet: every file would be added
    assert _run("render", str(spec), "--out", str(out)).returncode == 0
    assert _run("diff", str(spec), "--out", str(out)).returncode == 0
    spec.write_text("services:\n  api: {calls: [nobody]}\n")
    proc = _run("diff", str(spec), "--out", str(out))
    assert proc.returncode == 2
    assert "OBS300" in proc.stderr and proc.stdout == ""
    assert "0 no changes, 1 changes, 2 trouble" in " ".join(_run("diff", "--help").stdout.split())
