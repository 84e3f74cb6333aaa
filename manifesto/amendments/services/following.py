"""Following the text: rebase open amendments onto each new version of their section."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import insert, select

from ...audit.services import record_event
from ...documents import services as documents
from ...documents.models import Document, Section, SectionVersion
from ...extensions import db
from ...locking import lock_rows, require_held
from ...text.merge import carry_over, rebase
from ..models import Amendment, AmendmentRevision, Kind, Status
from ..wording import note_data
from .core import describe, touch

# While a decision carries an amendment into the text, the session remembers
# which one: what follows from it (other amendments now conflicting) names it.
_CAUSE = "amendments.decision_in_progress"


@contextmanager
def decision_in_progress(amendment: Amendment, status: Status):
    """Mark the text changes made inside the block as the result of accepting ``amendment``."""
    db.session.info[_CAUSE] = {"after": {"amendment_id": amendment.id, "code": amendment.code,
                                         "decision": status.value}}
    try:
        yield
    finally:
        db.session.info.pop(_CAUSE, None)


# While a change records the events of many amendments at once (those that follow a new version),
# the session holds the batch: listeners to ``event_recorded`` may keep part of their work for its end.
_BATCH = "amendments.events_batch"


@contextmanager
def recording_together() -> Iterator[None]:
    """Record the events of the block as one batch, inside the running transaction.

    A listener to ``event_recorded`` that would do the same work for each
    event (the notifications' fan-out asks who hears, then writes) may hold
    it: it registers, under its own name in :func:`events_batch`, a callback
    that does the work for all the held events when the block ends. Nested
    blocks make one batch, the outermost's. When the block raises, nothing
    held is done: the transaction is not going to commit.
    """
    if events_batch() is not None:
        yield
        return
    finish: dict[str, Callable[[], None]] = {}
    db.session.info[_BATCH] = finish
    try:
        yield
    finally:
        db.session.info.pop(_BATCH, None)
    for callback in finish.values():
        callback()


def events_batch() -> dict[str, Callable[[], None]] | None:
    """The running batch of events (see :func:`recording_together`): its end's callbacks by name, or None."""
    return db.session.info.get(_BATCH)


def followed_from() -> dict:
    """The decision the running change follows from, as audit data (empty for a direct edit)."""
    return dict(db.session.info.get(_CAUSE) or {})


def _with_cause(code: str, cause: dict, **params) -> dict:
    """A revision note that says which decision it followed from."""
    after = cause.get("after")
    return note_data(code, after={"code": after["code"], "decision": after["decision"]} if after else None, **params)
from .collisions import update_collisions


def rebase_one(amendment: Amendment, document: Document, new: SectionVersion, actor,
                entry: documents.SectionEntry | None = None) -> bool:
    """Move one amendment onto ``new`` by three-way merge, or mark it conflicted; True when clean."""
    clean, record = _rebase(amendment, document, new, actor, entry)
    record()
    return clean


def _rebase(amendment: Amendment, document: Document, new: SectionVersion, actor,
            entry: documents.SectionEntry | None,
            revisions: list[dict] | None = None) -> tuple[bool, Callable[[], object]]:
    """Rebase one amendment (see :func:`rebase_one`) and keep its revision; return its audit event, to record.

    Whether it rebased cleanly, and the call that records what happened to
    it: a caller that moves many amendments writes all of them in one flush
    (and their ``revisions``, collected, in one insert) before recording
    their events, one by one and in the same order.
    """
    base = db.session.get(SectionVersion, amendment.base_version_id)
    if amendment.kind == Kind.DELETE:
        merged_body, conflicts, heading_conflict = None, [], False
    else:
        result = rebase(base.body, amendment.proposed_body, new.body)
        merged_body, conflicts = result.text, result.conflicts
        proposed_heading = amendment.proposed_heading
        heading_conflict = bool(proposed_heading and new.heading != base.heading
                                and proposed_heading != new.heading)
    if conflicts or heading_conflict:
        amendment.conflicted = True
        amendment.conflict = {
            "version": new.number,
            "regions": [{"base": c.base_text, "proposal": c.proposal_text, "new": c.new_text} for c in conflicts],
            "heading": {"base": base.heading, "proposal": amendment.proposed_heading, "new": new.heading}
            if heading_conflict else None,
        }
        # Nobody chose this: it follows from the change, so the system records it, naming the cause.
        cause = followed_from()
        touch(amendment, None, _with_cause("conflicted", cause, version=new.number), revisions=revisions)
        return False, partial(record_event, None, "amendment.conflicted", amendment, document_id=document.id,
                              reason=f"Version {new.number} of the section changed the same passage.",
                              data={"version": new.number, **cause})
    if amendment.kind == Kind.MODIFY:
        amendment.proposed_body = merged_body
        if amendment.proposed_heading == new.heading:
            amendment.proposed_heading = None
        if merged_body == new.body and not amendment.proposed_heading:
            # The new version already says what the amendment asked for.
            amendment.base_version_id = new.id
            describe(amendment, document, new, entry=entry)
            amendment.conflicted = True
            amendment.conflict = {"version": new.number, "regions": [], "heading": None, "absorbed": True}
            cause = followed_from()
            touch(amendment, None, _with_cause("absorbed", cause, version=new.number), revisions=revisions)
            return False, partial(
                record_event, None, "amendment.conflicted", amendment, document_id=document.id,
                reason=f"Version {new.number} of the section already says what the amendment asked for.",
                data={"version": new.number, "absorbed": True, **cause})
    amendment.base_version_id = new.id
    amendment.conflicted, amendment.conflict = False, None
    describe(amendment, document, new, entry=entry)
    touch(amendment, actor, note_data("rebased", version=new.number), revisions=revisions)
    return True, partial(record_event, actor, "amendment.rebased", amendment, document_id=document.id,
                         data={"version": new.number})


def _lock_undecided(section: Section, *conditions) -> list[Amendment]:
    """Lock the section's undecided amendments (not inserts) that meet ``conditions``, by ascending id.

    The caller holds the section's lock, so no amendment of it can be
    proposed, withdrawn or decided meanwhile; the filter is checked again on
    the locked rows all the same.
    """
    require_held("sections", section.id)
    undecided = (Amendment.section_id == section.id, Amendment.kind != Kind.INSERT.value,
                 Amendment.status.in_([Status.SUBMITTED.value, Status.DRAFT.value]), *conditions)
    ids = db.session.scalars(select(Amendment.id).where(*undecided)).all()
    return [a for a in lock_rows(Amendment, ids)
            if a.status in (Status.SUBMITTED, Status.DRAFT) and a.kind != Kind.INSERT]


def follow_new_version(section: Section, *, document: Document, version: SectionVersion, actor, **_kw) -> None:
    """Rebase every undecided amendment of a section onto its new version (same transaction)."""
    amendments = _lock_undecided(section, Amendment.base_version_id != version.id)
    if not amendments:
        return
    # Their base versions, loaded at once and kept (the list) while each amendment reads its own by id.
    _bases = _versions({amendment.base_version_id for amendment in amendments})
    entry = documents.section_entry(document, section)  # once, not per amendment
    revisions: list[dict] = []
    events = [_rebase(amendment, document, version, actor, entry, revisions)[1] for amendment in amendments]
    _write(revisions)
    with recording_together():
        for record in events:
            record()
    db.session.flush()
    update_collisions(section.id)


def _write(revisions: list[dict]) -> None:
    """Write the amendments that followed a change: their UPDATEs in one flush, their ``revisions`` in one insert.

    Their events are recorded afterwards, one by one, in the same order.
    """
    db.session.flush()
    if revisions:
        # A Core insert: the ORM would insert them one by one on SQLite, to learn ids nobody reads here.
        db.session.execute(insert(AmendmentRevision.__table__), revisions)


def _versions(ids: set[int | None]) -> list[SectionVersion]:
    """Load the versions of ``ids`` that the session does not hold yet, in one query.

    The caller keeps the list while it reads them by id: the session keeps
    only the objects someone refers to.
    """
    missing = sorted(i for i in ids if i is not None
                     and db.session.identity_map.get(db.session.identity_key(SectionVersion, i)) is None)
    if not missing:
        return []
    return list(db.session.scalars(select(SectionVersion).where(SectionVersion.id.in_(missing))))


def follow_retirement(section: Section, *, document: Document, actor, **_kw) -> None:
    """When a section leaves the text, its open amendments cannot be accepted as they are."""
    amendments = _lock_undecided(section)
    if not amendments:
        return
    cause = followed_from()
    revisions: list[dict] = []
    for amendment in amendments:
        amendment.conflicted = True
        amendment.conflict = {"retired": True, "regions": [], "heading": None}
        touch(amendment, None, _with_cause("retired", cause), revisions=revisions)
    _write(revisions)
    with recording_together():
        for amendment in amendments:
            record_event(None, "amendment.conflicted", amendment, document_id=document.id,
                         reason="The section was retired.", data={"retired": True, **cause})
    db.session.flush()
    update_collisions(section.id)


def resolution_start(amendment: Amendment) -> tuple[str | None, str | None]:
    """Heading and text the editor starts from when resolving a conflict.

    The current version with every change of the amendment that still
    applies; the competing passages keep the current text and are shown to
    the author beside the editor. Other amendments start from their own text.
    """
    if not amendment.conflicted or amendment.kind != Kind.MODIFY:
        return amendment.proposed_heading, amendment.proposed_body
    section = db.session.get(Section, amendment.section_id)
    current = db.session.get(SectionVersion, section.current_version_id)
    base = db.session.get(SectionVersion, amendment.base_version_id)
    body = carry_over(base.body, amendment.proposed_body, current.body)
    heading = amendment.proposed_heading if not (amendment.conflict or {}).get("heading") else current.heading
    return heading, body
