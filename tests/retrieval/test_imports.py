"""The retrieval room's modules import downwards only: no circle, nothing back from the package."""
from __future__ import annotations

import ast
from pathlib import Path

ROOM = Path(__file__).resolve().parents[2] / "backend" / "retrieval"


def _imports() -> dict[str, set[str]]:
    """Each module of the room and the modules of the room it imports (``__init__``: the package)."""
    graph: dict[str, set[str]] = {}
    for path in ROOM.glob("*.py"):
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == 1 and node.module:                  # from .search import run
                found.add(node.module.split(".")[0])
            elif node.level == 1:                                # from . import search, get_embedder
                found.update(alias.name if (ROOM / f"{alias.name}.py").exists() else "__init__"
                             for alias in node.names)
            elif node.level == 2 and node.module and node.module.split(".")[0] == "retrieval":
                found.add("__init__")                            # from ..retrieval import search
            elif node.level == 2 and any(alias.name == "retrieval" for alias in node.names):
                found.add("__init__")                            # from .. import retrieval
        graph[path.stem] = found - {path.stem}
    return graph


def test_no_module_imports_the_package_back():
    graph = _imports()
    assert [name for name, deps in graph.items() if name != "__init__" and "__init__" in deps] == []


def test_no_import_circle_in_the_room():
    graph = _imports()
    circles = []

    def visit(name: str, path: list[str]) -> None:
        for dep in sorted(graph.get(name, ())):
            if dep in path:
                circles.append(path[path.index(dep):] + [dep])
            else:
                visit(dep, path + [dep])

    for name in graph:
        visit(name, [name])
    assert circles == []


def test_no_import_waits_inside_a_function():
    late = [f"{path.name}:{node.lineno}" for path in ROOM.glob("*.py")
            for function in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
            for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert late == []
