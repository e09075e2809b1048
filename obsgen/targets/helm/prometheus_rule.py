"""The rendered rule groups as one PrometheusRule (monitoring.coreos.com/v1) for prometheus-operator.

Written directly (not through a chart), so no Helm templating applies: the rule text is exactly the
rule files' (alert annotations keep their ``{{ ... }}`` Prometheus templates).
"""

from __future__ import annotations

from obsgen.plan import Plan, slug
from obsgen.targets.prometheus.target import rule_files


def rule_name(plan: Plan) -> str:
    """metadata.name: a DNS subdomain derived from the system name."""
    return f"{slug(plan.name)}-obsgen"


def prometheus_rule(plan: Plan) -> dict[str, object]:
    """The PrometheusRule object."""
    k8s = plan.spec.kubernetes
    assert k8s is not None
    metadata: dict[str, object] = {"name": rule_name(plan), "namespace": k8s.namespace}
    if k8s.rule_labels:
        metadata["labels"] = dict(sorted(k8s.rule_labels.items()))
    groups = [group.data() for rf in rule_files(plan) for group in rf.groups]
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": metadata,
            "spec": {"groups": groups}}
