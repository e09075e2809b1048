"""Issue 14: every sink's escaping function against hostile text, read back by the sink's real parser.

For each sink in ``obsgen.emit.escape`` a property test feeds text from ``tests/hostile_text.py`` and
proves, with the parser the consuming tool uses, that the value reads back unchanged and adds no
structure: PyYAML, json, promql-parser (Rust port of Prometheus' parser), Grafana's lezer grammars
for LogQL and TraceQL (node), Go's text/template (a small Go program built from the standard
library), markdown-it-py with GFM tables, and Mermaid's quoted-label rule (a minimal reader here). A
function that cannot hold a value must refuse it with ``UnsafeText``, and only for text the spec
itself refuses (``escape.text_problem``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs

import promql_parser
import pytest
import re2
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from obsgen.emit import escape
from obsgen.emit.artifacts import dump_json, safe_relpath
from obsgen.emit.commented_yaml import dump_yaml, yaml_value
from obsgen.targets.collector.strict.schema import unescape_dollars
from obsgen.targets.tempo.envsubst import expand
from tests import lezer_grammars
from tests.hostile_text import any_text, one_line_text
from tests.test_escape import go_unquote, grafana_expand

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Sinks checked by an external process get a batch of values per example.
BATCH = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])
batches = st.lists(any_text, min_size=40, max_size=60)

_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _known_surrogate_bug(value: str) -> bool:
    # PyYAML's pure-Python reader splits astral characters after a line break (tests/test_escape.py)
    return bool(_BREAKS.search(value) and _ASTRAL.search(value))


# ------------------------------------------------------------------------------------------------
# YAML value and YAML comment (PyYAML)


@SETTINGS
@given(any_text.filter(lambda v: not _known_surrogate_bug(v)))
def test_yaml_value_reads_back_and_adds_no_structure(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_value(value)}\nnext: 1\n") == {"key": value, "next": 1}
    assert yaml.safe_load(dump_yaml({"key": value, "list": [value], value: "as key"})) == {
        "key": value, "list": [value], value: "as key"}


@SETTINGS
@given(any_text)
@example("x\u2028- name: pwn\u2028  type: always_sample")
@example("x\x85b: 2")
@example("x\u2029b: 2")
def test_yaml_comment_never_adds_structure(value: str) -> None:
    """The parsed document with the comment equals the one without it, or the text is refused."""
    try:
        text = escape.yaml_comment(value)
    except escape.UnsafeText:
        assert escape.text_problem(value) is not None  # refused only what the spec refuses anyway
        return
    assert text == value
    without = {"a": 1, "b": [2]}
    assert yaml.safe_load("a: 1\nb: [2]\n") == without
    for doc in (f"a: 1\n# {text}\nb: [2]\n", f"a: 1  # {text}\nb: [2]\n", f"# {text}\na: 1\nb: [2]\n"):
        assert yaml.safe_load(doc) == without, doc
    assert yaml.safe_load(f"p:\n  # {text}\n  - b: [2]\n") == {"p": [{"b": [2]}]}


@SETTINGS
@given(one_line_text)
def test_yaml_comment_holds_every_spec_text(value: str) -> None:
    assert escape.yaml_comment(value) == value


# ------------------------------------------------------------------------------------------------
# JSON


@SETTINGS
@given(any_text)
def test_json_reads_back(value: str) -> None:
    assert json.loads(dump_json({"k": value, "l": [value]})) == {"k": value, "l": [value]}


@SETTINGS
@given(any_text.filter(lambda v: not _known_surrogate_bug(v)))
def test_json_flow_value_is_also_a_yaml_flow_value(value: str) -> None:
    """A flow value (``CommentedYaml.flow``) sits in a YAML document: YAML must read the same value JSON does."""
    assert json.loads(escape.yaml_flow_json([value])) == [value]
    assert yaml.safe_load(f"k: {escape.yaml_flow_json([value])}\n") == {"k": [value]}


# ------------------------------------------------------------------------------------------------
# PromQL (promql-parser)


def _matcher_value(query: str) -> tuple[str, str]:
    expr = promql_parser.parse(query)
    (matcher,) = expr.matchers.matchers
    return matcher.name, matcher.value


@SETTINGS
@given(any_text)
@example("a\"} or vector(1) # ")
def test_promql_string_reads_back(value: str) -> None:
    assert _matcher_value(f"up{{l={escape.promql_string(value)}}}") == ("l", value)


@SETTINGS
@given(any_text)
@example(".*")
@example("a|b")
def test_promql_regex_matches_exactly_the_value(value: str) -> None:
    regex = escape.promql_regex(value)
    name, read = _matcher_value(f"up{{l=~{escape.promql_string(regex)}}}")
    assert (name, read) == ("l", regex)
    assert re2.fullmatch(regex, value, options=_re2_dotall()) is not None
    assert re2.fullmatch(regex, value + "x", options=_re2_dotall()) is None


def _re2_dotall() -> re2.Options:
    options = re2.Options()
    options.dot_nl = True  # Prometheus anchors as ^(?s:...)$
    return options


_GRAFANA_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}")


def _grafana_inert(text: str) -> bool:
    """No Grafana variable syntax (public/app/features/variables/utils.ts variableRegex), no '$' at all."""
    return _GRAFANA_VARIABLE.search(text) is None and "$" not in text and "[[" not in text


@SETTINGS
@given(any_text)
@example("$__interval")
@example("${__user.login}")
@example("[[__dashboard]]")
def test_grafana_promql_literals_read_back_and_hold_no_variable(value: str) -> None:
    for op, literal, want in (("=", escape.grafana_promql_string(value), value),
                              ("=~", escape.grafana_promql_regex(value), escape.promql_regex(value))):
        assert _grafana_inert(literal), literal
        assert _matcher_value(f"up{{l{op}{literal}}}") == ("l", want)


# ------------------------------------------------------------------------------------------------
# LogQL and TraceQL (Grafana's lezer grammars, and Go's strconv.Unquote for the value)

def _logql(value: str) -> tuple[str, str]:
    literal = escape.logql_string(value)
    return f"{{service_name={literal}}}", literal


def _traceql(value: str) -> tuple[str, str] | None:
    try:
        comparison = escape.traceql_equals("resource.service.name", value)
    except escape.UnsafeText:
        assert escape.text_problem(value) is not None  # only text the spec refuses anyway
        return None
    return f"{{ {comparison} }}", comparison.split(" ", 2)[2]


@BATCH
@given(batches)
@example(["$__interval", "${__user.login}", "[[__dashboard]]", 'a"}|="x', "a\u2028b", "`", "\\", "a$", "$[.*"])
@example(["\uffff", "a\\uffff"])
def test_logql_and_traceql_strings_read_back_and_add_no_structure(values: list[str]) -> None:
    """Each query has the tree of the same query with a plain value, one String node spanning the literal,
    no Grafana variable syntax, and Loki/Tempo (Go's strconv.Unquote) read the value back."""
    cases: list[tuple[str, str, str, str]] = []  # (lang, value, query, literal)
    for value in values:
        query, literal = _logql(value)
        cases.append(("logql", value, query, literal))
        traceql = _traceql(value)
        if traceql is not None:
            cases.append(("traceql", value, *traceql))
    references = {("logql", "="): "{service_name=\"x\"}", ("traceql", "="): '{ resource.service.name = "x" }',
                  ("traceql", "=~"): '{ resource.service.name =~ "x" }'}
    ref_keys = list(references)
    trees = lezer_grammars.parse_many([(lang, q) for lang, _ in ref_keys for q in [references[(lang, _)]]] +
                                      [(lang, query) for lang, _, query, _ in cases])
    shapes = {key: [(n.name, n.depth) for n in tree] for key, tree in zip(ref_keys, trees, strict=False)}
    for (lang, value, query, literal), tree in zip(cases, trees[len(ref_keys):], strict=True):
        op = "=~" if " =~ " in query else "="
        assert _grafana_inert(query), query
        assert [(n.name, n.depth) for n in tree] == shapes[(lang, op)], query
        (string,) = [node for node in tree if node.name == "String"]
        assert lezer_grammars.utf16_slice(query, string.start, string.end) == literal
        decoded = go_unquote(literal)
        if op == "=":
            assert decoded == value
        else:  # Tempo matches with Go's regexp (RE2)
            assert re2.fullmatch(decoded, value, options=_re2_dotall()) is not None, (value, decoded)
            assert re2.search(decoded, value + "x", options=_re2_dotall()) is None


# ------------------------------------------------------------------------------------------------
# Go template text (Prometheus annotations): Go's own text/template


@pytest.fixture(scope="module")
def gotemplate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None:
        if os.environ.get("CI"):
            pytest.fail("go is not installed; CI must have it (make tools needs it too)")
        pytest.skip("go is not installed")
    out = tmp_path_factory.mktemp("gotemplate") / "gotemplate"
    source = Path(__file__).parent / "gotemplate" / "main.go"
    subprocess.run([go, "build", "-o", str(out), str(source)], check=True, capture_output=True, timeout=300,
                   cwd=source.parent)
    return out


@BATCH
@given(batches)
@example(["{{ .Labels }}", "{{", "}}", "a}b", '{{ "x" }}', "{{/* c */}}", "$value", "{{ $value }}"])
def test_go_template_text_expands_to_the_value(gotemplate: Path, values: list[str]) -> None:
    texts = [escape.go_template_text(v) for v in values]
    proc = subprocess.run([str(gotemplate)], input="".join(json.dumps(t) + "\n" for t in texts),
                          capture_output=True, text=True, timeout=60, check=True)
    results = [json.loads(line) for line in proc.stdout.split("\n")[:-1]]  # U+2028 may be raw in JSON
    assert len(results) == len(values)
    for value, text, result in zip(values, texts, results, strict=True):
        # Go's json decoder reads a lone surrogate escape as U+FFFD, as Go strings hold UTF-8
        assert result.get("out") == value, (value, text, result)


# ------------------------------------------------------------------------------------------------
# Markdown table cells (markdown-it-py, GFM tables)


_MD = MarkdownIt("commonmark").enable("table")


def _row_cells(markdown: str) -> list[list[object]]:
    """The inline tokens of each cell of the table's only body row."""
    tokens = _MD.parse(markdown)
    assert [t.type for t in tokens if t.type == "table_open"] == ["table_open"], markdown
    cells: list[list[object]] = []
    in_body = False
    for token in tokens:
        if token.type == "tbody_open":
            in_body = True
        elif in_body and token.type == "inline":
            cells.append(list(token.children or []))
    return cells


def _text_of(children: list[object]) -> str:
    kinds = {c.type for c in children}  # type: ignore[attr-defined]
    assert kinds <= {"text", "softbreak"}, kinds  # no code, emphasis, link, image or HTML
    return "".join(c.content for c in children)  # type: ignore[attr-defined]


@SETTINGS
@given(one_line_text)
@example("GET /a|b<img src=x onerror=alert(1)>")
@example("`|`")
def test_markdown_cell_code_holds_the_value_in_one_cell(value: str) -> None:
    cells = _row_cells(f"| a | b | c |\n|---|---|---|\n| x | {escape.markdown_code(value)} | z |\n")
    assert len(cells) == 3
    (code,) = cells[1]
    assert (code.type, code.content) == ("code_inline", value)  # type: ignore[attr-defined]
    assert _text_of(cells[2]) == "z"


@SETTINGS
@given(one_line_text)
@example("a|b")
@example("<b>x</b> **y** [l](http://e.com) ![i](u) `c` ~~s~~ $x$ &amp; 1. x")
def test_markdown_cell_text_holds_the_value_in_one_cell(value: str) -> None:
    cells = _row_cells(f"| a | b | c |\n|---|---|---|\n| x | {escape.markdown_text(value)} | z |\n")
    assert len(cells) == 3
    assert _text_of(cells[1]) == value
    assert _text_of(cells[2]) == "z"


@SETTINGS
@given(any_text)
def test_markdown_cell_code_refuses_line_breaks_only(value: str) -> None:
    try:
        escape.markdown_code(value)
    except escape.UnsafeText:
        assert any(ch in escape.YAML_LINE_BREAKS for ch in value)


@SETTINGS
@given(any_text)
@example("--> <script>")
@example("--!>")
def test_html_comment_is_one_comment(value: str) -> None:
    tokens = _MD.parse(f"<!-- {escape.html_comment(value)} -->\n\n# after\n")
    assert tokens[0].type == "html_block"
    assert tokens[0].content.count("-->") == 1 and "--!>" not in tokens[0].content
    assert [t.type for t in tokens[1:4]] == ["heading_open", "inline", "heading_close"]


# ------------------------------------------------------------------------------------------------
# Mermaid labels: the quoting rule, and a reader for the label syntax obsgen writes

# The rule (escape.mermaid_label): a label is written inside double quotes and holds only letters,
# digits, " .,_-/:()+=@" and entity codes "#<decimal>;". Mermaid ends a quoted label only at '"', and
# decodes "#<decimal>;" inside it, so no character of the value can end the label or start syntax.
_LABEL = r'"(?P<label>[A-Za-z0-9 .,_\-/:()+=@#;]*)"'
_NODE = re.compile(r"^  (?P<id>n\d+)(?P<open>\[\(|\[\[|\[|\{\{)" + _LABEL + r"(?P<close>\)\]|\]\]|\]|\}\})$")
_EDGE = re.compile(r"^  (?P<src>n\d+) -->(?:\|" + _LABEL + r"\|)? (?P<dst>n\d+)$")


def mermaid_decode(label: str) -> str:
    assert re.fullmatch(r"(?:[A-Za-z0-9 .,_\-/:()+=@]|#\d+;)*", label), label
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label)


@SETTINGS
@given(any_text)
@example('"] --> n1["x')
@example("#35;")
def test_mermaid_label_reads_back_in_a_node_and_an_edge(value: str) -> None:
    label = escape.mermaid_label(value)
    node = _NODE.match(f'  n0["{label}"]')
    edge = _EDGE.match(f'  n0 -->|"{label}"| n1')
    assert node and edge
    assert mermaid_decode(node["label"]) == value == mermaid_decode(edge["label"])


# ------------------------------------------------------------------------------------------------
# ${...} expansion: Collector, Tempo (drone/envsubst), Grafana provisioning


@SETTINGS
@given(any_text)
def test_dollar_expanding_sinks_read_back(value: str) -> None:
    assert unescape_dollars(escape.collector_value(value)) == value
    assert expand(escape.envsubst_literal(value), {"X": "expanded"}) == value
    assert grafana_expand(escape.grafana_provisioning(value)) == value


@SETTINGS
@given(any_text)
@example("$__interval [[__dashboard]] ${__user.login}")
def test_grafana_text_holds_no_variable(value: str) -> None:
    assert _grafana_inert(escape.grafana_text(value))


# ------------------------------------------------------------------------------------------------
# File names and URLs


@SETTINGS
@given(any_text, any_text)
def test_slug_is_a_safe_file_name_and_keeps_keys_apart(a: str, b: str) -> None:
    for value in (a, b):
        name = escape.slug(value)
        assert safe_relpath(name + ".json")
        assert re.fullmatch(r"[a-z0-9-]+", name)
        assert name == value or len(name) <= 35  # identifiers (<= 63 characters) are kept as they are
    if a != b:
        assert escape.slug(a) != escape.slug(b)


@SETTINGS
@given(any_text)
@example("shop.yaml")
@example("a$b.yaml")
@example("new\nline.yaml")
def test_source_file_name_is_inert_in_every_header_sink(value: str) -> None:
    try:
        name = escape.source_file_name(value)
    except escape.UnsafeText:
        return
    assert name == value
    assert escape.yaml_comment(name) == name
    assert escape.envsubst_literal(name) == name  # nothing for Tempo's envsubst to expand
    assert escape.grafana_text(name) == name
    assert escape.yaml_flow_json(name) == json.dumps(name, ensure_ascii=False)


@SETTINGS
@given(any_text)
@example("a&b=c#d?e")
@example("$__interval")
def test_url_component_reads_back_and_holds_no_syntax(value: str) -> None:
    encoded = escape.url_component(value)
    assert not set(encoded) & set("$[]{}#&?=/ \"'<>`|\\")
    assert parse_qs(f"q={encoded}&x=1", keep_blank_values=True, errors="strict") == {"q": [value], "x": ["1"]}
