"""Releases: named, dated, immutable states of the whole document.

A release names the exact :class:`SectionVersion` of every live section at
the moment it was published, in order, with the document-wide number of
each section's first line then. Versions are immutable, so a release reads
the same forever; no service edits or deletes a release's sections.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services import as_utc, utcnow

NAME_MAX = 200
SLUG_MAX = 80


class Release(db.Model):
    """A named, dated snapshot of the whole document ("Draft 2 — for the regional consultations")."""

    __tablename__ = "releases"
    __table_args__ = (
        UniqueConstraint("document_id", "slug", name="uq_releases_document_slug"),
        UniqueConstraint("document_id", "name", name="uq_releases_document_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    slug: Mapped[str] = mapped_column(String(SLUG_MAX))  # ASCII, derived from the name, unique per document
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown source
    description_html: Mapped[str] = mapped_column(Text, default="")  # rendered and sanitised once, when published
    # The document as it stood at that moment: its title and introduction can change later.
    document_title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="")
    introduction_html: Mapped[str] = mapped_column(Text, default="")
    section_count: Mapped[int] = mapped_column(Integer, default=0)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by = relationship("User", foreign_keys=[created_by_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Release {self.slug} of document {self.document_id}{' final' if self.is_final else ''}>"

    @property
    def published_at(self) -> datetime:
        """When the release was published, as aware UTC."""
        return as_utc(self.created_at)


class ReleaseSection(db.Model):
    """One section of a release: the exact version it had, its place and where its lines started."""

    __tablename__ = "release_sections"
    __table_args__ = (
        UniqueConstraint("release_id", "position", name="uq_release_sections_release_position"),
        UniqueConstraint("release_id", "section_id", name="uq_release_sections_release_section"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    position: Mapped[int] = mapped_column(Integer)  # 1..n: the section's number in the release
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("section_versions.id"))
    first_line: Mapped[int] = mapped_column(Integer)  # document-wide number of its first line then

    section = relationship("Section", lazy="raise")
    version = relationship("SectionVersion", lazy="raise")

    def __repr__(self) -> str:
        return f"<ReleaseSection r{self.release_id} §{self.position} v{self.version_id}>"
