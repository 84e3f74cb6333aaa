"""The arrows point one way: views -> services -> models -> text, and areas lower down never import higher ones."""

from __future__ import annotations

import ast
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
