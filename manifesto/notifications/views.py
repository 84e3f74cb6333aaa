"""Pages of the notifications area: the notification centre, settings, unsubscribing, following."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..database import discard_session, is_database_failure
from ..extensions import csrf
from ..i18n import LANGUAGE_COOKIE, supported
from ..services import NotFound, ServiceError
from ..web import flash_error, form_error, is_safe_next, page_arg
from . import services
from .forms import FollowForm, MarkAllReadForm, SettingsForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _header_helpers() -> dict:
    """Give base.html a function for the unread count: called only for a logged-in reader, one query."""
    return {"unread_notifications": _unread_for_header}


def _unread_for_header(user) -> int | None:
    """The header's unread count; None on an error page when the database cannot say (like ``nav_user``)."""
    if g.get("database_down"):
        return None
    try:
        return services.unread_count(user)
    except Exception as error:
        if not (g.get("error_page") and is_database_failure(error)):
            raise
        g.database_down = True
        discard_session()
        return None


@bp.get("/")
@login_required
def index():
    """The notification centre: newest first, unread ones marked, a page at a time."""
    page = page_arg()
    pagination = services.list_notifications(current_user, page,
                                             int(current_app.config.get("NOTIFICATIONS_PER_PAGE", 30)))
    newest = pagination.items[0].id if page == 1 and pagination.items else None
    return render_template("notifications/index.html", pagination=pagination,
                           mark_all_form=MarkAllReadForm(up_to=newest))


@bp.get("/<int:notification_id>/open")
@login_required
def open_notification(notification_id: int):
    """Follow a notification's link, marking it read on the way."""
    try:
        notification = services.mark_read(current_user, notification_id)
    except ServiceError as error:
        flash_error(error)
        return redirect(url_for("notifications.index"))
    return redirect(notification.link if is_safe_next(notification.link) else url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    """Mark one notification read and stay on the list."""
    try:
        services.mark_read(current_user, notification_id)
    except ServiceError as error:
        flash_error(error)
    return redirect(url_for("notifications.index", page=page_arg()) + f"#notification-{notification_id}")


@bp.post("/read-all")
@login_required
def mark_all_read():
    """Mark every notification read (up to the newest one the page showed)."""
    form = MarkAllReadForm()
    try:
        count = services.mark_all_read(current_user, form.up_to.data)
    except ServiceError as error:
        flash_error(error)
    else:
        flash(_("All your notifications are marked read.") if count else _("Nothing was unread."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Choose, per kind of notification, immediate email, the daily digest, or in-app only."""
    form = SettingsForm()
    status = 200
    if request.method == "GET":
        for kind, delivery in services.delivery_settings(current_user).items():
            form[kind].data = delivery.value
    elif form.validate_on_submit():
        try:
            services.save_settings(current_user, form.choices_made())
        except ServiceError as error:
            status = form_error(form, error)
        else:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.settings"))
    else:
        status = 400
    return render_template("notifications/settings.html", form=form), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; RFC 8058 one-click posts come from mail programs, without a form
def unsubscribe(token: str):
    """An email's unsubscribe link: GET asks for confirmation, POST applies it (no login needed)."""
    try:
        if request.method == "GET":
            result, done = services.read_unsubscribe(token), False
        else:
            result, done = services.unsubscribe(token, everything=request.form.get("scope") == "all"), True
    except NotFound as error:
        abort(404, description=error.message)
    with _speaking(result.locale):
        return render_template("notifications/unsubscribe.html", token=token, unsubscribe=result, done=done)


def _speaking(locale: str | None):
    """The unsubscribe page speaks the account's language, as its email did, unless the visitor chose one.

    Whoever follows the link may not be logged in: without this, the page would
    follow the browser, which need not be the language the email was written in.
    """
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    language = supported(locale)
    return force_locale(language) if language and not chosen else nullcontext()


@bp.post("/follow")
@login_required
def follow():
    """Follow or unfollow a section or an amendment, then go back to it."""
    form = FollowForm()
    try:
        if form.action.data == "unfollow":
            followed = services.unfollow(current_user, form.target.data, form.target_id.data)
        else:
            followed = services.follow(current_user, form.target.data, form.target_id.data)
    except ServiceError as error:
        flash_error(error)
        return redirect(url_for("notifications.index"))
    if followed.target == "section":
        flash(_("You follow this section: you will hear about its changes.") if followed.following
              else _("You no longer follow this section."), "success")
    else:
        flash(_("You follow this amendment: you will hear about its changes.") if followed.following
              else _("You no longer follow this amendment."), "success")
    if followed.target == "section":
        return redirect(url_for("documents.section", slug=followed.slug, section_id=followed.target_id))
    return redirect(url_for("amendments.show", slug=followed.slug, amendment_id=followed.target_id))
