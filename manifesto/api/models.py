"""The API's own rows: personal access tokens, webhooks and their deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..extensions import db
from ..services import as_utc, utcnow

# What a token may be used for. A token never does more than its user may: these only narrow.
SCOPES = ("read", "propose", "comment", "moderate")


class ApiToken(db.Model):
    """A personal access token: a name, scopes, an optional expiry; only the SHA-256 of the secret is kept.

    The secret (``mfst_`` and 43 random characters) is shown once when the
    token is created; ``prefix`` (its first characters) lets the owner tell
    their tokens apart afterwards. A revoked or expired token is refused;
    the row stays, for the record of who used what.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    # Space-separated, in the order of SCOPES.
    scopes: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} user={self.user_id} {self.prefix}… {self.scopes}>"

    @property
    def scope_set(self) -> frozenset[str]:
        """The token's scopes as a set."""
        return frozenset(self.scopes.split())

    def expired(self, now: datetime) -> bool:
        """Whether the token's expiry has passed at ``now``."""
        return self.expires_at is not None and as_utc(self.expires_at) <= now

    def usable(self, now: datetime) -> bool:
        """Whether the token may still be used: not revoked, not expired."""
        return self.revoked_at is None and not self.expired(now)


class Webhook(db.Model):
    """A receiver an admin registered for one document's events, with the secret its deliveries are signed with.

    The secret must stay readable to sign each delivery (Standard Webhooks:
    HMAC-SHA256), so it is stored as it is, like the mail server's password
    in the configuration; it is shown only to admins, and can be replaced.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(String(100))
    # Space-separated event types (webhooks.EVENTS); empty means every event.
    events: Mapped[str] = mapped_column(String(400), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Since when every delivery failed (None while the last one succeeded): after a day, switched off.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer, default=1)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<Webhook {self.id} document={self.document_id} {self.url}{'' if self.active else ' off'}>"

    @property
    def event_set(self) -> frozenset[str]:
        """The event types the receiver asked for (empty: all)."""
        return frozenset(self.events.split())

    def wants(self, event_type: str) -> bool:
        """Whether this receiver is sent ``event_type``."""
        return not self.events or event_type in self.event_set


class WebhookDelivery(db.Model):
    """One event sent (or being sent) to one webhook: the exact body, its id, attempts and the last answer.

    ``message_id`` is the ``webhook-id`` header, the same on every attempt, so
    a receiver can tell a retry from a new event. ``status``: ``pending``
    (waiting for an attempt), ``sending`` (an attempt is under way, so a
    retry and a "send again" never both send it), ``delivered``, ``failed``
    (attempts ran out) or ``skipped`` (the webhook was off). A worker that
    dies mid-attempt leaves ``sending``: "send again" starts a new round.
    """

    __tablename__ = "webhook_deliveries"
    # One audit event may tell two things (a decision, and the version it wrote): one delivery of each.
    __table_args__ = (UniqueConstraint("webhook_id", "event_id", "event_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), index=True)
    # The audit event this delivery tells of (None for a test ping).
    event_id: Mapped[int | None] = mapped_column(ForeignKey("audit_events.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(60))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    webhook: Mapped[Webhook] = relationship()

    def __repr__(self) -> str:
        return f"<WebhookDelivery {self.id} webhook={self.webhook_id} {self.event_type} {self.status}>"
