"""Notifications: follows, the notification centre, delivery choices and digests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..services import utcnow


class Follow(db.Model):
    """Someone follows a section or an amendment and hears when it changes."""

    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("user_id", "target", "target_id", name="uq_follows_user_target"),
        Index("ix_follows_target", "target", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target: Mapped[str] = mapped_column(String(10))  # "section" or "amendment"
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def __repr__(self) -> str:
        return f"<Follow {self.user_id} {self.target}:{self.target_id}>"


class Delivery(StrEnum):
    """How a kind of notification reaches someone."""

    IMMEDIATE = "immediate"  # an email now
    DIGEST = "digest"  # in the daily digest
    APP = "app"  # only in the notification centre


class Notification(db.Model):
    """One thing a person should know about, in the notification centre and maybe by email."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at", "id"),
        Index("ix_notifications_digest", "email_state", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_events.id"))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int] = mapped_column(Integer)
    # Plain text written when the notification is made (Jinja escapes it).
    summary: Mapped[str] = mapped_column(String(500))
    # The path of the page it links to, with the anchor, e.g. /d/doc/amendments/7#comment-12.
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "none" (in-app only), "queued" (an email is on its way), "sending" (a worker claimed it),
    # "sent", "digest" (waits for the digest), "digested" (claimed by digest ``digest_id``).
    email_state: Mapped[str] = mapped_column(String(10), default="none")
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"))

    actor = relationship("User", foreign_keys=[actor_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} for {self.user_id}>"


class NotificationSetting(db.Model):
    """A person's choice of delivery for one kind of notification (defaults apply without a row)."""

    __tablename__ = "notification_settings"
    __table_args__ = (UniqueConstraint("user_id", "kind", name="uq_notification_settings_user_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(30))
    delivery: Mapped[str] = mapped_column(String(10))

    def __repr__(self) -> str:
        return f"<NotificationSetting {self.user_id} {self.kind}={self.delivery}>"


class Digest(db.Model):
    """One digest email to one person: its notifications are claimed before it is sent, so it goes once.

    ``created_at`` is when it was last claimed for sending: a digest still
    unsent long after (its retries ran out, or a worker died) is claimed again
    by moving it forward, so that only one run takes it.
    """

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    items: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Digest {self.id} for {self.user_id}>"
