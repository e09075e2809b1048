"""Local stack target: ``docker-compose.yaml`` that runs the rendered configs with the spec's stack.

The Collector (one, or a gateway and ``collector.replicas`` samplers), Tempo, Loki, Prometheus and Grafana,
each image pinned to the spec's ``stack:`` version and every rendered config mounted read-only at the path
its own header names; Grafana on localhost:3000 with anonymous admin access, opening the overview
dashboard. ``docker compose --profile traffic up`` adds ``obsgen traffic`` against the Collector.

Every host name the configs use resolves to a compose service (aliases: ``addresses``). A spec whose
configs cannot run under compose as rendered (Tempo's distributed mode, the gateway's ``k8s`` resolver,
TLS or IP-address backends) gets no compose file: ``addresses.obstacle`` says why, and
``omissions`` reports it as a warning (OBS330) unless the spec chose a Kubernetes-only layout.
"""

from __future__ import annotations

import re

from obsgen.emit.artifacts import Artifact, header_lines, yaml_artifact
from obsgen.emit.escape import yaml_comment
from obsgen.plan import Plan
from obsgen.targets.compose import services
from obsgen.targets.compose.addresses import addresses, why_not_runnable
from obsgen.targets.compose.interpolation import escaped
from obsgen.targets.compose.strict import check_compose

PATH = "docker-compose.yaml"


def project_name(plan: Plan) -> str:
    """Compose project name: lowercase letters, digits, ``-`` and ``_``, starting with a letter or digit."""
    return "obsgen-" + (re.sub(r"[^a-z0-9_-]+", "-", plan.name.lower()).strip("-_") or "stack")


def document(plan: Plan) -> dict[str, object]:
    """The compose file as data, escaped."""
    data = escaped({"name": project_name(plan), "services": services.services(plan)})
    assert isinstance(data, dict)
    return data


def notes(plan: Plan) -> list[str]:
    """Header comment: how to start it, and which host names are aliases of which service."""
    lines = [
        "Local stack: docker compose -f docker-compose.yaml up   (Grafana: http://localhost:3000)",
        "With synthetic traffic: docker compose -f docker-compose.yaml --profile traffic up",
        "Host names the rendered configs use, and the service that answers each:",
    ]
    seen: set[tuple[str, int]] = set()
    for address in addresses(plan):
        if (address.host, address.port) not in seen:
            seen.add((address.host, address.port))
            lines.append(f"  {address.host}:{address.port} -> {address.service} ({address.used_by})")
    return lines


def render(plan: Plan) -> list[Artifact]:
    """The compose file, or nothing when the configs cannot run under compose (see the module docstring)."""
    if why_not_runnable(plan) is not None:
        return []
    comments = "".join(f"# {yaml_comment(line)}\n" for line in notes(plan))
    return [yaml_artifact(PATH, header_lines(plan.spec_file) + comments + "\n", document(plan), check_compose)]
