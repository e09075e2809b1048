"""Property tests: the loader on arbitrary input, positions, and random valid specs through every target.

A few hundred examples in the normal run; the ``slow`` variants run thousands (``pytest -m slow``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from obsgen.generate import generate
from obsgen.spec.endpoints import parse_route
from obsgen.spec.loader import LoadError, load_file, load_text
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _slow_only_when_asked(request: pytest.FixtureRequest) -> None:
    """``slow`` tests run only under ``-m slow`` (the default run stays within its time budget)."""
    if request.node.get_closest_marker("slow") and "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("slow: run with -m slow")


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

yamlish = st.lists(st.sampled_from([
    "services:", "\n", "  ", "- ", "api", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "!!str ", "!!python/name:x ",
    "<<: ", "? ", "|", ">", "'", '"', "#", "---", "...", "%YAML 1.1", "\t", "\\", "1e3", ".nan", "~", "é", "\x00",
    "\ufeff", "\x85", "\u2028", "calls: [a]", "  api: {}", "!", "@", "`",
]), max_size=30).map("".join)


def _load_text_ok_or_load_error(text: str) -> None:
    try:
        loaded = load_text(text, "fuzz.yaml")
    except LoadError as exc:
        diag = exc.diagnostic
        assert diag.code.startswith("OBS1") or diag.code in ("OBS202", "OBS205")
        assert diag.line >= 1 and diag.column >= 1
        assert "\n" not in diag.format().split("\n    hint: ")[0]
        return
    assert isinstance(loaded.data, dict)


@FAST
@given(st.one_of(st.text(max_size=200), yamlish))
@example("a: &a [*a]")
@example("!!int x: 1")
@example("a: !!binary x")
@example("a: 1:2:3:4:5:6:7:8:9")
def test_loader_never_raises_anything_but_load_error(text: str) -> None:
    _load_text_ok_or_load_error(text)


@FAST
@given(st.binary(max_size=300))
def test_loader_on_arbitrary_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(data)
        try:
            load_file(path)
        except LoadError as exc:
            assert exc.diagnostic.code.startswith("OBS1") or exc.diagnostic.code in ("OBS202", "OBS205")


@pytest.mark.slow
@SLOW
@given(st.one_of(st.text(max_size=400), yamlish, st.binary(max_size=400).map(lambda b: b.decode("latin-1"))))
def test_loader_fuzz_slow(text: str) -> None:
    _load_text_ok_or_load_error(text)


# ------------------------------------------------------------------------------------------------
# Positions

key_text = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True).filter(
    lambda k: k not in ("y", "n", "yes", "no", "on", "off", "true", "false", "null"))
tree_values = st.recursive(
    st.one_of(st.integers(-1000, 1000), st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF,
                                                               blacklist_characters="\x7f\x85"), max_size=8)),
    lambda inner: st.one_of(st.dictionaries(key_text, inner, min_size=1, max_size=4),
                            st.lists(inner, min_size=1, max_size=3)),
    max_leaves=15,
)


def _walk(value: object, loc: tuple[str | int, ...] = ()):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*loc, key), child
            yield from _walk(child, (*loc, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield (*loc, i), child
            yield from _walk(child, (*loc, i))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(key_text, tree_values, min_size=1, max_size=4), st.booleans(), st.sampled_from([2, 4]))
def test_positions_point_at_the_key_and_value(data: dict[str, object], flow: bool, indent: int) -> None:
    text = yaml.safe_dump(data, default_flow_style=None if flow else False, allow_unicode=True,
                          indent=indent, width=10**6, sort_keys=False)
    loaded = load_text(text, "p.yaml")
    assert loaded.data == data
    lines = text.split("\n")
    for loc, value in _walk(data):
        if isinstance(loc[-1], str):
            line, col = loaded.key_positions[loc]
            assert lines[line - 1][col - 1:].startswith(loc[-1]), (loc, line, col, text)
        line, col = loaded.positions[loc]
        rest = lines[line - 1][col - 1:]
        if isinstance(value, dict) and value:
            first = next(iter(value))
            assert rest.startswith(("{", first)), (loc, rest)
        elif isinstance(value, list) and value:
            assert rest.startswith(("[", "-")), (loc, rest)
        elif isinstance(value, int):
            assert rest.startswith(str(value)), (loc, rest)


# ------------------------------------------------------------------------------------------------
# Random valid specs through generate()

ident = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)
route_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Zs"), blacklist_characters="\ufeff"),
                     min_size=1, max_size=20)
routes = st.one_of(route_text, st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE"]), route_text).map(
    lambda mr: f"{mr[0]} /{mr[1]}"))
free_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"),
                    min_size=1, max_size=30).map(str.strip).filter(bool)


@st.composite
def valid_specs(draw: st.DrawFn) -> dict[str, object]:
    keys = draw(st.lists(ident, min_size=1, max_size=6, unique=True))
    services: dict[str, dict[str, object]] = {}
    slo_names: list[str] = []
    latency_slos: list[str] = []
    for key in keys:
        svc: dict[str, object] = {}
        kind = draw(st.sampled_from(["service", "service", "service", "database", "external", "cache", "queue"]))
        if kind != "service":
            svc["kind"] = kind
        if draw(st.booleans()):
            svc["service_name"] = draw(free_text)
        if draw(st.booleans()):
            svc["description"] = draw(free_text)
        endpoints, seen = [], set()
        for route in draw(st.lists(routes, max_size=3)):
            span = parse_route(route).span_name
            if not span or route != route.strip() or span in seen:
                continue
            seen.add(span)
            endpoints.append({"route": route, "critical": True} if draw(st.booleans()) else route)
        if endpoints:
            svc["endpoints"] = endpoints
        services[key] = svc
    for key, svc in services.items():
        others = [k for k in keys if k != key]
        if svc.get("kind", "service") != "service" or not others:
            continue
        callees = draw(st.lists(st.sampled_from(others), max_size=3, unique=True))
        if callees:
            svc["calls"] = callees
        if draw(st.booleans()):
            name = f"{key}-slo{len(slo_names)}"
            slo: dict[str, object] = {"name": name}
            if draw(st.booleans()):
                slo["availability"] = draw(st.sampled_from([99, 99.5, 99.9, 95]))
            else:
                slo["latency"] = {"threshold": draw(st.sampled_from(["100ms", "250ms", "1s", "2500ms"])),
                                  "percentile": draw(st.sampled_from([90, 95, 99]))}
                latency_slos.append(name)
            if draw(st.booleans()):
                slo["window"] = draw(st.sampled_from(["1h", "1d", "7d", "28d", "30d", "90d"]))
            slo_names.append(name)
            svc["slos"] = [slo]
    policies: list[dict[str, object]] = [{"name": "errors", "errors": True}]
    if draw(st.booleans()):
        policies.append({"name": "base", "probabilistic": {"percentage": draw(st.sampled_from([1, 10, 50]))}})
    if draw(st.booleans()):
        policies.append({"name": "slow", "latency": {"threshold": "2s"}})
    if latency_slos and draw(st.booleans()):
        policies.append({"name": "slo-slow", "latency": {"slo": draw(st.sampled_from(latency_slos))}})
    if any(isinstance(e, dict) for s in services.values() for e in s.get("endpoints", [])):  # type: ignore[union-attr]
        policies.append({"name": "critical", "critical_endpoints": True})
    if draw(st.booleans()):
        policies.append({"name": "budget", "composite": {"max_spans_per_second": 500, "policies": [
            {"name": "c-errors", "share": 50, "status_code": ["ERROR"]},
            {"name": "c-rest", "share": 50, "always_sample": True}]}})
    spec: dict[str, object] = {"services": services, "sampling": {"policies": policies}}
    if draw(st.booleans()):
        spec["span_metrics"] = {"source": "tempo"}
    return spec


def _check_generates(spec: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.yaml"
        path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
        result = generate(path)
        errors = [d.format() for d in result.diagnostics if d.is_error]
        assume(not any(" OBS303 " in e for e in errors))  # e.g. two services reporting the same service_name
        assert result.ok, "\n".join(errors)
        assert result.artifacts
        assert any(a.path == "obsgen-manifest.json" for a in result.artifacts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs())
def test_random_valid_specs_generate(spec: dict[str, object]) -> None:
    _check_generates(spec)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs())
def test_random_valid_specs_generate_slow(spec: dict[str, object]) -> None:
    _check_generates(spec)


@pytest.mark.parametrize("window", ["1h", "7d", "28d", "90d"])
def test_slo_window_other_than_30d(tmp_path: Path, window: str) -> None:
    spec = tmp_path / "w.yaml"
    spec.write_text(f"services:\n  a:\n    slos:\n      - name: s\n        availability: 99\n"
                    f"        window: {window}\n")
    result = generate(spec)
    assert result.ok, [d.format() for d in result.diagnostics]


@pytest.mark.parametrize("spec", [*sorted((ROOT / "tests" / "specs").glob("*.yaml")), ROOT / "specs" / "shop.yaml"],
                         ids=lambda p: p.stem)
def test_committed_specs_generate(spec: Path) -> None:
    result = generate(spec)
    assert result.ok, [d.format() for d in result.diagnostics if d.is_error]
