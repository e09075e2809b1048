"""The core service: spec file -> diagnostics, plan, artifacts. The CLI is a thin shell around it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from obsgen.diagnostics import Diagnostic, Severity, sort_key
from obsgen.emit.artifacts import Artifact
from obsgen.emit.escape import UnsafeText
from obsgen.plan import Plan, build_plan
from obsgen.spec import filename, retention, semantic, traffic_slos, urls
from obsgen.spec.errors import diagnostics_from_validation
from obsgen.spec.loader import LoadedSpec, LoadError, load_file
from obsgen.spec.models import Spec

if TYPE_CHECKING:
    from obsgen.check import crosscheck

# The checks' modules are imported where used: the commands that only plan (sampling, traffic, init's check)
# never load them.


@dataclass
class Result:
    """What a run produced. ``artifacts`` is empty when any error diagnostic exists."""

    spec_path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    artifacts: list[Artifact] = field(default_factory=list)
    loaded: LoadedSpec | None = None
    facts: list[crosscheck.Facts] = field(default_factory=list)
    """What the cross-artifact checks read from each artifact (not the promtool tests)."""

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(d.is_error for d in self.diagnostics)

    def sorted_diagnostics(self) -> list[Diagnostic]:
        """Diagnostics in a stable order."""
        return sorted(self.diagnostics, key=sort_key)


def load_spec(path: Path, display: str | None = None,
              data: bytes | None = None) -> tuple[LoadedSpec | None, Spec | None, list[Diagnostic]]:
    """Read (unless ``data`` holds its bytes), parse and check a spec: (loaded data, model, diagnostics)."""
    try:
        loaded = load_file(path, display, data)
    except LoadError as exc:
        return None, None, [exc.diagnostic]
    try:
        spec = Spec.model_validate(loaded.data)
    except ValidationError as exc:
        return loaded, None, diagnostics_from_validation(exc, loaded)
    return loaded, spec, (filename.check(path, spec, loaded) + urls.check(spec, loaded) + semantic.check(spec, loaded)
                          + retention.check(spec, loaded))


def plan_spec(path: Path, display: str | None = None, data: bytes | None = None) -> Result:
    """Validate a spec (``data``: its bytes, when the caller read them) and, without errors, build its plan and
    check the plan against the spec's own traffic model (OBS426)."""
    result = Result(path)
    loaded, spec, diags = load_spec(path, display, data)
    result.loaded = loaded
    result.diagnostics.extend(diags)
    if spec is None or loaded is None or not result.ok:
        return result
    result.plan = build_plan(spec, default_name=path.stem, spec_file=path.name)
    result.diagnostics.extend(budget_diagnostics(result.plan, loaded))
    result.diagnostics.extend(traffic_slos.check(spec, loaded))
    return result


def budget_diagnostics(plan: Plan, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS503 when the expected active series exceed the spec's budget, naming the biggest contributors."""
    from obsgen.plan.cardinality import estimate

    budget = plan.spec.span_metrics.series_budget
    if budget is None:
        return []
    est = estimate(plan)
    if est.total <= budget:
        return []
    line, col = loaded.where(("span_metrics", "series_budget"))
    biggest = ", ".join(f"{name} ({count:,})" for name, count in est.biggest())
    return [Diagnostic(
        "OBS503", f"expected {est.total:,} active series, over the budget of {budget:,}; biggest: {biggest}",
        Severity.WARNING, loaded.file, line, col, "span_metrics.series_budget",
        hint=f"each dimension multiplies every service's series (dimensions x{est.dimension_factor:,} now); "
             "drop a dimension or declare fewer values",
    )]


def generate(path: Path, display: str | None = None, targets: list[str] | None = None,
             data: bytes | None = None) -> Result:
    """Validate, plan and render every target in memory; artifacts are checked by their strict models.

    ``data``: the spec's bytes when the caller already read them (the result cache keys on them, so
    exactly those bytes must be rendered, whatever the file holds by now).
    """
    from obsgen import targets as registry

    result = plan_spec(path, display, data)
    plan = result.plan
    if plan is None:
        return result
    shown = display or str(path)
    names = targets if targets is not None else registry.names()
    try:
        return _generate(result, plan, shown, names)
    except UnsafeText as exc:  # the spec checks should have refused this text where it was written
        result.diagnostics.append(Diagnostic("OBS705", f"spec text cannot be written safely: {exc}", file=shown,
                                             hint="a spec check let this text through; please report it"))
        return result


def _generate(result: Result, plan: Plan, shown: str, names: list[str]) -> Result:
    """Render and check every target of ``names``."""
    from obsgen import targets as registry

    artifacts = [a for n in names for a in registry.load(n)(plan)]
    checked = check_artifacts(plan, artifacts, shown)
    result.diagnostics += checked.diagnostics
    if "compose" in names and result.loaded is not None:  # a target leaves nothing out without saying so
        from obsgen.targets.compose import omissions

        result.diagnostics += omissions.diagnostics(plan, result.loaded)
    result.facts = checked.facts
    if result.ok:  # artifacts the tools would reject make cross-checks and lint noise
        from obsgen.check import crosscheck

        result.diagnostics += crosscheck.check(plan, result.facts, result.loaded, shown)
        result.diagnostics += checked.lint
    if result.ok:
        from obsgen.output import manifest_artifact

        artifacts.sort(key=lambda a: a.path)
        _reject_duplicates(artifacts)
        result.artifacts = [*artifacts, manifest_artifact(artifacts, plan.spec_file)]
    return result


@dataclass
class Checked:
    """What checking some artifacts found: strict-model diagnostics, the facts the cross-artifact
    checks read, and rule-lint diagnostics (reported only when every artifact passed its strict model)."""

    diagnostics: list[Diagnostic]
    facts: list[crosscheck.Facts]
    lint: list[Diagnostic]


def check_artifacts(plan: Plan, artifacts: list[Artifact], display: str) -> Checked:
    """Parse each artifact back, run its strict model and (rule files) the rule lint, keep its facts.

    Each parsed document is reduced to the facts the cross-artifact checks need and dropped at once,
    so a large render never holds all of them.
    """
    from obsgen.check import crosscheck
    from obsgen.spec import rule_lint

    checked_only, rules_prefix = _rule_paths()
    checked = Checked([], [], [])
    for art in artifacts:
        try:
            doc = parse_artifact(art)
        except (ValueError, yaml.YAMLError) as exc:  # text that escaped its sink's escaping: a defect, not a traceback
            checked.diagnostics.append(_unparsable(art, exc, display))
            continue
        checked.diagnostics += check_artifact(art, doc, display)
        if art.path.startswith(checked_only):
            continue
        checked.facts.append(crosscheck.extract(plan, art, doc))
        if art.path.startswith(rules_prefix):
            checked.lint += rule_lint.lint_rule_file(doc, art.path)
    return checked


def _reject_duplicates(artifacts: list[Artifact]) -> None:
    dupes = sorted(p for p, n in Counter(a.path for a in artifacts).items() if n > 1)
    if dupes:
        raise AssertionError(f"two targets produced the same file: {dupes}")


def rule_selectors(facts: list[crosscheck.Facts]) -> list[crosscheck.Selector]:
    """Every vector selector of every Prometheus rule a render wrote, in file order."""
    rules_prefix = _rule_paths()[1]
    return [sel for f in facts if f.path.startswith(rules_prefix) for q in f.queries for sel in q.selectors]


def parse_artifact(artifact: Artifact) -> object:
    """Parse an artifact back the way its consumer will (YAML or JSON), or take the document it carries
    when the writer proved that parsing gives exactly that (``Artifact.document``)."""
    if artifact.document is not None:
        return artifact.document
    return parse_text(artifact)


def parse_text(artifact: Artifact) -> object:
    """Parse an artifact's text back the way its consumer will (YAML or JSON)."""
    if artifact.format == "json":
        return json.loads(artifact.text)
    if artifact.format == "yaml":
        from obsgen.emit.readback import load_yaml

        return load_yaml(artifact.text)  # the safe loader's result (libyaml when available)
    return artifact.text


def _rule_paths() -> tuple[str, str]:
    """(prefix of the artifacts no cross-artifact check reads: promtool unit tests, most of a large render's
    bytes; prefix of the rule files)."""
    from obsgen.targets.prometheus.rules.model import RULES_DIR, TESTS_DIR

    return f"{TESTS_DIR}/", f"{RULES_DIR}/"


def _unparsable(art: Artifact, exc: Exception, display: str) -> Diagnostic:
    first = str(exc).strip().split("\n")[0]
    return Diagnostic("OBS705", f"{art.path}: does not parse back: {first}", file=display,
                      hint="obsgen rendered a file its own parser cannot read; please report it")


def check_artifact(art: Artifact, doc: object, display: str) -> list[Diagnostic]:
    """Run an artifact's strict model on its parsed form; a violation is a defect reported as OBS705."""
    out: list[Diagnostic] = []
    if art.checker is not None:
        for err in art.checker(doc):
            out.append(Diagnostic("OBS705", f"{art.path}: {err}", file=display,
                                  hint="obsgen rendered a config its target tool would reject; please report it"))
    return out
