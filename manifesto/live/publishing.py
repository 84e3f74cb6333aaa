"""Notices leave after the commit, never before and never for a rollback: the rule, kept in one place.

Two sources, one path:

- every content-state scope a transaction bumps (``audit/states.py``: the
  scopes of each audit event it writes, so every service is covered without
  a line of its own) is a topic;
- :func:`announce` adds any other topic (``projector:<document id>``,
  ``merge:<section id>``, ``vote:<vote id>``) from inside a service.

Both are noted on the session while the transaction runs and published by
the session's ``after_commit``: a page that hears a notice and asks for its
part again reads the committed state. A rolled-back transaction (a refusal,
or an attempt ``@writes`` runs again) publishes nothing; the attempt that
commits notes its topics anew. Publishing never fails the request: the
change is saved, and the broker logs what it could not send.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..audit.models import AuditEvent
from ..audit.states import scopes_of
from ..extensions import db
from ..services import after_commit

log = logging.getLogger(__name__)

_KEY = "live_topics"


def announce(topic: str) -> None:
    """Publish a "changed" notice for ``topic`` once the running transaction commits (nothing on rollback).

    Safe in any service (``@writes``), also before its first statement (its transaction has not begun:
    the notice waits for the service's commit); outside a write service and a transaction it leaves at once.
    """
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_KEY, set()).add(topic)
        return
    try:
        after_commit(lambda: publish_now([topic]))
    except RuntimeError:  # not inside a write service: nothing to wait for
        publish_now([topic])


def publish_now(topics) -> None:
    """Hand topics to this app's broker now; a failure is logged, never raised (the change is saved)."""
    broker = current_app.extensions.get("live")
    if broker is None or not topics:
        return
    try:
        broker.publish(sorted(topics))
    except Exception:  # noqa: BLE001 - the user's change is committed; a notice lost costs a reload
        log.exception("live: publishing %d notice(s) failed", len(topics))


def _note_new_events(session: Session, flush_context, instances) -> None:
    """Before a flush, note the scopes of the audit events it writes (the scopes the commit will bump)."""
    topics = None
    for obj in session.new:
        if isinstance(obj, AuditEvent):
            topics = session.info.setdefault(_KEY, set()) if topics is None else topics
            topics |= scopes_of(obj)


def _publish_after_commit(session: Session) -> None:
    """The transaction committed: publish what it noted."""
    topics = session.info.pop(_KEY, None)
    if topics:
        publish_now(topics)


def _forget(session: Session, transaction) -> None:
    """A transaction that ended without committing leaves nothing noted (a retry notes it again)."""
    if transaction.parent is None:
        session.info.pop(_KEY, None)


HOOKS = (("before_flush", _note_new_events), ("after_commit", _publish_after_commit),
         ("after_transaction_end", _forget))


def install() -> None:
    """Follow every transaction of the app's session (once, however many apps a process builds)."""
    for name, listener in HOOKS:
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
