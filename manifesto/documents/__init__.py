"""The document: its sections, and every version of each section."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Wire documents into the app: its pages (other areas add to them through ``contributions``)."""
    from . import replay, views

    app.register_blueprint(views.bp)
    replay.init_app(app)
