"""Mail about one's own account: the links that let a person in, and the notices that keep them safe.

The accounts area records audit events and knows nothing of mail (it sits
below notifications); this listener, connected to ``event_recorded`` in
``init_app``, turns some of them into one email each, queued after the
commit and written by the job queue's worker:

- ``user.registered`` (unverified, ``EMAIL_VERIFICATION=required``) and
  ``user.verification_requested``: the link that confirms the address;
- ``user.reset_requested``: the link to choose a new password (one hour);
- ``user.invited``: the invitation, with the link to choose a password;
- ``user.password_changed``, ``user.password_reset``,
  ``user.two_factor_enabled``, ``user.two_factor_disabled``: a security notice;
- ``user.signed_in`` with ``new_device``: a notice of the new device;
- ``user.approved``: the account may log in now.

A link is made when the mail is written, from the account as it is then
(``accounts/tokens.py``): a link mailed after the password changed again
would not work, so none is. These emails are transactional: notification
settings never stop them, and they carry no unsubscribe link.

Each email is one job of its own, so a failing address is retried alone and
never holds up or resends the others. Queueing a job costs a write to the
queue's storage (1-3 ms with the default SQLite file), so a transaction that
makes many emails (an import of 10,000 delegates) does not queue them in the
request: after its commit it queues ONE job carrying the event ids
(:func:`_account_mail_batch_job`), and the worker queues the per-email jobs
from there. A transaction with at most ``QUEUE_IN_REQUEST`` emails queues
them itself, as before. The batch job only queues: it sends nothing and is
never retried as a whole, which would queue some emails twice; when the
queue's storage fails half-way, it queues a new batch job for the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from flask import current_app
from flask_babel import format_datetime, format_timedelta
from flask_babel import gettext as _

from ..accounts import tokens
from ..accounts.models import User
from ..audit.models import AuditEvent
from ..extensions import db
from ..jobs import enqueue, task
from ..services import after_commit, in_write_transaction
from .links import site_path
from .mail import absolute, compose, retry_options, send_message, speaking_to

log = logging.getLogger("manifesto.mail")


@dataclass(frozen=True)
class Letter:
    """What one account email says: subject, paragraphs, and the button's link and words (if any)."""

    subject: str
    paragraphs: list[str]
    link: str | None = None
    link_label: str | None = None


def _link(endpoint: str, **values) -> str:
    """A page of the site as a full address (``SITE_URL``)."""
    return absolute(site_path(endpoint, **values))


def _duration(setting: str) -> str:
    """How long a kind of link works, in words ("1 hour", "14 days")."""
    return format_timedelta(timedelta(seconds=int(current_app.config[setting])))


def _not_you() -> str:
    """What to do when the person did not do this."""
    return _("If this was not you, choose a new password at once with “Forgot your password?” on the login "
             "page (%(url)s) and look at where your account is logged in.", url=_link("accounts.login"))


def _verification(user: User, event: AuditEvent) -> Letter:
    """The link that confirms the address."""
    return Letter(_("Confirm your email address"),
                  [_("Please confirm that %(email)s is your address: then you can take part, not only read. "
                     "The link works for %(time)s.", email=user.email,
                     time=_duration("VERIFICATION_LINK_MAX_AGE")),
                   _("If you did not create an account, ignore this email: nothing happens without the link.")],
                  _link("recovery.verify_email", token=tokens.make_token(user, tokens.VERIFICATION)),
                  _("Confirm my address"))


def _reset(user: User, event: AuditEvent) -> Letter:
    """The link to choose a new password."""
    return Letter(_("Choose a new password"),
                  [_("Someone, probably you, asked for a link to choose a new password for %(email)s. The link "
                     "works for %(time)s, once; choosing a new password logs out every device.",
                     email=user.email, time=_duration("RESET_LINK_MAX_AGE")),
                   _("If you did not ask, ignore this email: your password stays as it is.")],
                  _link("recovery.reset_password", token=tokens.make_token(user, tokens.RESET)),
                  _("Choose a new password"))


def _invitation(user: User, event: AuditEvent) -> Letter:
    """The invitation, with the link to choose a password."""
    inviter = db.session.get(User, event.actor_id) if event.actor_id else None
    first = (_("%(inviter)s invited you to take part in drafting the text, as %(email)s.",
               inviter=inviter.name, email=user.email) if inviter is not None and inviter.id != user.id
             else _("You are invited to take part in drafting the text, as %(email)s.", email=user.email))
    return Letter(_("You are invited to take part"),
                  [first, _("Choose your password with the link below; it works for %(time)s, once. Then you "
                            "log in with this address and your password.", time=_duration("INVITATION_LINK_MAX_AGE"))],
                  _link("recovery.accept_invitation", token=tokens.make_token(user, tokens.INVITATION)),
                  _("Choose my password"))


def _password_notice(user: User, event: AuditEvent) -> Letter:
    """The password changed (by the person, by a reset link, or by an operator)."""
    return Letter(_("Your password was changed"),
                  [_("The password of your account %(email)s was changed on %(when)s. Every other device "
                     "logged in to the account was logged out.", email=user.email, when=format_datetime(event.at)),
                   _not_you()])


def _two_factor_notice(user: User, event: AuditEvent) -> Letter:
    """A second factor was turned on or off (an admin's reset says so, with the reason)."""
    if event.action == "user.two_factor_enabled":
        return Letter(_("Two factors are on for your account"),
                      [_("From now on, logging in to %(email)s asks for a code from your authenticator app "
                         "after the password (turned on %(when)s).", email=user.email,
                         when=format_datetime(event.at)), _not_you()])
    paragraphs = [_("Logging in to %(email)s no longer asks for a code from an authenticator app (turned off "
                    "%(when)s).", email=user.email, when=format_datetime(event.at))]
    if event.actor_id and event.actor_id != user.id:
        paragraphs.append(_("An admin turned it off. The reason given: %(reason)s",
                            reason=event.reason or _("none")))
    paragraphs.append(_not_you())
    return Letter(_("Two factors are off for your account"), paragraphs, _link("security.index"),
                  _("Security of your account"))


def _new_device_notice(user: User, event: AuditEvent) -> Letter:
    """A login from a device the account had not used."""
    data = event.data or {}
    where = [data.get("device") or _("an unknown device")]
    if data.get("address"):
        where.append(_("from the address %(address)s", address=data["address"]))
    return Letter(_("A new device logged in to your account"),
                  [_("Your account %(email)s was logged in on %(when)s with %(where)s.", email=user.email,
                     when=format_datetime(event.at), where=", ".join(where)),
                   _("If this was you, there is nothing to do. If not, end that session on the security page "
                     "and choose a new password.")],
                  _link("security.index"), _("Security of your account"))


def _approved(user: User, event: AuditEvent) -> Letter:
    """An admin approved the account."""
    return Letter(_("Your account is approved"),
                  [_("An admin approved your account %(email)s: you can log in now.", email=user.email)],
                  _link("accounts.login"), _("Log in"))


LETTERS: dict[str, Callable[[User, AuditEvent], Letter]] = {
    "user.registered": _verification,
    "user.verification_requested": _verification,
    "user.reset_requested": _reset,
    "user.invited": _invitation,
    "user.password_changed": _password_notice,
    "user.password_reset": _password_notice,
    "user.two_factor_enabled": _two_factor_notice,
    "user.two_factor_disabled": _two_factor_notice,
    "user.signed_in": _new_device_notice,
    "user.approved": _approved,
}


def wanted(event: AuditEvent, user: User) -> bool:
    """Whether this event of this account gets an email."""
    if event.action not in LETTERS or event.object_type != User.__tablename__:
        return False
    if event.action == "user.registered":  # only a self-registered account that must confirm its address
        return (user.email_verified_at is None
                and current_app.config.get("EMAIL_VERIFICATION", "required") == "required")
    if event.action == "user.signed_in":
        return bool((event.data or {}).get("new_device"))
    return True


# Up to this many emails of one transaction are queued in the request, one job each; more go in one batch job.
QUEUE_IN_REQUEST = 20

_BATCH_KEY = "manifesto.account_mail.batch"


def on_event_recorded(event, *, obj, actor=None, **_kw) -> None:
    """``event_recorded`` listener: queue the account's email once the transaction commits."""
    if not isinstance(obj, User) or not wanted(event, obj):
        return
    if in_write_transaction():
        _batch().append(event.id)
    else:  # recorded outside a write service (never by the house's services): the caller commits first
        log.warning("Account email for %s not queued: recorded outside a write service", event.action)


def _batch() -> list[int]:
    """The ids of the events of the running transaction that get an email, queued together after its commit.

    Kept in the session by transaction: an attempt that rolls back leaves its
    list behind, and the retry (a new transaction) starts a new one, whose
    ``after_commit`` is the only one that runs.
    """
    session = db.session()  # the request's own Session (the scoped proxy does not offer get_transaction)
    transaction = session.get_transaction()
    kept = session.info.get(_BATCH_KEY)
    if kept is not None and kept[0] is transaction:
        return kept[1]
    ids: list[int] = []
    session.info[_BATCH_KEY] = (transaction, ids)
    after_commit(partial(_queue_batch, ids))
    return ids


def _queue_batch(event_ids: list[int]) -> None:
    """After the commit: queue the emails of a transaction, one job each, or one batch job for many."""
    kept = db.session.info.get(_BATCH_KEY)
    if kept is not None and kept[1] is event_ids:
        del db.session.info[_BATCH_KEY]
    if len(event_ids) <= QUEUE_IN_REQUEST:
        for event_id in event_ids:
            try:
                enqueue_account_mail(event_id)
            except Exception:  # the change is committed; the other emails still go
                log.exception("Account email of event %s not queued", event_id)
    else:
        enqueue(_account_mail_batch_job, list(event_ids))


def write_account_mail(event: AuditEvent, user: User):
    """The email for one event, in the person's language."""
    with speaking_to(user):
        letter = LETTERS[event.action](user, event)
        return compose(user, _("Manifesto: %(subject)s", subject=letter.subject), "account_mail", None,
                       letter=letter)


def deliver_account_mail(event_id: int) -> bool:
    """Write and send the email of one event (the queue's job); False when there is nothing to send.

    :raises OSError, smtplib.SMTPException: when the mail server fails, so the queue tries again.
    """
    event = db.session.get(AuditEvent, event_id)
    user = db.session.get(User, event.object_id) if event is not None else None
    if event is None or user is None or not wanted(event, user):
        return False
    send_message(write_account_mail(event, user))
    return True


@task("manifesto.account-mail")
def _account_mail_job(event_id: int) -> None:
    """Send the email of one account event; raising makes the queue try again later."""
    deliver_account_mail(event_id)


def enqueue_account_mail(event_id: int) -> None:
    """Queue the email of one account event (after the commit)."""
    enqueue(_account_mail_job, event_id, **retry_options())


@task("manifesto.account-mail-batch")
def _account_mail_batch_job(event_ids: list[int]) -> None:
    """Queue the email of each of many events, one job each (in the worker, not in the request that made them).

    Never retried as a whole (it would queue some emails twice): when the
    queue fails half-way, a new batch job for the rest waits a retry delay.

    :raises Exception: when even that cannot be queued; the log says how many emails are lost.
    """
    for done, event_id in enumerate(event_ids):
        try:
            enqueue_account_mail(event_id)
        except Exception as error:  # the queue's storage: locked, full, unreachable
            rest = event_ids[done:]
            log.warning("Account emails: %d of %d queued, the queue failed (%s); the other %d wait for "
                        "another try", done, len(event_ids), error, len(rest))
            try:
                enqueue(_account_mail_batch_job, rest, delay=retry_options()["retry_delay"])
            except Exception:
                log.error("Account emails of %d events lost: the queue failed twice", len(rest))
                raise
            return
