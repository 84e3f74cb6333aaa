"""The one place every way of logging in ends: password, second factor, single sign-on, invitation, reset.

Each login is a row of its own (:mod:`.sessions`): the browser gets the row's
key through Flask-Login's identity (``User.get_id``), and the audit trail gets
``user.signed_in``, which the notifications area turns into a notice when the
device is new. Nothing else about the browser's session is changed here.
"""

from __future__ import annotations

from flask import flash, url_for
from flask_babel import gettext as _
from flask_login import login_user

from . import sessions, twofactor
from .models import User


# Ways of logging in that prove only what someone knows or receives: never enough for an account with two factors.
FIRST_FACTOR_ONLY = frozenset({"password", "reset", "invitation", "registration"})


class SecondFactorSkipped(RuntimeError):
    """A caller tried to log in an account with two factors on without its code: a bug, refused loudly."""


def sign_in(user: User, *, remember: bool = False, method: str = "password") -> None:
    """Log ``user`` in in this browser, as a new login session begun by ``method``.

    :raises NotFound: when the account vanished meanwhile.
    :raises SecondFactorSkipped: when ``method`` proves only the first factor of an account with two.
    """
    if user.two_factor_enabled and method in FIRST_FACTOR_ONLY:
        raise SecondFactorSkipped(f"{method!r} is not enough to log in account {user.id}: it has two factors on")
    user_agent, address = sessions.client_details()
    row, key = sessions.start_session(user.id, method=method, remember=remember, user_agent=user_agent,
                                      address=address)
    user.login_session_key = key
    user.login_session = row
    login_user(user, remember=remember)


def after_sign_in(user: User, target: str) -> str:
    """Where a fresh login goes: ``target``, or the two-factor setup when TWO_FACTOR_REQUIRED asks for it."""
    if twofactor.setup_required(user):
        flash(_("Moderators and admins need two factors here. Set them up now: it takes a minute."), "info")
        return url_for("security.index", _anchor="two-factor")
    return target
