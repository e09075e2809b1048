"""CI formats: GitHub Actions workflow commands and SARIF 2.1.0, on validate, render and lint.

Workflow commands are read back with the runner's unescaping; SARIF logs are checked against the
SARIF 2.1.0 JSON schema the tests carry (tests/sarif/README.md says where it comes from).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from obsgen.ci.formats import escape_data, escape_property, github_command, relative_path, sarif_log
from obsgen.cli import main
from obsgen.diagnostics import CODES, Diagnostic, Severity
from tests.conftest import ROOT

SARIF_SCHEMA = json.loads((ROOT / "tests" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
BAD_DURATION = (ROOT / "tests" / "invalid" / "duration-bad.yaml").read_text(encoding="utf-8")
GOOD = "services:\n  api: {}\n  db: {kind: database}\n"
COMMAND = re.compile(r"^::(?P<command>error|warning) (?P<props>[^:]*)::(?P<message>.*)$")


def unescape_data(text: str) -> str:
    """The runner's reverse of escapeData; %25 last, so an escaped '%0A' stays '%0A'."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """(command, properties, message) of one workflow command line, as the runner splits it:
    properties end at the first '::', are separated by ',' and split at their first '='."""
    match = COMMAND.match(line)
    assert match is not None, line
    props = dict(item.split("=", 1) for item in match["props"].split(","))
    return match["command"], {k: unescape_property(v) for k, v in props.items()}, unescape_data(match["message"])


def validate_sarif(text: str) -> dict[str, object]:
    log = json.loads(text)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)  # the schema declares draft-04
    return log


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout stand-in: specs/ below the working directory, as in a repository."""
    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- escaping -------------------------------------------------------------------------------------

def test_escaping_follows_actions_toolkit() -> None:
    # '%' first: an input '%0A' must not come back as a line break
    assert escape_data("100%0A\r\nx: y, z") == "100%250A%0D%0Ax: y, z"
    assert escape_property("100%0A\r\nx: y, z") == "100%250A%0D%0Ax%3A y%2C z"
    assert unescape_property(escape_property("a%3A,b:%,\r\n")) == "a%3A,b:%,\r\n"


def test_a_file_name_with_separators_survives_the_round_trip(workdir: Path) -> None:
    name = "specs/odd,name:100%.yaml"
    diag = Diagnostic("OBS204", "bad: 50%, or\nworse", file=name, line=3, column=7, path="a.b", hint="use 1s")
    command, props, message = parse_command(github_command(diag))
    assert command == "error"
    assert props == {"file": name, "line": "3", "col": "7", "title": "OBS204"}
    # a line break from the input shows escaped (as in the text form); the hint is on its own line
    assert message == "a.b: bad: 50%, or\\nworse\nhint: use 1s"


def test_positions_are_left_out_when_unknown() -> None:
    assert github_command(Diagnostic("OBS106", "root", severity=Severity.WARNING)) == "::warning title=OBS106::root"
    assert github_command(Diagnostic("OBS106", "root", file="x.yaml")).startswith("::error file=x.yaml,title=")


def test_paths_are_relative_to_the_working_directory(workdir: Path) -> None:
    assert relative_path(str(workdir / "specs" / "a.yaml")) == "specs/a.yaml"
    assert relative_path("specs/a.yaml") == "specs/a.yaml"
    assert relative_path("/elsewhere/a.yaml") == "/elsewhere/a.yaml"


# --- the commands -----------------------------------------------------------------------------------

def test_validate_github_annotates_the_text_forms_position(workdir: Path) -> None:
    (workdir / "specs" / "bad.yaml").write_text(BAD_DURATION, encoding="utf-8")
    text_code, _, text_err = cli("validate", "specs/bad.yaml")
    code, out, _ = cli("validate", "--format", "github", str(workdir / "specs" / "bad.yaml"))
    assert code == text_code == 1
    lines = out.splitlines()
    assert len(lines) == 1
    command, props, message = parse_command(lines[0])
    assert (command, props) == ("error", {"file": "specs/bad.yaml", "line": "5", "col": "18", "title": "OBS204"})
    assert f"specs/bad.yaml:{props['line']}:{props['col']}: error OBS204" in text_err
    assert message.startswith("sampling.decision_wait: invalid duration")


def test_validate_sarif_is_schema_valid_and_points_at_the_spec(workdir: Path) -> None:
    (workdir / "specs" / "bad.yaml").write_text(BAD_DURATION, encoding="utf-8")
    (workdir / "specs" / "good.yaml").write_text(GOOD, encoding="utf-8")
    code, out, _ = cli("validate", "--format", "sarif", "specs/good.yaml", "specs/bad.yaml")
    assert code == 1
    log = validate_sarif(out)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]  # type: ignore[index]
    driver = run["tool"]["driver"]
    assert driver["name"] == "obsgen" and driver["version"]
    assert [r["id"] for r in driver["rules"]] == list(CODES)
    (result,) = run["results"]
    assert result["ruleId"] == "OBS204" and result["level"] == "error"
    assert driver["rules"][result["ruleIndex"]]["id"] == "OBS204"
    (location,) = result["locations"]
    assert location["physicalLocation"] == {"artifactLocation": {"uri": "specs/bad.yaml", "uriBaseId": "%SRCROOT%"},
                                            "region": {"startLine": 5, "startColumn": 18}}
    assert cli("validate", "--format", "sarif", "specs/good.yaml", "specs/bad.yaml")[1] == out  # byte-identical


def test_a_clean_run_is_an_empty_sarif_log_and_no_annotations(workdir: Path) -> None:
    (workdir / "specs" / "good.yaml").write_text(GOOD, encoding="utf-8")
    code, out, _ = cli("validate", "--format", "sarif", "specs/good.yaml")
    assert code == 0 and validate_sarif(out)["runs"][0]["results"] == []  # type: ignore[index]
    code, out, err = cli("validate", "--format", "github", "specs/good.yaml")
    assert (code, out) == (0, "") and err.endswith("specs/good.yaml: valid (0 warnings)\n")


def test_warnings_are_warnings(workdir: Path) -> None:
    (workdir / "specs" / "cycle.yaml").write_text((ROOT / "tests" / "invalid" / "call-cycle.yaml").read_text())
    code, out, _ = cli("validate", "--format", "github", "specs/cycle.yaml")
    assert code == 0 and out.startswith("::warning file=specs/cycle.yaml,line=")
    log = validate_sarif(cli("validate", "--format", "sarif", "specs/cycle.yaml")[1])
    assert {r["level"] for r in log["runs"][0]["results"]} == {"warning"}  # type: ignore[index]


def test_a_file_outside_the_working_directory_is_an_absolute_uri(workdir: Path,
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "bad spec.yaml"
    outside.write_text(BAD_DURATION, encoding="utf-8")
    log = validate_sarif(cli("validate", "--format", "sarif", str(outside))[1])
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]  # type: ignore[index]
    assert location["artifactLocation"] == {"uri": outside.as_uri()}
    assert "%20" in outside.as_uri()


def test_render_check_github_and_sarif_on_stale_output(workdir: Path) -> None:
    (workdir / "specs" / "good.yaml").write_text(GOOD, encoding="utf-8")
    code, out, _ = cli("render", "--check", "--format", "github", "specs/good.yaml")
    assert code == 1
    stale = [line for line in out.splitlines() if line.startswith("::")]
    assert len(stale) == 1
    command, props, message = parse_command(stale[0])
    assert (command, props["file"], props["title"]) == ("error", "specs/good.yaml", "stale output")
    assert message == "generated/good/ is stale; run `obsgen render specs/good.yaml`"
    assert "+++ " in out  # the diff is in the log too
    # with SARIF, stdout is the log alone: the diff goes to stderr
    code, out, err = cli("render", "--check", "--format", "sarif", "specs/good.yaml")
    assert code == 1 and validate_sarif(out)["runs"][0]["results"] == []  # type: ignore[index]
    assert "+++ " in err
    assert cli("render", "specs/good.yaml")[0] == 0
    assert cli("render", "--check", "--format", "github", "specs/good.yaml")[:2] == (0, "")


def test_render_sarif_reports_a_failed_render(workdir: Path) -> None:
    (workdir / "specs" / "bad.yaml").write_text(BAD_DURATION, encoding="utf-8")
    code, out, _ = cli("render", "--format", "sarif", "specs/bad.yaml")
    assert code == 1 and not (workdir / "generated").exists()
    assert [r["ruleId"] for r in validate_sarif(out)["runs"][0]["results"]] == ["OBS204"]  # type: ignore[index]


def test_lint_github_and_sarif(workdir: Path) -> None:
    bad = workdir / "otel.yaml"
    bad.write_text("receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpont: 0.0.0.0:4317\n"
                   "exporters:\n  debug: {}\n"
                   "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n")
    code, out, _ = cli("lint", "--format", "github", "otel.yaml")
    assert code == 1
    command, props, _ = parse_command(out.splitlines()[0])
    assert (command, props) == ("error", {"file": "otel.yaml", "line": "5", "col": "9", "title": "OBS801"})
    code, out, _ = cli("lint", "--format", "sarif", "otel.yaml")
    result = validate_sarif(out)["runs"][0]["results"][0]  # type: ignore[index]
    assert code == 1 and result["ruleId"] == "OBS801"


def test_sarif_log_of_no_findings_is_valid() -> None:
    validate_sarif(sarif_log([]))
