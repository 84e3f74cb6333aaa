"""Discussion: comments and their history, and reports for the moderators."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services import utcnow

COMMENT_LIMIT = 20_000  # characters of Markdown in one comment
QUOTE_LIMIT = 2_000  # characters of a quoted passage
CONTEXT_CHARS = 32  # characters of prefix and suffix kept around a quote (W3C TextQuoteSelector)


class Target(StrEnum):
    """What a comment, a report or a follow is about."""

    SECTION = "section"
    AMENDMENT = "amendment"
    COMMENT = "comment"


class Comment(db.Model):
    """A comment on a section (optionally on a passage of it) or on an amendment, maybe a reply.

    A passage comment anchors its quote the way the W3C Web Annotation model
    does: a TextQuoteSelector (``quote``, ``quote_prefix``, ``quote_suffix``)
    plus a TextPositionSelector (``quote_start``, ``quote_end``) in the
    version it was written on (``anchor_version_id``). Whenever the section
    gets a new version, the quote is located again and the result stored in
    ``located_*``; ``passage_lost`` says it could not be found.
    """

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_section", "section_id", "id"),
        Index("ix_comments_amendment", "amendment_id", "id"),
        Index("ix_comments_document", "document_id", "id"),
        Index("ix_comments_thread", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    target: Mapped[str] = mapped_column(String(10))  # Target.SECTION or Target.AMENDMENT
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    thread_id: Mapped[int | None] = mapped_column(Integer)  # id of the thread's first comment (itself for a root)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change; the edit form carries it.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    # The passage (section comments only).
    quote: Mapped[str | None] = mapped_column(Text)
    quote_prefix: Mapped[str | None] = mapped_column(String(CONTEXT_CHARS * 4))
    quote_suffix: Mapped[str | None] = mapped_column(String(CONTEXT_CHARS * 4))
    quote_start: Mapped[int | None] = mapped_column(Integer)
    quote_end: Mapped[int | None] = mapped_column(Integer)
    anchor_version_id: Mapped[int | None] = mapped_column(ForeignKey("section_versions.id"))
    located_version_id: Mapped[int | None] = mapped_column(ForeignKey("section_versions.id"))
    located_start: Mapped[int | None] = mapped_column(Integer)
    located_end: Mapped[int | None] = mapped_column(Integer)
    passage_lost: Mapped[bool] = mapped_column(Boolean, default=False)

    author = relationship("User", foreign_keys=[author_id], lazy="raise")
    hidden_by = relationship("User", foreign_keys=[hidden_by_id], lazy="raise")
    anchor_version = relationship("SectionVersion", foreign_keys=[anchor_version_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Comment {self.id} on {self.target} depth={self.depth}>"

    @property
    def is_passage(self) -> bool:
        """Whether the comment is about a quoted passage of a section."""
        return self.quote is not None

    @property
    def is_deleted(self) -> bool:
        """Deleted by its author: a placeholder keeps the thread readable."""
        return self.deleted_at is not None

    @property
    def is_hidden(self) -> bool:
        """Hidden by a moderator with a public reason."""
        return self.hidden_at is not None

    @property
    def anchor(self) -> str:
        """The fragment that links to this comment on its page."""
        return f"comment-{self.id}"


class CommentRevision(db.Model):
    """An earlier text of a comment, kept when its author edits it."""

    __tablename__ = "comment_revisions"
    __table_args__ = (UniqueConstraint("comment_id", "number", name="uq_comment_revisions_comment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<CommentRevision {self.comment_id}#{self.number}>"


class ReportStatus(StrEnum):
    """Where a report stands."""

    OPEN = "open"
    DISMISSED = "dismissed"
    HIDDEN = "hidden"  # the moderator hid the item


class Report(db.Model):
    """A participant's report of a comment or an amendment, for the moderators' queue."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("reporter_id", "target", "target_id", name="uq_reports_reporter_target"),
        Index("ix_reports_document_status", "document_id", "status"),
        Index("ix_reports_target", "target", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    target: Mapped[str] = mapped_column(String(10))  # Target.COMMENT or Target.AMENDMENT
    target_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=ReportStatus.OPEN.value)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_reason: Mapped[str | None] = mapped_column(Text)

    reporter = relationship("User", foreign_keys=[reporter_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.target}:{self.target_id} {self.status}>"
