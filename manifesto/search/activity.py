"""A document's activity, from its audit trail: what happened since my last visit, newest first.

Every state change records an audit event with its document, so the
activity page is a paginated read of ``audit_events`` by ``(document_id, id)``,
told in words, with a link to each thing that changed. A logged-in reader's
:class:`Visit` remembers the newest event they have seen; events after it
are marked new, and viewing the page moves it on.

What the page never shows: reports (a moderator's business), anything about
a draft (only its author may know it exists), and the words of a hidden
amendment or of any comment (a hidden comment's reason is public; its text
is not, and comments are linked, never quoted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from ..accounts.rules import is_member
from ..amendments.models import Amendment, Status
from ..amendments.wording import display_title
from ..audit.labels import automatic
from ..audit.models import AuditEvent
from ..discussion.models import Comment
from ..documents import services as documents
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..pagination import Page, paginate
from ..services import DatabaseUnavailable, ServiceError, utcnow, writes
from .models import Visit

log = logging.getLogger(__name__)

PER_PAGE = 50
REASON_CHARS = 300  # a long reason is cut on the activity page; the full text is one click away

# What a reader can narrow the page to: label, and the actions it covers.
DECISIONS = ("amendment.accepted", "amendment.accepted_modified", "amendment.rejected", "amendment.obsolete",
             "amendment.merged")
FILTERS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "amendments": (_l("New and changed amendments"), (
        "amendment.submitted", "amendment.edited", "amendment.conflict_resolved", "amendment.withdrawn",
        "amendment.rebased", "amendment.conflicted", "amendment.hidden", "amendment.restored")),
    "decisions": (_l("Decisions"), DECISIONS),
    "text": (_l("New versions of the text"), (
        "section.created", "section.edited", "section.reverted", "section.moved", "section.retired",
        "section.restored", "section.created_by_amendment", "section.retired_by_amendment", "section.merged",
        "release.published", "release.marked_final") + DECISIONS[:2]),
    "comments": (_l("Comments"), ("comment.created", "comment.edited", "comment.deleted", "comment.hidden",
                                  "comment.restored")),
    "supports": (_l("Supports"), ("amendment.supported", "amendment.support_withdrawn")),
}

# How each action reads, as one sentence: %(actor)s (who did it), %(object)s (what it
# changed, a link), and %(version)s where it says. Read in the reader's language when shown.
PHRASES: dict[str, Any] = {
    "amendment.submitted": _l("%(actor)s proposed %(object)s"),
    "amendment.edited": _l("%(actor)s edited %(object)s"),
    "amendment.conflict_resolved": _l("%(actor)s resolved the conflict of %(object)s"),
    "amendment.withdrawn": _l("%(actor)s withdrew %(object)s"),
    "amendment.supported": _l("%(actor)s supported %(object)s"),
    "amendment.support_withdrawn": _l("%(actor)s withdrew their support from %(object)s"),
    "amendment.accepted": _l("%(actor)s accepted %(object)s"),
    "amendment.accepted_modified": _l("%(actor)s accepted %(object)s with modifications"),
    "amendment.rejected": _l("%(actor)s rejected %(object)s"),
    "amendment.obsolete": _l("%(actor)s marked %(object)s obsolete"),
    "amendment.merged": _l("%(actor)s marked %(object)s as merged into another amendment"),
    # Passive: these follow from someone else's change to the text (no actor).
    "amendment.rebased": _l("%(object)s was moved onto version %(version)s of its section"),
    "amendment.conflicted": None,  # told by the audit labels: what it followed from
    "amendment.hidden": _l("%(actor)s hid %(object)s"),
    "amendment.restored": _l("%(actor)s restored %(object)s"),
    "release.published": _l("%(actor)s published the release %(object)s"),
    "release.marked_final": _l("%(actor)s made %(object)s the final text"),
    "section.created": _l("%(actor)s added %(object)s"),
    "section.edited": _l("%(actor)s wrote version %(version)s of %(object)s"),
    "section.reverted": _l("%(actor)s reverted %(object)s to an earlier text (version %(version)s)"),
    "section.moved": _l("%(actor)s moved %(object)s"),
    "section.retired": _l("%(actor)s retired %(object)s"),
    "section.restored": _l("%(actor)s restored %(object)s"),
    "section.created_by_amendment": _l("%(actor)s added %(object)s by accepting an amendment"),
    "section.retired_by_amendment": _l("%(actor)s retired %(object)s by accepting an amendment"),
    "section.merged": _l("%(actor)s wrote version %(version)s of %(object)s by merging its amendments"),
    "comment.created": _l("%(actor)s commented on %(object)s"),
    "comment.edited": _l("%(actor)s edited a comment on %(object)s"),
    "comment.deleted": _l("%(actor)s deleted a comment on %(object)s"),
    "comment.hidden": _l("%(actor)s hid a comment on %(object)s"),
    "comment.restored": _l("%(actor)s restored a comment on %(object)s"),
    "document.created": _l('%(actor)s created <a href="%(url)s">the document</a>'),
    "document.updated": _l('%(actor)s changed the settings of <a href="%(url)s">the document</a>'),
}
# Variants of a phrase, by what the event says.
MOVED = {"up": _l("%(actor)s moved %(object)s up"), "down": _l("%(actor)s moved %(object)s down")}
REPLIED = _l("%(actor)s replied to a comment on %(object)s")
# Events whose reason is the author's own words (shown unless the amendment is hidden);
# the reasons of every other event are public by nature (decisions, edits, moderation).
AUTHORS_WORDS = frozenset({"amendment.submitted", "amendment.conflict_resolved", "amendment.withdrawn"})
MODERATION = frozenset({"amendment.hidden", "amendment.restored", "comment.hidden", "comment.restored"})


# ------------------------------------------------------------------ visits

def mark_visit(user, document: Document) -> int | None:
    """Move the reader's visit to the newest event; return the event it stood at before.

    None for anonymous readers and on a first visit (nothing is "new" then).
    Never fails the page: when the visit cannot be written, it stays where
    it was and the page is shown all the same.
    """
    if not is_member(user):
        return None
    previous = db.session.scalar(select(Visit.last_event_id).where(
        Visit.user_id == user.id, Visit.document_id == document.id))
    newest = db.session.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.document_id == document.id)) or 0
    if previous is None or newest > previous:
        try:
            record_visit(user.id, document.id, newest)
        except (ServiceError, DatabaseUnavailable, DBAPIError):
            log.warning("could not record the visit of user %s to document %s", user.id, document.id, exc_info=True)
    return previous


@writes
def record_visit(user_id: int, document_id: int, last_event_id: int) -> None:
    """Remember that a reader has seen a document's activity up to ``last_event_id`` (it only moves forward).

    One upsert, so two tabs opened at once cannot collide or move it back.
    """
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(Visit).values(user_id=user_id, document_id=document_id, last_event_id=last_event_id,
                                        visited_at=utcnow())
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[Visit.user_id, Visit.document_id],
        set_={"last_event_id": stmt.excluded.last_event_id, "visited_at": stmt.excluded.visited_at},
        where=Visit.last_event_id < stmt.excluded.last_event_id))


def last_visit(user, document: Document):
    """When the reader last looked at the document's activity (None if never, or anonymous)."""
    if not is_member(user):
        return None
    return db.session.scalar(select(Visit.visited_at).where(Visit.user_id == user.id,
                                                            Visit.document_id == document.id))


# -------------------------------------------------------------------- feed

@dataclass
class Item:
    """One event as the activity page tells it: ``text`` is the whole sentence, with its links."""

    event: AuditEvent
    new: bool
    text: Markup
    label: str = ""
    endpoint: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    anchor: str | None = None
    reason: str | None = None
    note: str | None = None


@dataclass
class ActivityPage:
    """A page of items, the pagination, and how many events are new since the last visit."""

    items: list[Item]
    pagination: Page[AuditEvent]
    since: int | None
    new_count: int
    what: str | None


def _visible(document: Document):
    """Conditions that keep reports and anything about a draft off the page."""
    # Drafts cannot be commented on (the discussion area refuses), so their events are all on the amendment.
    drafts = select(Amendment.id).where(Amendment.document_id == document.id, Amendment.status == Status.DRAFT.value)
    return and_(
        AuditEvent.document_id == document.id,
        AuditEvent.action.in_(list(PHRASES)),
        ~and_(AuditEvent.object_type == "amendments", AuditEvent.object_id.in_(drafts)),
    )


def feed(document: Document, *, since: int | None = None, what: str | None = None, page: int = 1,
         per_page: int = PER_PAGE) -> ActivityPage:
    """One page of the document's activity, newest first, told in words (a fixed number of queries).

    ``since`` is the last event the reader had seen: later ones are marked new.
    ``what`` narrows the page to one of :data:`FILTERS`.
    """
    what = what if what in FILTERS else None
    condition = _visible(document)
    if what:
        condition = and_(condition, AuditEvent.action.in_(FILTERS[what][1]))
    pagination = paginate(select(AuditEvent).options(joinedload(AuditEvent.actor)).where(condition)
                          .order_by(AuditEvent.id.desc()), page, per_page)
    new_count = 0
    if since is not None:
        new_count = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                      .where(condition, AuditEvent.id > since))
    items = _tell(document, pagination.items, since)
    return ActivityPage(items, pagination, since, new_count, what)


def _tell(document: Document, events: list[AuditEvent], since: int | None) -> list[Item]:
    """Put events into words, loading what they refer to in one query per kind of object."""
    ids: dict[str, set[int]] = {"amendments": set(), "sections": set(), "comments": set()}
    for event in events:
        if event.object_type in ids:
            ids[event.object_type].add(event.object_id)
    comments = {}
    if ids["comments"]:
        comments = {c.id: c for c in db.session.execute(
            select(Comment.id, Comment.section_id, Comment.amendment_id, Comment.parent_id)
            .where(Comment.id.in_(ids["comments"]))).all()}
        for c in comments.values():
            if c.amendment_id is not None:
                ids["amendments"].add(c.amendment_id)
            elif c.section_id is not None:
                ids["sections"].add(c.section_id)
    amendments = {}
    if ids["amendments"]:
        amendments = {a.id: a for a in db.session.execute(
            select(Amendment.id, Amendment.number, Amendment.title, Amendment.summary, Amendment.hidden_at)
            .where(Amendment.id.in_(ids["amendments"]))).all()}
    sections, numbers = {}, {}
    if ids["sections"]:
        sections = dict(db.session.execute(
            select(Section.id, SectionVersion.heading).join(SectionVersion, SectionVersion.id == Section.current_version_id)
            .where(Section.id.in_(ids["sections"]))).all())
        numbers = {entry.section_id: entry.number for entry in documents.outline(document)}
    return [_item(document, event, since, comments, amendments, sections, numbers) for event in events]


def _section_label(section_id: int | None, sections: dict, numbers: dict) -> str:
    """"§3 Heading", or the heading of a retired section."""
    heading = sections.get(section_id)
    number = numbers.get(section_id)
    if heading is None:
        return _("a section")
    return f"§{number} {heading}" if number else _("%(heading)s (retired section)", heading=heading)


def _amendment_label(row) -> str:
    """"A-014 (§3, lines 4–5)"."""
    if row is None or not row.number:
        return _("an amendment")
    code = f"A-{row.number:03d}"
    title = display_title(row.summary, row.title)
    return f"{code} ({title})" if title else code


def _item(document: Document, event: AuditEvent, since: int | None, comments: dict, amendments: dict,
          sections: dict, numbers: dict) -> Item:
    """One event in words, with its link, and its reason when it may be shown."""
    data = event.data or {}
    item = Item(event=event, new=since is not None and event.id > since, text=Markup(""), reason=event.reason)
    phrase = PHRASES.get(event.action)
    slug = document.slug
    if event.object_type == "amendments":
        row = amendments.get(event.object_id)
        item.label = _amendment_label(row)
        item.endpoint, item.args = "amendments.show", {"slug": slug, "amendment_id": event.object_id}
        if row is not None and row.hidden_at is not None and event.action not in MODERATION:
            item.note = _("hidden by a moderator")
            item.reason = None
    elif event.object_type == "sections":
        item.label = _section_label(event.object_id, sections, numbers)
        item.endpoint, item.args = "documents.section", {"slug": slug, "section_id": event.object_id}
        if event.action == "section.moved" and data.get("direction") in MOVED:
            phrase = MOVED[data["direction"]]
    elif event.object_type == "comments":
        comment = comments.get(event.object_id)
        if event.action not in MODERATION:
            item.reason = None  # a comment's own words are never repeated here
        if comment is not None and comment.amendment_id is not None:
            item.label = _amendment_label(amendments.get(comment.amendment_id))
        elif comment is not None:
            item.label = _section_label(comment.section_id, sections, numbers)
        else:
            item.label = _("a comment")
        if comment is not None:
            # The comment's permanent address leads to the page that shows it, at its anchor.
            item.endpoint, item.args = "discussion.comment", {"slug": slug, "comment_id": comment.id}
            if event.action == "comment.created" and comment.parent_id is not None:
                phrase = REPLIED
    elif event.object_type == "releases":
        # The release's name and address are in the event, so this costs no query.
        item.label = data.get("name") or _("a release")
        if data.get("slug"):
            item.endpoint, item.args = "releases.show", {"slug": slug, "release_slug": data["slug"]}
    elif event.object_type == "documents":
        item.endpoint, item.args = "documents.read", {"slug": slug}
        item.reason = None
    if item.reason and len(item.reason) > REASON_CHARS:
        item.reason = item.reason[:REASON_CHARS].rstrip() + "…"
    item.text = _sentence(event, phrase, item)
    return item


def _sentence(event: AuditEvent, phrase, item: Item) -> Markup:
    """The item's sentence in the reader's language: the actor in bold, the object as its link."""
    url = url_for(item.endpoint, _anchor=item.anchor, **item.args) if item.endpoint else ""
    obj = Markup('<a href="{}">{}</a>').format(url, item.label) if url else escape(item.label)
    if event.action == "amendment.conflicted":
        return Markup(automatic(event, subject=obj))
    data = event.data or {}
    version = (event.to_state or "").removeprefix("v") or data.get("version", "") or "?"
    actor = event.actor.name if event.actor is not None else _("The system")
    values = {"actor": Markup("<strong>{}</strong>").format(actor), "object": obj, "version": version, "url": url}
    if phrase is None:  # an action this page does not list (never shown: the query keeps to PHRASES)
        return Markup("{} {} {}").format(values["actor"], event.action, obj)
    # Our own catalogue's sentences (some hold a link's markup); every value is escaped.
    return Markup(str(phrase)) % values
