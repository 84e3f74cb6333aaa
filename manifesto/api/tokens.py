"""Personal access tokens: made and revoked by their owner (or an admin), and recognised on each API request.

A token is ``mfst_`` followed by 43 random URL-safe characters (256 bits).
Only its SHA-256 is stored, so a copy of the database cannot be used to call
the API; being random and long, it needs no slow hash (a guess costs one
lookup and has no chance). The owner sees the secret once, when it is made;
afterwards the token is known by its name and first characters. Scopes only
narrow what the token may do: every call still goes through the services,
which ask what its *user* may do, so a participant's token with ``moderate``
cannot decide anything.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import after_this_request, has_request_context
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import contains_eager

from ..accounts.models import User
from ..accounts.rules import is_admin, require_member
from ..audit.services import record_event
from ..extensions import db
from ..locking import lock_row
from ..pagination import Page, paginate
from ..services import NotFound, PermissionDenied, ValidationError, as_utc, utcnow, writes
from .models import SCOPES, ApiToken

log = logging.getLogger(__name__)

PREFIX = "mfst_"
# Characters of the secret kept to tell tokens apart ("mfst_Ab3x…").
SHOWN = 9
# "Last used" is written at most this often per token (one small UPDATE after the answer).
USED_EVERY = timedelta(minutes=5)
MAX_TOKENS = 50  # per person: a script needs one or two; a leak of fifty is already a lot to revoke
EXPIRY_CHOICES = (7, 30, 90, 365)  # days offered on the page; None is "never"


def fingerprint(secret: str) -> str:
    """The stored form of a token: the SHA-256 of its text, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    """Whether ``value`` has the form of one of our tokens (anything else is refused without a query)."""
    return (value.startswith(PREFIX) and 20 <= len(value) <= 80
            and all(ch.isalnum() or ch in "-_" for ch in value[len(PREFIX):]))


def clean_name(name: str | None) -> str:
    """A token's name: required, one line, at most 80 characters.

    :raises ValidationError: on the ``name`` field.
    """
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError(_("Give the token a name, such as the script or site that will use it."), "name")
    if len(name) > 80:
        raise ValidationError(_("The name may be at most 80 characters long."), "name")
    return name


def clean_scopes(scopes) -> str:
    """The scopes asked for, in their canonical order.

    :raises ValidationError: on the ``scopes`` field, when none or an unknown one is asked for.
    """
    asked = set(scopes or ())
    unknown = asked - set(SCOPES)
    if unknown:
        raise ValidationError(_("Unknown scope: %(scopes)s.", scopes=", ".join(sorted(unknown))), "scopes")
    if not asked:
        raise ValidationError(_("Choose at least one thing the token may do."), "scopes")
    return " ".join(scope for scope in SCOPES if scope in asked)


@dataclass(frozen=True)
class NewToken:
    """A token just made: its row, and its secret, which is never shown again."""

    token: ApiToken
    secret: str


@writes
def create_token(actor, *, name: str, scopes, expires_in_days: int | None) -> NewToken:
    """Make a personal access token for ``actor``; the secret is returned once and only its hash kept.

    :raises PermissionDenied: for visitors, suspended and unverified accounts.
    :raises ValidationError: for a missing name, no or unknown scopes, an expiry out of range, too many tokens.
    """
    require_member(actor)
    name, scope_text = clean_name(name), clean_scopes(scopes)
    if expires_in_days is not None and not 1 <= int(expires_in_days) <= 3650:
        raise ValidationError(_("A token may last from one day to ten years."), "expires_in_days")
    owner = lock_row(User, actor.id)
    live = db.session.scalar(select(db.func.count()).select_from(ApiToken).where(
        ApiToken.user_id == owner.id, ApiToken.revoked_at.is_(None)))
    if live >= MAX_TOKENS:
        raise ValidationError(_("You have %(count)d tokens; revoke one you no longer use first.", count=live), "name")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user_id=owner.id, name=name, scopes=scope_text, token_hash=fingerprint(secret),
                     prefix=secret[:SHOWN], created_at=now,
                     expires_at=now + timedelta(days=int(expires_in_days)) if expires_in_days else None)
    db.session.add(token)
    db.session.flush()
    record_event(actor, "user.api_token_created", owner,
                 data={"token": token.id, "name": name, "scopes": scope_text,
                       "expires_at": token.expires_at.isoformat() if token.expires_at else None})
    return NewToken(token, secret)


@writes
def revoke_token(actor, token_id: int) -> ApiToken:
    """Revoke a token: its owner, or an admin (recorded, and the owner is told by the security log).

    Revoking a revoked token changes nothing.

    :raises NotFound: when the token does not exist or belongs to someone else (for a non-admin).
    """
    token = db.session.get(ApiToken, token_id)
    if token is None or (token.user_id != getattr(actor, "id", None) and not is_admin(actor)):
        raise NotFound(_("There is no such token."))
    owner = lock_row(User, token.user_id)
    token = lock_row(ApiToken, token.id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_by_id = actor.id
        record_event(actor, "user.api_token_revoked", owner,
                     data={"token": token.id, "name": token.name, "by_admin": actor.id != owner.id})
    return token


def tokens_of(user) -> list[ApiToken]:
    """A person's tokens, newest first (revoked ones too, for the record)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def all_tokens(actor, *, page: int = 1, per_page: int = 50, live_only: bool = False) -> Page[ApiToken]:
    """Every token of the site, with its owner, newest first (admins only).

    :raises PermissionDenied: for anyone but an admin.
    """
    if not is_admin(actor):
        raise PermissionDenied(_("Only admins may see everyone's tokens."))
    query = (select(ApiToken).join(ApiToken.user).options(contains_eager(ApiToken.user))
             .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    if live_only:
        query = query.where(ApiToken.revoked_at.is_(None))
    return paginate(query, page=page, per_page=per_page)


def authenticate(secret: str) -> ApiToken | None:
    """The usable token ``secret`` names, with its user loaded (one query), or None.

    None for a malformed, unknown, revoked or expired token: the caller says
    which in general words only (401), never whether a token exists.
    """
    if not looks_like_token(secret):
        return None
    token = db.session.scalar(select(ApiToken).join(ApiToken.user).options(contains_eager(ApiToken.user))
                              .where(ApiToken.token_hash == fingerprint(secret)))
    if token is None or not token.usable(utcnow()):
        return None
    _note_used(token)
    return token


def _note_used(token: ApiToken) -> None:
    """Move the token's "last used" forward, at most every USED_EVERY, once the answer is made."""
    now = utcnow()
    if not has_request_context() or (token.last_used_at is not None and now - as_utc(token.last_used_at) < USED_EVERY):
        return
    token_id = token.id

    @after_this_request
    def _write(response):
        """A small UPDATE on a connection of its own, never part of the request's transaction."""
        try:
            with db.engine.begin() as connection:
                connection.execute(update(ApiToken).where(
                    ApiToken.id == token_id,
                    (ApiToken.last_used_at.is_(None)) | (ApiToken.last_used_at < now - USED_EVERY))
                    .values(last_used_at=now))
        except SQLAlchemyError as error:  # only a date on the tokens page: the answer goes out regardless
            log.warning("Could not note when API token %s was last used: %s", token_id, error)
        return response
