"""OpenTelemetry Collector target: one config for a single collector, or a gateway and a sampler tier.

Layouts (``collector.replicas`` decides):

* one replica -> ``otel-collector/config.yaml``. With span metrics in the Collector, the ingest
  pipeline fans every span out to span metrics, the service graph and (through a forward connector)
  the sampling pipeline, so RED metrics count every request, not only the kept ones.
* several replicas -> ``otel-collector/gateway.yaml`` (stateless, load-balances by trace id, span
  metrics before sampling, a per-replica label) and ``otel-collector/sampler.yaml`` (tail sampling,
  service graph, export to Tempo). docs/collector.md explains why.

With ``span_metrics.source: tempo`` the Collector computes neither span metrics nor the service
graph: Tempo's metrics-generator produces both (from sampled traces, which validate warns about).
"""

from __future__ import annotations

from functools import partial

from obsgen.check.strict import StrictError
from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.plan import Plan
from obsgen.spec.versions import version_tuple
from obsgen.targets.collector.components import (
    Config,
    Ids,
    Pipeline,
    batch,
    forward,
    health_check,
    load_balancing,
    memory_limiter,
    metrics_exporter,
    otlp_receiver,
    service_graph,
    span_metrics,
    tail_sampling,
    tempo_exporter,
)
from obsgen.targets.collector.strict.config import validate_collector_config
from obsgen.targets.collector.text import config_text

DIRECTORY = "otel-collector"


def _checker(version: tuple[int, int, int]) -> partial[list[StrictError]]:
    return partial(validate_collector_config, version=version)


def _title(plan: Plan, role: str) -> list[str]:
    return [f"OpenTelemetry Collector (contrib) {plan.spec.stack.collector} for {plan.name}: {role}."]


def single(plan: Plan) -> Config:
    """One collector: ingest -> (span metrics, service graph, sampling) -> Tempo and Prometheus."""
    ids = Ids(plan)
    in_collector = plan.spec.span_metrics.source == "collector"
    cfg = Config(_title(plan, "single collector, tail sampling"))
    cfg.extensions.append(health_check())
    cfg.receivers.append(otlp_receiver(ids))
    cfg.processors += [memory_limiter(plan, ids, tail_sampling=True), tail_sampling(plan, ids, 1), batch(ids)]
    cfg.exporters.append(tempo_exporter(plan, ids))
    sampling_processors = [ids.memory_limiter, ids.tail_sampling, ids.batch]
    if not in_collector:
        cfg.pipelines.append(Pipeline(
            "traces", [ids.otlp_receiver], sampling_processors, [ids.tempo],
            ("Tempo's metrics-generator computes span metrics and the service graph from the kept traces.",),
        ))
        return cfg
    metrics_out = ids.metrics_exporter(plan)
    cfg.connectors += [span_metrics(plan, ids), service_graph(plan, ids, 1), forward(ids)]
    cfg.exporters.append(metrics_exporter(plan, ids, instance_label=False,
                                          what="span metrics and service-graph metrics"))
    cfg.pipelines += [
        Pipeline(
            "traces/ingest", [ids.otlp_receiver], [ids.memory_limiter],
            [ids.span_metrics, ids.service_graph, ids.forward],
            ("Every span, before sampling: metrics see all requests.",),
        ),
        Pipeline("traces/sampling", [ids.forward], sampling_processors, [ids.tempo],
                 ("Tail sampling, then batching, then Tempo.",)),
        Pipeline("metrics/spans", [ids.span_metrics, ids.service_graph], [ids.memory_limiter, ids.batch],
                 [metrics_out]),
    ]
    return cfg


def gateway(plan: Plan) -> Config:
    """Tier 1: stateless; routes by trace id, computes span metrics before sampling."""
    ids = Ids(plan)
    in_collector = plan.spec.span_metrics.source == "collector"
    cfg = Config(_title(plan, f"gateway tier in front of {plan.spec.collector.replicas} sampler replicas"))
    cfg.extensions.append(health_check())
    cfg.receivers.append(otlp_receiver(ids))
    cfg.processors += [memory_limiter(plan, ids, tail_sampling=False), batch(ids)]
    cfg.exporters.append(load_balancing(plan, ids))
    exporters = [ids.load_balancing]
    if in_collector:
        cfg.connectors.append(span_metrics(plan, ids))
        cfg.exporters.append(metrics_exporter(plan, ids, instance_label=True, what="span metrics"))
        exporters = [ids.span_metrics, ids.load_balancing]
    cfg.pipelines.append(Pipeline(
        "traces", [ids.otlp_receiver], [ids.memory_limiter, ids.batch], exporters,
        ("Every span: span metrics here (before sampling), then to the sampler that owns the trace id.",)
        if in_collector else ("Every span to the sampler replica that owns its trace id.",),
    ))
    if in_collector:
        cfg.pipelines.append(Pipeline("metrics/spans", [ids.span_metrics], [ids.memory_limiter, ids.batch],
                                      [ids.metrics_exporter(plan)]))
    return cfg


def sampler(plan: Plan) -> Config:
    """Tier 2: all spans of a trace arrive here; service graph before sampling, tail sampling, Tempo."""
    ids = Ids(plan)
    replicas = plan.spec.collector.replicas
    in_collector = plan.spec.span_metrics.source == "collector"
    cfg = Config(_title(plan, f"sampler tier, one of {replicas} replicas behind the gateway"))
    cfg.extensions.append(health_check())
    cfg.receivers.append(otlp_receiver(ids))
    cfg.processors += [memory_limiter(plan, ids, tail_sampling=True), tail_sampling(plan, ids, replicas),
                       batch(ids)]
    cfg.exporters.append(tempo_exporter(plan, ids))
    sampling_processors = [ids.memory_limiter, ids.tail_sampling, ids.batch]
    if not in_collector:
        cfg.pipelines.append(Pipeline("traces", [ids.otlp_receiver], sampling_processors, [ids.tempo]))
        return cfg
    cfg.connectors += [service_graph(plan, ids, replicas), forward(ids)]
    cfg.exporters.append(metrics_exporter(plan, ids, instance_label=True, what="service-graph metrics"))
    cfg.pipelines += [
        Pipeline("traces/ingest", [ids.otlp_receiver], [ids.memory_limiter], [ids.service_graph, ids.forward],
                 ("Every span of the traces this replica owns, before sampling.",)),
        Pipeline("traces/sampling", [ids.forward], sampling_processors, [ids.tempo]),
        Pipeline("metrics/service-graph", [ids.service_graph], [ids.memory_limiter, ids.batch],
                 [ids.metrics_exporter(plan)]),
    ]
    return cfg


def _artifact(plan: Plan, name: str, cfg: Config) -> Artifact:
    text = header_lines(plan.spec_file) + config_text(cfg)
    return Artifact(f"{DIRECTORY}/{name}", text, _checker(version_tuple(plan.spec.stack.collector)))


def render(plan: Plan) -> list[Artifact]:
    """The Collector config(s) for the plan."""
    if plan.spec.collector.replicas > 1:
        return [_artifact(plan, "gateway.yaml", gateway(plan)), _artifact(plan, SAMPLER_FILE, sampler(plan))]
    return [_artifact(plan, SINGLE_FILE, single(plan))]


SINGLE_FILE, SAMPLER_FILE = "config.yaml", "sampler.yaml"


def tail_sampling_data(plan: Plan) -> tuple[str, dict[str, object]]:
    """(path of the rendered config that holds the tail_sampling processor, the processor's body as that file
    reads back): what the sampling report simulates, without writing and parsing the whole config again.

    The body is the data ``config_text`` writes through the YAML serialiser, which reads back as equal plain
    data (``obsgen.emit.fast``); ``tests/targets/test_collector.py`` compares it with the parsed file for every
    example spec.
    """
    replicas = plan.spec.collector.replicas
    name = SAMPLER_FILE if replicas > 1 else SINGLE_FILE
    component = tail_sampling(plan, Ids(plan), replicas)
    body = {e.key: [item.body for item in e.items] if e.items is not None else e.value for e in component.entries}
    return f"{DIRECTORY}/{name}", body
