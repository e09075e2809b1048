"""Which label names reach Prometheus for span attributes, per span-metrics source, whatever the Prometheus major.

Prometheus 3 accepts UTF-8 names, but neither producer sends them the way obsgen configures it: the Collector's
prometheusremotewrite exporter escapes unless ``translation_strategy`` asks for UTF-8, and Tempo always
sanitises. The expected names below are worked out by hand from upstream, not from obsgen.plan.naming:
prometheus/otlptranslator v1.0.0 ``LabelNamer.Build`` with each exporter's default settings (contrib v0.159.0
``pkg/translator/prometheusremotewrite/metrics_to_prw.go``, ``exporter/prometheusexporter/collector.go``), and
prometheus ``util/strutil.SanitizeLabelName`` for Tempo.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from obsgen.generate import generate
from obsgen.plan import naming
from tests.conftest import ROOT

LEGACY_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@pytest.mark.parametrize(("attribute", "remote_write", "scrape_or_tempo"), [
    ("http.request.method", "http_request_method", "http_request_method"),
    ("http.response.status_code", "http_response_status_code", "http_response_status_code"),
    ("country", "country", "country"),
    ("order__type", "order_type", "order__type"),  # the remote-write exporter collapses runs of non-alphanumerics
    ("app._tier", "app_tier", "app__tier"),
    ("_tier", "key_tier", "_tier"),  # ... and prefixes "key" to a name that starts with one "_"
    ("__meta__", "__meta__", "__meta__"),  # reserved __x__ names keep their underscores
])  # fmt: skip
def test_dimension_label_names_per_exporter(attribute: str, remote_write: str, scrape_or_tempo: str) -> None:
    assert naming.label_from_attribute(attribute, remote_write_exporter=True) == remote_write
    assert naming.label_from_attribute(attribute) == scrape_or_tempo
    assert LEGACY_LABEL.match(remote_write) and LEGACY_LABEL.match(scrape_or_tempo)


@pytest.mark.parametrize("spec", [ROOT / "specs" / "shop.yaml", *sorted((ROOT / "tests" / "specs").glob("*.yaml"))],
                         ids=lambda p: Path(p).stem)
def test_metrics_exporters_keep_the_escaping_translation(spec: Path) -> None:
    """No rendered remote-write or prometheus exporter asks for UTF-8 names (NoUTF8EscapingWithSuffixes,
    NoTranslation), which Prometheus 3 would store as dotted names that none of the rules read."""
    result = generate(spec, targets=["collector"])
    assert result.ok
    exporters = []
    for artifact in result.artifacts:
        if artifact.path.endswith(".yaml"):
            doc = yaml.safe_load(artifact.text)
            exporters += [cfg or {} for name, cfg in (doc.get("exporters") or {}).items()
                          if name.split("/")[0] in ("prometheus_remote_write", "prometheusremotewrite", "prometheus")]
    source = (yaml.safe_load(spec.read_text()).get("span_metrics") or {}).get("source", "collector")
    assert exporters or source == "tempo"
    for cfg in exporters:
        assert cfg.get("translation_strategy", "UnderscoreEscapingWithSuffixes").startswith("UnderscoreEscaping")
        assert cfg.get("add_metric_suffixes", True) is True


def test_plan_names_dimension_labels_as_the_configured_exporter_does(tmp_path: Path) -> None:
    spec = tmp_path / "dims.yaml"
    body = ("attributes:\n  app._tier: {type: string}\nspan_metrics:\n  source: SOURCE\n"
            "  dimensions: [app._tier]\ncollector:\n  metrics_export: EXPORT\nservices: {api: {}}\n")
    for source, export, label in (("collector", "remote_write", "app_tier"), ("collector", "scrape", "app__tier"),
                                  ("tempo", "remote_write", "app__tier")):
        spec.write_text(body.replace("SOURCE", source).replace("EXPORT", export))
        result = generate(spec, targets=["rules"])
        assert result.ok, [d.format() for d in result.diagnostics]
        assert result.plan is not None and result.plan.dimension_labels() == (label,)
