"""Signed unsubscribe tokens: the link in every email works without logging in, and cannot be forged."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadData, URLSafeSerializer

from ..services import MAX_ID, NotFound

SALT = "manifesto.unsubscribe"
# What a token stops: one kind's emails (its name), the digest, or every email.
DIGEST, EVERYTHING = "digest", "all"


def _serializer() -> URLSafeSerializer:
    """The serializer keyed with the app's SECRET_KEY (a salt of its own, so no other token passes)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def unsubscribe_token(user_id: int, scope: str) -> str:
    """A token that lets whoever holds it stop ``scope`` emails for one person."""
    return _serializer().dumps({"u": user_id, "s": scope})


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """Return (user id, scope) from a token.

    :raises NotFound: for a damaged, forged or foreign token.
    """
    try:
        data = _serializer().loads(token or "")
    except (BadData, ValueError, TypeError):
        data = None
    user_id = data.get("u") if isinstance(data, dict) else None
    scope = data.get("s") if isinstance(data, dict) else None
    if not (isinstance(user_id, int) and 0 < user_id <= MAX_ID and isinstance(scope, str)):
        raise NotFound(_("This unsubscribe link is not valid. Copy the whole link from the email, "
                         "or log in and change your notification settings."))
    return user_id, scope
