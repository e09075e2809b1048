"""The loader: YAML -> plain data plus line:column of every key and value, hostile input as diagnostics."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsgen.spec.loader import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    LoadError,
    _dotted,
    load_file,
    load_text,
)


def error(text: str) -> tuple[str, int, int, str]:
    with pytest.raises(LoadError) as info:
        load_text(text, "t.yaml")
    d = info.value.diagnostic
    assert d.file == "t.yaml"
    return d.code, d.line, d.column, d.message


def test_positions_of_keys_and_values() -> None:
    text = "services:\n  api:\n    calls: [db, 'x']\n  db: {kind: database}\nname: shop\n"
    loaded = load_text(text, "t.yaml")
    assert loaded.data == {"services": {"api": {"calls": ["db", "x"]}, "db": {"kind": "database"}}, "name": "shop"}
    assert loaded.key_positions[("services",)] == (1, 1)
    assert loaded.key_positions[("services", "api", "calls")] == (3, 5)
    assert loaded.positions[("services", "api", "calls")] == (3, 12)
    assert loaded.positions[("services", "api", "calls", 1)] == (3, 17)
    assert loaded.key_positions[("services", "db", "kind")] == (4, 8)
    assert loaded.positions[("services", "db", "kind")] == (4, 14)
    assert loaded.positions[("name",)] == (5, 7)
    assert loaded.where(("services", "api", "calls", 7)) == (3, 12)  # falls back to the enclosing node
    assert loaded.where(("services", "api", "nothing"), key=True) == (2, 3)  # the enclosing key


def test_keys_are_their_source_text() -> None:
    loaded = load_text("services:\n  1: {}\n  yes: {}\n  0x1F: {}\n  1.5: {}\n", "t.yaml")
    assert list(loaded.data["services"]) == ["1", "yes", "0x1F", "1.5"]  # type: ignore[call-overload]


def test_values_keep_yaml_types_but_dates_stay_text() -> None:
    loaded = load_text("a: 1\nb: 1.5\nc: true\nd: ~\ne: 2024-01-01\nf: '1'\ng: !!str 5\n", "t.yaml")
    assert loaded.data == {"a": 1, "b": 1.5, "c": True, "d": None, "e": "2024-01-01", "f": "1", "g": "5"}


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\na: 2\n", ("OBS103", 2, 1)),
    ("a:\n  b: 1\n  c: 2\n  b: 3\n", ("OBS103", 4, 3)),
    ("a: [{x: 1, x: 2}]\n", ("OBS103", 1, 12)),
    ("- a\n", ("OBS106", 1, 1)),
    ("x\n", ("OBS106", 1, 1)),
    ("", ("OBS106", 1, 1)),
    ("# only a comment\n", ("OBS106", 1, 1)),
    ("a: 1\n---\nb: 2\n", ("OBS104", 2, 1)),
    ("a: !!python/object/apply:os.system [ls]\n", ("OBS104", 1, 4)),
    ("a: !!binary aGk=\n", ("OBS104", 1, 4)),
    ("a: !!set {x}\n", ("OBS104", 1, 4)),
    ("a: !local x\n", ("OBS104", 1, 4)),
    ("a: !!int x\n", ("OBS104", 1, 4)),
    ("a: !!bool maybe\n", ("OBS104", 1, 4)),
    ("a: !!seq x\n", ("OBS104", 1, 4)),
    ("a: !!map [1]\n", ("OBS104", 1, 4)),
    ("b: &b {x: 1}\na:\n  <<: *b\n", ("OBS104", 3, 3)),
    ("a: *nope\n", ("OBS104", 1, 4)),
    ("a: &a [*a]\n", ("OBS104", 1, 1)),
    ("a: {b: 1\n", ("OBS102", 2, 1)),
    ("a:\n\tb: 1\n", ("OBS102", 2, 1)),
    ("a: b: c\n", ("OBS102", 1, 5)),
    ("a: 'x\n", ("OBS102", 2, 1)),
    ("a: \"\\ud800\"\n", ("OBS102", 1, 7)),
    ("a: x\x00y\n", ("OBS102", 1, 5)),
    ("a:\n  b: \x1b[1m\n", ("OBS102", 2, 6)),
    ("a: \ufffe\n", ("OBS102", 1, 4)),
    ("? [a]\n: 1\n", ("OBS202", 1, 3)),
    ("a: " + "9" * 100 + "\n", ("OBS205", 1, 4)),
    ("a: " + "[" * 70 + "]" * 70 + "\n", ("OBS107", 1, 4 + MAX_DEPTH)),
])
def test_load_errors(text: str, expected: tuple[str, int, int]) -> None:
    assert error(text)[:3] == expected


def test_tab_error_has_hint() -> None:
    with pytest.raises(LoadError) as info:
        load_text("a:\n\tb: 1\n", "t.yaml")
    assert "tab" in info.value.diagnostic.message and "spaces" in info.value.diagnostic.hint


def test_alias_budget_boundary() -> None:
    # one anchor of N values used twice costs N extra values; N = budget passes, N+1 does not
    def spec(n: int) -> str:
        return "a: &a [" + ", ".join(["x"] * (n - 1)) + "]\nb: *a\n"

    load_text(spec(MAX_ALIAS_EXPANSION), "t.yaml")
    code, line, col, message = error(spec(MAX_ALIAS_EXPANSION + 1))
    assert (code, line, col) == ("OBS104", 2, 1)
    assert "aliases expand" in message


def test_depth_boundary() -> None:
    ok = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"  # the root mapping is depth 0
    load_text(ok, "t.yaml")
    assert error("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n")[0] == "OBS107"


def test_load_file_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as info:
        load_file(tmp_path / "missing.yaml")
    assert info.value.diagnostic.code == "OBS100" and info.value.diagnostic.line == 0
    with pytest.raises(LoadError) as info:
        load_file(tmp_path)
    assert info.value.diagnostic.code == "OBS100"
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    with pytest.raises(LoadError) as info:
        load_file(bom, "shown.yaml")
    d = info.value.diagnostic
    assert (d.code, d.file, d.line, d.column) == ("OBS101", "shown.yaml", 1, 1)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: '\xc3\xa9'\nb: x\xff\n")
    with pytest.raises(LoadError) as info:
        load_file(bad)
    d = info.value.diagnostic
    assert (d.code, d.line, d.column) == ("OBS101", 2, 5)
    assert "0xff" in d.message


def test_crlf_and_utf8_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes("services:\r\n  api:\r\n    description: café 名\r\n".encode())
    loaded = load_file(path)
    assert loaded.data == {"services": {"api": {"description": "café 名"}}}
    assert loaded.positions[("services", "api", "description")] == (3, 18)


@pytest.mark.parametrize(("loc", "text"), [
    ((), ""),
    (("services", "api", "calls", 0), "services.api.calls[0]"),
    (("attributes", "http.route"), "attributes.http.route"),
    (("services", "a\nb"), 'services["a\\nb"]'),
    (("services", 'a"b'), 'services["a\\"b"]'),
    (("services", ""), 'services[""]'),
    (("services", "x "), 'services["x "]'),
    (("services", "café"), 'services["caf\\u00e9"]'),
    (("services", "GET /a b"), "services.GET /a b"),
])
def test_dotted_paths_are_one_line_and_unambiguous(loc: tuple[str | int, ...], text: str) -> None:
    assert _dotted(loc) == text
