"""What every service shares: errors, the write transaction, and time.

Services own state changes. Each one checks permission, validates input,
writes in one transaction and records an audit event. Views call exactly one
service per action and turn these errors into pages and form messages.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import ParamSpec, TypeVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from . import locking, metrics
from .extensions import db

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Work to do once the running write transaction has committed (mail, queued jobs).
_after_commit: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "after_commit", default=None)

# Set while a service runs, so the SQLite connection starts its transaction
# with BEGIN IMMEDIATE (take the write lock up front instead of failing to
# upgrade a read lock halfway through).
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar("writing", default=False)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Read a stored datetime as UTC (SQLite drops the zone)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


class ServiceError(Exception):
    """Base of the errors services raise for the view to show."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(ServiceError):
    """The user may not do this (403)."""

    status = 403


class NotFound(ServiceError):
    """The object does not exist (404)."""

    status = 404


class ValidationError(ServiceError):
    """The input is wrong; ``field`` names the form field to show it next to."""

    status = 400


class ConflictError(ServiceError):
    """Someone else changed the object first (409); nothing was written."""

    status = 409

    def __init__(self, message: str, field: str | None = None, current=None):
        super().__init__(message, field)
        self.current = current


class DatabaseUnavailable(Exception):
    """The database could not finish the request: busy after retries, unreachable or too slow (503).

    Deliberately not a ServiceError: views let it pass, and the application's
    503 page (which never touches the database) shows the user's text again
    in a form to resend. ``reason`` is "busy", "unreachable" or "timeout";
    ``maybe_saved`` is True when the connection died while committing, so
    nobody can tell whether the change was written.
    """

    status = 503

    def __init__(self, reason: str = "unreachable", *, maybe_saved: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.maybe_saved = maybe_saved


MAX_ID = 2**31 - 1  # the largest value an INTEGER column holds on every engine


def to_int(value, field: str | None = None, *, minimum: int = 0) -> int:
    """Read a number sent by a form (a hidden version or revision, an id).

    :raises ValidationError: for anything that is not a whole number in range,
        which only a damaged or forged form sends.
    """
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = None
    if number is None or not minimum <= number <= MAX_ID:
        raise ValidationError(_("This form is damaged or out of date. Reload the page and try again; "
                                "copy your text first."), field)
    return number


# PostgreSQL SQLSTATEs after which the whole transaction may simply run again.
RETRYABLE_SQLSTATES = {"40P01": "deadlock", "40001": "serialization failure"}
# Cancelled by statement_timeout, or lock_timeout ran out: the database is too slow now.
TIMEOUT_SQLSTATES = {"57014", "55P03"}


def _classify(error: DBAPIError) -> str:
    """Sort a database error: "contention" (run again), "disconnect", "timeout", "unreachable" or "other"."""
    if error.connection_invalidated:
        return "disconnect"
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return "contention"
    if sqlstate in TIMEOUT_SQLSTATES:
        return "timeout"
    if isinstance(error.orig, sqlite3.OperationalError) and any(
            word in str(error.orig).lower() for word in ("database is locked", "database table is locked", "busy")):
        return "contention"
    if isinstance(error, (OperationalError, InterfaceError)):
        return "unreachable"
    return "other"


def _rollback_quietly() -> None:
    """Roll the session back after a failure; a dead connection is discarded instead."""
    try:
        db.session.rollback()
    except DBAPIError:
        db.session.close()


def _pause(attempt: int) -> None:
    """Wait a little before running a transaction again: exponential, with jitter."""
    base = float(current_app.config["WRITE_RETRY_DELAY"])
    time.sleep(min(1.0, base * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))


def writes(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service in one write transaction: commit on success, roll back on error.

    Nested services join the outer transaction. The outermost call runs the
    whole transaction again (a few times, with jitter, and not once 10 s
    have gone by: ``WRITE_ATTEMPTS``, ``WRITE_RETRY_WITHIN``) after a deadlock, a
    serialization failure or SQLite's "database is locked", and after a
    connection that died before the commit was sent. It never runs anything
    again after a commit may have reached the database: only the
    transaction is repeated, so a service must keep side effects outside the
    database (mail, files) out of its body.

    :raises DatabaseUnavailable: when the retries run out, the connection
        died during the commit, or the database is unreachable or too slow.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _writing.get():
            return func(*args, **kwargs)
        attempts = max(1, int(current_app.config["WRITE_ATTEMPTS"]))
        # A retry that would start after this many seconds is not worth it:
        # the user has waited long enough (SQLite's busy timeout alone is 15 s).
        deadline = time.monotonic() + float(current_app.config["WRITE_RETRY_WITHIN"])
        for attempt in range(1, attempts + 1):
            committing, token, locks = False, None, locking.begin()
            pending: list[Callable[[], None]] = []
            pending_token = _after_commit.set(pending)
            try:
                # End the read transaction the view may have opened, so that
                # the write transaction starts fresh (on SQLite, immediately).
                db.session.commit()
                token = _writing.set(True)
                result = func(*args, **kwargs)
                committing = True
                db.session.commit()
            except DBAPIError as error:
                _rollback_quietly()
                kind = _classify(error)
                if kind == "other":
                    raise
                again = (attempt < attempts and time.monotonic() < deadline
                         and (kind == "contention" or (kind == "disconnect" and not committing)))
                if not again:
                    raise DatabaseUnavailable(
                        "busy" if kind == "contention" else "timeout" if kind == "timeout" else "unreachable",
                        maybe_saved=committing and kind in ("disconnect", "unreachable")) from error
                log.warning("%s: %s on attempt %d of %d; running the transaction again",
                            func.__qualname__, RETRYABLE_SQLSTATES.get(getattr(error.orig, "sqlstate", None), kind),
                            attempt, attempts)
                metrics.database_retry(kind)
                if kind == "contention":
                    _pause(attempt)
                continue
            except BaseException:
                _rollback_quietly()
                raise
            finally:
                if token is not None:
                    _writing.reset(token)
                _after_commit.reset(pending_token)
                locking.end(locks)
            # Committed: now, outside the transaction, what had to wait for it.
            _run_after_commit(pending)
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    return wrapper


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the running write transaction has committed, and never if it does not.

    For work outside the database that must not happen twice or for nothing:
    queueing an email, for instance. A retried transaction registers its
    callbacks again, and only the attempt that commits runs them. A failing
    callback is logged; the user's change is saved either way.

    :raises RuntimeError: outside a write service.
    """
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit() is for code running inside a write service (@writes)")
    pending.append(callback)


def _run_after_commit(callbacks: list[Callable[[], None]]) -> None:
    """Run the callbacks of a committed transaction; a failure is logged, not raised."""
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the change is committed; the callback's own retries are its business
            log.exception("after-commit work %r failed", callback)


def in_write_transaction() -> bool:
    """Tell whether a service transaction is running (for SQLite's BEGIN)."""
    return _writing.get()
