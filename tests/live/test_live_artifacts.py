"""Every expression obsgen renders, evaluated by a real Prometheus over the synthetic scenarios.

For shop with each span-metrics source (collector, tempo): render in memory, load the rule files into the
server, backfill their recording rules over the scenario window, then at ``T_END``:

- every recording rule's expr parses and returns data in at least one scenario, and so does its
  backfilled series;
- no alert expr returns anything in the healthy scenario;
- in the failing scenario the designed failures fire: error ratio / burn rate for payments-service and
  main-service, latency for inventory-system, the declared edge main-service -> crm-system without
  traffic, and traces dropped too early. Alerts are matched loosely (labels of the returned series and of
  the rule, SLO names, and the rule's text), so the rules engineer may name them freely;
- every dashboard panel expr (``obsgen.targets.grafana.dashboards.target.panel_queries``), with Grafana variables
  substituted, parses and returns data in at least one scenario.

Until the rules and dashboards targets land these tests skip, saying which one is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from obsgen.generate import Result, generate
from tests.conftest import ROOT
from tests.live import synthetic
from tests.live.grafana_vars import UnknownVariable, expansions
from tests.live.prometheus import LivePrometheus, PromQLError, Rule, load_rules

pytestmark = pytest.mark.prometheus

T = synthetic.T_END
SHOP = ROOT / "specs" / "shop.yaml"
TEMPO_VARIANT = ROOT / "tests" / "specs" / "shop-tempo-source.yaml"

# shop's SLOs, typed by hand: name -> (service, kind). Alerts labelled with an SLO are matched through it.
SLOS = {
    "cart-checkout-availability": ("frontend", "errors"),
    "checkout-availability": ("main-service", "errors"),
    "checkout-latency": ("main-service", "latency"),
    "payments-availability": ("payments-service", "errors"),
    "payments-latency": ("payments-service", "latency"),
    "inventory-latency": ("inventory-system", "latency"),
}

# (what, services the alert must mention, kind) that must fire in the failing scenario
EXPECTED_FAILING: tuple[tuple[str, frozenset[str], str], ...] = (
    ("payments-service error ratio or burn rate", frozenset({"payments-service"}), "errors"),
    ("main-service error ratio or burn rate", frozenset({"main-service"}), "errors"),
    ("inventory-system latency", frozenset({"inventory-system"}), "latency"),
    ("declared edge main-service -> crm-system without traffic", frozenset({"main-service", "crm-system"}), "edge"),
    ("tail sampling drops traces too early", frozenset(), "dropped"),
)
# Panel queries allowed to return nothing in both scenarios: (dashboard uid, panel title, regex searched in the
# expr, why). Keep it empty unless a panel by design shows something the scenarios cannot produce.
EXPECTED_EMPTY: tuple[tuple[str, str, str, str], ...] = ()


def _expected_empty(uid: str, title: str, expr: str) -> bool:
    return any(uid == u and title == t and re.search(pattern, expr) for u, t, pattern, _ in EXPECTED_EMPTY)

_LATENCY = re.compile(r"latenc|duration|slow|quantile|_bucket|p9\d", re.I)
_ERRORS = re.compile(r"error|fail|availab", re.I)
_EDGE = re.compile(r"edge|traffic|absent|no_?calls|silent|missing|service_graph", re.I)


# ------------------------------------------------------------------------------------------------
# Rendering


@dataclass
class Rendered:
    """One rendered variant: its plan, rule files on disk, parsed rules."""

    variant: str
    result: Result
    rule_files: list[Path]
    rules: list[Rule]

    @property
    def recording(self) -> list[Rule]:
        return [r for r in self.rules if r.record]

    @property
    def alerts(self) -> list[Rule]:
        return [r for r in self.rules if r.alert]


def _spec(variant: str, tmp: Path) -> Path:
    if variant == "collector":
        return SHOP
    if TEMPO_VARIANT.exists():
        return TEMPO_VARIANT
    doc = yaml.safe_load(SHOP.read_text(encoding="utf-8"))
    doc.setdefault("span_metrics", {})["source"] = "tempo"
    path = tmp / "shop-tempo-source.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module", params=["collector", "tempo"])
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tmp = tmp_path_factory.mktemp(f"render-{request.param}")
    spec = _spec(request.param, tmp)
    result = generate(spec, spec.name)
    assert result.ok, "\n".join(d.format() for d in result.diagnostics if d.is_error)
    rules_dir = tmp / "rules"
    rules_dir.mkdir()
    files = []
    for art in result.artifacts:
        if art.path.startswith("prometheus/rules/") and art.path.endswith((".yaml", ".yml")):
            path = rules_dir / Path(art.path).name
            path.write_text(art.text, encoding="utf-8")
            files.append(path)
    return Rendered(request.param, result, files, load_rules(files))


def _need_rules(rendered: Rendered) -> None:
    if not rendered.rules:
        pytest.skip("rules target has not landed: no prometheus/rules/*.yaml artifact with rules")


@pytest.fixture(scope="module")
def servers(rendered: Rendered, live_prometheus: Any) -> dict[str, LivePrometheus]:
    """Both scenarios with this variant's rule files loaded and recording rules backfilled."""
    return {s: live_prometheus(s, rendered.rule_files) for s in synthetic.SCENARIOS}


def _panel_queries(rendered: Rendered) -> list[tuple[str, str, str]]:
    from obsgen.targets.grafana.dashboards import target as dashboards

    panel_queries = getattr(dashboards, "panel_queries", None)
    if panel_queries is None:
        pytest.skip("dashboards target has no panel_queries (obsgen.targets.grafana.dashboards.target)")
    assert rendered.result.plan is not None
    return list(panel_queries(rendered.result.plan))


def _eval(server: LivePrometheus, expr: str) -> list[dict[str, Any]]:
    return server.query(expr, T)


def _show(series: list[dict[str, Any]], limit: int = 3) -> str:
    return "; ".join(f"{s['metric']} = {s.get('value', ['', '?'])[1]}" for s in series[:limit])


# ------------------------------------------------------------------------------------------------
# Rules


def test_rule_files_load(rendered: Rendered, servers: dict[str, LivePrometheus]) -> None:
    _need_rules(rendered)
    loaded = [r["name"] for g in servers["healthy"].rules() for r in g["rules"]]
    assert sorted(loaded) == sorted(r.name for r in rendered.rules)


def test_recording_rules_return_data(rendered: Rendered, servers: dict[str, LivePrometheus]) -> None:
    _need_rules(rendered)
    problems = []
    for rule in rendered.recording:
        try:
            direct = [bool(_eval(servers[s], rule.expr)) for s in synthetic.SCENARIOS]
            recorded = [bool(_eval(servers[s], f'{{__name__="{rule.record}"}}')) for s in synthetic.SCENARIOS]
        except PromQLError as exc:
            problems.append(f"{rule.file} {rule.name}: {exc}")
            continue
        if not any(direct):
            problems.append(f"{rule.file} {rule.name}: expr returns nothing in either scenario: {rule.expr}")
        elif not any(recorded):
            problems.append(f"{rule.file} {rule.name}: backfill recorded nothing (expr has data)")
    assert not problems, f"{len(problems)} recording rule(s) [{rendered.variant}]:\n" + "\n".join(problems)


@dataclass(frozen=True)
class Firing:
    """An alert rule and the series its expr returned, with the rule's own labels merged in."""

    rule: Rule
    labels: dict[str, str]

    def services(self) -> set[str]:
        out = set(self.labels.values())
        slo = self.labels.get("slo")
        if slo in SLOS:
            out.add(SLOS[slo][0])
        return out

    def kinds(self) -> set[str]:
        kinds: set[str] = set()
        text = " ".join([self.rule.alert or "", self.rule.expr, *self.rule.annotations.values()])
        slo, slo_kind = self.labels.get("slo"), self.labels.get("slo_kind")
        if slo_kind in ("availability", "latency"):
            kinds.add("errors" if slo_kind == "availability" else "latency")
        elif slo in SLOS:
            kinds.add(SLOS[slo][1])
        else:
            if _LATENCY.search(text):
                kinds.add("latency")
            if _ERRORS.search(text):
                kinds.add("errors")
        if _EDGE.search(text):
            kinds.add("edge")
        if "dropped_too_early" in self.rule.expr:
            kinds.add("dropped")
        return kinds


def _firing(rendered: Rendered, server: LivePrometheus) -> tuple[list[Firing], list[str]]:
    firing, errors = [], []
    for rule in rendered.alerts:
        try:
            series = _eval(server, rule.expr)
        except PromQLError as exc:
            errors.append(f"{rule.file} {rule.name}: {exc}")
            continue
        firing += [Firing(rule, {**s["metric"], **rule.labels}) for s in series]
    return firing, errors


def test_alerts_quiet_when_healthy(rendered: Rendered, servers: dict[str, LivePrometheus]) -> None:
    _need_rules(rendered)
    firing, errors = _firing(rendered, servers["healthy"])
    assert not errors, "alert exprs Prometheus rejects:\n" + "\n".join(errors)
    by_rule: dict[str, list[str]] = {}
    for f in firing:
        by_rule.setdefault(f"{f.rule.file} {f.rule.name}", []).append(str(f.labels))
    assert not by_rule, f"alerts firing on healthy data [{rendered.variant}]:\n" + "\n".join(
        f"{name}: {len(labels)} series, e.g. {labels[0]}" for name, labels in sorted(by_rule.items()))


def test_expected_alerts_fire_when_failing(rendered: Rendered, servers: dict[str, LivePrometheus]) -> None:
    _need_rules(rendered)
    firing, errors = _firing(rendered, servers["failing"])
    assert not errors, "alert exprs Prometheus rejects:\n" + "\n".join(errors)
    missing = [what for what, services, kind in EXPECTED_FAILING
               if not any(kind in f.kinds() and services <= f.services() for f in firing)]
    summary = "\n".join(sorted({f"  {f.rule.name} {f.labels} kinds={sorted(f.kinds())}" for f in firing}))
    assert not missing, (f"[{rendered.variant}] expected alerts did not fire at T_END: {missing}\n"
                         f"alert series returned in the failing scenario:\n{summary or '  (none)'}")


# ------------------------------------------------------------------------------------------------
# Dashboards


def test_dashboard_queries_return_data(rendered: Rendered, servers: dict[str, LivePrometheus]) -> None:
    queries = _panel_queries(rendered)
    assert queries, "panel_queries returned nothing"
    problems = []
    for uid, title, expr in queries:
        where = f"{uid} / {title!r}"
        try:
            variants = expansions(expr)
        except UnknownVariable as exc:
            problems.append(f"{where}: {exc}")
            continue
        has_data = False
        try:
            for promql in variants:
                for scenario in synthetic.SCENARIOS:
                    if _eval(servers[scenario], promql):
                        has_data = True
                        break
                if has_data:
                    break
        except PromQLError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not has_data and not _expected_empty(uid, title, expr):
            problems.append(f"{where}: no data in either scenario for any service: {variants[0]}")
    assert not problems, f"{len(problems)} of {len(queries)} panel queries [{rendered.variant}]:\n" + "\n".join(
        problems)
