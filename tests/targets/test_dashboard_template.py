"""The templated service dashboard: its variables, where they land, and view-time escaping of hostile names.

Grafana formats a variable's value when a query runs, so these tests do what Grafana 12.2 does: ``${v:regex}``
is ``escapeRegex`` of ``@grafana/data`` (``packages/grafana-data/src/text/string.ts``: a backslash before each of
``\\ ^ $ * + ? . ( ) | [ ] { } /``), chosen over the data source's own function because an explicit format wins
(``@grafana/scenes`` ``sceneInterpolator.ts``, v6.38.0: ``fmt2 || fmt3 || format``). The result is parsed with
Prometheus's own grammar (promtool 3) and the matcher's regex run with RE2, as Prometheus runs it (anchored).
LogQL and TraceQL go through Grafana's lezer grammars in tests/real/test_grafana_queries.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import re2
import yaml

from obsgen.generate import plan_spec
from obsgen.plan import Plan
from obsgen.targets.grafana.dashboards import target as dashboards
from obsgen.targets.grafana.dashboards import variables as var
from obsgen.targets.grafana.dashboards.uids import dashboard_url, service_dashboard_url, templated_service_uid
from tests import grafana_formats, realtools
from tests.conftest import ROOT

# printable one-line names (what a spec allows) hostile to PromQL, regexes, Grafana and URLs
HOSTILE = ['say "hi" \\ to {me}', "$__tags ${__span.traceId} [[x]]", "a|b.*c", "ünï-😀 $__interval", "q'x'/y",
           "(a)[b]^c$", "%2F&var-x=1#f", "a+b?c"]
_GRAFANA_VAR = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def interpolate(text: str, values: dict[str, str]) -> str:
    """Grafana's single pass over ``text``: ``${v:regex}`` formatted, built-ins as plain tokens."""
    def one(m: re.Match[str]) -> str:
        name, fmt = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), None)
        if name.startswith("__"):
            return {"__rate_interval": "1m", "__range": "1h", "__all": "$__all"}.get(name, "x")
        return grafana_formats.apply(fmt, values[name])
    return _GRAFANA_VAR.sub(one, text)


def _plan(spec: Path = ROOT / "specs" / "shop.yaml") -> Plan:
    planned = plan_spec(spec)
    assert planned.plan is not None
    return planned.plan


def _doc(plan: Plan) -> dict:
    return next(json.loads(a.text) for a in dashboards.render(plan)
                if json.loads(a.text)["uid"] == templated_service_uid(plan))


def _panels(panels: list[dict]) -> list[dict]:
    return [q for p in panels for q in [p, *_panels(p.get("panels") or [])]]


def test_variables_service_and_hidden_repeated_slo() -> None:
    plan = _plan()
    doc = _doc(plan)
    variables = {v["name"]: v for v in doc["templating"]["list"]}
    service, slo = variables["service"], variables["slo"]
    assert service["query"]["query"] == "label_values(service:obsgen_spans:rate5m, service_name)"
    assert not service["multi"] and not service["includeAll"] and service["hide"] == 0
    assert slo["query"]["query"] == "label_values(slo:obsgen_objective:ratio{service_name=~`${service:regex}`}, slo)"
    assert slo["multi"] and slo["includeAll"] and slo["hide"] == 2
    assert service["regex"] == slo["regex"] == var.NO_BACKTICK
    rows = [p for p in doc["panels"] if p["type"] == "row"]
    assert [r.get("repeat") for r in rows] == [None] * (len(rows) - 1) + ["slo"]
    assert rows[-1]["title"] == "SLO ${slo}"


def test_every_variable_use_is_the_regex_format_in_a_raw_string_matcher() -> None:
    for spec in (ROOT / "specs" / "shop.yaml", ROOT / "tests" / "specs" / "large.yaml"):
        plan = _plan(spec)
        doc = _doc(plan)
        uses = 0
        for panel in _panels(doc["panels"]):
            for target in panel.get("targets") or []:
                text = target.get("expr") or target.get("query") or ""
                for m in _GRAFANA_VAR.finditer(text):
                    name = m.group(1) or m.group(3)
                    if name.startswith("__"):
                        continue
                    uses += 1
                    assert m.group(2) == "regex", text
                    before, after = text[:m.start()], text[m.end():]
                    # =~ `...${v:regex}...`: in a raw string, right after its opening backtick (TraceQL's \A)
                    assert re.search(r"=~ ?`(\\A)?$", before) and re.match(r"(\\z)?`", after), text
        assert uses > 20


def test_hostile_names_select_exactly_themselves_in_promql(tmp_path: Path) -> None:
    """Each hostile name, formatted as Grafana does, in every Prometheus query: promtool 3 (Prometheus's own Go
    parser; the Rust promql-parser unescapes backtick strings, which Go's does not) parses them all, and each
    raw-string matcher, run as RE2 like Prometheus (anchored), matches exactly the name."""
    plan = _plan()
    doc = _doc(plan)
    exprs: list[str] = []
    checked = 0
    for name in HOSTILE:
        for panel in _panels(doc["panels"]):
            for target in panel.get("targets") or []:
                if target["datasource"]["type"] != "prometheus":
                    continue
                expr = interpolate(target["expr"], {"service": name, "slo": name})
                exprs.append(expr)
                for value in re.findall(r"=~`([^`]*)`", expr):
                    assert re2.fullmatch(value, name), (value, name)
                    assert not re2.fullmatch(value, name + "x") and not re2.fullmatch(value, "x" + name)
                    checked += 1
    assert checked > 20 * len(HOSTILE)
    rules = {"groups": [{"name": "g", "rules": [{"record": f"r{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    proc = subprocess.run([realtools.require("promtool"), "check", "rules", "--lint=none", str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_variable_regex_filter_drops_exactly_names_with_a_backtick() -> None:
    # Grafana runs the variable's regex (a JS regex between slashes) with exec on each value and keeps the
    # matched ones whole; Python's re reads this lookahead and [\s\S] as JS does
    assert var.NO_BACKTICK.startswith("/") and var.NO_BACKTICK.endswith("/")
    pattern = re.compile(var.NO_BACKTICK[1:-1])
    assert all(pattern.search(n) for n in [*HOSTILE, "", "a\nb"])
    assert not [n for n in ("a`b", "`", "x\n`", "`\n") if pattern.search(n)]


def test_links_open_the_templated_dashboard_on_one_service(tmp_path: Path) -> None:
    plan = _plan()
    overview = next(json.loads(a.text) for a in dashboards.render(plan) if a.path.endswith("-overview.json"))
    urls = [link["url"] for p in _panels(overview["panels"]) for o in (p.get("fieldConfig") or {}).get("overrides", [])
            for prop in o["properties"] if prop["id"] == "links" for link in prop["value"]]
    query = "?var-service=${__value.raw:percentencode}&${__url_time_range}"
    assert urls == [f"/d/{templated_service_uid(plan)}{query}"]
    for name in HOSTILE:
        # a name known at render time is percent-encoded there: one var-service value, no $ left for Grafana
        url = dashboard_url(_with_name(tmp_path, name), "main-service", "service")
        assert url.startswith(service_dashboard_url(plan) + "?var-service=") and "$" not in url
        assert parse_qs(urlsplit(url).query) == {"var-service": [name]}
        assert unquote(url.split("=", 1)[1]) == name


def _with_name(tmp_path: Path, name: str) -> Plan:
    doc = yaml.safe_load((ROOT / "specs" / "shop.yaml").read_text(encoding="utf-8"))
    doc["services"]["main-service"]["service_name"] = name
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return _plan(path)


def test_a_service_name_with_a_backtick_is_a_warning_naming_the_dashboard(tmp_path: Path) -> None:
    from tests.test_hostile import run_cli

    spec = tmp_path / "s.yaml"
    spec.write_text('services:\n  api:\n    service_name: "a `b`"\n  db: {kind: database, service_name: "x`y"}\n')
    rc, _, err = run_cli(["validate", str(spec)])
    assert rc == 0, err
    assert f"{spec}:3:19: warning OBS203 services.api.service_name: service.name 'a `b`' has a backtick" in err
    assert "x`y" not in err  # a database has no dashboard view of its own
