"""Amendments: propose, support, decide, and follow the text when it moves on."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from ..audit.states import register_parts
from ..documents.contributions import register_provider
from ..documents.signals import section_retired, version_written
from ..extensions import db


def init_app(app: Flask) -> None:
    """Wire amendments into the app: its pages, its parts of the document's pages, and following the text."""
    from . import citations, figures, views
    from .services import following

    app.register_blueprint(views.bp)
    register_provider("amendments", figures.document_page_figures)
    register_parts("amendments", figures.changed_parts)
    # blinker keeps one connection per receiver, however many apps the tests build.
    version_written.connect(following.follow_new_version)
    section_retired.connect(following.follow_retirement)
    # The live numbering, read once per transaction for the citations shown, is forgotten when the text moves.
    for name, listener in citations.SESSION_HOOKS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
