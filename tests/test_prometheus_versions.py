"""``stack.prometheus`` decides what the rules say: 2.x and 3.x pins render different bytes where the majors
store different things (the ``le`` of scraped buckets), the same bytes where they do not (remote write), and a
pin obsgen does not support is rejected at its position with a hint.

The float spellings below are checked against the real Prometheus 3 parser in tests/test_prometheus3.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from obsgen.generate import generate
from obsgen.targets.prometheus import compat as pc
from tests.conftest import ROOT

SHOP = ROOT / "specs" / "shop.yaml"
PIN = "  prometheus: 3.5.0\n"


def _shop_pinned(tmp_path: Path, version: str, *, scrape: bool = False) -> Path:
    text = SHOP.read_text()
    assert text.count(PIN) == 1
    spec = tmp_path / f"{version}-{scrape}" / "shop.yaml"  # same file name: it is in every rule file's header
    spec.parent.mkdir()
    text = text.replace(PIN, f"  prometheus: {version}\n")
    if scrape:
        assert text.count("  metrics_export: remote_write\n") == 1
        text = text.replace("  metrics_export: remote_write\n", "  metrics_export: scrape\n")
    spec.write_text(text)
    return spec


SERVER_CONFIG = "prometheus/prometheus.yaml"
_PINNED_LINE = re.compile(r"^# Prometheus \d+\.\d+\.\d+ for ", re.MULTILINE)


def _rules(spec: Path) -> dict[str, str]:
    """The rules target's files; in the server config the header line naming the pinned version is masked
    (it names the pin on purpose: the flags it lists are the pinned server's)."""
    result = generate(spec, display="shop.yaml", targets=["rules"])
    assert result.ok, "\n".join(d.format() for d in result.diagnostics)
    # the manifest holds every file's hash, so it differs with the server config's header: left out
    files = {a.path: a.text for a in result.artifacts if a.path != "obsgen-manifest.json"}
    assert _PINNED_LINE.search(files[SERVER_CONFIG])
    files[SERVER_CONFIG] = _PINNED_LINE.sub("# Prometheus <pinned> for ", files[SERVER_CONFIG])
    return files


@pytest.mark.parametrize(("seconds", "sent", "parsed"), [  # Go 'f' -1, Prometheus 3 formatOpenMetricsFloat
    (1.0, "1", "1.0"), (0.5, "0.5", "0.5"), (10.0, "10", "10.0"), (0.002, "0.002", "0.002"),
    (0.0001, "0.0001", "0.0001"), (0.00005, "0.00005", "5e-05"), (100000.0, "100000", "100000.0"),
    (1e6, "1000000", "1e+06"), (16.384, "16.384", "16.384"), (1.5e-7, "0.00000015", "1.5e-07"),
])  # fmt: skip
def test_le_spellings_follow_go_and_prometheus3(seconds: float, sent: str, parsed: str) -> None:
    assert pc.go_format_f(seconds) == sent
    assert pc.openmetrics_float(seconds) == parsed


def test_le_matcher_per_major_and_delivery() -> None:
    # remote write keeps what the producers sent, in both majors
    assert pc.le_matcher(1.0, "2.42.0", "remote_write") == pc.le_matcher(1.0, "3.5.0", "remote_write") \
        == ("le", "=", "1")
    # scraped: 3.x normalises; 2.x keeps the exposition (OpenMetrics "1.0", or text "1")
    assert pc.le_matcher(1.0, "3.5.0", "scrape") == ("le", "=", "1.0")
    assert pc.le_matcher(1.0, "2.42.0", "scrape") == ("le", "=~", r"1|1\.0")
    assert pc.le_matcher(0.00005, "3.5.0", "scrape") == ("le", "=", "5e-05")
    assert pc.le_matcher(0.00005, "2.55.1", "scrape") == ("le", "=~", r"0\.00005|5e-05")
    assert pc.le_matcher(1e6, "2.55.1", "scrape") == ("le", "=~", r"1000000|1e\+06")
    # a boundary every path spells alike is one exact matcher
    for version in ("2.42.0", "3.0.0"):
        for delivery in ("remote_write", "scrape"):
            assert pc.le_matcher(0.5, version, delivery) == ("le", "=", "0.5")  # type: ignore[arg-type]


def _sli_expr(rules: dict[str, str], file: str, slo: str) -> str:
    import yaml

    doc = yaml.safe_load(rules[f"prometheus/rules/{file}.yaml"])
    return next(r["expr"] for g in doc["groups"] for r in g["rules"]
                if r.get("record") == "slo:obsgen_sli_errors:rate5m" and r["labels"]["slo"] == slo)


def test_2x_and_3x_pins_render_different_bucket_matchers_for_scraped_span_metrics(tmp_path: Path) -> None:
    v2 = _rules(_shop_pinned(tmp_path, "2.42.0", scrape=True))
    v3 = _rules(_shop_pinned(tmp_path, "3.5.0", scrape=True))
    assert v2.keys() == v3.keys()
    changed = sorted(path for path in v2 if v2[path] != v3[path])
    # main-service's checkout SLO (in slos.yaml) has a 1s threshold: the only boundary the majors store differently
    assert changed == ["prometheus/rules/slos.yaml"]
    assert 'le=~"1|1\\\\.0"' in _sli_expr(v2, "slos", "checkout-latency")
    assert 'le="1.0"' in _sli_expr(v3, "slos", "checkout-latency")
    assert v2[changed[0]].replace('le=~"1|1\\\\.0"', 'le="1.0"') == v3[changed[0]]
    for text in (v2, v3):
        assert 'le="0.5"' in _sli_expr(text, "slos", "payments-latency")


def test_2x_and_3x_pins_render_the_same_bytes_for_remote_write(tmp_path: Path) -> None:
    """Remote write stores le as sent in both majors: nothing to change (shop's default delivery)."""
    v2, v3 = _rules(_shop_pinned(tmp_path, "2.42.0")), _rules(_shop_pinned(tmp_path, "3.5.0"))
    assert v3 == _rules(SHOP)
    assert v2 == v3
    assert 'le="1"' in _sli_expr(v3, "slos", "checkout-latency")


@pytest.mark.parametrize("scrape", [False, True])
@pytest.mark.parametrize("version", ["2.42.0", "3.5.0"])
def test_no_rendered_rule_matches_le_or_quantile_other_than_through_le_matcher(
        tmp_path: Path, version: str, scrape: bool) -> None:
    """Every le matcher comes from le_matcher; no rule matches a summary quantile label (3.x normalises it too)."""
    delivery = "scrape" if scrape else "remote_write"
    expected = {pc.le_matcher(s, version, delivery)[1:] for s in (0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)}
    rules = _rules(_shop_pinned(tmp_path, version, scrape=scrape))
    found = 0
    for text in (text for path, text in rules.items() if path.startswith("prometheus/rules/")):
        assert not re.search(r"\bquantile\s*(=|!=|=~|!~)", text)
        for match in re.finditer(r"\ble\s*(=~|=|!=|!~)\s*\"((?:[^\"\\]|\\.)*)\"", text):
            found += 1
            assert (match.group(1), match.group(2).replace("\\\\", "\\")) in expected
    assert found == 3


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
    assert _rules(spec) == _rules(SHOP)


def test_malformed_pin_is_a_shape_error(tmp_path: Path) -> None:
    spec = _shop_pinned(tmp_path, "3.5")
    result = generate(spec, display="shop.yaml", targets=["rules"])
    assert not result.ok and not result.artifacts
    assert [d.path for d in result.diagnostics if d.is_error] == ["stack.prometheus"]


@pytest.mark.parametrize("version", ["2.42.0", "2.55.1", "3.0.0", "3.5.0", "3.13.2"])
def test_supported_pins_pass(version: str) -> None:
    assert pc.check_version(version) is None


def _shop_with_interval(tmp_path: Path, interval: str) -> Path:
    text = SHOP.read_text()
    assert text.count("    scrape_interval: 15s\n") == 1
    spec = tmp_path / interval / "shop.yaml"
    spec.parent.mkdir()
    spec.write_text(text.replace("    scrape_interval: 15s\n", f"    scrape_interval: {interval}\n"))
    return spec


@pytest.mark.parametrize(("interval", "error"), [("3m", True), ("5m", True), ("2m", False), ("90s", False)])
def test_too_few_samples_in_the_base_window_is_reported(tmp_path: Path, interval: str, error: bool) -> None:
    result = generate(_shop_with_interval(tmp_path, interval), display="shop.yaml", targets=["rules"])
    [diag] = [d for d in result.diagnostics if d.code == "OBS508"]
    assert diag.is_error is error and result.ok is not error
    assert diag.path == "backends.prometheus.scrape_interval" and diag.line > 0
    assert "75s" in diag.hint


def test_every_range_window_in_the_rules_holds_four_samples_at_the_default_interval(tmp_path: Path) -> None:
    """The 5m base window is the shortest range any rule reads (the OBS508 check relies on it)."""
    specs = [SHOP, *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]
    seen = set()
    for spec in specs:
        result = generate(spec, targets=["rules"])
        assert result.ok
        for artifact in result.artifacts:
            if artifact.path.startswith("prometheus/rules/"):
                seen |= set(re.findall(r"\[(\d+[smhd])(?::[^\]]*)?\]", artifact.text))
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    assert min(int(w[:-1]) * units[w[-1]] for w in seen) == 5 * 60
