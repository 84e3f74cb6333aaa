"""The arrows point one way: views -> services -> models -> text, and areas lower down never import higher ones.

Besides the order of the areas, the whole package is read as one import graph (every import, at module level
or inside a function, except under ``TYPE_CHECKING``): it has no circle, nothing below the root imports the
application factory, and inside each area the layers keep their direction.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "manifesto"

# Which areas each area may import (besides the shared modules at the package root).
ALLOWED = {
    "text": set(),
    "audit": set(),
    "accounts": {"audit"},
    "documents": {"accounts", "audit", "text"},
    "amendments": {"accounts", "audit", "documents", "text"},
    "discussion": {"accounts", "audit", "documents", "amendments", "text"},
    "notifications": {"accounts", "audit", "documents", "amendments", "discussion", "text"},
    "search": {"accounts", "audit", "documents", "amendments", "discussion", "text"},
    "releases": {"accounts", "audit", "documents", "amendments", "text"},
    "exports": {"accounts", "audit", "documents", "amendments", "discussion", "notifications", "releases", "search",
                "text"},
    "api": {"accounts", "audit", "documents", "amendments", "discussion", "notifications", "releases", "search",
            "text", "plenary"},  # api/v1/votes.py reads the plenary's votes: the plenary sits beneath the API
    "live": {"accounts", "audit", "documents", "amendments"},
    "plenary": {"accounts", "audit", "documents", "amendments", "discussion", "notifications", "releases", "search",
                "exports", "live", "text"},
}
AREAS = set(ALLOWED) | {"seed", "migrations"}


def _imports(path: Path) -> set[str]:
    """The manifesto areas a module imports, resolved from absolute and relative imports."""
    module_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(module_parts[:-node.level] if path.name != "__init__.py" else
                            module_parts[:len(module_parts) - node.level])
                target = base + (node.module.split(".") if node.module else [])
                names = [target + [alias.name] for alias in node.names]
            else:
                names = [(node.module or "").split(".") + [alias.name] for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for name in names:
            if len(name) >= 2 and name[0] == "manifesto" and name[1] in AREAS:
                found.add(name[1])
            elif name and name[0] in ("flask", "sqlalchemy", "flask_sqlalchemy"):
                found.add(name[0])
    return found


@pytest.mark.parametrize("area", sorted(ALLOWED))
def test_an_area_imports_only_the_areas_beneath_it(area):
    wrong = {}
    for path in sorted((PACKAGE / area).rglob("*.py")):
        extra = _imports(path) - ALLOWED[area] - {area, "flask", "sqlalchemy", "flask_sqlalchemy"}
        if extra:
            wrong[str(path.relative_to(PACKAGE))] = sorted(extra)
    assert not wrong


def test_the_text_engine_knows_no_flask_and_no_database():
    used = set().union(*(_imports(path) for path in (PACKAGE / "text").rglob("*.py")))
    assert not used & {"flask", "sqlalchemy", "flask_sqlalchemy"}


# ---------------------------------------------------------------------------
# The import graph: every module under the package, every import it makes.
# ---------------------------------------------------------------------------

def module_names(root: Path) -> dict[str, Path]:
    """Every module under the package directory ``root``, by dotted name (a package by its ``__init__``)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name,) + path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an ``if`` tests ``TYPE_CHECKING``, whose imports never run."""
    return ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
            or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _import_statements(node: ast.AST):
    """Every import below ``node``, at any depth (functions, methods, ``if`` and ``try`` blocks), except under TYPE_CHECKING."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_statements(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_statements(child)


def _resolve(dotted: str, modules: dict[str, Path]) -> str | None:
    """The most specific module of the package that ``dotted`` names (``a.b.c`` -> ``a.b`` if ``c`` is a name in it)."""
    parts = dotted.split(".")
    while parts:
        name = ".".join(parts)
        if name in modules:
            return name
        parts.pop()
    return None


def import_edges(root: Path) -> dict[str, dict[str, list[int]]]:
    """The import graph of the package at ``root``: module -> {imported module: [line numbers]}.

    ``import a.b`` and ``from a import b`` go to the submodule when ``b`` is one, else to ``a`` itself;
    relative imports are resolved against the importing module's package. Imports outside the package
    are left out.
    """
    modules = module_names(root)
    graph: dict[str, dict[str, list[int]]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: dict[str, list[int]] = {}
        for node in _import_statements(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[:len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [f"{stem}.{alias.name}" for alias in node.names]
            for target in targets:
                found = _resolve(target, modules)
                if found is not None and found != name:
                    lines = edges.setdefault(found, [])
                    if node.lineno not in lines:
                        lines.append(node.lineno)
        graph[name] = edges
    return graph


def import_circles(graph: dict[str, dict[str, list[int]]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted, in sorted order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        """Tarjan's depth-first step: number ``node`` and close a component at its root."""
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def describe_circles(graph: dict[str, dict[str, list[int]]]) -> list[str]:
    """One line per circle in an import graph, naming every import (with its line) that closes it."""
    lines = []
    for component in import_circles(graph):
        members = set(component)
        edges = [f"{source} -> {target} (line {', '.join(map(str, graph[source][target]))})"
                 for source in component for target in sorted(graph[source]) if target in members]
        lines.append(f"circle of {len(component)}: " + "; ".join(edges))
    return lines


# ---------------------------------------------------------------------------
# The rules, as data.
# ---------------------------------------------------------------------------

# Root modules (manifesto/*.py) the areas build on: plumbing below every area. They import one another and
# the text engine, never an area.
ROOT_SHARED = {"config", "database", "delivery", "errors", "extensions", "forms", "i18n", "jobs", "locking", "metrics",
               "observability", "pagecache", "pagination", "requests", "services", "spreadsheets", "templating", "web"}
# Root modules above the areas: they assemble the app from the areas, so no area may import them.
ROOT_TOP = {"__init__", "backup", "catalogue", "cli", "main", "worker"}
# The only modules of the package that may import the application factory (``wsgi.py`` lies outside it).
FACTORY_IMPORTERS = {"manifesto.worker"}

# Inside an area, the layers a module of each kind must not import, in any area:
# models hold rows and their small behaviour, so they know no services, forms or views;
# services change state and never render, so they know no forms or views (a form is the view's business);
# forms validate their own fields and may ask a service or a model (``validate_email``), never a view.
# A views module is imported by nobody but the factory, its area's ``__init__`` (``init_app``) and other views.
FORBIDDEN_LAYERS = {
    "models": {"services", "forms", "views"},
    "services": {"forms", "views"},
    "forms": {"views"},
}
KINDS = ("models", "services", "forms", "views")


def _root_module(name: str, modules: dict[str, Path]) -> str | None:
    """The file name (``web``, ``__init__``) of a module at the package root, or None for a module of an area."""
    parts = name.split(".")
    if len(parts) == 1:
        return "__init__"
    if len(parts) == 2 and modules[name].name != "__init__.py":
        return parts[1]
    return None


def _kind(name: str) -> str | None:
    """Which layer a module of an area belongs to: ``models``, ``services``, ``forms``, ``views`` or None.

    A module named after the layer (``accounts.views``), a module of a package named after it
    (``amendments.services.core``) and a module named ``<something>_<layer>`` (``exports.job_views``) count.
    """
    for part in name.split(".")[2:]:
        for kind in KINDS:
            if part == kind or part.endswith("_" + kind):
                return kind
    return None


def factory_imports(root: Path, allowed: set[str]) -> list[str]:
    """Every import of the package ``root`` itself (its ``__init__``, where the factory lives) by a module not in ``allowed``."""
    graph = package_graph() if root == PACKAGE else import_edges(root)
    return [f"{source} imports {root.name} (line {', '.join(map(str, targets[root.name]))})"
            for source, targets in sorted(graph.items())
            if root.name in targets and source not in allowed]


@functools.cache
def package_graph() -> dict[str, dict[str, list[int]]]:
    """The import graph of ``manifesto``, read once per run."""
    return import_edges(PACKAGE)


# ---------------------------------------------------------------------------
# The tests.
# ---------------------------------------------------------------------------

def test_no_import_circles():
    circles = describe_circles(package_graph())
    assert not circles, "import circles (move the shared part down or let the lower module keep a registry):\n" + \
        "\n".join(circles)


def test_no_area_imports_the_app_factory():
    wrong = factory_imports(PACKAGE, FACTORY_IMPORTERS)
    create_app = [f"{name} imports create_app (line {node.lineno})"
                  for name, path in module_names(PACKAGE).items() if name != "manifesto" and name not in FACTORY_IMPORTERS
                  for node in _import_statements(ast.parse(path.read_text()))
                  if any(alias.name.split(".")[-1] == "create_app" for alias in node.names)]
    assert not wrong + create_app


def test_every_area_has_its_place_in_the_order():
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    assert packages - AREAS == set(), "add each new area to ALLOWED, with the areas beneath it"


def test_every_root_module_is_placed_below_or_above_the_areas():
    modules = module_names(PACKAGE)
    roots = {_root_module(name, modules) for name in modules} - {None}
    assert not ROOT_SHARED & ROOT_TOP
    assert roots - ROOT_SHARED - ROOT_TOP == set(), "add each new root module to ROOT_SHARED or ROOT_TOP"


def test_areas_import_only_the_root_modules_beneath_them():
    modules = module_names(PACKAGE)
    wrong = []
    for source, targets in sorted(package_graph().items()):
        if _root_module(source, modules) is not None:
            continue
        for target in targets:
            root = _root_module(target, modules)
            if root is not None and root not in ROOT_SHARED:
                wrong.append(f"{source} -> {target}")
    assert not wrong


def test_shared_root_modules_import_no_area_but_the_text_engine():
    modules = module_names(PACKAGE)
    wrong = []
    for source, targets in sorted(package_graph().items()):
        if _root_module(source, modules) not in ROOT_SHARED:
            continue
        wrong += [f"{source} -> {target}" for target in targets
                  if _root_module(target, modules) is None and not target.startswith("manifesto.text")]
    assert not wrong


def test_the_text_engine_imports_nothing_of_the_app():
    wrong = [f"{source} -> {target}" for source, targets in sorted(package_graph().items())
             if source.startswith("manifesto.text") for target in targets if not target.startswith("manifesto.text")]
    assert not wrong


def test_views_services_models_point_one_way():
    wrong = []
    for source, targets in sorted(package_graph().items()):
        forbidden = FORBIDDEN_LAYERS.get(_kind(source), set())
        wrong += [f"{source} ({_kind(source)}) -> {target} ({_kind(target)})"
                  for target in targets if _kind(target) in forbidden]
    assert not wrong


def test_only_the_factory_an_area_init_and_views_import_views():
    modules = module_names(PACKAGE)
    wrong = []
    for source, targets in sorted(package_graph().items()):
        if _kind(source) == "views" or source == "manifesto" or (
                modules[source].name == "__init__.py" and source.count(".") == 1):
            continue
        wrong += [f"{source} -> {target}" for target in targets if _kind(target) == "views"]
    assert not wrong


def _plant(root: Path, files: dict[str, str]) -> Path:
    """Write a small package of modules under ``root`` and return its directory."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_circle_finder_finds_a_circle_closed_inside_a_function(tmp_path):
    package = _plant(tmp_path / "planted", {
        "__init__.py": "",
        "registry.py": "from . import renderer\n\nNAMES = {}\n",
        "renderer.py": "def render():\n    \"\"\"Late import.\"\"\"\n    if True:\n"
                       "        from .registry import NAMES\n    return NAMES\n",
        "alone.py": "from planted import registry\n",
    })
    circles = describe_circles(import_edges(package))
    assert circles == ["circle of 2: planted.registry -> planted.renderer (line 1); "
                       "planted.renderer -> planted.registry (line 4)"]


def test_the_circle_finder_resolves_absolute_relative_and_package_imports(tmp_path):
    package = _plant(tmp_path / "planted", {
        "__init__.py": "from .area import views\n",
        "area/__init__.py": "",
        "area/views.py": "import planted.area.models\n",
        "area/models.py": "from .. import helpers\n",
        "helpers.py": "from planted.area.models import Row\n",
    })
    graph = import_edges(package)
    assert graph["planted"] == {"planted.area.views": [1]}
    assert graph["planted.area.views"] == {"planted.area.models": [1]}
    assert graph["planted.area.models"] == {"planted.helpers": [1]}
    assert describe_circles(import_edges(package)) == ["circle of 2: planted.area.models -> planted.helpers (line 1); "
                                         "planted.helpers -> planted.area.models (line 1)"]


def test_imports_under_type_checking_close_no_circle(tmp_path):
    package = _plant(tmp_path / "planted", {
        "__init__.py": "",
        "first.py": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .second import Row\n"
                    "else:\n    Row = None\n",
        "second.py": "from . import first\n",
    })
    assert describe_circles(import_edges(package)) == []


def test_the_factory_check_finds_an_import_of_the_package_from_below(tmp_path):
    package = _plant(tmp_path / "planted", {
        "__init__.py": "def create_app():\n    \"\"\"The factory.\"\"\"\n",
        "worker.py": "from planted import create_app\n",
        "area/__init__.py": "",
        "area/queue.py": "def app():\n    \"\"\"Late import.\"\"\"\n    from .. import create_app\n    return create_app()\n",
    })
    assert factory_imports(package, {"planted.worker"}) == ["planted.area.queue imports planted (line 3)"]


def test_no_import_by_name_hides_an_arrow():
    """``importlib.import_module`` and ``__import__`` would hide an arrow from the graph above."""
    wrong = []
    for name, path in sorted(module_names(PACKAGE).items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in ("import_module", "__import__"):
                    wrong.append(f"{name} (line {node.lineno})")
    assert not wrong
