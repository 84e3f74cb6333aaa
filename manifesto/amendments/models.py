"""Amendments, their revisions, supports and collisions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from flask_babel import gettext as _, lazy_gettext as _l

from ..extensions import db
from ..services import utcnow
from .citations import Numbering, numbering_for, shift_numbers
from .wording import READER, Words, display_title, parse_note, render_excerpt, render_note

# Names shown to people, translated when shown (lazy: read at import by the forms).
KIND_LABELS = {"modify": _l("Change a section"), "delete": _l("Delete a section"),
               "insert": _l("Insert a new section")}
STATUS_LABELS = {
    "draft": _l("Draft"), "submitted": _l("Open"), "withdrawn": _l("Withdrawn"), "accepted": _l("Accepted"),
    "accepted_modified": _l("Accepted with modifications"), "rejected": _l("Rejected"),
    "obsolete": _l("Obsolete"), "merged": _l("Merged"),
}


class Kind(StrEnum):
    """What an amendment does to the document."""

    MODIFY = "modify"
    DELETE = "delete"
    INSERT = "insert"

    @property
    def label(self) -> str:
        """Human name of the kind, in the reader's language."""
        return str(KIND_LABELS[self.value])


class Status(StrEnum):
    """Where an amendment stands."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"
    ACCEPTED_MODIFIED = "accepted_modified"
    REJECTED = "rejected"
    OBSOLETE = "obsolete"
    MERGED = "merged"

    @property
    def label(self) -> str:
        """Human name of the status, in the reader's language."""
        return str(STATUS_LABELS[self.value])

    @property
    def is_open(self) -> bool:
        """Open amendments follow the text and wait for a decision."""
        return self is Status.SUBMITTED

    @property
    def is_decided(self) -> bool:
        """Decided amendments are closed for good."""
        return self in DECIDED


DECIDED = frozenset({Status.ACCEPTED, Status.ACCEPTED_MODIFIED, Status.REJECTED, Status.OBSOLETE, Status.MERGED})


class Amendment(db.Model):
    """A proposed change to a document, written against one version of a section.

    ``proposed_*`` is the author's text; diffs, line numbers, the title and
    the changed spans are stored whenever that text or its base changes. Line
    numbers are stored relative to the base version and numbered document-wide
    only where shown (``cited_lines``, ``title_in``, ``inline_diff_html``), so
    they never drift when another section changes.
    """

    __tablename__ = "amendments"
    __table_args__ = (
        UniqueConstraint("document_id", "number", name="uq_amendments_document_number"),
        Index("ix_amendments_document_status", "document_id", "status"),
        Index("ix_amendments_section_status", "section_id", "status"),
        Index("ix_amendments_author", "author_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    number: Mapped[int | None] = mapped_column(Integer)  # given on submission, ...
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=Status.DRAFT.value)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # modify/delete: the section changed; insert: the section the new one follows (None: at the start).
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("section_versions.id"))
    proposed_heading: Mapped[str | None] = mapped_column(String(300))
    proposed_body: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # Title and excerpt in English (search, archives); ``summary`` keeps them as data, and
    # ``display_title``/``display_excerpt`` put that into the reader's language.
    title: Mapped[str] = mapped_column(String(200), default="")
    # What it changes in a few plain words ("replaces “x” with “y”"), for the rows of the lists.
    excerpt: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"title": {...}, "excerpt": {...}}, see wording
    # The lines it changes, numbered within its base version (1: the version's first line); document-wide
    # numbers are worked out where shown, against the numbering shown (``cited_lines``, see citations.py).
    first_rel_line: Mapped[int | None] = mapped_column(Integer)
    last_rel_line: Mapped[int | None] = mapped_column(Integer)
    diff_inline_html: Mapped[str | None] = mapped_column(Text)
    diff_side_html: Mapped[str | None] = mapped_column(Text)
    heading_diff_html: Mapped[str | None] = mapped_column(Text)
    hunks: Mapped[list[Any] | None] = mapped_column(JSON)  # changed spans of the base: [[start, end], ...]
    conflicted: Mapped[bool] = mapped_column(Boolean, default=False)
    conflict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped on every change; forms carry it so that no change is lost to a race.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    final_heading: Mapped[str | None] = mapped_column(String(300))
    final_body: Mapped[str | None] = mapped_column(Text)
    modification_diff_html: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id"))
    result_version_id: Mapped[int | None] = mapped_column(ForeignKey("section_versions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Hidden by a moderator after a report, with a public reason; the author still sees it.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author = relationship("User", foreign_keys=[author_id], lazy="raise")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="raise")
    section = relationship("Section", foreign_keys=[section_id], lazy="raise")
    base_version = relationship("SectionVersion", foreign_keys=[base_version_id], lazy="raise")
    result_version = relationship("SectionVersion", foreign_keys=[result_version_id], lazy="raise")
    merged_into: Mapped[Amendment | None] = relationship(remote_side=[id], lazy="raise")
    # The current heading of its section, loaded by the lists in their own query (None elsewhere).
    section_heading: Mapped[str | None] = query_expression()

    def __repr__(self) -> str:
        return f"<Amendment {self.code} {self.kind} {self.status}>"

    @property
    def code(self) -> str:
        """Short stable code, e.g. A-014 (drafts have none yet)."""
        return f"A-{self.number:03d}" if self.number else _("Draft")

    @property
    def display_title(self) -> str:
        """The title in the reader's language ("§3, lignes 12–14") against the live numbering.

        The stored English one when it has no data.
        """
        return display_title(self.summary, self.title)

    def title_in(self, numbering: Numbering | None = None, words: Words = READER) -> str:
        """The title with the section number and lines of ``numbering`` (a release's; the live text's by default)."""
        return display_title(self.summary, self.title, words, numbering)

    def cited_lines(self, numbering: Numbering | None = None) -> tuple[int, int] | None:
        """The document-wide lines it changes in ``numbering`` (the live text's by default); None without lines."""
        if self.first_rel_line is None or self.last_rel_line is None:
            return None
        return numbering_for(self.document_id, numbering).lines(self.section_id, self.first_rel_line,
                                                                 self.last_rel_line)

    def inline_diff_html(self, numbering: Numbering | None = None) -> str | None:
        """The stored numbered diff, its lines numbered as in ``numbering`` (the live text's by default)."""
        if self.kind == Kind.INSERT.value or not self.diff_inline_html:
            return self.diff_inline_html
        place = numbering_for(self.document_id, numbering).place(self.section_id)
        return shift_numbers(self.diff_inline_html, place.offset)

    @property
    def display_excerpt(self) -> str | None:
        """What it changes, in the reader's language; the stored English words for rows written before."""
        data = (self.summary or {}).get("excerpt")
        return render_excerpt(data) if data else self.excerpt

    @property
    def status_enum(self) -> Status:
        """The status as an enum."""
        return Status(self.status)

    @property
    def kind_enum(self) -> Kind:
        """The kind as an enum."""
        return Kind(self.kind)

    @property
    def is_hidden(self) -> bool:
        """Hidden by a moderator (the text is replaced by the reason for everyone but its author)."""
        return self.hidden_at is not None

    @property
    def is_open(self) -> bool:
        """Whether the amendment waits for a decision."""
        return self.status == Status.SUBMITTED

    def collecting_support(self, min_supporters: int) -> bool:
        """Whether it still needs supporters before it can be decided."""
        return self.is_open and self.support_count < min_supporters


class AmendmentRevision(db.Model):
    """One state of an amendment's text: kept on every edit, rebase and resolution."""

    __tablename__ = "amendment_revisions"
    __table_args__ = (UniqueConstraint("amendment_id", "number", name="uq_amendment_revisions_amendment_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("section_versions.id"))
    proposed_heading: Mapped[str | None] = mapped_column(String(300))
    proposed_body: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200))  # in English; ``note_data`` says it in any language
    note_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author = relationship("User", lazy="raise")
    base_version = relationship("SectionVersion", lazy="raise")

    @property
    def display_note(self) -> str:
        """How this revision came about, in the reader's language ("rebasée sur la version 3")."""
        data = self.note_data or parse_note(self.note)
        return render_note(data) if data else (self.note or "")


class Support(db.Model):
    """A participant co-signs someone else's amendment."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("amendment_id", "user_id", name="uq_supports_amendment_user"),
                      Index("ix_supports_user", "user_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user = relationship("User", lazy="raise")


class Collision(db.Model):
    """Two open amendments on the same version change overlapping text.

    Stored once per pair (lower id first) when either is written or rebased.
    """

    __tablename__ = "collisions"
    __table_args__ = (UniqueConstraint("amendment_id", "other_id", name="uq_collisions_pair"),
                      Index("ix_collisions_other", "other_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"))
    other_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"))
