"""The core service: spec file -> diagnostics, plan, artifacts. The CLI is a thin shell around it."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from obsgen.artifacts import Artifact
from obsgen.diagnostics import Diagnostic, Severity, sort_key
from obsgen.plan import Plan, build_plan
from obsgen.spec import semantic
from obsgen.spec.errors import diagnostics_from_validation
from obsgen.spec.loader import LoadedSpec, LoadError, load_file
from obsgen.spec.models import Spec


@dataclass
class Result:
    """What a run produced. ``artifacts`` is empty when any error diagnostic exists."""

    spec_path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    plan: Plan | None = None
    artifacts: list[Artifact] = field(default_factory=list)
    loaded: LoadedSpec | None = None
    parsed: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not any(d.is_error for d in self.diagnostics)

    def sorted_diagnostics(self) -> list[Diagnostic]:
        """Diagnostics in a stable order."""
        return sorted(self.diagnostics, key=sort_key)


def load_spec(path: Path, display: str | None = None) -> tuple[LoadedSpec | None, Spec | None, list[Diagnostic]]:
    """Read, parse and check a spec: (loaded data, model, diagnostics)."""
    try:
        loaded = load_file(path, display)
    except LoadError as exc:
        return None, None, [exc.diagnostic]
    try:
        spec = Spec.model_validate(loaded.data)
    except ValidationError as exc:
        return loaded, None, diagnostics_from_validation(exc, loaded)
    return loaded, spec, semantic.check(spec, loaded)


def plan_spec(path: Path, display: str | None = None) -> Result:
    """Validate a spec and, when it has no errors, build its plan."""
    result = Result(path)
    loaded, spec, diags = load_spec(path, display)
    result.loaded = loaded
    result.diagnostics.extend(diags)
    if spec is None or loaded is None or not result.ok:
        return result
    result.plan = build_plan(spec, default_name=path.stem, spec_file=path.name)
    result.diagnostics.extend(budget_diagnostics(result.plan, loaded))
    return result


def budget_diagnostics(plan: Plan, loaded: LoadedSpec) -> list[Diagnostic]:
    """OBS503 when the expected active series exceed the spec's budget, naming the biggest contributors."""
    from obsgen.cardinality import estimate

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


def generate(path: Path, display: str | None = None, targets: list[str] | None = None) -> Result:
    """Validate, plan and render every target in memory; artifacts are checked by their strict models."""
    from obsgen import targets as registry

    result = plan_spec(path, display)
    if result.plan is None:
        return result
    with _fewer_collections():
        artifacts: list[Artifact] = []
        for name in targets if targets is not None else registry.names():
            artifacts.extend(registry.load(name)(result.plan))
        _check_artifacts(result, artifacts, display or str(path))
    if result.ok:
        from obsgen.output import manifest_artifact

        artifacts.sort(key=lambda a: a.path)
        _reject_duplicates(artifacts)
        result.artifacts = [*artifacts, manifest_artifact(artifacts, result.plan.spec_file)]
    return result


def _check_artifacts(result: Result, artifacts: list[Artifact], display: str) -> None:
    """Parse every artifact back, run its strict model and rule lint, then the cross-artifact checks.

    Each parsed document is reduced to the facts the cross-artifact checks need and dropped at once;
    only rule files stay parsed (``Result.parsed``), for the series estimate ``validate`` prints.
    """
    from obsgen import crosscheck
    from obsgen.spec import rule_lint

    assert result.plan is not None
    facts: list[crosscheck.Facts] = []
    for art in artifacts:
        doc = parse_artifact(art)
        result.diagnostics.extend(check_artifact(art, doc, display))
        if art.path.startswith(_CHECKED_ONLY):
            continue
        facts.append(crosscheck.extract(result.plan, art, doc))
        if art.path.startswith(_RULES_DIR):
            result.parsed[art.path] = doc
            result.diagnostics.extend(rule_lint.lint_rule_file(doc, art.path))
    if result.ok:
        result.diagnostics.extend(crosscheck.check(result.plan, facts, result.loaded, display))


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic GC rarely while rendering.

    A large render allocates millions of small objects that live until it ends (plan, artifact text,
    parsed YAML); with the default threshold of 700 allocations the collector rescans them thousands
    of times, which was ~40% of a 1,000-service render. The data has no reference cycles to free.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 100_000), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _reject_duplicates(artifacts: list[Artifact]) -> None:
    paths = [a.path for a in artifacts]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise AssertionError(f"two targets produced the same file: {dupes}")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def rule_documents(parsed: dict[str, object]) -> dict[str, object]:
    """The parsed Prometheus rule files among a render's artifacts, by path."""
    return {path: doc for path, doc in parsed.items() if path.startswith(_RULES_DIR)}


def parse_artifact(artifact: Artifact) -> object:
    """Parse an artifact back the way its consumer will (YAML or JSON)."""
    if artifact.format == "json":
        return json.loads(artifact.text)
    if artifact.format == "yaml":
        return yaml.load(artifact.text, Loader=_YAML_LOADER)  # a safe loader (libyaml when available)
    return artifact.text


# Artifacts no cross-artifact check reads (promtool unit tests are most of a large render's bytes).
_CHECKED_ONLY = ("prometheus/tests/",)
_RULES_DIR = "prometheus/rules/"


def check_artifact(art: Artifact, doc: object, display: str) -> list[Diagnostic]:
    """Run an artifact's strict model on its parsed form; a violation is a defect reported as OBS705."""
    out: list[Diagnostic] = []
    if art.checker is not None:
        for err in art.checker(doc):
            out.append(Diagnostic("OBS705", f"{art.path}: {err}", file=display,
                                  hint="obsgen rendered a config its target tool would reject; please report it"))
    return out
