"""The page cache (being built)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Choose the page cache's store: memory, or Redis when REDIS_URL is set."""
