"""Site-wide pages: home, health check, and error pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from .documents.services import first_document
from .extensions import db

bp = Blueprint("main", __name__)

# Fields never echoed back on the "send again" page.
_SECRET_FIELDS = {"csrf_token", "password", "confirm", "current_password", "new_password"}
# Fields the user never typed: sent again as they were, but not shown.
_TECHNICAL_FIELDS = {"action", "kind", "section_id", "base_version_id", "base_version", "revision",
                     "structure_version", "next", "to_number", "direction", "active", "after", "decision"}


@bp.get("/")
def index():
    """Home: the first document, or a word on how to create one."""
    document = first_document()
    if document is not None:
        return redirect(url_for("documents.read", slug=document.slug))
    return render_template("main/empty.html")


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


def handle_csrf_error(error: CSRFError):
    """Keep the user's text when a form's token is missing or stale (for example an expired session).

    The page shows what was sent, in a fresh form that goes to the same place.
    """
    sent = [(name, value) for name, value in request.form.items(multi=True) if name not in _SECRET_FIELDS]
    fields = [(name, value) for name, value in sent if name not in _TECHNICAL_FIELDS]
    hidden = [(name, value) for name, value in sent if name in _TECHNICAL_FIELDS]
    return render_template("errors/csrf.html", fields=fields, hidden=hidden, action=request.path,
                           reason=error.description), 400


def handle_http_error(error: HTTPException):
    """Render a readable page for 4xx/5xx errors raised with abort()."""
    code = error.code or 500
    template = f"errors/{code}.html" if code in (400, 403, 404, 405, 409, 413) else "errors/generic.html"
    return render_template(template, error=error, description=error.description), code
