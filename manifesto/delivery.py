"""How responses leave: compression, static files, cookies (being built)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install compression, hashed static URLs and the cookie policy."""
