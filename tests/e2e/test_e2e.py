"""End to end: synthetic traffic through the real Collector into the real Prometheus 3, every rule, alert and panel.

The run itself (``conftest.py``, ``scenario.py``) renders each case's spec, starts its stack on loopback and drives
a healthy and a failing phase; these tests compare what it observed with what the rendered files promise. Every
expectation comes from the rendered files (rule files, dashboards, Collector configs) and from what the sender
sent, never from obsgen's naming code.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from obsgen.generate import load_spec
from obsgen.spec.models import Spec
from tests.e2e import grafana_interp
from tests.e2e.cases import CASES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# A failing-phase share of bad requests at least FIRES x the alert's threshold (error ratio, or an SLO's error
# budget) must alert; at most CLEAR x it must not. The long windows also hold the healthy minutes, which dilute the
# share (by up to ~half here), hence the margin; anything between is an ambiguous scenario, reported as such.
CLEAR, FIRES = 0.3, 3.0
RULE_INTERVAL_S = 10.0  # tests/e2e/stack.py RULE_INTERVAL


@cache
def _spec(name: str) -> Spec:
    _, spec, _ = load_spec(CASES[name].spec)
    assert spec is not None
    return spec


def _reported(name: str, key: str) -> str:
    return _spec(name).services[key].service_name or key


# -- what the failing phase should break, from what was sent -------------------------------------


def _share(bad: int, total: int) -> float:
    return bad / total if total else 0.0


def expected_entities(name: str, obs: dict[str, Any]) -> set[tuple[str, str]]:
    """("service", name), ("edge", "client -> server") and ("slo", name) the failing phase must alert on.

    From the spans sent in the failing phase: an endpoint of a service whose server spans failed, a
    service-to-service call that failed (client or server span in error), an SLO whose requests failed or were
    slower than its threshold, judged against the spec's ``alerting.error_ratio_threshold`` and each SLO's budget.
    """
    spec = _spec(name)
    threshold = spec.alerting.error_ratio_threshold
    spans = [s for s in obs["sent"]["server_spans"] if s["phase"] == "failing"]
    out: set[tuple[str, str]] = set()
    ambiguous: list[str] = []

    def judge(entity: tuple[str, str], share: float, limit: float) -> None:
        if share >= FIRES * limit:
            out.add(entity)
        elif share > CLEAR * limit and entity not in out:
            ambiguous.append(f"{entity}: {share:.2%} (limit {limit:.2%})")

    by_route: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in spans:
        by_route[(s["service"], s["route"])].append(s)
    for (key, _), ss in sorted(by_route.items()):
        # per endpoint: a service whose one endpoint fails may stay under the threshold overall; it is then
        # expected without being required (a service's own alert exists only where no SLO covers it)
        share = _share(sum(s["error"] for s in ss), len(ss))
        if share >= FIRES * threshold:
            out.add(("service", _reported(name, key)))
    errors = {(c, s): n for phase, c, s, n in obs["sent"]["edge_errors"] if phase == "failing"}
    for phase, caller, callee, n in obs["sent"]["edge_calls"]:
        if phase == "failing":
            judge(("edge", f"{_reported(name, caller)} -> {_reported(name, callee)}"),
                  _share(errors.get((caller, callee), 0), n), threshold)
    for key, svc in spec.services.items():
        mine = [s for (k, route), ss in by_route.items() if k == key for s in ss]
        for slo in svc.slos:
            scoped = [s for s in mine if slo.endpoint is None or s["route"] == slo.endpoint]
            if slo.availability is not None:
                judge(("slo", slo.name), _share(sum(s["error"] for s in scoped), len(scoped)),
                      1 - slo.availability / 100)
            if slo.latency is not None:
                limit = slo.latency.threshold.ns / 1e9
                judge(("slo", slo.name), _share(sum(s["duration_s"] > limit for s in scoped), len(scoped)),
                      1 - slo.latency.percentile / 100)
    ambiguous = [a for a in ambiguous if a.split(":")[0] not in {str(e) for e in out}]
    assert not ambiguous, f"{name}: the failure scenario is ambiguous: {ambiguous}"
    return out


def entity_of(labels: dict[str, str]) -> tuple[str, str]:
    """What an alert series is about, from its labels alone."""
    if "slo" in labels:
        return ("slo", labels["slo"])
    if "client" in labels and "server" in labels:
        return ("edge", f"{labels['client']} -> {labels['server']}")
    if "service_name" in labels:
        return ("service", labels["service_name"])
    return ("other", json.dumps(labels, sort_keys=True))


def _drop_matches(policy: dict[str, Any], trace: list[Any]) -> bool:
    """Whether one drop sub-policy of the rendered config matches a sent trace (the kinds the cases use)."""
    attrs, routes = trace[5], trace[6]
    kind = policy["type"]
    if kind == "boolean_attribute":
        return attrs.get(policy[kind]["key"]) == policy[kind]["value"]
    if kind == "string_attribute":
        key, values = policy[kind]["key"], policy[kind]["values"]
        have = routes if key == "http.route" else [str(attrs[key])] if key in attrs else []
        if policy[kind].get("enabled_regex_matching"):
            # the Collector matches with Go's regexp MatchString (unanchored); $$ is the config's escaped $
            return any(re.search(v.replace("$$", "$"), h) for v in values for h in have)
        return any(h in values for h in have)
    raise AssertionError(f"drop sub-policy of type {kind}: the harness cannot evaluate it")


def dropped_by_policy(observed: dict[str, Any]) -> set[str]:
    """Trace ids a drop policy of the rendered sampler config matches: never kept, errors or not."""
    drops = [sub for ps in observed["policies"].values() for p in ps if p["type"] == "drop"
             for sub in p["drop"]["drop_sub_policy"]]
    return {tid for tid, trace in observed["sent"]["traces"].items() if any(_drop_matches(d, trace) for d in drops)}


def _for_seconds(text: str) -> float:
    return grafana_interp.parse_duration_ms(text) / 1000 if text not in ("", "0", "0s") else 0.0


# -- panel queries that may legitimately have no data --------------------------------------------

Predicate = Callable[[dict[str, Any]], bool]


def _policy(*names: str, sampled: str = "true") -> Predicate:
    def match(q: dict[str, Any]) -> bool:
        return any(f'policy="{n}"' in q["expr"] for n in names) and (
            f'sampled="{sampled}"' in q["expr"] or 'decision="dropped"' in q["expr"])
    return match


def _errors_of_services_that_never_failed(name: str, observed: dict[str, Any]) -> Predicate:
    failed = {_reported(name, s["service"]) for s in observed["sent"]["server_spans"] if s["error"]}

    def match(q: dict[str, Any]) -> bool:
        expr = q["expr"]
        if 'status_code="STATUS_CODE_ERROR"' not in expr or " or " in expr:
            return False
        service = q["choice"].get("service")
        if service is not None:  # the templated service dashboard, for the service variable's value
            return service not in failed
        return 'service_name="' in expr and not any(f'service_name="{f}"' in expr for f in failed)
    return match


def _downstream_of_services_that_declare_no_call(name: str) -> Predicate:
    """The service dashboard keeps the declared calls of the chosen service; one that declares none has none."""
    spec = _spec(name)
    callers = {svc.service_name or key for key, svc in spec.services.items() if svc.calls}

    def match(q: dict[str, Any]) -> bool:
        service = q["choice"].get("service")
        return service is not None and service not in callers and "edge:obsgen_declared_call:info" in q["expr"]
    return match


COMMON: list[tuple[str, Predicate]] = [
    ("no export fails in a working stack; the failure counter has no series before the first failure",
     lambda q: "otelcol_exporter_send_failed_spans_total" in q["expr"] and " or " not in q["expr"]),
]

# per case: (reason, predicate); every entry must match at least one query without data (no stale entries)
EXCEPTIONS: dict[str, list[tuple[str, Predicate]]] = {
    "shop": [],
    "scaleout": [
        ("the harness's traffic sets no tracestate (canary=true)", _policy("canary")),
    ],
    "large": [
        ("the spec declares no probe route (/health, /ready), so nothing matches drop-probes", _policy("drop-probes")),
        ("every trace of this topology has more than 3 spans", _policy("small-traces")),
        ("the harness's traffic sets no tracestate (debug=1)", _policy("tracestate-debug")),
        ("everything-else (always_sample) keeps every trace: no trace is ever not sampled",
         lambda q: "global_count_traces_sampled_total" in q["expr"] and 'sampled="false"' in q["expr"]
         and " or " not in q["expr"]),
    ],
}


# per (case, sender): what one sender's traffic cannot show (the harness's sender makes 210-span traces and lets a
# cache fail now and then; obsgen traffic follows the spec's traffic model)
SENDER_EXCEPTIONS: dict[tuple[str, str], list[tuple[str, Predicate]]] = {
    ("shop", "obsgen"): [
        ("the shop's traffic model has no trace of 200 spans or more (its largest request is ~12 spans)",
         _policy("very-large-traces")),
        ("redis never fails in either phase (a failure there would fail main-service's requests too)",
         _policy("redis-errors")),
    ],
}

ONLY_FAILED = ("an error series of a service no failure reached: errors there would fire its SLO or error-ratio "
               "alert, which the failing phase must not")


NO_CALLS = "the service dashboard's downstream panels for a service the spec declares no call of"


def _exceptions(name: str, observed: dict[str, Any]) -> list[tuple[str, Predicate]]:
    spec = _spec(name)
    silent = [svc for svc in spec.services.values() if svc.kind.value == "service" and not svc.calls]
    return [*COMMON, (ONLY_FAILED, _errors_of_services_that_never_failed(name, observed)),
            *([(NO_CALLS, _downstream_of_services_that_declare_no_call(name))] if silent else []), *EXCEPTIONS[name],
            *SENDER_EXCEPTIONS.get((name, observed["sender"]), [])]


# -- the tests ------------------------------------------------------------------------------------


def test_the_stack_accepted_everything_sent(observed: dict[str, Any]) -> None:
    sent = observed["sent"]["traces"]
    assert len(sent) > 1000
    assert observed["sent"]["requests_refused"] == 0
    assert observed["entry_refused"] == 0
    assert observed["entry_accepted"] == sum(t[1] for t in sent.values())


def test_prometheus_runs_with_the_flags_the_rendered_header_names(observed: dict[str, Any]) -> None:
    flags = observed["prometheus_flags"]
    assert "--enable-feature=exemplar-storage" in flags
    remote_write = observed["spec"] != "large"  # large delivers by scrape (collector.metrics_export)
    assert ("--web.enable-remote-write-receiver" in flags) == remote_write
    assert "--storage.tsdb.retention.time=31d" in flags  # every e2e spec has a 30d SLO: the real server takes it


def test_every_recording_rule_produces_series(observed: dict[str, Any]) -> None:
    empty = [f"{r['file']}: {r['record']} {r['labels']}" for r in observed["recordings"] if r["series"] == 0]
    assert observed["recordings"]
    assert not empty, "recording rules without a series:\n" + "\n".join(empty)


def test_no_alert_expression_returns_a_series_in_the_healthy_phase(observed: dict[str, Any]) -> None:
    fired = [f"{a['file']}: {a['alert']} at +{h['at']}s {h['labels']}" for a in observed["alerts"]
             for h in a["healthy"]]
    assert observed["alerts"]
    assert not fired, "alerts on healthy traffic:\n" + "\n".join(fired)


def test_failing_phase_alerts_on_exactly_the_degraded_service_slos_and_edge(observed: dict[str, Any]) -> None:
    name = observed["spec"]
    expected = expected_entities(name, observed)
    degraded = CASES[name].degraded
    assert ("service", _reported(name, degraded)) in expected  # the scenario breaks what it says it breaks
    assert any(kind == "slo" for kind, _ in expected)
    got: dict[tuple[str, str], list[str]] = defaultdict(list)
    for alert in observed["alerts"]:
        for labels in alert["failing"]:
            got[entity_of(labels)].append(alert["alert"])
    unexpected = {e: a for e, a in got.items() if e not in expected}
    # A service's own error alert exists only where no SLO covers it: its errors may show as its SLO instead.
    missing = {e for e in expected - set(got) if e[0] != "service"}
    assert not unexpected, f"alerts that should not fire: {unexpected}"
    assert not missing, f"no alert for {sorted(missing)}; fired: {dict(got)}"
    service = ("service", _reported(name, degraded))
    slo_of_service = any(e[0] == "slo" and "service_name" in lbl and lbl["service_name"] == service[1]
                         for a in observed["alerts"] for lbl in a["failing"] for e in [entity_of(lbl)])
    assert service in got or slo_of_service, f"nothing alerts on {service[1]}"


def test_for_durations_hold_in_the_failing_phase(observed: dict[str, Any]) -> None:
    """The rule manager agrees: an expression true for longer than its ``for:`` is firing, the rest pending."""
    states = observed["alert_states"]
    checked = 0
    for alert in observed["alerts"]:
        wait = _for_seconds(alert["for"])
        for labels, true_for in zip(alert["failing"], alert["true_for_s"], strict=True):
            want = {k: v for k, v in labels.items() if k != "__name__"} | {"alertname": alert["alert"]}
            mine = [s for s in states if all(s["labels"].get(k) == v for k, v in want.items())]
            if true_for >= 2 * RULE_INTERVAL_S:  # evaluated by the rule manager since: pending at least
                assert mine, f"{alert['alert']} {want}: true for {true_for:.0f}s but not active in the rule manager"
            if true_for >= wait + 3 * RULE_INTERVAL_S:
                assert any(s["state"] == "firing" for s in mine), f"{alert['alert']} {want}: true for {true_for:.0f}s"
                checked += 1
    for state in states:
        assert entity_of(state["labels"]) in expected_entities(observed["spec"], observed), state
    longest = {f"{a['alert']} for {a['for']}": round(max(a["true_for_s"])) for a in observed["alerts"] if a["failing"]}
    assert checked, f"no alert was true long enough to prove its for: (true for, in s: {longest})"


def test_every_panel_query_has_data_in_some_phase(observed: dict[str, Any]) -> None:
    name = observed["spec"]
    seen: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for q in observed["panels"]:
        key = (q["dashboard"], q["panel"], q["ref"], q["expr"], json.dumps(q["choice"], sort_keys=True))
        if key not in seen or q["data"]:
            seen[key] = q
    assert seen
    exceptions = _exceptions(name, observed)
    used = [0] * len(exceptions)
    empty = []
    for q in seen.values():
        if q["data"]:
            continue
        hits = [i for i, (_, match) in enumerate(exceptions) if match(q)]
        for i in hits:
            used[i] += 1
        if not hits:
            empty.append(f"{q['dashboard']} / {q['panel']} ({q['ref']}) {q['choice']}: {q['expr']}")
    assert not empty, "panel queries without data in both phases:\n" + "\n".join(empty)
    # the templated service dashboard ran for every value its variables offer: every instrumented service, and
    # for each the SLOs it declares (the hidden slo variable a row repeats over)
    spec = _spec(name)
    templated = [q for q in observed["panels"] if q["dashboard"].endswith("-service.json")]
    services = {svc.service_name or key for key, svc in spec.services.items() if svc.kind.value == "service"}
    assert services <= {q["choice"].get("service") for q in templated}
    slos = {slo.name for svc in spec.services.values() for slo in svc.slos}
    assert slos and slos <= {q["choice"].get("slo") for q in templated}
    # ONLY_FAILED depends on which services the run failed (all of them, when a failure propagates to the root)
    stale = [reason for (reason, _), n in zip(exceptions, used, strict=True) if n == 0 and reason != ONLY_FAILED]
    assert not stale, f"exceptions that no longer apply (remove them): {stale}"


def test_exemplars_point_at_sent_traces_and_kept_ones_are_in_the_sink(observed: dict[str, Any]) -> None:
    exemplars = observed["exemplar_trace_ids"]
    sent, sink = observed["sent"]["traces"], observed["sink"]
    assert exemplars, "no exemplar on any panel Grafana queries exemplars for"
    assert not [t for t in exemplars if t not in sent], "exemplar trace ids that were never sent"
    kept = [t for t in exemplars if t in sink]
    assert kept, "no exemplar links to a trace the sink kept"
    # a trace with an error span is kept by the errors policy, so its exemplar always leads to the trace
    if any(p.get("type") == "status_code" for ps in observed["policies"].values() for p in ps):
        dropped = dropped_by_policy(observed)
        lost = [t for t in exemplars if sent[t][2] and t not in sink and t not in dropped]
        assert not lost, f"exemplars of error traces whose trace was not kept: {lost[:5]}"


def test_collector_own_metrics_are_scraped(observed: dict[str, Any]) -> None:
    for job, ups in observed["scrape_up"].items():
        assert ups and all(u == 1.0 for u in ups), f"job {job}: up = {ups}"
    own = {job: n for job, n in observed["own_metric_series"].items() if "span-metrics" not in job}
    assert own and all(n > 0 for n in own.values()), own
    sampling = [q for q in observed["panels"] if q["dashboard"].endswith("-sampling.json") and q["data"]]
    assert sampling, "the sampling dashboard has no data"


def test_span_metrics_count_every_span_while_the_sink_holds_only_kept_traces(observed: dict[str, Any]) -> None:
    sent, sink = observed["sent"]["traces"], observed["sink"]
    assert observed["span_metrics_calls"] == sum(t[1] for t in sent.values())  # before sampling: all of them
    assert set(sink) <= set(sent)
    assert len(sink) == observed["sampled_true"], "sink traces vs the samplers' sampled=true decisions"
    assert len(sink) + observed["sampled_false"] == len(sent), "every trace decided once"
    incomplete = [t for t, n in sink.items() if n != sent[t][1]]
    assert not incomplete, f"kept traces with missing spans: {incomplete[:5]}"
    policies = [p for ps in observed["policies"].values() for p in ps]
    dropped = dropped_by_policy(observed)
    assert not dropped & set(sink), "traces a drop policy matches were kept"
    if any(p.get("type") == "status_code" for p in policies):
        lost = [t for t, info in sent.items() if info[2] and t not in sink and t not in dropped]
        assert not lost, f"error traces not kept: {lost[:5]}"
