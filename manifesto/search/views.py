"""Pages of the search area."""

from __future__ import annotations

from flask import Blueprint

from . import indexing  # noqa: F401  (the index follows every recorded change)

bp = Blueprint("search", __name__)
