"""Notification services: follows, the notification centre, delivery settings and unsubscribing.

Notifications themselves are made by ``fanout`` (from the audit trail, inside
the writing transaction) and mailed by ``mail`` and ``digests`` (after the
commit, from the job queue).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..accounts.rules import is_member
from ..amendments import services as amendments
from ..amendments.models import Amendment, Status
from ..audit.services import record_event
from ..documents.models import Document, Section
from ..extensions import db
from ..locking import lock_row
from ..pagination import Page, paginate
from ..services import NotFound, PermissionDenied, ValidationError, to_int, utcnow, writes
from .kinds import KINDS, default_delivery
from .models import Delivery, Follow, Notification, NotificationSetting
from .tokens import DIGEST, EVERYTHING, read_unsubscribe_token

FOLLOW_TARGETS = ("section", "amendment")


# --- Following ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowState:
    """Whether the reader follows what a page shows (the follow button's state)."""

    target: str
    target_id: int
    following: bool


@dataclass(frozen=True)
class Followed:
    """What a follow or unfollow was about: enough for the view to send the reader back to it."""

    slug: str
    target: str
    target_id: int
    following: bool


def follow_state(user, target: str, target_id: int) -> FollowState | None:
    """The follow button's state for a page (one query); None for anonymous readers and role stand-ins."""
    if not is_member(user) or user.id is None:  # a stand-in (accounts.rules.stand_in) follows nothing
        return None
    following = db.session.scalar(select(Follow.id).where(
        Follow.user_id == user.id, Follow.target == target, Follow.target_id == target_id)) is not None
    return FollowState(target, target_id, following)


def _followable(actor, target: str, target_id) -> tuple[Document, int]:
    """Check that ``actor`` may follow the target, and return its document and id.

    :raises ValidationError: for an unknown kind of target.
    :raises NotFound: for a target that does not exist or that the actor may not see.
    """
    if target not in FOLLOW_TARGETS:
        raise ValidationError(_("Only sections and amendments can be followed."), "target")
    target_id = to_int(target_id, "target_id", minimum=1)
    if target == "section":
        document_id = db.session.scalar(select(Section.document_id).where(Section.id == target_id))
        if document_id is None:
            raise NotFound(_("This section does not exist."))
    else:
        amendment = db.session.get(Amendment, target_id)
        if amendment is None or not amendments.can_view(actor, amendment) or amendment.status == Status.DRAFT:
            raise NotFound(_("There is no such amendment."))
        document_id = amendment.document_id
    return db.session.get(Document, document_id), target_id


@writes
def follow(actor, target: str, target_id) -> Followed:
    """Follow a section or an amendment: hear about its new versions, edits, decisions and comments.

    Following twice is harmless.

    :raises PermissionDenied: for anonymous or deactivated users.
    :raises ValidationError: for an unknown kind of target.
    :raises NotFound: for a target that does not exist or that the actor may not see.
    """
    if not is_member(actor):
        raise PermissionDenied(_("Log in to follow sections and amendments."))
    document, target_id = _followable(actor, target, target_id)
    existing = db.session.scalar(select(Follow).where(Follow.user_id == actor.id, Follow.target == target,
                                                      Follow.target_id == target_id))
    if existing is None:
        row = Follow(user_id=actor.id, target=target, target_id=target_id)
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # a second click in the same instant: followed already
            pass
        else:
            record_event(actor, "follow.added", row, data={"target": target, "target_id": target_id})
    return Followed(document.slug, target, target_id, True)


@writes
def unfollow(actor, target: str, target_id) -> Followed:
    """Stop following a section or an amendment (nothing happens if one did not follow it).

    :raises PermissionDenied: for anonymous or deactivated users.
    :raises ValidationError: for an unknown kind of target.
    :raises NotFound: for a target that does not exist or that the actor may not see.
    """
    if not is_member(actor):
        raise PermissionDenied(_("Log in to follow sections and amendments."))
    document, target_id = _followable(actor, target, target_id)
    row = db.session.scalar(select(Follow).where(Follow.user_id == actor.id, Follow.target == target,
                                                 Follow.target_id == target_id))
    if row is not None:
        record_event(actor, "follow.removed", row, data={"target": target, "target_id": target_id})
        db.session.delete(row)
    return Followed(document.slug, target, target_id, False)


def add_follow(user_id: int, target: str, target_id: int) -> None:
    """Make someone follow a target inside the running transaction (authors follow their amendments)."""
    exists = db.session.scalar(select(Follow.id).where(Follow.user_id == user_id, Follow.target == target,
                                                       Follow.target_id == target_id))
    if exists is None:
        db.session.add(Follow(user_id=user_id, target=target, target_id=target_id))


# --- The notification centre -------------------------------------------------------------------


def unread_count(user) -> int:
    """How many unread notifications someone has (one query; 0 for anonymous readers)."""
    if not is_member(user):
        return 0
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_notifications(user, page: int = 1, per_page: int = 30) -> Page[Notification]:
    """One page of someone's notifications, newest first (two queries: the count and the page)."""
    return paginate(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()),
                    page, per_page)


def _own_notification(actor, notification_id) -> Notification:
    """Load one of the actor's notifications.

    :raises PermissionDenied: for anonymous users.
    :raises NotFound: for someone else's notification, which must not be seen to exist.
    """
    if not is_member(actor):
        raise PermissionDenied(_("Log in to see your notifications."))
    notification = db.session.get(Notification, to_int(notification_id, minimum=1))
    if notification is None or notification.user_id != actor.id:
        raise NotFound(_("There is no such notification."))
    return notification


@writes
def mark_read(actor, notification_id) -> Notification:
    """Mark one of one's notifications read; returns it (its link is where the reader goes next).

    Reading is not a change anyone else sees, so it records no audit event.

    :raises PermissionDenied: for anonymous users.
    :raises NotFound: for someone else's notification.
    """
    notification = _own_notification(actor, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
    return notification


@writes
def mark_all_read(actor, up_to=None) -> int:
    """Mark all of one's notifications read, up to the newest one the page showed; returns how many.

    ``up_to`` keeps a notification that arrived after the page was shown unread.

    :raises PermissionDenied: for anonymous users.
    """
    if not is_member(actor):
        raise PermissionDenied(_("Log in to see your notifications."))
    condition = [Notification.user_id == actor.id, Notification.read_at.is_(None)]
    if up_to not in (None, ""):
        condition.append(Notification.id <= to_int(up_to, "up_to"))
    return db.session.execute(update(Notification).where(*condition).values(read_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount


# --- Delivery settings and unsubscribing -------------------------------------------------------


def delivery_settings(user) -> dict[str, Delivery]:
    """How each kind reaches someone: their choice, else the default (one query)."""
    chosen = dict(db.session.execute(select(NotificationSetting.kind, NotificationSetting.delivery)
                                     .where(NotificationSetting.user_id == user.id)).all())
    settings = {}
    for name in KINDS:
        try:
            settings[name] = Delivery(chosen.get(name) or default_delivery(name))
        except ValueError:
            settings[name] = default_delivery(name)
    return settings


def _store_settings(user: User, wanted: dict[str, Delivery]) -> dict[str, Delivery]:
    """Write the changed choices of a locked user; items waiting for a digest leave it when a kind goes in-app only.

    Returns the choices that changed.
    """
    current = delivery_settings(user)
    changed = {kind: delivery for kind, delivery in wanted.items() if current[kind] != delivery}
    if not changed:
        return {}
    rows = {row.kind: row for row in db.session.scalars(select(NotificationSetting).where(
        NotificationSetting.user_id == user.id, NotificationSetting.kind.in_(list(changed))))}
    for kind, delivery in changed.items():
        row = rows.get(kind)
        if row is None:
            db.session.add(NotificationSetting(user_id=user.id, kind=kind, delivery=delivery.value))
        else:
            row.delivery = delivery.value
    silenced = [kind for kind, delivery in changed.items() if delivery is Delivery.APP]
    if silenced:
        db.session.execute(update(Notification).where(
            Notification.user_id == user.id, Notification.kind.in_(silenced),
            Notification.email_state == "digest").values(email_state="none")
            .execution_options(synchronize_session=False))
    return changed


@writes
def save_settings(actor, choices: dict[str, str]) -> dict[str, Delivery]:
    """Choose, per kind of notification, immediate email, the daily digest or in-app only.

    Kinds not named keep their setting. Returns the choices that changed.

    :raises PermissionDenied: for anonymous users.
    :raises ValidationError: for an unknown kind or delivery.
    """
    if not is_member(actor):
        raise PermissionDenied(_("Log in to choose how you are notified."))
    wanted = {}
    for kind, value in choices.items():
        if kind not in KINDS:
            raise ValidationError(_("This form is damaged or out of date. Reload the page and try again."))
        try:
            wanted[kind] = Delivery(value)
        except ValueError:
            raise ValidationError(_("Choose one of the three ways for each kind of notification."), kind) from None
    user = lock_row(User, actor.id)  # two saves at once must not both insert the same setting
    changed = _store_settings(user, wanted)
    if changed:
        record_event(actor, "notifications.settings_changed", user,
                     data={kind: delivery.value for kind, delivery in changed.items()})
    return changed


@dataclass(frozen=True)
class Unsubscribe:
    """What an unsubscribe link stops, for its confirmation page."""

    user_id: int
    email: str
    scope: str
    kinds: tuple[str, ...]
    locale: str | None = None  # the account's language: the page speaks it, as the email did

    @property
    def kind_label(self) -> str:
        """The kind a one-kind link stops, named as on the settings page, in the reader's language ("" for others)."""
        kind = KINDS.get(self.scope)
        return str(kind.label) if kind is not None else ""


def _scope_kinds(user: User, scope: str) -> tuple[str, ...]:
    """The kinds a scope covers for this user: one kind, those in the digest, or all."""
    if scope == EVERYTHING:
        return tuple(KINDS)
    if scope == DIGEST:
        return tuple(kind for kind, delivery in delivery_settings(user).items() if delivery is Delivery.DIGEST)
    return (scope,)


def read_unsubscribe(token: str) -> Unsubscribe:
    """Check an unsubscribe link and say what it stops (nothing is changed).

    :raises NotFound: for a damaged or forged link, or an account that no longer exists.
    """
    user_id, scope = read_unsubscribe_token(token)
    user = db.session.get(User, user_id)
    if user is None or (scope not in KINDS and scope not in (DIGEST, EVERYTHING)):
        raise NotFound(_("This unsubscribe link is not valid."))
    return Unsubscribe(user.id, user.email, scope, _scope_kinds(user, scope), user.locale)


@writes
def unsubscribe(token: str, everything: bool = False) -> Unsubscribe:
    """Apply an unsubscribe link: its kinds (or every kind) become in-app only. Works without logging in.

    The signed token is the proof of who asks; the change is recorded as theirs.

    :raises NotFound: for a damaged or forged link.
    """
    user_id, scope = read_unsubscribe_token(token)
    if scope not in KINDS and scope not in (DIGEST, EVERYTHING):
        raise NotFound(_("This unsubscribe link is not valid."))
    user = lock_row(User, user_id)
    if user is None:
        raise NotFound(_("This unsubscribe link is not valid."))
    scope = EVERYTHING if everything else scope
    kinds = _scope_kinds(user, scope)
    changed = _store_settings(user, {kind: Delivery.APP for kind in kinds})
    record_event(user, "notifications.unsubscribed", user,
                 data={"scope": scope, "kinds": sorted(changed), "via": "email link"})
    return Unsubscribe(user.id, user.email, scope, kinds, user.locale)
