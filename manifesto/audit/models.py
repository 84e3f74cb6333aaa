"""Audit events: an append-only log of every state change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services import utcnow


class AuditEvent(db.Model):
    """One state change, written in the same transaction as the change itself."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_document_at", "document_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int] = mapped_column()
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor = relationship("User", lazy="raise")

    # Not stored: the object the service recorded the event for, while its transaction runs (states.py
    # asks its area which parts of the document the event changes).
    subject = None

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.object_type}:{self.object_id}>"


class ContentState(db.Model):
    """A counter that every write visible on a scope's pages bumps, in the write's own transaction.

    Scopes: ``site`` (names and roles shown on every page), ``document:<id>`` (a document's text,
    amendments, decisions, comments, releases and settings) and ``user:<id>`` (what one person sees
    of their own: follows, preferences). A page's validator and cache key are built from these
    counters, so reading them is all a conditional request costs (see ``audit/states.py``).
    """

    __tablename__ = "content_states"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<ContentState {self.scope}={self.state}>"
