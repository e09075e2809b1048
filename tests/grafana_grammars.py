"""Parse LogQL and TraceQL with Grafana's own lezer grammars, many queries per node process.

``parse(queries)`` sends every ``(lang, query)`` through one run of ``tools/js/check-queries.mjs``
(@grafana/lezer-logql, @grafana/lezer-traceql) and returns one :class:`Parsed` per query, in order.
``interpolate(text, values)`` first replaces Grafana variables the way Grafana's template service does,
since Grafana interpolates a query before it runs it (and so before any parser sees it).

Reusable by any test that emits queries (the escaping/injection property tests among them)::

    from tests.grafana_grammars import parse
    results = parse([("logql", '{service_name="a"}'), ("traceql", '{ resource.service.name = "a" }')])
    assert all(r.ok for r in results), [r.describe() for r in results if not r.ok]
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from tests.grafana_js import JS_DIR, require_node

SCRIPT = JS_DIR / "check-queries.mjs"
LANGS = ("logql", "traceql")


@dataclass(frozen=True)
class Parsed:
    """Whether Grafana's grammar parsed ``query`` with no error node, and where the errors are."""

    lang: str
    query: str
    ok: bool
    errors: tuple[tuple[int, int], ...] = ()  # (from, to) offsets (UTF-16 code units) of each error node
    problem: str = ""  # set when the line could not be checked at all

    def describe(self) -> str:
        if self.problem:
            return f"{self.lang} {self.query!r}: {self.problem}"
        marks = ", ".join(f"at {a}..{b} near {self.query[max(0, a - 15):b + 15]!r}" for a, b in self.errors)
        return f"{self.lang} {self.query!r}: " + (marks or "parsed")


def parse(queries: Iterable[tuple[str, str]], node: str | None = None) -> list[Parsed]:
    """Parse every ``(lang, query)`` with Grafana's grammar in one node process (skips/fails like require_node)."""
    items = list(queries)
    for lang, _ in items:
        if lang not in LANGS:
            raise ValueError(f"unknown query language {lang!r}: one of {LANGS}")
    if not items:
        return []
    node = node or require_node()
    stdin = "".join(json.dumps({"lang": lang, "query": query}) + "\n" for lang, query in items)
    proc = subprocess.run([node, str(SCRIPT)], input=stdin, capture_output=True, text=True, cwd=JS_DIR,
                          timeout=300, check=False)
    lines = proc.stdout.split("\n")[:-1]  # not splitlines(): JSON.stringify leaves U+2028 raw inside strings
    if proc.returncode != 0 or len(lines) != len(items):
        raise AssertionError(f"check-queries.mjs failed (exit {proc.returncode}, {len(lines)} of {len(items)} "
                             f"answers):\n{proc.stderr}")
    out: list[Parsed] = []
    for (lang, query), line in zip(items, lines, strict=True):
        answer = json.loads(line)
        errors = tuple((e["from"], e["to"]) for e in answer.get("errors", ()))
        out.append(Parsed(lang, query, bool(answer["ok"]), errors, answer.get("error", "")))
    return out


# ------------------------------------------------------------------------------------------------
# Grafana's variable interpolation

# Grafana's template syntax (variableRegex in public/app/features/variables/utils.ts): $name, [[name:fmt]],
# ${name}, ${name.field.path}, ${name:format}.
VARIABLE = re.compile(r"\$(?P<plain>\w+)|\[\[(?P<old>\w+?)(?::(?P<oldfmt>\w+))?\]\]"
                      r"|\$\{(?P<name>\w+)(?:\.(?P<path>[^:^}]+))?(?::(?P<fmt>[^}]+))?\}")

# A trace and span id as Grafana's trace view holds them (lowercase hex, 16 and 8 bytes).
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"

# What Grafana puts in place of its built-in variables, for a 1 h dashboard range and 1 m step, and in a
# trace view for the span above (scopedVarsFromTrace/scopedVarsFromSpan in
# public/app/features/explore/TraceView/createSpanLink.tsx). ${__tags} is not here: its value depends on
# the datasource's tag mapping (see traces_to_logs_tags).
BUILTINS: dict[str, str] = {
    "__interval": "1m", "__rate_interval": "1m", "__auto": "1m", "__range": "1h",
    "__interval_ms": "60000", "__rate_interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000",
    "__from": "1700000000000", "__to": "1700003600000",
    "__trace.traceId": TRACE_ID, "__span.traceId": TRACE_ID, "__span.spanId": SPAN_ID,
}


class UnknownVariable(AssertionError):
    """A Grafana variable the test does not know how Grafana fills: say so in BUILTINS or the caller's values."""


def interpolate(text: str, values: Mapping[str, str] = {},
                fallback: Callable[[str], str | None] = lambda name: None) -> str:
    """``text`` with every Grafana variable replaced: ``values`` first, then BUILTINS, then ``fallback``.

    Variables are keyed by ``name`` or ``name.path`` (``__span.tags.http.method``); the format suffix is
    ignored (all the values used here are plain tokens that every format leaves alone).
    """

    def replace(m: re.Match[str]) -> str:
        name = m["plain"] or m["old"] or m["name"]
        key = f"{name}.{m['path']}" if m["path"] else name
        for table in (values, BUILTINS):
            if key in table:
                return table[key]
        found = fallback(key)
        if found is None:
            raise UnknownVariable(f"Grafana variable {m.group(0)!r} in {text!r}: the test does not know its value")
        return found

    return VARIABLE.sub(replace, text)


def traces_to_logs_tags(tags: Iterable[Mapping[str, str]], sample: Callable[[str], str]) -> str:
    """``${__tags}`` of a traces-to-logs link: each mapped span attribute as ``label="value"``, joined by ", ".

    As Grafana's getFormattedTags (createSpanLink.tsx) builds it for Loki: the label is the mapping's value
    (or its key when empty), the value the span's attribute, written between double quotes unescaped.
    """
    return ", ".join(f'{t.get("value") or t["key"]}="{sample(t["key"])}"' for t in tags)
