"""Recording and reading audit events."""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..pagination import Page, paginate
from .models import AuditEvent

_signals = Namespace()

# Sent inside the transaction of every recorded change, after the event is
# flushed (it has an id). Every state change records an event, so this is
# the one feed that notifications and the search index follow: listeners
# write in the same transaction, and queue outside work with after_commit.
event_recorded = _signals.signal("event-recorded")


def record_event(
    actor,
    action: str,
    obj,
    *,
    document_id: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the running transaction (the caller's service commits)."""
    if obj.id is None:
        db.session.flush()
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=obj.__tablename__,
        object_id=obj.id,
        document_id=document_id,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
    )
    event.subject = obj
    db.session.add(event)
    if event_recorded.receivers:
        db.session.flush()
        event_recorded.send(event, obj=obj, actor=actor)
    return event


def events_for(object_type: str, object_id: int) -> list[AuditEvent]:
    """Return the events of one object, oldest first, with their actors."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .options(joinedload(AuditEvent.actor))
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id)
        )
    )


def document_log(document_id: int, page: int = 1, per_page: int = 50) -> Page[AuditEvent]:
    """Return one page of a document's events, newest first (two queries)."""
    return paginate(
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(AuditEvent.document_id == document_id)
        .order_by(AuditEvent.id.desc()),
        page,
        per_page,
    )
