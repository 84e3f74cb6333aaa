"""Manifesto: write one text together.

``create_app`` is the application factory: ``flask --app manifesto ...`` finds it.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, request, session
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc
from werkzeug.exceptions import HTTPException

from . import config as config_module
from . import jobs
from .extensions import csrf, db, login_manager, migrate
from .services import MAX_ID, DatabaseUnavailable

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then environment, then ``test_config``."""
    # MANIFESTO_INSTANCE_PATH moves config, secret key and SQLite file elsewhere.
    from .requests import CleanRequest
    from .web import ManifestoFlask

    app = ManifestoFlask(__name__, instance_relative_config=True,
                         instance_path=os.environ.get("MANIFESTO_INSTANCE_PATH") or None)

    app.request_class = CleanRequest
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.env_overrides())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.load_or_create_secret_key(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.database_uri(app.config, app.instance_path)
    from .database import engine_options, init_database

    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config))

    _import_models()
    db.init_app(app)
    init_database(app, db)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    from . import i18n

    i18n.init_app(app)
    login_manager.init_app(app, add_context_processor=False)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to continue.")
    login_manager.login_message_category = "info"

    from .accounts.services import load_user

    login_manager.user_loader(load_user)
    jobs.init_app(app)

    @app.context_processor
    def _lazy_current_user():
        """Give templates ``current_user`` as the lazy proxy.

        Flask-Login's own context processor loads the user for every template,
        even the page saying the database is down; with the proxy, only a
        template that reads current_user loads the user.
        """
        return {"current_user": current_user}

    _register_blueprints(app)

    @app.after_request
    def _security_headers(response):
        """Defence in depth: no framing, no sniffing, and only our own scripts and styles.

        Pages use no inline script or style, so a strict policy costs nothing
        and stops any markup that slipped past the sanitiser from running.
        """
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.before_request
    def _refuse_nul_in_path():
        """No address of ours contains a NUL character; the database could not look it up."""
        if "\x00" in request.path:
            abort(404)
        # Werkzeug's int converter takes any number of digits; no id of ours is that large.
        if any(isinstance(v, int) and v > MAX_ID for v in (request.view_args or {}).values()):
            abort(404)

    @app.before_request
    def _keep_session():
        """Keep sessions (and with them CSRF tokens) for PERMANENT_SESSION_LIFETIME, not just until the browser closes."""
        session.permanent = True

    _register_errors(app)
    _register_template_helpers(app)
    from .cli import register_cli

    register_cli(app)
    from .catalogue import translations_cli

    app.cli.add_command(translations_cli)
    return app


def _import_models() -> None:
    """Import every model so that metadata (and migrations) see all tables."""
    from .accounts import models as _accounts  # noqa: F401
    from .amendments import models as _amendments  # noqa: F401
    from .amendments import services as _amendment_services  # noqa: F401  (subscribes to document signals)
    from .audit import models as _audit  # noqa: F401
    from .discussion import models as _discussion  # noqa: F401
    from .documents import models as _documents  # noqa: F401
    from .exports import models as _exports  # noqa: F401
    from .notifications import models as _notifications  # noqa: F401
    from .releases import models as _releases  # noqa: F401
    from .search import models as _search  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    """Register one blueprint per area."""
    from .accounts.views import bp as accounts_bp
    from .amendments.views import bp as amendments_bp
    from .discussion.views import bp as discussion_bp
    from .documents.views import bp as documents_bp
    from .exports.job_views import bp as export_jobs_bp
    from .exports.views import bp as exports_bp
    from .main import bp as main_bp
    from .notifications.views import bp as notifications_bp
    from .releases.views import bp as releases_bp
    from .search.views import bp as search_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(amendments_bp)
    app.register_blueprint(discussion_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(releases_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(export_jobs_bp)


def _register_errors(app: Flask) -> None:
    """Readable error pages, never a stack trace."""
    from .main import handle_csrf_error, handle_database_error, handle_http_error

    # An unhandled exception reaches handle_http_error as a 500 (outside
    # testing, where it propagates to the test instead).
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    # The database down, too slow or too busy: 503 and the user's text kept.
    # DBAPIError covers any driver error on a connection that died; the
    # handler lets others (a constraint, a bug) through as a 500.
    for error in (DatabaseUnavailable, exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
                  exc.PendingRollbackError, exc.DBAPIError):
        app.register_error_handler(error, handle_database_error)


def _register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share."""
    from .accounts.forms import LogoutForm
    from .templating import line_range, relabel_diff
    from .web import nav_user

    app.jinja_env.globals["line_range"] = line_range
    app.jinja_env.filters["diff_labels"] = relabel_diff
    app.jinja_env.globals["logout_form"] = LogoutForm
    app.jinja_env.globals["nav_user"] = nav_user
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
