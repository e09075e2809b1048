"""Grafana dashboard provider: ``grafana/provisioning/dashboards/dashboards.yaml``.

One file provider reads the directory the dashboards target fills (mounted at the spec's
``backends.grafana.dashboards_path``) into the spec's folder. Dashboards are code: UI edits are
refused and a dashboard removed from the directory is removed from Grafana.
"""

from __future__ import annotations

from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.emit.commented_yaml import CommentedYaml
from obsgen.plan import Plan
from obsgen.targets.grafana.provisioning import escape_strings
from obsgen.targets.grafana.strict import validate_dashboard_provider_file

PATH = "grafana/provisioning/dashboards/dashboards.yaml"
UPDATE_INTERVAL_SECONDS = 30
COMMENT = "Dashboards are code: edits in the UI are refused; change the spec and render again."


def provider(plan: Plan) -> dict[str, object]:
    """The provider entry, unescaped."""
    grafana = plan.spec.backends.grafana
    return {
        # Provider names are unique per Grafana; the system name keeps two specs' providers apart.
        "name": f"obsgen-{plan.name}",
        "orgId": 1,
        "folder": grafana.folder,
        "type": "file",
        "disableDeletion": False,
        "allowUiUpdates": False,
        "updateIntervalSeconds": UPDATE_INTERVAL_SECONDS,
        "options": {"path": grafana.dashboards_path, "foldersFromFilesStructure": False},
    }


def render_provider(plan: Plan) -> Artifact:
    """The dashboard provider file, checked by the strict provider model."""
    providers = escape_strings([provider(plan)])
    body = (CommentedYaml().comment(COMMENT).entry("apiVersion", 1).blank()
            .entry("providers", providers, value_indent=0))
    text = header_lines(plan.spec_file) + body.text()
    return Artifact(PATH, text, validate_dashboard_provider_file)
