"""``obsgen init``: the starter spec validates and renders as written, for any flags, and never overwrites."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from obsgen.cli import main
from obsgen.generate import generate
from obsgen.spec.types import IDENT_PATTERN
from obsgen.starter.schema_ref import schema_ref
from tests.conftest import ROOT


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def assert_renders_cleanly(path: Path, text: str | None = None) -> list[str]:
    """Validate and render ``path`` (or ``text`` as if it were there) in memory: no diagnostic at all."""
    result = generate(path, str(path), data=None if text is None else text.encode())
    assert [d.format() for d in result.diagnostics] == []
    assert result.artifacts
    return [a.path for a in result.artifacts]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_default_starter_validates_renders_and_points_at_its_schema(workdir: Path) -> None:
    code, out, err = cli("init")
    assert code == 0 and out == ""
    assert err == "wrote specs/app.yaml (2 services, 1 call); next: obsgen render specs/app.yaml\n"
    text = (workdir / "specs" / "app.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./obsgen.schema.json"
    # outside obsgen's checkout the schema is written beside the spec, so the line works in every clone
    schema_file = workdir / "specs" / "obsgen.schema.json"
    assert schema_file.read_text() == cli("schema")[1]
    data = yaml.safe_load(text)
    jsonschema.Draft202012Validator(json.loads(schema_file.read_text())).validate(data)
    assert data["services"] == {"frontend": {"calls": ["backend"]}, "backend": {}}
    assert "#   endpoints:" in text  # commented examples the user can uncomment
    assert_renders_cleanly(workdir / "specs" / "app.yaml")
    code, _, err = cli("render", "specs/app.yaml")
    assert code == 0 and err.startswith("rendered ") and "into generated/app/" in err
    code, _, err = cli("validate", "specs/app.yaml")
    assert code == 0 and err.endswith("specs/app.yaml: valid (0 warnings)\n")


@pytest.mark.parametrize("flags, services, calls", [
    ([], {"frontend", "backend"}, {("frontend", "backend")}),
    (["--name", "shop"], {"frontend", "backend"}, {("frontend", "backend")}),
    (["--service", "api"], {"api"}, set()),
    (["--service", "api", "--service", "worker"], {"api", "worker"}, set()),
    (["--call", "web->api", "--call", "api->db"], {"web", "api", "db"}, {("web", "api"), ("api", "db")}),
    (["--service", "lonely", "--call", " a -> b "], {"lonely", "a", "b"}, {("a", "b")}),
    (["--call", "a->b", "--call", "b->a"], {"a", "b"}, {("a", "b"), ("b", "a")}),  # a cycle: only a warning
])
def test_flag_combinations(workdir: Path, flags: list[str], services: set[str], calls: set[tuple[str, str]]) -> None:
    code, text, err = cli("init", *flags, "-o", "-")
    assert code == 0, err
    data = yaml.safe_load(text)
    assert set(data["services"]) == services
    found = {(caller, callee) for caller, body in data["services"].items() for callee in body.get("calls", [])}
    assert found == calls
    spec = workdir / f"{data['name']}.yaml"
    result = generate(spec, str(spec), data=text.encode())
    assert result.ok and result.artifacts
    # a call cycle is the only finding the flags can cause (OBS304, a warning)
    assert {d.code for d in result.diagnostics} <= ({"OBS304"} if ("b", "a") in calls else set())


IDENTS = st.from_regex(IDENT_PATTERN, fullmatch=True).filter(lambda s: ".." not in s)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=IDENTS, services=st.lists(IDENTS, min_size=1, max_size=3, unique=True))
def test_generated_names_stay_strings_and_render(tmp_path: Path, name: str, services: list[str]) -> None:
    """Names such as ``null``, ``true``, ``0x10`` or ``1e3`` are plain YAML scalars of another type: the
    serialiser quotes them, so they stay the keys and names they were given."""
    calls = [f"{services[0]}->{callee}" for callee in services[1:]]
    flags = [arg for s in services for arg in ("--service", s)] + [arg for c in calls for arg in ("--call", c)]
    code, text, err = cli("init", "--name", name, *flags, "-o", "-")
    assert code == 0, err
    data = yaml.safe_load(text)
    assert data["name"] == name and list(data["services"]) == services
    assert_renders_cleanly(tmp_path / "spec.yaml", text)


def test_refuses_to_overwrite_without_force(workdir: Path) -> None:
    (workdir / "specs").mkdir()
    existing = workdir / "specs" / "app.yaml"
    existing.write_text("services: {mine: {}}\n")
    code, out, err = cli("init")
    assert code == 2 and out == ""
    assert err.startswith("specs/app.yaml: error OBS903 already exists")
    assert existing.read_text() == "services: {mine: {}}\n"
    code, _, _ = cli("init", "--force")
    assert code == 0 and "mine" not in existing.read_text()
    assert_renders_cleanly(existing)


@pytest.mark.parametrize("flags, message", [
    (["--call", "api->api"], "self call"),
    (["--call", "api-db"], "is not CALLER->CALLEE"),
    (["--service", "has space"], "is not a valid service name"),
    (["--service", "a..b"], "is not a valid service name"),
    (["--name", "-leading"], "is not a valid --name"),
])
def test_bad_flags_are_usage_errors(workdir: Path, flags: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["init", *flags])
    assert result.exit_code == 2 and message in result.stderr
    assert not (workdir / "specs").exists()


def test_name_defaults_to_the_output_file_stem(workdir: Path) -> None:
    assert cli("init", "-o", "deploy/payments.yaml")[0] == 0
    assert yaml.safe_load((workdir / "deploy" / "payments.yaml").read_text())["name"] == "payments"
    assert cli("init", "-o", "odd name.yaml")[0] == 0  # not an identifier: the default name
    assert yaml.safe_load((workdir / "odd name.yaml").read_text())["name"] == "app"


def test_outside_text_in_comments_cannot_add_lines(workdir: Path) -> None:
    """The output path is shown in the header comment: a line break in it is shown escaped."""
    code, _, _ = cli("init", "-o", "sp\ne\u2028cs/x.yaml")
    assert code == 0
    text = Path("sp\ne\u2028cs/x.yaml").read_text()
    assert "#   obsgen render sp\\u000ae\\u2028cs/x.yaml" in text
    assert "\u2028" not in text
    assert list(yaml.safe_load(text)) == ["name", "stack", "services", "attributes", "span_metrics", "sampling"]
    assert_renders_cleanly(Path("sp\ne\u2028cs/x.yaml"))
    # a file name no generated header can hold is refused before anything is written (as render would, OBS207)
    code, _, err = cli("init", "-o", "x\u2028y.yaml")
    assert code == 2 and "error OBS207" in err and not Path("x\u2028y.yaml").exists()


def test_schema_line_inside_this_checkout_points_at_the_shipped_schema() -> None:
    """In obsgen's own work tree the line points at specs/obsgen.schema.json, relative to the spec."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git work tree")
    assert schema_ref(ROOT / "specs").ref == "./obsgen.schema.json"
    ref = schema_ref(ROOT / "docs" / "examples")
    assert (ref.ref, ref.write_to) == ("../../specs/obsgen.schema.json", None)
    resolved = (ROOT / "docs" / "examples" / ref.ref).resolve()
    assert resolved == (ROOT / "specs" / "obsgen.schema.json").resolve()


def test_schema_already_beside_the_spec_is_used_and_kept(workdir: Path) -> None:
    (workdir / "specs").mkdir()
    (workdir / "specs" / "obsgen.schema.json").write_text("{}\n")
    assert cli("init")[0] == 0
    assert (workdir / "specs" / "obsgen.schema.json").read_text() == "{}\n"  # not the init's to rewrite
    assert (workdir / "specs" / "app.yaml").read_text().startswith("# yaml-language-server: $schema=./obsgen")


def test_quiet_init_prints_nothing(workdir: Path) -> None:
    code, out, err = cli("init", "-q")
    assert (code, out, err) == (0, "", "")
    assert os.path.exists("specs/app.yaml")


def test_stdout_starter_is_the_file(workdir: Path) -> None:
    code, text, _ = cli("init", "--name", "x", "-o", "-")
    assert code == 0
    assert cli("init", "--name", "x", "-o", "x.yaml")[0] == 0
    # same text but the displayed path in the header
    assert re.sub(r"obsgen (validate|render) \S+", "", text) == re.sub(
        r"obsgen (validate|render) \S+", "", (workdir / "x.yaml").read_text())


def test_the_readme_init_commands_run_as_written(workdir: Path) -> None:
    """The README's "Start a spec" commands, run as written (the Collector config is the shop's, rendered)."""
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Start a spec: `obsgen init`\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n", 2)[1]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["obsgen", "init"]] * 2
    shop = generate(ROOT / "specs" / "shop.yaml", "specs/shop.yaml")
    (config,) = [a for a in shop.artifacts if a.path == "otel-collector/config.yaml"]
    Path("otel-collector.yaml").write_text(config.text)
    for number, command in enumerate(commands):
        if number:  # both write specs/shop.yaml: the second one is refused, as the README says, unless forced
            assert cli(*command[1:])[0] == 2
            command = [*command, "--force"]
        code, _, err = cli(*command[1:])
        assert code == 0, err
        assert_renders_cleanly(workdir / "specs" / "shop.yaml")
    assert "payments" not in yaml.safe_load((workdir / "specs" / "shop.yaml").read_text())["services"]
