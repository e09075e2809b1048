"""Semantic checks: what a schema cannot say — references, names, regexes, ranges, risky choices."""

from __future__ import annotations

from collections.abc import Iterator

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.emit.escape import text_problem, yaml_flow_json
from obsgen.plan import naming
from obsgen.spec import truth_checks
from obsgen.spec.endpoints import parse_route
from obsgen.spec.errors import Suggester, suggest
from obsgen.spec.goregexp import anchored, go_regexp_error, is_anchored
from obsgen.spec.loader import LoadedSpec, Loc, _dotted
from obsgen.spec.models import SLO, Call, Endpoint, Policy, ServiceKind, Spec, policy_value
from obsgen.spec.semantic_k8s import check_kubernetes
from obsgen.spec.stack_check import check_stack
from obsgen.spec.traffic_checks import check_traffic
from obsgen.spec.versions import version_tuple
from obsgen.targets.collector.strict.tailsampling import DECISION_WAIT_AFTER_ROOT_SINCE
from obsgen.targets.prometheus import compat as prometheus_compat

BUILTIN_DIMENSIONS = frozenset({"service.name", "span.name", "span.kind", "status.code"})
# Attributes whose values are unbounded: as a metrics dimension each value is a new series.
HIGH_CARDINALITY_HINTS = frozenset({
    "user.id", "enduser.id", "session.id", "http.url", "url.full", "http.target", "url.query", "trace_id",
    "span_id", "trace.id", "request.id", "order.id", "transaction.id", "db.statement", "db.query.text",
    "user.email", "client.address", "net.peer.ip", "http.client_ip",
})
# OpenTelemetry semantic-convention attributes a spec may use without declaring them.
KNOWN_ATTRIBUTES = frozenset({
    "http.route", "http.target", "http.method", "http.request.method", "http.status_code",
    "http.response.status_code", "url.path", "url.full", "http.url", "server.address", "service.name",
    "service.namespace", "service.version", "deployment.environment", "deployment.environment.name",
    "db.system", "db.system.name", "db.name", "db.namespace", "rpc.system", "rpc.service", "rpc.method",
    "messaging.system", "peer.service", "error.type", "exception.type", "k8s.namespace.name",
    "k8s.pod.name", "cloud.region", "host.name",
})
BASIC_KINDS = frozenset({
    "errors", "critical_endpoints", "always_sample", "latency", "numeric_attribute", "probabilistic",
    "status_code", "string_attribute", "rate_limiting", "bytes_limiting", "span_count", "trace_state",
    "boolean_attribute", "ottl_condition",
})
# Labels obsgen's rules set or read themselves: a routing label with one of these names would
# overwrite an alert's own label (or the series identity of a recording rule).
RESERVED_ALERT_LABELS = frozenset({
    "alertname", "__name__", naming.SEVERITY_LABEL, naming.SLO_LABEL, naming.SLO_KIND_LABEL, naming.LE_LABEL,
    naming.JOB_LABEL, naming.INSTANCE_LABEL, naming.TEMPO_TENANT_LABEL, naming.SERVICE_GRAPH.client_label,
    naming.SERVICE_GRAPH.server_label, naming.SERVICE_GRAPH.connection_type_label,
    *naming.COLLECTOR_SPAN_METRICS.intrinsic_labels, *naming.TEMPO_SPAN_METRICS.intrinsic_labels,
})


class _Checker:
    def __init__(self, spec: Spec, loaded: LoadedSpec) -> None:
        self.spec = spec
        self.loaded = loaded
        self.out: list[Diagnostic] = []
        self.suggest_service = Suggester(spec.services)

    def add(self, code: str, loc: Loc, message: str, *, hint: str = "", warning: bool = False,
            key: bool = False) -> None:
        line, col = self.loaded.where(loc, key=key)
        self.out.append(Diagnostic(
            code, message, Severity.WARNING if warning else Severity.ERROR, self.loaded.file, line, col,
            _dotted(loc), hint,
        ))

    # ---------------------------------------------------------------------------------------
    def run(self) -> list[Diagnostic]:
        self.check_services()
        self.check_slos()
        self.check_backends()
        self.check_span_metrics()
        self.check_sampling()
        self.check_collector()
        self.check_alerting()
        self.check_stack()
        self.out += check_stack(self.spec, self.loaded)
        truth_checks.run(self.spec, self.add)
        check_kubernetes(self.spec, self.add)
        check_traffic(self.spec, self.add)
        return self.out

    def check_stack(self) -> None:
        finding = prometheus_compat.check_version(self.spec.stack.prometheus)
        if finding is not None:
            self.add(finding.code, ("stack", "prometheus"), finding.message, hint=finding.hint,
                     warning=finding.warning)
        interval = self.spec.backends.prometheus.scrape_interval.ns / 1e9
        window = naming.window_text(naming.BASE_WINDOW_MINUTES)
        finding = prometheus_compat.check_sample_interval(interval, naming.BASE_WINDOW_MINUTES * 60, window)
        if finding is not None:
            self.add(finding.code, ("backends", "prometheus", "scrape_interval"), finding.message,
                     hint=finding.hint, warning=finding.warning)

    def check_services(self) -> None:
        spec = self.spec
        reported: dict[str, str] = {}
        for key, svc in spec.services.items():
            name = svc.service_name or key
            if svc.service_name is not None and not one_line_text(svc.service_name):
                self.add("OBS203", ("services", key, "service_name"),
                         f"service_name {svc.service_name!r} is not one line of printable text",
                         hint="no control characters, line breaks, bidi controls or surrounding spaces: "
                              "service.name becomes a label value and a title in every backend")
            if svc.kind is ServiceKind.SERVICE and "`" in name:
                # obsgen.targets.grafana.dashboards.variables: every query reads the service variable in a
                # backtick raw string, which cannot hold one; the variable does not offer such a name
                self.add("OBS203", ("services", key, "service_name") if svc.service_name is not None
                         else ("services", key),
                         f"service.name {name!r} has a backtick: the service dashboard cannot show this service",
                         hint="the dashboard's queries hold the name in backtick strings (PromQL, LogQL, TraceQL); "
                              "alerts, rules and the overview are not affected", warning=True,
                         key=svc.service_name is None)
            if name in reported:
                self.add("OBS303", ("services", key), f"service.name {name!r} is also reported by {reported[name]!r}",
                         key=True)
            reported[name] = key
            seen_routes: set[str] = set()
            for i, item in enumerate(svc.endpoints):
                route = item.route if isinstance(item, Endpoint) else item
                loc = ("services", key, "endpoints", i)
                if not route.strip() or text_problem(route) is not None:
                    self.add("OBS202", loc, "an endpoint route must be non-empty text without control characters"
                             + (f": {text_problem(route)}" if route.strip() else ""))
                    continue
                span = parse_route(route).span_name
                if span in seen_routes:
                    self.add("OBS303", loc, f"endpoint {span!r} is declared twice")
                seen_routes.add(span)
            if svc.endpoints and svc.kind is ServiceKind.DATABASE:
                pass  # databases may list operations; they only show up as client spans of callers
            callees: set[str] = set()
            for i, item in enumerate(svc.calls):
                call = item if isinstance(item, Call) else Call(service=item)
                loc: Loc = ("services", key, "calls", i)
                if call.service not in spec.services:
                    hint = self.suggest_service(call.service)
                    self.add("OBS300", loc, f"unknown service {call.service!r}" + (f" ({hint})" if hint else ""),
                             hint="calls name keys of 'services'")
                    continue
                if call.service == key:
                    self.add("OBS305", loc, f"{key!r} calls itself",
                             hint="a self call is not an edge of the service graph (client and server are the "
                                  "same node) and its 'no traffic' alert could never clear; remove it")
                    continue
                edge = f"{call.service} {call.endpoint}"
                if edge in callees:
                    self.add("OBS303", loc, f"call to {call.service!r} is declared twice")
                callees.add(edge)
                if call.endpoint is not None:
                    target = spec.services[call.service]
                    routes = [parse_route(e.route if isinstance(e, Endpoint) else e).span_name
                              for e in target.endpoints]
                    if parse_route(call.endpoint).span_name not in routes:
                        hint = suggest(call.endpoint, routes)
                        self.add("OBS301", (*loc, "endpoint"),
                                 f"{call.service!r} has no endpoint {call.endpoint!r}" + (f" ({hint})" if hint else ""))
                if svc.kind is not ServiceKind.SERVICE:
                    self.add("OBS307", loc, f"{key!r} is a {svc.kind.value} (not instrumented), so no span will "
                             "ever show this call", warning=True)
        self.check_cycles()

    def check_cycles(self) -> None:
        graph = {
            key: [c if isinstance(c, str) else c.service for c in svc.calls] for key, svc in self.spec.services.items()
        }
        state: dict[str, int] = {}
        reported: set[frozenset[str]] = set()
        for start in graph:
            if state.get(start):
                continue
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(graph[start]))]
            path = [start]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                child = next(children, None)
                if child is None:
                    stack.pop()
                    path.pop()
                    state[node] = 2
                    continue
                if child not in graph or child == node:
                    continue
                if state.get(child) == 1:
                    cycle = [*path[path.index(child):], child]
                    members = frozenset(cycle)
                    if members not in reported:
                        reported.add(members)
                        self.add("OBS304", ("services", cycle[0], "calls"),
                                 "call cycle: " + " -> ".join(cycle), warning=True,
                                 hint="cycles are legal (callbacks) and rendered as-is; check it is not a typo")
                elif not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(graph[child])))

    def check_slos(self) -> None:
        names: dict[str, Loc] = {}
        for key, svc in self.spec.services.items():
            routes = [parse_route(e.route if isinstance(e, Endpoint) else e).span_name for e in svc.endpoints]
            for i, slo in enumerate(svc.slos):
                loc: Loc = ("services", key, "slos", i)
                if slo.name in names:
                    self.add("OBS303", (*loc, "name"), f"SLO name {slo.name!r} is used twice",
                             hint="SLO names are unique across the spec; they label rules and alerts")
                names[slo.name] = loc
                if svc.kind is not ServiceKind.SERVICE:
                    self.add("OBS307", loc, f"{key!r} is a {svc.kind.value}: it emits no server spans to measure "
                             "an SLO on", hint="put the SLO on the instrumented service that calls it")
                if slo.endpoint is not None and parse_route(slo.endpoint).span_name not in routes:
                    hint = suggest(slo.endpoint, routes)
                    self.add("OBS301", (*loc, "endpoint"),
                             f"{key!r} has no endpoint {slo.endpoint!r}" + (f" ({hint})" if hint else ""))
                if slo.latency is not None and slo.latency.threshold.ns == 0:
                    self.add("OBS205", (*loc, "latency", "threshold"), "a latency threshold must be above 0")
                self.check_objectives(loc, slo)
                if slo.window.ns < 3600 * 10**9:
                    self.add("OBS205", (*loc, "window"), "an SLO window must be at least 1h",
                             hint="burn-rate alert windows are fractions of the SLO window")
        self.slo_names = names

    def check_objectives(self, loc: Loc, slo: SLO) -> None:
        """Objectives are percentages: a fraction (0.995) is an error, a low one (below ~93%) a warning.

        0.995 read as a percentage is an objective of 0.995%: a budget of 99% of requests, which no burn
        rate can spend fast enough to alert. Below 100 - 100/14.4 (~93.06%) the SRE workbook's fastest page
        factor exceeds the highest burn the objective allows (1 / budget, every request bad); obsgen then
        caps the factor (see ``naming.tier_threshold``) and says so here.
        """
        objectives: list[tuple[Loc, float, str]] = []
        if slo.availability is not None:
            objectives.append(((*loc, "availability"), slo.availability, "availability"))
        if slo.latency is not None:
            objectives.append(((*loc, "latency", "percentile"), slo.latency.percentile, "latency percentile"))
        for where, value, what in objectives:
            if value < 1:
                self.add("OBS511", where, f"{what} {value:g} is a fraction; objectives are percentages "
                         f"({value:g} means {value:g}%, an error budget of {100 - value:g}% of requests)",
                         hint=f"did you mean {round(value * 100, 10):g}?")
                continue
            capped = naming.capped_tiers(slo.window, round(1 - value / 100, 12))
            if capped:
                tiers = ", ".join(f"{t.severity} {t.factor:g}x over {t.long}" for t in capped)
                self.add("OBS512", where,
                         f"{what} {value:g}% leaves a budget of {100 - value:g}%: even with every request bad "
                         f"the budget burns at most {100 / (100 - value):.3g}x, below the burn factor of {tiers}; "
                         "those tiers are capped to fire only when every request in both windows is bad",
                         hint="burn-rate alerting is designed for objectives of about 93% and above; raise the "
                              "objective or accept that these tiers fire only on a total outage", warning=True)

    def check_backends(self) -> None:
        b = self.spec.backends
        uids: dict[str, str] = {}
        for name in ("tempo", "loki", "prometheus"):
            backend = getattr(b, name)
            if backend is None:
                continue
            if backend.datasource_uid in uids:
                self.add("OBS306", ("backends", name, "datasource_uid"),
                         f"datasource UID {backend.datasource_uid!r} is also used by {uids[backend.datasource_uid]}")
            uids[backend.datasource_uid] = name
        from obsgen.spec.collector_endpoints import endpoint_problems

        for code, loc, message, hint in endpoint_problems(self.spec):
            self.add(code, loc, message, hint=hint)
        if b.tempo.mode == "distributed" and b.tempo.s3 is None:
            self.add("OBS201", ("backends", "tempo", "mode"), "distributed mode needs 'backends.tempo.s3'",
                     hint="set bucket and endpoint of the S3-compatible store")

    def check_span_metrics(self) -> None:
        sm = self.spec.span_metrics
        if sm.source == "tempo":
            self.add("OBS406", ("span_metrics", "source"),
                     "span metrics from Tempo's metrics-generator are computed from sampled traces: request "
                     "rates are undercounted and error and slow requests over-represented by the sampling policies",
                     warning=True, hint="use source: collector to count every request before tail sampling")
        seen: set[str] = set()
        for i, dim in enumerate(sm.dimensions):
            name = dim if isinstance(dim, str) else dim.name
            loc: Loc = ("span_metrics", "dimensions", i)
            if name in BUILTIN_DIMENSIONS:
                self.add("OBS502", loc, f"{name!r} is already a built-in span-metrics dimension")
            if name in seen:
                self.add("OBS303", loc, f"dimension {name!r} is listed twice")
            seen.add(name)
            attr = self.spec.attributes.get(name)
            if name in HIGH_CARDINALITY_HINTS or (attr is not None and attr.high_cardinality):
                self.add("OBS501", loc, f"{name!r} has unbounded values; as a dimension every value is a new "
                         "series in every span-metrics histogram", warning=True,
                         hint="keep it on spans for search and sampling, not on metrics")
            self.check_attribute(name, loc)
        if sm.histogram_buckets is not None:
            buckets = list(sm.histogram_buckets)
            if buckets != sorted(set(buckets)):
                self.add("OBS504", ("span_metrics", "histogram_buckets"),
                         "histogram buckets must be strictly increasing", warning=True)
            given = set(buckets)
            for key, svc in self.spec.services.items():
                for i, slo in enumerate(svc.slos):
                    if slo.latency and slo.latency.threshold not in given:
                        self.add("OBS500", ("services", key, "slos", i, "latency", "threshold"),
                                 f"threshold {slo.latency.threshold} is not in span_metrics.histogram_buckets; "
                                 "obsgen adds it so the SLO is computed exactly", warning=True,
                                 hint="list it in histogram_buckets to make the spec say what is rendered")

    def check_collector(self) -> None:
        sm = self.spec.span_metrics
        if sm.cardinality_limit == 0 and sm.source == "collector":
            self.add("OBS505", ("span_metrics", "cardinality_limit"),
                     "0 disables the span-metrics cardinality guard", warning=True,
                     hint="an unbounded span name or dimension then grows the Collector's memory without limit")
        c = self.spec.collector
        if c.replicas > 1 and c.resolver == "k8s":
            name = c.sampler_service.partition(".svc.")[0].removesuffix(".svc")
            if name.count(".") > 1:
                self.add("OBS202", ("collector", "sampler_service"),
                         "the k8s resolver needs the sampler service as 'name' or 'name.namespace'")

    def check_attribute(self, key: str, loc: Loc) -> None:
        declared = key in self.spec.attributes or key in KNOWN_ATTRIBUTES
        if not declared and key != self.spec.sampling.route_attribute:
            hint = suggest(key, list(self.spec.attributes) + sorted(KNOWN_ATTRIBUTES))
            self.add("OBS308", loc, f"attribute {key!r} is not declared in 'attributes'" +
                     (f" ({hint})" if hint else ""), warning=True,
                     hint="declare business attributes so policies, dimensions and dashboards agree on them")

    def check_sampling(self) -> None:
        sampling = self.spec.sampling
        names: dict[str, int] = {}
        for i, policy in enumerate(sampling.policies):
            loc: Loc = ("sampling", "policies", i)
            if policy.name is None:
                self.add("OBS201", loc, "a top-level policy needs a 'name'",
                         hint="the name labels the Collector's per-policy decision metrics")
            elif policy.name in names:
                self.add("OBS303", (*loc, "name"), f"policy name {policy.name!r} is used twice")
            else:
                names[policy.name] = i
            if policy.share is not None:
                self.add("OBS202", (*loc, "share"), "'share' is only meaningful inside a composite")
            self.check_policy(policy, loc, depth=0, parent=None)
        if sampling.decision_wait.ns < 10**9 or sampling.decision_wait.ns > 300 * 10**9:
            self.add("OBS407", ("sampling", "decision_wait"),
                     f"decision_wait {sampling.decision_wait} is outside 1s..5m", warning=True,
                     hint="too short decides on partial traces; too long needs a huge buffer")
        after_root = sampling.decision_wait_after_root_received
        if after_root is not None and after_root >= sampling.decision_wait:
            self.add("OBS407", ("sampling", "decision_wait_after_root_received"),
                     "decision_wait_after_root_received should be shorter than decision_wait", warning=True)
        if after_root is not None and version_tuple(self.spec.stack.collector) < DECISION_WAIT_AFTER_ROOT_SINCE:
            self.add("OBS408", ("sampling", "decision_wait_after_root_received"),
                     f"Collector {self.spec.stack.collector} has no decision_wait_after_root_received (added in "
                     "0.144.0); it is not rendered", warning=True,
                     hint="pin stack.collector >= 0.144.0 or remove the setting")
        if not sampling.policies:
            self.add("OBS201", ("sampling", "policies"), "at least one sampling policy is needed",
                     hint="the Collector refuses an empty policy list; use always_sample to keep everything")

    def check_not_of_attribute(self, sub: Policy, loc: Loc) -> None:
        """OBS413: ``not`` of an attribute policy also matches every trace that lacks the attribute.

        The attribute policies answer NotSampled for a trace with no span carrying the key, and ``not``
        turns NotSampled into Sampled (contrib v0.159.0 ``internal/sampling/not.go``), so ``not: tier=free``
        keeps the traces of every service that never sets ``tier``, not only those of the other tiers."""
        if sub.kind not in truth_checks.POLICY_TYPES:
            return
        key = policy_value(sub).key
        declared = self.spec.attributes.get(key)
        hint = "to match only traces that carry the attribute, list what to match instead"
        if sub.kind == "string_attribute" and not policy_value(sub).regex and declared is not None \
                and declared.values:
            others = [v for v in declared.values if v not in policy_value(sub).values]
            if others:
                # the YAML flow sink: the suggestion reads back as written, whatever the values hold
                hint = (f"to match only traces that carry another declared value, write string_attribute "
                        f"{{key: {yaml_flow_json(key)}, values: {yaml_flow_json(others)}}}")
        self.add("OBS413", loc, f"'not' of a {sub.kind} policy also matches every trace without {key!r}",
                 warning=True, hint=hint)

    def check_policy(self, policy: Policy, loc: Loc, depth: int, parent: str | None) -> None:
        kind = policy.kind
        value = policy_value(policy)
        here = (*loc, kind)
        if parent in ("and", "not", "drop") and kind in ("and", "composite", "drop"):
            self.add("OBS202", here, f"a {kind!r} policy cannot be nested inside {parent!r}",
                     hint="the Collector allows only basic policy types there")
        if parent == "not" and kind == "not":
            # contrib v0.159.0 not_helper.go builds a not's sub-policy with getSharedPolicyEvaluator only
            self.add("OBS202", here, "a 'not' policy cannot be nested inside 'not'",
                     hint="the Collector takes only basic policy types under 'not'; two nots cancel out, so "
                          "write the inner policy itself")
        if parent == "composite" and kind in ("composite", "drop", "not"):
            self.add("OBS202", here, f"a {kind!r} policy cannot be a composite sub-policy",
                     hint="composite sub-policies are basic types or 'and'")
        if parent != "composite" and policy.share is not None and depth > 0:
            self.add("OBS202", (*loc, "share"), "'share' is only meaningful inside a composite")
        if kind == "latency":
            self.check_latency(value, here)
        elif kind == "numeric_attribute":
            if value.min is None and value.max is None:
                self.add("OBS403", here, "numeric_attribute needs 'min', 'max' or both")
            elif value.min is not None and value.max is not None and value.min > value.max:
                self.add("OBS403", here, f"min {value.min} is greater than max {value.max}")
            self.check_attribute(value.key, (*here, "key"))
        elif kind == "span_count":
            if value.min is None and value.max is None:
                self.add("OBS403", here, "span_count needs 'min', 'max' or both")
            elif value.min is not None and value.max is not None and value.min > value.max:
                self.add("OBS403", here, f"min {value.min} is greater than max {value.max}")
        elif kind == "string_attribute":
            self.check_attribute(value.key, (*here, "key"))
            if value.regex:
                for j, pattern in enumerate(value.values):
                    error = go_regexp_error(pattern)
                    if error:
                        self.add("OBS400", (*here, "values", j), f"{pattern!r}: {error}",
                                 hint="the Collector compiles these with Go's regexp (RE2 syntax)")
                    elif not is_anchored(pattern):
                        self.add("OBS401", (*here, "values", j),
                                 f"{pattern!r} is unanchored, so it matches anywhere inside the value",
                                 warning=True, hint=f"write '{anchored(pattern)}' to match the whole value")
        elif kind == "boolean_attribute":
            self.check_attribute(value.key, (*here, "key"))
        elif kind == "probabilistic" and value.percentage == 0:
            self.add("OBS404", (*here, "percentage"), "a 0% probabilistic policy never keeps a trace",
                     warning=True)
        elif kind == "critical_endpoints":
            services = None if isinstance(value, bool) else value.services
            if value is False:
                self.add("OBS404", here, "critical_endpoints: false has no effect; remove the policy", warning=True)
            for j, svc in enumerate(services or []):
                if svc not in self.spec.services:
                    self.add("OBS300", (*here, "services", j), f"unknown service {svc!r}")
            from obsgen.plan import critical_paths

            if value is not False and not critical_paths(self.spec, services):
                self.add("OBS404", here, "no endpoint is marked critical, so this policy keeps nothing",
                         hint="mark endpoints with 'critical: true'")
        elif kind in ("and", "drop"):
            for j, sub in enumerate(value):
                self.check_policy(sub, (*here, j), depth + 1, kind)
        elif kind == "not":
            self.check_policy(value, here, depth + 1, "not")
            self.check_not_of_attribute(value, here)
        elif kind == "composite":
            seen: set[str] = set()
            total = 0.0
            for j, sub in enumerate(value.policies):
                sub_loc = (*here, "policies", j)
                if sub.name is None:
                    self.add("OBS201", sub_loc, "a composite sub-policy needs a 'name'",
                             hint="rate allocation refers to sub-policies by name")
                elif sub.name in seen:
                    self.add("OBS303", (*sub_loc, "name"), f"sub-policy name {sub.name!r} is used twice")
                else:
                    seen.add(sub.name)
                if sub.share is None:
                    self.add("OBS402", sub_loc, "a composite sub-policy needs a 'share' (percent of the budget)",
                             hint="obsgen writes every budget explicitly: a sub-policy without a rate_allocation entry "
                                  "gets 0 up to Collector v0.158.0 and an equal share of the total (not the "
                                  "remainder) from v0.159.0")
                else:
                    total += sub.share
                    if not float(sub.share).is_integer():
                        self.add("OBS202", (*sub_loc, "share"),
                                 f"share {sub.share:g} is truncated to {int(sub.share)}: the Collector's percent "
                                 "is an integer", warning=True)
                self.check_policy(sub, sub_loc, depth + 1, "composite")
            if total > 100.000001:
                self.add("OBS205", (*here, "policies"), f"composite shares add up to {total:g}%, over 100%")

    def check_latency(self, value: object, loc: Loc) -> None:
        from obsgen.plan import smallest_latency_threshold

        threshold, slo, upper = value.threshold, value.slo, value.upper_threshold  # type: ignore[attr-defined]
        if threshold is not None and slo is not None:
            self.add("OBS202", loc, "give either 'threshold' or 'slo', not both")
        if slo is not None:
            latency_slos = {s.name for svc in self.spec.services.values() for s in svc.slos if s.latency}
            if slo not in latency_slos:
                hint = suggest(slo, latency_slos)
                self.add("OBS302", (*loc, "slo"), f"no latency SLO named {slo!r}" + (f" ({hint})" if hint else ""))
        if threshold is None and slo is None and smallest_latency_threshold(self.spec) is None:
            self.add("OBS405", loc, "no threshold given and the spec has no latency SLO to default to",
                     hint="set 'threshold' or add a latency objective to an SLO")
        effective = threshold
        if effective is not None and effective.ns == 0:
            self.add("OBS205", (*loc, "threshold"), "a latency threshold must be above 0")
        if upper is not None and effective is not None and upper <= effective:
            self.add("OBS403", (*loc, "upper_threshold"), "upper_threshold must be greater than threshold")

    def check_alerting(self) -> None:
        for key in self.spec.alerting.labels:
            if key in RESERVED_ALERT_LABELS:
                self.add("OBS202", ("alerting", "labels", key), f"label {key!r} is set by obsgen itself", key=True)


def check(spec: Spec, loaded: LoadedSpec) -> list[Diagnostic]:
    """All semantic diagnostics for a spec that passed the schema."""
    return _Checker(spec, loaded).run()


def one_line_text(value: str) -> bool:
    """True for non-empty text without control characters, line separators, bidi controls or outer spaces."""
    return bool(value.strip()) and value == value.strip() and text_problem(value) is None
