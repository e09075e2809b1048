"""Every LogQL and TraceQL query obsgen emits parses with Grafana's own grammars (@grafana/lezer-logql, -traceql).

Where the queries are, for every example spec:
- datasources: the Tempo datasource's trace-to-logs query (obsgen's custom query, or, when it leaves
  ``customQuery`` off, the query Grafana builds from obsgen's tag mapping and filters: getQueryForLoki in
  createSpanLink.tsx); the Loki derived fields that link to Tempo (a trace-id lookup, see below).
- dashboards: panel targets on a Loki or Tempo datasource, and every Explore link (dashboard links, panel
  and field data links): the pane JSON's Loki ``expr`` and Tempo TraceQL ``query``.
Trace-to-metrics queries are PromQL: the PromQL tests check them.

Grafana interpolates variables before a query runs, so each is substituted the way Grafana would first
(tests/grafana_grammars.py says with what): ``${__tags}`` becomes the span's mapped tags as
``label="value", ...``; ``${__trace.traceId}``/``${__span.traceId}`` a 32-hex trace id and ``${__span.spanId}``
a 16-hex span id; ``${__from}``/``${__to}`` epoch milliseconds; ``$__interval``-like intervals ``1m``;
``${__value.raw}`` in a Loki derived field the matched trace id; ``${__field.labels.X}``, ``${__data.fields.X}``
and ``${__value.*}`` in data links a plain sample token. Any other variable fails the test until its Grafana
value is written down here.

A derived field whose ``datasourceUid`` is a Tempo datasource sends ``{query: <url>, queryType: "traceql"}``
(Loki's getDerivedFields in Grafana's loki datasource); with ``${__value.raw}`` that is a bare trace id, which
Tempo's datasource opens as a trace-id lookup, not a TraceQL expression: the test checks it interpolates to
exactly a trace id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from obsgen.emit.escape import grafana_unprovisioning
from obsgen.targets.grafana.dashboards.variables import NO_BACKTICK
from tests import grafana_formats
from tests.grafana_grammars import TRACE_ID, UnknownVariable, interpolate, parse, traces_to_logs_tags
from tests.grafana_js import require_node
from tests.real.grafana_render import SPECS, grafana_artifacts

DATASOURCES = "grafana/provisioning/datasources/datasources.yaml"
# A span attribute's value in a trace view: a plain token, so the query's own quoting is what is tested.
SAMPLE = "sample-value"
_DATA_LINK_VARS = re.compile(r"^__(field\.labels|data\.fields|value)\b")
_VARIABLES = {"service": SAMPLE, "slo": SAMPLE}


@dataclass(frozen=True)
class Emitted:
    """One query obsgen emits: where, in which language, as written and as Grafana runs it."""

    where: str
    lang: str
    written: str
    query: str


def _unprovision(value: Any) -> Any:
    """Grafana's provisioning expands ``$$`` to ``$`` before anything reads the file (obsgen escapes them)."""
    if isinstance(value, str):
        return grafana_unprovisioning(value)
    if isinstance(value, dict):
        return {k: _unprovision(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unprovision(v) for v in value]
    return value


def _trace_to_logs_query(t2l: dict[str, Any]) -> str:
    """The Loki query a trace-to-logs link runs, before interpolation (getQueryForLoki, createSpanLink.tsx)."""
    if t2l.get("customQuery"):
        return str(t2l["query"])
    expr = "{${__tags}}"
    if t2l.get("filterByTraceID"):
        expr += ' |="${__span.traceId}"'
    if t2l.get("filterBySpanID"):
        expr += ' |="${__span.spanId}"'
    return expr


def datasource_queries(name: str, text: str) -> Iterator[Emitted]:
    doc = _unprovision(yaml.safe_load(text))
    types = {ds["uid"]: ds["type"] for ds in doc["datasources"]}
    for i, ds in enumerate(doc["datasources"]):
        jd = ds.get("jsonData") or {}
        where = f"{name}: {DATASOURCES}: datasources[{i}] ({ds['name']})"
        t2l = jd.get("tracesToLogsV2")
        if ds["type"] == "tempo" and t2l and types.get(t2l["datasourceUid"]) == "loki":
            written = _trace_to_logs_query(t2l)
            tags = traces_to_logs_tags(t2l.get("tags") or [], lambda key: SAMPLE)
            yield Emitted(f"{where}.jsonData.tracesToLogsV2", "logql", written,
                          interpolate(written, {"__tags": tags}))
        for j, field in enumerate(jd.get("derivedFields") or []):
            if types.get(field.get("datasourceUid")) == "tempo":
                url = interpolate(field["url"], {"__value.raw": TRACE_ID})
                assert url == TRACE_ID, f"{where}.jsonData.derivedFields[{j}]: {field['url']!r} is no trace-id lookup"


def _data_link_sample(key: str) -> str | None:
    return SAMPLE if _DATA_LINK_VARS.match(key) else None


def _walk(value: Any, loc: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(value, dict):
        yield loc, value
        for k, v in value.items():
            yield from _walk(v, f"{loc}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{loc}[{i}]")


def _query_of(query: dict[str, Any], ds_type: str | None) -> tuple[str, str] | None:
    """(lang, text) of a Loki or Tempo query object, None for any other datasource or Tempo query type."""
    if ds_type == "loki":
        return "logql", str(query["expr"])
    if ds_type == "tempo" and query.get("queryType", "traceql") == "traceql":
        return "traceql", str(query["query"])
    return None


def dashboard_queries(name: str, path: str, text: str) -> Iterator[Emitted]:
    doc = json.loads(text)
    for loc, obj in _walk(doc, ""):
        where = f"{name}: {path}: {loc.lstrip('.')}"
        # panel targets on a Loki or Tempo datasource (the target's own datasource, else the panel's)
        for k, target in enumerate(obj.get("targets") or []) if "gridPos" in obj else ():
            ds = target.get("datasource") or obj.get("datasource") or {}
            found = _query_of(target, ds.get("type"))
            if found:
                lang, written = found
                # the service dashboard's variables: a sample value, which Grafana's regex format leaves as is
                # (hostile values: test_hostile_service_names_still_give_queries_that_parse)
                yield Emitted(f"{where}.targets[{k}]", lang, written, interpolate(written, _VARIABLES,
                                                                                  _data_link_sample))
        url = obj.get("url")
        if isinstance(url, str) and urlsplit(url).path.endswith("/explore"):
            # Grafana interpolates the whole link, then Explore reads the panes from it
            link = interpolate(url, {}, _data_link_sample)
            panes = json.loads(parse_qs(urlsplit(link).query)["panes"][0])
            for pane_id, pane in sorted(panes.items()):
                for k, query in enumerate(pane.get("queries") or []):
                    ds_type = (query.get("datasource") or {}).get("type")
                    found = _query_of(query, ds_type)
                    if found:
                        yield Emitted(f"{where}.url: pane {pane_id} query {k}", found[0], found[1], found[1])


def emitted(spec: Path) -> list[Emitted]:
    out: list[Emitted] = []
    for path, text in sorted(grafana_artifacts(spec).items()):
        if path == DATASOURCES:
            out += datasource_queries(spec.name, text)
        elif path.startswith("grafana/dashboards/"):
            out += dashboard_queries(spec.name, path, text)
    return out


@pytest.fixture(scope="module")
def node() -> str:
    return require_node()


def test_every_emitted_logql_and_traceql_query_parses(node: str) -> None:
    queries = [q for spec in SPECS for q in emitted(spec)]
    # each example spec's service dashboard has a Tempo panel (and, with a Loki label, a Loki one); the datasources
    # link traces to logs
    assert sum(q.lang == "traceql" for q in queries) == len(SPECS)
    assert sum(q.lang == "logql" and "targets" in q.where for q in queries) >= len(SPECS) - 2
    assert sum("tracesToLogsV2" in q.where for q in queries) == len(SPECS)
    results = parse([(q.lang, q.query) for q in queries], node)
    bad = [f"{q.where}: {r.describe()} (written {q.written!r})" for q, r in zip(queries, results, strict=True)
           if not r.ok]
    assert not bad, "\n".join(bad)


# service.name values that are legal in a spec (one printable line) and hostile to every query language:
# quotes, backslashes, Grafana's `$`, braces and pipes, a backtick, LogQL's `|=`, non-ASCII.
HOSTILE_NAMES = ['say "hi" \\ to {me}', "$__tags ${__span.traceId} [[x]]", "a` | b |= c", "ünï-😀 $__interval"]


def test_hostile_service_names_still_give_queries_that_parse(node: str, tmp_path: Path) -> None:
    doc = yaml.safe_load((SPECS[0]).read_text(encoding="utf-8"))
    for key, name in zip(["frontend", "main-service", "payments-service", "inventory-system"], HOSTILE_NAMES,
                         strict=True):
        doc["services"][key]["service_name"] = name
    spec = tmp_path / "hostile.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    written = [q for q in emitted(spec) if "targets" in q.where]
    assert {q.lang for q in written} == {"logql", "traceql"}
    for q in written:  # the names reach the dashboard's queries only at view time, through ${service:regex}
        assert not [n for n in HOSTILE_NAMES if n in q.written], q.written
    # what Grafana runs for each name its service variable offers: the variable's regex filter drops a name
    # with a backtick (no raw string can hold it: dashboards.variables), every other one is formatted by the
    # regex format
    offered = [n for n in HOSTILE_NAMES if re.search(NO_BACKTICK[1:-1], n)]
    assert offered == [n for n in HOSTILE_NAMES if "`" not in n]
    queries = [(q.lang, interpolate(q.written, {"service": grafana_formats.escape_regex(name)}))
               for name in offered for q in written]
    results = parse(queries, node)
    bad = [f"{r.describe()}" for r in results if not r.ok]
    assert not bad, "\n".join(bad)


def test_the_grammars_reject_broken_queries(node: str) -> None:
    """The check can fail: a near miss of each kind of query obsgen writes is an error node."""
    cases = [
        ("logql", '{service_name="a"', False),
        ("logql", '{} |="x"', False),  # an empty stream selector: what ${__tags} without tags would give
        ("logql", '{service_name="a"} | trace_id=', False),
        ("logql", '{service_name="a", env="b"} | trace_id="0af7651916cd43dd8448eb211c80319c"', True),
        ("traceql", '{ resource.service.name = "a" }', True),
        ("traceql", '{ resource.service.name = }', False),
        ("traceql", '{ resource.service.name = "a\\" }', False),  # an escaped closing quote leaves it open
        ("traceql", TRACE_ID, False),  # a trace id is a lookup, not TraceQL
    ]
    results = parse([(lang, query) for lang, query, _ in cases], node)
    assert [r.ok for r in results] == [ok for _, _, ok in cases], [r.describe() for r in results]
    assert results[0].errors and results[0].errors[0][0] == len(cases[0][1])  # where the query stops short


def test_grafana_variables_are_substituted_as_grafana_does() -> None:
    assert interpolate('{${__tags}} | trace_id="${__trace.traceId}"', {"__tags": 'a="b", c="d"'}) == (
        f'{{a="b", c="d"}} | trace_id="{TRACE_ID}"')
    assert interpolate("rate(x[$__rate_interval]) [[__interval]] ${__range:text}") == "rate(x[1m]) 1m 1h"
    assert traces_to_logs_tags([{"key": "service.name", "value": "service_name"}, {"key": "env"}],
                               lambda key: key.upper()) == 'service_name="SERVICE.NAME", env="ENV"'
    with pytest.raises(UnknownVariable):
        interpolate("{job=~\"$job\"}")
