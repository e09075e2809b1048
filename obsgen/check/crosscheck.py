"""Cross-artifact consistency: the rendered files must agree with each other and with the spec.

Run after every render, in memory, on ``Facts``: what ``extract`` keeps of each parsed artifact (its
queries' selectors, recordings, UIDs, links, buckets), taken where the artifact is checked, possibly
in the second process. Each violation points at the spec line that caused it, because
that is where the user fixes it: a metric the configured source never writes points at
``span_metrics.source``, a dangling datasource UID at ``backends``, and so on.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import NamedTuple

from obsgen.check.truth.connector_series import section as connector_section
from obsgen.diagnostics import Diagnostic, Severity
from obsgen.emit.artifacts import Artifact
from obsgen.emit.escape import grafana_unprovisioning
from obsgen.plan import Plan, naming
from obsgen.spec.loader import LoadedSpec, Loc, _dotted
from obsgen.targets.prometheus import promql

# Labels Prometheus itself (or the scrape / remote-write path) adds to every series.
_ALWAYS = frozenset({"__name__", "job", "instance"})
_OTELCOL_LABELS = frozenset({
    "policy", "sampled", "decision", "receiver", "exporter", "processor", "transport", "service_name",
    "service_instance_id", "service_version", "otel_scope_name", "otel_scope_version", "data_type",
})
_GRAFANA_DURATION = re.compile(
    r"\$(?:__rate_interval|__interval|__range)\b|\$\{(?:__rate_interval|__interval|__range)\}"
)
_GRAFANA_VAR = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


class Match(NamedTuple):
    """A label matcher of a selector, as the checks need it."""

    name: str
    op: str
    value: str


class Selector(NamedTuple):
    """A vector selector: the metric it reads and its matchers. Plain tuples, not parse-tree nodes:
    a large render has tens of thousands, and those from the second process are sent back pickled."""

    metric_name: str | None
    matchers: tuple[Match, ...]


class Query(NamedTuple):
    """A PromQL expression found in an artifact, parsed where it was found."""

    artifact: str
    where: str
    expr: str
    selectors: tuple[Selector, ...] = ()
    error: str | None = None
    """Why the expression does not parse (then ``selectors`` is empty)."""

    @classmethod
    def of(cls, artifact: str, where: str, expr: str) -> Query:
        """The query with its selectors."""
        try:
            return cls(artifact, where, expr, _selectors(expr))
        except promql.PromQLError as exc:
            return cls(artifact, where, expr, error=str(exc))


# What the checks read from an expression depends on its text alone, and a large render repeats texts: the 8,000
# rules of a 1,000-service render have ~1,500 distinct expressions. The results are immutable.
@functools.lru_cache(maxsize=1 << 12)
def _selectors(expr: str) -> tuple[Selector, ...]:
    return tuple(Selector(sel.metric_name, tuple(Match(m.name, m.op, m.value) for m in sel.matchers))
                 for sel in promql.selectors(promql.parse(expr)))


@functools.lru_cache(maxsize=1 << 12)
def _recording_facts(expr: str) -> tuple[frozenset[str] | None, tuple[str, ...], frozenset[str]]:
    tree = promql.parse(expr)
    inputs = tuple(sel.metric_name or "" for sel in promql.selectors(tree))
    return promql.outer_grouping(tree), inputs, frozenset(promql.label_names_used(tree))


class Recording(NamedTuple):
    """What a recording rule's result carries, as far as the cross-artifact checks need it."""

    name: str
    rule_labels: frozenset[str]
    grouping: frozenset[str] | None
    """Labels of the outer aggregation (``sum by (...)``); None when the result keeps its inputs' labels."""
    inputs: tuple[str, ...]
    mentioned: frozenset[str]

    @classmethod
    def of(cls, name: str, expr: str, rule_labels: frozenset[str]) -> Recording:
        """The recording rule ``name = expr``."""
        try:
            grouping, inputs, mentioned = _recording_facts(expr)
        except promql.PromQLError:
            return cls(name, rule_labels, frozenset(), (), frozenset())
        return cls(name, rule_labels, grouping, inputs, mentioned)

    def output_labels(self, table: dict[str, frozenset[str]]) -> set[str]:
        """Labels the result carries: its outer aggregation's grouping, else its inputs' labels."""
        if self.grouping is not None:
            return set(self.grouping)
        labels: set[str] = set(self.mentioned)
        for name in self.inputs:
            labels |= table.get(name, frozenset())
        return labels - {"le"}


def _variable_value(match: re.Match[str]) -> str:
    # A dashboard variable (``${service:regex}`` in a raw-string ``=~`` matcher) may hold any value its own
    # query offers, which that query's check covers: ``.*`` keeps the matcher's label checked and no literal
    # value. Grafana's built-ins (``__``) become a plain token.
    name = match.group(0).lstrip("${").split(":")[0].split(".")[0]
    return "x" if name.startswith("__") else ".*"


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana variables with values PromQL parses: durations -> 5m, ``$__tags`` -> nothing, built-ins
    -> x, dashboard variables -> ``.*`` (any value)."""
    text = _GRAFANA_DURATION.sub("5m", expr)
    text = text.replace("${__tags}", "").replace("$__tags", "")
    return _GRAFANA_VAR.sub(_variable_value, text)


def _label_values_selector(metric: str, label: str) -> str:
    """``label_values(metric, label)`` as a selector that also requires ``label`` on the series."""
    metric = metric.strip()
    if metric.endswith("}"):
        return f'{metric[:-1].rstrip().rstrip(",")}, {label}!=""}}' if not metric.endswith("{}") else \
            f'{metric[:-2]}{{{label}!=""}}'
    return f'{metric}{{{label}!=""}}'


def _rule_queries(art: Artifact, doc: object) -> Iterator[Query]:
    for g, group in enumerate(_list(_get(doc, "groups"))):
        for r, rule in enumerate(_list(_get(group, "rules"))):
            expr = _get(rule, "expr")
            if isinstance(expr, str):
                name = _get(rule, "record") or _get(rule, "alert")
                yield Query.of(art.path, f"groups[{g}].rules[{r}] ({name})", expr)


def _dashboard_queries(art: Artifact, doc: object) -> Iterator[Query]:
    def panels(items: object) -> Iterator[dict[str, object]]:
        for panel in _list(items):
            if isinstance(panel, dict):
                yield panel
                yield from panels(panel.get("panels"))

    for panel in panels(_get(doc, "panels")):
        for t, target in enumerate(_list(panel.get("targets"))):
            expr = _get(target, "expr")
            ds_type = _get(_get(target, "datasource") or panel.get("datasource"), "type")
            if ds_type not in (None, "prometheus"):
                continue  # a Loki target's expr is LogQL
            if isinstance(expr, str) and expr.strip():
                yield Query.of(art.path, f"panel {panel.get('title')!r} target {t}", grafana_to_promql(expr))
    for var in _list(_get(_get(doc, "templating"), "list")):
        query = _get(var, "query")
        if isinstance(query, dict):
            query = query.get("query")
        if _get(var, "type") == "query" and isinstance(query, str):
            match = re.fullmatch(r"\s*label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\)\s*", query)
            if match:
                yield Query.of(art.path, f"variable {_get(var, 'name')!r}",
                               grafana_to_promql(_label_values_selector(match.group(1), match.group(2))))


def _datasource_queries(art: Artifact, doc: object) -> Iterator[Query]:
    for ds in _list(_get(doc, "datasources")):
        queries = _get(_get(_get(ds, "jsonData"), "tracesToMetrics"), "queries")
        for q, item in enumerate(_list(queries)):
            expr = _get(item, "query")
            if isinstance(expr, str):
                # provisioning escapes a literal $ as $$; undo that before Grafana's own variables
                yield Query.of(art.path, f"{_get(ds, 'name')} tracesToMetrics[{q}]",
                            grafana_to_promql(grafana_unprovisioning(expr)))


def _queries(art: Artifact, doc: object) -> list[Query]:
    """Every PromQL expression of one artifact (rules, dashboards and datasources have them)."""
    parts = PurePosixPath(art.path).parts
    if parts[:2] == ("prometheus", "rules"):
        return list(_rule_queries(art, doc))
    if parts[:2] == ("grafana", "dashboards") and art.format == "json":
        return list(_dashboard_queries(art, doc))
    if parts[:3] == ("grafana", "provisioning", "datasources"):
        return list(_datasource_queries(art, doc))
    return []


@dataclass
class Facts:
    """What the cross-artifact checks need from one parsed artifact.

    Extracted right after an artifact is parsed, so a large render never holds every parsed document
    at once (the dashboards of 1,000 services parse to several times their 50 MB of text).
    """

    path: str
    queries: list[Query] = field(default_factory=list)
    recordings: list[Recording] = field(default_factory=list)
    """In file order: a recording may read the ones before it."""
    dashboard_uid: str | None = None
    datasource_uids: list[str] = field(default_factory=list)
    linked_dashboards: list[str] = field(default_factory=list)
    exemplar_labels: list[object] = field(default_factory=list)
    bucket_sets: list[frozenset[int]] = field(default_factory=list)
    """Histogram boundaries (ns) of the span-metrics producer this artifact configures."""
    connector: dict[str, object] | None = None
    """The span-metrics/service-graph producer config this artifact renders (``obsgen.check.truth.series_check``)."""


def extract(plan: Plan, art: Artifact, doc: object) -> Facts:
    """The facts of one artifact, from its parsed document."""
    parts = PurePosixPath(art.path).parts
    facts = Facts(art.path, queries=_queries(art, doc))
    if parts[:2] == ("prometheus", "rules"):
        for group in _list(_get(doc, "groups")):
            for rule in _list(_get(group, "rules")):
                record = _get(rule, "record")
                if isinstance(record, str):
                    labels = _get(rule, "labels")
                    own = frozenset(labels) if isinstance(labels, dict) else frozenset()
                    rec = Recording.of(record, str(_get(rule, "expr")), own)
                    facts.recordings.append(rec)
                    if not rec.inputs and isinstance(labels, dict):
                        facts.queries += _promised(plan, art.path, record, labels)
    if parts[:2] == ("grafana", "dashboards") and art.format == "json":
        facts.dashboard_uid = str(_get(doc, "uid"))
    _collect_references(doc, facts.datasource_uids, facts.linked_dashboards)
    if parts[:3] == ("grafana", "provisioning", "datasources"):
        for ds in _list(_get(doc, "datasources")):
            for dest in _list(_get(_get(ds, "jsonData"), "exemplarTraceIdDestinations")):
                facts.exemplar_labels.append(_get(dest, "name"))
    facts.bucket_sets = _bucket_sets(plan, parts, doc)
    facts.connector = connector_section(art.path, doc)
    return facts


def _promised(plan: Plan, artifact: str, record: str, labels: dict[object, object]) -> list[Query]:
    """A constant series (``vector(1)``) whose rule labels name what the producers must write: the rules join
    it by those labels with the producers' series (a declared call's ``client``/``server`` with the service
    graph's edges, a declared service's ``service_name`` with its span metrics), so each value is read as
    surely as a selector's: a node the connector names otherwise makes an absence alert that never clears."""
    values = {str(k): str(v) for k, v in labels.items()}
    sg, sm = naming.SERVICE_GRAPH, plan.span_metrics
    where = f"constant series {record} " + ", ".join(f"{k}={v!r}" for k, v in sorted(values.items()))
    out: list[Query] = []
    if sg.client_label in values and sg.server_label in values:
        matchers = (Match(sg.client_label, "=", values[sg.client_label]),
                    Match(sg.server_label, "=", values[sg.server_label]))
        out.append(Query(artifact, where, "", (Selector(sg.request_total, matchers),)))
    if sm.service_label in values:
        matchers = (Match(sm.service_label, "=", values[sm.service_label]),)
        out.append(Query(artifact, where, "", (Selector(sm.calls, matchers),)))
    return out


_DASHBOARD_LINK = re.compile(r"/d/([A-Za-z0-9_-]+)")


def _bucket_sets(plan: Plan, parts: tuple[str, ...], doc: object) -> list[frozenset[int]]:
    from obsgen.spec.durations import parse_duration

    found: list[frozenset[int]] = []
    if parts and parts[0] == "otel-collector" and plan.span_metrics.source == "collector":
        connectors = _get(doc, "connectors")
        for cid, conn in (connectors.items() if isinstance(connectors, dict) else ()):
            if str(cid).split("/")[0] in ("spanmetrics", "span_metrics"):
                buckets = _get(_get(_get(conn, "histogram"), "explicit"), "buckets")
                found.append(frozenset(parse_duration(str(b)).ns for b in _list(buckets)))
    if parts[:1] == ("tempo",) and plan.span_metrics.source == "tempo":
        sm = _get(_get(_get(doc, "metrics_generator"), "processor"), "span_metrics")
        found.append(frozenset(round(float(b) * 1e9) for b in _list(_get(sm, "histogram_buckets"))))
    return found


class _Checker:
    def __init__(self, plan: Plan, loaded: LoadedSpec | None, display: str) -> None:
        self.plan = plan
        self.loaded = loaded
        self.display = display
        self.out: list[Diagnostic] = []
        self.reported_queries: set[tuple[str, str]] = set()
        """(artifact, where) of every query ``check_queries`` reported."""

    def add(self, code: str, loc: Loc, message: str, hint: str = "", *, warning: bool = False) -> None:
        line, col = self.loaded.where(loc) if self.loaded is not None else (0, 0)
        self.out.append(Diagnostic(code, message, Severity.WARNING if warning else Severity.ERROR, file=self.display,
                                   line=line, column=col, path=_dotted(loc), hint=hint))

    def produced(self, facts: list[Facts]) -> dict[str, frozenset[str]]:
        """metric name -> labels it carries, for everything the configured stack writes or records."""
        sm = self.plan.span_metrics
        span_labels = sm.intrinsic_labels | set(self.plan.dimension_labels()) | _ALWAYS
        table: dict[str, frozenset[str]] = {}
        for metric in sm.produced_metrics:
            table[metric] = frozenset(span_labels | ({"le"} if metric == sm.duration_bucket else set()))
        sg = naming.SERVICE_GRAPH
        sg_labels = {sg.client_label, sg.server_label, sg.connection_type_label, "failed"} | _ALWAYS
        for metric in sg.produced_metrics:
            table[metric] = frozenset(sg_labels | ({"le"} if metric.endswith("_bucket") else set()))
        for metric in naming.TAIL_SAMPLING.produced_metrics | naming.COLLECTOR_HEALTH.produced_metrics:
            table[metric] = frozenset(_OTELCOL_LABELS | _ALWAYS | {"tenant"})
        # Prometheus itself writes `up` for every scrape target (prometheus/prometheus.yaml scrapes the Collectors)
        table[naming.UP_METRIC] = frozenset(_ALWAYS | {naming.JOB_LABEL, naming.INSTANCE_LABEL})
        for name in ("ALERTS", "ALERTS_FOR_STATE"):
            table[name] = frozenset({"*"})
        for f in facts:
            for rec in f.recordings:
                labels = rec.output_labels(table) | rec.rule_labels | _ALWAYS
                table[rec.name] = frozenset(labels | table.get(rec.name, frozenset()))
        return table

    def check_queries(self, found: list[Query], table: dict[str, frozenset[str]]) -> None:
        sg = naming.SERVICE_GRAPH
        # The values each service label can take: span metrics and graph clients name instrumented services
        # (and any service.name), a graph server is an instrumented service or a node under the name the
        # connector gives it (db.name, peer.service, ...; obsgen.plan.service_graph), never a node's spec key as such.
        names = {s.name for s in self.plan.services}
        servers = {s.name for s in self.plan.instrumented} | {e.server for e in self.plan.graph_edges}
        allowed = {self.plan.span_metrics.service_label: names, sg.client_label: names, sg.server_label: servers}
        for q in found:
            if q.error is not None:
                self.reported_queries.add((q.artifact, q.where))
                self.add("OBS705", ("services",), f"{q.artifact}: {q.where}: PromQL does not parse: {q.error}")
                continue
            for sel in q.selectors:
                name = sel.metric_name
                if name is None:
                    continue
                if name not in table:
                    self.reported_queries.add((q.artifact, q.where))
                    self.add("OBS700", ("span_metrics", "source"),
                             f"{q.artifact}: {q.where}: metric {name!r} is not produced by the configured stack "
                             f"(span metrics from {self.plan.span_metrics.source})")
                    continue
                labels = table[name]
                for m in sel.matchers:
                    if "*" not in labels and m.name not in labels:
                        self.reported_queries.add((q.artifact, q.where))
                        self.add("OBS701", ("span_metrics", "dimensions"),
                                 f"{q.artifact}: {q.where}: label {m.name!r} is not on {name!r}",
                                 hint="labels come from the source's intrinsic labels and span_metrics.dimensions")
                    if m.name in allowed and m.op == "=" and m.value and m.value not in allowed[m.name]:
                        self.reported_queries.add((q.artifact, q.where))
                        self.add("OBS706", ("services",),
                                 f"{q.artifact}: {q.where}: {m.name}={m.value!r} is not a node the topology "
                                 "reports under that name")

    def check_uids(self, facts: list[Facts]) -> None:
        backends = self.plan.spec.backends
        provisioned = {b.datasource_uid for b in (backends.tempo, backends.loki, backends.prometheus) if b}
        dashboards = {f.dashboard_uid for f in facts if f.dashboard_uid is not None}
        for f in facts:
            for uid in f.datasource_uids:
                if uid not in provisioned and not uid.startswith("$") and not uid.startswith("-- "):
                    self.add("OBS702", ("backends",), f"{f.path}: datasource UID {uid!r} is not provisioned")
            if not dashboards:
                continue
            for uid in f.linked_dashboards:
                if uid not in dashboards:
                    self.add("OBS703", ("backends", "grafana"),
                             f"{f.path}: link to dashboard {uid!r} which obsgen did not render")

    def check_exemplars(self, facts: list[Facts]) -> None:
        expected = self.plan.span_metrics.exemplar_label
        for f in facts:
            for name in f.exemplar_labels:
                if name != expected:
                    self.add("OBS704", ("span_metrics", "source"),
                             f"{f.path}: exemplar label {name!r}, but {self.plan.span_metrics.source} span "
                             f"metrics write {expected!r}")

    def check_buckets(self, facts: list[Facts]) -> None:
        for found in (s for f in facts for s in f.bucket_sets):
            for svc in self.plan.services:
                for slo in svc.slos:
                    if slo.latency_threshold is not None and slo.latency_threshold.ns not in found:
                        self.add("OBS500", ("services", svc.key, "slos", slo.index, "latency", "threshold"),
                                 f"SLO {slo.name!r} threshold {slo.latency_threshold} is not a histogram bucket "
                                 "boundary in the rendered config")


def _get(obj: object, key: str) -> object:
    return obj.get(key) if isinstance(obj, dict) else None


def _list(obj: object) -> list[object]:
    return obj if isinstance(obj, list) else []


def _collect_references(obj: object, datasource_uids: list[str], dashboard_links: list[str]) -> None:
    """Datasource UIDs (``datasourceUid`` or ``datasource: {uid}``) and ``/d/<uid>`` dashboard links,
    anywhere in a document; one walk for both, as dashboards are most of a large render's values."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "datasourceUid" and isinstance(value, str) and value:
                datasource_uids.append(value)
            elif key == "datasource" and isinstance(value, dict) and isinstance(value.get("uid"), str):
                datasource_uids.append(value["uid"])
                _collect_references(value, [], dashboard_links)
            else:
                _collect_references(value, datasource_uids, dashboard_links)
    elif isinstance(obj, list):
        for value in obj:
            _collect_references(value, datasource_uids, dashboard_links)
    elif isinstance(obj, str) and "/d/" in obj:
        dashboard_links.extend(_DASHBOARD_LINK.findall(obj))


def check(plan: Plan, facts: list[Facts], loaded: LoadedSpec | None, display: str) -> list[Diagnostic]:
    """All cross-artifact diagnostics for one render, from the facts of its artifacts (rule files in
    file order: a recording may read the ones before it)."""
    checker = _Checker(plan, loaded, display)
    checker.check_queries([q for f in facts for q in f.queries], checker.produced(facts))
    checker.check_uids(facts)
    checker.check_exemplars(facts)
    checker.check_buckets(facts)
    from obsgen.check.truth import policy_reach, series_check

    policies = [p for f in facts if f.connector for p in _list(f.connector.get("tail_sampling"))]
    policy_reach.check(plan.spec, policies, checker.add)
    # a query the checks above already reported is not reported twice; a missing bucket boundary was reported
    # at the SLO threshold that needs it (OBS500)
    series_check.check(plan.spec, facts, checker.add, checker.reported_queries,
                       check_le=not any(d.code == "OBS500" for d in checker.out))
    return checker.out
