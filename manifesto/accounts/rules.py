"""Who may do what, by role: the one place every area asks.

A *member* is an active, logged-in account whose email address is verified
(when ``EMAIL_VERIFICATION`` is ``required``: an unverified account reads
but does not act); a *moderator* is a member whose
role is moderator or admin; an *admin* is a member with the admin role. The
``is_*`` questions answer True or False (templates hide what is refused), the
``require_*`` checks raise :class:`PermissionDenied` with a message in the
reader's language (services refuse with them). Rules about one area's
objects (who may edit an amendment, hide a comment) stay in that area and
are built from these.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from ..services import PermissionDenied


def verification_required() -> bool:
    """Whether accounts must confirm their email address before they act (``EMAIL_VERIFICATION``)."""
    return current_app.config.get("EMAIL_VERIFICATION", "required") == "required"


def is_member(user) -> bool:
    """An active, logged-in account with a verified address (visitors, suspended and unverified accounts are not)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return bool(getattr(user, "email_verified", True)) or not verification_required()


def is_unverified(user) -> bool:
    """An active, logged-in account that may not act until it confirms its email address."""
    return bool(user is not None and user.is_authenticated and user.is_active
                and not getattr(user, "email_verified", True) and verification_required())


def is_moderator(user) -> bool:
    """A member who moderates: the moderator and admin roles."""
    return is_member(user) and bool(user.is_moderator)


def is_admin(user) -> bool:
    """A member with the admin role."""
    return is_member(user) and bool(user.is_admin)


def require_member(user, message: str | None = None) -> None:
    """Refuse visitors and suspended accounts.

    :raises PermissionDenied: when ``user`` is not a member.
    """
    if is_unverified(user):
        raise PermissionDenied(_("Confirm your email address first: follow the link in the mail we sent you. "
                                 "The banner at the top of the page sends it again."))
    if not is_member(user):
        raise PermissionDenied(message or _("Log in with an active account to do this."))


def require_moderator(user, message: str | None = None) -> None:
    """Refuse anyone but moderators and admins.

    :raises PermissionDenied: when ``user`` is not a moderator.
    """
    if not is_moderator(user):
        raise PermissionDenied(message or _("Only moderators may do this."))


def require_admin(user, message: str | None = None) -> None:
    """Refuse anyone but admins.

    :raises PermissionDenied: when ``user`` is not an admin.
    """
    if not is_admin(user):
        raise PermissionDenied(message or _("Only admins may do this."))


@dataclass(frozen=True)
class StandIn:
    """Someone of a reader's role and standing, but nobody in person: owns nothing, wrote nothing.

    What a page shows such a stand-in is what every reader of that role sees,
    so a page cache may keep it for all of them (``documents/serving.py``).
    """

    is_authenticated: bool
    is_active: bool
    is_moderator: bool
    is_admin: bool
    email_verified: bool = True
    id: None = None
    is_anonymous: bool = False


def stand_in(user) -> StandIn:
    """A stand-in for ``user``'s role: the same answers to ``is_member``, ``is_moderator`` and ``is_admin``."""
    known = user is not None and bool(user.is_authenticated)
    return StandIn(is_authenticated=known, is_active=known and bool(user.is_active),
                   is_moderator=known and bool(user.is_moderator), is_admin=known and bool(user.is_admin),
                   email_verified=not known or bool(getattr(user, "email_verified", True)),
                   is_anonymous=not known)
