"""Releases: named, dated, immutable states of the whole document, and the redline between them."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire releases into the app: its pages."""
    from . import views

    app.register_blueprint(views.bp)
