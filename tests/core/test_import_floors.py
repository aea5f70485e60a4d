"""The floors hold: the import graph of the app code, read from the source, has no circle and
no arrow going down-to-up.

Floors, bottom to top: the Bling client (`blingsync/bling/`, a leaf: see
tests/bling/test_leaf.py); the core (every `blingsync` module that `products/` or `webhooks/`
depend on, directly or through other core modules); `products/`; `webhooks/`; the operations
faces (`blingsync/operations/`), which only the project's URL map imports.

Every import counts: module level, inside functions and under TYPE_CHECKING alike (an import
inside a function is still an arrow), and importing `a.b.c` also runs `a/__init__.py` and
`a/b/__init__.py`, so a module depends on the packages around what it imports. Migrations
are left out: they are history, loaded by Django's migration loader, not by the app.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("blingsync", "products", "webhooks")
UPPER = ("products", "webhooks")
OPERATIONS = "blingsync.operations"
# Who may import the operations faces: themselves, the project's URL map, and the task
# names django-q stored before the faces moved up (nothing in the app imports it).
OPERATIONS_IMPORTERS = ("blingsync.urls", "blingsync.alerts.tasks")

Graph = dict[str, set[str]]


def _module_files(root: Path) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if "migrations" in rel.parts:
                continue
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imported_names(name: str, path: Path, source: str) -> Iterable[str]:
    """Dotted names a module's imports reach (absolute, relative resolved), each import
    statement anywhere in the file."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(source, filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module
            # `from pkg import mod` names a module through its package.
            yield from (f"{module}.{alias.name}" for alias in node.names)


def import_graph(sources: dict[str, tuple[Path, str]]) -> Graph:
    """{module: modules of the app it imports}, with the packages each import runs."""
    graph: Graph = {name: set() for name in sources}
    for name, (path, source) in sources.items():
        # A module's own packages run before it: not an arrow of its making.
        own = {".".join(name.split(".")[:end]) for end in range(1, name.count(".") + 2)}
        for imported in _imported_names(name, path, source):
            parts = imported.split(".")
            # The module itself (or the longest part of the name that is one) and every
            # package on the way to it.
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                if target in graph and target not in own:
                    graph[name].add(target)
    return graph


def app_graph(root: Path = ROOT) -> Graph:
    files = _module_files(root)
    return import_graph(
        {name: (path, path.read_text(encoding="utf-8")) for name, path in files.items()}
    )


def circles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (and self-loops)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        # Iterative Tarjan: (node, iterator over its successors).
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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


def _top(module: str) -> str:
    return module.split(".")[0]


def _is_operations(module: str) -> bool:
    return module == OPERATIONS or module.startswith(OPERATIONS + ".")


def core_modules(graph: Graph) -> set[str]:
    """The `blingsync` modules that `products/` or `webhooks/` depend on, directly or
    through other modules."""
    seen = {m for m in graph if _top(m) in UPPER}
    todo = list(seen)
    while todo:
        for succ in graph[todo.pop()]:
            if succ not in seen:
                seen.add(succ)
                todo.append(succ)
    return {m for m in seen if _top(m) == "blingsync"}


def floor_breaches(graph: Graph) -> list[str]:
    breaches = []
    for module in sorted(core_modules(graph)):
        for succ in sorted(graph[module]):
            if _top(succ) in UPPER or _is_operations(succ):
                breaches.append(f"core {module} imports {succ}")
    for module in sorted(graph):
        for succ in sorted(graph[module]):
            if _top(module) == "products" and _top(succ) == "webhooks":
                breaches.append(f"products {module} imports {succ}")
            if (
                _is_operations(succ)
                and not _is_operations(module)
                and module not in OPERATIONS_IMPORTERS
            ):
                breaches.append(f"{module} imports the operations face {succ}")
    return breaches


def test_the_app_code_has_no_circle_of_imports():
    graph = app_graph()
    assert len(graph) > 100  # the walk found the code
    assert circles(graph) == []


def test_the_core_products_and_operations_stay_on_their_floors():
    graph = app_graph()
    core = core_modules(graph)
    assert {"blingsync.jobrunner", "blingsync.audit", "blingsync.runtime"} <= core
    assert not any(_is_operations(m) for m in core)
    assert floor_breaches(graph) == []


def _graph_of(files: dict[str, str]) -> Graph:
    return import_graph(
        {name: (Path(name.replace(".", "/") + ".py"), text) for name, text in files.items()}
    )


def test_the_check_sees_a_circle_through_a_function_level_import():
    graph = _graph_of(
        {
            "blingsync": "",
            "blingsync.audit": "from blingsync.jobrunner import x\n",
            "blingsync.jobrunner": "def f():\n    from blingsync import audit\n",
        }
    )
    assert circles(graph) == [["blingsync.audit", "blingsync.jobrunner"]]


def test_the_check_sees_the_core_importing_a_floor_above_it():
    graph = _graph_of(
        {
            "blingsync": "",
            "blingsync.status": "def f():\n    from webhooks.selectors import n\n",
            "blingsync.admin": "from blingsync.admin import conn\n",
            "blingsync.admin.conn": "import blingsync.status\n",
            "blingsync.admin.readonly": "",
            "blingsync.operations": "",
            "blingsync.operations.mode": "",
            "blingsync.runtime": "from .operations.mode import mode_set\n",
            "products": "",
            "products.admin": "from blingsync.admin.readonly import Mixin\n",
            "products.jobs": "from blingsync.runtime import r\nimport webhooks.models\n",
            "webhooks": "",
            "webhooks.selectors": "",
            "webhooks.models": "",
        }
    )
    # products.admin reaches blingsync.admin.conn through the package's __init__.
    assert floor_breaches(graph) == [
        "core blingsync.runtime imports blingsync.operations",
        "core blingsync.runtime imports blingsync.operations.mode",
        "core blingsync.status imports webhooks",
        "core blingsync.status imports webhooks.selectors",
        "blingsync.runtime imports the operations face blingsync.operations",
        "blingsync.runtime imports the operations face blingsync.operations.mode",
        "products products.jobs imports webhooks",
        "products products.jobs imports webhooks.models",
    ]
