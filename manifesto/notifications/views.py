"""Pages of the notifications area: the notification centre, settings, unsubscribing, following."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import csrf
from ..i18n import LANGUAGE_COOKIE, supported
from ..web import back_on_refusal, is_safe_next, page_arg, read_unless_down, refusals
from . import services
from .forms import FollowForm, MarkAllReadForm, SettingsForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _header_helpers() -> dict:
    """Give base.html a function for the unread count: called only for a logged-in reader, one query."""
    return {"unread_notifications": _unread_for_header}


def _unread_for_header(user) -> int | None:
    """The header's unread count; None on an error page when the database cannot say (like ``nav_user``)."""
    return read_unless_down(lambda: unread_this_request(user))


def unread_this_request(user) -> int:
    """The unread count, counted once per request: the page's validator and its header both show it."""
    counted = g.setdefault("unread_counts", {})
    if user.id not in counted:
        counted[user.id] = services.unread_count(user)
    return counted[user.id]


@bp.get("/")
@login_required
def index():
    """The notification centre: newest first, unread ones marked, a page at a time."""
    page = page_arg()
    pagination = services.list_notifications(current_user, page,
                                             int(current_app.config.get("NOTIFICATIONS_PER_PAGE", 30)))
    newest = pagination.items[0].id if pagination.page == 1 and pagination.items else None
    return render_template("notifications/index.html", pagination=pagination,
                           mark_all_form=MarkAllReadForm(up_to=newest))


@bp.get("/<int:notification_id>/open")
@login_required
@back_on_refusal("notifications.index")
def open_notification(notification_id: int):
    """Follow a notification's link, marking it read on the way."""
    notification = services.mark_read(current_user, notification_id)
    return redirect(notification.link if is_safe_next(notification.link) else url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
@login_required
@back_on_refusal(lambda: _in_list(request.view_args["notification_id"]))
def mark_read(notification_id: int):
    """Mark one notification read and stay on the list."""
    services.mark_read(current_user, notification_id)
    return redirect(_in_list(notification_id))


def _in_list(notification_id: int) -> str:
    """A notification's place in the list, on the page the reader was looking at."""
    return url_for("notifications.index", page=page_arg()) + f"#notification-{notification_id}"


@bp.post("/read-all")
@login_required
@back_on_refusal("notifications.index")
def mark_all_read():
    """Mark every notification read (up to the newest one the page showed)."""
    form = MarkAllReadForm()
    count = services.mark_all_read(current_user, form.up_to.data)
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
        with refusals(form) as refused:
            services.save_settings(current_user, form.choices_made())
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.settings"))
        status = refused.status
    else:
        status = 400
    return render_template("notifications/settings.html", form=form), status


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; RFC 8058 one-click posts come from mail programs, without a form
def unsubscribe(token: str):
    """An email's unsubscribe link: GET asks for confirmation, POST applies it (no login needed)."""
    if request.method == "GET":
        result, done = services.read_unsubscribe(token), False
    else:
        result, done = services.unsubscribe(token, everything=request.form.get("scope") == "all"), True
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
@back_on_refusal("notifications.index")
def follow():
    """Follow or unfollow a section or an amendment, then go back to it."""
    form = FollowForm()
    if form.action.data == "unfollow":
        followed = services.unfollow(current_user, form.target.data, form.target_id.data)
    else:
        followed = services.follow(current_user, form.target.data, form.target_id.data)
    if followed.target == "section":
        flash(_("You follow this section: you will hear about its changes.") if followed.following
              else _("You no longer follow this section."), "success")
    else:
        flash(_("You follow this amendment: you will hear about its changes.") if followed.following
              else _("You no longer follow this amendment."), "success")
    if followed.target == "section":
        return redirect(url_for("documents.section", slug=followed.slug, section_id=followed.target_id))
    return redirect(url_for("amendments.show", slug=followed.slug, amendment_id=followed.target_id))
