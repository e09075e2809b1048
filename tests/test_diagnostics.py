"""Diagnostics: the code catalogue, text and JSON forms, and pydantic errors turned into positioned findings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from obsgen.diagnostics import CODES, Diagnostic, Severity, sort_key, to_json
from obsgen.generate import load_spec
from tests.conftest import ROOT


def diags(tmp_path: Path, text: str) -> list[Diagnostic]:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path, "s.yaml")[2]


def one(tmp_path: Path, text: str) -> Diagnostic:
    found = diags(tmp_path, text)
    assert len(found) == 1, [d.format() for d in found]
    return found[0]


# ------------------------------------------------------------------------------------------------
# Catalogue


def test_codes_are_well_formed_and_unique() -> None:
    assert all(re.fullmatch(r"OBS\d{3}", code) for code in CODES)
    assert all(CODES.values())
    with pytest.raises(ValueError):
        Diagnostic("OBS999", "unregistered")


def test_every_code_used_in_the_source_is_registered() -> None:
    used = set()
    for path in (ROOT / "obsgen").rglob("*.py"):
        used |= set(re.findall(r'"(OBS\d{3})"', path.read_text(encoding="utf-8")))
    assert used - set(CODES) == set()


# ------------------------------------------------------------------------------------------------
# Text and JSON forms


def test_format_text() -> None:
    d = Diagnostic("OBS200", "unknown key 'x'", file="s.yaml", line=3, column=5, path="a.x", hint="did you mean 'y'?")
    assert d.format() == "s.yaml:3:5: error OBS200 a.x: unknown key 'x'\n    hint: did you mean 'y'?"
    w = Diagnostic("OBS304", "cycle", Severity.WARNING, "s.yaml")
    assert w.format() == "s.yaml: warning OBS304 cycle"
    assert not w.is_error and d.is_error
    assert Diagnostic("OBS100", "x").format() == "<spec>: error OBS100 x"


def test_format_escapes_control_characters() -> None:
    d = Diagnostic("OBS203", "bad\nOBS000 forged\r\x1b[31m\u2028", file="a\nb.yaml", line=1, column=1,
                   path="services.a\nb", hint="h\ni")
    text = d.format()
    assert text.count("\n") == 1
    assert "\x1b" not in text and "\u2028" not in text and "\r" not in text
    assert "bad\\nOBS000 forged\\r\\u001b[31m\\u2028" in text


def test_json_form_keeps_exact_text_and_sorts() -> None:
    a = Diagnostic("OBS300", "z\nq", file="b.yaml", line=2, column=1)
    b = Diagnostic("OBS200", "y", Severity.WARNING, file="a.yaml", line=9, column=9)
    c = Diagnostic("OBS201", "x", file="b.yaml", line=1, column=5)
    doc = json.loads(to_json([a, b, c]))
    assert [d["code"] for d in doc["diagnostics"]] == ["OBS200", "OBS201", "OBS300"]
    assert doc["diagnostics"][2]["message"] == "z\nq"
    assert doc["diagnostics"][0]["severity"] == "warning"
    assert set(doc["diagnostics"][0]) == {"file", "line", "column", "code", "severity", "message", "hint", "path"}
    assert sorted([a, b, c], key=sort_key) == [b, c, a]
    assert to_json([a, b, c]) == to_json([c, a, b])


# ------------------------------------------------------------------------------------------------
# Pydantic errors -> diagnostics


def test_union_member_noise_is_dropped(tmp_path: Path) -> None:
    d = one(tmp_path, "services:\n  api:\n    endpoints:\n      - {route: GET /, critcal: true}\n")
    assert (d.code, d.line, d.column, d.hint) == ("OBS200", 4, 24, "did you mean 'critical'?")
    d = one(tmp_path, "services:\n  api:\n    calls: [5]\n")
    assert (d.code, d.line, d.column) == ("OBS202", 3, 13)
    d = one(tmp_path, "services:\n  api:\n    calls: [{service: db, endpont: x}]\n  db: {}\n")
    assert (d.code, d.path, d.hint) == ("OBS200", "services.api.calls[0].endpont", "did you mean 'endpoint'?")
    found = diags(tmp_path, "services: {api: {}}\nspan_metrics:\n  dimensions: [{nam: x}]\n")
    assert sorted(d.code for d in found) == ["OBS200", "OBS201"]
    d = one(tmp_path, "services: {api: {}}\nsampling:\n  policies:\n    - name: p\n"
                      "      critical_endpoints: {servics: [api]}\n")
    assert (d.code, d.hint) == ("OBS200", "did you mean 'services'?")


@pytest.mark.parametrize(("key", "code"), [
    ("a..b", "OBS203"), ("'a/b'", "OBS203"), ("'-a'", "OBS203"), ("'a_'", "OBS203"), ('"a\\nb"', "OBS203"),
    ("'~'", "OBS203"), ("café", "OBS203"), ("'{{x}}'", "OBS203"), ("''", "OBS203"),
])
def test_bad_service_keys(tmp_path: Path, key: str, code: str) -> None:
    d = one(tmp_path, f"services:\n  ok: {{}}\n  {key}: {{}}\n")
    assert (d.code, d.line, d.column) == (code, 3, 3)
    assert d.message.startswith("invalid service key ")
    assert "service_name" in d.hint
    assert "\n" not in d.format().split("\n    hint: ")[0]


def test_bad_keys_elsewhere_have_no_service_name_hint(tmp_path: Path) -> None:
    d = one(tmp_path, "services: {api: {}}\nattributes:\n  'bad key': {}\n")
    assert (d.code, d.line, d.column) == ("OBS203", 3, 3)
    assert d.message == "invalid key 'bad key'" and "service_name" not in d.hint
    d = one(tmp_path, "services:\n  api:\n    slos: [{name: a..b, availability: 99}]\n")
    assert (d.code, d.path) == ("OBS203", "services.api.slos[0].name")
    assert "service_name" not in d.hint


@pytest.mark.parametrize(("text", "code", "line", "column", "needle"), [
    ("services: {}\n", "OBS205", 1, 11, ""),
    ("name: x\n", "OBS201", 1, 1, "missing required key 'services'"),
    ("services: {api: {kind: lambda}}\n", "OBS202", 1, 24, "'service'"),
    ("services: {api: {}}\ncollector: {replicas: 1.5}\n", "OBS202", 2, 23, ""),
    ("services: {api: {}}\nsampling: {decision_wait: 1x}\n", "OBS204", 2, 27, "invalid duration"),
    ("services: {api: {}}\nsampling: {decision_wait: 5}\n", "OBS204", 2, 27, "duration"),
    ("services: {api: {}}\nsampling: {decision_wait: '-1s'}\n", "OBS204", 2, 27, "negative"),
    ("services: {api: {}}\nsampling: {policies: [{name: p}]}\n", "OBS206", 2, 23, "exactly one kind"),
    ("services: {api: {}}\nalerting: {error_ratio_threshold: .nan}\n", "OBS205", 2, 35, "finite"),
    ("services: {api: {}}\nalerting: {error_ratio_threshold: 1e400}\n", "OBS205", 2, 35, ""),
    ("services: {api: {description: ' x'}}\n", "OBS202", 1, 31, "whitespace"),
])
def test_shape_errors(tmp_path: Path, text: str, code: str, line: int, column: int, needle: str) -> None:
    found = diags(tmp_path, text)
    hits = [d for d in found if (d.code, d.line, d.column) == (code, line, column)]
    assert hits, [d.format() for d in found]
    assert needle in hits[0].message


def test_semantic_did_you_mean(tmp_path: Path) -> None:
    d = one(tmp_path, "services:\n  api:\n    calls: [paymnts]\n  payments: {}\n")
    assert (d.code, d.line, d.column) == ("OBS300", 3, 13)
    assert "did you mean 'payments'?" in d.message


def test_no_duplicate_diagnostics(tmp_path: Path) -> None:
    found = diags(tmp_path, "services:\n  a: {langauge: x, descripton: y}\n  b: {langauge: x}\n")
    keys = [(d.code, d.line, d.column, d.message) for d in found]
    assert len(keys) == len(set(keys)) == 3


def test_bool_is_not_an_integer(tmp_path: Path) -> None:
    d = one(tmp_path, "services: {api: {}}\ncollector: {replicas: yes}\n")
    assert (d.code, d.line, d.column) == ("OBS202", 2, 23)
