"""Honest imports: no import circle, no import back up into a package, each floor of the
house importing only from the floors below it (docs: /work/shared/DESIGN.md, « Floors »).

The imports are read from the source (``ast`` for Python, the ``import … from '…'`` lines
for the add-in's ES modules), every import counted, at the top of a module or inside a
function: an import hidden in a function still closes a circle, it only hides it.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "backend"
ADDIN = ROOT / "addin"

# Floors of the house (DESIGN.md): a room imports only from rooms of a lower or equal floor.
FLOORS = {"api": 4, "usecases": 3, "llm": 2, "retrieval": 2, "documents": 2, "audit": 2, "pseudonymize": 2,
          "auth": 2, "jobs": 2, "manifests": 2}
ENTRY_POINTS = {"backend.__main__"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(BACKEND.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those only for type checkers."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """The backend modules ``name`` imports: (module, whether a name of a package's
    ``__init__`` is imported rather than a submodule)."""
    is_package = path.name == "__init__.py"
    targets: list[tuple[str, bool]] = []
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets += [(alias.name, False) for alias in node.names if alias.name in modules]
            continue
        if node.level:
            base = name.split(".") if is_package else name.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        if source not in modules:
            continue
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in modules:
                targets.append((submodule, False))
            else:
                targets.append((source, True))
    return targets


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def python_graph() -> dict[str, set[str]]:
    """Module → modules whose code runs when it is imported (a submodule's packages too,
    except the importer's own packages, already being imported)."""
    modules = python_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        own = set(_ancestors(name)) | {name}
        for target, _ in imported_modules(name, path, modules):
            for module in [*_ancestors(target), target]:
                if module in modules and module not in own:
                    graph[name].add(module)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_python_modules_import_no_circle():
    assert circles(python_graph()) == []


def test_no_module_imports_back_up_into_its_own_package():
    """``from .. import create_app``, ``from backend import __version__``, ``from . import
    gateway`` inside a room: a name taken from a package that contains the importer."""
    modules = python_modules()
    upward = []
    for name, path in modules.items():
        if name in ENTRY_POINTS:
            continue
        for target, from_init in imported_modules(name, path, modules):
            if from_init and target in _ancestors(name):
                upward.append(f"{name} imports a name of {target}/__init__.py")
    assert upward == []


def test_each_floor_imports_only_from_the_floors_below():
    modules = python_modules()
    climbing = []
    for name, path in modules.items():
        parts = name.split(".")
        floor = FLOORS.get(parts[1]) if len(parts) > 2 or name in {f"backend.{r}" for r in FLOORS} \
            else None
        if floor is None:
            continue
        for target, _ in imported_modules(name, path, modules):
            target_room = target.split(".")[1] if target.count(".") else None
            if FLOORS.get(target_room, 0) > floor:
                climbing.append(f"{name} (floor {floor}) imports {target} (floor {FLOORS[target_room]})")
    assert climbing == []


# Static imports and re-exports, bare imports, and dynamic ``import('./x.js')``: a circle
# closed by a dynamic import is still a circle, only a hidden one.
ES_IMPORT = re.compile(r"""^\s*(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]"""
                       r"""|^\s*import\s*['"]([^'"]+)['"]"""
                       r"""|\bimport\(\s*['"]([^'"]+)['"]\s*\)""", re.M)


def addin_graph() -> dict[str, set[str]]:
    """ES module → the relative modules it imports (the vendored libraries are not ours)."""
    files = [path for path in sorted(ADDIN.rglob("*.js"))
             if "vendor" not in path.relative_to(ADDIN).parts
             and "node_modules" not in path.relative_to(ADDIN).parts]
    graph: dict[str, set[str]] = {}
    for path in files:
        name = str(path.relative_to(ADDIN))
        graph[name] = set()
        for match in ES_IMPORT.finditer(path.read_text()):
            spec = match.group(1) or match.group(2) or match.group(3)
            if not spec.startswith("."):
                continue
            target = (path.parent / spec).resolve()
            try:
                graph[name].add(str(target.relative_to(ADDIN.resolve())))
            except ValueError:
                continue
    return graph


def test_addin_modules_import_no_circle():
    assert circles(addin_graph()) == []


def test_the_checker_sees_circles_and_upward_imports(tmp_path):
    """The checks above would see what they look for."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []
    specs = [m.group(1) or m.group(2) or m.group(3) for m in ES_IMPORT.finditer(
        "import { a } from './a.js';\nexport { b } from \"./b.js\";\nimport './c.js';\n"
        "const d = await import('./d.js');\n")]
    assert specs == ["./a.js", "./b.js", "./c.js", "./d.js"]
    graph = python_graph()
    assert "backend.usecases.metered" in graph["backend.usecases.assist"]
    assert "backend.llm" in graph["backend.usecases.assist"], "a submodule import runs its package"
    assert "backend.audit" not in graph["backend.audit.records"], "a package's own modules do not re-enter it"
    source = "from .. import create_app\nfrom . import gateway\n"
    (tmp_path / "backend" / "room").mkdir(parents=True)
    (tmp_path / "backend" / "__init__.py").write_text("")
    (tmp_path / "backend" / "room" / "__init__.py").write_text("")
    (tmp_path / "backend" / "room" / "mod.py").write_text(source)
    found = imported_modules("backend.room.mod", tmp_path / "backend" / "room" / "mod.py",
                             {"backend": Path(), "backend.room": Path(), "backend.room.mod": Path()})
    assert found == [("backend", True), ("backend.room", True)]
