"""Configuration defaults.

Order of precedence, lowest first: these defaults, ``instance/config.py``,
environment variables, then the ``test_config`` mapping given to the factory.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

# Environment variables that are read into the config, with their converters.
ENV_SETTINGS: dict[str, Any] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "LINE_LENGTH": int,
    "MAX_CONTENT_LENGTH": int,
    "PREFERRED_URL_SCHEME": str,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in {"1", "true", "yes"},
    "AMENDMENTS_PER_PAGE": int,
    "DATABASE_CONNECT_TIMEOUT": int,
    "DATABASE_STATEMENT_TIMEOUT": float,
    "DATABASE_IDLE_IN_TRANSACTION_TIMEOUT": float,
    "DATABASE_TCP_TIMEOUT": float,
    "DATABASE_POOL_TIMEOUT": float,
    "DATABASE_POOL_SIZE": int,
    "DATABASE_MAX_OVERFLOW": int,
    "DATABASE_APPLICATION_NAME": str,
    "WRITE_ATTEMPTS": int,
    "WRITE_RETRY_DELAY": float,
    "WRITE_RETRY_WITHIN": float,
    # Notifications: links in emails, SMTP, and the job queue that sends mail.
    "SITE_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_TLS": lambda v: v.lower() in {"1", "true", "yes"},
    "MAIL_USE_SSL": lambda v: v.lower() in {"1", "true", "yes"},
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_SENDER": str,
    "MAIL_TIMEOUT": float,
    "MAIL_RETRIES": int,
    "MAIL_RETRY_DELAY": float,
    "MAIL_RESEND_AFTER": float,
    "REDIS_URL": str,
    "QUEUE_MODE": str,
    "QUEUE_FILE": str,
    "NOTIFICATIONS_PER_PAGE": int,
    # Exports: where generated files are cached, and when a PDF goes to the job queue.
    "EXPORT_DIR": str,
    "EXPORT_INLINE_MAX_CHARS": int,
    "EXPORT_JOB_TIMEOUT": float,
    "EXPORT_QUEUE_TIMEOUT": float,
    # The page cache (see manifesto/pagecache.py).
    "PAGE_CACHE": str,
    "PAGE_CACHE_MEMORY_MB": float,
    "PAGE_CACHE_WAIT": float,
    "PAGE_CACHE_TTL": int,
    "PAGE_CACHE_PREFIX": str,
    "VISITOR_ANSWERS_MB": float,
    # What operators see (see manifesto/observability.py).
    "TRUSTED_PROXIES": int,
    "LOG_FORMAT": str,
    "METRICS_TOKEN": str,
    "METRICS_ALLOW": str,
    "COMPRESSED_BODIES_MAX_BYTES": int,
    "PG_BIN_DIR": str,
    # Accounts (#16): who may take part, passwords, two factors, single sign-on, rate limits.
    "REGISTRATION": str,
    "EMAIL_VERIFICATION": str,
    "PASSWORD_MIN_LENGTH": int,
    "PASSWORD_MIN_LENGTH_TWO_FACTOR": int,
    "IMPORT_MAX_BYTES": int,
    "IMPORT_MAX_ROWS": int,
    "ARGON2_TIME_COST": int,
    "ARGON2_MEMORY_COST": int,
    "ARGON2_PARALLELISM": int,
    "TWO_FACTOR_REQUIRED": lambda v: v.lower() in {"1", "true", "yes"},
    "OIDC_ISSUER": str,
    "OIDC_CLIENT_ID": str,
    "OIDC_CLIENT_SECRET": str,
    "OIDC_NAME": str,
    "OIDC_CREATE_ACCOUNTS": lambda v: v.lower() in {"1", "true", "yes"},
    "OIDC_TIMEOUT": float,
    "SSO_ONLY": lambda v: v.lower() in {"1", "true", "yes"},
    "RATELIMIT_ENABLED": lambda v: v.lower() in {"1", "true", "yes"},
    "RATELIMIT_STORAGE_URI": str,
    "RATELIMIT_KEY_PREFIX": str,
    "RATELIMIT_EXEMPT_ADDRESSES": str,
    "RATELIMIT_LOGIN_PER_ACCOUNT": str,
    "RATELIMIT_LOGIN_PER_ADDRESS": str,
    "RATELIMIT_MAIL_PER_ADDRESS": str,
    "RATELIMIT_MAIL_PER_EMAIL": str,
    "RATELIMIT_REGISTRATIONS_PER_ADDRESS": str,
    "RATELIMIT_PROPOSALS": str,
    "RATELIMIT_COMMENTS": str,
    "RATELIMIT_REPORTS": str,
    "RATELIMIT_API_PER_TOKEN": str,
    "RATELIMIT_API_PER_ADDRESS": str,
    "API_MAX_BODY": int,
    "API_MAX_PAGE_SIZE": int,
    "WEBHOOK_ALLOW_PRIVATE": lambda v: v.lower() in {"1", "true", "yes"},
    "WEBHOOK_TIMEOUT": float,
    "WEBHOOK_MAX_ATTEMPTS": int,
    "WEBHOOK_DISABLE_AFTER": int,
    # Live updates (#18, manifesto/live/).
    "LIVE_BROKER": str,
    "LIVE_PREFIX": str,
    "LIVE_STREAMS_PER_PROCESS": int,
    "LIVE_STREAM_LIFETIME": float,
    "LIVE_HEARTBEAT": float,
    "LIVE_POLL_SECONDS": float,
    "LIVE_CONTENT": lambda v: v.lower() in {"1", "true", "yes"},
    # Secret votes (#18, manifesto/plenary/sealing.py): the secret keys an open vote's sealed ballots may still
    # have been sealed under, after SECRET_KEY was changed; space-separated (Flask's own setting).
    "SECRET_KEY_FALLBACKS": lambda v: v.split(),
}


class Defaults:
    """Settings that hold unless instance config or the environment say otherwise."""

    DATABASE_URL: str | None = None  # None: SQLite file in the instance folder
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Drafting an amendment can take far longer than an hour: tie the CSRF
    # token to the session instead of letting it expire on a timer.
    WTF_CSRF_TIME_LIMIT = None
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # One request body at most; a section is far below this.
    MAX_CONTENT_LENGTH = 1024 * 1024
    LINE_LENGTH = 80
    AMENDMENTS_PER_PAGE = 50
    # "argon2id" (manifesto/accounts/passwords.py, ARGON2_* below), or one of werkzeug's methods;
    # tests use a cheap one to stay fast. Older scrypt/pbkdf2 hashes are upgraded at the next login.
    PASSWORD_HASH_METHOD = "argon2id"
    SQLITE_BUSY_TIMEOUT_MS = 15000
    # PostgreSQL: how long a request may wait for the database before the
    # user gets the 503 page instead of a hung request (seconds; 0 turns one off).
    # Together they keep a refusing, unreachable or stuck database within ~10 s.
    DATABASE_CONNECT_TIMEOUT = 5  # opening a connection (libpq counts whole seconds, at least 2)
    DATABASE_STATEMENT_TIMEOUT = 10.0  # one statement, waits for row locks included (server side)
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT = 60.0  # the server ends a transaction a stuck worker left open
    DATABASE_TCP_TIMEOUT = 10.0  # keepalives and tcp_user_timeout: a vanished server host counts as gone
    DATABASE_POOL_TIMEOUT = 5.0  # waiting for a free connection in this process's pool
    # PostgreSQL connections kept per process, and how many more it may open at a peak: every
    # worker of every machine has its own pool (docs/DEPLOYMENT.md does the sum).
    DATABASE_POOL_SIZE = 5
    DATABASE_MAX_OVERFLOW = 10
    # Shown in pg_stat_activity, so operators (and the tests) can tell our connections apart.
    DATABASE_APPLICATION_NAME = "manifesto"
    # A write transaction that meets a deadlock, a serialization failure, SQLite's
    # busy error or a connection lost before its commit runs again: at most this
    # many attempts, pausing WRITE_RETRY_DELAY seconds (doubling, with jitter), and
    # none that would start more than WRITE_RETRY_WITHIN seconds after the first.
    WRITE_ATTEMPTS = 5
    WRITE_RETRY_DELAY = 0.05
    WRITE_RETRY_WITHIN = 10.0
    # The site's public address, for links in emails (never taken from a request's Host header).
    SITE_URL: str | None = None  # None: http://SERVER_NAME, else http://127.0.0.1:5000
    # SMTP; without MAIL_SERVER, emails are written to the log and nothing fails.
    MAIL_SERVER: str | None = None
    MAIL_PORT: int | None = None  # None: 465 with SSL, 587 with STARTTLS, else 25
    MAIL_USE_TLS = False  # STARTTLS after connecting
    MAIL_USE_SSL = False  # TLS from the first byte (SMTPS)
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "Manifesto <manifesto@localhost>"
    MAIL_TIMEOUT = 10.0  # seconds for the SMTP server to answer (the worker waits, never a request)
    MAIL_RETRIES = 5  # further tries of a failed send, MAIL_RETRY_DELAY seconds apart at first, doubling
    MAIL_RETRY_DELAY = 60.0
    MAIL_RESEND_AFTER = 6 * 3600.0  # send-digests takes over mail still unsent after this many seconds
    # The job queue (Huey): Redis when REDIS_URL is set, else a SQLite file in the instance folder.
    REDIS_URL: str | None = None
    QUEUE_MODE: str | None = None  # thread (the default), worker, or immediate (the default under TESTING)
    QUEUE_FILE: str | None = None  # None: instance/queue.sqlite3
    NOTIFICATIONS_PER_PAGE = 30
    # Exports: generated files are cached per release and options (the live
    # text's when it changes) under EXPORT_DIR, None: instance/exports.
    EXPORT_DIR: str | None = None
    # A PDF of a text longer than this many characters (the annex counts 400
    # per amendment) is built by the job queue, not in the request.
    EXPORT_INLINE_MAX_CHARS = 60_000
    EXPORT_JOB_TIMEOUT = 600.0  # seconds without progress before a running export job counts as dead
    EXPORT_QUEUE_TIMEOUT = 3600.0  # seconds a queued export job may wait for a worker before it counts as lost
    # The page cache: the heavy part of the reading, section, list, release and comparison pages,
    # rendered once per state of the content. auto: shared through Redis when REDIS_URL is set,
    # else in each process's memory; memory; redis; off.
    PAGE_CACHE = "auto"
    PAGE_CACHE_MEMORY_MB = 64.0  # per process: the least recently used pages leave first
    PAGE_CACHE_WAIT = 5.0  # seconds a request waits for another that renders the same page, then renders itself
    PAGE_CACHE_TTL = 6 * 3600  # seconds a shared entry stays in Redis (keys change with every write anyway)
    PAGE_CACHE_LOCK_TTL = 30.0  # seconds a crashed renderer can keep the others waiting (at most PAGE_CACHE_WAIT)
    PAGE_CACHE_PREFIX = "manifesto:page:"  # Redis key prefix: two installations on one Redis need different ones
    # Per process: visitors' finished answers, replayed after one query (documents/replay.py); 0 turns it off.
    VISITOR_ANSWERS_MB = 32.0
    # How many proxies stand in front (their X-Forwarded-For and X-Request-ID are trusted, nobody else's).
    TRUSTED_PROXIES = 0
    LOG_FORMAT = "text"  # or json: one object per line, for log collectors
    # /metrics (Prometheus) answers only this bearer token or these addresses (comma-separated IPs or
    # networks); with neither, it is a 404 like any unknown page.
    METRICS_TOKEN: str | None = None
    METRICS_ALLOW: str | None = None
    # Compressed copies of visitors' pages (shared by everyone), per process.
    COMPRESSED_BODIES_MAX_BYTES = 16 * 1024 * 1024
    # Where pg_dump and pg_restore are, for `flask backup` on PostgreSQL (None: on PATH).
    PG_BIN_DIR: str | None = None

    # --- Accounts (#16) ---
    # Who may take part: open (anyone registers), invitation (only imported or invited people),
    # approval (anyone registers, an admin approves before the account may log in).
    REGISTRATION = "open"
    # required: a self-registered account reads but may not act until it follows the link we mail; off.
    EMAIL_VERIFICATION = "required"
    # Signed links we mail: reset (single use, one hour), invitation and address verification.
    RESET_LINK_MAX_AGE = 3600
    INVITATION_LINK_MAX_AGE = 14 * 24 * 3600
    VERIFICATION_LINK_MAX_AGE = 7 * 24 * 3600
    # NIST SP 800-63B-4: 15 characters for a password that alone signs in, 8 with a second factor.
    PASSWORD_MIN_LENGTH = 15
    PASSWORD_MIN_LENGTH_TWO_FACTOR = 8
    # Argon2id, above OWASP's minimum (m=19 MiB t=2 p=1). Measured with scripts/bench_login.py on the
    # 2-core machine: one verify costs ~59 ms of one core (m=19 MiB t=2: ~22 ms; m=46 MiB t=1: ~58 ms
    # but more memory per login); 800 delegates in five minutes (2.7 logins/s) keep ~8% of 2 cores busy.
    ARGON2_TIME_COST = 2
    ARGON2_MEMORY_COST = 32768  # KiB
    ARGON2_PARALLELISM = 1
    # Delegates imported from a CSV file (accounts/importing.py): the largest file and the most rows
    # one import takes. Only that upload may exceed MAX_CONTENT_LENGTH.
    IMPORT_MAX_BYTES = 5 * 1024 * 1024
    IMPORT_MAX_ROWS = 20_000

    # --- Accounts: two factors (#16) ---
    TWO_FACTOR_REQUIRED = False  # moderators and admins must set up TOTP at their next login
    TOTP_MAX_FAILURES = 5  # wrong codes in a row before the code step locks
    TOTP_LOCK_SECONDS = 900

    # --- Accounts: single sign-on (#16) ---
    OIDC_ISSUER: str | None = None  # None: no single sign-on button
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_NAME = "single sign-on"  # the button says "Log in with <OIDC_NAME>"
    OIDC_CREATE_ACCOUNTS = True  # a first login creates the account (just in time); else only invited ones
    SSO_ONLY = False  # no password login or registration: everyone comes through the provider
    OIDC_TIMEOUT = 10.0  # seconds any request to the provider may take (discovery, token, keys)

    # --- Accounts: rate limits (#16, manifesto/accounts/limits.py) ---
    # Limits read "N per <period>", several separated by ";"; an empty one is off. Only POSTs count.
    RATELIMIT_ENABLED = True  # false turns every limit off
    # None: Redis at REDIS_URL (shared by every worker and machine), else memory (each process counts apart).
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_KEY_PREFIX = "manifesto"  # two installations on one Redis need different ones
    # The venue's NAT address(es): IPs and networks, comma-separated; exempt from the per-address limits only.
    RATELIMIT_EXEMPT_ADDRESSES: str | None = None
    # Failed logins per account (the email typed): growing delays, never a lock for good.
    RATELIMIT_LOGIN_PER_ACCOUNT = "5 per minute; 20 per hour; 100 per day"
    # Every login POST per address: 800 delegates behind one NAT logging in within five minutes pass.
    RATELIMIT_LOGIN_PER_ADDRESS = "2000 per 5 minutes; 20000 per day"
    # Mail asked for (reset, invitation, verification), per address and per email.
    RATELIMIT_MAIL_PER_ADDRESS = "100 per hour; 500 per day"
    RATELIMIT_MAIL_PER_EMAIL = "5 per hour; 20 per day"
    # Accounts created per address (each mails a verification link); the venue's address is exempt.
    RATELIMIT_REGISTRATIONS_PER_ADDRESS = "1000 per hour; 3000 per day"
    # Per person: what they create.
    RATELIMIT_PROPOSALS = "30 per hour"
    RATELIMIT_COMMENTS = "120 per hour"
    RATELIMIT_REPORTS = "30 per hour"
    # The API (#17): every call counts, reads too; per token, and per address for calls without one.
    RATELIMIT_API_PER_TOKEN = "600 per minute; 20000 per hour"
    RATELIMIT_API_PER_ADDRESS = "300 per minute; 5000 per hour"

    # --- The API and webhooks (#17, manifesto/api/) ---
    API_MAX_BODY = 256 * 1024  # bytes a request body may have (413 beyond)
    API_MAX_PAGE_SIZE = 100  # items a list page may ask for (per_page; 100 is also the document's maximum)
    # Webhook receivers at private, loopback or link-local addresses are refused unless this is true
    # (an intranet receiver); cloud metadata addresses (169.254.169.254...) are refused always.
    WEBHOOK_ALLOW_PRIVATE = False
    WEBHOOK_TIMEOUT = 5.0  # seconds to connect, and again to answer
    WEBHOOK_MAX_ATTEMPTS = 8  # then the delivery has failed; waits double from WEBHOOK_RETRY_DELAY
    WEBHOOK_RETRY_DELAY = 30.0  # seconds before the second attempt (then 60, 120... at most an hour)
    WEBHOOK_DISABLE_AFTER = 24 * 3600  # seconds of nothing but failures before a receiver is switched off
    WEBHOOK_RESPONSE_MAX_BYTES = 4096  # of a receiver's answer read (and kept, shortened, in the log)

    # --- Live updates (#18, manifesto/live/) ---
    # auto: Redis publish/subscribe when REDIS_URL is set (every worker and machine hears every notice),
    # else within this process (one process serving pages and streams, as `flask run` does); memory; redis.
    LIVE_BROKER = "auto"
    LIVE_PREFIX = "manifesto:live:"  # Redis keys and channel: two installations on one Redis need different ones
    LIVE_REMEMBER = 86400  # seconds Redis keeps each topic's last event id (a reconnect asks what it missed)
    # Streams one process holds at most; each holds a thread while open. A page worker keeps most of its
    # threads (GUNICORN_THREADS, 4) for pages: beyond this a page polls instead (a "busy" event, no stream).
    # The events process (events.py) sets its own, near its thread count. None: no limit.
    LIVE_STREAMS_PER_PROCESS: int | None = 2
    LIVE_STREAM_LIFETIME = 600.0  # seconds a stream stays open; the browser then reconnects by itself
    LIVE_HEARTBEAT = 15.0  # seconds of quiet before a comment keeps the stream (and the proxy) awake
    LIVE_RETRY_MS = 3000  # the browser's wait before reconnecting (the stream's retry: field)
    LIVE_MAX_TOPICS = 16  # topics one stream or poll may follow
    LIVE_CONTENT = True  # streams may ask for a shared fragment with its notice (live/content.py), else they fetch it
    LIVE_POLL_SECONDS = 5.0  # how often a page without a stream asks whether its parts changed
    LIVE_EVENTS_ONLY = False  # the events process: answers /live/ (and /healthz) alone


def database_uri(config: dict[str, Any], instance_path: str) -> str:
    """Return the SQLAlchemy URI: ``DATABASE_URL`` or a SQLite file in ``instance/``."""
    url = config.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the old driver; use psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    return "sqlite:///" + str(Path(instance_path) / "manifesto.sqlite")


def load_or_create_secret_key(instance_path: str) -> str:
    """Read the generated secret key from ``instance/secret_key``, creating it once."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    # Exclusive create so that two processes starting at once agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Return the settings found in the environment, converted to their types."""
    environ = os.environ if environ is None else environ
    found = {}
    for name, convert in ENV_SETTINGS.items():
        if environ.get(name):
            found[name] = convert(environ[name])
    return found
