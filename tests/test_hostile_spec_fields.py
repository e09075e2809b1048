"""Issue 14: every free-text field of the spec, fed hostile text, through a whole render.

For each field a hostile value (tests/hostile_text.py) replaces a plain one in a spec that uses every
feature. Either the spec is refused with a positioned error at that field, or the render succeeds and
its output has exactly the structure of the render with a plain value: every YAML and JSON artifact
parses to the same skeleton (strings masked), comments add nothing, PromQL expressions have the same
syntax tree (promql-parser), the Explore links' LogQL/TraceQL the same tree (Grafana's lezer
grammars), topology.md the same Markdown tokens and Mermaid lines, and no ``${...}``, Grafana
variable or Go template action appears that the plain render did not have. A target may leave out a file
or a setting the text cannot go into (the local stack's compose file), but only with a warning at the
field that names what it left out (OBS330): the output is then the plain render's less exactly that.
Escaping of each sink is proven value-by-value in tests/test_escape_sinks.py; this test proves every
field reaches a sink only through those functions.

The base spec configures S3 so that ``backends.tempo.s3.bucket``/``region`` reach tempo.yaml, and an OTTL
condition (code the Collector parses: any text is allowed, so it is only proven to add no structure).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

import promql_parser
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from obsgen.diagnostics import Diagnostic
from obsgen.emit.escape import text_problem
from obsgen.generate import Result, generate
from obsgen.spec.endpoints import Protocol, endpoint_protocol
from obsgen.targets.compose.omissions import OMITTED, SETTING
from obsgen.targets.tempo.envsubst import references
from tests import lezer_grammars
from tests.hostile_text import any_text
from tests.test_escape_sinks import _EDGE, _NODE

PLAIN = "plain-value"

BASE: dict[str, object] = {
    "name": "hostile",
    "description": PLAIN,
    "backends": {
        "tempo": {"url": "http://tempo:3200", "otlp_endpoint": "tempo:4317",
                  "s3": {"bucket": PLAIN, "endpoint": "s3.example.com", "region": PLAIN}},
        "loki": {"url": "http://loki:3100"},
        "prometheus": {"url": "http://prometheus:9090", "remote_write_url": "http://prometheus:9090/api/v1/write"},
        "grafana": {"url": "http://grafana:3000", "dashboards_path": "/var/lib/grafana/dashboards",
                    "folder": PLAIN},
    },
    "attributes": {"tier": {"description": PLAIN, "values": [PLAIN, "gold"]}},
    "span_metrics": {"dimensions": [{"name": "tier", "default": PLAIN}]},
    "services": {
        "front": {"service_name": PLAIN, "language": PLAIN, "runtime": PLAIN, "description": PLAIN, "team": PLAIN,
                  "endpoints": [{"route": "GET /plain", "critical": True, "description": PLAIN}],
                  "calls": [{"service": "back", "endpoint": "POST /plain"}],
                  "slos": [{"name": "front-availability", "availability": 99.5, "endpoint": "GET /plain",
                            "description": PLAIN, "latency": {"threshold": "300ms"}}]},
        "back": {"endpoints": ["POST /plain"], "calls": ["db"]},
        "db": {"kind": "database"},
    },
    "sampling": {"policies": [
        {"name": "errors", "description": PLAIN, "errors": True},
        {"name": "critical", "critical_endpoints": True},
        {"name": "salted", "probabilistic": {"percentage": 10, "hash_salt": PLAIN}},
        {"name": "tiers", "string_attribute": {"key": "tier", "values": [PLAIN]}},
        {"name": "state", "trace_state": {"key": "k", "values": [PLAIN]}},
        {"name": "ottl", "ottl_condition": {"span": [f'attributes["tier"] == "{PLAIN}"']}},
    ]},
    "collector": {"replicas": 2, "resolver": "dns", "sampler_service": "otel-sampler.observability.svc"},
    "alerting": {"runbook_base_url": "https://runbooks.example.com/x", "labels": {"team": PLAIN}},
}

# Every free-text field, as (path, ...) lists of the places that must hold the same value.
Path_ = tuple[object, ...]
FIELDS: dict[str, list[Path_]] = {
    "description": [("description",)],
    "backends.tempo.url": [("backends", "tempo", "url")],
    "backends.tempo.otlp_endpoint": [("backends", "tempo", "otlp_endpoint")],
    "backends.tempo.s3.bucket": [("backends", "tempo", "s3", "bucket")],
    "backends.tempo.s3.region": [("backends", "tempo", "s3", "region")],
    "backends.loki.url": [("backends", "loki", "url")],
    "backends.prometheus.url": [("backends", "prometheus", "url")],
    "backends.prometheus.remote_write_url": [("backends", "prometheus", "remote_write_url")],
    "backends.grafana.url": [("backends", "grafana", "url")],
    "backends.grafana.dashboards_path": [("backends", "grafana", "dashboards_path")],
    "backends.grafana.folder": [("backends", "grafana", "folder")],
    "attributes.description": [("attributes", "tier", "description")],
    "attributes.values": [("attributes", "tier", "values", 0)],
    "dimension.default": [("span_metrics", "dimensions", 0, "default")],
    "service_name": [("services", "front", "service_name")],
    "language": [("services", "front", "language")],
    "runtime": [("services", "front", "runtime")],
    "service.description": [("services", "front", "description")],
    "team": [("services", "front", "team")],
    "endpoint.route": [("services", "front", "endpoints", 0, "route"), ("services", "front", "slos", 0, "endpoint")],
    "endpoint.description": [("services", "front", "endpoints", 0, "description")],
    "call.endpoint": [("services", "back", "endpoints", 0), ("services", "front", "calls", 0, "endpoint")],
    "slo.description": [("services", "front", "slos", 0, "description")],
    "policy.description": [("sampling", "policies", 0, "description")],
    "probabilistic.hash_salt": [("sampling", "policies", 2, "probabilistic", "hash_salt")],
    "string_attribute.values": [("sampling", "policies", 3, "string_attribute", "values", 0)],
    "trace_state.values": [("sampling", "policies", 4, "trace_state", "values", 0)],
    "ottl_condition.span": [("sampling", "policies", 5, "ottl_condition", "span", 0)],
    "collector.sampler_service": [("collector", "sampler_service")],
    "alerting.runbook_base_url": [("alerting", "runbook_base_url")],
    "alerting.labels": [("alerting", "labels", "team")],
}


# Fields that hold values or code the tools read as they are (an attribute value, an OTTL condition): any text
# is allowed there, so they must only be proven structure-preserving.
RAW_TEXT_FIELDS = frozenset({"string_attribute.values", "ottl_condition.span"})


def _spec_with(field: str, value: str) -> dict[str, object]:
    spec = copy.deepcopy(BASE)
    for path in FIELDS[field]:
        node: object = spec
        for key in path[:-1]:
            node = node[key]  # type: ignore[index]
        node[path[-1]] = value  # type: ignore[index]
    return spec


def _run(tmp: Path, field: str, value: str) -> Result:
    spec = tmp / "hostile.yaml"
    spec.write_text(yaml.safe_dump(_spec_with(field, value), allow_unicode=True, sort_keys=False, width=10**9),
                    encoding="utf-8")
    return generate(spec, "hostile.yaml")


# ------------------------------------------------------------------------------------------------
# Structure of each artifact kind, with spec text masked


# Variables obsgen itself writes into dashboard queries (Grafana substitutes them before Prometheus)
_OBSGEN_VARIABLES = re.compile(r"\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}")
# escape.go_template_text's {{ "..." }}: literal text, not an action that reads data
_STRING_ACTION = re.compile(r'\{\{ "(?:[^"\\]|\\.)*" \}\}')
_GRAFANA_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}")


def _skeleton(data: object) -> object:
    """Structure with every string replaced by its kind of content (spec text masked)."""
    if isinstance(data, dict):
        return {("KEY" if PLAIN in str(k) else k): _skeleton(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_skeleton(v) for v in data]
    if isinstance(data, str):
        return "str"
    return type(data).__name__


def _strings(data: object, path: tuple[object, ...] = ()) -> Iterator[tuple[tuple[object, ...], str]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _strings(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _strings(v, (*path, i))
    elif isinstance(data, str):
        yield path, data


def _ast(node: object, masked: bool = False) -> object:
    """promql-parser's syntax tree as plain data; label values and string literals masked."""
    if isinstance(node, str):
        return "S" if masked else node
    if isinstance(node, int | float | bool) or node is None:
        return repr(node)
    if isinstance(node, list):
        return [_ast(item) for item in node]
    attrs = {k: getattr(node, k) for k in dir(node) if not k.startswith("_")}
    attrs = {k: v for k, v in attrs.items() if not callable(v) and type(v) is not type(node)}  # enum members
    if not attrs:
        return str(node)
    kind = type(node).__name__
    return {"type": kind, **{k: _ast(v, masked=(kind, k) in (("Matcher", "value"), ("StringLiteral", "val")))
                             for k, v in attrs.items()}}


def _promql_shape(expr: str) -> object:
    """The syntax tree promql-parser reads from ``expr`` (obsgen's own Grafana variables substituted)."""
    return _ast(promql_parser.parse(_OBSGEN_VARIABLES.sub("5m", expr)))


def _markdown_shape(text: str) -> list[object]:
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    shape: list[object] = []
    for token in tokens:
        if token.type == "fence":
            for line in token.content.splitlines():
                line = line.replace("<br/><i>", "#0;").replace("</i>", "#0;")  # obsgen's own label markup
                node, edge = _NODE.match(line), _EDGE.match(line)
                shape.append(("node", node["open"]) if node else ("edge",) if edge else line)
        else:
            kinds = [c.type for c in token.children or []]
            shape.append((token.type, [k for i, k in enumerate(kinds) if k != "text" or kinds[i - 1:i] != ["text"]]))
    return shape


def _explore(doc: object) -> list[tuple[str, str]]:
    out = []
    for _, text in _strings(doc):
        if text.startswith("/explore"):
            for pane in json.loads(parse_qs(urlsplit(text).query)["panes"][0]).values():
                for query in pane["queries"]:
                    out.append(("logql", query["expr"]) if "expr" in query else ("traceql", query["query"]))
    return out


def _expressions(doc: object) -> list[str]:
    return [text for path, text in _strings(doc) if path and path[-1] == "expr"]


def _env_references(path: str, text: str, doc: object) -> list[str]:
    """What each tool would expand in the file: ``${...}`` left after its escape is removed."""
    if path.startswith("tempo/"):  # drone/envsubst over the whole text, comments too (-config.expand-env)
        return references(text)
    if path.startswith(("otel-collector/", "grafana/provisioning/")):  # confmap / Grafana: parsed values
        return [ref for _, value in _strings(doc) for ref in re.findall(r"\$\{[^}]*\}|\$[A-Za-z_]\w*",
                                                                        value.replace("$$", ""))]
    return []  # nothing expands the other files


def _template_actions(doc: object) -> list[tuple[object, int]]:
    """Go template actions in alerting rules' labels and annotations (Prometheus expands only those)."""
    out = []
    for group in doc.get("groups", []) if isinstance(doc, dict) else []:
        for rule in group.get("rules", []):
            if "alert" in rule:
                for path, value in _strings({k: rule.get(k, {}) for k in ("labels", "annotations")}):
                    out.append((path, _STRING_ACTION.sub("", value).count("{{")))
    return out


def shape(result: Result) -> dict[str, object]:
    """Everything structural about a render's output."""
    out: dict[str, object] = {}
    explore: list[tuple[str, str]] = []
    for art in result.artifacts:
        kind = PurePosixPath(art.path).suffix
        entry: dict[str, object] = {}
        if kind == ".yaml":
            doc = yaml.safe_load(art.text)
        elif kind == ".json":
            doc = json.loads(art.text)
            entry["grafana_variables"] = sorted((str(p), m.group()) for p, s in _strings(doc)
                                                for m in _GRAFANA_VARIABLE.finditer(s) if p[-1] != "url")
            explore += _explore(doc)
        else:
            entry["markdown"] = _markdown_shape(art.text)
            out[art.path] = entry
            continue
        entry["env"] = _env_references(art.path, art.text, doc)
        entry["skeleton"] = _skeleton(doc)
        entry["promql"] = [_promql_shape(e) for e in _expressions(doc)]
        entry["go_template_actions"] = _template_actions(doc) if art.path.startswith("prometheus/rules/") else []
        out[art.path] = entry
    trees = lezer_grammars.parse_many(explore) if explore else []
    out["explore"] = [[(n.name, n.depth) for n in tree] for tree in trees]
    return out


# A plain endpoint of each protocol: the protocol an endpoint's text names decides which attribute its
# sampling policy matches on (obsgen.spec.endpoints.endpoint_protocol), so a hostile value is compared with
# a plain value of its own protocol.
_PLAIN_ENDPOINTS = {Protocol.HTTP: "GET /p", Protocol.GRPC: "pkg.Plain/Method", Protocol.UNKNOWN: "plain"}


def _baseline_value(field: str, value: str) -> str:
    if field.startswith(("backends.", "collector.")):
        # BASE's own address or path, so that the plain render leaves nothing out (the local stack needs
        # addresses it can run)
        node: object = BASE
        for key in FIELDS[field][0]:
            node = node[key]  # type: ignore[index]
        assert isinstance(node, str)
        return node
    if "route" not in field and "endpoint" not in field:
        return PLAIN
    return _PLAIN_ENDPOINTS[endpoint_protocol(value)]


@cache
def _baseline(field: str, plain: str) -> dict[str, object]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = _run(Path(tmp), field, plain)
    assert result.ok, [d.format() for d in result.diagnostics]
    assert not [d for d in result.diagnostics if OMITTED in d.extra], [d.format() for d in result.diagnostics]
    return shape(result)


# ------------------------------------------------------------------------------------------------
# The property


SETTINGS = settings(max_examples=12, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _check(tmp_path: Path, field: str, value: str) -> None:
    result = _run(tmp_path, field, value)
    errors = [d for d in result.diagnostics if d.is_error]
    field_lines = {str(p[0]) for p in FIELDS[field]}
    if errors:
        assert all(d.line > 0 for d in errors), [d.format() for d in errors]
        assert not [d for d in errors if d.code == "OBS705"], [d.format() for d in errors]  # never a defect
        assert any(d.path.split(".")[0].split("[")[0] in field_lines for d in errors), [d.format() for d in errors]
        return
    if field not in RAW_TEXT_FIELDS:
        assert text_problem(value) is None, f"{value!r} was accepted in {field}"
    # A target may leave out a file or a setting it cannot write this text into, but only with a warning
    # positioned at the field that says what it left out: the output is then the plain render minus exactly that.
    omitted = [d for d in result.diagnostics if OMITTED in d.extra]
    for d in omitted:
        assert d.line > 0 and d.path.split(".")[0] in field_lines, d.format()
    got, want = shape(result), _without(_baseline(field, _baseline_value(field, value)), omitted)
    assert got.keys() == want.keys(), [d.format() for d in omitted]
    for path in want:
        assert got[path] == want[path], (field, value, path, [d.format() for d in omitted])


def _without(shape_: dict[str, object], omissions: list[Diagnostic]) -> dict[str, object]:
    """A render's shape less what the diagnostics say was left out: a file (and its manifest entry), or one
    setting of a file (a dotted path into its parsed data)."""
    out = copy.deepcopy(shape_)
    for d in omissions:
        entry = out[d.extra[OMITTED]]
        if SETTING in d.extra:
            assert isinstance(entry, dict)
            *parents, last = d.extra[SETTING].split(".")
            node = entry["skeleton"]
            for key in parents:
                node = node[key]  # type: ignore[index]
            del node[last]  # type: ignore[attr-defined]
        else:
            del out[d.extra[OMITTED]]
            del out[MANIFEST]["skeleton"]["files"][d.extra[OMITTED]]  # type: ignore[index]
    return out


MANIFEST = "obsgen-manifest.json"


hostile_values = any_text.map(lambda s: s[:1024])
fields = st.sampled_from(sorted(FIELDS))


@SETTINGS
@given(field=fields, value=hostile_values)
def test_hostile_text_in_a_field_is_refused_or_adds_no_structure(tmp_path: Path, field: str, value: str) -> None:
    _check(tmp_path, field, value)


@pytest.mark.slow
@settings(SETTINGS, max_examples=300)
@given(field=fields, value=hostile_values)
def test_hostile_text_in_a_field_long_run(tmp_path: Path, field: str, value: str) -> None:
    _check(tmp_path, field, value)


@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("value", [
    "x\u2028- name: pwn\u2028  type: always_sample",
    "a|b<img src=x> `c` **b** <!-- c --> --> \"\\' é名🙂 \u00a0\u200b \\L \\u2028",
    "$__interval ${__user.login} [[__dashboard]] {{ .Labels }} {{ \"x\" }} ${env:HOME} $$ ${X:-y}",
    "x" * 1024,
], ids=["line-separator", "markup-quotes", "variables-templates", "long"])
def test_catalogue_values_in_every_field(tmp_path: Path, field: str, value: str) -> None:
    _check(tmp_path, field, value)
