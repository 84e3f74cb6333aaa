"""Site-wide pages: home, favicon and health check (the error pages are in ``errors`` and ``web``)."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from sqlalchemy import text

from .documents.services import first_document
from .extensions import db

bp = Blueprint("main", __name__)


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
