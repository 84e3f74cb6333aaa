"""A merge in progress: one moderator's draft of a section's merge, saved as they work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ...accounts.models import User
from ...extensions import db
from ...services import utcnow


class MergeDraft(db.Model):
    """The merge of one section that one moderator is working on: at most one per section.

    ``choices`` is what the workspace form sends: ``{"places": {place id:
    [change ids or amendment keys]}, "heading": key or None}`` (see
    ``text.combine``); ``amendment_revisions`` the revision of each amendment
    as the moderator saw it (a merge of a changed amendment is refused);
    ``text`` the hand-edited result (None: not edited, the choices' text);
    ``reasons`` per amendment id ``{"status": ..., "reason": ...}`` as typed.
    ``revision`` counts saves, so a save from an older page is refused.
    """

    __tablename__ = "merge_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id", ondelete="CASCADE"), unique=True)
    moderator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    base_version_id: Mapped[int] = mapped_column(ForeignKey("section_versions.id", ondelete="CASCADE"))
    choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    amendment_revisions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    moderator: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<MergeDraft section={self.section_id} by {self.moderator_id} r{self.revision}>"
