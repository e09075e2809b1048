"""One spec end to end: start its stack, drive a healthy then a failing phase, and record what every check needs.

Everything the assertions read is captured while the stack runs and returned as plain data (``Observed``), so
the tests (``test_e2e.py``) only compare: the answers of every recording rule, alert expression and dashboard
query (after Grafana's interpolation), the alerts' states, the exemplars Grafana would fetch, the traces the
sink kept, the Collector's own counters, and what the sender sent.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from obsgen.generate import load_spec
from tests.e2e import grafana_interp, wire
from tests.e2e.cases import HEALTHY_TRAFFIC, Case, attribute_mixes
from tests.e2e.sender import Traffic
from tests.e2e.stack import Stack
from tests.servers import HarnessError

HEALTHY_S = 105.0
FAILING_S = 255.0
WARMUP_S = 75.0  # first flush (15s), remote write, rate() needing two samples, recorded rules: absent() until then
EVAL_STEP_S = 15.0
DRAIN_TIMEOUT_S = 75.0


@dataclass
class Observed:
    """Plain data a run leaves behind (JSON-serialisable)."""

    spec: str
    layout: str
    t0: float = 0.0
    t_healthy: float = 0.0
    t_failing: float = 0.0
    prometheus_flags: list[str] = field(default_factory=list)
    # recorded series name + static labels -> series count over the run
    recordings: list[dict[str, Any]] = field(default_factory=list)
    # alert rule -> series returned in the healthy phase (after warm-up) / at the end of the failing phase
    alerts: list[dict[str, Any]] = field(default_factory=list)
    alert_states: list[dict[str, Any]] = field(default_factory=list)
    panels: list[dict[str, Any]] = field(default_factory=list)
    exemplar_trace_ids: list[str] = field(default_factory=list)
    sink: dict[str, int] = field(default_factory=dict)
    span_metrics_calls: float = -1.0
    sampled_true: float = -1.0
    sampled_false: float = -1.0
    scrape_up: dict[str, list[float]] = field(default_factory=dict)
    own_metric_series: dict[str, int] = field(default_factory=dict)
    sent: dict[str, Any] = field(default_factory=dict)
    policies: dict[str, Any] = field(default_factory=dict)
    sender: str = ""
    entry_accepted: float = -1.0  # spans the single Collector or gateway accepted, by its own counter
    entry_refused: float = -1.0


def _labels_matcher(name: str, labels: Mapping[str, str]) -> str:
    parts = [f'__name__="{name}"'] + [f'{k}="{v}"' for k, v in sorted(labels.items())]
    return "{" + ", ".join(parts) + "}"


def _rule_files(stack: Stack) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((stack.rendered / "prometheus" / "rules").glob("*.yaml")):
        out.append((path.name, yaml.safe_load(path.read_text(encoding="utf-8"))))
    return out


def _datasource_interval_ms(stack: Stack) -> int:
    doc = yaml.safe_load((stack.rendered / "grafana/provisioning/datasources/datasources.yaml").read_text())
    for ds in doc.get("datasources", []):
        if ds.get("type") == "prometheus":
            return grafana_interp.parse_duration_ms(str((ds.get("jsonData") or {}).get("timeInterval", "15s")))
    return 15_000


def _own_counter(text: str, name: str, **labels: str) -> float:
    """Sum of one counter in the Collector's /metrics text over series carrying ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _obsgen_traffic_installed() -> bool:
    try:
        return importlib.util.find_spec("obsgen.traffic.command") is not None
    except ModuleNotFoundError:  # no obsgen.traffic package at all
        return False


def healthy_copy(spec_path: Path, workdir: Path) -> Path:
    """A copy of the spec (same file name) whose traffic model is healthy: ``cases.HEALTHY_TRAFFIC`` merged in."""
    doc = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    traffic = dict(doc.get("traffic") or {})
    traffic.update(HEALTHY_TRAFFIC)  # replaces errors, latency (services and edges too) and network whole
    mixes = dict(traffic.get("attributes") or {})
    mixes.update(attribute_mixes(doc.get("attributes") or {}, set(mixes)))
    if mixes:
        traffic["attributes"] = mixes
    doc["traffic"] = traffic
    out = workdir / "spec" / spec_path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


class Run:
    """Drives one stack through both phases; ``observe`` returns what happened.

    Traffic comes from ``obsgen traffic`` (issue 17), or from the harness's small sender (``tests/e2e/sender.py``)
    where the case says so (``Case.sender``) or ``sender="own"`` asks for it. Either talks to the stack's tap,
    so what was sent is read off the wire the same way.
    """

    def __init__(self, name: str, case: Case, workdir: Path, otelcol: str, prometheus: str, seed: int = 7,
                 sender: str | None = None) -> None:
        self.name = name
        self.case = case
        self.seed = seed
        self.sender = sender or case.sender
        if self.sender == "obsgen" and not _obsgen_traffic_installed():
            self.sender = "own"  # a checkout without `obsgen traffic` (issue 17) yet: the harness's sender
        # the traffic model is obsgen traffic's input only (and a spec section only where it exists)
        spec_path = healthy_copy(case.spec, workdir) if self.sender == "obsgen" else case.spec
        _, spec, diags = load_spec(spec_path)
        if spec is None:
            raise ValueError(f"{spec_path}: {diags}")
        self.spec_path = spec_path
        self.spec = spec
        self.stack = Stack(spec_path, workdir, otelcol, prometheus, replicas=max(spec.collector.replicas, 1))
        self.traffic = Traffic(spec, case.failure, seed=seed, roots_per_second=case.rate)
        self.observed = Observed(name, "")

    def _send(self, phase: str, seconds: float) -> None:
        if self.sender == "own":
            self.traffic.run(self.stack.tap_http, phase, seconds)
            return
        args = [sys.executable, "-m", "obsgen", "traffic", str(self.spec_path), "--otlp", self.stack.tap_http,
                "--protocol", "http", "--rate", f"{self.case.rate:g}", "--duration", f"{seconds:g}",
                "--seed", str(self.seed + (phase == "failing")), "--quiet"]
        if phase == "failing":
            args += ["--scenario", self.case.scenario]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 180, check=False)
        if proc.returncode != 0:
            raise HarnessError(f"obsgen traffic ({phase}) exited {proc.returncode}:\n{proc.stdout[-3000:]}"
                               f"{proc.stderr[-3000:]}")

    def run(self) -> Observed:
        obs = self.observed
        self.stack.start()
        try:
            obs.layout = self.stack.layout
            obs.prometheus_flags = self.stack.prometheus_flags
            obs.t0 = time.time()
            self._send("healthy", HEALTHY_S)
            obs.t_healthy = time.time()
            self.stack.check_alive()
            self._send("failing", FAILING_S)
            obs.t_failing = time.time()
            self.stack.check_alive()
            assert self.stack.api is not None
            obs.alert_states = self.stack.api.alerts()
            self._drain()
            self._observe()
        finally:
            self.stack.stop()
        return obs

    # -- after the phases -----------------------------------------------------------------------

    def _drain(self) -> None:
        """Wait until span metrics have counted every span sent and the samplers have decided every trace."""
        api = self.stack.api
        assert api is not None
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        last = (-1, -1)
        while time.monotonic() < deadline:
            sent = sum(1 for _ in wire.read_spans(self.stack.sent_file))
            counted = api.query("sum(traces_span_metrics_calls_total)", time.time())
            sink = len(self.stack.sink_traces())
            if (counted and float(counted[0]["value"][1]) >= sent and (sent, sink) == last
                    and self._undecided() == 0):
                return
            last = (sent, sink)
            time.sleep(3)

    def _undecided(self) -> float:
        total = 0.0
        for c in self.stack.samplers:
            total += _own_counter(c.own_metrics(), "otelcol_processor_tail_sampling_sampling_traces_on_memory")
        return total

    def _observe(self) -> None:
        obs, stack, api = self.observed, self.stack, self.stack.api
        assert api is not None
        end = time.time()
        # recording rules: each (name, static labels) has series over the run
        for file, doc in _rule_files(stack):
            for group in doc.get("groups") or []:
                for rule in group.get("rules") or []:
                    if "record" in rule:
                        selector = _labels_matcher(rule["record"], rule.get("labels") or {})
                        result = api.query(f"last_over_time({selector}[15m])", end)
                        obs.recordings.append({"file": file, "record": rule["record"],
                                               "labels": rule.get("labels") or {}, "series": len(result)})
                    else:
                        obs.alerts.append(self._alert(file, group["name"], rule))
        obs.panels = self._panels()
        obs.sink = stack.sink_traces()
        calls = api.query("sum(traces_span_metrics_calls_total)", end)
        obs.span_metrics_calls = float(calls[0]["value"][1]) if calls else -1.0
        sampled_true = sampled_false = 0.0
        for c in stack.samplers:
            text = c.own_metrics()
            sampled_true += _own_counter(text, "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
                                         sampled="true")
            sampled_false += _own_counter(text, "otelcol_processor_tail_sampling_global_count_traces_sampled_total",
                                          sampled="false")
        obs.sampled_true, obs.sampled_false = sampled_true, sampled_false
        config = yaml.safe_load((stack.rendered / "prometheus" / "prometheus.yaml").read_text())
        for job in config.get("scrape_configs") or []:
            name = job["job_name"]
            obs.scrape_up[name] = [float(r["value"][1]) for r in api.query(f'up{{job="{name}"}}', end)]
            obs.own_metric_series[name] = len(api.query(f'{{job="{name}", __name__=~"otelcol_.+"}}', end))
        keys = {svc.service_name or key: key for key, svc in self.spec.services.items()}
        obs.sent = wire.summarize(list(wire.read_spans(stack.sent_file)), keys, obs.t_healthy)
        obs.sent["requests_refused"] = self.traffic.tally.requests_refused
        obs.sender = self.sender
        entry = stack.entry.own_metrics()
        obs.entry_accepted = _own_counter(entry, "otelcol_receiver_accepted_spans_total")
        obs.entry_refused = _own_counter(entry, "otelcol_receiver_refused_spans_total")
        obs.policies = {c.role: c.config["processors"].get("tail_sampling", {}).get("policies", [])
                        for c in stack.collectors if "tail_sampling" in (c.config.get("processors") or {})}

    def _alert(self, file: str, group: str, rule: Mapping[str, Any]) -> dict[str, Any]:
        obs, api = self.observed, self.stack.api
        assert api is not None
        expr = str(rule["expr"])
        healthy: list[dict[str, Any]] = []
        t = obs.t0 + WARMUP_S
        while t <= obs.t_healthy + 0.001:
            for series in api.query(expr, t):
                healthy.append({"at": round(t - obs.t0), "labels": series["metric"]})
            t += EVAL_STEP_S
        failing = [s["metric"] for s in api.query(expr, obs.t_failing)]
        # since when each failing series has been returned without a gap (for `for:`)
        since: list[float] = []
        step = 10.0
        matrix = api.query_range(expr, obs.t_healthy, obs.t_failing, step)
        for series in failing:
            times = next((sorted(float(v[0]) for v in m["values"]) for m in matrix if m["metric"] == series), [])
            start = obs.t_failing
            for ts in reversed(times):
                if start - ts > step * 1.5:
                    break
                start = ts
            since.append(obs.t_failing - start)
        return {"file": file, "group": group, "alert": rule["alert"], "expr": expr, "for": rule.get("for", "0s"),
                "labels": rule.get("labels") or {}, "healthy": healthy, "failing": failing, "true_for_s": since}

    def _panels(self) -> list[dict[str, Any]]:
        obs, stack, api = self.observed, self.stack, self.stack.api
        assert api is not None
        scrape_ms = _datasource_interval_ms(stack)
        out: list[dict[str, Any]] = []
        for path in sorted((stack.rendered / "grafana" / "dashboards").glob("*.json")):
            dashboard = json.loads(path.read_text(encoding="utf-8"))
            range_ms = _range_ms(dashboard)
            ctx = grafana_interp.TimeContext(range_ms, scrape_ms)
            builtins = ctx.builtins()
            for phase, end in (("healthy", obs.t_healthy), ("failing", obs.t_failing)):
                start = end - range_ms / 1000
                variables = grafana_interp.dashboard_variables(
                    dashboard, lambda label, match, start=start, end=end: api.label_values(label, match, start, end),
                    builtins)
                for panel in _all_panels(dashboard.get("panels") or []):
                    for target in panel.get("targets") or []:
                        expr = target.get("expr")
                        if not expr or (target.get("datasource") or {}).get("type") not in (None, "prometheus"):
                            continue
                        for choice, promql in grafana_interp.expansions(expr, variables, builtins):
                            if target.get("instant"):
                                data = bool(api.query(promql, end))
                            else:
                                step = max(ctx.interval_ms / 1000, 1)
                                data = any(m["values"] for m in api.query_range(promql, end - range_ms / 1000, end,
                                                                                 step))
                            entry = {"dashboard": path.name, "panel": panel.get("title", ""),
                                     "ref": target.get("refId", ""), "expr": expr, "choice": choice, "phase": phase,
                                     "data": data}
                            if target.get("exemplar") and phase == "failing":
                                for series in api.exemplars(promql, obs.t0, end + 60):
                                    for ex in series.get("exemplars") or []:
                                        tid = (ex.get("labels") or {}).get("trace_id")
                                        if tid:
                                            obs.exemplar_trace_ids.append(tid)
                            out.append(entry)
        obs.exemplar_trace_ids = sorted(set(obs.exemplar_trace_ids))
        return out


def _range_ms(dashboard: Mapping[str, Any]) -> int:
    """The dashboard's default time range (``now-1h`` to ``now``) in milliseconds."""
    time_range = dashboard.get("time") or {"from": "now-6h", "to": "now"}
    match = re.fullmatch(r"now-(\w+)", str(time_range.get("from")))
    if not match or time_range.get("to") != "now":
        raise ValueError(f"dashboard time range {time_range} is not now-X..now")
    return grafana_interp.parse_duration_ms(match.group(1))


def _all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for panel in panels:
        out.append(panel)
        out.extend(_all_panels(panel.get("panels") or []))
    return out
