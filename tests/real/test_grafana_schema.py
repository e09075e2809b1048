"""Every rendered dashboard type-checks as a ``Dashboard`` of @grafana/schema at the pinned Grafana (tsc --noEmit).

@grafana/schema is the TypeScript form of Grafana's own dashboard schema (Apache-2.0, published by Grafana
Labs from the same CUE kinds the server uses). Each dashboard JSON is assigned, as an object literal, to a
const of that type, so tsc checks every key's type and rejects keys the schema does not declare. Panels are
checked against their plugin's own kind too (options and custom field config of timeseries, stat, gauge,
table, nodeGraph; see tools/js/dashboard-json.ts). All dashboards of all example specs go through one tsc
run (~15 s on 2 cores; each further file is cheap).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.grafana_js import require_node, typecheck_dashboards
from tests.real.grafana_render import SPECS, dashboards


@pytest.fixture(scope="module")
def node() -> str:
    return require_node()


def test_every_rendered_dashboard_is_a_grafana_dashboard(node: str, tmp_path: Path) -> None:
    texts = {f"{spec.name}: {path}": text for spec in SPECS for path, text in dashboards(spec).items()}
    # every example spec contributed its three dashboards: overview, the templated service one, sampling
    assert len(texts) == 3 * len(SPECS), sorted(texts)
    errors = typecheck_dashboards(node, texts, tmp_path)
    assert not errors, "\n".join(e.format() for e in errors)


def _minimal(**extra: object) -> str:
    doc: dict[str, object] = {"title": "t", "uid": "u", "schemaVersion": 42, "editable": False, "panels": [
        {"type": "timeseries", "id": 1, "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
         "fieldConfig": {"defaults": {"thresholds": {"mode": "absolute", "steps": [{"color": "green",
                                                                                  "value": None}]}},
                         "overrides": []},
         "targets": [{"refId": "A", "expr": "up"}]},
    ]}
    doc.update(extra)
    return json.dumps(doc, indent=2)


def test_the_check_rejects_what_the_schema_rejects(node: str, tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: each broken dashboard below must be reported, at its line."""
    good = json.loads(_minimal())
    unknown_panel_key = json.loads(_minimal())
    unknown_panel_key["panels"][0]["editable"] = True
    wrong_enum = json.loads(_minimal())
    wrong_enum["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["mode"] = "absolut"
    # what each panel plugin declares (its panelcfg kind): options and custom field config
    with_options = json.loads(_minimal())
    with_options["panels"][0]["options"] = {"legend": {"showLegend": True}, "tooltip": {"mode": "multi"}}
    with_options["panels"][0]["fieldConfig"]["defaults"]["custom"] = {"lineWidth": 1, "drawStyle": "line"}
    unknown_option = json.loads(json.dumps(with_options))
    unknown_option["panels"][0]["options"]["legend"]["bogus"] = 1
    wrong_option_enum = json.loads(json.dumps(with_options))
    wrong_option_enum["panels"][0]["options"]["tooltip"]["mode"] = "everything"
    wrong_custom = json.loads(json.dumps(with_options))
    wrong_custom["panels"][0]["fieldConfig"]["defaults"]["custom"]["lineWidth"] = "1"
    custom_on_stat = json.loads(json.dumps(with_options))
    custom_on_stat["panels"][0].update(type="stat", options={})
    unknown_type = json.loads(_minimal())
    unknown_type["panels"][0]["type"] = "piechart-typo"
    cases = {
        "good": json.dumps(good, indent=2),
        "unknown-top-level-key": _minimal(sharedCrosshair=True),
        "null-where-a-string-is-optional": _minimal(timepicker={"nowDelay": None}),
        "unknown-panel-key": json.dumps(unknown_panel_key, indent=2),
        "wrong-enum-value": json.dumps(wrong_enum, indent=2),
        "missing-required-key": json.dumps({k: v for k, v in good.items() if k != "schemaVersion"}, indent=2),
        "wrong-type": _minimal(refresh=30),
        "good-with-options": json.dumps(with_options, indent=2),
        "unknown-option-key": json.dumps(unknown_option, indent=2),
        "wrong-option-enum": json.dumps(wrong_option_enum, indent=2),
        "wrong-custom-field-type": json.dumps(wrong_custom, indent=2),
        "custom-field-config-the-plugin-lacks": json.dumps(custom_on_stat, indent=2),
        "unknown-panel-type": json.dumps(unknown_type, indent=2),
    }
    errors = typecheck_dashboards(node, cases, tmp_path)
    by_name = {e.dashboard: e for e in errors}
    assert sorted(by_name) == sorted(set(cases) - {"good", "good-with-options"}), "\n".join(
        e.format() for e in errors)
    lines = cases["unknown-panel-key"].splitlines()
    assert '"editable"' in lines[by_name["unknown-panel-key"].line - 1]  # mapped back to the JSON's own line
