"""Manifesto: write one text together.

``create_app`` is the application factory: ``flask --app manifesto ...`` finds it.
It is the one place where the app is put together, in this order: the
configuration, the extensions, the job queue, the error pages, then each
area's ``init_app`` in layer order (its blueprints, its listeners, its parts
of other areas' pages, its commands), then the site-wide pages, the
template helpers and the commands that belong to no area.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, request
from flask_login import current_user

from . import accounts, amendments, api, audit, cli, discussion, documents, exports, i18n, jobs, notifications
from . import config as config_module
from . import delivery, live, observability, pagecache, plenary, releases, search, web
from .audit import states as audit_states
from .database import engine_options, init_database
from .extensions import csrf, db, login_manager, migrate
from .requests import CleanRequest
from .services import MAX_ID
from .templating import line_range, relabel_diff

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
# Lower areas first: an area's listeners, providers and pages may rely on those beneath it, never above.
AREAS = (audit, accounts, documents, amendments, discussion, notifications, search, releases, exports, live, plenary,
         api)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then instance/config.py, then environment, then ``test_config``."""
    # MANIFESTO_INSTANCE_PATH moves config, secret key and SQLite file elsewhere.
    app = web.ManifestoFlask(__name__, instance_relative_config=True,
                             instance_path=os.environ.get("MANIFESTO_INSTANCE_PATH") or None)
    app.request_class = CleanRequest
    _configure(app, test_config)
    observability.init_app(app)
    _init_extensions(app)
    jobs.init_app(app)
    pagecache.init_app(app)
    delivery.init_app(app)
    web.init_app(app)
    for area in AREAS:
        area.init_app(app)
    # Last of the session's commit hooks, after every area's (see audit/states.py, "When").
    audit_states.install()
    _register_site(app)
    _register_template_helpers(app)
    cli.init_app(app)
    return app


def _configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Read the configuration: defaults, instance/config.py, the environment, then ``test_config``."""
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.env_overrides())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.load_or_create_secret_key(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.database_uri(app.config, app.instance_path)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config))


def _init_extensions(app: Flask) -> None:
    """Bind the extensions to the app: database, migrations, CSRF, languages, login."""
    _import_models()
    db.init_app(app)
    init_database(app, db)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    i18n.init_app(app)
    # The accounts area tells the login manager who the user is and where to log in.
    login_manager.init_app(app, add_context_processor=False)


def _import_models() -> None:
    """Import every model (and nothing else) so that metadata and migrations see all tables."""
    from .accounts import models as _accounts  # noqa: F401
    from .amendments import models as _amendments  # noqa: F401
    from .api import models as _api  # noqa: F401
    from .audit import models as _audit  # noqa: F401
    from .discussion import models as _discussion  # noqa: F401
    from .documents import models as _documents  # noqa: F401
    from .exports import models as _exports  # noqa: F401
    from .notifications import models as _notifications  # noqa: F401
    from .plenary import models as _plenary  # noqa: F401
    from .plenary.projector import models as _projector  # noqa: F401
    from .releases import models as _releases  # noqa: F401
    from .search import models as _search  # noqa: F401


def _register_site(app: Flask) -> None:
    """The site-wide pages, and what every request and response goes through."""
    # Like the models, loaded when an app is built: importing the text engine alone stays light.
    from . import main

    app.register_blueprint(main.bp)

    @app.context_processor
    def _lazy_current_user():
        """Give templates ``current_user`` as the lazy proxy.

        Flask-Login's own context processor loads the user for every template,
        even the page saying the database is down; with the proxy, only a
        template that reads current_user loads the user.
        """
        return {"current_user": current_user}

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


def _register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates share."""
    app.jinja_env.globals["line_range"] = line_range
    app.jinja_env.filters["diff_labels"] = relabel_diff
    app.jinja_env.globals["nav_user"] = web.nav_user
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
