"""``obsgen verify``: the real tools run on a render in a private temporary directory.

Fake tools (small Python scripts that record their argv, working directory and whether each path they got
exists) prove the call shapes, that only paths inside the render's temporary directory reach a tool, that the
directory is gone afterwards and that a tool's message is reported against the generated path. The real
Collector and promtool (``tests/realtools.py``: fail in CI when missing) prove the examples pass and that a
rejected artifact makes verify fail with the tool's own message. Tempo cannot be built here (its module is
AGPL), so only a fake ``tempo`` shows its call.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from obsgen.check import verify
from obsgen.cli import main
from obsgen.emit.artifacts import Artifact
from obsgen.generate import generate
from tests import realtools
from tests.conftest import ROOT

SHOP = ROOT / "specs" / "shop.yaml"
SCALEOUT = ROOT / "tests" / "specs" / "scaleout.yaml"
DISTRIBUTED = ROOT / "tests" / "specs" / "distributed.yaml"

FAKE_TOOL = """#!{python}
import json, os, sys
paths = []
for arg in sys.argv[1:]:
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    if "/" in value:
        paths.append([value, os.path.isfile(value)])
with open({log!r}, "a") as log:
    log.write(json.dumps({{"tool": {name!r}, "argv": sys.argv[1:], "cwd": os.getcwd(), "paths": paths}}) + "\\n")
if sys.argv[1:] in (["--version"], ["-version"]):
    print({version!r})
    sys.exit(0)
{body}
"""


def fake_tool(directory: Path, name: str, log: Path, body: str = "sys.exit(0)", version: str = "") -> Path:
    """An executable ``directory/name`` that logs each call to ``log`` as a JSON line, then runs ``body``
    (or prints ``version`` when asked for it)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(FAKE_TOOL.format(python=sys.executable, log=str(log), name=name, body=body,
                                                version=version), encoding="utf-8")
    path.chmod(0o755)
    return path


def calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> Result:
    """``obsgen ARGS`` in-process, with exactly ``env`` for the tool variables and PATH, in ``cwd``."""
    full_env = {"PATH": env.pop("PATH", ""), "OBSGEN_OTELCOL": "", "OBSGEN_PROMTOOL": "", "OBSGEN_TEMPO": "",
                **env}
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, env=full_env, catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def empty_path(tmp_path: Path) -> str:
    """A PATH with no tool on it."""
    (tmp_path / "empty-bin").mkdir()
    return str(tmp_path / "empty-bin")


# ------------------------------------------------------------------------------------------------
# Fake tools: call shapes, paths, the temporary directory, message mapping


def test_each_tool_gets_only_paths_inside_the_render_dir_which_is_removed(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    bin_dir = tmp_path / "bin"
    for name in ("otelcol", "promtool", "tempo"):
        fake_tool(bin_dir, name, log)
    result = run_cli(["verify", str(SHOP)], {"PATH": str(bin_dir)}, tmp_path)
    assert result.exit_code == 0, result.output

    runs = [c for c in calls(log) if c["paths"]]
    roots = {c["cwd"] for c in runs}
    assert len(roots) == 1, roots  # one directory, the tools' working directory
    root = roots.pop()
    assert Path(root).name.startswith("obsgen-verify-")
    assert not Path(root).exists(), "the temporary directory is removed afterwards"
    for call in runs:
        for path, existed in call["paths"]:  # type: ignore[union-attr]
            assert os.path.commonpath([path, root]) == root, (call, root)
            assert existed, f"{path} was not written before the tool ran"
    assert root not in result.output and str(Path(root).parent) + "/obsgen-verify" not in result.output

    by_tool = {name: [c["argv"] for c in runs if c["tool"] == name] for name in ("otelcol", "promtool", "tempo")}
    assert by_tool["otelcol"] == [["validate", f"--config={root}/otel-collector/config.yaml"]]
    rules = sorted(p.name for p in (ROOT / "generated" / "shop" / "prometheus" / "rules").glob("*.yaml"))
    tests = sorted(p.name for p in (ROOT / "generated" / "shop" / "prometheus" / "tests").glob("*.yaml"))
    assert sorted(map(tuple, by_tool["promtool"])) == sorted(  # type: ignore[arg-type]
        [("check", "rules", f"{root}/prometheus/rules/{n}") for n in rules]
        + [("test", "rules", f"{root}/prometheus/tests/{n}") for n in tests])
    assert by_tool["tempo"] == [["-config.verify", f"-config.file={root}/tempo/tempo.yaml"]]
    # the version probes carry no path at all
    assert {tuple(c["argv"]) for c in calls(log) if not c["paths"]} == {("--version",), ("-version",)}
    assert "otel-collector/config.yaml: ok (otelcol validate)" in result.output
    assert "tempo/tempo.yaml: ok (tempo -config.verify)" in result.output


def test_tempo_with_environment_references_runs_with_expand_env(tmp_path: Path) -> None:
    """The distributed layout reads S3 secrets from the environment: Tempo must expand them, and unset
    ones get a placeholder (a deployment provides them), said in the output."""
    log = tmp_path / "calls.jsonl"
    tempo = fake_tool(tmp_path / "bin", "tempo", log)
    result = run_cli(["verify", str(DISTRIBUTED), "--tempo", str(tempo)],
                     {"PATH": "", "TEMPO_S3_ACCESS_KEY": "set-by-user"}, tmp_path)
    assert result.exit_code == 0, result.output
    [call] = [c for c in calls(log) if c["paths"]]
    root = call["cwd"]
    assert call["argv"] == ["-config.verify", f"-config.file={root}/tempo/tempo.yaml", "-config.expand-env=true"]
    line = next(x for x in result.output.splitlines() if x.startswith("tempo/tempo.yaml:"))
    assert "TEMPO_S3_SECRET_KEY" in line and "'obsgen-verify'" in line
    assert "TEMPO_S3_ACCESS_KEY" not in line  # it is set: the user's value is used
    # defaulted references (${TEMPO_KAFKA_ADDRESS:-kafka:9092}) need nothing
    assert "TEMPO_KAFKA_ADDRESS" not in line


def test_a_rejection_is_reported_against_the_generated_path(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    body = ('path = sys.argv[-1].split("=", 1)[1]\n'
            'print(f"Error: {path}: \'processors::tail_sampling\' has invalid keys: decision_wiat", file=sys.stderr)\n'
            'print(f"  (read from {os.getcwd()})")\n'
            "sys.exit(1)")
    otelcol = fake_tool(tmp_path / "bin", "otelcol", log, body)
    result = run_cli(["verify", str(SHOP), "--otelcol", str(otelcol)], {"PATH": ""}, tmp_path)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    at = lines.index("otel-collector/config.yaml: FAIL OBS910 (otelcol validate)")
    assert lines[at + 1] == ("    Error: otel-collector/config.yaml: 'processors::tail_sampling' has invalid keys: "
                             "decision_wiat")
    assert lines[at + 2] == "      (read from .)"
    assert "obsgen-verify-" not in result.output
    assert lines[-1].startswith("verify: 0 ok, 1 rejected")


def test_missing_tools_are_skipped_with_one_line_each(tmp_path: Path, empty_path: str) -> None:
    result = run_cli(["verify", str(SHOP)], {"PATH": empty_path}, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "otelcol: not found, skipped (no --otelcol, no OBSGEN_OTELCOL, no otelcol-contrib or otelcol on PATH)" \
        in lines
    assert "promtool: not found, skipped (no --promtool, no OBSGEN_PROMTOOL, no promtool on PATH)" in lines
    assert "tempo: not found, skipped (no --tempo, no OBSGEN_TEMPO, no tempo on PATH)" in lines
    assert lines[-1] == "verify: 0 ok, 0 rejected, 3 tool(s) skipped"


def test_require_makes_a_missing_tool_an_error(tmp_path: Path, empty_path: str) -> None:
    log = tmp_path / "calls.jsonl"
    promtool = fake_tool(tmp_path / "bin", "promtool", log)
    result = run_cli(["verify", str(SHOP), "--require", "otelcol", "--require", "promtool",
                      "--promtool", str(promtool)], {"PATH": empty_path}, tmp_path)
    assert result.exit_code == 2, result.output
    assert "otelcol: not found, error OBS911 (--require otelcol, and no --otelcol, no OBSGEN_OTELCOL, " \
           "no otelcol-contrib or otelcol on PATH)" in result.output.splitlines()
    assert "tempo: not found, skipped" in result.output  # not required
    assert "prometheus/rules/recordings.yaml: ok (promtool check rules)" in result.output  # the rest still ran
    assert result.output.splitlines()[-1].endswith("1 tool(s) missing")


def test_an_explicit_path_that_is_not_a_tool_is_an_error(tmp_path: Path, empty_path: str) -> None:
    missing = tmp_path / "no-such-otelcol"
    result = run_cli(["verify", str(SHOP), "--otelcol", str(missing)], {"PATH": empty_path}, tmp_path)
    assert result.exit_code == 2, result.output
    assert f"otelcol: not found, error OBS911 (--otelcol {missing} is not an executable file)" \
        in result.output.splitlines()
    result = run_cli(["verify", str(SHOP)], {"PATH": empty_path, "OBSGEN_PROMTOOL": str(missing)}, tmp_path)
    assert result.exit_code == 2
    assert f"(OBSGEN_PROMTOOL {missing} is not an executable file)" in result.output


def test_a_tool_that_hangs_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    # --version answers at once; the real run sleeps far past the timeout
    body = 'import time\nprint("starting"); sys.stdout.flush(); time.sleep(60)'
    otelcol = fake_tool(tmp_path / "bin", "otelcol", log, body)
    start = time.monotonic()
    result = run_cli(["verify", str(SHOP), "--otelcol", str(otelcol), "--timeout", "1"], {"PATH": ""}, tmp_path)
    assert time.monotonic() - start < 30
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()
    at = lines.index("otel-collector/config.yaml: error OBS912 (otelcol validate)")
    assert lines[at + 1:at + 3] == ["    timed out after 1s (--timeout)", "    starting"]


def test_an_interrupted_verify_leaves_no_tool_running_and_no_directory(tmp_path: Path) -> None:
    """Ctrl-C while a tool runs: the tool (in its own session, so the terminal's SIGINT misses it) is killed
    and the temporary directory removed."""
    log = tmp_path / "calls.jsonl"
    pid_file = tmp_path / "tool.pid"
    body = f"import time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)"
    otelcol = fake_tool(tmp_path / "bin", "otelcol", log, body)
    env = {**os.environ, "PATH": "", "OBSGEN_OTELCOL": str(otelcol), "OBSGEN_PROMTOOL": "", "OBSGEN_TEMPO": ""}
    proc = subprocess.Popen([sys.executable, "-m", "obsgen", "verify", str(SHOP)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid_file.exists(), "the tool never started"
    tool_pid = int(pid_file.read_text())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0, err
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(tool_pid, 0)
    [run] = [c for c in calls(log) if c["paths"]]
    assert not Path(str(run["cwd"])).exists()


def test_a_tool_that_cannot_be_executed_is_an_error_not_a_rejection(tmp_path: Path) -> None:
    broken = tmp_path / "otelcol"
    broken.write_bytes(b"\x7fELF not really")
    broken.chmod(0o755)
    result = run_cli(["verify", str(SHOP), "--otelcol", str(broken)], {"PATH": ""}, tmp_path)
    assert result.exit_code == 2, result.output
    assert "otel-collector/config.yaml: error OBS912 (otelcol validate)" in result.output
    assert "cannot run" in result.output


def test_a_tool_of_another_version_than_the_pinned_one_is_used_with_a_warning(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    old = fake_tool(tmp_path / "bin", "promtool", log, version="promtool, version 2.42.0 (branch: debian/sid)")
    same = fake_tool(tmp_path / "bin2", "otelcol", log, version="otelcol-contrib version 0.159.1")
    result = run_cli(["verify", str(SHOP), "--promtool", str(old), "--otelcol", str(same)], {"PATH": ""}, tmp_path)
    assert result.exit_code == 0, result.output
    assert (f"promtool: {old} from --promtool, version 2.42.0 (warning: the spec pins 3.5.0: results may differ "
            "from what that version accepts)") in result.output.splitlines()
    assert f"otelcol: {same} from --otelcol, version 0.159.1" in result.output.splitlines()  # same minor: no warning


def test_a_path_outside_the_render_never_reaches_a_tool(tmp_path: Path) -> None:
    """The guard under the planning: a check whose arguments name a file outside the render is refused."""
    log = tmp_path / "calls.jsonl"
    tool = verify.Tool("otelcol", str(fake_tool(tmp_path / "bin", "otelcol", log)), "--otelcol")
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("x: 1\n")
    check = verify.Check("otelcol", ("validate", f"--config={outside}"), "otel-collector/config.yaml", "validate")
    art = Artifact("otel-collector/config.yaml", "x: 1\n")
    with pytest.raises(RuntimeError, match="outside the render"):
        verify.run_checks([art], [check], {"otelcol": tool}, {"PATH": ""}, timeout=30)
    assert calls(log) == []


def test_an_invalid_spec_runs_no_tool_and_exits_1(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    otelcol = fake_tool(tmp_path / "bin", "otelcol", log)
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\nservices:\n  api:\n    calls: [nowhere]\n", encoding="utf-8")
    result = run_cli(["verify", str(spec), "--otelcol", str(otelcol)], {"PATH": ""}, tmp_path)
    assert result.exit_code == 1, result.output
    assert "OBS300" in result.output and "bad.yaml:4:" in result.output
    assert calls(log) == []
    assert "verify:" not in result.output


def test_verify_writes_nothing_to_the_output_directory(tmp_path: Path, empty_path: str) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_bytes(SHOP.read_bytes())
    result = run_cli(["verify", str(spec)], {"PATH": empty_path}, tmp_path)
    assert result.exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty-bin", "shop.yaml"]


def test_json_format(tmp_path: Path, empty_path: str) -> None:
    log = tmp_path / "calls.jsonl"
    body = 'if sys.argv[1] == "test":\n    print("FAILED: " + sys.argv[-1]); sys.exit(1)'
    promtool = fake_tool(tmp_path / "bin", "promtool", log, body)
    result = run_cli(["verify", str(SCALEOUT), "--format", "json", "--promtool", str(promtool)],
                     {"PATH": empty_path}, tmp_path)
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["exit_code"] == 1 and doc["spec"] == str(SCALEOUT)
    assert [t["tool"] for t in doc["verify"]["tools"]] == ["otelcol", "promtool", "tempo"]
    reason = "no --otelcol, no OBSGEN_OTELCOL, no otelcol-contrib or otelcol on PATH"
    assert doc["verify"]["tools"][0] == {"tool": "otelcol", "status": "missing", "error": False, "code": "",
                                         "reason": reason}
    assert doc["verify"]["tools"][1]["path"] == str(promtool)
    checks = doc["verify"]["checks"]
    assert {c["tool"] for c in checks} == {"promtool"}
    failed = [c for c in checks if c["status"] == "FAIL"]
    assert failed and all(c["command"] == "test rules" and c["code"] == "OBS910" for c in failed)
    assert all(c["message"] == f"FAILED: {c['artifact']}" for c in failed)
    assert "obsgen-verify-" not in result.output


def test_invalid_spec_in_json_format(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\nservices: []\n", encoding="utf-8")
    result = run_cli(["verify", str(spec), "--format", "json"], {"PATH": ""}, tmp_path)
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["verify"] is None and doc["exit_code"] == 1 and doc["diagnostics"]


# ------------------------------------------------------------------------------------------------
# What is run on which artifact (no tool needed)


def _artifacts(spec: Path) -> tuple[list[Artifact], object]:
    result = generate(spec, str(spec.relative_to(ROOT)))
    assert result.ok
    return result.artifacts, result.plan


def test_the_gateway_is_checked_with_a_static_resolver_on_the_same_service_and_ports() -> None:
    artifacts, plan = _artifacts(SCALEOUT)
    checks = {c.artifact: c for c in verify.plan_checks(artifacts, plan, {"HOSTNAME": "pod-0"})}  # type: ignore[arg-type]
    gateway = checks["otel-collector/gateway.yaml"]
    assert "k8s resolver swapped to static" in gateway.note
    rendered = yaml.safe_load(next(a.text for a in artifacts if a.path == "otel-collector/gateway.yaml"))
    checked = yaml.safe_load(gateway.text or "")
    k8s = rendered["exporters"]["load_balancing"]["resolver"]["k8s"]
    assert checked["exporters"]["load_balancing"]["resolver"] == {
        "static": {"hostnames": [f"{k8s['service']}:{port}" for port in k8s["ports"]]}}
    del rendered["exporters"]["load_balancing"]["resolver"], checked["exporters"]["load_balancing"]["resolver"]
    assert checked == rendered  # nothing else changed
    assert checks["otel-collector/sampler.yaml"].text is None  # no resolver: the rendered text itself
    assert gateway.env == {}  # HOSTNAME is set


def test_the_static_copy_covers_both_exporter_ids_and_a_resolver_without_ports() -> None:
    text = ("exporters:\n  loadbalancing/a:\n    resolver:\n      k8s:\n        service: s.ns\n"
            "  load_balancing:\n    resolver:\n      k8s:\n        service: t.ns\n        ports: [1, 2]\n"
            "  otlp:\n    resolver:\n      k8s: {service: u}\n")
    copy, swapped = verify.static_resolver_copy(text)
    assert swapped
    exporters = yaml.safe_load(copy)["exporters"]
    assert exporters["loadbalancing/a"]["resolver"] == {"static": {"hostnames": ["s.ns"]}}
    assert exporters["load_balancing"]["resolver"] == {"static": {"hostnames": ["t.ns:1", "t.ns:2"]}}
    assert exporters["otlp"]["resolver"] == {"k8s": {"service": "u"}}  # not a load balancer: left alone
    assert verify.static_resolver_copy("exporters:\n  otlp: {}\n") == ("exporters:\n  otlp: {}\n", False)


def test_an_unset_variable_the_collector_reads_gets_a_placeholder() -> None:
    artifacts, plan = _artifacts(SCALEOUT)
    checks = {c.artifact: c for c in verify.plan_checks(artifacts, plan, {})}  # type: ignore[arg-type]
    # the remote-write exporter's collector_instance label is ${env:HOSTNAME}; empty, the Collector refuses it
    assert checks["otel-collector/gateway.yaml"].env == {"HOSTNAME": "obsgen-verify"}
    assert "unset HOSTNAME set to 'obsgen-verify' for the check" in checks["otel-collector/gateway.yaml"].note


def test_collector_references_with_defaults_escapes_and_comments_need_nothing() -> None:
    text = ("# ${env:IN_COMMENT}\nexporters:\n  debug:\n    a: ${env:NEEDED}\n    b: ${env:DEFAULTED:-x}\n"
            "    c: $${env:ESCAPED}\n    d: ${BARE}\n    ${env:KEY}: 1\n")
    assert verify.collector_env_needed(text) == ["NEEDED", "BARE"]


def test_a_long_or_hostile_message_is_shown_escaped_indented_and_cut(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    body = ('print("\\x1b[31mred\\x1b[0m\\rprometheus/rules/x.yaml: ok (forged)\\u2028x")\n'
            'for i in range(1000): print(f"line {i}")\n'
            "sys.exit(1)")
    otelcol = fake_tool(tmp_path / "bin", "otelcol", log, body)
    result = run_cli(["verify", str(SHOP), "--otelcol", str(otelcol)], {"PATH": ""}, tmp_path)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    at = lines.index("otel-collector/config.yaml: FAIL OBS910 (otelcol validate)")
    # the carriage return starts a line (universal newlines), which is indented like every other
    assert lines[at + 1:at + 3] == ["    \\u001b[31mred\\u001b[0m", "    prometheus/rules/x.yaml: ok (forged)\\u2028x"]
    assert lines[at + 3:at + 5] == ["    line 0", "    line 1"]
    assert lines[at + verify.MAX_MESSAGE_LINES] == f"    line {verify.MAX_MESSAGE_LINES - 3}"
    assert lines[at + verify.MAX_MESSAGE_LINES + 1] == f"    ... ({1002 - verify.MAX_MESSAGE_LINES} more lines)"
    assert all(x.startswith("    ") for x in lines[at + 1:at + verify.MAX_MESSAGE_LINES + 2])


def test_map_paths_hides_the_temporary_directory(tmp_path: Path) -> None:
    root = tmp_path / "obsgen-verify-x"
    assert verify.map_paths(f"{root}/prometheus/rules/a.yaml: bad; cwd {root}", root) == \
        "prometheus/rules/a.yaml: bad; cwd ."


# ------------------------------------------------------------------------------------------------
# The real tools


def _real_env(empty: str) -> dict[str, str]:
    return {"PATH": empty, "OBSGEN_OTELCOL": realtools.require("otelcol"),
            "OBSGEN_PROMTOOL": realtools.require("promtool")}


@pytest.mark.parametrize("spec", [SHOP, SCALEOUT], ids=["shop", "scaleout"])
def test_the_examples_pass_the_real_collector_and_promtool(spec: Path, tmp_path: Path, empty_path: str) -> None:
    result = run_cli(["verify", str(spec), "--require", "otelcol", "--require", "promtool"],
                     _real_env(empty_path), tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    checked = [x for x in lines if x.startswith(("otel-collector/", "prometheus/"))]
    collector = [a.path for a in _artifacts(spec)[0] if a.path.startswith("otel-collector/")]
    assert len([x for x in checked if x.startswith("otel-collector/")]) == len(collector) >= 1
    assert any("(promtool test rules)" in x for x in checked) and any("(promtool check rules)" in x for x in checked)
    assert all(": ok (" in x for x in checked), checked
    assert "tempo: not found, skipped" in result.output


def test_a_config_the_real_collector_refuses_fails_with_its_message(empty_path: str) -> None:
    """Through the seam under the CLI: a rendered config with a misspelt key, as a broken generator would write."""
    artifacts, plan = _artifacts(SHOP)
    config = next(a for a in artifacts if a.path == "otel-collector/config.yaml")
    broken = config.text.replace("    decision_wait: ", "    decision_wiat: ", 1)
    assert broken != config.text
    only = [Artifact(config.path, broken)]
    report = verify.verify_artifacts(only, plan, {}, environ={**_real_env(empty_path)})  # type: ignore[arg-type]
    [outcome] = report.outcomes
    assert outcome.status is verify.Status.FAIL and report.exit_code == 1
    assert "decision_wiat" in outcome.message and "obsgen-verify-" not in outcome.message


def test_a_rule_test_the_real_promtool_fails_is_mapped_to_the_artifact(empty_path: str) -> None:
    """A changed alert threshold (the generator and its test out of step) fails ``promtool test rules``.
    promtool 3.5 does not name the test file in a failure: the FAIL line names the artifact."""
    artifacts, plan = _artifacts(SHOP)
    test_file = next(a for a in artifacts if a.path == "prometheus/tests/services.yaml")
    needed = {test_file.path, *(f"prometheus/{p.removeprefix('../')}"
                                for p in yaml.safe_load(test_file.text)["rule_files"])}
    chosen = []
    for art in artifacts:
        if art.path == "prometheus/rules/services.yaml":
            assert "> 0.05\n" in art.text
            art = Artifact(art.path, art.text.replace("> 0.05\n", "> 0.5\n"))
        if art.path in needed:
            chosen.append(art)
    report = verify.verify_artifacts(chosen, plan, {}, environ=_real_env(empty_path))  # type: ignore[arg-type]
    by_path = {(o.check.artifact, o.check.label): o for o in report.outcomes}
    failed = by_path[("prometheus/tests/services.yaml", "test rules")]
    assert failed.status is verify.Status.FAIL
    assert "ServiceHighErrorRatio" in failed.message
    assert failed.message.startswith("  FAILED:") and "obsgen-verify-" not in failed.message
    assert by_path[("prometheus/rules/services.yaml", "check rules")].status is verify.Status.OK


def test_a_rule_file_the_real_promtool_rejects_is_mapped_to_the_artifact(empty_path: str) -> None:
    artifacts, plan = _artifacts(SHOP)
    rule = next(a for a in artifacts if a.path == "prometheus/rules/recordings.yaml")
    doc = yaml.safe_load(rule.text)
    doc["groups"][0]["rules"][0]["expr"] = "sum(rate(x[5m])"  # unclosed parenthesis
    report = verify.verify_artifacts([Artifact(rule.path, yaml.safe_dump(doc))], plan, {},  # type: ignore[arg-type]
                                     environ=_real_env(empty_path))
    [outcome] = report.outcomes
    assert outcome.status is verify.Status.FAIL
    assert "prometheus/rules/recordings.yaml" in outcome.message and "obsgen-verify-" not in outcome.message
