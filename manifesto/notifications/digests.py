"""The daily digest: one email per person with everything waiting for it, sent exactly once.

``flask --app manifesto send-digests`` (from cron or a systemd timer) runs
:func:`send_digests`. For each person with notifications waiting
(``email_state = "digest"``), one write transaction locks the person's row
(the last level of the locking protocol), moves the waiting notifications
into a new ``Digest`` row and commits; only then is the email sent. A second
run, even one running at the same moment, waits for that lock and then finds
nothing left to claim, so nobody gets the same digest twice. A failed send is
queued for retry; the digest is marked sent once it went, and a retry of a
sent digest does nothing.

A digest still unsent after ``MAIL_RESEND_AFTER`` seconds (its retries ran
out, or a worker died) is claimed again by the next run, as are immediate
emails left queued that long.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import ngettext
from sqlalchemy import select, update

from ..accounts.models import User
from ..extensions import db
from ..jobs import enqueue, task
from ..locking import lock_row
from ..services import DatabaseUnavailable, as_utc, utcnow, writes
from .links import site_path
from .mail import MailNotSent, absolute, compose, retry_options, send_message, send_notifications, speaking_to
from .models import Digest, Notification
from .tokens import DIGEST

log = logging.getLogger("manifesto.mail")

# A digest lists at most this many items; the rest wait in the notification centre.
DIGEST_ITEMS_SHOWN = 200


@dataclass
class DigestRun:
    """What one run of send-digests did."""

    sent: int = 0
    failed: int = 0
    resent: int = 0
    mail_resent: int = 0


def users_waiting() -> list[int]:
    """Active people with notifications waiting for their digest (one query)."""
    return list(db.session.scalars(
        select(Notification.user_id).join(User, User.id == Notification.user_id)
        .where(Notification.email_state == "digest", User.active.is_(True))
        .group_by(Notification.user_id).order_by(Notification.user_id)))


@writes
def claim_digest(user_id: int) -> int | None:
    """Move someone's waiting notifications into a new digest and return its id; None when nothing waits.

    Locks the person's row, so two runs at once claim each notification once.
    """
    user = lock_row(User, user_id)
    if user is None or not user.active:
        return None
    ids = list(db.session.scalars(select(Notification.id).where(
        Notification.user_id == user_id, Notification.email_state == "digest").order_by(Notification.id)))
    if not ids:
        return None
    digest = Digest(user_id=user_id, items=len(ids), created_at=utcnow())
    db.session.add(digest)
    db.session.flush()
    db.session.execute(update(Notification).where(Notification.id.in_(ids), Notification.email_state == "digest")
                       .values(email_state="digested", digest_id=digest.id)
                       .execution_options(synchronize_session=False))
    return digest.id


@writes
def _mark_sent(digest_id: int) -> None:
    """Record that a digest went out."""
    db.session.execute(update(Digest).where(Digest.id == digest_id, Digest.sent_at.is_(None))
                       .values(sent_at=utcnow()).execution_options(synchronize_session=False))


@writes
def _reclaim(digest_id: int, cutoff) -> bool:
    """Take over a digest left unsent since before ``cutoff``; False when another run took it first."""
    return db.session.execute(update(Digest).where(Digest.id == digest_id, Digest.sent_at.is_(None),
                                                   Digest.created_at < cutoff)
                              .values(created_at=utcnow()).execution_options(synchronize_session=False)).rowcount == 1


def deliver_digest(digest_id: int) -> bool:
    """Send one claimed digest unless it went already; True when it was sent now.

    :raises OSError, smtplib.SMTPException: when the mail server fails; the digest stays unsent.
    """
    digest = db.session.get(Digest, digest_id)
    if digest is None or digest.sent_at is not None:
        return False
    user = db.session.get(User, digest.user_id)
    items = list(db.session.scalars(select(Notification).where(Notification.digest_id == digest_id)
                                    .order_by(Notification.id).limit(DIGEST_ITEMS_SHOWN)))
    total = digest.items
    with speaking_to(user):  # the recipient's language, and times in their zone
        subject = ngettext("Manifesto: your digest, %(num)s update", "Manifesto: your digest, %(num)s updates",
                           total)  # Flask-Babel puts the number in as %(num)s, formatted
        message = compose(user, subject, "digest", DIGEST,
                          items=[(item, absolute(item.link), as_utc(item.created_at)) for item in items],
                          total=total, more=max(0, total - len(items)),
                          centre_url=absolute(site_path("notifications.index")))
    send_message(message)
    _mark_sent(digest_id)
    return True


@task("manifesto.digest-mail", formerly="manifesto.notifications.queue")
def _digest_mail_job(digest_id: int) -> None:
    """Send one claimed digest (a retry after a failed send); raising makes the queue try again later."""
    deliver_digest(digest_id)


def enqueue_digest_retry(digest_id: int) -> None:
    """Queue another try of a digest whose send failed, after the first retry delay."""
    options = retry_options()
    # This call was the first try: the job makes the others, the delay doubling from the second.
    enqueue(_digest_mail_job, digest_id, delay=options["retry_delay"], retries=max(0, options["retries"] - 1),
                 retry_delay=options["retry_delay"] * 2, retry_backoff=2)


def _deliver_or_retry(digest_id: int, run: DigestRun) -> None:
    """Send a digest now; if the server fails, queue a retry and go on with the others."""
    try:
        deliver_digest(digest_id)
    except DatabaseUnavailable:
        raise
    except Exception as error:  # the mail server: the queue tries again later
        log.warning("Digest %s not sent, will try again: %s", digest_id, error)
        run.failed += 1
        try:
            enqueue_digest_retry(digest_id)
        except Exception:  # the queue is down too: the next run takes it over after MAIL_RESEND_AFTER
            log.exception("Could not queue a retry of digest %s", digest_id)
    else:
        run.sent += 1


def send_digests() -> DigestRun:
    """Send every waiting digest once; also take over digests and emails left unsent for too long."""
    run = DigestRun()
    cutoff = utcnow() - timedelta(seconds=float(current_app.config.get("MAIL_RESEND_AFTER", 6 * 3600)))
    stale = list(db.session.scalars(select(Digest.id).where(Digest.sent_at.is_(None), Digest.created_at < cutoff)
                                    .order_by(Digest.id)))
    for digest_id in stale:
        if _reclaim(digest_id, cutoff):
            run.resent += 1
            _deliver_or_retry(digest_id, run)
    left = list(db.session.scalars(select(Notification.id).where(Notification.email_state == "queued",
                                                                 Notification.created_at < cutoff)))
    try:
        run.mail_resent = send_notifications(left)
    except MailNotSent as error:
        log.warning("Some emails left queued are still not sent: %s", error)
    for user_id in users_waiting():
        digest_id = claim_digest(user_id)
        if digest_id is not None:
            _deliver_or_retry(digest_id, run)
    return run
