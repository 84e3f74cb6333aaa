"""Users and their roles."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, String, false
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

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        """Whether the account may log in."""
        return bool(self.active)

    def get_id(self) -> str:
        """Session identity: id plus the session token."""
        return f"{self.id}:{self.session_token}"

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
