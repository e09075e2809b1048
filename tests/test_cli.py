"""The command line: exit codes, JSON diagnostics, --strict, render --check, diff, schema, defaults.

Most tests run the CLI in-process with a small fake target (one file per service plus an index), so
they test the CLI and the output contract, not the targets other modules own; a few run the real
``python -m obsgen`` in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen import targets
from obsgen.cli import EXIT_IO, main
from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.emit.commented_yaml import dump_yaml
from obsgen.plan import Plan
from tests.conftest import ROOT

SCHEMA = ROOT / "specs" / "obsgen.schema.json"
DIAG_FIELDS = {"file", "line", "column", "code", "severity", "message", "hint", "path"}


def fake_render(plan: Plan) -> list[Artifact]:
    """A stand-in target: ``services/<key>.yaml`` for each service and ``index.yaml``."""
    index = dump_yaml({"services": [s.key for s in plan.services]})
    out = [Artifact("index.yaml", header_lines(plan.spec_file) + index)]
    for svc in plan.services:
        out.append(Artifact(f"services/{svc.key}.yaml",
                            header_lines(plan.spec_file) + dump_yaml({"name": svc.name, "kind": svc.kind.value})))
    return out


@pytest.fixture(autouse=True)
def fake_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(targets, "names", lambda: ["fake"])
    monkeypatch.setattr(targets, "load", lambda name: fake_render)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def write_spec(path: Path, services: str = "api: {}\n  db: {kind: database}\n") -> Path:
    path.write_text(f"services:\n  {services}")
    return path


# ------------------------------------------------------------------------------------------------
# Exit codes


def test_exit_codes_validate(tmp_path: Path) -> None:
    good = write_spec(tmp_path / "good.yaml")
    bad = write_spec(tmp_path / "bad.yaml", "api: {calls: [nope]}\n")
    assert cli("validate", str(good))[0] == 0
    assert cli("validate", str(bad))[0] == 1
    assert cli("validate", str(tmp_path / "missing.yaml"))[0] == 2
    assert cli("validate", str(good), str(bad))[0] == 1
    assert cli("validate", str(bad), str(tmp_path / "missing.yaml"))[0] == 2  # I/O beats invalid
    assert cli("validate")[0] == 2  # usage error
    assert cli("validate", "--format", "xml", str(good))[0] == 2
    assert cli("nonsense")[0] == 2


def test_valid_spec_message(tmp_path: Path) -> None:
    code, out, err = cli("validate", str(write_spec(tmp_path / "s.yaml")))
    assert code == 0
    assert out == ""
    assert err.splitlines()[-1] == f"{tmp_path / 's.yaml'}: valid (0 warnings)"


def test_render_exit_codes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml")
    assert cli("render", str(spec), "--out", str(tmp_path / "out"))[0] == 0
    (tmp_path / "file").write_text("x")
    code, _, err = cli("render", str(spec), "--out", str(tmp_path / "file"))
    assert code == 2 and "is a file" in err
    (tmp_path / "link").symlink_to(tmp_path / "out")
    code, _, err = cli("render", str(spec), "--out", str(tmp_path / "link"))
    assert code == 2 and "error OBS900" in err and "symlink" in err
    assert cli("render", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o2"))[0] == 2
    assert not (tmp_path / "o2").exists()


# ------------------------------------------------------------------------------------------------
# JSON diagnostics


def test_format_json_fields(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("services:\n  api:\n    langauge: go\n    calls: [dbb]\n  db: {}\n")
    code, out, _ = cli("validate", "--format", "json", str(spec))
    assert code == 1
    doc = json.loads(out)
    (diag,) = doc["diagnostics"]
    assert set(diag) == DIAG_FIELDS
    assert diag == {
        "file": str(spec), "line": 3, "column": 5, "code": "OBS200", "severity": "error",
        "message": "unknown key 'langauge'", "hint": "did you mean 'language'?", "path": "services.api.langauge",
    }


def test_format_json_semantic_and_warning(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("services:\n  a: {calls: [b]}\n  b: {calls: [a, c]}\n")
    code, out, _ = cli("validate", "--format", "json", str(spec))
    assert code == 1
    diags = json.loads(out)["diagnostics"]
    assert all(set(d) >= DIAG_FIELDS for d in diags)
    by_code = {d["code"]: d for d in diags}
    assert by_code["OBS300"]["severity"] == "error"
    assert (by_code["OBS300"]["line"], by_code["OBS300"]["column"]) == (3, 18)
    assert by_code["OBS304"]["severity"] == "warning"
    assert [d["line"] for d in diags] == sorted(d["line"] for d in diags)


def test_format_json_valid_is_empty_list_and_nothing_on_stderr(tmp_path: Path) -> None:
    code, out, _ = cli("validate", "--format", "json", str(write_spec(tmp_path / "s.yaml")))
    assert code == 0
    assert json.loads(out)["diagnostics"] == []


def test_render_format_json(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", "api: {calls: [api]}\n")
    code, out, _ = cli("render", "--format", "json", str(spec), "--out", str(tmp_path / "out"))
    assert code == 1
    assert json.loads(out)["diagnostics"][0]["code"] == "OBS305"
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------
# --strict


def test_strict_turns_warnings_into_failure(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", "a: {calls: [b]}\n  b: {calls: [a]}\n")
    code, _, err = cli("validate", str(spec))
    assert code == 0 and "warning OBS304" in err and err.endswith(": valid (1 warning)\n")
    code, _, err = cli("validate", "--strict", str(spec))
    assert code == 1 and "warning OBS304" in err
    assert cli("render", str(spec), "--out", str(tmp_path / "out"))[0] == 0
    code, _, _ = cli("render", "--strict", str(spec), "--out", str(tmp_path / "strict-out"))
    assert code == 1
    assert not (tmp_path / "strict-out").exists()
    assert cli("render", "--strict", "--check", str(spec), "--out", str(tmp_path / "out"))[0] == 1


def test_strict_on_clean_spec_is_ok(tmp_path: Path) -> None:
    assert cli("validate", "--strict", str(write_spec(tmp_path / "s.yaml")))[0] == 0


# ------------------------------------------------------------------------------------------------
# render --check and diff


def test_check_fresh_output_prints_nothing(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml")
    out = tmp_path / "out"
    assert cli("render", str(spec), "--out", str(out))[0] == 0
    code, stdout, stderr = cli("render", "--check", str(spec), "--out", str(out))
    assert code == 0
    assert stdout == ""
    assert "up to date" in stderr
    code, stdout, _ = cli("diff", str(spec), "--out", str(out))
    assert code == 0
    assert stdout == "0 file(s) added, 0 removed, 0 changed\n"


def test_check_stale_output_prints_unified_diff(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml")
    out = tmp_path / "out"
    assert cli("render", str(spec), "--out", str(out))[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_spec(spec, "api: {}\n  cache: {kind: cache}\n")  # db removed, cache added, index changed
    code, stdout, stderr = cli("render", "--check", str(spec), "--out", str(out))
    assert code == 1
    assert "stale" in stderr
    lines = stdout.splitlines()
    out = Path(str(out).lstrip("/"))  # outside any git work tree and the working directory: as git diff --no-index
    assert f"--- a/{out}/index.yaml" in lines
    assert f"+++ b/{out}/index.yaml" in lines
    assert "-- db" in lines and "+- cache" in lines
    assert f"+++ b/{out}/services/cache.yaml" in lines and "--- /dev/null" in lines
    assert f"--- a/{out}/services/db.yaml" in lines and "+++ /dev/null" in lines
    assert any(line.startswith("@@ -") for line in lines)
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before  # writes nothing

    code, stdout2, _ = cli("diff", str(spec), "--out", str(tmp_path / "out"))
    assert code == 1
    assert stdout2.startswith(stdout)
    assert stdout2.splitlines()[-1] == "1 file(s) added, 1 removed, 2 changed"  # index + manifest changed


def test_check_on_missing_output_dir(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml")
    code, stdout, _ = cli("render", "--check", str(spec), "--out", str(tmp_path / "none"))
    assert code == 1
    assert "--- /dev/null" in stdout
    assert not (tmp_path / "none").exists()


def test_check_reports_hand_edit(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml")
    out = tmp_path / "out"
    cli("render", str(spec), "--out", str(out))
    (out / "index.yaml").write_text((out / "index.yaml").read_text() + "extra: 1\n")
    code, stdout, _ = cli("render", "--check", str(spec), "--out", str(out))
    assert code == 1 and "-extra: 1" in stdout
    code, _, stderr = cli("render", str(spec), "--out", str(out))
    assert code == 0 and "hand edits overwritten" in stderr
    assert cli("render", "--check", str(spec), "--out", str(out))[0] == 0


def test_render_summary_and_idempotence(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml")
    out = tmp_path / "out"
    code, _, err = cli("render", str(spec), "--out", str(out))
    assert code == 0 and err == f"rendered 4 files into {out}/ (4 added)\n"
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    code, _, err = cli("render", str(spec), "--out", str(out))
    assert code == 0 and err == f"rendered 4 files into {out}/ (none changed)\n"
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == mtimes  # an up-to-date render writes nothing


# ------------------------------------------------------------------------------------------------
# Defaults, schema, python -m


def test_default_output_dir_is_generated_stem_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = write_spec(specs / "my-system.yaml")
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    code, _, err = cli("render", str(spec))
    assert code == 0, err
    assert (cwd / "generated" / "my-system" / "index.yaml").is_file()
    assert (cwd / "generated" / "my-system" / "obsgen-manifest.json").is_file()
    assert not (specs / "generated").exists()
    assert cli("render", "--check", str(spec))[0] == 0
    assert cli("diff", str(spec))[0] == 0


def test_schema_matches_committed_file(tmp_path: Path) -> None:
    if not SCHEMA.exists():
        pytest.skip("specs/obsgen.schema.json not committed yet")
    code, out, _ = cli("schema")
    assert code == 0
    assert out == SCHEMA.read_text(encoding="utf-8")
    json.loads(out)
    assert cli("schema", "-o", str(tmp_path / "s.json"))[0] == 0
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == out


def test_python_dash_m_obsgen(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "s.yaml", "api: {calls: [api]}\n")
    proc = subprocess.run([sys.executable, "-m", "obsgen", "validate", "s.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("s.yaml:2:17: error OBS305 services.api.calls[0]: 'api' calls itself")
    write_spec(spec)
    proc = subprocess.run([sys.executable, "-m", "obsgen", "validate", "s.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "-m", "obsgen", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "render" in proc.stdout and "validate" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "obsgen", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "0.1.0" in proc.stdout


def test_real_render_of_minimal_spec(tmp_path: Path) -> None:
    """End to end with the real targets: render then --check is clean."""
    spec = ROOT / "tests" / "specs" / "minimal.yaml"
    proc = subprocess.run([sys.executable, "-m", "obsgen", "render", str(spec), "--out", "out"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "obsgen-manifest.json").is_file()
    proc = subprocess.run([sys.executable, "-m", "obsgen", "render", "--check", str(spec), "--out", "out"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == ""


def test_the_command_exits_with_its_code_and_flushed_output(tmp_path: Path) -> None:
    """`obsgen` ends through cli.run's last flush: output must be complete, codes unchanged."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nservices: {}\nbogus: 1\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "obsgen", "validate", "--format", "json", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["diagnostics"]
    proc = subprocess.run([sys.executable, "-m", "obsgen", "schema"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)["title"]
    proc = subprocess.run([sys.executable, "-m", "obsgen", "render", "--bogus"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2 and "No such option" in proc.stderr


def test_the_command_tolerates_a_closed_stdout() -> None:
    proc = subprocess.run(["sh", "-c", f'"{sys.executable}" -m obsgen validate specs/shop.yaml >&-'],
                          cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device whose every write fails)")
def test_a_failed_write_of_the_output_is_an_io_error_not_a_traceback() -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        proc = subprocess.run([sys.executable, "-m", "obsgen", "schema"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=60)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == EXIT_IO and "cannot write the output" in proc.stderr
