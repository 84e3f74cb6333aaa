"""Account pages: register, log in and out, password, and user admin."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required, logout_user

from ..i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, current_language, supported
from ..web import back_on_refusal, page_arg, refusals, safe_next
from . import importing, services, sessions, twofactor
from .signin import after_sign_in, sign_in
from .models import Role
from .rules import is_admin, is_unverified, require_admin
from .forms import (ActiveForm, CreditForm, LoginForm, LogoutForm, PasswordForm, PreferencesForm, RegisterForm,
                    RoleForm)

bp = Blueprint("accounts", __name__)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account and log in (``REGISTRATION``: open, by invitation only, or approved by an admin)."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if request.method == "POST":
        services.require_registration_open()  # by invitation only: refused before anything is read
    if form.validate_on_submit():
        with refusals(form):
            user = services.register_user(form.email.data, form.name.data, form.password.data,
                                          form.organisation.data, form.country.data,
                                          locale=current_language(), self_registered=True)
            if user.awaiting_approval:
                flash(_("Your account is created. An admin approves it before you can log in; "
                        "we write to %(email)s then.", email=user.email), "info")
                return redirect(url_for("main.index"))
            sign_in(user, method="registration")
            if is_unverified(user):
                flash(_("Welcome! We sent a link to %(email)s: follow it to confirm your address. Until then "
                        "you can read everything but not take part.", email=user.email), "success")
            else:
                flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("main.index"))
    return (render_template("accounts/register.html", form=form, closed=not services.registration_open()),
            200 if not form.errors else 400)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in, then go back to the safe ``next`` page."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        with refusals(form):
            user = services.authenticate(form.email.data, form.password.data)
            target = safe_next(form.next.data, url_for("main.index"))
            if user.two_factor_enabled:  # the password was right; the code comes next, on its own page
                twofactor.begin_pending_login(user, remember=form.remember.data, next_url=target)
                return redirect(url_for("security.login_code"))
            sign_in(user, remember=form.remember.data, method="password")
            refresh()  # the message speaks the language of the profile, as the next page will
            flash(_("Logged in as %(name)s.", name=user.name), "success")
            return redirect(after_sign_in(user, target))
    status = 400 if form.errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out (POST only, with CSRF)."""
    LogoutForm()  # CSRF is checked globally; the form only documents it
    language = supported(current_user.locale) if current_user.is_authenticated else None
    message = _("You are logged out.")  # in the language of the profile, before it is gone
    row = sessions.current_session(current_user)
    if row is not None:  # the row ends too: a copy of this cookie no longer logs anyone in
        sessions.end_current_session(current_user, row.id)
    logout_user()
    flash(message, "info")
    response = redirect(url_for("main.index"))
    if language:  # the next pages go on in the profile's language, not the browser's
        _remember_language(response, language)
    return response


def _remember_language(response, code: str) -> None:
    """Keep a visitor's language in the switcher's cookie (a preference only, no session)."""
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_AGE, samesite="Lax", httponly=True,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's password."""
    form = PasswordForm()
    if form.validate_on_submit():
        with refusals(form, on_conflict=lambda error: None):
            row = sessions.current_session(current_user)
            user = services.change_password(current_user, form.current_password.data, form.new_password.data)
            # The token changed, which ended every session: this browser starts a fresh one.
            sign_in(user, remember=bool(row and row.remember), method=row.method if row else "password")
            flash(_("Your password is changed. Other devices are logged out."), "success")
            return redirect(url_for("main.index"))
    return render_template("accounts/password.html", form=form, preferences_form=_preferences_form(),
                           credit_form=CreditForm(credit=current_user.credit_in_exports)), 400 if form.errors else 200


def _preferences_form() -> PreferencesForm:
    """The preferences form filled with what the profile holds."""
    return PreferencesForm(formdata=None, locale=current_user.locale or "", timezone=current_user.timezone or "UTC")


@bp.post("/account/credit")
@login_required
@back_on_refusal(lambda: url_for("accounts.password"), anchor="credit")
def credit():
    """Choose whether exported texts name you among the contributors."""
    form = CreditForm()
    if not form.validate_on_submit():
        flash(_("Your choice could not be read; try again."), "error")
        return redirect(url_for("accounts.password") + "#credit")
    user = services.set_export_credit(current_user, form.credit.data)
    flash(_("Exported texts will name you among the contributors.") if user.credit_in_exports
          else _("Exported texts will not name you."), "success")
    return redirect(url_for("accounts.password") + "#credit")


@bp.post("/account/preferences")
@login_required
def preferences():
    """Keep the interface language and time zone."""
    form = PreferencesForm()
    if form.validate_on_submit():
        with refusals(form):
            services.set_preferences(current_user, form.locale.data, form.timezone.data)
            refresh()  # this response already speaks the new language
            flash(_("Your preferences are saved."), "success")
            return redirect(url_for("accounts.password") + "#preferences")
    return render_template("accounts/password.html", form=PasswordForm(formdata=None), preferences_form=form,
                           credit_form=CreditForm(credit=current_user.credit_in_exports)), 400


@bp.route("/language", methods=["GET", "POST"])
@back_on_refusal(lambda: _language_next())
def language():
    """The language switcher on every page.

    Visitors send it as a GET form: it only sets the ``manifesto_lang`` cookie
    (their own preference, nothing on the server), so an anonymous reader needs
    no session for it. Logged-in people send it as a POST with CSRF, and it is
    kept in their profile.
    """
    source = request.form if request.method == "POST" else request.args
    code = supported(source.get("lang"))
    target = _language_next()
    if code is None or code != (source.get("lang") or "").strip().lower():
        flash(_("Choose one of the languages offered."), "error")
        return redirect(target)
    if request.method == "POST" and current_user.is_authenticated:
        services.set_preferences(current_user, code, current_user.timezone)
    response = redirect(target)
    _remember_language(response, code)
    return response


def _language_next() -> str:
    """The page the language switcher was used on (this site's only), else the home page."""
    source = request.form if request.method == "POST" else request.args
    return safe_next(source.get("next"), url_for("main.index"))


@bp.get("/admin/users")
@login_required
def users():
    """The list of accounts, for admins."""
    require_admin(current_user, _("Only admins can manage accounts."))
    query = (request.args.get("q") or "")[:200]
    pagination = services.list_users(page_arg(), query=query)
    return render_template("accounts/users.html", pagination=pagination, query=query,
                           roles=list(Role), active_form=ActiveForm(),
                           invitation_pending=importing.invitation_pending)


@bp.post("/admin/users/<int:user_id>/role")
@login_required
@back_on_refusal("accounts.users", shown_to=is_admin)
def change_role(user_id: int):
    """Give a user another role."""
    form = RoleForm()
    user = services.set_role(current_user, user_id, form.role.data)
    flash(_("%(name)s now has the role %(role)s.", name=user.name, role=user.role_label), "success")
    return redirect(url_for("accounts.users"))


@bp.post("/admin/users/<int:user_id>/active")
@login_required
@back_on_refusal("accounts.users", shown_to=is_admin)
def change_active(user_id: int):
    """Deactivate or reactivate an account."""
    form = ActiveForm()
    user = services.set_active(current_user, user_id, form.active.data == "1")
    flash(_("%(name)s is active again.", name=user.name) if user.active
          else _("%(name)s is now deactivated.", name=user.name), "success")
    return redirect(url_for("accounts.users"))
