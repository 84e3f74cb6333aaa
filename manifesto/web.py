"""The application class, and helpers shared by the views of every area."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, request
from flask_login import current_user
from sqlalchemy import exc

from .database import discard_session, is_database_failure
from .forms import show_error
from .services import MAX_ID, NotFound, PermissionDenied, ServiceError

log = logging.getLogger(__name__)


class ManifestoFlask(Flask):
    """Flask, plus one retry of a read whose database connection dropped under it."""

    def dispatch_request(self):  # type: ignore[override]
        """Run the view; a GET or HEAD whose connection died runs once more on a fresh one.

        Only reads are retried: they change nothing, so running one twice is
        safe. A write is never run again here; its service retries its own
        transaction, and the 503 page hands the form back to the user.
        """
        if request.method not in ("GET", "HEAD"):
            return super().dispatch_request()
        try:
            return super().dispatch_request()
        except exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("Database connection lost during %s %s; running it once more: %s",
                        request.method, request.path, error.orig)
        discard_session()
        # Objects loaded on the lost connection belong to the discarded session.
        g.pop("_login_user", None)
        return super().dispatch_request()


def nav_user():
    """The user for the page header; None on an error page when the database cannot tell who it is.

    Loading the user reads the database, and the page that says the database
    is down must still render: the 503 page never tries (``g.database_down``),
    other error pages (``g.error_page``) give up quietly. On any other page
    the failure goes on to the usual handling: a read runs again, or the 503 page.
    """
    if g.get("database_down"):
        return None
    try:
        return current_user._get_current_object()
    except Exception as error:
        if not (g.get("error_page") and is_database_failure(error)):
            raise
        g.database_down = True
        discard_session()
        return None


def is_safe_next(target: str | None) -> bool:
    """Tell whether ``target`` is a path on this site, safe to redirect to after login.

    Rejects other hosts, scheme-relative ``//host``, ``/\\host`` (browsers read
    the backslash as a slash), and control characters.
    """
    if not target or not target.startswith("/"):
        return False
    if target.startswith("//") or "\\" in target:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str) -> str:
    """Return ``target`` when it is safe, else ``default``."""
    return target if is_safe_next(target) else default


def int_arg(name: str) -> int | None:
    """Read an id from the query string; None when missing, malformed or out of range."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def page_arg(name: str = "page") -> int:
    """Read a positive page number from the query string (1 when missing or bad)."""
    value = request.args.get(name, type=int) or 1
    return max(1, min(value, 100000))


def abort_for(error: ServiceError) -> None:
    """Turn a permission or lookup error into its error page; other errors return."""
    if isinstance(error, PermissionDenied):
        abort(403, description=error.message)
    if isinstance(error, NotFound):
        abort(404, description=error.message)


def flash_error(error: ServiceError) -> None:
    """Answer 403/404 with their page; flash any other service error for the next page."""
    abort_for(error)
    flash(error.message, "error")


def form_error(form, error: ServiceError) -> int:
    """Answer 403/404 with their page; put any other error next to its field. Returns the status."""
    abort_for(error)
    show_error(form, error)
    return error.status
