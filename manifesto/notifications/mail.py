"""Email: write the messages, and hand them to the SMTP server, or to the log when none is configured.

Runs in the job queue's worker (``manifesto.jobs``; the job is declared at
the end of this module), after the transaction that made the notifications
has committed. Each email is claimed before it is sent (``queued`` ->
``sending``) and marked ``sent`` after, so a retried job, or a second
worker, never sends one twice; a failed send goes back to ``queued`` and the
job raises, so Huey tries it again later.

Every email carries an unsubscribe link that works without logging in (a
signed token) and the RFC 8058 headers (``List-Unsubscribe`` and
``List-Unsubscribe-Post``) that let mail programs offer a one-click
unsubscribe. Links point at ``SITE_URL``, never at the Host header of the
request that happened to cause the email.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr, parseaddr, formatdate, make_msgid
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from ..accounts.models import User
from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE, force_timezone, supported
from ..jobs import enqueue, task
from ..services import writes
from .links import one_line, site_path
from .kinds import KINDS
from .models import Notification
from .tokens import unsubscribe_token

log = logging.getLogger("manifesto.mail")

DEFAULT_SENDER = "Manifesto <manifesto@localhost>"
SUBJECT_LIMIT = 150
NO_BREAK = "\u00a0\u202f"  # French typography's spaces, kept in subjects


class MailNotSent(Exception):
    """Some emails of a job could not be sent; raising it makes the queue try the job again."""


def site_url() -> str:
    """The address the site is reached at, for links in emails: ``SITE_URL``, else from ``SERVER_NAME``."""
    config = current_app.config
    if config.get("SITE_URL"):
        return config["SITE_URL"].rstrip("/")
    scheme = config.get("PREFERRED_URL_SCHEME") or "http"
    return f"{scheme}://{config['SERVER_NAME']}" if config.get("SERVER_NAME") else "http://127.0.0.1:5000"


def absolute(path: str) -> str:
    """A site path as a full address."""
    return site_url() + path


def unsubscribe_url(user_id: int, scope: str) -> str:
    """The address that stops ``scope`` emails for one person, without logging in."""
    return absolute(site_path("notifications.unsubscribe", token=unsubscribe_token(user_id, scope)))


@contextmanager
def speaking_to(user: User) -> Iterator[None]:
    """Write to ``user`` in their language and time zone (their profile's; else English and UTC).

    Mail is written outside the recipient's request (by a worker, a command, or
    someone else's request), so the page's own choices do not apply: the
    ``datetime`` filter then shows the recipient's local time and says which zone.
    """
    language = supported(getattr(user, "locale", None)) or DEFAULT_LANGUAGE
    with force_locale(language), force_timezone(getattr(user, "timezone", None)):
        yield


def _one_line(text: str, limit: int | None = None) -> str:
    """Text fit for a header: one line, no control characters, at most ``limit`` characters."""
    text = one_line("".join(ch if ch.isprintable() or ch in NO_BREAK else " " for ch in text or ""))
    if limit and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text


def compose(user: User, subject: str, template: str, scope: str | None, **context) -> EmailMessage:
    """Write one email to ``user`` from ``notifications/email/<template>.txt`` and ``.html``.

    The HTML part goes through Jinja's autoescape, like every page. Call it
    inside :func:`speaking_to` for ``user`` (the subject is written by the
    caller, in the same language). ``scope`` None: mail about the person's own
    account (a link, a security notice), which nobody unsubscribes from, so it
    carries no unsubscribe link or header.
    """
    unsubscribe = unsubscribe_url(user.id, scope) if scope is not None else None
    context.update(user=user, site_url=site_url(), unsubscribe_url=unsubscribe,
                   settings_url=absolute(site_path("notifications.settings")))
    message = EmailMessage()
    message["Subject"] = _one_line(str(subject), SUBJECT_LIMIT)
    message["From"] = current_app.config.get("MAIL_SENDER") or DEFAULT_SENDER
    message["To"] = formataddr((_one_line(user.name), user.email))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=urlsplit(site_url()).hostname or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render_template(f"notifications/email/{template}.txt", **context))
    message.add_alternative(render_template(f"notifications/email/{template}.html", **context), subtype="html")
    return message


def compose_notification(notification: Notification, user: User) -> EmailMessage:
    """The immediate email for one notification."""
    kind = KINDS.get(notification.kind)
    with speaking_to(user):
        # The summary was written in the recipient's language when the notification was made.
        return compose(user, _("Manifesto: %(summary)s", summary=notification.summary), "notification",
                       notification.kind, notification=notification, link=absolute(notification.link),
                       kind_label=str(kind.label) if kind else notification.kind)


def send_message(message: EmailMessage) -> None:
    """Hand one email to the SMTP server (``MAIL_SERVER``), or write it to the log when none is set.

    :raises OSError, smtplib.SMTPException: when the server is down, slow or refuses; the caller retries.
    """
    config = current_app.config
    recipient = parseaddr(str(message["To"] or ""))[1]
    if recipient.lower().endswith(".invalid"):
        # Accounts restored from an archive without emails have placeholder
        # addresses in the reserved .invalid domain: nobody there to tell.
        log.info("Email to %s not sent: the address is a placeholder", recipient)
        return
    server = config.get("MAIL_SERVER")
    if not server:
        text = message.get_body(("plain",))
        log.warning("MAIL_SERVER is not set, so this email went to the log instead:\nTo: %s\nSubject: %s\n"
                    "List-Unsubscribe: %s\n\n%s", message["To"], message["Subject"], message["List-Unsubscribe"],
                    text.get_content() if text is not None else "")
        return
    use_ssl, use_tls = bool(config.get("MAIL_USE_SSL")), bool(config.get("MAIL_USE_TLS"))
    port = int(config.get("MAIL_PORT") or (465 if use_ssl else 587 if use_tls else 25))
    timeout = float(config.get("MAIL_TIMEOUT") or 10)
    # Built only when the connection is encrypted: it costs ~50 ms a mail, minutes for 10,000 invitations.
    context = ssl.create_default_context() if use_ssl or use_tls else None
    if use_ssl:
        connection = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(server, port, timeout=timeout)
    with connection as smtp:
        if use_tls and not use_ssl:
            smtp.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)


@writes
def _claim(notification_id: int) -> bool:
    """Take a queued email for sending; False when another worker has it or it went already."""
    return db.session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.email_state == "queued").values(email_state="sending")
        .execution_options(synchronize_session=False)).rowcount == 1


@writes
def _settle(notification_id: int, state: str) -> None:
    """Record how a send ended: ``sent``, or back to ``queued`` for the next try."""
    db.session.execute(update(Notification).where(Notification.id == notification_id,
                                                  Notification.email_state == "sending")
                       .values(email_state=state).execution_options(synchronize_session=False))


def send_notifications(ids: list[int]) -> int:
    """Send the queued emails among ``ids``, each at most once; returns how many went.

    :raises MailNotSent: when some could not be sent (they are queued again).
    """
    if not ids:
        return 0
    rows = db.session.execute(select(Notification, User).join(User, User.id == Notification.user_id)
                              .where(Notification.id.in_(ids), Notification.email_state == "queued")
                              .order_by(Notification.id)).all()
    sent = failed = 0
    # Written before the first claim: each claim commits, which expires what the session holds.
    messages = [(notification.id, user.id, compose_notification(notification, user)) for notification, user in rows]
    for notification_id, user_id, message in messages:
        if not _claim(notification_id):
            continue
        try:
            send_message(message)
        except Exception as error:  # any failure of the server or the network: try again later
            log.warning("Email %s to user %s not sent, will try again: %s", notification_id, user_id, error)
            _settle(notification_id, "queued")
            failed += 1
        else:
            _settle(notification_id, "sent")
            sent += 1
    if failed:
        raise MailNotSent(f"{failed} email(s) not sent; they stay queued")
    return sent


def deliver_event_mail(event_id: int) -> int:
    """Send the immediate emails one event caused (the queue's job); returns how many went.

    :raises MailNotSent: when some could not be sent, so the queue retries the job.
    """
    ids = db.session.scalars(select(Notification.id).where(Notification.event_id == event_id,
                                                           Notification.email_state == "queued")).all()
    return send_notifications(list(ids))


def retry_options() -> dict[str, float]:
    """How a mail job is retried, from the config: count, first delay (s), and the doubling."""
    config = current_app.config
    return {"retries": int(config.get("MAIL_RETRIES", 5)), "retry_delay": float(config.get("MAIL_RETRY_DELAY", 60)),
            "retry_backoff": 2}


@task("manifesto.notification-mail", formerly="manifesto.notifications.queue")
def _event_mail_job(event_id: int) -> None:
    """Send the immediate emails of one event; raising makes the queue try again later."""
    deliver_event_mail(event_id)


def enqueue_event_mail(event_id: int) -> None:
    """Queue the immediate emails of one event (call it after the commit)."""
    enqueue(_event_mail_job, event_id, **retry_options())
