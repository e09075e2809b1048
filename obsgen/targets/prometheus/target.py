"""Prometheus rules target: ``prometheus/rules/*.yaml`` and their promtool unit tests.

Layout, per rule *shape* rather than per service (issue 15): ``recordings.yaml`` (generic
service/endpoint/edge recordings), ``services.yaml`` (the service and edge alerts, one rule each over every
service), ``slos.yaml`` (per SLO only its 5m SLI recordings and objective; one rule per window over every SLO;
one burn-rate alert pair per SLO shape), ``telemetry.yaml`` (pipeline health), and the declared series the
shared alerts and dashboards read by label: ``declared-services.yaml`` (one constant series per instrumented
service: name, team) and ``declared-calls.yaml`` (one per declared call). ``prometheus/tests/<same stem>.yaml``
holds the promtool tests of each file with alerts: per shape, on representative services, feeding the
declared series they need as input (rules.declared explains why the declared files are not loaded).
"""

from __future__ import annotations

from obsgen.emit.artifacts import Artifact, header_lines, yaml_artifact
from obsgen.emit.escape import yaml_comment
from obsgen.plan import Plan
from obsgen.targets.prometheus import config as prometheus_config
from obsgen.targets.prometheus.rules.common import dashboard_uid
from obsgen.targets.prometheus.rules.declared import declared_service_groups
from obsgen.targets.prometheus.rules.health import health_group
from obsgen.targets.prometheus.rules.model import RULES_DIR, TESTS_DIR, RuleFile
from obsgen.targets.prometheus.rules.recordings import declared_call_groups, recording_groups
from obsgen.targets.prometheus.rules.service import services_group
from obsgen.targets.prometheus.rules.slo import slo_groups
from obsgen.targets.prometheus.strict import check_rule_file, check_test_file
from obsgen.targets.prometheus.tests import loaded_with, test_document

__all__ = ["dashboard_uid", "render", "rule_files"]



def rule_files(plan: Plan) -> list[RuleFile]:
    """Every rule file of the plan, as data."""
    files = [RuleFile("recordings", recording_groups(plan))]
    if plan.instrumented:
        files.append(RuleFile("services", (services_group(plan),)))
    slos = slo_groups(plan)
    if slos:
        files.append(RuleFile("slos", slos))
    files.append(RuleFile("telemetry", (health_group(plan),)))
    services = declared_service_groups(plan)
    if services:
        # read by the shared alerts, whose tests feed the few series they need instead (rules.declared)
        files.append(RuleFile("declared-services", services, read_by_alerts=False,
                              note="The instrumented services, one constant series each with the labels their "
                                   "alerts route by; the service and SLO alerts read them by label."))
    declared = declared_call_groups(plan)
    if declared:
        files.append(RuleFile("declared-calls", declared, read_by_alerts=False,
                              note="The calls the spec declares, one constant series each; the overview "
                                   "dashboard compares them with the observed service graph and the edge "
                                   "alerts read them by label."))
    return files


def _comments(lines: list[str]) -> str:
    return "".join(f"# {yaml_comment(line)}\n" for line in lines)


def render(plan: Plan) -> list[Artifact]:
    """Rule files and promtool test files."""
    header = header_lines(plan.spec_file)
    files = rule_files(plan)
    out: list[Artifact] = []
    for rf, loaded in zip(files, loaded_with(files), strict=True):
        # yaml_artifact: the checks read the groups as built, the round-trip proven by emit/fast.py
        notes = (["Load with rule_files; promtool test rules ../tests/" + rf.stem + ".yaml checks the alerts."]
                 if rf.alerts else [rf.note])
        out.append(yaml_artifact(f"{RULES_DIR}/{rf.stem}.yaml", header + _comments(notes),
                                 {"groups": [g.data() for g in rf.groups]}, check_rule_file))
        tests = test_document(plan, rf, loaded)
        if tests is not None:
            notes = [f"promtool test rules {rf.stem}.yaml (run from this directory or any other)."]
            out.append(yaml_artifact(f"{TESTS_DIR}/{rf.stem}.yaml", header + _comments(notes), tests,
                                     check_test_file))
    # the server configuration that loads these files and scrapes what the telemetry alerts read
    out += prometheus_config.render(plan)
    return out
