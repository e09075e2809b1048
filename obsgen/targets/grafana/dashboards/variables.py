"""The templated service dashboard's variables, and how their values reach each query language safely.

A service name is any printable text (spec ``service_name``), and only Grafana knows ``$service``'s value, so
the escaping must happen at view time, with one of Grafana's variable formats. What Grafana 12.2.0 does
(``@grafana/scenes`` 6.x, which renders every dashboard in 12.x; read at tag v6.38.0):

* ``packages/scenes/src/variables/interpolation/sceneInterpolator.ts``: ``const fmt = fmt2 || fmt3 || format``:
  an explicit ``${var:format}`` wins over the format a data source passes (the Prometheus, Loki and Tempo data
  sources pass their own ``interpolateQueryExpr``/``interpolateVariable`` function).
* The data sources' own functions are not safe for every name: Prometheus's ``prometheusRegularEscape``
  (``packages/grafana-prometheus/src/escaping.ts``, 12.2, without the off-by-default feature toggle
  ``prometheusSpecialCharsInLabelValues``) escapes ``\\`` and ``'`` only, so a ``"`` in a name ends the string.
* Of the formats (``formatRegistry.ts``): ``json`` returns a string value unchanged (it stringifies only
  arrays), ``doublequote`` escapes ``"`` but not ``\\``, ``percentencode`` is for URLs. ``regex`` is
  ``escapeRegex`` of ``@grafana/data`` (``packages/grafana-data/src/text/string.ts``): a backslash before each
  of ``\\ ^ $ * + ? . ( ) | [ ] { } /``.

So every sink reads the variable as ``=~`` against a **raw (backtick) string** holding ``${var:regex}``:
PromQL, LogQL and TraceQL all take backtick strings without escape processing, and RE2 (Go's ``regexp``, which
Prometheus, Loki and Tempo use) reads a backslash before punctuation as that character. The regex matches the
whole value: PromQL and LogQL label matchers are anchored by Prometheus's ``labels.NewMatcher``; TraceQL's
``=~`` is not, so the TraceQL form adds ``\\A`` and ``\\z``. The one character no raw string can hold is the
backtick: the variable's own ``regex`` filter drops every value that contains one, so Grafana never offers such
a value, and ``obsgen validate`` warns (OBS203) about an instrumented service whose ``service.name`` has one.
"""

from __future__ import annotations

from typing import Any

from obsgen.plan import Plan, naming
from obsgen.targets.grafana.dashboards.query_targets import DataSourceRef

SERVICE = "service"
SLO = "slo"
# Grafana's variable regex filter (a JS regex between slashes, run with exec on each value: @grafana/scenes
# packages/scenes/src/variables/variants/query/utils.ts, metricNamesToVariableValues, v6.38.0): a value it does
# not match is not offered; without a capture group a matched value is kept whole. A lookahead over
# ``[\s\S]`` (any character, line breaks included) rejects a backtick anywhere, with no ``$`` in the text.
NO_BACKTICK = "/^(?![\\s\\S]*`)/"


def ref(name: str) -> str:
    """The variable as a regex-escaped value (``${service:regex}``)."""
    return f"${{{name}:regex}}"


def raw(text: str) -> str:
    """A backtick string (PromQL, LogQL and TraceQL raw string) holding ``text`` as is."""
    if "`" in text:
        raise ValueError(f"a raw string cannot hold a backtick: {text!r}")
    return f"`{text}`"


def matcher(label: str, name: str) -> str:
    """A PromQL or LogQL label matcher selecting exactly the variable's value (anchored ``=~``)."""
    return f"{label}=~{raw(ref(name))}"


def traceql_matcher(field: str, name: str) -> str:
    """A TraceQL comparison selecting exactly the variable's value (``=~`` is unanchored in TraceQL)."""
    return f"{field} =~ {raw(chr(92) + 'A' + ref(name) + chr(92) + 'z')}"


def label_values(metric_selector: str, label: str) -> str:
    """Grafana's Prometheus variable query: the values ``label`` has on the series ``metric_selector`` selects."""
    return f"label_values({metric_selector}, {label})"


def query_variable(name: str, label: str, query: str, datasource: DataSourceRef, *, hidden: bool = False,
                   repeat_all: bool = False) -> dict[str, Any]:
    """A Prometheus query variable, refreshed on time-range change, values sorted.

    ``repeat_all``: multi-valued with ``All`` selected, what a repeated row iterates over (each repeated row
    gets one value as a scoped variable); otherwise one value at a time.
    """
    out: dict[str, Any] = {
        "datasource": datasource.to_json(),
        "hide": 2 if hidden else 0,
        "includeAll": repeat_all,
        "label": label,
        "multi": repeat_all,
        "name": name,
        "options": [],
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "regex": NO_BACKTICK,
        "skipUrlSync": False,
        "sort": 1,
        "type": "query",
    }
    if repeat_all:
        out["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return dict(sorted(out.items()))


def service_variables(plan: Plan, datasource: DataSourceRef, spans_series: str, slo_series: str | None
                      ) -> list[dict[str, Any]]:
    """``service`` (every service with recorded spans) and, when the spec has SLOs, the hidden ``slo``."""
    label = plan.span_metrics.service_label
    out = [query_variable(SERVICE, "Service", label_values(spans_series, label), datasource)]
    if slo_series is not None:
        selector = f"{slo_series}{{{matcher(label, SERVICE)}}}"
        out.append(query_variable(SLO, "SLO", label_values(selector, naming.SLO_LABEL), datasource, hidden=True,
                                  repeat_all=True))
    return out
