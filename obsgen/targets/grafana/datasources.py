"""Grafana provisioning: the datasources file (Tempo, Loki, Prometheus wired together) and the dashboard provider.

Datasource UIDs come from the spec, metric and label names from ``obsgen.plan.naming`` via the plan's
span-metrics source. Grafana expands ``$VAR``/``${VAR}`` in provisioning files, so every string is
built with the literal ``$`` Grafana should see and escaped once, at the end, with
``escape.grafana_provisioning`` (reference tempo-grafana.md §3.1).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.emit.commented_yaml import CommentedYaml
from obsgen.plan import Plan, naming
from obsgen.targets.grafana.provider import render_provider
from obsgen.targets.grafana.provisioning import escape_strings
from obsgen.targets.grafana.strict import validate_datasources_file

try:  # the PromQL module is optional at import time; json.dumps writes the same "..." literal
    from obsgen.targets.prometheus.quote import quote as _promql_quote
except ImportError:  # pragma: no cover - depends on which modules are installed
    _promql_quote = json.dumps

quote: Callable[[str], str] = _promql_quote

PATH = "grafana/provisioning/datasources/datasources.yaml"
COMMENTS = (
    "Datasource UIDs are fixed by the spec: dashboards, alerts and the links below refer to them.",
    "Grafana expands environment variables in this file, so every literal dollar sign is written doubled.",
)

TEMPO_NAME = "Tempo"
LOKI_NAME = "Loki"
PROMETHEUS_NAME = "Prometheus"

# Grafana variables in trace-to-X links (Grafana syntax, written with a single `$` here).
TAGS_VAR = "$__tags"
RATE_INTERVAL_VAR = "$__rate_interval"
VALUE_RAW_VAR = "${__value.raw}"
TRACE_ID_VAR = "${__trace.traceId}"
LOGS_TAGS_VAR = "${__tags}"

# Time windows around a span. Logs are written around (not exactly within) a span, and ingestion
# clocks drift; metrics need a couple of scrape intervals either side to draw a rate at all
# (grafana/tempo#2213). Trace-by-id lookups widen the range (positive values widen, datasource.ts).
LOGS_SHIFT = ("-1m", "1m")
METRICS_SHIFT = ("-2m", "2m")
TRACE_QUERY_SHIFT = ("30m", "30m")

TENANT_HEADER = "X-Scope-OrgID"
LINK_LABEL = "View trace"


def metrics_queries(plan: Plan) -> list[dict[str, str]]:
    """Trace-to-metrics queries over the configured span-metrics source (Grafana variables unescaped).

    ``$__tags`` is expanded by Grafana to the span's mapped tags (``service="checkout"``); matchers
    obsgen adds come first so an empty ``$__tags`` leaves a valid trailing comma, not a leading one.
    """
    sm = plan.span_metrics
    by = sm.span_name_label
    window = f"[{RATE_INTERVAL_VAR}]"
    error = f"{sm.status_code_label}={quote(naming.STATUS_ERROR)}"
    return [
        {"name": "Request rate", "query": f"sum by ({by}) (rate({sm.calls}{{{TAGS_VAR}}}{window}))"},
        {"name": "Error rate", "query": f"sum by ({by}) (rate({sm.calls}{{{error}, {TAGS_VAR}}}{window}))"},
        {"name": "Latency p99", "query": f"histogram_quantile(0.99, sum by (le, {by}) "
                                         f"(rate({sm.duration_bucket}{{{TAGS_VAR}}}{window})))"},
    ]


def metrics_tags(plan: Plan) -> list[dict[str, str]]:
    """Span attribute -> span-metrics label mapping that ``$__tags`` expands."""
    return [{"key": "service.name", "value": plan.span_metrics.service_label}]


def logs_tags(plan: Plan) -> list[dict[str, str]]:
    """Span attribute -> Loki label mapping, from the spec's Loki labels (sorted: stable output)."""
    loki = plan.spec.backends.loki
    if loki is None:
        return []
    return [{"key": attr, "value": label} for attr, label in sorted(loki.labels.items())]


def _traces_to_logs(plan: Plan) -> dict[str, object] | None:
    loki = plan.spec.backends.loki
    if loki is None:
        return None
    block: dict[str, object] = {
        "datasourceUid": loki.datasource_uid,
        "spanStartTimeShift": LOGS_SHIFT[0],
        "spanEndTimeShift": LOGS_SHIFT[1],
        "tags": logs_tags(plan),
        "filterBySpanID": False,
    }
    if loki.log_format == "otlp":
        # The built-in trace-id filter is a line filter, which misses OTLP logs whose trace id sits in
        # structured metadata (grafana/grafana#90335): filter on the metadata field instead.
        block["filterByTraceID"] = False
        block["customQuery"] = True
        block["query"] = f'{{{LOGS_TAGS_VAR}}} | {loki.trace_id_field}="{TRACE_ID_VAR}"'
    else:
        block["filterByTraceID"] = True
        block["customQuery"] = False
    return block


def tempo_datasource(plan: Plan) -> dict[str, object]:
    """The Tempo datasource, linked to logs, metrics and the service map."""
    spec = plan.spec
    tempo, prom = spec.backends.tempo, spec.backends.prometheus
    json_data: dict[str, object] = {}
    to_logs = _traces_to_logs(plan)
    if to_logs is not None:
        json_data["tracesToLogsV2"] = to_logs
    json_data["tracesToMetrics"] = {
        "datasourceUid": prom.datasource_uid,
        "spanStartTimeShift": METRICS_SHIFT[0],
        "spanEndTimeShift": METRICS_SHIFT[1],
        "tags": metrics_tags(plan),
        "queries": metrics_queries(plan),
    }
    json_data["serviceMap"] = {"datasourceUid": prom.datasource_uid}
    json_data["nodeGraph"] = {"enabled": True}
    json_data["traceQuery"] = {"timeShiftEnabled": True, "spanStartTimeShift": TRACE_QUERY_SHIFT[0],
                               "spanEndTimeShift": TRACE_QUERY_SHIFT[1]}
    # Needs Tempo's stream_over_http_enabled, which the tempo target always sets.
    json_data["streamingEnabled"] = {"search": True, "metrics": True}
    ds: dict[str, object] = _base(TEMPO_NAME, "tempo", tempo.datasource_uid, tempo.url)
    if tempo.tenant is not None:
        json_data["httpHeaderName1"] = TENANT_HEADER
        ds["jsonData"] = json_data
        ds["secureJsonData"] = {"httpHeaderValue1": tempo.tenant}
    else:
        ds["jsonData"] = json_data
    return ds


def derived_fields(plan: Plan) -> list[dict[str, object]]:
    """Loki derived fields that turn trace ids in logs into internal links to Tempo."""
    loki, tempo = plan.spec.backends.loki, plan.spec.backends.tempo
    if loki is None:
        return []
    field = loki.trace_id_field  # an identifier ([A-Za-z_][A-Za-z0-9_]*): no regex metacharacters
    link = {"datasourceUid": tempo.datasource_uid, "url": VALUE_RAW_VAR, "urlDisplayLabel": LINK_LABEL}
    # Label mode tests label and structured-metadata keys; it covers OTLP logs and pipelines that
    # extract the trace id at ingestion.
    fields: list[dict[str, object]] = [
        {"name": "TraceID", "matcherType": "label", "matcherRegex": f"^{field}$", **link},
    ]
    if loki.log_format == "json":
        fields.append({"name": "TraceID in JSON line", "matcherType": "regex",
                       "matcherRegex": f'"{field}"\\s*:\\s*"([0-9a-fA-F]+)"', **link})
    elif loki.log_format == "logfmt":
        fields.append({"name": "TraceID in logfmt line", "matcherType": "regex",
                       "matcherRegex": f'(?:^|\\s){field}="?([0-9a-fA-F]+)', **link})
    return fields


def loki_datasource(plan: Plan) -> dict[str, object] | None:
    """The Loki datasource (None when the spec has no Loki)."""
    loki = plan.spec.backends.loki
    if loki is None:
        return None
    ds = _base(LOKI_NAME, "loki", loki.datasource_uid, loki.url)
    ds["jsonData"] = {"derivedFields": derived_fields(plan)}
    return ds


def exemplar_labels(plan: Plan) -> list[str]:
    """Exemplar labels that carry trace ids in Prometheus: the one the span-metrics source writes.

    (Tempo's service-graph histograms carry ``traceID`` exemplars too; with the Collector as source
    those are not linked, because the cross-artifact check allows only the source's label.)
    """
    return [plan.span_metrics.exemplar_label]


def prometheus_datasource(plan: Plan) -> dict[str, object]:
    """The Prometheus datasource, the default one, with exemplars linking to Tempo."""
    prom, tempo = plan.spec.backends.prometheus, plan.spec.backends.tempo
    ds = _base(PROMETHEUS_NAME, "prometheus", prom.datasource_uid, prom.url)
    ds["isDefault"] = True
    ds["jsonData"] = {
        "httpMethod": "POST",
        "timeInterval": prom.scrape_interval.prom(),
        "exemplarTraceIdDestinations": [
            {"name": label, "datasourceUid": tempo.datasource_uid, "urlDisplayLabel": LINK_LABEL}
            for label in exemplar_labels(plan)
        ],
    }
    return ds


def _base(name: str, ds_type: str, uid: str, url: str) -> dict[str, object]:
    return {"name": name, "type": ds_type, "uid": uid, "access": "proxy", "orgId": 1, "url": url,
            "isDefault": False, "editable": False}


def datasources(plan: Plan) -> list[dict[str, object]]:
    """Every datasource, unescaped (the values Grafana should end up with)."""
    out = [prometheus_datasource(plan), tempo_datasource(plan)]
    loki = loki_datasource(plan)
    if loki is not None:
        out.append(loki)
    return out


def render_datasources(plan: Plan) -> Artifact:
    """``grafana/provisioning/datasources/datasources.yaml``."""
    body = (CommentedYaml().comments(COMMENTS).entry("apiVersion", 1).blank()
            .entry("datasources", escape_strings(datasources(plan)), value_indent=0))
    text = header_lines(plan.spec_file) + body.text()
    return Artifact(PATH, text, validate_datasources_file)


def render(plan: Plan) -> list[Artifact]:
    """The datasources file and the dashboard provider file."""
    return [render_datasources(plan), render_provider(plan)]
