"""API v1: one module per area, each declaring its operations on the one blueprint with ``spec.operation``."""

from __future__ import annotations

# Importing a module declares its operations; every one is imported here, once, before any app is built.
from . import amendments, discussion, documents, releases, search  # noqa: F401
from . import votes  # noqa: F401  (the plenary's votes, read-only)
from .blueprint import bp

__all__ = ["bp"]
