"""Every view that reaches a model host or the case-law search goes through the metered
call (role, quota, record, tokens): the routes are listed from ``app.url_map`` and each
view's code is read (``ast``, so a comment or a string cannot pass for a call).

A view may reach a host or search only by calling a use case (``backend.usecases``) whose
function enters ``with metered(...)``, itself or through functions of its own module. A
view module that names the gateway or the search functions directly bypasses it.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from pathlib import Path

import pytest

from backend import create_app

# What uses a host or the search index (names of the rooms' public functions).
HOST_OR_SEARCH = {
    "backend.llm": {"gateway", "complete"},
    "backend.retrieval": {"search", "search_detailed", "grounding_sources"},
}
METERED = ("backend.usecases.metered", "metered")
# Views that must be found metered: if the listing finds none of these, it is broken.
KNOWN_METERED = {"search.search", "assist.assist", "transcribe.transcribe",
                 "attachments.summarize", "routing.suggest"}


def _bindings(tree: ast.Module, module: str) -> dict[str, tuple[str, str | None]]:
    """Local name → (module, attribute or None) for every import of ``module``'s source."""
    package = module.rsplit(".", 1)[0]
    names: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if importlib.util.find_spec(submodule.split(".")[0]) and _is_module(submodule):
                    names[alias.asname or alias.name] = (submodule, None)
                else:
                    names[alias.asname or alias.name] = (source, alias.name)
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _target(node: ast.expr, names: dict[str, tuple[str, str | None]]) -> tuple[str, str] | None:
    """(module, function) that a call's callee or a reference resolves to."""
    if isinstance(node, ast.Name) and node.id in names:
        module, attribute = names[node.id]
        return (module, attribute) if attribute else None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
        module, attribute = names[node.value.id]
        if attribute is None:
            return module, node.attr
        return f"{module}.{attribute}", node.attr
    return None


def uses_host_or_search(source: str, module: str) -> list[str]:
    """The references of ``source`` to a host or search function."""
    tree = ast.parse(source)
    names = _bindings(tree, module)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            target = _target(node, names)
            if target and target[1] in HOST_OR_SEARCH.get(target[0], ()):
                found.append(".".join(target))
    return sorted(set(found))


def _reached(tree: ast.Module, function: str) -> list[ast.AST]:
    """The nodes of ``function`` and of every function of the same module it calls."""
    functions = {node.name: node for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    seen: set[str] = set()
    nodes: list[ast.AST] = []
    todo = [function]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            nodes.append(node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                todo.append(node.func.id)
    return nodes


def enters_metered(source: str, module: str, function: str) -> bool:
    """Whether ``function`` of ``source`` enters ``with metered(...)``, itself or through
    the functions of its own module it calls."""
    tree = ast.parse(source)
    names = _bindings(tree, module)
    return any(isinstance(call := item.context_expr, ast.Call)
               and _target(call.func, names) == METERED
               for node in _reached(tree, function) if isinstance(node, (ast.With, ast.AsyncWith))
               for item in node.items)


def reaches_host_or_search(source: str, module: str, function: str) -> bool:
    """Whether ``function`` (or a function of its module it calls) names a host or search
    function."""
    tree = ast.parse(source)
    names = _bindings(tree, module)
    for node in _reached(tree, function):
        if isinstance(node, (ast.Name, ast.Attribute)):
            target = _target(node, names)
            if target and target[1] in HOST_OR_SEARCH.get(target[0], ()):
                return True
    return False


def usecase_calls(view) -> list[tuple[str, str]]:
    """The ``backend.usecases`` functions a view calls."""
    source = textwrap.dedent(inspect.getsource(view))
    module_source = Path(inspect.getsourcefile(view)).read_text()
    names = _bindings(ast.parse(module_source), view.__module__)
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            target = _target(node.func, names)
            if target and target[0].startswith("backend.usecases."):
                calls.append(target)
    return calls


def _views():
    app = create_app({"ENV": "development", "AUTH_MODE": "dev", "AUDIT_HASH_KEY": "k"})
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view = inspect.unwrap(view)
        yield rule.endpoint, view


def test_every_view_that_reaches_a_host_or_search_is_metered():
    metered_views, bypasses = set(), []
    for endpoint, view in _views():
        module_source = Path(inspect.getsourcefile(view)).read_text()
        direct = uses_host_or_search(module_source, view.__module__)
        if direct:
            bypasses.append(f"{endpoint}: its module calls {', '.join(direct)} without a use case")
        for module, function in usecase_calls(view):
            usecase_source = Path(importlib.util.find_spec(module).origin).read_text()
            if enters_metered(usecase_source, module, function):
                metered_views.add(endpoint)
            elif reaches_host_or_search(usecase_source, module, function):
                bypasses.append(f"{endpoint}: {module}.{function} does not enter metered()")
    assert bypasses == []
    assert KNOWN_METERED <= metered_views, KNOWN_METERED - metered_views


def test_the_check_sees_a_bypass_and_is_not_fooled_by_a_comment():
    view = ("from .. import llm, retrieval\n"
            "def answer():\n"
            "    # with metered(user, 'assist', 'draft') as call:\n"
            "    return llm.complete('draft', [])\n")
    assert uses_host_or_search(view, "backend.api.sneaky") == ["backend.llm.complete"]
    usecase = ("from .metered import metered\n"
               "from .. import llm\n"
               "def unmetered():\n"
               "    '''with metered(user, \"assist\", \"draft\")'''\n"
               "    return llm.gateway()\n"
               "def inner():\n"
               "    with metered(None, 'assist', 'draft'):\n"
               "        return llm.gateway()\n"
               "def outer():\n"
               "    return inner()\n")
    assert not enters_metered(usecase, "backend.usecases.sneaky", "unmetered")
    assert reaches_host_or_search(usecase, "backend.usecases.sneaky", "unmetered")
    assert enters_metered(usecase, "backend.usecases.sneaky", "outer")
    impostor = "from contextlib import nullcontext as metered\n" + usecase.split("\n", 1)[1]
    assert not enters_metered(impostor, "backend.usecases.sneaky", "outer")


@pytest.mark.parametrize("endpoint", sorted(KNOWN_METERED))
def test_known_use_case_views_exist(endpoint):
    assert endpoint in dict(_views())
