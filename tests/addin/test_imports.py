"""The add-in's ES modules form no import circle (static ``import … from`` and dynamic
``import('…')`` both count): a circle makes a module's exports undefined while the other
is still loading, which shows only in some load orders."""
from __future__ import annotations

import re
from pathlib import Path

ADDIN = Path(__file__).resolve().parents[2] / "addin"
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}/[^'"]+)['"]""", re.M)


def module_imports() -> dict[Path, set[Path]]:
    graph = {}
    for path in ADDIN.rglob("*.js"):
        if "vendor" in path.relative_to(ADDIN).parts:
            continue
        text = path.read_text(encoding="utf-8")
        graph[path] = {(path.parent / target).resolve() for target in IMPORT.findall(text)}
    return graph


def circles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    found, done = [], set()

    def visit(node: Path, trail: list[Path]) -> None:
        if node in trail:
            found.append(trail[trail.index(node):] + [node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, trail + [node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    return found


def test_the_reader_sees_imports_of_both_kinds():
    graph = module_imports()
    api = ADDIN / "common" / "api.js"
    assert ADDIN / "common" / "auth.js" in graph[api]  # the dynamic import('./auth.js')
    assert ADDIN / "common" / "signin-status.js" in graph[ADDIN / "common" / "auth.js"]
    for targets in graph.values():
        for target in targets:
            assert target.exists(), target


def test_no_module_of_the_add_in_imports_itself_back():
    found = circles(module_imports())
    assert found == [], [" → ".join(str(p.relative_to(ADDIN)) for p in circle) for circle in found]
