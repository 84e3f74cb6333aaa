"""What every service shares: errors, the write transaction, and time.

Services own state changes. Each one checks permission, validates input,
writes in one transaction and records an audit event. Views call exactly one
service per action and turn these errors into pages and form messages.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from datetime import datetime, timezone
from typing import ParamSpec, TypeVar

from .extensions import db

P = ParamSpec("P")
R = TypeVar("R")

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
        raise ValidationError("This form is damaged or out of date. Reload the page and try again; "
                              "copy your text first.", field)
    return number


def writes(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service in one write transaction: commit on success, roll back on error.

    Nested services join the outer transaction.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _writing.get():
            return func(*args, **kwargs)
        # End the read transaction the view may have opened, so that the
        # write transaction starts fresh (and, on SQLite, immediately).
        db.session.commit()
        token = _writing.set(True)
        try:
            result = func(*args, **kwargs)
            db.session.commit()
            return result
        except BaseException:
            db.session.rollback()
            raise
        finally:
            _writing.reset(token)

    return wrapper


def in_write_transaction() -> bool:
    """Tell whether a service transaction is running (for SQLite's BEGIN)."""
    return _writing.get()
