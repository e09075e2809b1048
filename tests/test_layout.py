"""The package layout the README's "How it works" table describes, held by tests (issue 15).

- strict models never import an emitter of their tool (the checker stays usable on any config);
- no import cycles between obsgen's modules at import time (the old emitters/render circle stays broken);
- one package per tool family: no prefix-named flat files such as ``targets/collector_*.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "obsgen"
TOOLS = ("collector", "tempo", "grafana", "prometheus", "topology", "helm", "compose", "sampling_report")
# Modules of a tool package that know the tool's language, not what obsgen writes: a strict model may use them.
LANGUAGE = ("promql", "compat")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """obsgen modules imported at module level (imports inside functions are deferred and cannot cycle)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("obsgen"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("obsgen"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: {d for d in _imports(path) if d in modules and d != name} for name, path in modules.items()}


def test_strict_models_do_not_import_their_emitters() -> None:
    graph = _graph()
    strict = [m for m in graph if ".strict" in m and m.startswith("obsgen.targets.")]
    assert strict, "no strict modules found: the layout changed, update this test"
    for module in strict:
        emitters = {
            d for d in graph[module]
            if d.startswith("obsgen.targets.")
            and ".strict" not in d
            and d.rsplit(".", 1)[-1] not in (*LANGUAGE, *TOOLS)
        }
        assert not emitters, f"{module} imports emitter modules {sorted(emitters)}"


def test_no_import_cycles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep):], dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_one_package_per_tool_no_prefix_named_files() -> None:
    targets = ROOT / "targets"
    flat = [p.name for p in targets.glob("*.py") if p.name != "__init__.py"]
    assert flat == [], f"flat target modules (move them into their tool's package): {flat}"
    for tool in TOOLS:
        assert (targets / tool / "__init__.py").is_file(), f"targets/{tool}/ is not a package"
        prefixed = [p.name for p in (targets / tool).rglob(f"{tool}_*.py")]
        assert prefixed == [], f"prefix-named files in targets/{tool}/: {prefixed}"
    assert not (ROOT / "strict").exists(), "obsgen/strict/ came back: strict models live beside their target"
