"""Rate limits: every limit of the site, stated, enforced and explained here, and nowhere else.

The rule: a limit slows down what a script would do thousands of times
(guessing passwords, asking for mail, posting), and never what a convention
does: 800 delegates behind the venue's one address logging in within five
minutes are never slowed.

1. **What is limited.** :data:`RULES` is the one table: each row names its
   setting, the endpoints it guards, who is counted (an account, an address, a
   person) and which POSTs count. Only POSTs are ever limited. A visitor's
   GET without cookies is answered beneath Flask by
   ``documents/replay.py`` (one query) and never reaches the limiter; that is
   deliberate, reading costs us little, so we limit what writes or mails.
2. **Login, per account.** Only failed attempts count (a 400 from the login
   form: wrong password, unknown address, deactivated account), keyed by the
   normalised email typed, so an address with no account behaves exactly like
   one with an account (same answers, same delays: nothing to enumerate).
   ``RATELIMIT_LOGIN_PER_ACCOUNT`` stacks windows, "5 per minute; 20 per
   hour; 100 per day": the delays grow with the failures, and never lock the
   account for good (its owner can also reset the password: any successful
   login clears the account's failures). When a login is refused, the
   account (if it exists) gets one ``user.login_throttled`` audit event per
   window, for the admins' security log.
3. **Login, per address.** ``RATELIMIT_LOGIN_PER_ADDRESS`` counts every login
   POST of an address, and is generous: a hall behind one NAT address must
   pass. ``RATELIMIT_EXEMPT_ADDRESSES`` (IPs and networks, comma-separated:
   the venue's NAT address) are exempt from the per-address limits only,
   never from the per-account one.
4. **Mail asked for** (a reset link, the verification link again): per address
   and per email (``RATELIMIT_MAIL_PER_ADDRESS``, ``RATELIMIT_MAIL_PER_EMAIL``),
   every POST counts, an unknown address like a known one. An admin's "send
   the invitation again" counts per email only (an admin may invite many
   people from the venue). **Proposals, comments, reports**: per person
   (``RATELIMIT_PROPOSALS``, ``RATELIMIT_COMMENTS``, ``RATELIMIT_REPORTS``),
   counting what was created (a redirect after the POST), not previews or
   refused forms. **Accounts created** per address
   (``RATELIMIT_REGISTRATIONS_PER_ADDRESS``): each registration mails a
   verification link to the address typed, so a script must not create
   thousands; a hall registering in the morning stays far below it.
5. **The address** is ``request.remote_addr``, which ``ProxyFix``
   (``TRUSTED_PROXIES``, see ``observability.py``) has already taken from the
   trusted proxies' ``X-Forwarded-For``; nothing here reads that header.
6. **Storage.** ``RATELIMIT_STORAGE_URI`` when set, else Redis at ``REDIS_URL``
   (one count shared by every worker and machine), else memory, which is per
   process: with several workers each counts apart. Keys start with
   ``RATELIMIT_KEY_PREFIX``; emails are keyed by an HMAC, never stored.
   Strategy: moving window, exact ("no more than 5 in any minute"): the wait
   it gives is the true time until the oldest counted attempt leaves the
   window, so delays grow precisely. It keeps one timestamp per counted hit,
   at most the limit's amount per key: 20,000 for the busiest address's day,
   a few hundred KiB of Redis; a few dozen for an account or a person.
7. **Redis down.** The limits fall back to each process's memory (Flask-Limiter's
   in-memory fallback, a warning logged) and try Redis again with growing
   pauses; any other storage error lets the request through (logged). Logins
   never fail because Redis does. Redis gets half a second to answer.
8. **The 429 page** speaks the person's language, says when to try again in
   words and in ``Retry-After`` (seconds), and hands back what was typed,
   passwords excepted, as the 503 page does (``errors.resend_form``).
9. ``RATELIMIT_ENABLED = False`` turns every limit off (a private deployment,
   a test of something else); an empty limit setting turns that one off.
10. **The API** (#17) counts every request, GETs too, since a script may read
   thousands of times a minute: per token (``RATELIMIT_API_PER_TOKEN``) and,
   for calls without a token, per address (``RATELIMIT_API_PER_ADDRESS``,
   ``RATELIMIT_EXEMPT_ADDRESSES`` exempt). :data:`API_RULES` is their table,
   :func:`api_allowance` counts a call on the same storage and strategy and
   gives what the ``RateLimit-*`` headers say; the API answers a refusal
   with 429 problem details. Its requests never reach :data:`RULES`.

One Flask-Limiter per app (``app.extensions``; ``extensions.limiter`` is the
current app's): Flask-Limiter keeps its storage and settings on the instance,
and the factory builds many apps in one process (the tests build hundreds).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, current_app, g, render_template, request
from flask.wrappers import Response
from flask_babel import format_timedelta
from flask_babel import lazy_gettext as _l
from flask_limiter import Limit, Limiter, RequestLimit
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user, user_logged_in
from limits import RateLimitItemPerSecond, parse_many

from ..audit.services import record_event
from ..errors import resend_form
from ..extensions import db
from ..locking import lock_row
from ..observability import allowed_networks
from ..services import ValidationError, writes
from .models import User
from .services import get_user_by_email, normalise_email
from .sessions import approximate_address

log = logging.getLogger(__name__)

EXTENSION = "manifesto.limiter"
STRATEGY = "moving-window"
# Seconds Redis gets to connect and to answer before the request goes on without it.
REDIS_TIMEOUT = 0.5
_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "redis+sentinel://", "redis+cluster://")


# ------------------------------------------------------------------ who is counted

def client_address() -> str:
    """The client's address: ``remote_addr`` as ProxyFix left it (never ``X-Forwarded-For`` read here)."""
    return request.remote_addr or "unknown"


def _email_key(email: str) -> str:
    """An email as a key: normalised as accounts store it, then an HMAC (no address is kept in the storage)."""
    try:
        email = normalise_email(email)
    except ValidationError:  # not an address: counted as typed, so it behaves like any other
        email = (email or "").strip().lower()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), email.encode(), hashlib.sha256).hexdigest()
    return "email:" + digest[:32]


def _by_address() -> str:
    """Count per client address."""
    return "address:" + client_address()


def _by_typed_email() -> str:
    """Count per email typed in the form (an unknown one like any other)."""
    return _email_key(request.form.get("email", ""))


def _by_email_asked() -> str:
    """Count per email the mail goes to: the one typed (a reset), else the account the address names (an
    admin's invitation), else the logged-in person's own (verification)."""
    typed = request.form.get("email", "")
    if not typed.strip():
        user_id = (request.view_args or {}).get("user_id")
        if user_id is not None:
            user = db.session.get(User, user_id)
            typed = user.email if user is not None else f"(account {user_id})"
        elif current_user.is_authenticated:
            typed = current_user.email
    return _email_key(typed)


def _by_person() -> str:
    """Count per logged-in person (anonymous POSTs are exempt: the view sends them to log in)."""
    return f"person:{current_user.id}"


def _anonymous() -> bool:
    """Whether nobody is logged in (per-person limits do not apply)."""
    return not current_user.is_authenticated


def _exempt_address() -> bool:
    """Whether the client's address is in ``RATELIMIT_EXEMPT_ADDRESSES`` (per-address limits only)."""
    networks = current_app.extensions[EXTENSION].exempt
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(client_address())
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in networks)


# ------------------------------------------------------------------ which POSTs count

def _failed_login(response: Response) -> bool:
    """A login the form refused (wrong password, unknown address, deactivated account): 400."""
    return response.status_code == 400


def _created(response: Response) -> bool:
    """Something was created: the view redirects to it (a preview or a refused form answers 200/4xx)."""
    return 300 <= response.status_code < 400


# ------------------------------------------------------------------ the table

# Mail a person asks for: a reset link (anyone, by email), the verification link again (the logged-in person).
MAIL_ENDPOINTS = ("recovery.forgot_password", "recovery.resend_verification")
# An admin's "send the invitation again" counts per email only: admins may invite many from the venue.
INVITATION_ENDPOINTS = ("people.resend_invitation",)
COMMENT_ENDPOINTS = ("discussion.comment_on_section", "discussion.comment_on_amendment", "discussion.reply")
REPORT_ENDPOINTS = ("discussion.report_comment", "discussion.report_amendment")


@dataclass(frozen=True)
class Rule:
    """One limit: its setting, the endpoints it guards, who is counted, what counts, and what the 429 page says."""

    setting: str
    endpoints: tuple[str, ...]
    key: Callable[[], str]
    # None: every POST counts; else only those whose response it accepts.
    counts: Callable[[Response], bool] | None
    exempt: Callable[[], bool] | None
    why: str  # lazy: the 429 page's explanation, in the reader's language

    @property
    def scope(self) -> str:
        """The bucket's name in the storage, shared by the rule's endpoints."""
        return self.setting.removeprefix("RATELIMIT_").lower()


RULES: tuple[Rule, ...] = (
    Rule("RATELIMIT_LOGIN_PER_ACCOUNT", ("accounts.login",), _by_typed_email, _failed_login, None,
         _l("There were too many failed logins with this email address, so logging in with it is paused "
            "for a while. This protects the account from someone guessing its password.")),
    Rule("RATELIMIT_LOGIN_PER_ADDRESS", ("accounts.login",), _by_address, None, _exempt_address,
         _l("Too many logins came from your network in a short time.")),
    Rule("RATELIMIT_MAIL_PER_ADDRESS", MAIL_ENDPOINTS, _by_address, None, _exempt_address,
         _l("Too many emails were asked for from your network in a short time.")),
    Rule("RATELIMIT_MAIL_PER_EMAIL", MAIL_ENDPOINTS + INVITATION_ENDPOINTS, _by_email_asked, None, None,
         _l("Too many emails were asked for this address in a short time.")),
    Rule("RATELIMIT_REGISTRATIONS_PER_ADDRESS", ("accounts.register",), _by_address, _created, _exempt_address,
         _l("Many accounts were created from your network in a short time.")),
    Rule("RATELIMIT_PROPOSALS", ("amendments.new",), _by_person, _created, _anonymous,
         _l("You have proposed many amendments in the last hour.")),
    Rule("RATELIMIT_COMMENTS", COMMENT_ENDPOINTS, _by_person, _created, _anonymous,
         _l("You have posted many comments in the last hour.")),
    Rule("RATELIMIT_REPORTS", REPORT_ENDPOINTS, _by_person, _created, _anonymous,
         _l("You have sent many reports in the last hour.")),
)
_BY_SCOPE = {rule.scope: rule for rule in RULES}
LOGIN_PER_ACCOUNT = RULES[0]


@dataclass(frozen=True)
class ApiRule:
    """A limit of the API: its setting and its bucket's name."""

    setting: str

    @property
    def scope(self) -> str:
        """The bucket's name in the storage."""
        return self.setting.removeprefix("RATELIMIT_").lower()


API_PER_TOKEN = ApiRule("RATELIMIT_API_PER_TOKEN")
API_PER_ADDRESS = ApiRule("RATELIMIT_API_PER_ADDRESS")
API_RULES = (API_PER_TOKEN, API_PER_ADDRESS)


@dataclass
class _State:
    """One app's limiter and what its rules need at request time."""

    limiter: Limiter
    exempt: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    prefix: str
    checked: bool = False


# ------------------------------------------------------------------ settings

def _api_limit_string(config, rule: ApiRule) -> str:
    """An API limit as set, checked.

    :raises ValueError: naming the setting, when the limits library cannot read it.
    """
    value = (config.get(rule.setting) or "").strip()
    try:
        parse_many(value) if value else None
    except ValueError as error:
        raise ValueError(f"{rule.setting}: {value!r} is not a limit like '600 per minute'") from error
    return value


def storage_uri(config) -> str:
    """Where the counts live: ``RATELIMIT_STORAGE_URI``, else Redis at ``REDIS_URL``, else this process's memory."""
    uri = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    if uri.startswith("unix://"):  # redis-py's spelling of a socket; the limits library says redis+unix
        uri = "redis+unix://" + uri.removeprefix("unix://")
    return uri


def exempt_networks(value: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of ``RATELIMIT_EXEMPT_ADDRESSES`` (``203.0.113.7, 198.51.100.0/24, 2001:db8::/48``).

    :raises ValueError: for anything that is not an address or network, so a typo fails at start-up.
    """
    return allowed_networks(value, "RATELIMIT_EXEMPT_ADDRESSES")


def _limit_string(config, rule: Rule) -> str:
    """A rule's limits as set, checked.

    :raises ValueError: naming the setting, when the limits library cannot read it.
    """
    value = (config.get(rule.setting) or "").strip()
    try:
        parse_many(value) if value else None
    except ValueError as error:
        raise ValueError(f"{rule.setting}: {value!r} is not a limit like '5 per minute; 20 per hour'") from error
    return value


def _limit(config, rule: Rule) -> Limit:
    """A rule as Flask-Limiter's limit, applied only to POSTs of its endpoints."""
    endpoints = frozenset(rule.endpoints)

    def exempt() -> bool:
        """Not one of the rule's endpoints, or exempt by the rule's own test."""
        return request.endpoint not in endpoints or (rule.exempt is not None and rule.exempt())

    return Limit(_limit_string(config, rule), key_function=rule.key, scope=rule.scope, shared=True,
                 methods=["POST"], exempt_when=exempt, deduct_when=rule.counts,
                 on_breach=_login_refused if rule is LOGIN_PER_ACCOUNT else None)


# ------------------------------------------------------------------ wiring

def init_app(app: Flask) -> None:
    """Build this app's limiter from its settings, and register the 429 page and the reset after a login.

    :raises ValueError: for a limit, or an exempt address, that cannot be read.
    """
    config = app.config
    uri = storage_uri(config)
    options = {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT} \
        if uri.startswith(_REDIS_SCHEMES) else {}
    prefix = config.get("RATELIMIT_KEY_PREFIX") or ""
    limiter = Limiter(_by_address, default_limits=[_limit(config, rule) for rule in RULES], strategy=STRATEGY,
                      storage_uri=uri, storage_options=options, key_prefix=prefix, swallow_errors=True,
                      in_memory_fallback_enabled=True, headers_enabled=False)
    for rule in API_RULES:
        _api_limit_string(config, rule)  # a typo fails at start-up, not at the first call
    limited = frozenset(endpoint for rule in RULES for endpoint in rule.endpoints)
    # Every other request (GETs, other endpoints) skips the limiter at once: it would cost each page ~0.3 ms.
    limiter.request_filter(lambda: request.method != "POST" or request.endpoint not in limited)
    app.extensions[EXTENSION] = _State(limiter, exempt_networks(config.get("RATELIMIT_EXEMPT_ADDRESSES")), prefix)
    limiter.init_app(app)  # does nothing more when RATELIMIT_ENABLED is false
    if limiter.enabled:
        app.before_request(_check_endpoints)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    user_logged_in.connect(_forget_failures)  # once: blinker keeps one connection per receiver


def missing_endpoints(app: Flask) -> list[str]:
    """The endpoints of :data:`RULES` the app does not have (a renamed view would silently lose its limit)."""
    return [endpoint for rule in RULES for endpoint in rule.endpoints if endpoint not in app.view_functions]


def _check_endpoints() -> None:
    """At the first request, once every area is registered: every limited endpoint exists.

    :raises RuntimeError: under TESTING, so a test fails loudly; in production the error is logged.
    """
    state: _State = current_app.extensions[EXTENSION]
    if state.checked:
        return
    state.checked = True
    missing = missing_endpoints(current_app)
    if missing:
        message = f"Rate limits name endpoints the app does not have: {', '.join(missing)} (accounts/limits.py RULES)"
        if current_app.testing:
            raise RuntimeError(message)
        log.error(message)


def _bucket(state: _State, key: str, rule: Rule | ApiRule) -> list[str]:
    """The identifiers Flask-Limiter counts a shared limit under: prefix, key, scope."""
    return ([state.prefix] if state.prefix else []) + [key, rule.scope]


# ------------------------------------------------------------------ login: forgetting, and telling the admins

def _forget_failures(app: Flask, user: User, **_extra) -> None:
    """A successful login clears the account's failed attempts (any way of logging in: password, reset, SSO)."""
    state: _State | None = app.extensions.get(EXTENSION)
    if state is None or not state.limiter.enabled:
        return
    value = app.config.get(LOGIN_PER_ACCOUNT.setting) or ""
    try:
        bucket = _bucket(state, _email_key(user.email), LOGIN_PER_ACCOUNT)
        for item in parse_many(value) if value else []:
            state.limiter.limiter.clear(item, *bucket)
    except Exception:  # the storage is down: the failures expire on their own
        log.warning("Could not clear the failed logins of user %s", user.id, exc_info=True)


def _login_refused(refused: RequestLimit) -> None:
    """When an account's login is refused: one ``user.login_throttled`` event per window, if the account exists.

    Called by Flask-Limiter before it answers 429; an unknown email gets the
    same answer, only no event.
    """
    state: _State = current_app.extensions[EXTENSION]
    window = refused.limit.get_expiry()
    key = _by_typed_email()
    once = RateLimitItemPerSecond(1, window)
    if not state.limiter.limiter.hit(once, *_bucket(state, key, LOGIN_PER_ACCOUNT), "told", str(refused.limit)):
        return
    user = get_user_by_email(request.form.get("email", ""))
    if user is not None:
        record_login_throttled(user.id, limit=str(refused.limit), address=client_address())


@writes
def record_login_throttled(user_id: int, *, limit: str, address: str) -> None:
    """Record that logins to an account are being refused (the actor is unknown: whoever typed the passwords).

    The address is kept as its network only, as the sessions list shows it.
    """
    user = lock_row(User, user_id)
    if user is not None:
        record_event(None, "user.login_throttled", user, data={"limit": limit, "address": approximate_address(address)})


# ------------------------------------------------------------------ the 429 page

def retry_after(error: RateLimitExceeded) -> int:
    """Seconds until the refused request may be sent again (at least 1)."""
    state: _State = current_app.extensions[EXTENSION]
    breached = state.limiter.current_limit
    try:
        if breached is not None and breached.breached:
            reset, _remaining = state.limiter.limiter.get_window_stats(breached.limit, *breached.request_args)
            return max(1, math.ceil(reset - time.time()))
    except Exception:  # the storage went down meanwhile: the whole window, to be safe
        log.warning("Could not read when a rate limit resets", exc_info=True)
    return max(1, int(error.limit.limit.get_expiry()))


def handle_rate_limited(error: RateLimitExceeded):
    """429 in the reader's language: why, when to try again (in words and ``Retry-After``), and their text kept."""
    g.error_page = True
    seconds = retry_after(error)
    rule = _BY_SCOPE.get(str(error.limit.scope))
    when = format_timedelta(timedelta(seconds=seconds), add_direction=True)
    resend = resend_form() if request.method == "POST" else None
    reset_url = None
    if rule is LOGIN_PER_ACCOUNT and "recovery.forgot_password" in current_app.view_functions:
        reset_url = "recovery.forgot_password"
    page = render_template("errors/429.html", why=rule.why if rule else None, when=when, resend=resend,
                           reset_endpoint=reset_url, again=request.full_path.rstrip("?"))
    return page, 429, {"Retry-After": str(seconds)}


# ------------------------------------------------------------------ the API

@dataclass(frozen=True)
class Allowance:
    """What an API call left of its tightest limit: for the ``RateLimit-*`` headers, and whether it may go on."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window frees a call (Retry-After when refused)
    policy: str  # "600;w=60", the header RateLimit-Policy's form


def api_allowance(rule: ApiRule, key: str) -> Allowance | None:
    """Count one API call under ``rule`` for ``key`` (a token, an address); None when no limit applies.

    Every window of the setting is tested first and counted only when all
    allow it, so a refused call costs nothing. A storage that fails lets the
    call through (logged), as the pages' limits do.
    """
    if rule is API_PER_ADDRESS and _exempt_address():
        return None
    return _measure(rule, key, "take")


def creation_allowance(setting: str, user_id: int, *, count: bool) -> Allowance | None:
    """The per-person limit of what the API creates (``RATELIMIT_PROPOSALS``...), in the pages' own bucket.

    An amendment proposed through the API counts as one proposed on its page:
    the API is no way around the limit. ``count=False`` only tests (before
    the service runs); ``count=True`` counts one creation (after it
    succeeded) and answers None. None too when no limit applies or the storage fails.
    """
    rule = next((rule for rule in RULES if rule.setting == setting), None)
    if rule is None:
        return None
    return _measure(rule, f"person:{user_id}", "count" if count else "test")


def _measure(rule: Rule | ApiRule, key: str, mode: str) -> Allowance | None:
    """Read (``test``), count when every window allows (``take``) or just count (``count``) one hit of ``key``.

    None when limits are off, the setting is empty, after ``count``, or when the storage fails (logged).
    """
    state: _State | None = current_app.extensions.get(EXTENSION)
    if state is None or not state.limiter.enabled:
        return None
    value = (current_app.config.get(rule.setting) or "").strip()
    if not value:
        return None
    items = parse_many(value)
    bucket = _bucket(state, key, rule)
    strategy = state.limiter.limiter
    try:
        if mode == "count":
            for item in items:
                strategy.hit(item, *bucket)
            return None
        allowed = all(strategy.test(item, *bucket) for item in items)
        if allowed and mode == "take":
            for item in items:
                strategy.hit(item, *bucket)
        stats = [(item, *strategy.get_window_stats(item, *bucket)) for item in items]
    except Exception:  # the storage is down: the call goes through, as every limit does then
        log.warning("Could not count %s under %s", key.split(":", 1)[0], rule.setting, exc_info=True)
        return None
    # Refused: the window that frees last says when to come back; else the one with least left.
    blocking = [entry for entry in stats if entry[2] <= 0] if not allowed else []
    item, reset_at, remaining = max(blocking, key=lambda entry: entry[1]) if blocking \
        else min(stats, key=lambda entry: entry[2])
    return Allowance(allowed=allowed, limit=item.amount, remaining=max(0, remaining),
                     reset=max(1, math.ceil(reset_at - time.time())),
                     policy=", ".join(f"{entry.amount};w={entry.get_expiry()}" for entry in items))
