"""Issue #14, "tracebacks and wrong messages": what a user sees for a wrong spec is obsgen's own words."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from obsgen.cli import main
from obsgen.spec.error_wording import WORDING
from obsgen.spec.errors import diagnostics_from_validation
from obsgen.spec.goregexp import anchored, is_anchored
from obsgen.spec.goregexp import go_regexp_error as re2_error
from obsgen.spec.loader import LoadedSpec
from obsgen.spec.locations import model_at, spec_location
from obsgen.spec.models import Spec
from obsgen.spec.schema import schema_text
from tests.conftest import as_file_permissions_apply


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


def _run(*args: str, cwd: Path | None = None, prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBSGEN_NO_CACHE": "1"}
    return subprocess.run([*(prefix or []), sys.executable, "-m", "obsgen", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=120)


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


def test_writing_to_a_read_only_file_is_an_io_error(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    target.write_text("old\n")
    target.chmod(0o444)
    proc = _run("schema", "-o", str(target), prefix=as_file_permissions_apply())
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{target}: error OBS901 cannot write: Permission denied" in proc.stderr
    assert target.read_text() == "old\n"


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


# ------------------------------------------------------------------------------------------------
# Sampling: not inside not/and/drop, the OBS401 hint


def _validate(tmp_path: Path, text: str) -> tuple[int, str]:
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(main, ["validate", "--strict", str(spec)], catch_exceptions=False)
    return result.exit_code, result.stderr


@pytest.mark.parametrize("policy", [
    "and: [{not: {errors: true}}, {probabilistic: {percentage: 10}}]",
    "drop: [{not: {status_code: [OK]}}]",
    "composite: {max_spans_per_second: 10, policies: [{name: a, share: 100, and: [{not: {errors: true}}]}]}",
], ids=["and", "drop", "composite-and"])
def test_not_inside_and_and_drop_renders(policy: str, tmp_path: Path) -> None:
    """contrib v0.159.0 builds a `not` inside and/drop sub-policies (AndSubPolicyCfg has a NotCfg)."""
    code, err = _validate(tmp_path, "services:\n  api: {}\nsampling:\n  policies:\n"
                                    f"    - {{name: p, {policy}}}\n    - {{name: k, always_sample: true}}\n")
    assert code == 0, err
    assert "OBS705" not in err


@st.composite
def _regexes(draw: st.DrawFn) -> str:
    parts = st.sampled_from(["a", "b", "|", "^", "$", "(", ")", "(?:", "[|]", "[^$]", "\\", "\\$", "\\|",
                             "\\A", "\\z", "\\Q|\\E", "(?i)", ".*", "+", "x{2}", "[]|]"])
    return "".join(draw(st.lists(parts, max_size=8)))


@settings(max_examples=400, deadline=None)
@given(_regexes())
def test_every_anchoring_hint_passes_its_own_check(pattern: str) -> None:
    if re2_error(pattern) is not None or is_anchored(pattern):
        return
    suggestion = anchored(pattern)
    assert re2_error(suggestion) is None, (pattern, suggestion)
    assert is_anchored(suggestion), (pattern, suggestion)


@pytest.mark.parametrize("pattern", ["GET|POST", "^/api|/admin$", "^/health", "/metrics$", "a\\$"])
def test_obs401_hint_fed_back_into_the_spec_is_clean(pattern: str, tmp_path: Path) -> None:
    policy = ("    - name: p\n      string_attribute:\n        key: http.route\n        regex: true\n"
              f"        values: [{json.dumps(pattern)}]\n")
    spec = "services:\n  api: {}\nsampling:\n  policies:\n" + policy
    code, err = _validate(tmp_path, spec)
    assert code == 1 and "warning OBS401" in err
    hint = next(line for line in err.splitlines() if line.startswith("    hint: write '"))
    suggestion = hint.removeprefix("    hint: write '").rsplit("' to match the whole value", 1)[0]
    code, err = _validate(tmp_path, spec.replace(json.dumps(pattern), json.dumps(suggestion)))
    assert code == 0, (suggestion, err)


# ------------------------------------------------------------------------------------------------
# pydantic's wording never reaches a user; every schema error has a hint

RAW_PYDANTIC = ("Input should", "should have at least", "should have at most", "String should", "Field required",
                "Extra inputs", "Value error,", "Assertion failed", "validation error", "after validation",
                "instance of", "Unable to parse", "valid dictionary", "valid list", "valid string", "pydantic")
BAD_VALUES: list[object] = ["x" * 5000, "", "abc", " pad ", "1.5", "1" * 5000, [], {}, [1], {"Zz": 1}, 0, -1, 1.5,
                            10**20, True, None, float("inf")]


def _strip(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) if arg is not type(None) for m in _strip(arg)]
    return [annotation]


def _field_paths(annotation: Any = None, path: tuple[str | int, ...] = (),
                 ancestors: tuple[type, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every place of the spec a value can be written (recursive policies followed twice)."""
    out: list[tuple[str | int, ...]] = []
    for member in _strip(Spec if annotation is None else annotation):
        origin = typing.get_origin(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            if ancestors.count(member) >= 2:
                continue
            for name, info in member.model_fields.items():
                child = (*path, info.alias or name)
                out += [child, *_field_paths(info.annotation, child, (*ancestors, member))]
        elif origin is list:
            out += [(*path, 0), *_field_paths(typing.get_args(member)[0], (*path, 0), ancestors)]
        elif origin is dict:
            out += [(*path, "k"), *_field_paths(typing.get_args(member)[1], (*path, "k"), ancestors)]
    return out


def _planted(path: tuple[str | int, ...], value: object) -> dict[str, object]:
    data: dict[str, object] = {"services": {"api": {}}}
    node: Any = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        fresh: object = value if last else ([] if isinstance(path[i + 1], int) else {})
        if isinstance(node, dict):
            if last or not isinstance(node.get(part), dict | list):
                node[part] = fresh
        else:
            node.append(fresh)
        node = node[part] if isinstance(node, dict) else node[-1]
    return data


def test_every_error_type_the_models_produce_has_obsgen_wording() -> None:
    """Wrong values at every field of the models: no pydantic text, always a hint, no type without an entry."""
    seen_types: set[str] = set()
    problems: list[str] = []
    # one place per distinct annotation (the deepest: it passes the most unions and lists on the way)
    places: dict[str, tuple[str | int, ...]] = {}
    for path in _field_paths():
        kind = repr(model_at(path))
        if len(path) >= len(places.get(kind, ())):
            places[kind] = path
    for path in places.values():
        for value in BAD_VALUES:
            data = _planted(path, value)
            try:
                Spec.model_validate(data)
                continue
            except ValidationError as exc:
                seen_types |= {e["type"] for e in exc.errors()}
                diags = diagnostics_from_validation(exc, LoadedSpec("s.yaml", data))
            for diag in diags:
                text = diag.format()
                if any(raw in text for raw in RAW_PYDANTIC) or not diag.hint:
                    problems.append(f"{path} = {value!r:.40}: {text}")
    # unknown keys are worded where the allowed keys are known (errors.diagnostics_from_validation)
    assert seen_types <= {*WORDING, "extra_forbidden"}, seen_types - set(WORDING)
    assert len(seen_types) >= 20  # the walk reaches the models' whole variety of errors
    assert not problems, "\n".join(problems[:20])


def test_no_catalogue_case_shows_pydantic_wording() -> None:
    specs = sorted(str(p) for p in (Path(__file__).parent / "invalid").glob("*.yaml"))
    result = CliRunner().invoke(main, ["validate", "--strict", *specs], catch_exceptions=False)
    assert result.exit_code == 1
    for line in result.stderr.splitlines():
        assert not any(raw in line for raw in RAW_PYDANTIC), line


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("services: {}\n", "'services' is empty", "services: {api: {}}"),
    ("services: {api: {}}\nsampling: {policies: [{name: p, probabilistic: {percentage: 150}}]}\n",
     "the number 150 is above the maximum 100", "allowed: at least 0 and at most 100"),
    ("services: {api: {endpoints: GET /x}}\n", "expected a list, got the text 'GET /x'",
     "a list even for one item: [GET /x]"),
    ("services: {api: {kind: servce}}\n", "the text 'servce' is not one of 'service', 'external'",
     "did you mean 'service'?"),
    ("services: {api: {team: 42}}\n", "expected text, got the number 42", 'team: "42"'),
    ("services: {api: {}}\ncollector: {replicas: many}\n", "expected a whole number, got the text 'many'",
     "allowed: at least 1 and at most 1000"),
])
def test_issue_examples_read_as_obsgen(tmp_path: Path, text: str, message: str, hint: str) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(spec)], catch_exceptions=False)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(message in line for line in lines), result.stderr
    assert any(line.startswith("    hint: ") and hint in line for line in lines), result.stderr


# ------------------------------------------------------------------------------------------------
# Every text field has a length cap

_UNBOUNDED = re.compile(r"(?<!\\)[*+]|\{\d+,\}")
_CLASS = re.compile(r"\[(?:\\.|[^\]])*\]")  # '*' inside [...] is a character, not a repetition


def _uncapped_strings(node: object, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        pattern = str(node.get("pattern", ""))
        bounded = ("maxLength" in node or "enum" in node or "const" in node
                   or (pattern and not _UNBOUNDED.search(_CLASS.sub("x", pattern))))
        if node.get("type") == "string" and not bounded:
            out.append(path)
        for key, value in node.items():
            out += _uncapped_strings(value, f"{path}/{key}".lstrip("/"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _uncapped_strings(value, f"{path}/{i}")
    return out


def test_every_text_field_of_the_schema_has_a_length_cap() -> None:
    """A value's length is bounded by maxLength or by a pattern without unbounded repetition."""
    assert _uncapped_strings(json.loads(schema_text())) == []
