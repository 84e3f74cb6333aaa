"""Which audit events become webhook events, and what a receiver is told of each.

The audit trail is the one feed of what happened (``audit.services.event_recorded``);
a webhook event is a public fact drawn from it:

=====================  ==========================================================
``amendment.submitted``  ``amendment.submitted``
``amendment.decided``    ``amendment.accepted``, ``accepted_modified``, ``rejected``,
                         ``obsolete``, ``merged`` (``data.decision`` says which)
``amendment.rebased``    ``amendment.rebased``
``amendment.conflicted`` ``amendment.conflicted``
``version.written``      ``section.created``, ``section.edited``, ``section.reverted``,
                         ``section.created_by_amendment``, and an accepted change
``release.published``    ``release.published``
``comment.posted``       ``comment.created``
=====================  ==========================================================

Only what a visitor could see is sent, judged when the message is written
(in the job, after the commit): never a draft or a hidden amendment, never a
hidden or deleted comment, nor one on a hidden amendment; no reasons (a
moderator's may be private), no emails, no names. The body follows Standard
Webhooks: ``{"type", "timestamp", "data"}``, data being language-neutral
(codes, ids, states, absolute URLs of the page and of the API resource).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...amendments.models import Amendment, Kind, Status
from ...amendments.wording import ENGLISH
from ...audit.models import AuditEvent
from ...discussion.models import Comment
from ...documents.models import Document, Section, SectionVersion
from ...extensions import db
from ...notifications.links import site_path
from ...releases.models import Release
from ...services import as_utc

# Every event type a webhook may ask for, with its name on the admin's page.
EVENTS = {
    "amendment.submitted": _l("An amendment is submitted"),
    "amendment.decided": _l("An amendment is decided (accepted, rejected, obsolete, merged)"),
    "amendment.rebased": _l("An amendment follows a new version of its section"),
    "amendment.conflicted": _l("An amendment conflicts with a new version of its section"),
    "version.written": _l("A new version of a section is written"),
    "release.published": _l("A release is published"),
    "comment.posted": _l("A comment is posted"),
}
PING = "webhook.ping"  # the admin's "send a test event"

_DECIDED = {f"amendment.{status.value}" for status in (Status.ACCEPTED, Status.ACCEPTED_MODIFIED, Status.REJECTED,
                                                        Status.OBSOLETE, Status.MERGED)}
# Audit action -> webhook event type.
ACTIONS: dict[str, str] = {
    "amendment.submitted": "amendment.submitted",
    **{action: "amendment.decided" for action in _DECIDED},
    "amendment.rebased": "amendment.rebased",
    "amendment.conflicted": "amendment.conflicted",
    "section.created": "version.written",
    "section.edited": "version.written",
    "section.reverted": "version.written",
    "section.created_by_amendment": "version.written",
    "release.published": "release.published",
    "comment.created": "comment.posted",
}
# Accepting a change writes a version, recorded by the amendment's event alone: it tells of both.
_WRITES_VERSION = {"amendment.accepted", "amendment.accepted_modified"}


def followed(action: str) -> bool:
    """Whether an audit action may become a webhook event (no query: the listener asks it of every event)."""
    return action in ACTIONS


def event_types(action: str) -> tuple[str, ...]:
    """The webhook event types an audit action may become (an accepted change: a decision and a version)."""
    if action not in ACTIONS:
        return ()
    return (ACTIONS[action], "version.written") if action in _WRITES_VERSION else (ACTIONS[action],)


@dataclass(frozen=True)
class Message:
    """One webhook event, ready to send: its document, the audit event it tells of, its type and body."""

    document_id: int
    event_id: int | None
    type: str
    body: dict[str, Any]


def _api(slug: str, *parts: Any) -> str:
    """The path of an API v1 resource of a document."""
    return "/".join([f"/api/v1/documents/{slug}", *(str(part) for part in parts)])


class _Writer:
    """Writes the messages of a batch of audit events with a fixed number of queries (one per kind of object)."""

    def __init__(self, events: list[AuditEvent], base_url: str):
        self.base = base_url.rstrip("/")
        self.events = events

        def load(model, ids):
            """Rows of ``model`` by id, in one query."""
            ids = {i for i in ids if i}
            return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}

        by_type: dict[str, set[int]] = {}
        for event in events:
            by_type.setdefault(event.object_type, set()).add(event.object_id)
        self.amendments = load(Amendment, by_type.get("amendments", ()))
        self.comments = load(Comment, by_type.get("comments", ()))
        self.releases = load(Release, by_type.get("releases", ()))
        on_amendments = {c.amendment_id for c in self.comments.values() if c.amendment_id}
        self.amendments.update(load(Amendment, on_amendments - set(self.amendments)))
        version_ids = {a.result_version_id for a in self.amendments.values() if a.result_version_id}
        self.versions = load(SectionVersion, version_ids)
        section_ids = by_type.get("sections", set()) | {v.section_id for v in self.versions.values()}
        self.sections = load(Section, section_ids)
        # The versions the section events wrote, for their headings: one query for them all.
        marks = {(e.object_id, _version_number(e.to_state)) for e in events if e.object_type == "sections"}
        numbers = {number for _, number in marks if number}
        self.headings = {(v.section_id, v.number): v.heading for v in db.session.scalars(
            select(SectionVersion).where(SectionVersion.section_id.in_({s for s, _ in marks}),
                                         SectionVersion.number.in_(numbers)))} if numbers else {}
        self.documents = load(Document, {e.document_id for e in events})

    def url(self, endpoint: str, **values) -> str:
        """A page of the site as a full address."""
        return self.base + site_path(endpoint, **values)

    def messages(self) -> list[Message]:
        """The messages of the batch, in the order of the events; what a visitor could not see is left out."""
        found = []
        for event in self.events:
            document = self.documents.get(event.document_id)
            if document is None or event.action not in ACTIONS:
                continue
            kind = ACTIONS[event.action]
            data = self.data(kind, event, document)
            if data is not None:
                found.append(self.message(document, event, kind, data))
            if event.action in _WRITES_VERSION:
                data = self.accepted_version(event, document)
                if data is not None:
                    # Its own message of the same audit event: one delivery per webhook and event type.
                    found.append(Message(document.id, event.id, "version.written",
                                         body("version.written", iso(event.at), data)))
        return found

    def message(self, document: Document, event: AuditEvent, kind: str, data: dict) -> Message:
        """One message for an audit event."""
        return Message(document.id, event.id, kind, body(kind, iso(event.at), data))

    def data(self, kind: str, event: AuditEvent, document: Document) -> dict | None:
        """The ``data`` of a webhook event, or None when a visitor could not see what it tells of."""
        slug = document.slug
        if kind.startswith("amendment."):
            amendment = self.amendments.get(event.object_id)
            if not _visible_amendment(amendment):
                return None
            data = {"document": slug, "amendment": _amendment(amendment),
                    "title": f"{amendment.code} {amendment.title_in(words=ENGLISH)}".strip()[:200],  # lines as now
                    "url": self.url("amendments.show", slug=slug, amendment_id=amendment.id),
                    "api_url": self.base + _api(slug, "amendments", amendment.id)}
            if kind == "amendment.decided":
                data["decision"] = event.to_state
                if event.to_state == Status.MERGED.value and amendment.merged_into_id:
                    data["merged_into"] = amendment.merged_into_id
            elif kind in ("amendment.rebased", "amendment.conflicted") and (event.data or {}).get("version"):
                data["version"] = (event.data or {}).get("version")
            return data
        if kind == "version.written":
            section = self.sections.get(event.object_id)
            number = _version_number(event.to_state)
            if section is None or number is None:
                return None
            return self.version(slug, section, number, self.headings.get((section.id, number), ""))
        if kind == "release.published":
            release = self.releases.get(event.object_id)
            if release is None:
                return None
            return {"document": slug, "release": {"id": release.id, "slug": release.slug, "name": release.name,
                                                  "final": bool(release.is_final)},
                    "title": release.name,
                    "url": self.url("releases.show", slug=slug, release_slug=release.slug),
                    "api_url": self.base + _api(slug, "releases", release.slug)}
        if kind == "comment.posted":
            comment = self.comments.get(event.object_id)
            if comment is None or comment.hidden_at is not None or comment.deleted_at is not None:
                return None
            if comment.amendment_id and not _visible_amendment(self.amendments.get(comment.amendment_id)):
                return None
            return {"document": slug,
                    "comment": {"id": comment.id, "target": comment.target, "section_id": comment.section_id,
                                "amendment_id": comment.amendment_id, "parent_id": comment.parent_id,
                                "thread_id": comment.thread_id},
                    "title": _excerpt(comment.body),
                    "url": self.url("discussion.comment", slug=slug, comment_id=comment.id),
                    "api_url": self.base + _api(slug, "comments", comment.id)}
        return None

    def version(self, slug: str, section: Section, number: int, heading: str) -> dict:
        """The data of a written version."""
        return {"document": slug, "section_id": section.id, "version": number, "title": heading,
                "url": self.url("documents.version", slug=slug, section_id=section.id, number=number),
                "api_url": self.base + _api(slug, "sections", section.id, "versions", number)}

    def accepted_version(self, event: AuditEvent, document: Document) -> dict | None:
        """The version an accepted change wrote (None for an insert or a deletion, told by their own events)."""
        amendment = self.amendments.get(event.object_id)
        if amendment is None or amendment.kind != Kind.MODIFY.value or not amendment.result_version_id:
            return None
        version = self.versions.get(amendment.result_version_id)
        section = self.sections.get(version.section_id) if version is not None else None
        if section is None:
            return None
        return self.version(document.slug, section, version.number, version.heading)


def _visible_amendment(amendment: Amendment | None) -> bool:
    """Whether a visitor sees this amendment: submitted once (not a draft) and not hidden."""
    return amendment is not None and amendment.status != Status.DRAFT.value and amendment.hidden_at is None


def _amendment(amendment: Amendment) -> dict:
    """What a receiver is told of an amendment."""
    return {"id": amendment.id, "code": amendment.code, "status": amendment.status, "kind": amendment.kind,
            "section_id": amendment.section_id}


def _version_number(state: str | None) -> int | None:
    """The number in a version mark ("v3" -> 3)."""
    if state and state.startswith("v") and state[1:].isdigit():
        return int(state[1:])
    return None


def _excerpt(text: str, limit: int = 80) -> str:
    """The start of a text on one line."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def iso(value) -> str:
    """A stored time as an ISO 8601 string in UTC ("2026-03-01T12:00:00.123456Z")."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


def body(kind: str, timestamp: str, data: dict) -> dict:
    """A Standard Webhooks body."""
    return {"type": kind, "timestamp": timestamp, "data": data}


def messages_of(event_ids: list[int], base_url: str) -> list[Message]:
    """The webhook messages of some audit events (in a fixed number of queries, whatever their number)."""
    if not event_ids:
        return []
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(event_ids)).order_by(AuditEvent.id)))
    return _Writer(events, base_url).messages()
