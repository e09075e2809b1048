"""The Kubernetes object obsgen writes directly (``helm/prometheus-rule.yaml``) against pinned Kubernetes data.

The chart values go through the charts' own schemas (test_helm.py); the PrometheusRule is applied with
``kubectl apply`` as written, so its metadata must be what the API server takes. The proof is the
ObjectMeta schema of Kubernetes v1.34.2's OpenAPI v3 document (k8s.io/kubernetes
``api/openapi-spec/v3/api__v1_openapi.json``, extracted with what it references into
``tests/k8s/objectmeta-v1.34.2.json`` by ``tests/k8s/extract_objectmeta.py``), with unknown fields refused
as kubectl's default ``--validate=strict`` server-side field validation does; apiVersion and kind against
the CRD (group, served version, kind).
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from obsgen.generate import generate
from obsgen.targets.helm import names
from tests import upstream

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "tests" / "specs" / "kubernetes.yaml"
K8S_VERSION = "v1.34.2"
OBJECT_META = ROOT / "tests" / "k8s" / f"objectmeta-{K8S_VERSION}.json"
OBJECT_META_REF = "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
RULE_CRD = "monitoring.coreos.com_prometheusrules.crd.yaml"


def _strict(schema: object) -> object:
    """Object schemas with declared properties refuse other keys (strict field validation)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out:
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.cache
def _meta_document() -> dict:
    return json.loads(OBJECT_META.read_text())


def _meta_validator() -> jsonschema.Validator:
    # The $ref resolves inside the extracted document: it keeps the OpenAPI components/schemas layout.
    document = _strict(_meta_document())
    assert isinstance(document, dict)
    return jsonschema.Draft7Validator({**document, "$ref": OBJECT_META_REF}, format_checker=jsonschema.FormatChecker())


@functools.cache
def _rule_text() -> str:
    result = generate(SPEC)
    assert result.ok, [d.format() for d in result.diagnostics]
    [text] = [a.text for a in result.artifacts if a.path == names.PROMETHEUS_RULE]
    return text


def _rule() -> dict:
    return copy.deepcopy(yaml.safe_load(_rule_text()))


def _errors(metadata: object) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in _meta_validator().iter_errors(metadata)]


def test_the_extracted_schema_is_the_pinned_object_meta() -> None:
    source = _meta_document()["x-obsgen-source"]
    assert source["module"] == f"k8s.io/kubernetes@{K8S_VERSION}"
    assert source["path"] == "api/openapi-spec/v3/api__v1_openapi.json"
    schemas = _meta_document()["components"]["schemas"]
    meta = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
    assert {"name", "namespace", "labels", "annotations", "ownerReferences", "managedFields"} <= set(meta["properties"])
    assert meta["properties"]["labels"]["additionalProperties"]["type"] == "string"


def test_the_prometheus_rule_metadata_validates_against_kubernetes_object_meta() -> None:
    rule = _rule()
    assert rule["metadata"]["name"] and rule["metadata"]["namespace"]
    assert rule["metadata"].get("labels"), "the example spec sets rule labels, so they are checked too"
    assert _errors(rule["metadata"]) == []


@pytest.mark.parametrize(("change", "path"), [
    (lambda m: m.update(lables={"a": "b"}), []),                      # unknown field: strict validation refuses
    (lambda m: m["labels"].update(port=9090), ["labels", "port"]),   # label values are strings
    (lambda m: m.update(name=["x"]), ["name"]),
    (lambda m: m.update(generation="1"), ["generation"]),
])
def test_the_object_meta_check_can_fail(change: object, path: list[str]) -> None:
    metadata = _rule()["metadata"]
    change(metadata)  # type: ignore[operator]
    errors = list(_meta_validator().iter_errors(metadata))
    assert errors and [list(e.absolute_path) for e in errors] == [path], errors


def test_api_version_and_kind_are_the_crds() -> None:
    crd = yaml.safe_load(upstream.path("helm", RULE_CRD).read_text())
    served = [v["name"] for v in crd["spec"]["versions"] if v.get("served")]
    rule = _rule()
    group, _, version = rule["apiVersion"].partition("/")
    assert group == crd["spec"]["group"] and version in served
    assert rule["kind"] == crd["spec"]["names"]["kind"]
    assert set(rule) == {"apiVersion", "kind", "metadata", "spec"}
