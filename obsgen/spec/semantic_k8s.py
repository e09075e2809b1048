"""Semantic checks of the ``kubernetes`` section (OBS320-OBS329): what the Helm values need to be coherent.

Each check ties the section to the rest of the spec: the gateway's resolver must name the sampler
Service the values create, Tempo must have a bucket and the chart's major layout, the sampler's
memory estimate must fit under the limiter the rendered config has.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from obsgen.spec.loader import Loc
from obsgen.spec.models import Spec
from obsgen.spec.versions import version_tuple

# Chart versions whose values files and schemas the tests check the output against (shared/upstream/helm).
VERIFIED_CHARTS = {"opentelemetry_collector": "0.170.0", "tempo_distributed": "3.3.0", "grafana": "12.11.1"}
# tempo-distributed 3.x configures Tempo 3 components (liveStore, blockBuilder, backendScheduler, Kafka ingest).
TEMPO_CHART_MAJOR_TO_TEMPO_MAJOR = {3: 3}

Add = Callable[..., None]


def check_kubernetes(spec: Spec, add: Add) -> None:
    """Run every kubernetes check; ``add(code, loc, message, hint=..., warning=...)`` reports."""
    k8s = spec.kubernetes
    if k8s is None:
        return
    if spec.collector.replicas < 2:
        add("OBS320", ("kubernetes",), "the Kubernetes target needs the two-tier Collector (collector.replicas > 1)",
            hint="set collector.replicas to the number of sampler pods (2 or more)")
    else:
        _check_sampler_service(spec, add)
        _check_memory(spec, add)
    storage = k8s.object_storage or spec.backends.tempo.s3
    if storage is None:
        add("OBS322", ("kubernetes",), "tempo-distributed needs object storage and the spec has none",
            hint="set kubernetes.object_storage (or backends.tempo.s3): bucket and endpoint")
    elif k8s.object_storage is not None and spec.backends.tempo.s3 is not None and \
            k8s.object_storage != spec.backends.tempo.s3:
        add("OBS323", ("kubernetes", "object_storage"),
            "kubernetes.object_storage differs from backends.tempo.s3: Tempo would use two buckets",
            hint="keep one of them (the kubernetes target uses backends.tempo.s3 when object_storage is absent)")
    chart_major = version_tuple(k8s.charts.tempo_distributed)[0]
    tempo_major = version_tuple(spec.stack.tempo)[0]
    wanted = TEMPO_CHART_MAJOR_TO_TEMPO_MAJOR.get(chart_major)
    if wanted is not None and tempo_major != wanted:
        add("OBS324", ("stack", "tempo"),
            f"tempo-distributed {k8s.charts.tempo_distributed} runs Tempo {wanted}.x but the spec pins "
            f"Tempo {spec.stack.tempo}",
            hint=f"set stack.tempo to a {wanted}.x version so tempo/tempo.yaml and the chart agree")
    if k8s.gateway.min_replicas > k8s.gateway.max_replicas:
        add("OBS325", ("kubernetes", "gateway", "min_replicas"),
            f"min_replicas {k8s.gateway.min_replicas} is above max_replicas {k8s.gateway.max_replicas}")
    for field, verified in VERIFIED_CHARTS.items():
        pinned = getattr(k8s.charts, field)
        if pinned != verified:
            add("OBS327", ("kubernetes", "charts", field),
                f"the values are checked against chart {verified}, not {pinned}", warning=True,
                hint="compare the chart's values.yaml (and values.schema.json) of that version before installing")
    _check_tempo_names(spec, add)


def _check_sampler_service(spec: Spec, add: Add) -> None:
    from obsgen.targets.helm.names import sampler_service

    k8s = spec.kubernetes
    assert k8s is not None
    loc: Loc = ("collector", "sampler_service")
    service = sampler_service(spec)
    if not _dns_label(service.name):
        add("OBS321", loc, f"{service.name!r} cannot be the sampler StatefulSet's Service name",
            hint="a DNS label: lowercase letters, digits and '-', at most 63 characters")
    if service.namespace is not None and service.namespace != k8s.namespace:
        add("OBS321", loc,
            f"the gateway's resolver looks for the samplers in namespace {service.namespace!r}, but they are "
            f"installed in {k8s.namespace!r}",
            hint=f"write collector.sampler_service as '{service.name}.{k8s.namespace}' (or set kubernetes.namespace)")


def _check_memory(spec: Spec, add: Add) -> None:
    from obsgen.targets.collector.memory import sampler_memory

    memory = sampler_memory(spec)
    if memory.request_mib > memory.soft_limit_mib:
        add("OBS326", ("collector", "memory_limit_mib"),
            f"a sampler needs about {memory.request_mib} MiB ({memory.num_traces} buffered traces) but its "
            f"memory_limiter starts refusing data at {memory.soft_limit_mib} MiB",
            hint="raise collector.memory_limit_mib or collector.replicas, or lower sampling.decision_wait "
                 "(or leave memory_limit_mib unset: then the samplers' limit follows the estimate)")


def _check_tempo_names(spec: Spec, add: Add) -> None:
    k8s = spec.kubernetes
    assert k8s is not None
    tempo = spec.backends.tempo
    expected = {
        ("backends", "tempo", "otlp_endpoint"): (tempo.otlp_endpoint.rpartition(":")[0], "distributor"),
        ("backends", "tempo", "url"): (urlsplit(tempo.url).hostname or "", "query-frontend"),
    }
    for loc, (host, component) in expected.items():
        name = f"{k8s.tempo_release}-{component}"
        if host.split(".")[0] != name:
            add("OBS328", loc, f"{host!r} is not the tempo-distributed {component} Service ({name!r})",
                warning=True, hint=f"point it at {name} (in namespace {k8s.namespace})")


def _dns_label(text: str) -> bool:
    return 0 < len(text) <= 63 and text[0].isalnum() and text[-1].isalnum() and all(
        ch.isdigit() or ("a" <= ch <= "z") or ch == "-" for ch in text)
