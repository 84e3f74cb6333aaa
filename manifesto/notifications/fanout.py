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
Whatever the number of events, too, when they are recorded as one batch
(``amendments.services.following.recording_together``: the amendments that
follow a new version, and the decision that made it): each event's plan is
made when it is recorded, and all of them are delivered when the batch ends,
with one query and one insert for the lot.

A summary is stored as text, so it is written in its reader's language: the
rule's words are rendered once per (reason, language) of the people who
hear, under ``force_locale`` of their profile's language (English without
one). Only the interface's words are translated; names, headings, codes and
reasons stay as they were written. Older rows keep their English summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, insert, null, or_, select

from ..accounts.models import User
from ..amendments.models import Amendment, Kind, Status
from ..amendments.services import following
from ..discussion.models import Comment
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE, supported
from ..services import after_commit, in_write_transaction, utcnow
from .kinds import default_delivery
from .links import one_line, site_path
from .mail import enqueue_event_mail
from .models import Delivery, Follow, Notification, NotificationSetting
from .services import add_follow

SUMMARY_LIMIT = 500
EMAIL_STATE = {Delivery.IMMEDIATE: "queued", Delivery.DIGEST: "digest", Delivery.APP: "none"}
# The words of a notification, by (kind, via): via is "amendment" or "section" for followers, None
# for an author. Called inside ``force_locale`` of the reader's language.
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


def _slug(document_id: int) -> str:
    """A document's slug (usually from the session: the service has loaded it)."""
    return db.session.get(Document, document_id).slug


def _heading(section_id: int | None) -> str | None:
    """The current heading of a section (document text: never translated), None when there is none."""
    section = db.session.get(Section, section_id) if section_id else None
    version = db.session.get(SectionVersion, section.current_version_id) if section is not None else None
    return version.heading if version is not None else None


def _quoted(heading: str | None) -> str:
    """A section's heading quoted the reader's way, or "a section" when it has none."""
    return _("“%(heading)s”", heading=heading) if heading is not None else _("a section")


def _who(actor) -> str:
    """The actor's name, as the summary starts."""
    return actor.name if actor is not None else _("Someone")


def _label(amendment: Amendment) -> str:
    """An amendment as people cite it: its code (or "draft") and what it changes, in the reader's language."""
    code = amendment.code if amendment.number else _("draft")
    title = amendment.display_title  # "§3, lignes 12–14": worded in the current (the reader's) language
    return f"{code} ({title})" if title else code


def _with_reason(text: str, reason: str | None) -> str:
    """Add a decision's or a moderator's public reason (the person's own words) to a summary."""
    reason = " ".join((reason or "").split())
    return _("%(text)s Reason: %(reason)s", text=text, reason=reason) if reason else text


def _amendment_link(amendment: Amendment, anchor: str | None = None) -> str:
    """The amendment page, at ``anchor``."""
    return site_path("amendments.show", anchor, slug=_slug(amendment.document_id), amendment_id=amendment.id)


# --- Rules, one per action ----------------------------------------------------------------------
# Each rule returns a Plan whose ``summary`` writes the words in the current locale: the fan-out
# calls it once per language of the people who hear, inside ``force_locale``.

DECIDED = ("amendment.accepted", "amendment.accepted_modified", "amendment.rejected", "amendment.obsolete",
           "amendment.merged")


def _decision_words(action: str, who: str, label: str, into: str | None, yours: bool) -> str:
    """One decision as a sentence: "X accepted your amendment A-001." (``yours``) or "X accepted A-001."."""
    if action == "amendment.accepted":
        if yours:
            return _("%(who)s accepted your amendment %(label)s.", who=who, label=label)
        return _("%(who)s accepted %(label)s.", who=who, label=label)
    if action == "amendment.accepted_modified":
        if yours:
            return _("%(who)s accepted your amendment %(label)s with modifications.", who=who, label=label)
        return _("%(who)s accepted %(label)s with modifications.", who=who, label=label)
    if action == "amendment.rejected":
        if yours:
            return _("%(who)s rejected your amendment %(label)s.", who=who, label=label)
        return _("%(who)s rejected %(label)s.", who=who, label=label)
    if action == "amendment.obsolete":
        if yours:
            return _("%(who)s marked your amendment %(label)s obsolete.", who=who, label=label)
        return _("%(who)s marked %(label)s obsolete.", who=who, label=label)
    if into is None:
        if yours:
            return _("%(who)s marked your amendment %(label)s as merged into another amendment.", who=who,
                     label=label)
        return _("%(who)s marked %(label)s as merged into another amendment.", who=who, label=label)
    if yours:
        return _("%(who)s marked your amendment %(label)s as merged into %(into)s.", who=who, label=label, into=into)
    return _("%(who)s marked %(label)s as merged into %(into)s.", who=who, label=label, into=into)


def _decided(event, amendment: Amendment, actor) -> Plan:
    """A decision: the author, the amendment's followers, and (when the text changed) the section's."""
    into = db.session.get(Amendment, amendment.merged_into_id).code if amendment.merged_into_id else None
    accepted = event.action in ("amendment.accepted", "amendment.accepted_modified")
    changes_section = accepted and amendment.kind in (Kind.MODIFY, Kind.DELETE)
    heading = _heading(amendment.section_id) if changes_section else None

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        words = _decision_words(event.action, _who(actor), _label(amendment), into, yours=via is None)
        if via is None:
            text = words
        elif via == "amendment":
            text = _("An amendment you follow: %(text)s", text=words)
        elif amendment.kind == Kind.DELETE:
            text = _("%(heading)s, a section you follow, leaves the text: %(text)s", heading=_quoted(heading),
                     text=words)
        else:
            text = _("%(heading)s, a section you follow, has a new version: %(text)s", heading=_quoted(heading),
                     text=words)
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
        return _("Your amendment %(label)s now applies to version %(version)s of %(heading)s: "
                 "%(who)s changed the section and your change was carried over.",
                 label=_label(amendment), version=version, heading=_quoted(heading), who=_who(actor))

    plan = Plan(amendment.document_id, _amendment_link(amendment, "changes"), summary)
    plan.tell(amendment.author_id, "rebase")
    return plan


def _conflict_reason(event) -> str:
    """Why an amendment conflicts, in the reader's language (from the event's data; older events: its reason)."""
    data = event.data or {}
    if data.get("retired"):
        return _("The section was retired.")
    if data.get("version") and data.get("absorbed"):
        return _("Version %(version)s of the section already says what the amendment asked for.",
                 version=data["version"])
    if data.get("version"):
        return _("Version %(version)s of the section changed the same passage.", version=data["version"])
    return " ".join((event.reason or "").split())


def _conflicted(event, amendment: Amendment, actor) -> Plan:
    """The text moved under an amendment and it no longer applies: its author and followers hear."""
    heading = _heading(amendment.section_id)

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        reason, label, where = _conflict_reason(event), _label(amendment), _quoted(heading)
        if via is None:
            if reason:
                return _("Your amendment %(label)s conflicts with a change to %(heading)s. %(reason)s "
                         "Resolve the conflict before it can be accepted.", label=label, heading=where, reason=reason)
            return _("Your amendment %(label)s conflicts with a change to %(heading)s. "
                     "Resolve the conflict before it can be accepted.", label=label, heading=where)
        if reason:
            return _("An amendment you follow, %(label)s, conflicts with a change to %(heading)s. %(reason)s",
                     label=label, heading=where, reason=reason)
        return _("An amendment you follow, %(label)s, conflicts with a change to %(heading)s.",
                 label=label, heading=where)

    plan = Plan(amendment.document_id, _amendment_link(amendment, "changes"), summary)
    plan.tell(amendment.author_id, "conflict")
    if amendment.status != Status.DRAFT:
        plan.follows.append(("amendment", amendment.id))
    return plan


def _supported(event, amendment: Amendment, actor) -> Plan:
    """Someone co-signs an amendment: its author hears."""
    count = (event.data or {}).get("supporters", amendment.support_count) or 0

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        return ngettext("%(who)s supports your amendment %(label)s (%(num)s supporter now).",
                        "%(who)s supports your amendment %(label)s (%(num)s supporters now).",
                        count, who=_who(actor), label=_label(amendment))

    plan = Plan(amendment.document_id, _amendment_link(amendment, "support"), summary)
    plan.tell(amendment.author_id, "support")
    return plan


FOLLOWED_CHANGES = ("amendment.edited", "amendment.conflict_resolved", "amendment.withdrawn")


def _change_words(action: str, who: str, label: str) -> str:
    """An amendment's change as a sentence: "X edited A-001."."""
    if action == "amendment.edited":
        return _("%(who)s edited %(label)s.", who=who, label=label)
    if action == "amendment.conflict_resolved":
        return _("%(who)s resolved the conflict of %(label)s.", who=who, label=label)
    return _("%(who)s withdrew %(label)s.", who=who, label=label)


def _changed(event, amendment: Amendment, actor) -> Plan | None:
    """An amendment's text or state changed: its followers hear (drafts have none)."""
    if amendment.status == Status.DRAFT:
        return None

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads: only followers hear of these changes."""
        return _("An amendment you follow: %(text)s",
                 text=_change_words(event.action, _who(actor), _label(amendment)))

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
        return _("%(who)s proposed %(label)s on %(heading)s, a section you follow.",
                 who=_who(actor), label=_label(amendment), heading=_quoted(heading))

    plan = Plan(amendment.document_id, _amendment_link(amendment), summary)
    plan.follows.append(("section", amendment.section_id))
    return plan


def _moderated_amendment(event, amendment: Amendment, actor) -> Plan:
    """A moderator hides or restores an amendment: its author hears."""
    hidden = event.action == "amendment.hidden"

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        if hidden:
            return _with_reason(_("%(who)s hid your amendment %(label)s.", who=_who(actor), label=_label(amendment)),
                                event.reason)
        return _("%(who)s restored your amendment %(label)s.", who=_who(actor), label=_label(amendment))

    plan = Plan(amendment.document_id, _amendment_link(amendment), summary)
    plan.tell(amendment.author_id, "moderation")
    return plan


SECTION_CHANGES = ("section.edited", "section.reverted", "section.retired", "section.restored")


def _section_words(action: str, who: str, heading: str, version: int) -> str:
    """A section's change as a sentence, for its followers."""
    if action == "section.edited":
        return _("%(who)s wrote version %(version)s of %(heading)s, a section you follow.",
                 who=who, version=version, heading=heading)
    if action == "section.reverted":
        return _("%(who)s restored an earlier text of %(heading)s, a section you follow (version %(version)s).",
                 who=who, version=version, heading=heading)
    if action == "section.retired":
        return _("%(who)s took %(heading)s, a section you follow, out of the text.", who=who, heading=heading)
    return _("%(who)s brought %(heading)s, a section you follow, back into the text.", who=who, heading=heading)


def _section_changed(event, section: Section, actor) -> Plan:
    """A section's text or place in the document changed: its followers hear."""
    heading = _heading(section.id)
    version = section.version_count

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        return _with_reason(_section_words(event.action, _who(actor), _quoted(heading), version), event.reason)

    plan = Plan(section.document_id, site_path("documents.section", "history", slug=_slug(section.document_id),
                                                   section_id=section.id), summary)
    plan.follows.append(("section", section.id))
    return plan


def _comment_place(comment: Comment) -> tuple[str, Amendment | None, str | None]:
    """Where a comment is: (link, amendment or None, the section's heading for a comment on a section)."""
    slug = _slug(comment.document_id)
    if comment.amendment_id:
        amendment = db.session.get(Amendment, comment.amendment_id)
        link = site_path("amendments.show", comment.anchor, slug=slug, amendment_id=amendment.id)
        return link, amendment, None
    link = site_path("documents.section", comment.anchor, slug=slug, section_id=comment.section_id)
    return link, None, _heading(comment.section_id)


def _where(amendment: Amendment | None, heading: str | None) -> str:
    """A comment's place in words, in the reader's language: the amendment, else the section's heading."""
    return _label(amendment) if amendment is not None else _quoted(heading)


def _commented(event, comment: Comment, actor) -> Plan:
    """A new comment: the author of the comment replied to, the amendment's author, and the followers."""
    link, amendment, heading = _comment_place(comment)
    parent = db.session.get(Comment, comment.parent_id) if comment.parent_id else None

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        who, where = _who(actor), _where(amendment, heading)
        if kind == "reply":
            return _("%(who)s replied to your comment on %(where)s.", who=who, where=where)
        if kind == "comment":
            return _("%(who)s commented on your amendment %(where)s.", who=who, where=where)
        if via == "amendment":
            return _("%(who)s commented on %(where)s, an amendment you follow.", who=who, where=where)
        return _("%(who)s commented on %(where)s, a section you follow.", who=who, where=where)

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
    link, amendment, heading = _comment_place(comment)
    hidden = event.action == "comment.hidden"

    def summary(kind: str, via: str | None) -> str:

        """The words one person reads, by the reason they hear (``via`` None: directly)."""
        who, where = _who(actor), _where(amendment, heading)
        if hidden:
            return _with_reason(_("%(who)s hid your comment on %(where)s.", who=who, where=where), event.reason)
        return _("%(who)s restored your comment on %(where)s.", who=who, where=where)

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


def _recipients(plans: list[Plan], actor_id: int | None) -> list[tuple]:
    """One query for everyone who hears about any of ``plans``.

    Rows of (user, followed target, its id, chosen kind, chosen delivery,
    language); ``actor_id`` (the actor of every plan) is left out at once.
    """
    direct_ids = sorted({user_id for plan in plans for user_id in plan.direct})
    kinds = {kind for plan in plans for kind in plan.direct.values()}
    follows = sorted({follow for plan in plans for follow in plan.follows})
    query = select(User.id, Follow.target if follows else null().label("target"),
                   Follow.target_id if follows else null().label("target_id"), NotificationSetting.kind,
                   NotificationSetting.delivery, User.locale).select_from(User)
    reach = [User.id.in_(direct_ids)] if direct_ids else []
    if follows:
        kinds.add("following")
        # One condition per kind of target, with the ids as a list: the statement keeps one shape (and one
        # compiled form in the cache) whatever the number of events and targets.
        ids: dict[str, list[int]] = {}
        for target, target_id in follows:
            ids.setdefault(target, []).append(target_id)
        following = or_(*(and_(Follow.target == target, Follow.target_id.in_(ids[target])) for target in sorted(ids)))
        query = query.outerjoin(Follow, and_(Follow.user_id == User.id, following))
        # Who follows, as a list of ids: the engines look people up by key (the follows by their target's
        # index), where "the joined follow exists" made them read every account.
        reach.append(User.id.in_(select(Follow.user_id).where(following)))
    query = query.outerjoin(NotificationSetting, and_(NotificationSetting.user_id == User.id,
                                                      NotificationSetting.kind.in_(sorted(kinds))))
    query = query.where(User.active.is_(True), or_(*reach))
    if actor_id is not None:
        query = query.where(User.id != actor_id)
    return db.session.execute(query).all()


def _people(plan: Plan, found: list[tuple], actor) -> dict[int, dict]:
    """Who hears about one plan, from the recipients of its batch: by user, the targets followed and settings."""
    actor_id = actor.id if actor is not None else None
    targets = set(plan.follows)
    people: dict[int, dict] = {}
    for user_id, target, target_id, kind, delivery, locale in found:
        followed = target is not None and (target, target_id) in targets
        if user_id == actor_id or not (followed or user_id in plan.direct):
            continue  # never about one's own action; someone who hears of another event of the batch
        person = people.setdefault(user_id, {"via": set(), "chosen": {},
                                             "language": supported(locale) or DEFAULT_LANGUAGE})
        if followed:
            person["via"].add(target)
        if kind:
            person["chosen"][kind] = delivery
    return people


def _rows(plan: Plan, event, actor, people: dict[int, dict], now) -> list[dict]:
    """The notifications of one event, one per person who hears, in their language."""
    rows = []
    # The same words for everyone who hears for one reason and reads one language: a summary is
    # stored as text, so it is written in its reader's language (their profile's, else English).
    summaries: dict[tuple[str, str | None, str], str] = {}
    for user_id, person in sorted(people.items()):
        kind = plan.direct.get(user_id, "following")
        via = None if user_id in plan.direct else ("amendment" if "amendment" in person["via"] else "section")
        try:
            delivery = Delivery(person["chosen"].get(kind) or default_delivery(kind))
        except ValueError:
            delivery = default_delivery(kind)
        language = person["language"]
        summary = summaries.get((kind, via, language))
        if summary is None:
            with force_locale(language):
                summary = one_line(str(plan.summary(kind, via)))
            if len(summary) > SUMMARY_LIMIT:
                summary = summary[:SUMMARY_LIMIT - 1] + "…"
            summaries[kind, via, language] = summary
        rows.append({"user_id": user_id, "document_id": plan.document_id, "kind": kind,
                     "actor_id": actor.id if actor is not None else None, "event_id": event.id,
                     "object_type": event.object_type, "object_id": event.object_id, "summary": summary,
                     "link": plan.link, "created_at": now, "email_state": EMAIL_STATE[delivery]})
    return rows


def deliver(plan: Plan, event, actor) -> int:
    """Write the plan's notifications in one insert and queue their immediate emails; returns how many."""
    return deliver_all([(plan, event, actor)])


def deliver_all(planned: list[tuple[Plan, object, object]]) -> int:
    """Write the notifications of several events: one recipients query, one insert; returns how many.

    ``planned`` holds (plan, event, actor) in the order the events were
    recorded; each event's notifications are those :func:`deliver` would
    write for it alone, in the same order, and its immediate emails are
    queued after the commit, one job per event.
    """
    planned = [(plan, event, actor) for plan, event, actor in planned if plan.direct or plan.follows]
    if not planned:
        return 0
    actors = {actor.id if actor is not None else None for _plan, _event, actor in planned}
    found = _recipients([plan for plan, _event, _actor in planned], next(iter(actors)) if len(actors) == 1 else None)
    now = utcnow()
    rows, mailed = [], []
    for plan, event, actor in planned:
        written = _rows(plan, event, actor, _people(plan, found, actor), now)
        rows.extend(written)
        if any(row["email_state"] == "queued" for row in written):
            mailed.append(event.id)
    if not rows:
        return 0
    # A Core insert: the ORM's bulk machinery would only add work for rows nobody loads here.
    db.session.execute(insert(Notification.__table__), rows)
    if mailed and in_write_transaction():
        for event_id in mailed:
            after_commit(partial(enqueue_event_mail, event_id))
    return len(rows)


class _Held:
    """The plans of a batch of events (see ``following.recording_together``), delivered when it ends."""

    def __init__(self) -> None:
        """An empty batch."""
        self.planned: list[tuple[Plan, object, object]] = []

    def __call__(self) -> None:
        """Deliver every plan of the batch at once."""
        planned, self.planned = self.planned, []
        deliver_all(planned)


def fan_out(event, *, obj, actor=None, **_kw) -> None:
    """Turn one recorded event into notifications, inside its transaction.

    Inside a batch of events (the amendments that follow a new version, and
    the decision that made it), the plan is made now and delivered with the
    others' when the batch ends: one query for who hears, one insert.
    """
    rule = RULES.get(event.action)
    if rule is None:
        return
    expected = OBJECTS[event.action.split(".", 1)[0]]
    if not isinstance(obj, expected):
        return
    plan = rule(event, obj, actor)
    if plan is None:
        return
    batch = following.events_batch()
    if batch is None:
        deliver(plan, event, actor)
        return
    held = batch.get("notifications")
    if held is None:
        held = batch["notifications"] = _Held()
    held.planned.append((plan, event, actor))
