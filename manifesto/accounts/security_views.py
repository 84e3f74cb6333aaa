"""Account security pages: one's sessions and second factor, the login's code step, and the admins' views.

Also the guard of ``TWO_FACTOR_REQUIRED``: a moderator or admin without two
factors is led to the setup from every page but the few needed to do it (or
to leave).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_babel import refresh
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..web import back_on_refusal, page_arg, refusals
from . import services, sessions, twofactor
from .rules import is_admin, is_member, require_admin
from .signin import after_sign_in, sign_in

bp = Blueprint("security", __name__)

# How a session began, as the sessions list says it.
METHODS = {
    "password": _l("Password"),
    "totp": _l("Password and a code from an app"),
    "recovery": _l("Password and a recovery code"),
    "sso": _l("Single sign-on"),
    "invitation": _l("Invitation link"),
    "reset": _l("Password reset link"),
    "registration": _l("Registration"),
}

# Pages a person led to the two-factor setup may still reach: the setup itself, their sessions, leaving.
SETUP_ENDPOINTS = frozenset({"security.index", "security.start_two_factor", "security.confirm_two_factor",
                             "security.end_session", "security.end_others", "security.end_all",
                             "security.login_code", "accounts.logout", "accounts.language", "static"})


class CodeForm(FlaskForm):
    """A code from the authenticator app (or, at login, a recovery code)."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)],
                       description=_l("The 6-digit code your app shows now."))


class LoginCodeForm(FlaskForm):
    """The login's second step."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)],
                       description=_l("The 6-digit code your authenticator app shows now, or one of your "
                                      "recovery codes."))


class PasswordConfirmForm(FlaskForm):
    """The password, asked again before the second factor changes."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=1000)])


class ResetForm(FlaskForm):
    """An admin resets a member's second factor, saying why."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=twofactor.REASON_LENGTH)],
                           description=_l("Kept in the security log. For example: lost phone, identity "
                                          "checked by phone call."))


# ------------------------------------------------------------------ one's own security

def _security_page(*, code_form=None, password_form=None, disable_form=None, status: int = 200):
    """The account security page: sessions, then the second factor."""
    user = current_user._get_current_object()
    current = sessions.current_session(user)
    listed = sessions.list_sessions(user)
    qr, words, uri = None, None, None
    if user.totp_secret and not user.two_factor_enabled:
        uri = twofactor.provisioning_uri(user)
        qr = twofactor.qr_code_svg(uri, _("QR code to scan with your authenticator app"))
        words = twofactor.secret_in_words(user.totp_secret)
    return render_template(
        "accounts/security.html", sessions=listed, current=current, methods=METHODS, qr=qr, words=words, uri=uri,
        codes_left=twofactor.recovery_codes_left(user) if user.two_factor_enabled else None,
        setup_required=twofactor.setup_required(user),
        code_form=code_form or CodeForm(formdata=None),
        password_form=password_form or PasswordConfirmForm(formdata=None),
        disable_form=disable_form or PasswordConfirmForm(formdata=None, prefix="off")), status


@bp.get("/account/security")
@login_required
def index():
    """One's sessions and second factor."""
    return _security_page()


@bp.post("/account/security/sessions/<int:session_id>/end")
@login_required
@back_on_refusal(lambda: url_for("security.index"), anchor="sessions")
def end_session(session_id: int):
    """End one session: that browser is logged out at its next request."""
    current = sessions.current_session(current_user)
    row = sessions.end_session(current_user, session_id)
    if current is not None and row.id == current.id:
        logout_user()
        flash(_("You are logged out."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("That session has ended: %(device)s is logged out.", device=row.device or _("Unknown device")),
          "success")
    return redirect(url_for("security.index") + "#sessions")


@bp.post("/account/security/sessions/end-others")
@login_required
@back_on_refusal(lambda: url_for("security.index"), anchor="sessions")
def end_others():
    """Log out everywhere else, keeping this browser."""
    current = sessions.current_session(current_user)
    ended = sessions.end_other_sessions(current_user, current.id if current else None)
    flash(ngettext("Logged out everywhere else (%(num)s session ended).",
                   "Logged out everywhere else (%(num)s sessions ended).", ended), "success")
    return redirect(url_for("security.index") + "#sessions")


@bp.post("/account/security/sessions/end-all")
@login_required
@back_on_refusal(lambda: url_for("security.index"), anchor="sessions")
def end_all():
    """Log out everywhere, this browser and "keep me logged in" cookies included."""
    sessions.end_all_sessions(current_user)
    logout_user()
    flash(_("You are logged out everywhere, on this device too."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/account/security/two-factor/start")
@login_required
@back_on_refusal(lambda: url_for("security.index"), anchor="two-factor")
def start_two_factor():
    """Begin the setup: a new secret to scan, not yet in force."""
    twofactor.start_setup(current_user)
    return redirect(url_for("security.index") + "#two-factor")


@bp.post("/account/security/two-factor/confirm")
@login_required
def confirm_two_factor():
    """Confirm the setup with a code; the recovery codes are shown on this page, once."""
    form = CodeForm()
    if form.validate_on_submit():
        with refusals(form):
            codes = twofactor.confirm_setup(current_user, form.code.data)
            flash(_("Two factors are on. From now on, logging in asks for a code from your app."), "success")
            return _recovery_codes_page(codes)
    return _security_page(code_form=form, status=400)


@bp.post("/account/security/two-factor/recovery-codes")
@login_required
def regenerate_codes():
    """New recovery codes (the old ones stop working), with the password."""
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        with refusals(form):
            codes = twofactor.regenerate_recovery_codes(current_user, form.password.data)
            flash(_("You have new recovery codes; the old ones no longer work."), "success")
            return _recovery_codes_page(codes)
    return _security_page(password_form=form, status=400)


@bp.post("/account/security/two-factor/disable")
@login_required
def disable_two_factor():
    """Turn the second factor off, with the password."""
    form = PasswordConfirmForm(prefix="off")
    if form.validate_on_submit():
        with refusals(form):
            twofactor.disable(current_user, form.password.data)
            flash(_("Two factors are off. Logging in asks only for your password."), "success")
            return redirect(url_for("security.index") + "#two-factor")
    return _security_page(disable_form=form, status=400)


def _recovery_codes_page(codes: list[str]):
    """The ten recovery codes, shown this once (never cached)."""
    response = current_app.make_response(render_template("accounts/twofactor_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ the login's second step

@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of a login with two factors: a code from the app, or a recovery code."""
    pending = twofactor.pending_login()
    if pending is None:
        flash(_("Your login took too long or has ended. Log in again."), "info")
        return redirect(url_for("accounts.login"))
    form = LoginCodeForm()
    if form.validate_on_submit():
        try:
            with refusals(form):
                user, method = twofactor.check_login_code(pending, form.code.data)
                twofactor.end_pending_login()
                sign_in(user, remember=bool(pending.get("remember")), method=method)
                refresh()
                flash(_("Logged in as %(name)s.", name=user.name), "success")
                if method == "recovery":
                    flash(_("You used a recovery code; it will not work again. Make new ones on your "
                            "account's security page if few are left."), "info")
                return redirect(after_sign_in(user, pending.get("next") or url_for("main.index")))
        except twofactor.LoginExpired as expired:
            twofactor.end_pending_login()
            flash(expired.message, "error")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/login_code.html", form=form), 400 if form.errors else 200


# ------------------------------------------------------------------ admins

@bp.get("/admin/users/<int:user_id>/security")
@login_required
def admin_user(user_id: int):
    """A member's second factor and sessions, for admins, with the reset."""
    require_admin(current_user, _("Only admins can manage accounts."))
    user = services.get_user_or_404(user_id)
    return _admin_page(user, ResetForm(formdata=None))


def _admin_page(user, form, status: int = 200):
    """The admin's page of one member's account security."""
    return render_template("accounts/security_admin_user.html", member=user, form=form,
                           sessions=sessions.list_sessions_of(current_user, user), methods=METHODS,
                           codes_left=twofactor.recovery_codes_left(user) if user.two_factor_enabled else None
                           ), status


@bp.post("/admin/users/<int:user_id>/security/reset")
@login_required
@back_on_refusal("security.admin_user", shown_to=is_admin)
def admin_reset(user_id: int):
    """Reset a member's second factor, with a reason; their sessions end."""
    require_admin(current_user, _("Only admins can manage accounts."))
    user = services.get_user_or_404(user_id)
    form = ResetForm()
    if form.validate_on_submit():
        with refusals(form):
            twofactor.reset_by_admin(current_user, user.id, form.reason.data)
            flash(_("The second factor of %(name)s is reset, and their sessions have ended. They log in with "
                    "their password alone and can set up two factors again.", name=user.name), "success")
            return redirect(url_for("security.admin_user", user_id=user.id))
    return _admin_page(user, form, 400)


@bp.get("/admin/security")
@login_required
def log():
    """The account-security log: sign-in locks, resets, second factors, roles, imports; newest first."""
    require_admin(current_user, _("Only admins can see the security log."))
    sign_ins = request.args.get("sign_ins") == "1"
    pagination, subjects = sessions.security_log(current_user, page_arg(), include_sign_ins=sign_ins)
    return render_template("accounts/security_log.html", pagination=pagination, subjects=subjects,
                           sign_ins=sign_ins)


# ------------------------------------------------------------------ TWO_FACTOR_REQUIRED

@bp.before_app_request
def _lead_to_two_factor_setup():
    """With TWO_FACTOR_REQUIRED, a moderator or admin without two factors sees only the setup (and logout)."""
    if not current_app.config.get("TWO_FACTOR_REQUIRED") or request.endpoint in SETUP_ENDPOINTS \
            or request.endpoint is None:
        return None
    if not is_member(current_user) or not twofactor.setup_required(current_user):
        return None
    if request.method == "GET":
        flash(_("Moderators and admins need two factors here. Set them up to go on."), "info")
    return redirect(url_for("security.index", _anchor="two-factor"))
