"""Webhooks: the admins' services, and the queue's work of writing and sending deliveries.

The admins' services (each one transaction, ``@writes``) check the actor
is an admin, lock the webhook (level 8 of ``locking``) and record an audit
event on the document (``webhook.created``...), so it shows in the
document's log; the URL is never in the event (it may carry a receiver's
token) and neither is the secret.

Delivery never costs the user's request more than noting an event id: the
``event_recorded`` listener (:func:`on_event_recorded`) keeps the ids of the
transaction's events that may become webhook events and, after the commit,
queues ONE job (:func:`_deliveries_job`). That job asks whether the
documents have active webhooks (one query; none: done), writes the
deliveries in one transaction and queues a send job for each. A send job
claims its delivery, checks the URL again and POSTs (``sending``) with no
transaction open, then records the outcome: a 2xx is delivered; anything
else is retried after ``WEBHOOK_RETRY_DELAY * 2**(attempt-1)`` seconds (at
most an hour), up to ``WEBHOOK_MAX_ATTEMPTS``. A receiver failing for
``WEBHOOK_DISABLE_AFTER`` seconds is switched off and its admin, and the
site's admins, told by mail.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ...accounts.models import Role, User
from ...accounts.rules import is_admin, require_admin
from ...audit.services import record_event
from ...documents.models import Document
from ...extensions import db
from ...jobs import enqueue, task
from ...locking import lock_row
from ...notifications.account_mail import Letter
from ...notifications.links import site_path
from ...notifications.mail import absolute, compose, retry_options, send_message, site_url, speaking_to
from ...pagination import Page, paginate
from ...services import (ConflictError, NotFound, ValidationError, after_commit, in_write_transaction, to_int,
                         utcnow, as_utc, writes)
from ..models import Webhook, WebhookDelivery
from . import addresses, sending
from .events import EVENTS, PING, event_types, followed, messages_of

log = logging.getLogger(__name__)

MAX_DELAY = 3600.0  # seconds: the longest wait between two attempts
DESCRIPTION_MAX = 200
PER_PAGE = 25


@dataclass(frozen=True)
class NewSecret:
    """A webhook and its secret, shown to the admin right after it is made or replaced."""

    webhook: Webhook
    secret: str


# ------------------------------------------------------------------ reading


def get_webhook_or_404(actor, document: Document, webhook_id) -> Webhook:
    """A webhook of the document, for an admin.

    :raises PermissionDenied: unless the actor is an admin.
    :raises NotFound: when the document has no such webhook.
    """
    require_admin(actor, _("Only admins can manage webhooks."))
    webhook = db.session.get(Webhook, to_int(webhook_id))
    if webhook is None or webhook.document_id != document.id:
        raise NotFound(_("There is no such webhook."))
    return webhook


def webhooks_of(actor, document: Document) -> list[Webhook]:
    """The document's webhooks, oldest first, for an admin.

    :raises PermissionDenied: unless the actor is an admin.
    """
    require_admin(actor, _("Only admins can manage webhooks."))
    return list(db.session.scalars(select(Webhook).where(Webhook.document_id == document.id).order_by(Webhook.id)))


def deliveries_of(webhook: Webhook, page: int = 1, per_page: int = PER_PAGE) -> Page[WebhookDelivery]:
    """One page of a webhook's deliveries, newest first (two queries); the caller loaded it with the check."""
    return paginate(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                    .order_by(WebhookDelivery.id.desc()), page, per_page)


# ------------------------------------------------------------------ checks


def allow_private() -> bool:
    """Whether webhooks may reach private and loopback addresses (``WEBHOOK_ALLOW_PRIVATE``: an intranet)."""
    return bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))


REFUSALS = {
    "malformed": lambda: _("This is not a web address: it starts with https:// and names a host."),
    "scheme": lambda: _("Only http:// and https:// addresses can receive webhooks."),
    "userinfo": lambda: _("Leave the user name and password out of the address; the signature proves the "
                          "sender."),
    "unresolvable": lambda: _("This host name cannot be found; check the address."),
    "metadata": lambda: _("This address belongs to the server's cloud provider; webhooks never go there."),
}


def _refusal(reason: str) -> str:
    """The admin's message for a refused address."""
    message = REFUSALS.get(reason)
    if message is not None:
        return message()
    return _("This address is inside the server's own network (%(kind)s); webhooks only go to addresses on the "
             "Internet.", kind=reason.replace("_", "-"))


def clean_url(url: str) -> str:
    """Check a receiver's URL as the admin saves it: its form, then where its host resolves now.

    :raises ValidationError: on the ``url`` field, saying why.
    """
    try:
        return addresses.resolve(url or "", allow_private=allow_private()).url
    except addresses.AddressRefused as refused:
        raise ValidationError(_refusal(refused.reason), "url") from None


def clean_events(events) -> str:
    """The event types asked for, in their order (empty: all).

    :raises ValidationError: for an unknown type.
    """
    wanted = set(events or ())
    unknown = wanted - set(EVENTS)
    if unknown:
        raise ValidationError(_("Unknown event type: %(type)s.", type=", ".join(sorted(unknown))), "events")
    if wanted == set(EVENTS):
        return ""
    return " ".join(kind for kind in EVENTS if kind in wanted)


def _clean_description(description: str | None) -> str:
    """A one-line description.

    :raises ValidationError: when it is too long.
    """
    description = " ".join((description or "").split())
    if len(description) > DESCRIPTION_MAX:
        raise ValidationError(_("Keep the description under %(count)s characters.", count=DESCRIPTION_MAX),
                              "description")
    return description


def _lock(actor, document_id: int, webhook_id) -> Webhook:
    """Check the actor, then lock a webhook of the document.

    :raises PermissionDenied: unless the actor is an admin.
    :raises NotFound:
    """
    require_admin(actor, _("Only admins can manage webhooks."))
    webhook = lock_row(Webhook, to_int(webhook_id))
    if webhook is None or webhook.document_id != document_id:
        raise NotFound(_("There is no such webhook."))
    return webhook


def _check_revision(webhook: Webhook, revision) -> None:
    """Refuse a change made on an older form.

    :raises ConflictError:
    """
    if revision is not None and to_int(revision) != webhook.revision:
        raise ConflictError(_("Someone changed this webhook while you were editing it; here it is as it is now."),
                            current=webhook)


# ------------------------------------------------------------------ admins' services


@writes
def create_webhook(actor, document_id: int, *, url: str, description: str = "", events=()) -> NewSecret:
    """Register a receiver of the document's events, with a fresh signing secret.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: for a refused URL (``url``), unknown events or a long description.
    """
    require_admin(actor, _("Only admins can manage webhooks."))
    document = db.session.get(Document, to_int(document_id))
    if document is None:
        raise NotFound(_("There is no such document."))
    webhook = Webhook(document_id=document.id, url=clean_url(url), description=_clean_description(description),
                      events=clean_events(events), secret=sending.new_secret(), active=True,
                      created_by_id=actor.id, revision=1)
    db.session.add(webhook)
    db.session.flush()
    record_event(actor, "webhook.created", webhook, document_id=document.id, to_state="active")
    return NewSecret(webhook, webhook.secret)


@writes
def update_webhook(actor, document_id: int, webhook_id: int, *, url: str, description: str = "", events=(),
                   revision=None) -> Webhook:
    """Change a webhook's URL, description and events.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: as :func:`create_webhook`.
    :raises ConflictError: when someone changed it since ``revision``.
    """
    webhook = _lock(actor, document_id, webhook_id)
    _check_revision(webhook, revision)
    webhook.url, webhook.description = clean_url(url), _clean_description(description)
    webhook.events = clean_events(events)
    webhook.revision += 1
    record_event(actor, "webhook.updated", webhook, document_id=document_id)
    return webhook


@writes
def switch_webhook(actor, document_id: int, webhook_id: int, *, active: bool) -> Webhook:
    """Switch a webhook on (its failures forgotten) or off (nothing more is sent; waiting deliveries are skipped).

    :raises PermissionDenied: unless the actor is an admin.
    """
    webhook = _lock(actor, document_id, webhook_id)
    if webhook.active == bool(active):
        return webhook
    before = "active" if webhook.active else "inactive"
    webhook.active = bool(active)
    if active:
        webhook.failing_since = webhook.disabled_at = webhook.disabled_reason = None
    else:
        webhook.disabled_at, webhook.disabled_reason = utcnow(), None
    webhook.revision += 1
    record_event(actor, "webhook.enabled" if active else "webhook.disabled", webhook, document_id=document_id,
                 from_state=before, to_state="active" if active else "inactive")
    return webhook


@writes
def delete_webhook(actor, document_id: int, webhook_id: int) -> None:
    """Delete a webhook and its delivery log.

    :raises PermissionDenied: unless the actor is an admin.
    """
    webhook = _lock(actor, document_id, webhook_id)
    record_event(actor, "webhook.deleted", webhook, document_id=document_id)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                       .execution_options(synchronize_session=False))
    db.session.delete(webhook)


@writes
def replace_secret(actor, document_id: int, webhook_id: int) -> NewSecret:
    """Give a webhook a new signing secret (the old one stops working at once).

    :raises PermissionDenied: unless the actor is an admin.
    """
    webhook = _lock(actor, document_id, webhook_id)
    webhook.secret = sending.new_secret()
    webhook.revision += 1
    record_event(actor, "webhook.secret_replaced", webhook, document_id=document_id)
    return NewSecret(webhook, webhook.secret)


@writes
def send_test(actor, document_id: int, webhook_id: int) -> WebhookDelivery:
    """Send a ``webhook.ping`` event to a webhook (even one switched off: the admin asks), through the queue.

    :raises PermissionDenied: unless the actor is an admin.
    """
    webhook = _lock(actor, document_id, webhook_id)
    document = db.session.get(Document, document_id)
    payload = {"type": PING, "timestamp": _iso_now(),
               "data": {"document": document.slug, "webhook_id": webhook.id,
                        "url": base_url() + site_path("documents.read", slug=document.slug)}}
    delivery = WebhookDelivery(webhook_id=webhook.id, event_id=None, event_type=PING,
                               message_id=sending.new_message_id(), payload=_dump(payload), status="pending")
    db.session.add(delivery)
    db.session.flush()
    after_commit(partial(_queue_send, delivery.id, 0))
    return delivery


@writes
def send_again(actor, document_id: int, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, with the same ``webhook-id`` (it is the same message), and a fresh round of retries.

    :raises PermissionDenied: unless the actor is an admin.
    :raises NotFound: for a delivery of another webhook.
    """
    webhook = _lock(actor, document_id, webhook_id)
    delivery = lock_row(WebhookDelivery, to_int(delivery_id))
    if delivery is None or delivery.webhook_id != webhook.id:
        raise NotFound(_("There is no such delivery."))
    delivery.status, delivery.next_attempt_at = "pending", utcnow()
    after_commit(partial(_queue_send, delivery.id, delivery.attempts))
    return delivery


# ------------------------------------------------------------------ events to deliveries


_BATCH_KEY = "manifesto.webhooks.batch"


def on_event_recorded(event, **_kw) -> None:
    """``event_recorded`` listener: note the event; no query in the user's transaction."""
    if event.document_id is None or not followed(event.action) or not in_write_transaction():
        return
    _batch().append((event.id, event.document_id, event.action))


def _batch() -> list[tuple[int, int, str]]:
    """The (event id, document id, action) of the running transaction, looked at together after its commit."""
    session = db.session()
    transaction = session.get_transaction()
    kept = session.info.get(_BATCH_KEY)
    if kept is not None and kept[0] is transaction:
        return kept[1]
    noted: list[tuple[int, int, str]] = []
    session.info[_BATCH_KEY] = (transaction, noted)
    after_commit(partial(_queue_deliveries, noted))
    return noted


def base_url() -> str:
    """Where the site is, for the links in a message: the configured address, else the request's host."""
    config = current_app.config
    if config.get("SITE_URL") or config.get("SERVER_NAME") or not has_request_context():
        return site_url()
    return request.host_url.rstrip("/")


def _queue_deliveries(noted: list[tuple[int, int, str]]) -> None:
    """After the commit: when an active webhook wants one of the events, one job writes the deliveries.

    The question is one indexed query after the commit (outside the user's
    transaction, cheaper than writing a job to the queue's storage); with no
    webhook, no job is queued, so the queue sees nothing of webhooks.
    """
    kept = db.session.info.get(_BATCH_KEY)
    if kept is not None and kept[1] is noted:
        del db.session.info[_BATCH_KEY]
    if not noted:
        return
    kinds = {types for _, _, action in noted for types in event_types(action)}
    # On a connection of its own: the session's objects stay as they are, and no read transaction stays open.
    with db.engine.connect() as connection:
        listening = connection.execute(select(Webhook.events).where(
            Webhook.document_id.in_({document_id for _, document_id, _ in noted}), Webhook.active.is_(True))).all()
    if any(not events or kinds & set(events.split()) for events, in listening):
        enqueue(_deliveries_job, [event_id for event_id, _, _ in noted],
                sorted({document_id for _, document_id, _ in noted}), base_url())


@task("manifesto.webhook-deliveries")
def _deliveries_job(event_ids: list[int], document_ids: list[int], base: str) -> None:
    """Write the deliveries of some events for the webhooks that want them, and queue their sends."""
    for delivery_id in create_deliveries(event_ids, document_ids, base):
        _queue_send(delivery_id, 0)


@writes
def create_deliveries(event_ids: list[int], document_ids: list[int], base: str) -> list[int]:
    """Write one delivery per event and active webhook that wants it; returns their ids.

    One query when the documents have no active webhook; a fixed number otherwise.
    """
    webhooks = list(db.session.scalars(select(Webhook).where(Webhook.document_id.in_(document_ids),
                                                             Webhook.active.is_(True)).order_by(Webhook.id)))
    if not webhooks:
        return []
    made = []
    for message in messages_of(event_ids, base):
        for webhook in webhooks:
            if webhook.document_id == message.document_id and webhook.wants(message.type):
                made.append(WebhookDelivery(webhook_id=webhook.id, event_id=message.event_id,
                                            event_type=message.type, message_id=sending.new_message_id(),
                                            payload=_dump(message.body), status="pending"))
    db.session.add_all(made)
    db.session.flush()
    return [delivery.id for delivery in made]


# ------------------------------------------------------------------ sending


def _queue_send(delivery_id: int, attempts: int) -> None:
    """Queue the first attempt of a delivery (or of a new round after "send again" or a test)."""
    enqueue(_send_job, delivery_id, attempts, attempts + max_attempts())


def max_attempts() -> int:
    """How many attempts a round has (``WEBHOOK_MAX_ATTEMPTS``)."""
    return max(1, int(current_app.config.get("WEBHOOK_MAX_ATTEMPTS", 8)))


def retry_delay(attempt: int) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt of a round: doubling, at most an hour."""
    base = float(current_app.config.get("WEBHOOK_RETRY_DELAY", 30.0))
    return min(MAX_DELAY, base * 2 ** (attempt - 1))


@task("manifesto.webhook-send")
def _send_job(delivery_id: int, expected_attempts: int, last_attempt: int) -> None:
    """Make one attempt at a delivery; a failure queues the next (Huey's own retries are not used)."""
    claimed = _claim(delivery_id, expected_attempts)
    if claimed is None:
        return
    url, secret, message_id, payload = claimed
    config = current_app.config
    outcome = sending.send(url, secret, message_id, payload.encode(), allow_private=allow_private(),
                           timeout=float(config.get("WEBHOOK_TIMEOUT", 5.0)),
                           max_bytes=int(config.get("WEBHOOK_RESPONSE_MAX_BYTES", 4096)))
    _record(delivery_id, outcome, last_attempt)


@writes
def _claim(delivery_id: int, expected_attempts: int) -> tuple[str, str, str, str] | None:
    """Take a pending delivery for one attempt; None when it is not due (sent, skipped, or taken by another job).

    A delivery of a webhook switched off is skipped, unless it is the admin's test.
    """
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None
    webhook = lock_row(Webhook, delivery.webhook_id)
    delivery = lock_row(WebhookDelivery, delivery_id)
    if webhook is None or delivery is None or delivery.status != "pending" or delivery.attempts != expected_attempts:
        return None
    if not webhook.active and delivery.event_type != PING:
        delivery.status, delivery.next_attempt_at = "skipped", None
        return None
    delivery.status = "sending"
    return webhook.url, webhook.secret, delivery.message_id, delivery.payload


@writes
def _record(delivery_id: int, outcome: sending.Outcome, last_attempt: int) -> None:
    """Write an attempt's outcome; on failure, queue the next attempt or give up, and switch a dead receiver off."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return
    webhook = lock_row(Webhook, delivery.webhook_id)
    delivery = lock_row(WebhookDelivery, delivery_id)
    if webhook is None or delivery is None:
        return
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code = now, outcome.status_code
    delivery.last_error = (outcome.error or None) and outcome.error[:500]
    if outcome.delivered:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        webhook.failing_since = None
        return
    if webhook.failing_since is None:
        webhook.failing_since = now
    disable_after = float(current_app.config.get("WEBHOOK_DISABLE_AFTER", 24 * 3600))
    if webhook.active and now - as_utc(webhook.failing_since) >= timedelta(seconds=disable_after):
        _switch_off(webhook, now)
    round_attempt = max_attempts() - (last_attempt - delivery.attempts)
    if delivery.attempts < last_attempt and webhook.active:
        delay = retry_delay(round_attempt)
        delivery.status, delivery.next_attempt_at = "pending", now + timedelta(seconds=delay)
        after_commit(partial(enqueue, _send_job, delivery.id, delivery.attempts, last_attempt, delay=delay))
    else:
        delivery.status, delivery.next_attempt_at = "failed", None


def _switch_off(webhook: Webhook, now) -> None:
    """Switch off a receiver that failed for too long, and tell its admin and the site's admins after the commit."""
    since = as_utc(webhook.failing_since)
    webhook.active, webhook.disabled_at = False, now
    webhook.disabled_reason = f"failing since {since.isoformat(timespec='seconds')}"
    webhook.revision += 1
    record_event(None, "webhook.disabled", webhook, document_id=webhook.document_id, from_state="active",
                 to_state="inactive", data={"failing_since": since.isoformat(timespec="seconds")})
    after_commit(partial(_queue_disabled_mail, webhook.id))


# ------------------------------------------------------------------ mail


def _recipients(webhook: Webhook) -> list[User]:
    """Who hears that a webhook was switched off: the site's admins, among them its creator while an admin."""
    return [user for user in db.session.scalars(select(User).where(User.role == Role.ADMIN.value,
                                                                   User.active.is_(True)).order_by(User.id))
            if is_admin(user)]


def _queue_disabled_mail(webhook_id: int) -> None:
    """Queue one mail per admin to tell (after the commit that switched the webhook off)."""
    webhook = db.session.get(Webhook, webhook_id)
    if webhook is None:
        return
    for user in _recipients(webhook):
        enqueue(_disabled_mail_job, webhook_id, user.id, **retry_options())


@task("manifesto.webhook-disabled-mail")
def _disabled_mail_job(webhook_id: int, user_id: int) -> None:
    """Tell one admin that a webhook was switched off; raising makes the queue try again."""
    webhook = db.session.get(Webhook, webhook_id)
    user = db.session.get(User, user_id)
    if webhook is None or user is None or webhook.active:
        return
    document = db.session.get(Document, webhook.document_id)
    with speaking_to(user):
        letter = Letter(
            _("A webhook was switched off"),
            [_("The webhook of “%(title)s” that sends to %(url)s failed at every attempt since %(since)s, so it "
               "was switched off. Nothing more is sent to it.", title=document.title, url=webhook.url,
               since=(webhook.disabled_reason or "").removeprefix("failing since ")),
             _("When the receiver works again, switch the webhook on from the document's webhooks page; "
               "its delivery log says what went wrong.")],
            absolute(site_path("webhooks.show", slug=document.slug, webhook_id=webhook.id)), _("The webhook's delivery log"))
        message = compose(user, _("Manifesto: %(subject)s", subject=letter.subject), "account_mail", None,
                          letter=letter)
    send_message(message)


# ------------------------------------------------------------------ helpers


def _dump(payload: dict) -> str:
    """The exact body sent (kept, so every attempt sends the same bytes)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _iso_now() -> str:
    """Now, as an ISO time."""
    return utcnow().isoformat().replace("+00:00", "Z")
