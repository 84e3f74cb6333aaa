"""Finding things: the search index, and where each person's last look at a document's activity ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..services import utcnow


class SearchEntry(db.Model):
    """A searchable text: a section's current version, an amendment, or a visible comment.

    On PostgreSQL a GIN index over ``to_tsvector(language, title || ' ' || body)``
    answers queries; on SQLite an FTS5 table kept by triggers does. Both are
    created by the migration only (``0003_discussion``): the models cannot
    describe them, and the schema comparison leaves them out. ``language`` is a PostgreSQL text search configuration
    (english, french, spanish, simple), taken from the document's language.
    """

    __tablename__ = "search_entries"
    __table_args__ = (
        UniqueConstraint("kind", "object_id", name="uq_search_entries_kind_object"),
        Index("ix_search_entries_document", "document_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(String(10))  # "section", "amendment", "comment"
    object_id: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(20), default="simple")
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<SearchEntry {self.kind}:{self.object_id}>"


class Visit(db.Model):
    """Where a person's last look at a document's activity ended (the newest audit event seen)."""

    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("user_id", "document_id", name="uq_visits_user_document"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    visited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<Visit {self.user_id} {self.document_id} at event {self.last_event_id}>"
