"""Values for the tempo-distributed chart (3.x layout: Kafka ingest, live stores, block builders, backend scheduler).

The chart has no values schema; the tests check every key path written here against its default
``tempo-distributed-3.3.0.values.yaml`` and that its ``config`` template reads each one. That template
is rendered twice (grafana-community/helm-charts, tag tempo-distributed-3.3.0, ``_helpers.tpl``
``tempo.calculatedConfig``: ``tpl (mergeOverwrite (tpl .Values.config . | fromYaml) ... | toYaml)``), so
a ``{{`` inserted from a value would be evaluated by the second pass: the config-feeding values are
tpl-escaped once. obsgen adds ``-config.expand-env=true`` for the S3 credentials, so spec strings are
also written as expand-env literals, exactly as in ``tempo/tempo.yaml``.
"""

from __future__ import annotations

from typing import cast

from obsgen.plan import Plan
from obsgen.spec.models import S3Storage
from obsgen.targets.helm.chart_merge import tpl_literal
from obsgen.targets.tempo import target as tempo
from obsgen.targets.tempo.envsubst import resolve


def object_storage(plan: Plan) -> S3Storage:
    """Tempo's bucket: the kubernetes section's, else backends.tempo.s3 (semantic check OBS322 ensures one)."""
    k8s = plan.spec.kubernetes
    storage = (k8s.object_storage if k8s else None) or plan.spec.backends.tempo.s3
    if storage is None:
        raise ValueError("no object storage for tempo-distributed")
    return storage


def credentials_secret(plan: Plan) -> str:
    """Secret (created by the operator, not obsgen) holding the S3 key variables."""
    k8s = plan.spec.kubernetes
    assert k8s is not None
    return f"{k8s.tempo_release}-s3-credentials"


def _s3(plan: Plan) -> dict[str, object]:
    return tempo.s3_block(object_storage(plan))


def _section(plan: Plan, key: str) -> dict[str, object] | None:
    """The rendered Tempo config's top-level section ``key``; None when the Tempo target renders none (with the
    Collector as the span-metrics source, Tempo 3 runs no metrics-generator and needs no overrides)."""
    for section in tempo.sections(plan):
        if section.key == key:
            return cast(dict[str, object], section.value)
    return None


def _metrics_generator(plan: Plan, replicas: int) -> dict[str, object]:
    generator = _section(plan, "metrics_generator")
    if generator is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "replicas": replicas,
        "config": {
            "processor": generator["processor"],
            "registry": generator["registry"],
            "storage": {"remote_write": cast(dict[str, object], generator["storage"])["remote_write"]},
        },
    }


def tempo_values(plan: Plan) -> dict[str, object]:
    """The tempo-distributed release."""
    spec = plan.spec
    k8s = spec.kubernetes
    assert k8s is not None
    replicas = k8s.tempo
    values: dict[str, object] = {
        # Object names become <release>-distributor, <release>-query-frontend, ...: the names the
        # spec's backends.tempo URLs use (semantic check OBS328).
        "fullnameOverride": k8s.tempo_release,
        "multitenancyEnabled": spec.backends.tempo.tenant is not None,
        "streamOverHTTPEnabled": True,
        "reportingEnabled": False,
        "global": {
            "extraArgs": ["-config.expand-env=true"],
            "extraEnvFrom": [{"secretRef": {"name": credentials_secret(plan)}}],
        },
        "traces": {"otlp": {"grpc": {"enabled": True}, "http": {"enabled": True}}},
        "ingest": {"kafka": {
            "address": k8s.kafka_address,
            # One partition per block builder (Tempo 3: each builder consumes the partition of its ordinal).
            "auto_create_topic_default_partitions": replicas.block_builder,
        }},
        "distributor": {"replicas": replicas.distributor},
        "liveStore": {"replicas": replicas.live_store},
        "blockBuilder": {"replicas": replicas.block_builder},
        "querier": {"replicas": replicas.querier},
        "queryFrontend": {"replicas": replicas.query_frontend},
        "metricsGenerator": _metrics_generator(plan, replicas.metrics_generator),
        "backendScheduler": {"config": {"provider": {"compaction": {"compaction": {
            "block_retention": spec.backends.tempo.retention.go(),
        }}}}},
        "storage": {"trace": {"backend": "s3", "s3": _s3(plan)}},
    }
    overrides = _section(plan, "overrides")
    if overrides is not None:
        values["overrides"] = overrides
    values = cast(dict[str, object], resolve(values, expand_env=True))
    # The parts the config template inserts into tempo.yaml (then tpl'd a second time).
    for key in ("metricsGenerator", "storage", "overrides"):
        if key in values:
            values[key] = tpl_literal(values[key])
    return values
