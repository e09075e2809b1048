"""Which label names reach Prometheus for span attributes, per span-metrics source, whatever the Prometheus major.

Prometheus 3 accepts UTF-8 names, but neither producer sends them the way obsgen configures it: the Collector's
prometheusremotewrite exporter escapes unless ``translation_strategy`` asks for UTF-8, and Tempo always
sanitises. The expected names below are worked out by hand from upstream, not from obsgen.naming:
prometheus/otlptranslator v1.0.0 ``LabelNamer.Build`` with the exporter's default settings (contrib v0.159.0
``pkg/translator/prometheusremotewrite/metrics_to_prw.go``), and prometheus ``util/strutil.SanitizeLabelName``
for Tempo.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from obsgen import naming
from obsgen.generate import generate
from tests.conftest import ROOT

LEGACY_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@pytest.mark.parametrize(("attribute", "collector", "tempo"), [
    ("http.request.method", "http_request_method", "http_request_method"),
    ("http.response.status_code", "http_response_status_code", "http_response_status_code"),
    ("country", "country", "country"),
    ("order__type", "order_type", "order__type"),  # the exporter collapses runs of non-alphanumerics
    ("app._tier", "app_tier", "app__tier"),
    ("_tier", "key_tier", "_tier"),  # ... and prefixes "key" to a name that starts with one "_"
    ("__meta__", "__meta__", "__meta__"),  # reserved __x__ names keep their underscores
])  # fmt: skip
def test_dimension_label_names_per_source(attribute: str, collector: str, tempo: str) -> None:
    assert naming.label_from_attribute(attribute, "collector") == collector
    assert naming.label_from_attribute(attribute, "tempo") == tempo
    assert LEGACY_LABEL.match(collector) and LEGACY_LABEL.match(tempo)


@pytest.mark.parametrize("spec", [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))],
                         ids=lambda p: Path(p).stem)
def test_remote_write_exporter_keeps_the_escaping_translation(spec: Path) -> None:
    """No rendered remote-write exporter asks for UTF-8 names (NoUTF8EscapingWithSuffixes, NoTranslation), which
    Prometheus 3 would store as dotted names that none of the rules read."""
    result = generate(spec, targets=["collector"])
    assert result.ok
    exporters = []
    for artifact in result.artifacts:
        if artifact.path.endswith(".yaml"):
            doc = yaml.safe_load(artifact.text)
            exporters += [cfg or {} for name, cfg in (doc.get("exporters") or {}).items()
                          if name.split("/")[0] in ("prometheus_remote_write", "prometheusremotewrite")]
    source = (yaml.safe_load(spec.read_text()).get("span_metrics") or {}).get("source", "collector")
    assert exporters or source == "tempo"
    for cfg in exporters:
        assert cfg.get("translation_strategy", "UnderscoreEscapingWithSuffixes").startswith("UnderscoreEscaping")
        assert cfg.get("add_metric_suffixes", True) is True


def test_plan_names_dimension_labels_as_its_source_does(tmp_path: Path) -> None:
    spec = tmp_path / "dims.yaml"
    body = ("attributes:\n  app._tier: {type: string}\nspan_metrics:\n  source: {source}\n"
            "  dimensions: [app._tier]\nservices: {{api: {{}}}}\n")
    for source, label in (("collector", "app_tier"), ("tempo", "app__tier")):
        spec.write_text(body.replace("{source}", source).replace("{{", "{").replace("}}", "}"))
        result = generate(spec, targets=["rules"])
        assert result.ok, [d.format() for d in result.diagnostics]
        assert result.plan is not None and result.plan.dimension_labels() == (label,)
