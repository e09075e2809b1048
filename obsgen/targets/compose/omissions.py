"""What the local stack leaves out because of spec text, as positioned warnings (OBS330).

The compose target is pure: when a value of the spec cannot be carried into ``docker-compose.yaml`` it
writes less (no compose file, or no Grafana home-dashboard setting) rather than a stack that would not
run. Left at that, the file or the setting would just be missing. Each omission is reported here, at the
spec field that caused it, with what was left out and why.

A spec that chose a layout only Kubernetes runs (Tempo's distributed mode, the gateway's ``k8s``
resolver) gets no compose file either, but by design: helm/ is its stack, and a warning on every
validation of such a spec would only make ``--strict`` fail.
"""

from __future__ import annotations

from typing import NamedTuple

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.plan import Plan
from obsgen.spec.loader import LoadedSpec
from obsgen.targets.compose.addresses import GRAFANA, Field, obstacle
from obsgen.targets.compose.services import HOME_DASHBOARD_SETTING, home_dashboard
from obsgen.targets.compose.target import PATH

CODE = "OBS330"
DASHBOARDS_PATH: Field = ("backends", "grafana", "dashboards_path")

OMITTED = "omitted"
SETTING = "setting"
"""Keys of ``Diagnostic.extra``: the artifact concerned, and (when only a setting of it was left out) the
dotted path of that setting in the file's data; without ``setting`` the whole file was left out."""


class Omission(NamedTuple):
    """A file, or a setting of one, the compose target left out; ``setting`` is dotted, "" for the file."""

    file: str
    setting: str
    reason: str
    field: Field
    hint: str


def omissions(plan: Plan) -> list[Omission]:
    """What the compose target leaves out of this spec's render because of its text."""
    found = obstacle(plan)
    if found is not None:
        if found.kubernetes_layout:
            return []
        return [Omission(PATH, "", found.reason, found.field,
                         "every other file is rendered; the local stack runs plain http backends, each named by "
                         "a DNS host name of its own (README: Try it locally)")]
    if home_dashboard(plan) is None:
        return [Omission(
            PATH, f"services.{GRAFANA}.environment.{HOME_DASHBOARD_SETTING}",
            "the path holds ${...} or $__name{...}, which Grafana expands in every setting and has no escape for",
            DASHBOARDS_PATH, "Grafana opens its own home page instead of the overview dashboard; "
                             "a dashboards_path without '${' or '$__' keeps it",
        )]
    return []


def diagnostics(plan: Plan, loaded: LoadedSpec) -> list[Diagnostic]:
    """One warning per omission, at the spec field that caused it."""
    out = []
    for omission in omissions(plan):
        line, column = loaded.where(omission.field)
        what = f"{omission.setting} in {omission.file}" if omission.setting else omission.file
        extra = {OMITTED: omission.file, **({SETTING: omission.setting} if omission.setting else {})}
        out.append(Diagnostic(CODE, f"no {what}: {omission.reason}", Severity.WARNING, loaded.file, line, column,
                              ".".join(omission.field), omission.hint, extra))
    return out
