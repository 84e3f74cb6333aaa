"""Single sign-on pages: the button's POST, the provider's callback, and ``SSO_ONLY``'s guard on password pages.

The blueprint is always registered (templates may name its addresses); with
no ``OIDC_ISSUER`` its pages answer 404 and the login page shows no button.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from ..services import ValidationError
from ..web import safe_next
from . import sso
from .signin import sign_in

bp = Blueprint("sso", __name__)

# Password pages SSO_ONLY closes: the password login, registration, asking for a reset link, choosing a
# password by a reset or invitation link (an invited delegate signs on instead, and is linked by address).
PASSWORD_ENDPOINTS = frozenset({"accounts.login", "accounts.register", "recovery.forgot_password",
                                "recovery.reset_password", "recovery.accept_invitation"})
PREFIX = "sso"  # the login page has a "next" field of its own


class SignOnForm(FlaskForm):
    """The "Log in with ..." button: only its CSRF token and the page to go back to."""

    next = HiddenField()


def sign_on_form(next_url: str | None = None) -> SignOnForm:
    """The button's form for a template, carrying the page to go back to."""
    return SignOnForm(formdata=None, prefix=PREFIX, next=next_url or "")


def _login_page(next_url: str | None = None):
    """Back to the login page (303), keeping the page to go back to afterwards."""
    target = safe_next(next_url, "")
    return redirect(url_for("accounts.login", next=target or None), 303)


@bp.post("/login/sso")
def start():
    """Send the browser to the provider (POST with CSRF, from the login page's button)."""
    if not sso.configured():
        abort(404)
    form = SignOnForm(prefix=PREFIX)
    next_url = safe_next(form.next.data, "")
    if current_user.is_authenticated:
        return redirect(next_url or url_for("main.index"), 303)
    try:
        address = sso.begin(url_for("sso.callback", _external=True), next_url)
    except sso.ProviderUnavailable:
        flash(_("%(name)s cannot be reached just now. Try again in a moment.",
                name=current_app.config["OIDC_NAME"]), "error")
        return _login_page(next_url)
    return redirect(address, 303)


@bp.get("/login/sso/callback")
def callback():
    """The provider sends the browser back here: check its answer, sign the person in, go to the ``next`` page."""
    if not sso.configured():
        abort(404)
    try:
        identity, next_url = sso.finish(request.args)
    except sso.ProviderUnavailable:
        flash(_("%(name)s cannot be reached just now. Try again in a moment.",
                name=current_app.config["OIDC_NAME"]), "error")
        return _login_page()
    except ValidationError as error:
        flash(error.message, "error")
        return _login_page()
    try:
        signed_on = sso.sign_on(identity)
    except ValidationError as error:
        flash(error.message, "error")
        return _login_page(next_url)
    user = signed_on.user
    if user.awaiting_approval:  # created just now under REGISTRATION=approval
        flash(_("Your account is created. An admin will approve it; you can sign on once they have."), "info")
        return redirect(url_for("main.index"), 303)
    sign_in(user, remember=False, method="sso")
    refresh()  # the message speaks the language of the profile, as the next page will
    if signed_on.how == "created":
        flash(_("Welcome! Your account is ready."), "success")
    else:
        flash(_("Logged in as %(name)s.", name=user.name), "success")
    return redirect(safe_next(next_url, url_for("main.index")), 303)


def refuse_password_pages():
    """With ``SSO_ONLY``, the password login, registration and recovery pages are closed (app-wide hook).

    Everyone signs on through the provider, admins included: an admin's
    password is the first thing an attacker would try, and the provider is
    where accounts are ended and factors enforced. When the provider is down,
    the operator turns ``SSO_ONLY`` off for a while (and may set a password
    with ``flask set-password``).
    """
    if not current_app.config.get("SSO_ONLY"):
        return None
    endpoint = request.endpoint or ""
    if endpoint not in PASSWORD_ENDPOINTS:
        return None
    if endpoint == "accounts.login" and request.method in ("GET", "HEAD"):
        return None  # the login page stays: it holds the sign-on button
    flash(_("This site signs you in through %(name)s only; passwords are not used here.",
            name=current_app.config["OIDC_NAME"]), "error")
    return _login_page(request.values.get("next"))


def template_globals() -> dict:
    """What the login page asks: whether there is a sign-on button, its name, and whether passwords are off."""
    enabled = sso.configured()
    return {"sso_enabled": enabled, "sso_name": current_app.config.get("OIDC_NAME"),
            "sso_only": bool(enabled and current_app.config.get("SSO_ONLY"))}
