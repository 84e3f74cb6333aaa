"""The one place every way of logging in ends: password, second factor, single sign-on, invitation, reset.

(Skeleton: the sessions work of #16 gives it login sessions, the new-device notice and the
two-factor requirement.)
"""

from __future__ import annotations

from flask_login import login_user

from .models import User


def sign_in(user: User, *, remember: bool = False, method: str = "password") -> None:
    """Log ``user`` in in this browser, as a new login session begun by ``method``."""
    login_user(user, remember=remember)
