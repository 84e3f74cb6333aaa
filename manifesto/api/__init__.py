"""The JSON API v1, its personal access tokens and its webhooks: the documented way in for scripts and sites.

The API reads and writes through the same services as the pages, so every
rule holds the same (``v1/``: one module per area, declared with
``spec.operation``); ``problems.py`` answers every refusal in one shape;
``auth.py`` says who is calling (a token, never the cookie); the OpenAPI
document and its reference page are made from the declarations
(``reference.py``). Tokens are made on the account's pages (``token_views.py``);
webhooks tell receivers what happened (``webhooks/``).
"""

from __future__ import annotations

from flask import Flask

from .. import delivery, errors
from ..extensions import csrf
from . import problems, reference, token_views, v1, webhooks
from .webhooks import views as webhook_views


def init_app(app: Flask) -> None:
    """Wire the API into the app: its addresses, its answers to refusals, its pages, its webhooks."""
    csrf.exempt(v1.bp)  # no cookie is read under /api/v1: another site's form cannot send a token
    app.register_blueprint(v1.bp)
    # An unknown address or method under /api/v1/ matches no view of the blueprint: problem details still.
    errors.answer_elsewhere("/api/v1/", problems.handle_http_error)
    delivery.never_set_cookie_under("/api/v1/")
    app.register_blueprint(reference.bp)
    app.register_blueprint(token_views.bp)
    app.register_blueprint(webhook_views.bp)
    webhooks.init_app(app)
