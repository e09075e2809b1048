"""Every rendered dashboard type-checks as a ``Dashboard`` of @grafana/schema at the pinned Grafana (tsc --noEmit).

@grafana/schema is the TypeScript form of Grafana's own dashboard schema (Apache-2.0, published by Grafana
Labs from the same CUE kinds the server uses). Each dashboard JSON is assigned, as an object literal, to a
const of that type, so tsc checks every key's type and rejects keys the schema does not declare. All
dashboards of all example specs go through one tsc run (it costs ~10 s; each further file is cheap).
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
    assert len(texts) >= 40, sorted(texts)  # every example spec contributed its dashboards
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
    cases = {
        "good": json.dumps(good, indent=2),
        "unknown-top-level-key": _minimal(sharedCrosshair=True),
        "null-where-a-string-is-optional": _minimal(timepicker={"nowDelay": None}),
        "unknown-panel-key": json.dumps(unknown_panel_key, indent=2),
        "wrong-enum-value": json.dumps(wrong_enum, indent=2),
        "missing-required-key": json.dumps({k: v for k, v in good.items() if k != "schemaVersion"}, indent=2),
        "wrong-type": _minimal(refresh=30),
    }
    errors = typecheck_dashboards(node, cases, tmp_path)
    by_name = {e.dashboard: e for e in errors}
    assert sorted(by_name) == sorted(set(cases) - {"good"}), "\n".join(e.format() for e in errors)
    lines = cases["unknown-panel-key"].splitlines()
    assert '"editable"' in lines[by_name["unknown-panel-key"].line - 1]  # mapped back to the JSON's own line
