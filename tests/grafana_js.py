"""Where the tests find Node.js and Grafana's npm packages that ``make js-tools`` installs into tools/js/.

Node comes from PATH (``OBSGEN_NODE`` overrides it); the packages from ``tools/js/node_modules``, installed
by ``npm ci`` from the committed lock. In CI (``CI`` set) anything missing fails the test; elsewhere it
skips with the command that installs it. Also runs ``tsc --noEmit`` over dashboard JSON (see
:func:`typecheck_dashboards`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = ROOT / "tools" / "js"
NODE_MODULES = JS_DIR / "node_modules"
# The packages the checks load; each must be installed, at the version the lock pins.
PACKAGES = ("@grafana/schema", "@grafana/lezer-logql", "@grafana/lezer-traceql", "@lezer/lr", "typescript")
TSC = NODE_MODULES / "typescript" / "bin" / "tsc"


def _missing() -> str | None:
    """Why the JS checks cannot run here, or None when they can."""
    override = os.environ.get("OBSGEN_NODE")
    if override is not None and not (os.path.isfile(override) and os.access(override, os.X_OK)):
        return f"OBSGEN_NODE={override} is not an executable file"
    if override is None and shutil.which("node") is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    lock = json.loads((JS_DIR / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    for name in PACKAGES:
        manifest = NODE_MODULES / name / "package.json"
        if not manifest.is_file():
            return f"{name} is not installed in tools/js/node_modules: `make js-tools` installs it"
        installed = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        pinned = lock[f"node_modules/{name}"]["version"]
        if installed != pinned:
            return f"{name} {installed} is installed, the lock pins {pinned}: `make js-tools` reinstalls"
    return None


def require_node() -> str:
    """Path of node, with the packages installed; fails in CI and skips elsewhere when anything is missing."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must have it")
        pytest.skip(reason)
    return os.environ.get("OBSGEN_NODE") or str(shutil.which("node"))


# ------------------------------------------------------------------------------------------------
# tsc --noEmit over dashboard JSON

# Each generated file is these lines followed by the dashboard JSON, whose first line ("{") ends the
# last header line: JSON line n is TypeScript line n + HEADER_LINES.
_HEADER = 'import type { DashboardJson } from "obsgen-dashboard-json";\n\nexport const dashboard: DashboardJson = '
HEADER_LINES = _HEADER.count("\n")
_DIAGNOSTIC = re.compile(r"^(?P<file>[^()\s][^()]*)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$")


@dataclass(frozen=True)
class TscError:
    """One tsc error, mapped back to the dashboard it was found in (``line`` is the JSON's own line)."""

    dashboard: str
    line: int
    column: int
    code: str
    message: str

    def format(self) -> str:
        return f"{self.dashboard}:{self.line}:{self.column}: {self.code} {self.message}"


def typecheck_dashboards(node: str, dashboards: Mapping[str, str], workdir: Path) -> list[TscError]:
    """Type-check each dashboard JSON text (by name) as a ``Dashboard`` of @grafana/schema, in one tsc run.

    Every dashboard becomes ``export const dashboard: DashboardJson = <the JSON text>;`` in its own file,
    so the JSON is an object literal assigned to a typed const: TypeScript checks each key's type and,
    because it is a fresh literal, rejects keys the type does not declare (excess-property checks).
    ``DashboardJson`` (tools/js/dashboard-json.ts) is ``Dashboard`` with string enums as their values and
    each panel typed by its plugin's kind. ``skipLibCheck`` skips only the packages' own .d.ts files.
    """
    names: dict[str, str] = {}
    for i, (name, text) in enumerate(sorted(dashboards.items())):
        ts_name = f"dashboard{i}.ts"
        names[ts_name] = name
        (workdir / ts_name).write_text(_HEADER + text.rstrip() + ";\n", encoding="utf-8")
    config = {
        "compilerOptions": {
            "strict": True, "noEmit": True, "target": "es2022", "module": "esnext", "moduleResolution": "bundler",
            "types": [], "lib": ["es2022"], "skipLibCheck": True,
            "paths": {"obsgen-dashboard-json": [str(JS_DIR / "dashboard-json.ts")]},
        },
        "files": sorted(names),
    }
    (workdir / "tsconfig.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    proc = subprocess.run([node, str(TSC), "-p", str(workdir / "tsconfig.json"), "--pretty", "false"],
                          cwd=workdir, capture_output=True, text=True, timeout=600, check=False)
    errors: list[TscError] = []
    for line in proc.stdout.splitlines():
        m = _DIAGNOSTIC.match(line)
        if m is None:
            if errors and line.startswith(" "):  # tsc's elaboration of the previous error
                last = errors.pop()
                errors.append(TscError(last.dashboard, last.line, last.column, last.code,
                                       f"{last.message} {line.strip()}"))
                continue
            raise AssertionError(f"unexpected tsc output: {line!r}\n{proc.stdout}{proc.stderr}")
        file = Path(m["file"]).name
        if file not in names:
            raise AssertionError(f"tsc error outside the dashboards (the schema or its setup): {line}")
        errors.append(TscError(names[file], int(m["line"]) - HEADER_LINES, int(m["col"]), m["code"], m["msg"]))
    if proc.returncode not in (0, 1, 2) or (proc.returncode != 0 and not errors):
        raise AssertionError(f"tsc failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return errors
