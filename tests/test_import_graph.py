"""The package's import graph: no cycles, and the facade (convlint.api) imported by no module inside it."""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "convlint"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, module: str) -> set[str]:
    """The convlint modules ``path`` imports, at the top or inside functions, absolute or relative."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + is_package]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)  # `from convlint import api`
    return {name for name in found if name == "convlint" or name.startswith("convlint.")}


def import_graph() -> nx.DiGraph:
    """Modules of the package as nodes; an edge ``a → b`` when module ``a`` imports module ``b``."""
    files = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for module, path in files.items():
        graph.add_edges_from((module, target) for target in _imported(path, module) if target in files)
    return graph


def test_the_graph_sees_the_package():
    graph = import_graph()
    assert len(graph) > 40
    assert graph.has_edge("convlint.analysis.infer", "convlint.spec.model")
    assert graph.has_edge("convlint", "convlint.api")


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(import_graph()))
    assert cycles == []


def test_no_module_imports_the_facade():
    """Only the package root re-exports convlint.api; importing the root from inside would import it too."""
    graph = import_graph()
    importers = sorted(module for module in graph if module != "convlint"
                       and (graph.has_edge(module, "convlint.api") or graph.has_edge(module, "convlint")))
    assert importers == []


def test_a_cycle_would_be_found(tmp_path):
    """The check itself: an import cycle written as two modules is seen as one."""
    graph = nx.DiGraph()
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("from convlint.b import x\n")
    second.write_text("def f():\n    import convlint.a\n")
    graph.add_edges_from(("convlint.a", target) for target in _imported(first, "convlint.a"))
    graph.add_edges_from(("convlint.b", target) for target in _imported(second, "convlint.b"))
    assert ["convlint.a", "convlint.b"] in [sorted(cycle) for cycle in nx.simple_cycles(graph)]
