"""The committed JSON Schema and spec reference are generated from the models and must not be stale."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from obsgen.spec.docs import spec_docs
from obsgen.spec.models import Spec
from obsgen.spec.schema import schema_text
from tests.conftest import ROOT

EXAMPLES = [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))]


def test_committed_schema_is_current() -> None:
    committed = (ROOT / "specs" / "obsgen.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "specs/obsgen.schema.json is stale: run `obsgen schema -o <it>`"


def test_committed_docs_are_current() -> None:
    committed = (ROOT / "docs" / "spec.md").read_text(encoding="utf-8")
    assert committed == spec_docs(), "docs/spec.md is stale: run `obsgen docs -o docs/spec.md`"


def test_docs_mention_every_field() -> None:
    text = spec_docs()
    for info_name, info in Spec.model_fields.items():
        assert f"`{info.alias or info_name}`" in text


@pytest.mark.parametrize("spec", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_validate_against_schema_and_reference_it(spec: Path) -> None:
    text = spec.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema="), "each spec references the schema on line 1"
    target = (spec.parent / first.split("$schema=", 1)[1]).resolve()
    assert target == (ROOT / "specs" / "obsgen.schema.json").resolve()
    schema = json.loads(target.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(text), schema)


def test_schema_rejects_unknown_key() -> None:
    schema = json.loads((ROOT / "specs" / "obsgen.schema.json").read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"services": {"api": {}}, "servces": {}}, schema)
