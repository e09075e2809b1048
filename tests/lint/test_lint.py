"""``obsgen lint``: every kind told by content, read as its tool reads it, findings at their position."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from obsgen.cli import main
from obsgen.lint import KINDS
from obsgen.lint.kinds import Options
from obsgen.lint.run import lint_file, lint_text
from tests.conftest import ROOT, SHARED

SHOP = ROOT / "generated" / "shop"
UPSTREAM = SHARED / "upstream"


def run(*args: str) -> tuple[int, str, str]:
    """The CLI in-process: exit code, stdout, stderr."""
    result = CliRunner().invoke(main, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def codes(text: str, name: str = "f.yaml", **kwargs: object) -> list[tuple[str, int, int, str]]:
    """(code, line, column, path) of every finding in ``text``."""
    result = lint_text(text, name, **kwargs)  # type: ignore[arg-type]
    return [(d.code, d.line, d.column, d.path) for d in result.diagnostics]


# --- every kind, told by content --------------------------------------------------------------------

RENDERED = {
    "collector": SHOP / "otel-collector" / "config.yaml",
    "tempo": SHOP / "tempo" / "tempo.yaml",
    "grafana-datasources": SHOP / "grafana" / "provisioning" / "datasources" / "datasources.yaml",
    "grafana-dashboards-provider": SHOP / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml",
    "grafana-dashboard": SHOP / "grafana" / "dashboards" / "shop-overview.json",
    "prometheus-rules": SHOP / "prometheus" / "rules" / "recordings.yaml",
}


def test_every_kind_has_a_rendered_example() -> None:
    assert set(RENDERED) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_rendered_files_are_clean_and_their_kind_is_told(kind: str) -> None:
    result = lint_file(str(RENDERED[kind]))
    assert result.kind == kind
    assert result.checked and result.diagnostics == []


# One broken file per kind: (kind, text, expected (code, line, column, path)).
BROKEN = [
    ("collector",
     "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpont: 0.0.0.0:4317\n"
     "exporters:\n  debug: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n",
     ("OBS801", 5, 9, "receivers.otlp.protocols.grpc.endpont")),
    ("tempo", "server:\n  http_listen_port: 3200\nstorage:\n  trace:\n    backend: local\n    lokal: {}\n",
     ("OBS801", 6, 5, "storage.trace.lokal")),
    ("grafana-datasources", "apiVersion: 1\ndatasources:\n  - name: Tempo\n    type: tempo\n    uid: tempo\n"
     "    jsonData:\n      tracesToLogsV2:\n        datasourceUid: loki\n",
     ("OBS805", 8, 24, "datasources[0].jsonData.tracesToLogsV2.datasourceUid")),
    ("grafana-dashboards-provider", "apiVersion: 1\nproviders:\n  - name: obsgen\n    type: file\n",
     ("OBS803", 3, 5, "providers[0].options")),
    ("grafana-dashboard", '{\n  "title": "x",\n  "uid": "x",\n  "schemaVersion": 41,\n  "id": 7,\n  "panels": []\n}\n',
     ("OBS802", 5, 9, "id")),
    ("prometheus-rules", "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum(up\n",
     ("OBS802", 5, 15, "groups[0].rules[0].expr")),
]


@pytest.mark.parametrize(("kind", "text", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_file_of_each_kind_is_reported_at_its_position(kind: str, text: str,
                                                                 expected: tuple[str, int, int, str]) -> None:
    name = "f.json" if kind == "grafana-dashboard" else "f.yaml"
    result = lint_text(text, name)
    assert result.kind == kind
    assert [(d.code, d.line, d.column, d.path) for d in result.diagnostics] == [expected]
    assert all(d.is_error for d in result.diagnostics)


def test_kind_can_be_given_and_overrides_the_content() -> None:
    text = RENDERED["tempo"].read_text()
    assert lint_text(text, "t.yaml", kind="collector").diagnostics  # a Tempo file is no Collector config
    assert lint_text(text, "t.yaml", kind="tempo").diagnostics == []


def test_unknown_kind_is_a_clear_diagnostic_and_exit_2(tmp_path: Path) -> None:
    odd = tmp_path / "odd.yaml"
    odd.write_text("hello: world\n")
    code, _, err = run(str(odd))
    assert code == 2
    assert "OBS800" in err and "cannot tell what kind of config this is" in err and "--kind" in err
    tests_file = tmp_path / "t.yaml"
    tests_file.write_text("rule_files: [r.yaml]\ntests: []\n")
    assert "promtool unit-test file" in lint_text(tests_file.read_text(), "t.yaml").diagnostics[0].message


# --- reading like the tool ----------------------------------------------------------------------------

COLLECTOR_HEAD = "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  otlp_grpc:\n    endpoint: t:4317\n"
COLLECTOR_TAIL = "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [otlp_grpc]}\n"


def test_collector_reads_yaml_1_2_scalars() -> None:
    # yaml.v3: `yes` is a string, which a bool field refuses (checked against the 0.159.0 binary)
    text = COLLECTOR_HEAD + "    tls:\n      insecure: yes\n" + COLLECTOR_TAIL
    assert codes(text) == [("OBS802", 9, 17, "exporters.otlp_grpc.tls.insecure")]
    assert codes(text.replace("yes", "true")) == []


def test_tempo_reads_yaml_1_1_scalars() -> None:
    # Tempo's yaml.v2 reads `yes` as a bool
    assert codes("multitenancy_enabled: yes\nserver:\n  http_listen_port: 3200\n", kind="tempo") == []


def test_duplicate_keys_and_merge_keys() -> None:
    dup = COLLECTOR_HEAD + "exporters:\n  debug: {}\n" + COLLECTOR_TAIL
    assert codes(dup)[0][:3] == ("OBS103", 8, 1)
    merged = ("base: &b\n  endpoint: t:4317\n" + COLLECTOR_HEAD.replace("    endpoint: t:4317\n", "    <<: *b\n")
              + COLLECTOR_TAIL)
    # the merged key is known; `base` itself is no top-level section of a Collector config
    assert codes(merged, kind="collector") == [("OBS801", 1, 1, "base")]


def test_json_positions_and_syntax_errors() -> None:
    broken = '{\n  "title": "x",\n  "panels": [\n    {"id": 1,, }\n  ]\n}\n'
    assert codes(broken, "d.json") == [("OBS102", 4, 14, "")]  # the second comma


def test_collector_version_and_unknown_components_options() -> None:
    text = COLLECTOR_HEAD.replace("otlp_grpc", "otlp") + COLLECTOR_TAIL.replace("otlp_grpc", "otlp")
    text = text.replace("otlp:\n    protocols", "otlp:\n    protocols", 1)
    assert codes(text) == []  # the old id stays an alias at 0.159.0
    renamed = COLLECTOR_HEAD + COLLECTOR_TAIL
    assert codes(renamed, options=Options(collector_version=(0, 140, 0)))[0][0] == "OBS804"
    foreign = renamed.replace("exporters:\n", "exporters:\n  kafka: {}\n", 1)
    assert [c[0] for c in codes(foreign)] == ["OBS804"]
    assert codes(foreign, options=Options(allow_unknown_components=True)) == []


def test_obsgen_rules_are_warnings(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    processors = "processors:\n  batch: {}\n  memory_limiter: {check_interval: 1s, limit_mib: 100}\n"
    config.write_text(COLLECTOR_HEAD + processors + COLLECTOR_TAIL.replace("exporters: [otlp_grpc]",
                                                                   "processors: [batch, memory_limiter], "
                                                                   "exporters: [otlp_grpc]"))
    code, _, err = run(str(config))
    assert code == 0 and "warning OBS806" in err and "1 file(s) clean, 1 warning(s)" in err
    assert run("--strict", str(config))[0] == 1


# --- command line -------------------------------------------------------------------------------------

def test_exit_codes_and_json(tmp_path: Path) -> None:
    good, bad = RENDERED["collector"], tmp_path / "bad.yaml"
    bad.write_text(COLLECTOR_HEAD + "    tls: {insecure: yes}\n" + COLLECTOR_TAIL)
    assert run(str(good))[0] == 0
    code, out, err = run("--format", "json", str(good), str(bad))
    assert code == 1 and err == ""
    data = json.loads(out)
    assert data["files"] == {str(good): "collector", str(bad): "collector"}
    assert [(d["code"], d["line"], d["file"]) for d in data["diagnostics"]] == [("OBS802", 8, str(bad))]
    assert run(str(tmp_path / "missing.yaml"))[0] == 2
    assert run("--kind", "nginx", str(good))[0] == 2
    assert run("--tempo-version", "1.5.0", str(good))[0] == 2


# --- hand-written upstream files ----------------------------------------------------------------------

def require_upstream() -> None:
    """Skip without the corpus beside the checkout (one reason for every case); in CI it must be there."""
    if not UPSTREAM.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{UPSTREAM} is missing in CI")
        pytest.skip("../shared/upstream (the upstream config corpus) is not beside this checkout; CI has it")

# file -> (kind, expected codes); every whole-file config of the corpus (fragments are no whole files).
UPSTREAM_FILES: dict[str, tuple[str | None, list[str], bool]] = {
    "tempo/tempo-v2-migrate-to-3.yaml": ("tempo", [], False),
    "tempo/tempo-v2.10-distributed.yaml": ("tempo", [], False),
    "tempo/tempo-v2.10-scalable-single-binary.yaml": ("tempo", [], False),
    "tempo/tempo-v2.10-shared.yaml": ("tempo", [], False),
    "tempo/tempo-v3-distributed.yaml": ("tempo", [], False),
    "tempo/tempo-v3-migrate-to-3.yaml": ("tempo", [], False),
    "tempo/tempo-v3-multitenant.yaml": ("tempo", [], False),
    "tempo/tempo-v3-single-binary.yaml": ("tempo", [], False),
    "grafana/grafana-tempo-datasource-provisioning-datasources.yml": ("grafana-datasources", [], False),
    "grafana/intro-to-mltp-datasources.yaml": ("grafana-datasources", [], False),
    "grafana/tempo-v2.8.4-integration-microservices-datasource.yml": ("grafana-datasources", [], False),
    # the Tempo plugin ignores jsonData.httpMethod; obsgen's strict model refuses the unknown key
    "grafana/tempo-single-binary-grafana-datasources.yaml": ("grafana-datasources", ["OBS801", "OBS801"], False),
    # each names a datasource the other file provisions
    "grafana/otel-demo-datasource-jaeger.yaml": ("grafana-datasources", ["OBS805"], False),
    "grafana/otel-demo-datasource-prometheus-default.yaml": ("grafana-datasources", ["OBS805"], False),
    "grafana/provider-docker-otel-lgtm-grafana-dashboards.yaml": ("grafana-dashboards-provider", [], False),
    "grafana/provider-otel-demo-dashboards-demo.yaml": ("grafana-dashboards-provider", [], False),
    "grafana/provider-tempo-single-binary-grafana-dashboards.yaml": ("grafana-dashboards-provider", [], False),
    "grafana/dashboard-tempo-service-graph.json": ("grafana-dashboard", [], False),
    # exported from a Grafana instance: a numeric id, which a provisioned dashboard must not have, and the legacy
    # top-level "style" key, which @grafana/schema 12.2's Dashboard no longer declares
    "grafana/dashboard-intro-to-mltp-erroring-endpoints-spanmetrics.json": ("grafana-dashboard", ["OBS801", "OBS802"],
                                                                           False),
    "prometheus/sloth-gen-getting-started.yml": ("prometheus-rules", [], False),
    "prometheus/sloth-gen-kubernetes-apiserver.yml": ("prometheus-rules", [], False),
    "prometheus/autometrics-shared-autometrics.rules.yml": ("prometheus-rules", [], False),
    "prometheus/tempo-mixin-compiled-alerts.yaml": ("prometheus-rules", [], False),
    "prometheus/promtool-test-kubernetes-mixin-apiserver-availability.yaml": (None, ["OBS800"], False),
    "tail_sampling/alloy-scenarios-otel-servicegraph-config-otel.yaml": ("collector", [], False),
    "tail_sampling/jaeger-config-spm-spanmetrics.yaml": ("collector", [], True),
    "tail_sampling/jaeger-tail-sampling-tier2-jaeger-v2-config.yml": ("collector", [], True),
    "tail_sampling/loadbalancing-example-otel-agent-config.yaml": ("collector", [], True),
    # memory_limiter after another processor: started by the Collector, an obsgen warning
    "tail_sampling/otel-demo-otelcol-config-spanmetrics-v2.2.0.yml": ("collector", ["OBS806"] * 3, True),
    # nop components are test-only; edge_dimensions and database_name_attribute are no fields at 0.159.0
    "tail_sampling/servicegraph-connector-config.yaml": ("collector", ["OBS804", "OBS804", "OBS801", "OBS801"],
                                                         False),
    "tail_sampling/legacy-spanmetrics-connector-config-full-connector.yaml": ("collector", ["OBS801"], True),
}


@pytest.mark.parametrize("name", sorted(UPSTREAM_FILES))
def test_upstream_files(name: str) -> None:
    require_upstream()
    kind, expected, allow_unknown = UPSTREAM_FILES[name]
    result = lint_file(str(UPSTREAM / name), options=Options(allow_unknown_components=allow_unknown))
    assert result.kind == kind
    assert sorted(d.code for d in result.diagnostics) == sorted(expected), result.diagnostics
    assert all(d.line > 0 for d in result.diagnostics)


def test_byte_order_mark_is_skipped_in_yaml_and_refused_in_json() -> None:
    assert lint_text("\ufeffgroups: []\n", "r.yaml").kind == "prometheus-rules"
    assert codes('\ufeff{"title": "x"}', "d.json") == [("OBS102", 1, 1, "")]
