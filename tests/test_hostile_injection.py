"""Issue 14, Injection: the hostile cases found by hand, end to end through the CLI.

Each failed before the fix: a description with U+2028 added a Collector policy (or a traceback), a
``|`` in a route split the topology table, a spec file name reached headers and names unchecked, and
Grafana variables sat raw in the Explore links' LogQL and TraceQL. The catalogue files for the first
(tests/invalid/description-*.yaml, route-line-separator.yaml) run in tests/test_hostile.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import re2
import yaml
from markdown_it import MarkdownIt

from tests import grafana_formats, lezer_grammars
from tests.test_hostile import run_cli, snapshot

_GRAFANA_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}")


def _render(tmp_path: Path, spec_text: str, name: str = "spec.yaml") -> tuple[int, str, Path]:
    spec = tmp_path / name
    spec.write_text(spec_text, encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run_cli(["render", str(spec), "--out", str(out)])
    return code, err, out


# ------------------------------------------------------------------------------------------------
# A description with a Unicode line break ends the YAML comment it is written into


@pytest.mark.parametrize("escape_seq,char", [("\\L", "U+2028"), ("\\P", "U+2029"), ("\\N", "U+0085")])
def test_policy_description_cannot_add_a_policy(tmp_path: Path, escape_seq: str, char: str) -> None:
    brk = escape_seq
    spec = ("services:\n  api: {}\nsampling:\n  policies:\n    - name: errs\n"
            f'      description: "x{brk}- name: pwn{brk}  type: always_sample"\n      errors: true\n')
    code, err, out = _render(tmp_path, spec)
    assert code == 1, err
    assert f"spec.yaml:6:20: error OBS202 sampling.policies[0].description: control characters are not " \
           f"allowed: {char}" in err
    assert not out.exists()


def test_render_never_writes_a_comment_that_ends_early(tmp_path: Path) -> None:
    """Every comment line of every YAML artifact is one physical line for YAML (no NEL, LS, PS inside)."""
    spec = ("services:\n  api: {}\nsampling:\n  policies:\n    - name: errs\n"
            "      description: 'x - name: pwn  type: always_sample # $x {{ y }} `z` <b>'\n      errors: true\n")
    code, err, out = _render(tmp_path, spec)
    assert code == 0, err
    config = (out / "otel-collector" / "config.yaml").read_text(encoding="utf-8")
    assert "# x - name: pwn  type: always_sample # $x {{ y }} `z` <b>" in config
    assert not re.search("[\x85\u2028\u2029]", config)
    policies = yaml.safe_load(config)["processors"]["tail_sampling"]["policies"]
    assert [p["name"] for p in policies] == ["errs"]


# ------------------------------------------------------------------------------------------------
# A | in an endpoint route splits the Markdown table cell (GitHub splits even inside code spans)


def test_route_with_pipe_stays_in_its_table_cell(tmp_path: Path) -> None:
    route = "GET /a|b<img src=x onerror=alert(1)>|![i](http://e.com/i.png)|[l](http://e.com)|`c`"
    code, err, out = _render(tmp_path, f"services:\n  api:\n    endpoints: [{json.dumps(route)}]\n")
    assert code == 0, err
    tokens = MarkdownIt("commonmark").enable("table").parse((out / "topology.md").read_text(encoding="utf-8"))
    rows: list[list[list[object]]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(list(token.children or []))
    assert len(rows) == 2 and all(len(row) == 6 for row in rows), rows  # header + api: six columns each
    endpoint_cell = rows[1][3]
    assert [(t.type, t.content) for t in endpoint_cell] == [("code_inline", route)]  # type: ignore[attr-defined]
    kinds = {c.type for row in rows for cell in row for c in cell}  # type: ignore[attr-defined]
    assert not kinds & {"html_inline", "image", "link_open"}, kinds


# ------------------------------------------------------------------------------------------------
# The spec file name reaches headers and, as the default name, rule groups, tags and titles


@pytest.mark.parametrize("file_name,code", [
    ("new\nline.yaml", "OBS207"), ("a$b.yaml", "OBS207"), ("{{x}}.yaml", "OBS207"), ("a${HOME}.yaml", "OBS207"),
    ("a\u2028b.yaml", "OBS207"), ("my shop.yaml", "OBS203"), ("-x.yaml", "OBS203"), ("a..b.yaml", "OBS203"),
])
def test_spec_file_name_is_checked_with_a_position(tmp_path: Path, file_name: str, code: str) -> None:
    spec = tmp_path / file_name
    spec.write_text("services:\n  api: {}\n", encoding="utf-8")
    before = snapshot(tmp_path)
    rc, _, err = run_cli(["validate", str(spec)])
    assert rc == 1, err
    assert re.search(rf":1:1: error {code} ", err), err
    rc, out, err = run_cli(["render", str(spec), "--out", str(tmp_path / "out")])
    assert rc == 1 and out == ""
    assert snapshot(tmp_path) == before


def test_a_name_key_makes_any_safe_file_name_fine(tmp_path: Path) -> None:
    spec = tmp_path / "my shop (v2).yaml"
    spec.write_text("name: shop\nservices:\n  api: {}\n", encoding="utf-8")
    rc, _, err = run_cli(["render", str(spec), "--out", str(tmp_path / "out")])
    assert rc == 0, err
    assert "# Generated by obsgen from my shop (v2).yaml." in (tmp_path / "out" / "tempo" / "tempo.yaml").read_text()
    spec = tmp_path / "a$b.yaml"
    spec.write_text("name: shop\nservices:\n  api: {}\n", encoding="utf-8")
    rc, _, err = run_cli(["validate", str(spec)])
    assert rc == 1 and "1:1: error OBS207 spec file name 'a$b.yaml' has '$'" in err


# ------------------------------------------------------------------------------------------------
# Grafana variables inside the LogQL/TraceQL of the service dashboard's Tempo and Loki panels


def _tempo_loki_queries(out: Path) -> list[tuple[str, str]]:
    """(lang, query) of every Tempo and Loki panel target of every dashboard."""
    found = []
    for path in sorted((out / "grafana" / "dashboards").glob("*.json")):
        stack = list(json.loads(path.read_text(encoding="utf-8")).get("panels", []))
        while stack:
            panel = stack.pop(0)
            stack += panel.get("panels") or []
            for target in panel.get("targets") or []:
                kind = target["datasource"]["type"]
                if kind == "loki":
                    found.append(("logql", target["expr"]))
                elif kind == "tempo":
                    found.append(("traceql", target["query"]))
    return found


@pytest.mark.parametrize("service_name", ["a$__interval", "${__user.login}", "[[__dashboard]]", 'q"$x\\y',
                                          "a|b.*c (d)/e", "ünï 😀 ^x$"])
def test_tempo_and_loki_panels_take_the_name_only_at_view_time(tmp_path: Path, service_name: str) -> None:
    name = json.dumps(service_name, ensure_ascii=False)
    code, err, out = _render(tmp_path, f"services:\n  api:\n    service_name: {name}\n")
    assert code == 0, err
    queries = _tempo_loki_queries(out)
    assert {lang for lang, _ in queries} == {"logql", "traceql"}
    formatted = []
    for lang, query in queries:
        # no spec text: the only variable is ${service:regex}, inside a backtick string
        assert {m.group(0) for m in _GRAFANA_VARIABLE.finditer(query)} == {"${service:regex}"}, query
        assert "api" not in query and service_name not in query
        # as Grafana runs it for this service (the regex format), the raw string's regex is exactly the name
        text = query.replace("${service:regex}", grafana_formats.escape_regex(service_name))
        (regex,) = re.findall(r"=~ ?`([^`]*)`", text)
        assert re2.fullmatch(regex if lang == "traceql" else f"(?:{regex})", service_name), text
        assert not re2.search(regex, service_name + "x") if lang == "traceql" else True
        formatted.append((lang, text))
    trees = lezer_grammars.parse_many(formatted)
    for (_, query), tree in zip(formatted, trees, strict=True):
        assert not [n for n in tree if n.name == "⚠"], query
