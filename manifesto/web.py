"""Request and response plumbing: the application class, the one path from a refusal to a page, view helpers.

Views do not catch a service's errors to make pages. They load through the
services' own getters (``get_document_or_404``...) and call one service;
what the service refuses goes up to the handlers :func:`init_app` registers:

- ``NotFound``: the 404 page with its message;
- ``PermissionDenied``: the 403 page with its message, except after a button
  declared with :func:`back_on_refusal` (the reader pressed it on a page they
  may see, such as support after the decision): back to that page (303),
  the message flashed;
- ``ValidationError`` and ``ConflictError``: on a form's page, the view wraps
  the service call in :func:`refusals`, which puts the message by its field
  and keeps the status (400, 409) for the page it shows again; after a
  declared button, back to its page with the message; anywhere else, a page
  that hands back what was sent (``errors.resend_form``) with the message by
  its field (400), or as a stale form (409).

The pages of what fails below the services (a stale CSRF token, an HTTP
error, the database) are in :mod:`manifesto.errors`; ``init_app`` registers
them too, so every handler is registered in one place.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc
from werkzeug import exceptions as http

from . import errors, metrics
from .database import discard_session, is_database_failure
from .forms import show_error
from .services import MAX_ID, ConflictError, DatabaseUnavailable, NotFound, PermissionDenied, ValidationError

log = logging.getLogger(__name__)

T = TypeVar("T")


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
                        request.method, request.url_rule.rule if request.url_rule else "(unmatched)", error.orig)
        metrics.database_retry("read")
        discard_session()
        # Objects loaded on the lost connection belong to the discarded session.
        g.pop("_login_user", None)
        return super().dispatch_request()


def read_unless_down(load: Callable[[], T]) -> T | None:
    """Read something the page header shows; None when the database is down and this is an error page.

    The one guard of every read an error page makes besides its own: the
    page that says the database is down must still render, so the 503 page
    never tries (``g.database_down``) and other error pages (``g.error_page``)
    give up quietly when the read fails. On any other page the failure goes
    on to the usual handling: a read runs again, or the 503 page.
    """
    if database_down():
        return None
    try:
        return load()
    except Exception as error:
        if not (g.get("error_page") and is_database_failure(error)):
            raise
        g.database_down = True
        discard_session()
        return None


def database_down() -> bool:
    """Whether this request already found the database down (then nothing more may read it)."""
    return bool(g.get("database_down"))


def nav_user():
    """The user for the page header; None on an error page when the database cannot tell who it is."""
    return read_unless_down(lambda: current_user._get_current_object())


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


# ------------------------------------------------------------------ refusals

@dataclass
class Refusal:
    """What :func:`refusals` caught for the page shown again: its status (200 when nothing) and the message."""

    status: int = 200
    message: str | None = None


@contextmanager
def refusals(form: FlaskForm, on_conflict: Callable[[ConflictError], None] | None = None) -> Iterator[Refusal]:
    """Around a form's service call: a refusal goes by its field, and the view shows the form again.

    A ``ValidationError`` is caught (status 400); a ``ConflictError`` too when
    the view passes ``on_conflict``, which refreshes what the form was based
    on (its revision) so that saving again is a deliberate choice (409).
    Everything else passes through to its page: ``PermissionDenied``,
    ``NotFound``, and a conflict the view did not expect (the stale-form page).
    """
    refused = Refusal()
    try:
        yield refused
    except ValidationError as error:
        show_error(form, error)
        refused.status, refused.message = 400, error.message
    except ConflictError as error:
        if on_conflict is None:
            raise
        show_error(form, error)
        on_conflict(error)
        refused.status, refused.message = 409, error.message


@dataclass(frozen=True)
class _Back:
    """Where a button's refusal goes: an endpoint (or a function giving an address), an anchor, and to whom."""

    target: str | Callable[[], str]
    anchor: str | None
    shown_to: Callable[[Any], bool] | None

    def url(self) -> str:
        """The page to go back to, with the request's own arguments (those the page's address takes)."""
        if callable(self.target):
            url = self.target()
        else:
            rule = next(current_app.url_map.iter_rules(self.target))
            url = url_for(self.target, **{name: value for name, value in (request.view_args or {}).items()
                                          if name in rule.arguments})
        return url + (f"#{self.anchor}" if self.anchor else "")


def back_on_refusal(target: str | Callable[[], str], anchor: str | None = None, *,
                    shown_to: Callable[[Any], bool] | None = None):
    """Declare the page a button sits on: when the service refuses, the reader goes back there, the message flashed.

    ``target`` is an endpoint (given the request's own view arguments that its
    address takes) or a function returning an address. A ``PermissionDenied``
    goes back only for readers the button is shown to (``shown_to``, for
    example ``accounts.rules.is_moderator``; anyone by default): others get
    the 403 page, as anywhere. ``NotFound`` always gets its page.
    """
    back = _Back(target, anchor, shown_to)

    def decorate(view):
        """Remember ``back`` while ``view`` runs."""
        @functools.wraps(view)
        def declared(*args, **kwargs):
            """The view, with its page to go back to on a refusal."""
            g.refusal_back = back
            return view(*args, **kwargs)
        return declared
    return decorate


def _go_back(error, permission: bool = False):
    """Back to the declared page with the message flashed (303), or None when the view declared none."""
    back: _Back | None = g.get("refusal_back")
    if back is None or (permission and back.shown_to is not None and not back.shown_to(current_user)):
        return None
    flash(error.message, "error")
    return redirect(back.url(), 303)


def handle_not_found(error: NotFound):
    """The 404 page, with the service's message."""
    return errors.handle_http_error(http.NotFound(error.message))


def handle_permission_denied(error: PermissionDenied):
    """Back to the button's page with the message, or the 403 page."""
    return _go_back(error, permission=True) or errors.handle_http_error(http.Forbidden(error.message))


def handle_validation_error(error: ValidationError):
    """Back to the button's page with the message, or a page handing back what was sent, the message by its field."""
    return _go_back(error) or _refused_page(error, 400)


def handle_conflict(error: ConflictError):
    """Back to the button's page with the message, or the stale-form page handing back what was sent."""
    return _go_back(error) or _refused_page(error, 409)


def _refused_page(error: ValidationError | ConflictError, status: int):
    """A refused form that its view did not show again: what was sent, in a fresh form, and why (400 or 409)."""
    g.error_page = True
    return render_template("errors/refused.html", resend=errors.resend_form(error), status=status), status


def init_app(app: Flask) -> None:
    """Register every error page: refusals of the services, stale CSRF tokens, HTTP errors, the database."""
    app.register_error_handler(NotFound, handle_not_found)
    app.register_error_handler(PermissionDenied, handle_permission_denied)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(ConflictError, handle_conflict)
    app.register_error_handler(CSRFError, errors.handle_csrf_error)
    # An unhandled exception reaches handle_http_error as a 500 (outside
    # testing, where it propagates to the test instead).
    app.register_error_handler(http.HTTPException, errors.handle_http_error)
    # The database down, too slow or too busy: 503 and the user's text kept.
    # DBAPIError covers any driver error on a connection that died; the
    # handler lets others (a constraint, a bug) through as a 500.
    for error in (DatabaseUnavailable, exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
                  exc.PendingRollbackError, exc.DBAPIError):
        app.register_error_handler(error, errors.handle_database_error)
