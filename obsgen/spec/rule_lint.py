"""Rule-quality lint over rendered Prometheus rule groups, in the spirit of ``mixtool lint``.

It reads rule files as data (what ``obsgen render`` produced, parsed back), so it judges exactly
what Prometheus will load. Codes: OBS600 alert name not CamelCase, OBS601 no summary annotation,
OBS602 severity label missing or unknown, OBS603 rule group over the size limit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from obsgen.diagnostics import Diagnostic, Severity
from obsgen.plan import naming

CAMEL_CASE_RE = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
"""Upper-case first letter, letters and digits only (acronyms allowed: ``SLOErrorBudgetBurn``)."""
MAX_RULES_PER_GROUP = 100
"""A group evaluates its rules one after another within one interval; big groups miss their slot."""


def lint_rule_file(doc: object, file: str, *, max_rules: int = MAX_RULES_PER_GROUP,
                   severities: tuple[str, ...] = naming.SEVERITIES) -> list[Diagnostic]:
    """Lint one parsed rule file (``{"groups": [...]}``); ``file`` is reported as the location."""
    out: list[Diagnostic] = []
    groups = doc.get("groups") if isinstance(doc, Mapping) else None
    if not isinstance(groups, list):
        return out
    for gi, group in enumerate(groups):
        if not isinstance(group, Mapping):
            continue
        rules = group.get("rules") if isinstance(group.get("rules"), list) else []
        gname = str(group.get("name", gi))
        if len(rules) > max_rules:
            out.append(Diagnostic(
                "OBS603", f"rule group {gname!r} has {len(rules)} rules (limit {max_rules})",
                severity=Severity.WARNING, file=file, path=f"groups[{gi}]",
                hint="split it: a group's rules run sequentially and must finish within one interval",
            ))
        for ri, rule in enumerate(rules):
            if isinstance(rule, Mapping) and "alert" in rule:
                out.extend(_lint_alert(rule, file, f"groups[{gi}].rules[{ri}]", severities))
    return out


def _lint_alert(rule: Mapping, file: str, path: str, severities: tuple[str, ...]) -> list[Diagnostic]:
    out = []
    name = str(rule.get("alert"))
    if not CAMEL_CASE_RE.match(name):
        out.append(Diagnostic("OBS600", f"alert name {name!r} is not CamelCase", file=file, path=f"{path}.alert",
                              hint="write names like KubeAPIDown: they are grepped, routed and linked to runbooks"))
    annotations = rule.get("annotations") if isinstance(rule.get("annotations"), Mapping) else {}
    summary = annotations.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        out.append(Diagnostic("OBS601", f"alert {name!r} has no summary annotation", file=file,
                              path=f"{path}.annotations", hint="add a one-line summary for notifications"))
    labels = rule.get("labels") if isinstance(rule.get("labels"), Mapping) else {}
    severity = labels.get(naming.SEVERITY_LABEL)
    if severity not in severities:
        shown = "no severity label" if severity is None else f"unknown severity {severity!r}"
        out.append(Diagnostic("OBS602", f"alert {name!r} has {shown}", file=file, path=f"{path}.labels",
                              hint=f"use one of: {', '.join(severities)}"))
    return out


def lint_rule_files(docs: Mapping[str, object], **options: object) -> list[Diagnostic]:
    """Lint several parsed rule files, keyed by path (in sorted path order, for stable output)."""
    out: list[Diagnostic] = []
    for path in sorted(docs):
        out.extend(lint_rule_file(docs[path], path, **options))  # type: ignore[arg-type]
    return out


def lint_artifacts(artifacts: list[object]) -> list[Diagnostic]:
    """Lint the rule files among rendered artifacts (``prometheus/rules/*.yaml``); for ``validate``."""
    import yaml

    docs = {
        a.path: yaml.safe_load(a.text)  # type: ignore[attr-defined]
        for a in artifacts
        if getattr(a, "path", "").startswith("prometheus/rules/") and a.path.endswith(".yaml")  # type: ignore[attr-defined]
    }
    return lint_rule_files(docs)
