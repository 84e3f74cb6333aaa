"""Fan-out: every recorded change that concerns someone becomes a notification, in the same transaction.

The audit trail's ``event_recorded`` signal fires inside the transaction of
every state change. For the actions below, a rule says who hears about it
and in which words: the author of the amendment or comment concerned
(decisions, rebases, conflicts, supports, comments, replies, moderation),
and the followers of the section or amendment (as "following"). Each person
gets at most one notification per event, for the most specific reason, and
never one about their own action. Deactivated accounts get none.

Set-based whatever the number of followers: one query finds the recipients
with their delivery settings, one bulk insert writes the notifications, and
the emails to send at once are queued after the commit, one job per event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, insert, null, or_, select

from ..accounts.models import User
from ..amendments.models import Amendment, Kind, Status
from ..audit.services import event_recorded
from ..discussion.models import Comment
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..services import after_commit, in_write_transaction, utcnow
from .kinds import default_delivery
from .models import Delivery, Follow, Notification, NotificationSetting
from .services import add_follow

SUMMARY_LIMIT = 500
EMAIL_STATE = {Delivery.IMMEDIATE: "queued", Delivery.DIGEST: "digest", Delivery.APP: "none"}
# Who hears as a follower: "amendment" or "section" followers; an author hears as None.
Summary = Callable[[str, str | None], str]


@dataclass
class Plan:
    """Who hears about one event, and what they read."""

    document_id: int | None
    link: str
    summary: Summary
    direct: dict[int, str] = field(default_factory=dict)  # user id -> kind, most specific first
    follows: list[tuple[str, int]] = field(default_factory=list)  # (target, id) whose followers hear

    def tell(self, user_id: int | None, kind: str) -> None:
        """Notify one person for a reason, unless a more specific one was given first."""
        if user_id is not None:
            self.direct.setdefault(user_id, kind)


def site_path(endpoint: str, anchor: str | None = None, **values) -> str:
    """The path of a page, built without a request (the fan-out also runs in commands and workers)."""
    adapter = current_app.url_map.bind("localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    path = adapter.build(endpoint, values)
    return f"{path}#{anchor}" if anchor else path


def _slug(document_id: int) -> str:
    """A document's slug (usually from the session: the service has loaded it)."""
    return db.session.get(Document, document_id).slug


def _heading(section_id: int | None) -> str:
    """The current heading of a section, quoted."""
    section = db.session.get(Section, section_id) if section_id else None
    version = db.session.get(SectionVersion, section.current_version_id) if section is not None else None
    return f"“{version.heading}”" if version is not None else "a section"


def _who(actor) -> str:
    """The actor's name, as the summary starts."""
    return actor.name if actor is not None else "Someone"


def _label(amendment: Amendment) -> str:
    """An amendment as people cite it: its code (or "draft") and what it changes."""
    code = amendment.code if amendment.number else "draft"
    return f"{code} ({amendment.title})" if amendment.title else code


def _with_reason(text: str, reason: str | None) -> str:
    """Add a decision's or a moderator's public reason to a summary."""
    reason = " ".join((reason or "").split())
    return f"{text} Reason: {reason}" if reason else text


def _amendment_link(amendment: Amendment, anchor: str | None = None) -> str:
    """The amendment page, at ``anchor``."""
    return site_path("amendments.show", anchor, slug=_slug(amendment.document_id), amendment_id=amendment.id)


# --- Rules, one per action ----------------------------------------------------------------------

DECIDED = {
    "amendment.accepted": "{who} accepted {what}.",
    "amendment.accepted_modified": "{who} accepted {what} with modifications.",
    "amendment.rejected": "{who} rejected {what}.",
    "amendment.obsolete": "{who} marked {what} obsolete.",
    "amendment.merged": "{who} marked {what} as merged into {into}.",
}


def _decided(event, amendment: Amendment, actor) -> Plan:
    """A decision: the author, the amendment's followers, and (when the text changed) the section's."""
    into = db.session.get(Amendment, amendment.merged_into_id).code if amendment.merged_into_id else "another"
    template = DECIDED[event.action]
    label = _label(amendment)
    accepted = event.action in ("amendment.accepted", "amendment.accepted_modified")
    changes_section = accepted and amendment.kind in (Kind.MODIFY, Kind.DELETE)
    heading = _heading(amendment.section_id) if changes_section else ""

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        if via is None:
            text = template.format(who=_who(actor), what=f"your amendment {label}", into=into)
        elif via == "amendment":
            text = "An amendment you follow: " + template.format(who=_who(actor), what=label, into=into)
        elif amendment.kind == Kind.DELETE:
            text = f"{heading}, a section you follow, leaves the text: " + template.format(
                who=_who(actor), what=label, into=into)
        else:
            text = f"{heading}, a section you follow, has a new version: " + template.format(
                who=_who(actor), what=label, into=into)
        return _with_reason(text, event.reason)

    plan = Plan(amendment.document_id, _amendment_link(amendment, "history"), summary)
    plan.tell(amendment.author_id, "decision")
    plan.follows.append(("amendment", amendment.id))
    if changes_section:
        plan.follows.append(("section", amendment.section_id))
    return plan


def _rebased(event, amendment: Amendment, actor) -> Plan:
    """The text moved under an amendment and it still applies: its author hears."""
    version = (event.data or {}).get("version")
    heading = _heading(amendment.section_id)

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        return (f"Your amendment {_label(amendment)} now applies to version {version} of {heading}: "
                f"{_who(actor)} changed the section and your change was carried over.")

    plan = Plan(amendment.document_id, _amendment_link(amendment, "changes"), summary)
    plan.tell(amendment.author_id, "rebase")
    return plan


def _conflicted(event, amendment: Amendment, actor) -> Plan:
    """The text moved under an amendment and it no longer applies: its author and followers hear."""
    heading = _heading(amendment.section_id)
    reason = " ".join((event.reason or "").split())

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        if via is None:
            return (f"Your amendment {_label(amendment)} conflicts with a change to {heading}. {reason} "
                    "Resolve the conflict before it can be accepted.").replace("  ", " ")
        return f"An amendment you follow, {_label(amendment)}, conflicts with a change to {heading}. {reason}".strip()

    plan = Plan(amendment.document_id, _amendment_link(amendment, "changes"), summary)
    plan.tell(amendment.author_id, "conflict")
    if amendment.status != Status.DRAFT:
        plan.follows.append(("amendment", amendment.id))
    return plan


def _supported(event, amendment: Amendment, actor) -> Plan:
    """Someone co-signs an amendment: its author hears."""
    count = (event.data or {}).get("supporters", amendment.support_count)

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        people = "1 supporter" if count == 1 else f"{count} supporters"
        return f"{_who(actor)} supports your amendment {_label(amendment)} ({people} now)."

    plan = Plan(amendment.document_id, _amendment_link(amendment, "support"), summary)
    plan.tell(amendment.author_id, "support")
    return plan


FOLLOWED_CHANGES = {
    "amendment.edited": "{who} edited {what}.",
    "amendment.conflict_resolved": "{who} resolved the conflict of {what}.",
    "amendment.withdrawn": "{who} withdrew {what}.",
}


def _changed(event, amendment: Amendment, actor) -> Plan | None:
    """An amendment's text or state changed: its followers hear (drafts have none)."""
    if amendment.status == Status.DRAFT:
        return None
    template = FOLLOWED_CHANGES[event.action]

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        what = f"your amendment {_label(amendment)}" if via is None else _label(amendment)
        text = template.format(who=_who(actor), what=what)
        return text if via is None else "An amendment you follow: " + text

    plan = Plan(amendment.document_id, _amendment_link(amendment, "changes"), summary)
    plan.follows.append(("amendment", amendment.id))
    return plan


def _submitted(event, amendment: Amendment, actor) -> Plan | None:
    """A new amendment: its author follows it from now on; the followers of its section hear."""
    add_follow(amendment.author_id, "amendment", amendment.id)
    if amendment.kind == Kind.INSERT or not amendment.section_id:
        return None
    heading = _heading(amendment.section_id)

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        return f"{_who(actor)} proposed {_label(amendment)} on {heading}, a section you follow."

    plan = Plan(amendment.document_id, _amendment_link(amendment), summary)
    plan.follows.append(("section", amendment.section_id))
    return plan


def _moderated_amendment(event, amendment: Amendment, actor) -> Plan:
    """A moderator hides or restores an amendment: its author hears."""
    hidden = event.action == "amendment.hidden"

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        if hidden:
            return _with_reason(f"{_who(actor)} hid your amendment {_label(amendment)}.", event.reason)
        return f"{_who(actor)} restored your amendment {_label(amendment)}."

    plan = Plan(amendment.document_id, _amendment_link(amendment), summary)
    plan.tell(amendment.author_id, "moderation")
    return plan


SECTION_CHANGES = {
    "section.edited": "{who} wrote version {version} of {heading}, a section you follow.",
    "section.reverted": "{who} restored an earlier text of {heading}, a section you follow (version {version}).",
    "section.retired": "{who} took {heading}, a section you follow, out of the text.",
    "section.restored": "{who} brought {heading}, a section you follow, back into the text.",
}


def _section_changed(event, section: Section, actor) -> Plan:
    """A section's text or place in the document changed: its followers hear."""
    template = SECTION_CHANGES[event.action]
    heading = _heading(section.id)

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        return _with_reason(template.format(who=_who(actor), heading=heading, version=section.version_count),
                            event.reason)

    plan = Plan(section.document_id, site_path("documents.section", "history", slug=_slug(section.document_id),
                                                   section_id=section.id), summary)
    plan.follows.append(("section", section.id))
    return plan


def _comment_place(comment: Comment) -> tuple[str, str, Amendment | None]:
    """Where a comment is: (link, words, amendment or None)."""
    slug = _slug(comment.document_id)
    if comment.amendment_id:
        amendment = db.session.get(Amendment, comment.amendment_id)
        link = site_path("amendments.show", comment.anchor, slug=slug, amendment_id=amendment.id)
        return link, _label(amendment), amendment
    link = site_path("documents.section", comment.anchor, slug=slug, section_id=comment.section_id)
    return link, _heading(comment.section_id), None


def _commented(event, comment: Comment, actor) -> Plan:
    """A new comment: the author of the comment replied to, the amendment's author, and the followers."""
    link, where, amendment = _comment_place(comment)
    parent = db.session.get(Comment, comment.parent_id) if comment.parent_id else None

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        if kind == "reply":
            return f"{_who(actor)} replied to your comment on {where}."
        if kind == "comment":
            return f"{_who(actor)} commented on your amendment {where}."
        noun = "an amendment" if via == "amendment" else "a section"
        return f"{_who(actor)} commented on {where}, {noun} you follow."

    plan = Plan(comment.document_id, link, summary)
    if parent is not None:
        plan.tell(parent.author_id, "reply")
    if amendment is not None:
        plan.tell(amendment.author_id, "comment")
        plan.follows.append(("amendment", amendment.id))
    else:
        plan.follows.append(("section", comment.section_id))
    return plan


def _moderated_comment(event, comment: Comment, actor) -> Plan:
    """A moderator hides or restores a comment: its author hears."""
    link, where, _ = _comment_place(comment)
    hidden = event.action == "comment.hidden"

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        if hidden:
            return _with_reason(f"{_who(actor)} hid your comment on {where}.", event.reason)
        return f"{_who(actor)} restored your comment on {where}."

    plan = Plan(comment.document_id, link, summary)
    plan.tell(comment.author_id, "moderation")
    return plan


RULES: dict[str, Callable[..., Plan | None]] = {
    **{action: _decided for action in DECIDED},
    "amendment.rebased": _rebased,
    "amendment.conflicted": _conflicted,
    "amendment.supported": _supported,
    **{action: _changed for action in FOLLOWED_CHANGES},
    "amendment.submitted": _submitted,
    "amendment.hidden": _moderated_amendment,
    "amendment.restored": _moderated_amendment,
    **{action: _section_changed for action in SECTION_CHANGES},
    "comment.created": _commented,
    "comment.hidden": _moderated_comment,
    "comment.restored": _moderated_comment,
}
# Which model each rule expects as the event's object.
OBJECTS = {"amendment": Amendment, "section": Section, "comment": Comment}


# --- Delivery ------------------------------------------------------------------------------------


def _recipients(plan: Plan, actor_id: int | None) -> list[tuple[int, str | None, str | None, str | None]]:
    """One query: (user, followed target, chosen kind, chosen delivery) rows for everyone who hears."""
    direct_ids = list(plan.direct)
    kinds = set(plan.direct.values())
    query = select(User.id, Follow.target if plan.follows else null(), NotificationSetting.kind,
                   NotificationSetting.delivery).select_from(User)
    reach = [User.id.in_(direct_ids)] if direct_ids else []
    if plan.follows:
        kinds.add("following")
        query = query.outerjoin(Follow, and_(Follow.user_id == User.id, or_(
            *(and_(Follow.target == target, Follow.target_id == target_id) for target, target_id in plan.follows))))
        reach.append(Follow.id.is_not(None))
    query = query.outerjoin(NotificationSetting, and_(NotificationSetting.user_id == User.id,
                                                      NotificationSetting.kind.in_(sorted(kinds))))
    query = query.where(User.active.is_(True), or_(*reach))
    if actor_id is not None:
        query = query.where(User.id != actor_id)
    return db.session.execute(query).all()


def deliver(plan: Plan, event, actor) -> int:
    """Write the plan's notifications in one insert and queue their immediate emails; returns how many."""
    if not plan.direct and not plan.follows:
        return 0
    people: dict[int, dict] = {}
    for user_id, via, kind, delivery in _recipients(plan, actor.id if actor is not None else None):
        person = people.setdefault(user_id, {"via": set(), "chosen": {}})
        if via:
            person["via"].add(via)
        if kind:
            person["chosen"][kind] = delivery
    if not people:
        return 0
    now = utcnow()
    rows = []
    summaries: dict[tuple[str, str | None], str] = {}  # the same words for everyone who hears for one reason
    for user_id, person in sorted(people.items()):
        kind = plan.direct.get(user_id, "following")
        via = None if user_id in plan.direct else ("amendment" if "amendment" in person["via"] else "section")
        try:
            delivery = Delivery(person["chosen"].get(kind) or default_delivery(kind))
        except ValueError:
            delivery = default_delivery(kind)
        summary = summaries.get((kind, via))
        if summary is None:
            summary = " ".join(plan.summary(kind, via).split())
            if len(summary) > SUMMARY_LIMIT:
                summary = summary[:SUMMARY_LIMIT - 1] + "…"
            summaries[kind, via] = summary
        rows.append({"user_id": user_id, "document_id": plan.document_id, "kind": kind,
                     "actor_id": actor.id if actor is not None else None, "event_id": event.id,
                     "object_type": event.object_type, "object_id": event.object_id, "summary": summary,
                     "link": plan.link, "created_at": now, "email_state": EMAIL_STATE[delivery]})
    # A Core insert: the ORM's bulk machinery would only add work for rows nobody loads here.
    db.session.execute(insert(Notification.__table__), rows)
    if any(row["email_state"] == "queued" for row in rows) and in_write_transaction():
        from .queue import enqueue_event_mail

        event_id = event.id
        after_commit(lambda: enqueue_event_mail(event_id))
    return len(rows)


@event_recorded.connect
def _fan_out(event, *, obj, actor=None, **_kw) -> None:
    """Turn one recorded event into notifications, inside its transaction."""
    rule = RULES.get(event.action)
    if rule is None:
        return
    expected = OBJECTS[event.action.split(".", 1)[0]]
    if not isinstance(obj, expected):
        return
    plan = rule(event, obj, actor)
    if plan is not None:
        deliver(plan, event, actor)
