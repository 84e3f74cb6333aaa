"""Full-text search over sections, amendments and comments, on SQLite (FTS5) and PostgreSQL."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from ..audit.services import event_recorded
from ..extensions import db


def init_app(app: Flask) -> None:
    """Wire search into the app: its pages, the index following every event and commit, reindex."""
    from . import cli, indexing, views

    app.register_blueprint(views.bp)
    event_recorded.connect(indexing.note_event)
    # SQLAlchemy, unlike blinker, would add a listener twice: tests build many apps.
    for name, listener in (("before_commit", indexing.refresh_pending),
                           ("after_transaction_end", indexing.forget_pending)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
    app.cli.add_command(cli.reindex_command)
