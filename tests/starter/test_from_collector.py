"""``obsgen init --from-collector``: a rendered Collector config comes back as equivalent spec sections, and
everything the spec cannot say is listed, with its line and reason, as comments of the starter spec."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from obsgen.cli import main
from obsgen.generate import generate
from tests.conftest import ROOT

SPAN_METRICS_IDS = ("span_metrics", "spanmetrics")


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def collector_configs(spec: Path) -> dict[str, dict[str, object]]:
    """The rendered Collector configs of ``spec`` (in memory), by artifact path."""
    result = generate(spec, str(spec))
    assert result.ok, [d.format() for d in result.diagnostics]
    return {a.path: yaml.safe_load(a.text) for a in result.artifacts if a.path.startswith("otel-collector/")}


def component(config: dict[str, object], section: str, types: tuple[str, ...]) -> dict[str, object] | None:
    for cid, cfg in (config.get(section) or {}).items():  # type: ignore[attr-defined]
        if cid.split("/", 1)[0] in types:
            return cfg  # type: ignore[no-any-return]
    return None


def init_from(config: dict[str, object], tmp_path: Path,
              expected: tuple[str, ...] = ()) -> tuple[str, dict[str, dict[str, object]]]:
    """Write ``config``, run ``init --from-collector`` on it, render the starter: (its text, its configs).
    ``expected``: the codes of the only diagnostics the import may bring (findings about the imported config)."""
    source = tmp_path / "collector.yaml"
    source.write_text(yaml.safe_dump(config, sort_keys=False))
    target = tmp_path / "imported.yaml"
    code, _, err = cli("init", "--from-collector", str(source), "-o", str(target), "--force")
    assert code == 0, err
    result = generate(target, str(target))
    # validates and renders cleanly, but for what is wrong with the imported config itself
    assert [d.format() for d in result.diagnostics if d.code not in expected] == []
    assert sorted({d.code for d in result.diagnostics}) == sorted(set(expected))
    return target.read_text(), {a.path: yaml.safe_load(a.text) for a in result.artifacts
                                if a.path.startswith("otel-collector/")}


def test_the_shop_comes_back_whole(tmp_path: Path) -> None:
    """Render the shop, import its Collector config: the new spec renders the same tail_sampling processor
    (every policy, name, order and buffer size) and span-metrics connector, and nothing is left out."""
    (config,) = collector_configs(ROOT / "specs" / "shop.yaml").values()
    text, rendered = init_from(config, tmp_path)
    (again,) = rendered.values()
    assert "Not imported" not in text and "Left out" not in text
    for section, types in (("processors", ("tail_sampling",)), ("connectors", SPAN_METRICS_IDS)):
        assert component(again, section, types) == component(config, section, types)
    assert len(component(again, "processors", ("tail_sampling",))["policies"]) == 12  # type: ignore[index]


@pytest.mark.parametrize("spec", ["large", "minimal", "old-collector", "scaleout", "kubernetes", "shop-tempo-source"])
def test_example_specs_policies_and_dimensions_come_back(tmp_path: Path, spec: str) -> None:
    """Every example spec's policies and span-metrics dimensions (both layouts, an old Collector's component
    ids, Tempo as the span-metrics source) survive the import."""
    configs = collector_configs(ROOT / "tests" / "specs" / f"{spec}.yaml")
    compared = 0
    for config in configs.values():
        sampling = component(config, "processors", ("tail_sampling",))
        span_metrics = component(config, "connectors", SPAN_METRICS_IDS)
        if sampling is None and span_metrics is None:
            continue
        # large.yaml's `not-free` policy also keeps every trace without tenant.tier: the import keeps it as
        # written, and validate says so
        text, rendered = init_from(config, tmp_path, ("OBS413",) if spec == "large" and sampling else ())
        assert not re.search(r"^#   line \d+: policy", text, re.MULTILINE), text
        if sampling is not None:
            (again,) = [component(c, "processors", ("tail_sampling",)) for c in rendered.values()
                        if component(c, "processors", ("tail_sampling",))]
            assert again["policies"] == sampling["policies"]  # type: ignore[index]
            compared += 1
        if span_metrics is not None:
            (again,) = [component(c, "connectors", SPAN_METRICS_IDS) for c in rendered.values()
                        if component(c, "connectors", SPAN_METRICS_IDS)]
            assert again.get("dimensions") == span_metrics.get("dimensions")  # type: ignore[union-attr]
            compared += 1
    assert compared


HAND_WRITTEN = """\
processors:
  tail_sampling:
    decision_wait: 5s
    num_traces: 1234
    expected_new_traces_per_sec: 100
    sample_on_first_match: true
    policies:
      - name: keep-errors
        type: status_code
        status_code: {status_codes: [ERROR]}
      - name: flags
        type: trace_flags
      - name: not-health
        type: string_attribute
        string_attribute: {key: http.route, values: [/health], invert_match: true}
      - name: bursty
        type: rate_limiting
        rate_limiting: {spans_per_second: 100, burst_capacity: 500}
      - name: from-env
        type: probabilistic
        probabilistic: {sampling_percentage: "${env:PCT}"}
      - name: keep errors
        type: always_sample
      - name: custom
        type: my_evaluator
      - name: bad-regex
        type: string_attribute
        string_attribute: {key: http.route, values: ["(unclosed"], enabled_regex_matching: true}
      - name: nested-not
        type: not
        not: {not_sub_policy: {name: x, type: not}}
      - name: dollar
        type: string_attribute
        string_attribute: {key: tenant, values: ["a$$b"], cache_max_size: 10}
      - name: thirds
        type: composite
        composite:
          max_total_spans_per_second: 300
          composite_sub_policy:
            - {name: one, type: always_sample}
            - {name: two, type: always_sample}
            - {name: three, type: always_sample}
          rate_allocation: [{policy: one, percent: 50}]
      - name: halves
        type: composite
        composite:
          max_total_spans_per_second: 300
          composite_sub_policy:
            - {name: first, type: always_sample}
            - {name: second, type: always_sample}
connectors:
  spanmetrics:
    namespace: custom
    dimensions:
      - name: tenant
      - name: region
        default: unknown
      - name: span.kind
    exemplars: {enabled: true}
"""

# (line in HAND_WRITTEN, what, a part of the reason)
EXPECTED_LISTED = [
    (6, "tail_sampling.sample_on_first_match", "not part of the spec"),
    (4, "tail_sampling.num_traces", "obsgen sizes it"),
    (11, "policy 'flags'", "policy type 'trace_flags' has no spec equivalent"),
    (13, "policy 'not-health'", "string_attribute.invert_match has no spec equivalent"),
    (16, "policy 'bursty'", "rate_limiting.burst_capacity 500 is not the default 2 x spans_per_second"),
    (19, "policy 'from-env'", "reads ${env:PCT} from the environment"),
    (22, "policy 'keep errors'", "is not an identifier"),
    (24, "policy 'custom'", "policy type 'my_evaluator' has no spec equivalent"),
    (26, "policy 'bad-regex'", "the spec check refuses it: OBS400"),
    (29, "policy 'nested-not'", "a 'not' policy cannot be nested inside 'not'"),
    (35, "policy 'thirds'", "which whole-percent shares cannot write"),
    (53, "spanmetrics.namespace", "obsgen renders it itself"),
    (58, "spanmetrics dimension 'span.kind'", "built-in dimensions"),
]


def test_unmappable_policies_and_settings_are_listed_with_line_and_reason(tmp_path: Path) -> None:
    source = tmp_path / "collector.yaml"
    source.write_text(HAND_WRITTEN)
    target = tmp_path / "imported.yaml"
    code, _, err = cli("init", "--from-collector", str(source), "-o", str(target))
    assert code == 0, err
    assert "13 items not imported (listed in the file)" in err
    text = target.read_text()
    listed = re.findall(r"^#   line (\d+): (.+?): (.+)$", text, re.MULTILINE)
    assert len(listed) == len(EXPECTED_LISTED), listed
    sampling_lines = [int(n) for n, what, _ in listed if not what.startswith("spanmetrics")]
    assert sampling_lines == sorted(sampling_lines)  # in file order
    for line, what, reason in EXPECTED_LISTED:
        assert any(int(n) == line and w == what and reason in r for n, w, r in listed), (line, what, listed)
    assert f"# Not imported from {source} (the spec cannot say these):" in text
    # exemplars are what obsgen renders anyway: not listed; a cache size changes no decision: a note
    assert "exemplars" not in text
    assert "# Left out, same decisions: policy 'dollar': string_attribute.cache_max_size" in text

    spec = yaml.safe_load(text)
    names = [p["name"] for p in spec["sampling"]["policies"]]
    assert names == ["keep-errors", "dollar", "halves"]
    assert spec["sampling"]["policies"][1]["string_attribute"]["values"] == ["a$b"]  # $$ is the Collector's $
    # no rate_allocation: upstream's equal share, whole here (composite_helper.go getRateAllocationMap)
    assert [p["share"] for p in spec["sampling"]["policies"][2]["composite"]["policies"]] == [50, 50]
    assert spec["span_metrics"]["dimensions"] == ["tenant", {"name": "region", "default": "unknown"}]
    assert spec["attributes"] == {"tenant": {}, "region": {}}  # declared, as the spec requires (OBS308)
    assert spec["sampling"]["decision_wait"] == "5s" and spec["sampling"]["expected_traces_per_second"] == 100

    result = generate(target, str(target))
    assert [d.format() for d in result.diagnostics] == []
    (config,) = [yaml.safe_load(a.text) for a in result.artifacts if a.path == "otel-collector/config.yaml"]
    policies = config["processors"]["tail_sampling"]["policies"]
    assert policies[1]["string_attribute"]["values"] == ["a$$b"]  # written back escaped


def test_a_config_without_sampling_or_span_metrics_keeps_the_defaults(tmp_path: Path) -> None:
    source = tmp_path / "plain.yaml"
    source.write_text("receivers: {otlp: {protocols: {grpc: {}}}}\nexporters: {debug: {}}\n")
    target = tmp_path / "s.yaml"
    assert cli("init", "--from-collector", str(source), "-o", str(target))[0] == 0
    text = target.read_text()
    assert "has no tail_sampling processor: obsgen's default policies" in text
    assert "has no span-metrics connector" in text
    assert [p["name"] for p in yaml.safe_load(text)["sampling"]["policies"]] == ["errors-always", "baseline"]


def test_unreadable_and_broken_configs_are_positioned_errors(tmp_path: Path) -> None:
    code, _, err = cli("init", "--from-collector", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "s.yaml"))
    assert code == 2 and "error OBS100" in err and not (tmp_path / "s.yaml").exists()
    broken = tmp_path / "broken.yaml"
    broken.write_text("processors:\n  tail_sampling: [\n")
    code, _, err = cli("init", "--from-collector", str(broken), "-o", str(tmp_path / "s.yaml"))
    assert code == 1 and re.search(rf"^{re.escape(str(broken))}:\d+:\d+: error OBS102", err, re.MULTILINE)
    assert not (tmp_path / "s.yaml").exists()
