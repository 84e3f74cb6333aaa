"""People: accounts, roles and login."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext

from ..extensions import login_manager
from . import rules


def init_app(app: Flask) -> None:
    """Wire accounts into the app: its pages, who the logged-in user is, the logout form, its commands."""
    from . import cli, limits, security_views, views
    from .forms import LogoutForm
    from .sessions import load_user

    app.register_blueprint(views.bp)
    # One's sessions and second factor, the login's code step, the admins' security pages and log.
    app.register_blueprint(security_views.bp)
    # The admins' pages for people: delegates imported from a CSV file, invitations, the list as CSV.
    from . import admin_views

    app.register_blueprint(admin_views.bp)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to continue.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_user)
    # Every page's header has the logout button.
    app.jinja_env.globals["logout_form"] = LogoutForm
    # Templates hide what the services refuse by asking the same rules.
    app.jinja_env.globals.update(is_member=rules.is_member, is_moderator=rules.is_moderator, is_admin=rules.is_admin,
                                 is_unverified=rules.is_unverified)
    # Getting in by a mailed link: forgotten password, invitation, address verification.
    from . import recovery_views

    app.register_blueprint(recovery_views.bp)
    app.cli.add_command(cli.create_user)
    app.cli.add_command(cli.set_password)
    # Single sign-on (OpenID Connect): its pages, the login page's button, SSO_ONLY's guard on password pages.
    from . import sso, sso_views

    if app.config.get("SSO_ONLY") and not sso.configured(app.config):
        raise RuntimeError("SSO_ONLY needs OIDC_ISSUER and OIDC_CLIENT_ID: nobody could log in otherwise.")
    app.register_blueprint(sso_views.bp)
    app.before_request(sso_views.refuse_password_pages)
    app.context_processor(sso_views.template_globals)
    app.jinja_env.globals["sso_login_form"] = sso_views.sign_on_form
    # Every rate limit of the site, its storage and its 429 page.
    limits.init_app(app)
