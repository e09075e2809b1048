"""Prometheus rules target: ``prometheus/rules/*.yaml`` and their promtool unit tests.

Layout: ``recordings.yaml`` (generic service/endpoint/edge recordings), one
``service-<slug>.yaml`` per instrumented service (its RED, span-metrics and edge alerts, and one
group per SLO with the SLI recordings and burn-rate alerts), ``telemetry.yaml`` (pipeline health),
``declared-calls.yaml`` (a constant series per declared call, for the overview dashboard).
``prometheus/tests/<same stem>.yaml`` holds the promtool tests of each file with alerts.
"""

from __future__ import annotations

from obsgen.emit.artifacts import Artifact, header_lines
from obsgen.emit.templates import render_template
from obsgen.plan import Plan
from obsgen.targets.prometheus import config as prometheus_config
from obsgen.targets.prometheus.rules.common import dashboard_uid
from obsgen.targets.prometheus.rules.health import health_group
from obsgen.targets.prometheus.rules.model import RULES_DIR, TESTS_DIR, RuleFile
from obsgen.targets.prometheus.rules.recordings import declared_call_groups, recording_groups
from obsgen.targets.prometheus.rules.service import service_group
from obsgen.targets.prometheus.rules.slo import slo_group
from obsgen.targets.prometheus.strict import check_rule_file, check_test_file
from obsgen.targets.prometheus.tests import loaded_with, test_document

__all__ = ["dashboard_uid", "render", "rule_files"]



def rule_files(plan: Plan) -> list[RuleFile]:
    """Every rule file of the plan, as data."""
    files = [RuleFile("recordings", recording_groups(plan))]
    for service in plan.instrumented:
        groups = (service_group(plan, service), *(slo_group(plan, service, slo) for slo in service.slos))
        files.append(RuleFile(f"service-{service.slug}", groups))
    files.append(RuleFile("telemetry", (health_group(plan),)))
    declared = declared_call_groups(plan)
    if declared:
        files.append(RuleFile("declared-calls", declared, read_by_alerts=False,
                              note="The calls the spec declares, one constant series each; the overview "
                                   "dashboard compares them with the observed service graph."))
    return files


def render(plan: Plan) -> list[Artifact]:
    """Rule files and promtool test files."""
    header = header_lines(plan.spec_file)
    files = rule_files(plan)
    out: list[Artifact] = []
    for rf, loaded in zip(files, loaded_with(files), strict=True):
        body = render_template(
            "prometheus/rules.yaml.j2",
            notes=["Load with rule_files; promtool test rules ../tests/" + rf.stem + ".yaml checks the alerts."]
            if rf.alerts else [rf.note],
            document={"groups": [g.data() for g in rf.groups]},
        )
        out.append(Artifact(f"{RULES_DIR}/{rf.stem}.yaml", header + body, check_rule_file))
        tests = test_document(plan, rf, loaded)
        if tests is not None:
            body = render_template(
                "prometheus/tests.yaml.j2",
                notes=[f"promtool test rules {rf.stem}.yaml (run from this directory or any other)."],
                document=tests,
            )
            out.append(Artifact(f"{TESTS_DIR}/{rf.stem}.yaml", header + body, check_test_file))
    # the server configuration that loads these files and scrapes what the telemetry alerts read
    out += prometheus_config.render(plan)
    return out
