"""Signed links we mail: password reset, invitation, address verification.

A token is signed with ``SECRET_KEY`` (itsdangerous), names its purpose and
the account, and expires (``RESET_LINK_MAX_AGE``, ``INVITATION_LINK_MAX_AGE``,
``VERIFICATION_LINK_MAX_AGE``). It is single-use without a table: it also
carries a fingerprint of the part of the account it changes (the password
hash and session token for a reset or an invitation, the address and its
verification for a verification link), so once it has been used, or a newer
password set, the fingerprint no longer matches and the link is refused.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..services import ValidationError
from .models import User

RESET = "reset"
INVITATION = "invitation"
VERIFICATION = "verification"
MAX_AGE_SETTING = {RESET: "RESET_LINK_MAX_AGE", INVITATION: "INVITATION_LINK_MAX_AGE",
                   VERIFICATION: "VERIFICATION_LINK_MAX_AGE"}
TOKEN_MAX_LENGTH = 400  # a longer "token" is not ours: refused before any work


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    """The signer of one purpose: a reset token is never accepted as an invitation."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"manifesto.accounts.{purpose}")


def fingerprint(user: User, purpose: str) -> str:
    """What the link changes, hashed: it differs once the link was used."""
    if purpose == VERIFICATION:
        state = f"{user.email}|{user.email_verified_at.isoformat() if user.email_verified_at else ''}"
    else:
        state = f"{user.password_hash}|{user.session_token}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def make_token(user: User, purpose: str) -> str:
    """A signed, expiring, single-use token for ``user`` and ``purpose``."""
    return _serializer(purpose).dumps([user.id, fingerprint(user, purpose)])


def read_token(token: str, purpose: str) -> User:
    """The account a valid, unexpired and unused token of ``purpose`` was made for.

    :raises ValidationError: (field ``token``) when the link expired, was tampered with or cut short,
        was used already or replaced by a newer one, or its account is gone.
    """
    if not token or len(token) > TOKEN_MAX_LENGTH:
        raise ValidationError(_("This link is not valid. Copy the whole link from the email, or ask for a new one."),
                              "token")
    max_age = int(current_app.config[MAX_AGE_SETTING[purpose]])
    try:
        user_id, mark = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ValidationError(_("This link has expired. Ask for a new one."), "token") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise ValidationError(_("This link is not valid. Copy the whole link from the email, or ask for a new one."),
                              "token") from exc
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not isinstance(mark, str) or not hmac.compare_digest(mark, fingerprint(user, purpose)):
        raise ValidationError(_("This link was used already, or a newer one replaced it. Ask for a new one."), "token")
    return user
