"""``stack.prometheus`` decides what the rules say: 2.x and 3.x pins render different bytes where the majors
differ (bucket ``le`` matchers), and a pin obsgen does not support is rejected at its position with a hint.

The float spellings below are checked against the real Prometheus 3 parser in tests/test_prometheus3.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from obsgen import prometheus_compat as pc
from obsgen.generate import generate
from tests.conftest import ROOT

SHOP = ROOT / "specs" / "shop.yaml"
PIN = "  prometheus: 3.5.0\n"


def _shop_pinned(tmp_path: Path, version: str) -> Path:
    text = SHOP.read_text()
    assert text.count(PIN) == 1
    spec = tmp_path / version / "shop.yaml"  # same file name: it is in every rule file's header
    spec.parent.mkdir()
    spec.write_text(text.replace(PIN, f"  prometheus: {version}\n"))
    return spec


def _rules(spec: Path) -> dict[str, str]:
    result = generate(spec, display="shop.yaml", targets=["rules"])
    assert result.ok, "\n".join(d.format() for d in result.diagnostics)
    return {a.path: a.text for a in result.artifacts}


@pytest.mark.parametrize(("seconds", "sent", "parsed"), [
    (1.0, "1", "1.0"), (0.5, "0.5", "0.5"), (10.0, "10", "10.0"), (0.002, "0.002", "0.002"),
    (0.0001, "0.0001", "0.0001"), (0.00005, "0.00005", "5e-05"), (100000.0, "100000", "100000.0"),
    (1e6, "1000000", "1e+06"), (16.384, "16.384", "16.384"), (1.5e-7, "0.00000015", "1.5e-07"),
])  # fmt: skip
def test_le_spellings_follow_go_and_prometheus3(seconds: float, sent: str, parsed: str) -> None:
    assert pc.go_format_f(seconds) == sent
    assert pc.openmetrics_float(seconds) == parsed


def test_le_matcher_per_major() -> None:
    assert pc.le_matcher(1.0, "2.42.0") == ("le", "=", "1")
    assert pc.le_matcher(1.0, "3.5.0") == ("le", "=~", r"1|1\.0")
    assert pc.le_matcher(0.00005, "3.5.0") == ("le", "=~", r"0\.00005|5e-05")
    assert pc.le_matcher(0.5, "2.55.1") == pc.le_matcher(0.5, "3.0.0") == ("le", "=", "0.5")


def test_2x_and_3x_pins_render_different_bucket_matchers_and_nothing_else(tmp_path: Path) -> None:
    v2, v3 = _rules(_shop_pinned(tmp_path, "2.42.0")), _rules(_shop_pinned(tmp_path, "3.5.0"))
    assert v3 == _rules(SHOP), "shop pins 3.5.0"
    assert v2.keys() == v3.keys()
    changed = sorted(path for path in v2 if v2[path] != v3[path] and path != "obsgen-manifest.json")
    # main-service's checkout SLO has a 1s threshold: the only whole-number boundary in shop
    assert changed == ["prometheus/rules/service-main-service.yaml"]
    assert 'le="1"' in v2[changed[0]] and 'le=~"1|1\\\\.0"' not in v2[changed[0]]
    assert 'le=~"1|1\\\\.0"' in v3[changed[0]] and 'le="1"' not in v3[changed[0]]
    assert v2[changed[0]].replace('le="1"', 'le=~"1|1\\\\.0"') == v3[changed[0]]
    # a boundary both majors spell alike is the same exact matcher
    for text in (v2, v3):
        assert 'le="0.5"' in text["prometheus/rules/service-payments-service.yaml"]


def test_no_rendered_rule_matches_le_or_quantile_other_than_through_le_matcher(tmp_path: Path) -> None:
    """Every le matcher comes from le_matcher; no rule matches a summary quantile label (3.x normalises it too)."""
    for version in ("2.42.0", "3.5.0"):
        rules = _rules(_shop_pinned(tmp_path, version))
        for text in (text for path, text in rules.items() if path.startswith("prometheus/rules/")):
            assert not re.search(r"\bquantile\s*(=|!=|=~|!~)", text)
            for match in re.finditer(r"\ble\s*(=~|=|!=|!~)\s*\"((?:[^\"\\]|\\.)*)\"", text):
                op, value = match.group(1), match.group(2).replace("\\\\", "\\")
                assert (op, value) in {pc.le_matcher(s, version)[1:] for s in (0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)}


@pytest.mark.parametrize(("version", "code", "words"), [
    ("99.0.0", "OBS506", "not a major version"),
    ("1.8.2", "OBS506", "not a major version"),
    ("2.0.0", "OBS506", "older than 2.42.0"),
    ("2.41.0", "OBS506", "older than 2.42.0"),
    ("2.56.0", "OBS506", "2.x ended with 2.55"),
    ("4.0.0", "OBS506", "not a major version"),
])  # fmt: skip
def test_unsupported_pin_is_rejected_at_its_position(tmp_path: Path, version: str, code: str, words: str) -> None:
    spec = _shop_pinned(tmp_path, version)
    result = generate(spec, display="shop.yaml", targets=["rules"])
    assert not result.ok and not result.artifacts
    [diag] = [d for d in result.diagnostics if d.code == code]
    assert diag.is_error and words in diag.message and version in diag.message
    line = SHOP.read_text().splitlines().index(PIN.rstrip("\n")) + 1
    assert (diag.file, diag.line, diag.column, diag.path) == ("shop.yaml", line, 15, "stack.prometheus")
    assert "2.42.0-2.55.x or 3.0.0-3.13.x" in diag.hint


def test_a_newer_3x_minor_warns_and_renders_for_3x(tmp_path: Path) -> None:
    spec = _shop_pinned(tmp_path, "3.16.0")
    result = generate(spec, display="shop.yaml", targets=["rules"])
    assert result.ok
    [diag] = [d for d in result.diagnostics if d.code.startswith("OBS50") and d.code >= "OBS506"]
    assert diag.code == "OBS507" and not diag.is_error and diag.path == "stack.prometheus"
    assert {a.path: a.text for a in result.artifacts} == _rules(SHOP)


def test_malformed_pin_is_a_shape_error(tmp_path: Path) -> None:
    spec = _shop_pinned(tmp_path, "3.5")
    result = generate(spec, display="shop.yaml", targets=["rules"])
    assert not result.ok and not result.artifacts
    assert [d.path for d in result.diagnostics if d.is_error] == ["stack.prometheus"]


@pytest.mark.parametrize("version", ["2.42.0", "2.55.1", "3.0.0", "3.5.0", "3.13.2"])
def test_supported_pins_pass(version: str) -> None:
    assert pc.check_version(version) is None
