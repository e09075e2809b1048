"""Checks from the data a target built equal checks from its text parsed back (``Artifact.document``).

An artifact written by ``obsgen.emit.artifacts.yaml_artifact``/``json_artifact`` carries the data the fast
writer serialised; ``generate.check_artifacts`` reads it instead of parsing the text. That must change nothing:

* the text parsed back is the document, type for type (so every check sees the same input), on hostile
  data (Hypothesis, the emitter tests' strategies) and on every artifact of every example spec;
* the strict-model diagnostics, the cross-artifact facts and the rule lint of every example spec are the same
  with the documents as with every text parsed back;
* data the writer cannot prove (tuples in JSON, a fallback to the reference dumper) carries no document.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given

from obsgen import targets as registry
from obsgen.emit.artifacts import Artifact, json_artifact, yaml_artifact
from obsgen.emit.readback import load_yaml
from obsgen.generate import check_artifacts, parse_artifact, parse_text, plan_spec
from tests.conftest import ROOT
from tests.test_emitters import SETTINGS, json_data, yaml_data

SPECS = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


def typed(value: object) -> object:
    """``value`` with every node tagged by its exact type: equal only when types and values are."""
    cls = type(value)
    if cls is dict:
        return (dict, [(typed(k), typed(v)) for k, v in value.items()])  # type: ignore[attr-defined]
    if cls is list or cls is tuple:
        return (cls, [typed(v) for v in value])  # type: ignore[attr-defined]
    if cls is float:
        return (float, repr(value))  # 0.0 and -0.0 differ
    return (cls, value)


def rendered(spec: Path) -> tuple[object, list[Artifact]]:
    result = plan_spec(spec, spec.name)
    assert result.plan is not None, [d.format() for d in result.diagnostics]
    return result.plan, [a for name in registry.names() for a in registry.load(name)(result.plan)]


def without_documents(artifacts: list[Artifact]) -> list[Artifact]:
    return [dataclasses.replace(a, document=None) for a in artifacts]


@SETTINGS
@given(yaml_data)
def test_a_yaml_document_is_what_its_text_reads_back_as(data: object) -> None:
    art = yaml_artifact("x.yaml", "# header\n\n", data)
    if art.document is not None:
        assert art.document is data
        assert typed(load_yaml(art.text)) == typed(data)


@SETTINGS
@given(json_data)
def test_a_json_document_is_what_its_text_reads_back_as(data: object) -> None:
    try:
        art = json_artifact("x.json", data)
    except (ValueError, TypeError):  # json.dumps refuses it (NaN, mixed keys): no artifact at all
        return
    if art.document is not None:
        assert typed(json.loads(art.text)) == typed(data)


def test_what_cannot_be_proven_carries_no_document() -> None:
    assert json_artifact("x.json", {"a": [1, (2, 3)]}).document is None  # reads back as a list
    assert json_artifact("x.json", {"a": [1, [2, 3]]}).document == {"a": [1, [2, 3]]}
    assert json_artifact("x.json", {"b": 1, "a": 2}).document is None  # read back in sorted order
    assert json_artifact("x.json", {"a": {"d": 1, "c": 2}}).document is None
    assert yaml_artifact("x.yaml", "", {"a": (1, 2)}).document is None  # the reference dumper wrote it
    assert yaml_artifact("x.yaml", "", {1: "a"}).document is None
    assert yaml_artifact("x.yaml", "", {"a": 1}).document == {"a": 1}
    with pytest.raises(ValueError, match="only comments"):
        yaml_artifact("x.yaml", "# ok\nkey: value\n", {"a": 1})


@pytest.mark.parametrize("spec", SPECS, ids=[s.stem for s in SPECS])
def test_checks_from_documents_equal_checks_from_parsed_text(spec: Path) -> None:
    plan, artifacts = rendered(spec)
    carrying = [a for a in artifacts if a.document is not None]
    for art in carrying:
        assert typed(parse_text(art)) == typed(parse_artifact(art)), art.path
    from_documents = check_artifacts(plan, artifacts, spec.name)  # type: ignore[arg-type]
    from_text = check_artifacts(plan, without_documents(artifacts), spec.name)  # type: ignore[arg-type]
    assert from_documents == from_text


def test_the_targets_that_write_plain_data_carry_it() -> None:
    """compose (every spec that gets one) and helm (kubernetes) opt in; a template's text never does."""
    paths = {a.path for spec in SPECS for a in rendered(spec)[1] if a.document is not None}
    assert "docker-compose.yaml" in paths
    assert any(p.startswith("helm/") for p in paths)
    templated = {"otel-collector/config.yaml", "tempo/tempo.yaml", "grafana/provisioning/datasources/datasources.yaml"}
    assert not paths & templated
