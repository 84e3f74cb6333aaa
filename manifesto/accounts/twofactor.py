"""Two factors: a TOTP code from an app (RFC 6238) after the password, and ten single-use recovery codes.

Setting up: the person asks for a secret (stored, not yet in force), scans the
QR code drawn here as inline SVG (or types the secret), and confirms with a
code; then the second factor is on and ten recovery codes are shown, once.

Logging in: after the right password the login view keeps the pending login in
the Flask session (:func:`pending_login`) and asks for a code. A code is
accepted within one time step either side (``valid_window=1``) but never twice:
the accepted step is stored under the account's row lock, and a code of that
step or an earlier one is refused, so two tabs racing cannot both use one code.
``TOTP_MAX_FAILURES`` wrong codes in a row lock the step for
``TOTP_LOCK_SECONDS``; a right code resets the count. The refusals are
committed (the count must survive them), so :func:`check_login_code` raises
only after its transaction.

Recovery codes are 12 characters from a 31-letter alphabet (about 59 random
bits), stored as salted SHA-256. A fast hash is enough for them: they are
random, not chosen by a person, so a stolen table leaves nothing to guess but
2^59 candidates per code (a slow hash buys little there, and would make the
login compare ten slow hashes); they are only the second factor, the password
is still needed; and each works once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from flask import current_app, session
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import delete, func, select

from ..audit.services import record_event
from ..extensions import db
from ..i18n import format_datetime
from ..locking import lock_row
from ..services import NotFound, ServiceError, ValidationError, as_utc, utcnow, writes
from . import sessions
from .models import RecoveryCode, User, new_session_token
from .rules import is_moderator, require_admin, require_member
from .services import authenticate

ISSUER = "Manifesto"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed without doubt
PENDING_KEY = "two_factor_pending"
PENDING_MINUTES = 10
REASON_LENGTH = 2000
_CODE = re.compile(r"^\d{6}$")


# ------------------------------------------------------------------ pure helpers

def normalise_code(code: str | None) -> str:
    """What a person typed, without spaces and hyphens, in lower case."""
    return re.sub(r"[\s\-]", "", code or "").lower()[:64]


def new_recovery_code() -> str:
    """A fresh recovery code, as shown: ``xxxx-xxxx-xxxx``."""
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def hash_recovery_code(code: str, salt: str | None = None) -> str:
    """The stored form of a recovery code: ``<salt>$<sha256 of salt and code>``."""
    salt = salt or secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + normalise_code(code)).encode()).hexdigest()}"


def recovery_code_matches(code: str, stored: str) -> bool:
    """Whether ``code`` is the recovery code stored as ``stored`` (in constant time)."""
    salt, _sep, _digest = stored.partition("$")
    return hmac.compare_digest(hash_recovery_code(code, salt), stored)


def matching_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time step whose TOTP code ``code`` is, within one step either side of ``at``; None if none."""
    code = normalise_code(code)
    if not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    if not totp.verify(code, for_time=at or utcnow(), valid_window=1):
        return None
    current = totp.timecode(at or utcnow())
    return next(step for step in (current - 1, current, current + 1)
                if hmac.compare_digest(totp.generate_otp(step), code))


def secret_in_words(secret: str) -> str:
    """The secret in groups of four characters, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` address an app reads from the QR code (issuer "Manifesto")."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_svg(uri: str, title: str) -> Markup:
    """The QR code of ``uri`` as inline SVG, drawn here (no remote image, no script or style)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, title=title, svgclass="qr-code",
                                                dark="#000", light="#fff", lineclass=None)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def setup_required(user) -> bool:
    """Whether TWO_FACTOR_REQUIRED asks this person to set up two factors before anything else.

    Not in a session begun by single sign-on: there the provider proved who
    the person is (and enforces its own factors); a TOTP code would never be
    asked for such a login, so leading them to set one up would only stop them.
    """
    session_row = getattr(user, "login_session", None)
    if session_row is not None and session_row.method == "sso":
        return False
    return (bool(current_app.config.get("TWO_FACTOR_REQUIRED")) and is_moderator(user)
            and not user.two_factor_enabled)


def _token_digest(user: User) -> str:
    """A digest of the account's session token, kept in the pending login (the cookie is readable)."""
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:32]


# ------------------------------------------------------------------ the pending login

def begin_pending_login(user: User, *, remember: bool, next_url: str) -> None:
    """Keep a login whose password was right, waiting for its second factor (in the Flask session)."""
    session[PENDING_KEY] = {"user_id": user.id, "remember": bool(remember), "next": next_url,
                            "started_at": int(time.time()), "token": _token_digest(user)}


def pending_login() -> dict | None:
    """The login waiting for its code, or None (none, or older than PENDING_MINUTES: then forgotten)."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    started = pending.get("started_at")
    if not isinstance(started, int) or not 0 <= time.time() - started <= PENDING_MINUTES * 60:
        session.pop(PENDING_KEY, None)
        return None
    return pending


def end_pending_login() -> None:
    """Forget the pending login (used, expired or abandoned)."""
    session.pop(PENDING_KEY, None)


@dataclass
class CodeCheck:
    """What checking a login code found: the account and how it proved itself, or why not."""

    user: User | None = None
    method: str | None = None
    error: str | None = None
    restart: bool = False  # the pending login is void: log in again


class LoginExpired(ServiceError):
    """The pending login is void (the account changed meanwhile): log in again."""


def check_login_code(pending: dict, code: str) -> tuple[User, str]:
    """Check the code of a pending login; return the account and the method ("totp" or "recovery").

    :raises LoginExpired: when the account changed meanwhile (password, reset, deactivation).
    :raises ValidationError: on a wrong or reused code, or while the code step is locked
        (the failure count is saved all the same).
    """
    outcome = _check_code(int(pending["user_id"]), str(pending.get("token") or ""), normalise_code(code))
    if outcome.restart:
        raise LoginExpired(outcome.error)
    if outcome.error:
        raise ValidationError(outcome.error, "code")
    return outcome.user, outcome.method


@writes
def _check_code(user_id: int, token: str, code: str) -> CodeCheck:
    """Under the account's lock: accept a code once, or count the failure (committed either way)."""
    user = lock_row(User, user_id)
    if (user is None or not user.active or user.awaiting_approval or not user.two_factor_enabled
            or not hmac.compare_digest(_token_digest(user), token)):
        return CodeCheck(error=_("This login is no longer valid. Log in again."), restart=True)
    now = utcnow()
    locked_until = as_utc(user.totp_locked_until)
    if locked_until is not None and now < locked_until:
        return CodeCheck(error=_locked_message(locked_until))
    if not code:
        return CodeCheck(error=_("Enter the 6-digit code from your app, or a recovery code."))
    if _CODE.match(code):
        step = matching_step(user.totp_secret, code, now)
        if step is not None and user.totp_last_step is not None and step <= user.totp_last_step:
            # Not counted as a wrong code: it was right, once (a second tab, a double click), and
            # refusing it is all a replay needs.
            return CodeCheck(error=_("This code was already used. Wait for the next code your app shows."))
        if step is not None:
            user.totp_last_step, user.totp_failures, user.totp_locked_until = step, 0, None
            return CodeCheck(user=user, method="totp")
        return _failure(user, now, _("That code is wrong. Check that your phone's clock is right, then try "
                                     "the code your app shows now."))
    for row in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.used_at.is_(None))
                                  .order_by(RecoveryCode.id)):
        if recovery_code_matches(code, row.code_hash):
            row.used_at = now
            user.totp_failures, user.totp_locked_until = 0, None
            left = db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None), RecoveryCode.id != row.id))
            record_event(user, "user.recovery_code_used", user, data={"left": left})
            return CodeCheck(user=user, method="recovery")
    return _failure(user, now, _("That recovery code is wrong or was already used."))


def _failure(user: User, now: datetime, message: str) -> CodeCheck:
    """Count a wrong code; the last one allowed locks the code step for a while."""
    user.totp_failures = (user.totp_failures or 0) + 1
    if user.totp_failures < int(current_app.config["TOTP_MAX_FAILURES"]):
        return CodeCheck(error=message)
    until = now + timedelta(seconds=int(current_app.config["TOTP_LOCK_SECONDS"]))
    user.totp_failures, user.totp_locked_until = 0, until
    record_event(None, "user.login_code_locked", user, data={"until": until.isoformat()})
    return CodeCheck(error=_locked_message(until))


def _locked_message(until: datetime) -> str:
    """Why the code is refused while the step is locked, and until when."""
    return _("Too many wrong codes. For your safety, codes are not accepted until %(time)s. "
             "Your account is not locked: you can try again then.", time=format_datetime(until))


# ------------------------------------------------------------------ setting up and turning off

@writes
def start_setup(user) -> User:
    """Give the person a new TOTP secret, not yet in force until confirmed with a code.

    :raises PermissionDenied: for visitors.
    :raises ValidationError: when two factors are already on.
    """
    require_member(user, _("Log in to set up two factors."))
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    if account.two_factor_enabled:
        raise ValidationError(_("Two factors are already on for your account."), "code")
    account.totp_secret = pyotp.random_base32()
    account.totp_last_step = None
    return account


@writes
def confirm_setup(user, code: str) -> list[str]:
    """Put the second factor in force with a code from the app; return the ten recovery codes (shown once).

    :raises PermissionDenied: for visitors.
    :raises ValidationError: on a wrong code, or when there is no setup to confirm.
    """
    require_member(user, _("Log in to set up two factors."))
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    if account.two_factor_enabled:
        raise ValidationError(_("Two factors are already on for your account."), "code")
    if not account.totp_secret:
        raise ValidationError(_("Start the setup first: it gives you the code to scan."), "code")
    step = matching_step(account.totp_secret, code)
    if step is None:
        raise ValidationError(_("That code is wrong. Check that your phone's clock is right, then enter the "
                                "code your app shows now."), "code")
    account.totp_enabled_at = utcnow()
    account.totp_last_step, account.totp_failures, account.totp_locked_until = step, 0, None
    codes = _new_recovery_codes(account)
    record_event(account, "user.two_factor_enabled", account)
    return codes


def _new_recovery_codes(account: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones; return them as shown (only now)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == account.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.add_all(RecoveryCode(user_id=account.id, code_hash=hash_recovery_code(code)) for code in codes)
    return codes


def _check_password(user, password: str) -> None:
    """Check the person's password before a change to their second factor (slow: before any transaction).

    :raises ValidationError: on the "password" field.
    """
    try:
        authenticate(user.email, password or "")
    except ValidationError as error:
        raise ValidationError(_("That is not your current password."), "password") from error


def disable(user, password: str) -> User:
    """Turn the second factor off, with the password; recorded as ``user.two_factor_disabled``.

    :raises PermissionDenied: for visitors.
    :raises ValidationError: on a wrong password, when two factors are off, or when
        TWO_FACTOR_REQUIRED asks them of the person's role.
    """
    require_member(user, _("Log in to change your second factor."))
    if current_app.config.get("TWO_FACTOR_REQUIRED") and is_moderator(user):
        raise ValidationError(_("Moderators and admins must keep two factors on here. To move them to a new "
                                "phone, ask another admin to reset them, then set them up again."), "password")
    _check_password(user, password)
    return _clear(user.id, actor=None, reason=None)


@writes
def _clear(user_id: int, *, actor: User | None, reason: str | None) -> User:
    """Remove the secret, the recovery codes and the counters; an admin's reset also ends every session."""
    account = lock_row(User, user_id)
    if account is None:
        raise NotFound(_("No such user."))
    if not account.two_factor_enabled and not account.totp_secret:
        raise ValidationError(_("Two factors are not on for this account."), "reason" if actor else "password")
    was_on = account.two_factor_enabled
    account.totp_secret = account.totp_enabled_at = account.totp_last_step = account.totp_locked_until = None
    account.totp_failures = 0
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == account.id))
    if actor is not None:
        sessions.end_every_session(account, sessions.TWO_FACTOR_RESET)
        account.session_token = new_session_token()
    if was_on or actor is not None:
        record_event(actor or account, "user.two_factor_disabled", account, reason=reason,
                     data={"by_admin": actor is not None})
    return account


def regenerate_recovery_codes(user, password: str) -> list[str]:
    """Replace the recovery codes with ten new ones, with the password; return them (shown once).

    :raises ValidationError: on a wrong password, or when two factors are off.
    """
    require_member(user, _("Log in to change your second factor."))
    _check_password(user, password)
    return _regenerate(user.id)


@writes
def _regenerate(user_id: int) -> list[str]:
    """Under the account's lock: new recovery codes, the old ones void."""
    account = lock_row(User, user_id)
    if account is None or not account.two_factor_enabled:
        raise ValidationError(_("Two factors are not on for your account."), "password")
    codes = _new_recovery_codes(account)
    record_event(account, "user.recovery_codes_regenerated", account)
    return codes


def reset_by_admin(actor, user_id: int, reason: str) -> User:
    """An admin removes a member's second factor (a lost phone), with a reason; every session ends.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: on a blank or oversized reason, or when the member has no second factor.
    """
    require_admin(actor, _("Only an admin can reset a second factor."))
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise ValidationError(_("Give the reason for the reset."), "reason")
    if len(reason) > REASON_LENGTH or "\x00" in reason:
        raise ValidationError(_("Keep the reason under %(num)s characters of plain text.", num=REASON_LENGTH),
                              "reason")
    return _clear(user_id, actor=actor, reason=reason)


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the person has."""
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0
