"""How Helm combines a values file with a chart's defaults, and the opentelemetry-collector chart's defaults.

Helm coalesces user values over the chart's ``values.yaml``: maps merge key by key (recursively), any
other value replaces the default, and a ``null`` deletes the default key (Helm docs, "Deleting a
Default Key"; the collector chart's values.yaml notes the exception: the deletion does not work when
the chart is a *subchart*, helm/helm#12879, and offers ``alternateConfig`` for that case).

The collector chart's default ``config`` (below, copied from
``opentelemetry-collector-0.170.0.values.yaml``; a test compares it with the file) enables jaeger,
zipkin and prometheus receivers, a debug exporter, logs/metrics/traces pipelines and a
percentage-based memory_limiter. Merged into obsgen's config they would add components obsgen did not
render (and two memory_limiter limits), so ``nulls_for_chart_defaults`` writes a ``null`` for every
default key obsgen's config does not have; after Helm's merge the config is exactly obsgen's.

The rest of what the chart does to ``config`` (open-telemetry/opentelemetry-helm-charts, tag
opentelemetry-collector-0.170.0, ``templates/_config.tpl``): ``baseConfig`` returns it unchanged unless
``alternateConfig``, ``internalTelemetryViaOTLP`` or ``service.telemetry.metrics.address`` is set (none
is); ``deploymentConfig`` (used for Deployments and StatefulSets) adds preset components only for
enabled presets (none is), renames deprecated ids when ``rewriteDeprecatedComponentNames`` (obsgen
turns it off), and ends with ``tpl (toYaml $config)``, hence ``tpl_literal``.
"""

from __future__ import annotations

from collections.abc import Mapping

CHART_DEFAULT_CONFIG: dict[str, object] = {
    "exporters": {"debug": {}},
    "extensions": {"health_check": {"endpoint": "${env:MY_POD_IP}:13133"}},
    "processors": {
        "batch": {},
        "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
    },
    "receivers": {
        "jaeger": {"protocols": {
            "grpc": {"endpoint": "${env:MY_POD_IP}:14250"},
            "thrift_http": {"endpoint": "${env:MY_POD_IP}:14268"},
            "thrift_compact": {"endpoint": "${env:MY_POD_IP}:6831"},
        }},
        "otlp": {"protocols": {
            "grpc": {"endpoint": "${env:MY_POD_IP}:4317"},
            "http": {"endpoint": "${env:MY_POD_IP}:4318"},
        }},
        "prometheus": {"config": {"scrape_configs": [{
            "job_name": "opentelemetry-collector",
            "scrape_interval": "10s",
            "static_configs": [{"targets": ["${env:MY_POD_IP}:8888"]}],
        }]}},
        "zipkin": {"endpoint": "${env:MY_POD_IP}:9411"},
    },
    "service": {
        "telemetry": {
            "resource": {
                "k8s.namespace.name": "${env:OTEL_K8S_NAMESPACE}",
                "k8s.node.name": "${env:OTEL_K8S_NODE_NAME}",
                "k8s.node.ip": "${env:OTEL_K8S_NODE_IP}",
                "k8s.pod.name": "${env:OTEL_K8S_POD_NAME}",
                "k8s.pod.ip": "${env:OTEL_K8S_POD_IP}",
                "host.name": "${env:OTEL_K8S_NODE_NAME}",
            },
            "metrics": {"readers": [
                {"pull": {"exporter": {"prometheus": {"host": "${env:MY_POD_IP}", "port": 8888}}}},
            ]},
        },
        "extensions": ["health_check"],
        "pipelines": {
            "logs": {"exporters": ["debug"], "processors": ["memory_limiter", "batch"], "receivers": ["otlp"]},
            "metrics": {"exporters": ["debug"], "processors": ["memory_limiter", "batch"],
                        "receivers": ["otlp", "prometheus"]},
            "traces": {"exporters": ["debug"], "processors": ["memory_limiter", "batch"],
                       "receivers": ["otlp", "jaeger", "zipkin"]},
        },
    },
}


def nulls_for_chart_defaults(config: Mapping[str, object], defaults: Mapping[str, object]) -> dict[str, object]:
    """``config`` plus a ``None`` for every key of ``defaults`` it lacks (recursively through shared maps)."""
    out: dict[str, object] = dict(config)
    for key, default in defaults.items():
        if key not in config:
            out[key] = None
        elif isinstance(default, Mapping) and isinstance(config[key], Mapping):
            out[key] = nulls_for_chart_defaults(config[key], default)  # type: ignore[arg-type]
    return out


def helm_merge(defaults: object, values: object) -> object:
    """Helm's coalescing of ``values`` over ``defaults``: maps merge, null deletes, anything else replaces."""
    if not isinstance(values, Mapping) or not isinstance(defaults, Mapping):
        return values
    out: dict[str, object] = {k: v for k, v in defaults.items()}
    for key, value in values.items():
        if value is None:
            out.pop(key, None)
        elif key in out:
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = _drop_nulls(value)
    return out


def _drop_nulls(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value


TPL_OPEN = "{{`{{`}}"


def tpl_literal(data: object) -> object:
    """Every string of plain data written so Helm's ``tpl`` reads it back unchanged.

    Both charts pass some values through ``tpl`` (collector chart: the whole ``config``, values.yaml
    "Supports templating. To escape existing instances of {{ }}, use {{` <original content> `}}";
    grafana chart: ``datasources``). A ``{{`` in a spec string would start a template action, so it is
    written as the action ``{{`{{`}}``, whose output is ``{{``; a lone ``}}`` is plain text to Go
    templates and stays.
    """
    if isinstance(data, str):
        return data.replace("{{", TPL_OPEN)
    if isinstance(data, Mapping):
        return {key: tpl_literal(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [tpl_literal(item) for item in data]
    return data


def tpl_read(data: object) -> object:
    """What ``tpl`` makes of data written by ``tpl_literal`` (the inverse, for the tests' emulation)."""
    if isinstance(data, str):
        if "{{" in data.replace(TPL_OPEN, ""):
            raise ValueError(f"an unescaped template action in {data!r}")
        return data.replace(TPL_OPEN, "{{")
    if isinstance(data, Mapping):
        return {key: tpl_read(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [tpl_read(item) for item in data]
    return data
