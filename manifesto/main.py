"""Site-wide pages: home, health check, and error pages."""

from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from psycopg import errors as pg_errors
from sqlalchemy import exc, text
from werkzeug.exceptions import HTTPException

from .database import changes_saved, discard_session, is_database_failure
from .documents.services import first_document
from .extensions import db
from .services import DatabaseUnavailable

bp = Blueprint("main", __name__)
log = logging.getLogger(__name__)

# Fields never echoed back on the "send again" page.
_SECRET_FIELDS = {"csrf_token", "password", "confirm", "current_password", "new_password"}
# Fields the user never typed: sent again as they were, but not shown.
_TECHNICAL_FIELDS = {"action", "kind", "section_id", "base_version_id", "base_version", "revision",
                     "structure_version", "next", "to_number", "direction", "active", "after", "decision"}
# Seconds a client should wait before trying again, by why the database failed.
RETRY_AFTER = {"busy": 5, "timeout": 15, "unreachable": 30}
# PostgreSQL SQLSTATEs that mean "too many at once" (serialization failure,
# deadlock) and "waited too long" (statement timeout, lock not available).
_BUSY_SQLSTATES = {"40001", "40P01"}
_TIMEOUT_SQLSTATES = {"57014", "55P03"}


@bp.get("/")
def index():
    """Home: the first document, or a word on how to create one."""
    document = first_document()
    if document is not None:
        return redirect(url_for("documents.read", slug=document.slug))
    return render_template("main/empty.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: send them to the site's icon, not a 404."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
def healthz():
    """Liveness and database status, for load balancers and monitors."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:  # any failure means "not ready", whatever the driver raised
        db.session.rollback()
        return jsonify(status="error", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database=database, engine=db.engine.dialect.name)


def resend_form() -> dict:
    """Everything the user sent, ready for a fresh form to the same address.

    Typed fields are shown in text boxes, fields the user never typed travel
    hidden, and secrets (passwords, the CSRF token) are never echoed: the
    form asks for the passwords again instead. Used by every page that hands
    a form back: a stale CSRF token, a database that could not take it.
    """
    names = list(dict.fromkeys(request.form.keys()))
    sent = [(name, value) for name, value in request.form.items(multi=True) if name not in _SECRET_FIELDS]
    return {
        "action": request.full_path.rstrip("?"),
        "fields": [(name, value) for name, value in sent if name not in _TECHNICAL_FIELDS],
        "hidden": [(name, value) for name, value in sent if name in _TECHNICAL_FIELDS],
        "passwords": [name for name in names if name in _SECRET_FIELDS and name != "csrf_token"],
    }


def handle_csrf_error(error: CSRFError):
    """Keep the user's text when a form's token is missing or stale (for example an expired session).

    The page shows what was sent, in a fresh form that goes to the same place.
    """
    g.error_page = True
    return render_template("errors/csrf.html", resend=resend_form(), reason=error.description), 400


def database_failure(error: BaseException) -> tuple[str, bool]:
    """Say why the database failed: ("busy" | "timeout" | "unreachable", whether the change may be saved)."""
    if isinstance(error, DatabaseUnavailable):
        return error.reason, error.maybe_saved
    if isinstance(error, exc.TimeoutError):  # every connection of the pool is in use
        return "busy", False
    orig = getattr(error, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    sqlite_error = getattr(orig, "sqlite_errorname", None) or ""
    if sqlstate in _BUSY_SQLSTATES or sqlite_error.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "busy", False
    if sqlstate in _TIMEOUT_SQLSTATES or isinstance(orig, pg_errors.ConnectionTimeout):
        return "timeout", False
    return "unreachable", False


def handle_database_error(error: Exception):
    """Answer 503 when the database is down, too slow or too busy, with a page that never reads it.

    The session is thrown away first and ``g.database_down`` tells the page
    header not to look up the logged-in user. A POST gets everything the user
    sent back in a form to send again, unless its change was already committed
    (the database failed on the way to the next page): then it says so.

    :raises: ``error`` again when it is a database error that is not a failure
        of the database (a constraint, a bug): that stays a 500.
    """
    if not is_database_failure(error):
        raise error
    reason, maybe_saved = database_failure(error)
    # A service may have committed before the view failed to read what comes next.
    saved = changes_saved()
    g.database_down = True
    discard_session()
    # The driver's message only: SQLAlchemy's would add the statement's parameters (texts, password hashes).
    log.warning("Database %s on %s %s: %s", reason, request.method, request.path, getattr(error, "orig", None) or error)
    resend = resend_form() if request.method == "POST" and not saved else None
    page = render_template("errors/503.html", reason=reason, maybe_saved=maybe_saved, saved=saved, resend=resend,
                           again=request.full_path.rstrip("?"))
    return page, 503, {"Retry-After": str(RETRY_AFTER[reason])}


def handle_http_error(error: HTTPException):
    """Render a readable page for 4xx/5xx errors raised with abort()."""
    g.error_page = True
    code = error.code or 500
    template = f"errors/{code}.html" if code in (400, 403, 404, 405, 409, 413) else "errors/generic.html"
    return render_template(template, error=error, description=error.description), code
