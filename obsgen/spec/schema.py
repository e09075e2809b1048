"""The spec's JSON Schema, generated from the models (committed as specs/obsgen.schema.json)."""

from __future__ import annotations

import json

from obsgen.spec.models import Spec

SCHEMA_ID = "https://obsgen.dev/schema/spec-v1.json"


def schema() -> dict[str, object]:
    """The JSON Schema of a spec, as editors (yaml-language-server) consume it."""
    from obsgen.spec.field_docs import document_fields

    document_fields()  # the descriptions are read from the models' docstrings only when asked for
    doc = Spec.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["$id"] = SCHEMA_ID
    doc["title"] = "obsgen spec"
    return doc


def schema_text() -> str:
    """The schema as deterministic JSON text."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
