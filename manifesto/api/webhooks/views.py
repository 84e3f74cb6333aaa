"""The admins' webhook pages of a document: list, add, edit, switch, delete, new secret, test, delivery log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...accounts.rules import is_admin
from ...documents.services import get_document_or_404
from ...web import back_on_refusal, page_arg, refusals
from . import services
from .events import EVENTS
from .forms import ButtonForm, WebhookForm

bp = Blueprint("webhooks", __name__, url_prefix="/d/<slug>/webhooks")


def _chosen(form: WebhookForm) -> list[str]:
    """The events the form asks for (none: all)."""
    return [] if form.all_events.data else list(form.events.data or [])


@bp.get("/")
@login_required
def index(slug: str):
    """The document's webhooks, with their state."""
    document = get_document_or_404(slug)
    webhooks = services.webhooks_of(current_user, document)
    return render_template("api/webhooks.html", document=document, webhooks=webhooks, events=EVENTS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """Add a webhook; its page then shows its secret."""
    document = get_document_or_404(slug)
    services.webhooks_of(current_user, document)  # only admins see the form
    form = WebhookForm()
    status = 200
    if form.validate_on_submit():
        with refusals(form) as refused:
            made = services.create_webhook(current_user, document.id, url=form.url.data,
                                           description=form.description.data, events=_chosen(form))
            flash(_("The webhook is added. Give its secret to the receiver, which checks each signature with it."),
                  "success")
            return redirect(url_for("webhooks.show", slug=slug, webhook_id=made.webhook.id))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("api/webhook_form.html", document=document, form=form, webhook=None), status


@bp.get("/<int:webhook_id>")
@login_required
def show(slug: str, webhook_id: int):
    """A webhook: its settings, its secret, its buttons and its delivery log."""
    document = get_document_or_404(slug)
    webhook = services.get_webhook_or_404(current_user, document, webhook_id)
    pagination = services.deliveries_of(webhook, page_arg())
    return render_template("api/webhook.html", document=document, webhook=webhook, pagination=pagination,
                           events=EVENTS, button=ButtonForm())


@bp.route("/<int:webhook_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, webhook_id: int):
    """Change a webhook's address, description and events."""
    document = get_document_or_404(slug)
    webhook = services.get_webhook_or_404(current_user, document, webhook_id)
    form = WebhookForm(data={"url": webhook.url, "description": webhook.description,
                             "all_events": not webhook.events, "events": sorted(webhook.event_set),
                             "revision": webhook.revision})
    status = 200

    def refresh(error) -> None:
        """Base the form on the webhook as it is now, so saving again is a choice."""
        form.revision.data = str(error.current.revision)

    if form.validate_on_submit():
        with refusals(form, on_conflict=refresh) as refused:
            services.update_webhook(current_user, document.id, webhook.id, url=form.url.data,
                                    description=form.description.data, events=_chosen(form),
                                    revision=form.revision.data)
            flash(_("The webhook is saved."), "success")
            return redirect(url_for("webhooks.show", slug=slug, webhook_id=webhook.id))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("api/webhook_form.html", document=document, form=form, webhook=webhook), status


@bp.post("/<int:webhook_id>/switch/<any(on, off):state>")
@login_required
@back_on_refusal("webhooks.show", shown_to=is_admin)
def switch(slug: str, webhook_id: int, state: str):
    """Switch a webhook on or off."""
    document = get_document_or_404(slug)
    services.switch_webhook(current_user, document.id, webhook_id, active=state == "on")
    flash(_("The webhook is on: events are sent to it again.") if state == "on"
          else _("The webhook is off: nothing is sent to it."), "success")
    return redirect(url_for("webhooks.show", slug=slug, webhook_id=webhook_id), 303)


@bp.post("/<int:webhook_id>/secret")
@login_required
@back_on_refusal("webhooks.show", shown_to=is_admin)
def secret(slug: str, webhook_id: int):
    """Replace a webhook's secret."""
    document = get_document_or_404(slug)
    services.replace_secret(current_user, document.id, webhook_id)
    flash(_("The webhook has a new secret; the old one no longer signs anything. Give the new one to the "
            "receiver."), "success")
    return redirect(url_for("webhooks.show", slug=slug, webhook_id=webhook_id), 303)


@bp.post("/<int:webhook_id>/test")
@login_required
@back_on_refusal("webhooks.show", shown_to=is_admin)
def test(slug: str, webhook_id: int):
    """Send a test event (``webhook.ping``); the delivery log shows how it went."""
    document = get_document_or_404(slug)
    services.send_test(current_user, document.id, webhook_id)
    flash(_("A test event is on its way; the delivery log below shows how it went."), "success")
    return redirect(url_for("webhooks.show", slug=slug, webhook_id=webhook_id), 303)


@bp.post("/<int:webhook_id>/deliveries/<int:delivery_id>/again")
@login_required
@back_on_refusal("webhooks.show", shown_to=is_admin)
def again(slug: str, webhook_id: int, delivery_id: int):
    """Send one delivery again."""
    document = get_document_or_404(slug)
    services.send_again(current_user, document.id, webhook_id, delivery_id)
    flash(_("The delivery is sent again; the log shows how it went."), "success")
    return redirect(url_for("webhooks.show", slug=slug, webhook_id=webhook_id), 303)


@bp.post("/<int:webhook_id>/delete")
@login_required
@back_on_refusal("webhooks.show", shown_to=is_admin)
def delete(slug: str, webhook_id: int):
    """Delete a webhook and its log."""
    document = get_document_or_404(slug)
    services.delete_webhook(current_user, document.id, webhook_id)
    flash(_("The webhook is deleted."), "success")
    return redirect(url_for("webhooks.index", slug=slug), 303)
