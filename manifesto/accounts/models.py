"""Users and their roles."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..services import utcnow


class Role(StrEnum):
    """What a person may do: participate, moderate, or run the instance."""

    PARTICIPANT = "participant"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """Human name of the role, in the reader's language."""
        return str(ROLE_LABELS[self.value])


# Lazy, so that each reader gets their own language when the label is shown.
ROLE_LABELS = {
    Role.PARTICIPANT.value: _l("Participant"),
    Role.MODERATOR.value: _l("Moderator"),
    Role.ADMIN.value: _l("Admin"),
}


def role_label(value: str | None) -> str:
    """Human name of a stored role value, in the reader's language (the value itself when unknown)."""
    label = ROLE_LABELS.get(value or "")
    return str(label) if label is not None else (value or "")


def new_session_token() -> str:
    """Return a fresh token that ties login sessions to the current password."""
    return secrets.token_urlsafe(16)


class User(UserMixin, db.Model):
    """A person with an account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.PARTICIPANT.value)
    organisation: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The person agreed to be named among the contributors in exported texts (off until they choose it).
    credit_in_exports: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Interface language ("en", "fr", "es"); None follows the browser. Mail goes out in it.
    locale: Mapped[str | None] = mapped_column(String(8))
    # IANA time zone for showing times ("Europe/Zurich"); None shows UTC.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # Changing it (password change) ends every other session of the user.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the person proved the address is theirs (a link we mailed, an invitation, an SSO provider);
    # None: self-registered and not yet verified (EMAIL_VERIFICATION=required lets them read, not act).
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # REGISTRATION=approval: a self-registered account waits for an admin before it may log in.
    awaiting_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Last time an invitation mail was asked for (import or resend); None: never invited.
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two factors (TOTP, RFC 6238): the base32 secret, when it was confirmed (None: off, or set up
    # but not yet confirmed), the last time step accepted (a code is never accepted twice), and the
    # wrong codes in a row with the time the code step stays locked until.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    totp_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    totp_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    @property
    def email_verified(self) -> bool:
        """Whether the person proved the address is theirs."""
        return self.email_verified_at is not None

    @property
    def two_factor_enabled(self) -> bool:
        """Whether logging in with the password also asks for a TOTP code."""
        return self.totp_enabled_at is not None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        """Whether the account may log in."""
        return bool(self.active)

    def get_id(self) -> str:
        """Session identity: id plus this browser's login-session key (``signin`` and the loader set it).

        Without a key (an account object not logged in through a session) the
        identity loads nobody.
        """
        return f"{self.id}:{getattr(self, 'login_session_key', '')}"

    @property
    def is_admin(self) -> bool:
        """Whether the user runs the instance."""
        return self.role == Role.ADMIN

    @property
    def is_moderator(self) -> bool:
        """Whether the user may decide on amendments and edit sections (admins may too)."""
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def role_label(self) -> str:
        """The user's role as the reader calls it ("Moderator", "Modérateur")."""
        return role_label(self.role)

    @property
    def display(self) -> str:
        """Name with organisation, as shown next to contributions."""
        return f"{self.name} ({self.organisation})" if self.organisation else self.name


class LoginSession(db.Model):
    """One login on one device: listed on the account page, ended from there or by a password change.

    The cookie holds a random key; only its SHA-256 is stored, so a copy of the
    database cannot be turned into a logged-in browser. ``generation`` is the
    account's ``session_token`` when the session began: rotating that token
    (password change, reset, deactivation) ends every session at once.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    generation: Mapped[str] = mapped_column(String(64))
    # How the person proved who they are: password, totp, recovery, sso, invitation, reset, registration.
    method: Mapped[str] = mapped_column(String(20))
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    device: Mapped[str | None] = mapped_column(String(120))  # "Firefox on Android", read from the user agent
    address: Mapped[str | None] = mapped_column(String(64))  # approximate: IPv4 /24, IPv6 /48
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(String(40))

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} user={self.user_id} {self.method}{' ended' if self.ended_at else ''}>"


class RecoveryCode(db.Model):
    """One of the ten single-use codes that stand in for the TOTP app (stored hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id}{' used' if self.used_at else ''}>"


class ExternalIdentity(db.Model):
    """An account at a single sign-on provider (OpenID Connect issuer and subject) linked to ours."""

    __tablename__ = "external_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<ExternalIdentity {self.id} {self.issuer} {self.subject} user={self.user_id}>"
