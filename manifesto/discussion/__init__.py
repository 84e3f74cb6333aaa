"""Discussion: comments on sections, passages and amendments, moderation, notifications and activity."""

from __future__ import annotations

from flask import Flask

from ..audit.states import register_parts
from ..documents.contributions import register_provider
from ..documents.signals import version_written


def init_app(app: Flask) -> None:
    """Wire the discussion into the app: its pages, its threads on other areas' pages, passages that follow the text."""
    from . import comments, figures, views

    app.register_blueprint(views.bp)
    register_provider("discussion", figures.document_page_figures)
    register_parts("comments", figures.changed_parts)
    # Connected after amendments: a new version rebases the amendments, then locates the passages.
    version_written.connect(comments.follow_new_version)
