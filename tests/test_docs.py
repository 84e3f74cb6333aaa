"""The architecture notes name code that exists: a renamed module or function fails here, not in a reader's head."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "manifesto"
NOTES = ROOT / "docs" / "ARCHITECTURE.md"
ROOT_MODULES = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
AREAS = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
CODE = re.compile(r"`([^`\s]+)`")


def _quoted() -> list[str]:
    """Every ``code`` span of the notes, without a call's parentheses."""
    return [name.removesuffix("()") for name in CODE.findall(NOTES.read_text(encoding="utf-8"))]


def _file_exists(name: str) -> bool:
    """A path as the notes write it: from the repository, from the package, or a file name found in either."""
    if (ROOT / name).exists() or (PACKAGE / name).exists():
        return True
    return "/" not in name and any(ROOT.glob(f"manifesto/**/{name}")) or any(ROOT.glob(f"tests/**/{name}"))


def _resolves(dotted: str) -> bool:
    """A dotted name: the longest importable module of the package, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module("manifesto." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(obj, attribute):
                return False
            obj = getattr(obj, attribute)
        return True
    return False


def _code_names() -> list[str]:
    """Dotted names of code: a root module's, or an area's with at least a module and a name.

    Two-part names that start with an area are left out: the notes also name
    table columns that way (``amendments.summary``, ``users.locale``).
    """
    names = []
    for name in _quoted():
        if not re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", name) or name.endswith((".py", ".md", ".html")):
            continue
        first, parts = name.split(".")[0], name.count(".") + 1
        if first in ROOT_MODULES or (first in AREAS and parts >= 3):
            names.append(name)
    return names


def test_the_notes_name_files_that_exist():
    missing = [name for name in _quoted() if name.endswith(".py") and not _file_exists(name)]
    assert not missing


@pytest.mark.parametrize("name", sorted(set(_code_names())))
def test_the_notes_name_code_that_exists(app, name):
    assert _resolves(name), f"docs/ARCHITECTURE.md names `{name}`, which the code no longer has"


def test_the_checker_catches_a_renamed_function(app):
    assert _resolves("web.refusals")
    assert not _resolves("web.form_error")
    assert not _file_exists("exports/model.py")
