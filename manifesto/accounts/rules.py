"""Who may do what, by role: the one place every area asks.

A *member* is an active, logged-in account; a *moderator* is a member whose
role is moderator or admin; an *admin* is a member with the admin role. The
``is_*`` questions answer True or False (templates hide what is refused), the
``require_*`` checks raise :class:`PermissionDenied` with a message in the
reader's language (services refuse with them). Rules about one area's
objects (who may edit an amendment, hide a comment) stay in that area and
are built from these.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..services import PermissionDenied


def is_member(user) -> bool:
    """An active, logged-in account (visitors and suspended accounts are not)."""
    return bool(user is not None and user.is_authenticated and user.is_active)


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
