"""Field descriptions filled in when read (``obsgen.spec.field_docs``) equal pydantic's own docstring extraction.

The reference is pydantic building the same models with ``use_attribute_docstrings`` on (its default switched on
before ``obsgen.spec.models`` is imported, in a fresh process): every field's description, the JSON Schema and the
spec reference must come out the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

BAD_SPECS = [
    "name: s\nservices:\n  a:\n    language: go\n    endpoints: 3\n",
    "name: s\nservices:\n  a:\n    language: cobol\n",
    "name: s\nservices:\n  a:\n    language: go\nsampling:\n  expected_traces_per_second: -1\n",
    "name: s\nservices: {}\n",
]

_DUMP = """
import json, sys
from pydantic import BaseModel
if sys.argv[1] == "pydantic":
    from pydantic._internal import _config
    _config.config_defaults["use_attribute_docstrings"] = True
from obsgen.spec import models, traffic
if sys.argv[1] == "lazy":
    assert not any(f.description for f in models.Spec.model_fields.values()), "described before anyone asked"
from pathlib import Path
from obsgen.generate import load_spec
# spec errors whose hints quote a field's description (obsgen.spec.error_wording's "about"), before the
# schema or the docs ask for the descriptions
hints = []
for i, body in enumerate(BAD_SPECS):
    path = Path(sys.argv[2]) / f"bad{i}.yaml"
    path.write_text(body, encoding="utf-8")
    hints += [d.format() + " | " + (d.hint or "") for d in load_spec(path)[2]]
from obsgen.spec.docs import spec_docs
from obsgen.spec.schema import schema_text
fields = {}
for module in (traffic, models):
    for cls in vars(module).values():
        if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == module.__name__:
            fields[cls.__qualname__] = {n: f.description for n, f in cls.model_fields.items()}
print(json.dumps({"fields": fields, "schema": schema_text(), "docs": spec_docs(), "hints": hints}))
"""


def _dump(mode: str, tmp: Path) -> dict[str, object]:
    script = f"BAD_SPECS = {BAD_SPECS!r}\n" + _DUMP
    proc = subprocess.run([sys.executable, "-c", script, mode, str(tmp)], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_descriptions_schema_docs_and_error_hints_equal_pydantics_extraction(tmp_path: Path) -> None:
    lazy, reference = _dump("lazy", tmp_path), _dump("pydantic", tmp_path)
    assert lazy["hints"] == reference["hints"]
    assert any("endpoints: Operations it serves" in h for h in reference["hints"]), reference["hints"]  # type: ignore[union-attr]
    assert lazy["fields"] == reference["fields"]
    assert sum(bool(d) for f in reference["fields"].values() for d in f.values()) > 150  # type: ignore[attr-defined]
    assert lazy["schema"] == reference["schema"]
    assert lazy["docs"] == reference["docs"]
