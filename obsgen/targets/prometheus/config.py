"""``prometheus/prometheus.yaml``: the scrape jobs of the Collector's own metrics, the rendered rule files,
and in its header the command-line flags the stack needs.

Without a scrape job for :8888 no pipeline alert and no panel of the sampling dashboard has data; the
jobs are the ones the CollectorDown alert watches (``naming.collector_jobs``).
"""

from __future__ import annotations

from typing import NamedTuple

from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.emit.commented_yaml import CommentedYaml
from obsgen.plan import Plan, naming
from obsgen.spec.retention import DEFAULT_RETENTION_DAYS, longest_window, retention_days
from obsgen.targets.collector.components import SCRAPE_ENDPOINT, TELEMETRY_PORT
from obsgen.targets.prometheus.rules.model import EVALUATION_INTERVAL, RULES_DIR

PATH = "prometheus/prometheus.yaml"
SPAN_METRICS_PORT = int(SCRAPE_ENDPOINT.rsplit(":", 1)[1])


class Flag(NamedTuple):
    """A command-line flag of ``prometheus`` this stack relies on (None: a note without a flag) and why."""

    flag: str | None
    why: str

    @property
    def note(self) -> str:
        """The header comment line: the flag, then why."""
        return self.why if self.flag is None else f"{self.flag}: {self.why}"


def flags(plan: Plan) -> list[Flag]:
    """The flags of ``prometheus`` this stack relies on, each with why: the header names them, the local stack's
    command runs with them."""
    pushers = []
    if plan.spec.collector.metrics_export == "remote_write" or plan.span_metrics.source == "tempo":
        pushers.append("span metrics and service-graph metrics arrive by remote write")
    out = []
    if pushers:
        out.append(Flag("--web.enable-remote-write-receiver", "; ".join(pushers) + " (POST /api/v1/write)."))
    out.append(Flag("--enable-feature=exemplar-storage", "span-metrics histograms carry trace-id exemplars that the "
                    "dashboards link to traces; without it Prometheus drops them."))
    out.append(Flag(None, "No native histograms: span metrics and service-graph latencies are classic (_bucket) "
                    "histograms."))
    declared = plan.spec.backends.prometheus.retention
    longest = longest_window(plan.spec)
    days = retention_days(longest[1]) if longest is not None else 0
    if declared is not None:
        why = "the retention backends.prometheus.retention declares"
        if longest is not None:
            why += f" (the longest SLO window, {longest[1].prom()}, needs {days}d)"
        out.append(Flag(f"--storage.tsdb.retention.time={declared.prom()}", why + "."))
    elif longest is not None and days > DEFAULT_RETENTION_DAYS:
        out.append(Flag(f"--storage.tsdb.retention.time={days}d", f"the longest SLO window ({longest[1].prom()}) reads "
                        f"that much history of the SLO recordings; Prometheus keeps {DEFAULT_RETENTION_DAYS}d unless "
                        "told."))
    return out


def _job(name: str, static: list[str] | None = None, dns: str | None = None, port: int = TELEMETRY_PORT
         ) -> dict[str, object]:
    job: dict[str, object] = {"job_name": name}
    if static is not None:
        job["static_configs"] = [{"targets": static}]
    if dns is not None:
        # a headless service resolves to every sampler pod: one target per replica
        job["dns_sd_configs"] = [{"names": [dns], "type": "A", "port": port}]
    return job


def document(plan: Plan) -> dict[str, object]:
    """The configuration as data."""
    collector = plan.spec.collector
    host = collector.metrics_host
    jobs: list[dict[str, object]] = []
    # The connectors' metrics endpoint: the one Collector, or (two tiers) the gateway, which computes span
    # metrics from every span before sampling, and every sampler replica, which computes the service graph.
    span_metrics_job = _job(naming.COLLECTOR_SPAN_METRICS_JOB, static=[f"{host}:{SPAN_METRICS_PORT}"])
    if collector.replicas <= 1:
        jobs.append(_job(naming.COLLECTOR_JOB, static=[f"{host}:{TELEMETRY_PORT}"]))
    else:
        jobs.append(_job(naming.COLLECTOR_GATEWAY_JOB, static=[f"{host}:{TELEMETRY_PORT}"]))
        jobs.append(_job(naming.COLLECTOR_SAMPLER_JOB, dns=collector.sampler_service))
        span_metrics_job = _job(naming.COLLECTOR_SPAN_METRICS_JOB, static=[f"{host}:{SPAN_METRICS_PORT}"],
                                dns=collector.sampler_service, port=SPAN_METRICS_PORT)
    if collector.metrics_export == "scrape" and plan.span_metrics.source == "collector":
        jobs.append(span_metrics_job)
    return {
        "global": {"scrape_interval": plan.spec.backends.prometheus.scrape_interval.prom(),
                   "evaluation_interval": EVALUATION_INTERVAL},
        # relative to this file's directory, where Prometheus resolves them
        "rule_files": [f"{RULES_DIR.removeprefix('prometheus/')}/*.yaml"],
        "scrape_configs": jobs,
    }


def render(plan: Plan) -> list[Artifact]:
    """The one configuration file."""
    notes = [f"Prometheus {plan.spec.stack.prometheus} for {plan.name}; run it with these flags:",
             *(f.note for f in flags(plan))]
    body = CommentedYaml().comments(notes).block(document(plan))
    return [Artifact(PATH, header_lines(plan.spec_file) + body.text())]
