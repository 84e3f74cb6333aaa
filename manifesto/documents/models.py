"""Documents, sections and immutable section versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services import as_utc, utcnow
from ..text.lines import Layout


class Phase(StrEnum):
    """Where the document stands in its process."""

    DRAFTING = "drafting"
    AMENDMENTS = "amendments"
    REVIEW = "review"
    FINAL = "final"

    @property
    def label(self) -> str:
        """Human name of the phase, in the reader's language."""
        return str(PHASE_LABELS[self.value])


# Lazy: read when a page shows them, in that page's language.
PHASE_LABELS = {
    "drafting": _l("Drafting"),
    "amendments": _l("Amendments open"),
    "review": _l("Review"),
    "final": _l("Final"),
}

# How each kind of version reads in a section's history.
VERSION_KINDS = {
    "created": _l("created"),
    "edit": _l("edited"),
    "revert": _l("reverted"),
    "amendment": _l("amendment accepted"),
}


def version_kind_label(kind: str) -> str:
    """The words of a version's kind ("edit" → "edited"), in the reader's language."""
    label = VERSION_KINDS.get(kind)
    return str(label) if label is not None else kind


# The languages a document's text may be written in (search stems its words by it).
TEXT_LANGUAGES = ("en", "fr", "es")


class Document(db.Model):
    """A text written together (the manifesto)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="")
    introduction_html: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(20), default=Phase.DRAFTING.value)
    amendment_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    min_supporters: Mapped[int] = mapped_column(Integer, default=0)
    line_length: Mapped[int] = mapped_column(Integer, default=80)
    # The language the text is written in (en, fr, es): search stems words by it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Bumped by every structural change (new, moved, retired section), so
    # two moderators reordering at once cannot silently undo each other.
    structure_version: Mapped[int] = mapped_column(Integer, default=1)

    def __repr__(self) -> str:
        return f"<Document {self.slug}>"

    @property
    def phase_enum(self) -> Phase:
        """The phase as an enum."""
        return Phase(self.phase)

    @property
    def deadline(self) -> datetime | None:
        """The amendment deadline, as aware UTC."""
        return as_utc(self.amendment_deadline)

    def amendments_open(self, now: datetime | None = None) -> bool:
        """Whether participants may propose amendments now."""
        if self.phase != Phase.AMENDMENTS:
            return False
        deadline = self.deadline
        return deadline is None or (now or utcnow()) < deadline


class Section(db.Model):
    """A numbered part of a document; its text lives in its versions."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("section_versions.id", use_alter=True, name="fk_sections_current_version_id"))
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    document: Mapped[Document] = relationship(lazy="raise")
    current_version: Mapped[SectionVersion | None] = relationship(
        foreign_keys=[current_version_id], lazy="raise", post_update=True)

    def __repr__(self) -> str:
        return f"<Section {self.id} pos={self.position} v{self.version_count}>"

    @property
    def retired(self) -> bool:
        """Whether the section has left the current text."""
        return self.retired_at is not None


class SectionVersion(db.Model):
    """One immutable state of a section: text, heading, author, reason, and what it came from.

    The rendered HTML, the line layout and the diff against the parent are
    computed once, when the version is written, so reading pages never parse
    Markdown or diff text.
    """

    __tablename__ = "section_versions"
    __table_args__ = (UniqueConstraint("section_id", "number", name="uq_section_versions_section_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    layout_json: Mapped[str] = mapped_column(Text)
    line_count: Mapped[int] = mapped_column(Integer)
    diff_inline_html: Mapped[str | None] = mapped_column(Text)
    diff_side_html: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="edit")  # created, edit, revert, amendment
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("section_versions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    section: Mapped[Section] = relationship(foreign_keys=[section_id], lazy="raise")
    author = relationship("User", foreign_keys=[author_id], lazy="raise")
    approver = relationship("User", foreign_keys=[approver_id], lazy="raise")
    parent: Mapped[SectionVersion | None] = relationship(remote_side=[id], lazy="raise")

    def __repr__(self) -> str:
        return f"<SectionVersion s{self.section_id} v{self.number}>"

    @property
    def layout(self) -> Layout:
        """The stored line layout of the body."""
        return Layout.from_json(self.body, json.loads(self.layout_json))

    def numbered_lines(self, first_line: int = 1) -> list[NumberedLine]:
        """The body's lines as numbered for print and amendments, starting at ``first_line``.

        Reads the stored layout: the visible text and HTML of every line were
        computed when the version was written; no Markdown work happens here.
        """
        stored = self.layout
        offset = first_line - stored.first_number
        return [
            NumberedLine(line.number + offset, view.text, view.starts_block, view.html, view.block, view.depth)
            for line, view in zip(stored.lines, stored.views, strict=True)
        ]


@dataclass(frozen=True)
class NumberedLine:
    """A line of a version as shown with line numbers, on screen and in every export.

    ``text`` is the visible text of the line (no Markdown), ``html`` the same
    text with its inline formatting (bold, italics, links, code), sanitised.
    ``block`` names the rendered block the line belongs to (``p``, ``h3``..``h6``,
    ``li``, ``quote``, ``code``, ``table``, ``hr``); ``depth`` is its list or
    quote nesting, 0 at the top; ``starts_block`` marks a block's first line.
    """

    number: int
    text: str
    starts_block: bool
    html: str = ""
    block: str = "p"
    depth: int = 0
