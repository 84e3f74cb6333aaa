"""Getting in by a mailed link: a forgotten password, an invitation, the address verification.

Each link is signed, expires and works once (``tokens.py``); the mail itself
is written by the notifications area's listener when the service records its
event. A refused link (used, expired, cut short, tampered with) gets a page
that says so and how to get a new one.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..services import ValidationError
from ..web import refusals, safe_next
from . import services, tokens
from .forms import NewPasswordForm, ResetRequestForm, VerificationForm
from .signin import after_sign_in, sign_in

bp = Blueprint("recovery", __name__)


def _link_refused(error: ValidationError, purpose: str):
    """The page for a link that cannot be used, with the way to a new one (400)."""
    return render_template("accounts/reset_link_refused.html", message=error.message, purpose=purpose), 400


def _signed_in_or_login(user, method: str, message: str):
    """Log in after a password was chosen from a link, unless the second factor must still be asked
    (or an admin has yet to approve the account)."""
    if user.awaiting_approval:
        flash(message + " " + _("Your account waits for an admin's approval. You can log in once it is "
                                "approved."), "info")
        return redirect(url_for("accounts.login"))
    if user.two_factor_enabled:
        flash(message + " " + _("Log in with it and a code from your authenticator app."), "success")
        return redirect(url_for("accounts.login"))
    sign_in(user, method=method)
    flash(message, "success")
    return redirect(after_sign_in(user, url_for("main.index")))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link to choose a new password; the answer is the same whether or not the address has an account."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        with refusals(form):
            services.request_password_reset(form.email.data)
            flash(_("If an account has the address %(email)s, we sent a link to it. The link works for one "
                    "hour, once. Nothing arrived? Look in the spam folder, or ask again.",
                    email=form.email.data.strip()), "info")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link; every other session of the account ends."""
    try:
        user = services.account_for_link(token, tokens.RESET)
    except ValidationError as error:
        return _link_refused(error, tokens.RESET)
    form = NewPasswordForm()
    if form.validate_on_submit():
        with refusals(form):
            try:
                user = services.reset_password_from_link(token, form.password.data)
            except ValidationError as error:
                if error.field == "token":  # used meanwhile, in another tab
                    return _link_refused(error, tokens.RESET)
                raise
            return _signed_in_or_login(user, "reset", _("Your new password is set. Every other device is "
                                                        "logged out."))
    return render_template("accounts/reset_password.html", form=form, account=user), 400 if form.errors else 200


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Choose a password from an invitation link, which also confirms the address."""
    try:
        user = services.account_for_link(token, tokens.INVITATION)
    except ValidationError as error:
        return _link_refused(error, tokens.INVITATION)
    form = NewPasswordForm()
    if form.validate_on_submit():
        with refusals(form):
            try:
                user = services.accept_invitation(token, form.password.data)
            except ValidationError as error:
                if error.field == "token":
                    return _link_refused(error, tokens.INVITATION)
                raise
            return _signed_in_or_login(user, "invitation", _("Welcome, %(name)s! Your password is set.",
                                                             name=user.name))
    return render_template("accounts/invitation.html", form=form, account=user), 400 if form.errors else 200


@bp.post("/account/verify")
@login_required
def resend_verification():
    """Send the address verification link again (the banner's button)."""
    VerificationForm()  # CSRF is checked globally; the form only documents it
    target = safe_next(request.form.get("next"), url_for("main.index"))
    if services.request_verification(current_user):
        flash(_("We sent a new link to %(email)s. It works for a week, once; the older links no longer matter.",
                email=current_user.email), "info")
    else:
        flash(_("Your email address is confirmed already."), "info")
    return redirect(target)


@bp.route("/account/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    """Confirm an email address: the link shows a button, so a mail scanner opening links confirms nothing."""
    form = VerificationForm()
    try:
        if form.validate_on_submit():
            user = services.verify_email(token)
            flash(_("Thank you: your email address %(email)s is confirmed. You can take part now.",
                    email=user.email), "success")
            return redirect(url_for("main.index") if current_user.is_authenticated else url_for("accounts.login"))
        user = tokens.read_token(token, tokens.VERIFICATION)
    except ValidationError as error:
        return _link_refused(error, tokens.VERIFICATION)
    return render_template("accounts/verify_email.html", form=form, account=user)
