"""Request ids, one log line per request, and the metrics endpoint (being built)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Install request ids, request logging and the metrics endpoint."""
