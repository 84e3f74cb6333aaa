"""Login sessions: one row per login on one device, listed on the account page and ended from there.

The browser holds a random key (in the signed session cookie, and in the
remember-me cookie when asked); the database holds only its SHA-256, so a
copy of the database cannot be turned into a logged-in browser. Flask-Login's
identity is ``"<user id>:<key>"``; :func:`load_user` finds the row and its
account in one query and refuses a session that was ended, or that belongs to
an older ``session_token`` of the account (a password change or reset, a
deactivation, an admin's reset of the second factor rotate it and so end every
session at once, without touching the rows). A row of another generation is
listed as ended.

``last_seen_at`` is written at most every :data:`SEEN_EVERY` per session,
after the response is made and outside the request's transaction, so 800
delegates reading pages do not each write on every click.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
import secrets
from datetime import timedelta

from flask import after_this_request, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from ..audit.models import AuditEvent
from ..audit.services import record_event
from ..extensions import db
from ..locking import lock_row
from ..pagination import Page, paginate
from ..services import NotFound, as_utc, utcnow, writes
from .models import LoginSession, User
from .rules import require_admin, require_member

log = logging.getLogger(__name__)

SEEN_EVERY = timedelta(minutes=5)
USER_AGENT_LENGTH = 255

# Why a session ended, as stored in ``ended_reason``.
LOGOUT = "logout"
ENDED_BY_OWNER = "ended"
ENDED_WITH_OTHERS = "ended_others"
ENDED_EVERYWHERE = "ended_everywhere"
TWO_FACTOR_RESET = "two_factor_reset"


def hash_key(key: str) -> str:
    """The stored form of a session key: its SHA-256, in hex.

    A plain hash is enough: the key is 32 random bytes, so there is nothing to
    guess that a slow or salted hash would protect.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh session key for a browser (256 random bits)."""
    return secrets.token_urlsafe(32)


# ------------------------------------------------------------------ what the person recognises

# First match wins: the order matters (Edge and Opera say "Chrome" too, Chrome says "Safari").
_BROWSERS = (
    ("Edge", r"Edg(e|A|iOS)?/"),
    ("Opera", r"OPR/|Opera"),
    ("Samsung Internet", r"SamsungBrowser/"),
    ("Firefox", r"Firefox/|FxiOS/"),
    ("Chrome", r"Chrome/|CriOS/|Chromium/"),
    ("Safari", r"Version/[\d.]+.*Safari/"),
)
_SYSTEMS = (
    ("Android", r"Android"),
    ("iPhone", r"iPhone"),
    ("iPad", r"iPad"),
    ("Windows", r"Windows"),
    ("ChromeOS", r"CrOS"),
    ("macOS", r"Macintosh|Mac OS X"),
    ("Linux", r"Linux|X11"),
)


def describe_device(user_agent: str | None) -> str | None:
    """A device as a person names it, read from the user agent: "Firefox on Android"; None when unknown.

    Stored as it is (names of products, not sentences), so that the same
    device compares equal whatever language the person used when logging in.
    """
    agent = (user_agent or "")[:1000]
    browser = next((name for name, pattern in _BROWSERS if re.search(pattern, agent)), None)
    system = next((name for name, pattern in _SYSTEMS if re.search(pattern, agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system


def approximate_address(address: str | None) -> str | None:
    """The network an address belongs to, not the address: "203.0.113.0/24" (IPv4), a /48 (IPv6)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


# ------------------------------------------------------------------ starting and finding sessions

@writes
def start_session(user_id: int, *, method: str, remember: bool, user_agent: str | None,
                  address: str | None) -> tuple[LoginSession, str]:
    """Begin a login session of ``user_id`` and record ``user.signed_in``; return the row and its key.

    The event's data says whether the device is new, for the notice mail: the
    person has logged in before, never from this device and network. An
    account's very first login (registration, invitation, import) is not
    "new": there is nothing it could be told apart from, and the person is
    the one who just received the link.

    :raises NotFound: for an unknown account.
    """
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    key = new_key()
    device = describe_device(user_agent)
    network = approximate_address(address)
    known_devices, seen_before = db.session.execute(select(
        exists().where(LoginSession.user_id == user.id),
        exists().where(LoginSession.user_id == user.id,
                       LoginSession.device.is_(None) if device is None else LoginSession.device == device,
                       LoginSession.address.is_(None) if network is None else LoginSession.address == network))).one()
    row = LoginSession(user_id=user.id, key_hash=hash_key(key), generation=user.session_token, method=method,
                       remember=bool(remember), user_agent=(user_agent or "")[:USER_AGENT_LENGTH] or None,
                       device=device, address=network)
    db.session.add(row)
    record_event(user, "user.signed_in", user, data={"method": method, "device": device, "address": network,
                                                     "new_device": bool(known_devices and not seen_before)})
    return row, key


def load_user(identity: str) -> User | None:
    """Flask-Login loader: the account of a live session, found by its key in one query.

    Refused (None): an ended session, one of an older generation (the
    password changed, the account was reset or deactivated since), an
    inactive account, or one still awaiting approval.
    """
    user_id, _sep, key = (identity or "").partition(":")
    if not user_id.isdigit() or not 0 < int(user_id) <= 2**31 - 1 or not key:
        return None
    found = db.session.execute(
        select(User, LoginSession).join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.key_hash == hash_key(key), User.id == int(user_id))).first()
    if found is None:
        return None
    user, row = found
    if (row.ended_at is not None or row.generation != user.session_token or not user.active
            or user.awaiting_approval):
        return None
    user.login_session_key = key
    user.login_session = row
    _note_seen(row)
    return user


def _note_seen(row: LoginSession) -> None:
    """Move the session's "last seen" forward, at most every SEEN_EVERY, once the response is made."""
    now = utcnow()
    if not has_request_context() or now - as_utc(row.last_seen_at) < SEEN_EVERY:
        return
    session_id = row.id

    @after_this_request
    def _write(response):
        """A small UPDATE on a connection of its own: never part of the page's transaction."""
        try:
            with db.engine.begin() as connection:
                connection.execute(update(LoginSession).where(
                    LoginSession.id == session_id, LoginSession.last_seen_at < now - SEEN_EVERY)
                    .values(last_seen_at=now))
        except SQLAlchemyError as error:  # only a date on the sessions list: the page goes out regardless
            log.warning("Could not note when session %s was last seen: %s", session_id, error)
        return response


def current_session(user) -> LoginSession | None:
    """The session this browser is logged in with (None for visitors)."""
    return getattr(user, "login_session", None) if user is not None and user.is_authenticated else None


def is_live(row: LoginSession, user: User) -> bool:
    """Whether a session still logs its browser in (not ended, of the account's current generation)."""
    return row.ended_at is None and row.generation == user.session_token


def live_sessions_query(user: User):
    """The statement selecting a person's live sessions, most recently seen first."""
    return (select(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
                   LoginSession.generation == user.session_token)
            .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc()))


def list_sessions(user: User, limit: int = 100) -> list[LoginSession]:
    """A person's live sessions, most recently seen first (the account page lists them)."""
    require_member(user)
    return list(db.session.scalars(live_sessions_query(user).limit(limit)))


# ------------------------------------------------------------------ ending sessions

def _live(user: User):
    """The condition of ``user``'s live session rows (for a bulk UPDATE)."""
    return and_(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
                LoginSession.generation == user.session_token)


@writes
def end_current_session(user, session_id: int | None) -> None:
    """Logging out: end this browser's session row (nothing recorded: it is the everyday case)."""
    if session_id is None or not getattr(user, "is_authenticated", False):
        return
    db.session.execute(update(LoginSession).where(LoginSession.id == session_id, LoginSession.user_id == user.id,
                                                  LoginSession.ended_at.is_(None))
                       .values(ended_at=utcnow(), ended_reason=LOGOUT))


@writes
def end_session(user, session_id: int) -> LoginSession:
    """End one of the person's sessions: that browser is refused at its next request.

    :raises PermissionDenied: for visitors.
    :raises NotFound: when the session is not theirs or no longer live.
    """
    require_member(user, _("Log in to manage your sessions."))
    account = lock_row(User, user.id)
    row = db.session.get(LoginSession, session_id) if account is not None else None
    if row is None or row.user_id != account.id or not is_live(row, account):
        raise NotFound(_("That session has already ended."))
    row.ended_at, row.ended_reason = utcnow(), ENDED_BY_OWNER
    record_event(account, "user.session_ended", account, data={"device": row.device, "address": row.address,
                                                               "count": 1})
    return row


@writes
def end_other_sessions(user, keep_id: int | None) -> int:
    """End every session of the person but this browser's ("log out everywhere else"); return how many.

    :raises PermissionDenied: for visitors.
    """
    require_member(user, _("Log in to manage your sessions."))
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    condition = _live(account) if keep_id is None else and_(_live(account), LoginSession.id != keep_id)
    ended = db.session.execute(update(LoginSession).where(condition)
                               .values(ended_at=utcnow(), ended_reason=ENDED_WITH_OTHERS)).rowcount
    record_event(account, "user.sessions_ended", account, data={"count": ended, "kept_this_one": True})
    return ended


@writes
def end_all_sessions(user) -> int:
    """End every session of the person, this browser's and remember-me cookies included; return how many.

    :raises PermissionDenied: for visitors.
    """
    require_member(user, _("Log in to manage your sessions."))
    account = lock_row(User, user.id)
    if account is None:
        raise NotFound(_("No such user."))
    ended = end_every_session(account, ENDED_EVERYWHERE)
    record_event(account, "user.sessions_ended", account, data={"count": ended, "kept_this_one": False})
    return ended


def end_every_session(account: User, reason: str) -> int:
    """Inside a write service holding ``account``'s lock: mark all its live session rows ended."""
    return db.session.execute(update(LoginSession).where(_live(account))
                              .values(ended_at=utcnow(), ended_reason=reason)).rowcount


def client_details() -> tuple[str | None, str | None]:
    """This request's user agent and address (``ProxyFix`` already made the address the client's)."""
    if not has_request_context():
        return None, None
    return request.headers.get("User-Agent"), request.remote_addr


def list_sessions_of(actor, user: User, limit: int = 100) -> list[LoginSession]:
    """A member's live sessions, for an admin.

    :raises PermissionDenied: unless the actor is an admin.
    """
    require_admin(actor, _("Only admins can manage accounts."))
    return list(db.session.scalars(live_sessions_query(user).limit(limit)))


# ------------------------------------------------------------------ the admins' security log

# Everyday events the log leaves out unless asked: every login, and one's own preferences.
ROUTINE = ("user.signed_in", "user.preferences_changed", "user.credit_changed")


def security_log(actor, page: int, per_page: int = 50, *,
                 include_sign_ins: bool = False) -> tuple[Page[AuditEvent], dict[int, User]]:
    """One page of account-security events (``user.*``), newest first, and the accounts they are about.

    Three queries: the count, the page with the actors, the accounts.

    :raises PermissionDenied: unless the actor is an admin.
    """
    require_admin(actor, _("Only admins can see the security log."))
    routine = [action for action in ROUTINE if not (include_sign_ins and action == "user.signed_in")]
    found = paginate(select(AuditEvent).options(joinedload(AuditEvent.actor))
                     .where(AuditEvent.object_type == User.__tablename__, AuditEvent.action.like("user.%"),
                            AuditEvent.action.not_in(routine))
                     .order_by(AuditEvent.id.desc()), page, per_page)
    ids = {event.object_id for event in found.items}
    subjects = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return found, subjects
