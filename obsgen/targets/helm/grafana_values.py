"""Values for the grafana chart: the rendered datasources, one dashboard provider and the dashboards.

What the chart does with them (grafana-community/helm-charts, tag grafana-12.11.1): ``_config.tpl``
writes each ``datasources`` file through ``tpl`` and each ``dashboardProviders`` file with plain
``toYaml``; ``dashboards-json-configmap.yaml`` writes ``dashboards.<provider>.<name>.json`` verbatim
into a ConfigMap that ``_pod.tpl`` mounts at ``/var/lib/grafana/dashboards/<provider>/<name>.json``.
So only the datasources are tpl-escaped, and the provider's path is that directory, whatever
``backends.grafana.dashboards_path`` says for a non-Kubernetes install.
"""

from __future__ import annotations

from obsgen.plan import Plan
from obsgen.targets.grafana.dashboards import target as dashboards
from obsgen.targets.grafana.datasources import datasources
from obsgen.targets.grafana.provider import provider
from obsgen.targets.grafana.provisioning import escape_strings
from obsgen.targets.helm.chart_merge import tpl_literal

CHART_DASHBOARDS_ROOT = "/var/lib/grafana/dashboards"


def dashboard_provider(plan: Plan) -> dict[str, object]:
    """The provider entry with the chart's mount path."""
    entry = provider(plan)
    options = dict(entry["options"])  # type: ignore[call-overload]
    options["path"] = f"{CHART_DASHBOARDS_ROOT}/{entry['name']}"
    return {**entry, "options": options}


def grafana_values(plan: Plan) -> dict[str, object]:
    """The grafana release."""
    entry = dashboard_provider(plan)
    boards = {artifact.path.rpartition("/")[2].removesuffix(".json"): {"json": artifact.text}
              for artifact in sorted(dashboards.render(plan), key=lambda a: a.path)}
    return {
        "image": {"tag": plan.spec.stack.grafana},
        "datasources": {"datasources.yaml": {
            "apiVersion": 1, "datasources": tpl_literal(escape_strings(datasources(plan))),
        }},
        "dashboardProviders": {"dashboardproviders.yaml": {
            "apiVersion": 1, "providers": escape_strings([entry]),
        }},
        "dashboards": {str(entry["name"]): boards},
    }
