"""What the room's screen shows: one projection per document."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ...extensions import db
from ...services import utcnow

MESSAGE_MAX = 200


class Shown(StrEnum):
    """What a projection shows."""

    NOTHING = "nothing"
    SECTION = "section"
    AMENDMENT = "amendment"
    VOTE = "vote"  # a vote on the whole text (a vote on an amendment is shown with its amendment)


class Projection(db.Model):
    """What a document's projector shows now: nothing, a section, an amendment (with its section), or a vote.

    An amendment shown keeps ``section_id`` at its own section, so stepping
    to the next amendment knows where it is. ``message`` is a short note for
    the room while nothing is shown ("Back at 14:30"). ``revision`` grows
    with every change, so a console showing an older state is refused
    instead of acting on what the room no longer sees. ``vote_id`` is a vote on
    the whole text (the final vote of the assembly), shown alone.
    """

    __tablename__ = "projections"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id", ondelete="SET NULL"))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id", ondelete="SET NULL"))
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("votes.id", ondelete="SET NULL"))
    message: Mapped[str | None] = mapped_column(String(MESSAGE_MAX))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revision: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Projection of document {self.document_id}: {self.shown.value} (revision {self.revision})>"

    @property
    def shown(self) -> Shown:
        """Whether the screen shows nothing, a section, an amendment or a vote on the whole text."""
        if self.vote_id is not None:
            return Shown.VOTE
        if self.amendment_id is not None:
            return Shown.AMENDMENT
        return Shown.SECTION if self.section_id is not None else Shown.NOTHING
