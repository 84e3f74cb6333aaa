"""Amendment services: propose, edit, support, decide, and follow the text.

Locks follow the protocol of ``manifesto.locking`` (document, then section,
then amendments): numbering takes the document, anything that changes which
amendments of a section are open (and so its collisions) takes the section,
and a change to one amendment takes that amendment. Every form carries the
amendment's ``revision``; a change made on an older revision is refused with
a ConflictError, never applied blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..audit.services import record_event
from ..documents import services as documents
from ..documents.models import Document, Section, SectionVersion
from ..documents.signals import section_retired, version_written
from ..extensions import db
from ..locking import lock_row, lock_rows, require_held
from ..services import ConflictError, NotFound, PermissionDenied, ValidationError, to_int, utcnow, writes
from ..text.diff import Hunk, changed_ranges, hunks_overlap, word_diff
from ..text.diff_html import render_inline, render_numbered, render_side_by_side
from ..text.rebase import carry_over, rebase
from ..text.lines import format_line_range
from .models import DECIDED, Amendment, AmendmentRevision, Collision, Kind, Status, Support

DECISIONS = {
    "accept": Status.ACCEPTED,
    "accept_modified": Status.ACCEPTED_MODIFIED,
    "reject": Status.REJECTED,
    "obsolete": Status.OBSOLETE,
    "merged": Status.MERGED,
}


# ---------------------------------------------------------------- permissions

def _member(user) -> bool:
    """An active, logged-in account."""
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_propose(user, document: Document) -> bool:
    """Logged-in people may propose while the amendment window is open."""
    return _member(user) and document.amendments_open()


def can_edit(user, amendment: Amendment) -> bool:
    """Authors edit their undecided amendments; moderators may resolve conflicts."""
    if not _member(user) or amendment.status not in (Status.DRAFT, Status.SUBMITTED):
        return False
    return user.id == amendment.author_id or (amendment.conflicted and user.is_moderator)


def can_withdraw(user, amendment: Amendment) -> bool:
    """Authors may withdraw their undecided amendments."""
    return _member(user) and user.id == amendment.author_id and amendment.status in (Status.DRAFT, Status.SUBMITTED)


def can_support(user, amendment: Amendment) -> bool:
    """Anyone but the author may co-sign an open amendment."""
    return _member(user) and user.id != amendment.author_id and amendment.status == Status.SUBMITTED


def can_decide(user, amendment: Amendment) -> bool:
    """Moderators decide open amendments, never their own."""
    return (_member(user) and user.is_moderator and user.id != amendment.author_id
            and amendment.status == Status.SUBMITTED)


def can_view(user, amendment: Amendment) -> bool:
    """Submitted amendments are public; drafts belong to their author."""
    return amendment.status != Status.DRAFT or (_member(user) and user.id == amendment.author_id)


# -------------------------------------------------------------------- loading

def get_amendment_or_404(document: Document, amendment_id: int, user=None) -> Amendment:
    """Return an amendment of ``document`` that ``user`` may see, with author and section.

    :raises NotFound: also for someone else's draft, which must not be seen to exist.
    """
    amendment = db.session.scalar(
        select(Amendment)
        .options(joinedload(Amendment.author), joinedload(Amendment.section),
                 joinedload(Amendment.base_version), joinedload(Amendment.decided_by),
                 joinedload(Amendment.result_version))
        .where(Amendment.id == amendment_id, Amendment.document_id == document.id))
    if amendment is None or not can_view(user, amendment):
        raise NotFound("There is no such amendment.")
    return amendment


def _lock(document_id: int, amendment_id: int, *,
          alone: bool = False) -> tuple[Document | None, Section | None, Amendment]:
    """Lock the document, the amendment's section and the amendment, in protocol order; return them fresh.

    ``alone`` locks only the amendment, for changes that touch nothing else
    (supports). An amendment's section never changes, so reading which one it
    is before the locks is safe.

    :raises NotFound: for an amendment of another document.
    """
    document = section = None
    if not alone:
        section_id = db.session.scalar(select(Amendment.section_id).where(Amendment.id == amendment_id,
                                                                           Amendment.document_id == document_id))
        document = documents.lock_document(document_id)
        if section_id is not None:
            section = documents.lock_section(document, section_id)
    amendment = lock_row(Amendment, amendment_id)
    if amendment is None or amendment.document_id != document_id:
        raise NotFound("There is no such amendment.")
    return document, section, amendment


def _check_revision(amendment: Amendment, revision: int | None, what: str) -> None:
    """Refuse to act on an amendment that changed since the form was shown.

    :raises ConflictError:
    """
    if revision is not None and to_int(revision) != amendment.revision:
        if amendment.status in DECIDED:
            message = (f"{amendment.code} was decided ({Status(amendment.status).label.lower()}) while you "
                       f"were {what}. Nothing was changed; your text is kept below.")
        else:
            message = (f"{amendment.code} changed while you were {what} (it is now at revision "
                       f"{amendment.revision}). Nothing was changed; review it and try again — your text is kept below.")
        raise ConflictError(message, current=amendment)


# ------------------------------------------------------------------ validation

def _clean_kind(kind: str) -> Kind:
    """Parse the kind of amendment."""
    try:
        return Kind(kind)
    except ValueError as exc:
        raise ValidationError("Choose what the amendment does.", "kind") from exc


def _clean_proposal(kind: Kind, base: SectionVersion | None, heading: str | None, body: str | None):
    """Validate the proposed heading and text for the amendment's kind.

    :raises ValidationError: on an empty, oversized or unchanged proposal.
    """
    if kind is Kind.DELETE:
        return None, None
    if kind is Kind.INSERT:
        return documents.clean_heading(heading), documents.clean_body(body)
    body = documents.clean_body(body)
    heading = (heading or "").strip() or None
    if heading is not None:
        heading = documents.clean_heading(heading)
        if heading == base.heading:
            heading = None
    if body == base.body and heading is None:
        raise ValidationError("The proposal is the same as the current text: change something first.", "body")
    return heading, body


# --------------------------------------------------------------- derived data

def _describe(amendment: Amendment, document: Document, base: SectionVersion | None,
              after_label: str | None = None, entry: documents.SectionEntry | None = None) -> None:
    """Compute and store the diffs, changed spans, line numbers and title of an amendment.

    Runs whenever the text or its base changes, never on a page view.
    ``entry`` (the section's number and first line) saves two queries per
    amendment when a caller describes many amendments of one section.
    """
    kind = Kind(amendment.kind)
    amendment.heading_diff_html = None
    amendment.hunks = None
    amendment.first_line = amendment.last_line = None
    if kind is Kind.INSERT:
        ops = [(1, amendment.proposed_body)]
        amendment.diff_inline_html, amendment.diff_side_html = render_inline(ops), render_side_by_side(ops)
        amendment.title = f"New section {after_label or 'at the start'}"
        return
    if entry is None:
        section = db.session.get(Section, amendment.section_id)
        section.current_version = db.session.get(SectionVersion, section.current_version_id)
        entry = documents.section_entry(document, section)
    offset = entry.first_line - 1 if not entry.section.retired else 0
    label = f"§{entry.number}" if entry.number else "Retired section"
    if kind is Kind.DELETE:
        ops = [(-1, base.body)]
        amendment.hunks = [[0, len(base.body)]]
        first, last = 1, max(base.line_count, 1)
        amendment.title = f"{label}: delete the section"
    else:
        ops = word_diff(base.body, amendment.proposed_body)
        hunks = changed_ranges(ops)
        amendment.hunks = [[h.start, h.end] for h in hunks]
        if amendment.proposed_heading and amendment.proposed_heading != base.heading:
            amendment.heading_diff_html = render_inline(word_diff(base.heading, amendment.proposed_heading))
        if hunks:
            first, _ = base.layout.lines_for_span(hunks[0].start, hunks[0].end) if base.line_count else (1, 1)
            _, last = base.layout.lines_for_span(hunks[-1].start, hunks[-1].end) if base.line_count else (1, 1)
            amendment.title = f"{label}, {format_line_range(first + offset, last + offset)}"
        else:
            first = last = None
            amendment.title = f"{label}, heading"
    if first is not None:
        amendment.first_line, amendment.last_line = first + offset, last + offset
    # Inline: the numbered lines of the base version, as delegates cite them;
    # a change shows only its lines and two around them, a deletion all lines.
    amendment.diff_inline_html = render_numbered(ops, base.layout, first_number=offset + 1,
                                                 context=None if kind is Kind.DELETE else 2)
    amendment.diff_side_html = render_side_by_side(ops)


def _record_revision(amendment: Amendment, actor, note: str) -> None:
    """Keep the amendment's current text as a numbered revision."""
    db.session.add(AmendmentRevision(
        amendment_id=amendment.id, number=amendment.revision, base_version_id=amendment.base_version_id,
        proposed_heading=amendment.proposed_heading, proposed_body=amendment.proposed_body,
        reason=amendment.reason, note=note, author_id=actor.id if actor else None))


def _touch(amendment: Amendment, actor, note: str) -> None:
    """Bump the revision after a change and keep it in the history."""
    amendment.revision += 1
    amendment.updated_at = utcnow()
    db.session.flush()
    _record_revision(amendment, actor, note)


def _update_collisions(section_id: int | None) -> None:
    """Recompute which open amendments of a section collide, from their stored spans.

    Two open amendments collide when they were written on the same version
    and their changed spans overlap or touch; deleting a section collides
    with every other change to it.
    """
    if section_id is None:
        return
    require_held("sections", section_id)  # collisions of a section are rewritten under its lock
    rows = db.session.execute(
        select(Amendment.id, Amendment.kind, Amendment.base_version_id, Amendment.hunks)
        .where(Amendment.section_id == section_id, Amendment.status == Status.SUBMITTED.value,
               Amendment.kind != Kind.INSERT.value, Amendment.conflicted.is_(False))
        .order_by(Amendment.id)).all()
    ids = [row.id for row in rows]
    db.session.execute(delete(Collision).where(or_(Collision.amendment_id.in_(select(Amendment.id).where(
        Amendment.section_id == section_id)), Collision.other_id.in_(select(Amendment.id).where(
            Amendment.section_id == section_id)))))
    if len(ids) < 2:
        return
    bases = {row.base_version_id for row in rows}
    texts = dict(db.session.execute(select(SectionVersion.id, SectionVersion.body)
                                    .where(SectionVersion.id.in_(bases))).all())
    pairs = []
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            if a.base_version_id != b.base_version_id:
                continue
            if a.kind == Kind.DELETE or b.kind == Kind.DELETE or _spans_overlap(
                    a.hunks or [], b.hunks or [], texts[a.base_version_id]):
                pairs.append({"amendment_id": a.id, "other_id": b.id})
    if pairs:
        db.session.execute(Collision.__table__.insert(), pairs)


def _spans_overlap(a: list, b: list, base: str) -> bool:
    """Whether any stored span of one amendment overlaps one of the other."""
    return any(hunks_overlap(Hunk(s1, e1, ""), Hunk(s2, e2, ""), base) for s1, e1 in a for s2, e2 in b)


def _next_number(document_id: int) -> int:
    """The next amendment number of a document (the caller holds the document lock)."""
    return (db.session.scalar(select(func.max(Amendment.number)).where(Amendment.document_id == document_id)) or 0) + 1


def _check_window(document: Document) -> None:
    """Refuse proposals and edits outside the amendment window.

    :raises ValidationError:
    """
    if not document.amendments_open():
        if document.phase != "amendments":
            raise ValidationError("Amendments cannot be proposed in the current phase of the document "
                                  "(“%s”). Your text is kept below." % document.phase_enum.label)
        raise ValidationError("The deadline for amendments has passed. Your text is kept below.")


# ------------------------------------------------------------------- services

@writes
def propose_amendment(actor, document_id: int, *, kind: str, section_id: int | None, heading: str | None,
                      body: str | None, reason: str, base_version_id: int | None = None,
                      submit: bool = True) -> Amendment:
    """Save a new amendment as a draft, or submit it.

    ``base_version_id`` is the version the author's editor started from; if
    the section has moved on since, the amendment is rebased at once.

    :raises PermissionDenied: for anonymous or deactivated users.
    :raises ValidationError: outside the amendment window, or on bad input.
    """
    if not _member(actor):
        raise PermissionDenied("Log in to propose an amendment.")
    document = documents.lock_document(document_id)  # amendment numbers are given under it
    _check_window(document)
    kind = _clean_kind(kind)
    reason = documents.clean_reason(reason)
    section = base = None
    after_label = None
    if kind is Kind.INSERT:
        if section_id:
            section = documents.get_section_or_404(document, to_int(section_id, "section_id"))
            after_label = f"after §{documents.section_entry(document, section).number}"
    else:
        if not section_id:
            raise ValidationError("Choose the section the amendment changes.", "section_id")
        section = documents.lock_section(document, to_int(section_id, "section_id"))
        if section.retired:
            raise ValidationError("This section has been retired; it can no longer be amended.", "section_id")
        base = section.current_version
        if base_version_id and to_int(base_version_id) != base.id:
            base = db.session.get(SectionVersion, to_int(base_version_id))
            if base is None or base.section_id != section.id:
                raise ValidationError("The amendment must be written on a version of this section.")
    heading, body = _clean_proposal(kind, base, heading, body)
    amendment = Amendment(
        document_id=document.id, kind=kind.value, author_id=actor.id, section_id=section.id if section else None,
        base_version_id=base.id if base else None, proposed_heading=heading, proposed_body=body, reason=reason,
        status=Status.SUBMITTED.value if submit else Status.DRAFT.value, revision=1)
    if submit:
        amendment.number = _next_number(document.id)
        amendment.submitted_at = utcnow()
    db.session.add(amendment)
    db.session.flush()
    _describe(amendment, document, base, after_label)
    _record_revision(amendment, actor, "submitted" if submit else "draft saved")
    record_event(actor, "amendment.submitted" if submit else "amendment.drafted", amendment,
                 document_id=document.id, to_state=amendment.status, reason=reason)
    if base is not None and base.id != section.current_version_id:
        _rebase_one(amendment, document, section.current_version, actor)
    if submit:
        _update_collisions(amendment.section_id if kind is not Kind.INSERT else None)
    return amendment


@writes
def edit_amendment(actor, document_id: int, amendment_id: int, *, heading: str | None, body: str | None,
                   reason: str, revision: int | None, submit: bool = False) -> Amendment:
    """Change an undecided amendment's text and reason; editing a conflicted one resolves it.

    The new text is written on the section's current version. ``submit``
    turns a draft into a submitted amendment.

    :raises PermissionDenied: unless the actor is the author (or a moderator resolving a conflict).
    :raises ValidationError: outside the window (except to resolve a conflict), or on bad input.
    :raises ConflictError: when the amendment changed since ``revision``.
    """
    document, section, amendment = _lock(document_id, amendment_id)  # numbering on submission needs the document
    _check_revision(amendment, revision, "editing it")
    if not can_edit(actor, amendment):
        raise PermissionDenied("Only the author can edit this amendment.")
    resolving = amendment.conflicted
    if not resolving:
        _check_window(document)
    kind = Kind(amendment.kind)
    reason = documents.clean_reason(reason)
    base = None
    after_label = None
    if kind is not Kind.INSERT:
        if section.retired:
            raise ValidationError("This section has been retired; the amendment can only be withdrawn "
                                  "or marked obsolete.")
        base = db.session.get(SectionVersion, section.current_version_id)
    elif section is not None:
        after_label = f"after §{documents.section_entry(document, section).number}"
    heading, body = _clean_proposal(kind, base, heading, body)
    before = amendment.status
    amendment.proposed_heading, amendment.proposed_body, amendment.reason = heading, body, reason
    amendment.base_version_id = base.id if base else None
    amendment.conflicted, amendment.conflict = False, None
    note = "conflict resolved" if resolving else "edited"
    if submit and amendment.status == Status.DRAFT:
        amendment.status = Status.SUBMITTED.value
        amendment.number = _next_number(document.id) if not amendment.number else amendment.number
        amendment.submitted_at = utcnow()
        note = "submitted"
    _describe(amendment, document, base, after_label)
    _touch(amendment, actor, note)
    record_event(actor, f"amendment.{note.replace(' ', '_')}", amendment, document_id=document.id,
                 from_state=before, to_state=amendment.status, reason=reason if note != "edited" else None,
                 data={"revision": amendment.revision})
    if amendment.status == Status.SUBMITTED:
        _update_collisions(amendment.section_id if kind is not Kind.INSERT else None)
    return amendment


@writes
def withdraw_amendment(actor, document_id: int, amendment_id: int, *, revision: int | None,
                       reason: str | None = None) -> Amendment:
    """The author takes an undecided amendment back.

    :raises PermissionDenied: unless the actor is the author.
    :raises ConflictError: when the amendment changed since ``revision``.
    """
    _, _, amendment = _lock(document_id, amendment_id)  # its section's collisions change
    _check_revision(amendment, revision, "withdrawing it")
    if not can_withdraw(actor, amendment):
        raise PermissionDenied("Only the author can withdraw an undecided amendment.")
    reason = (reason or "").strip() or None
    if reason:
        reason = documents.clean_reason(reason)
    before = amendment.status
    amendment.status = Status.WITHDRAWN.value
    amendment.decision_reason = reason
    amendment.decided_at = utcnow()
    _touch(amendment, actor, "withdrawn")
    record_event(actor, "amendment.withdrawn", amendment, document_id=document_id, from_state=before,
                 to_state=amendment.status, reason=reason)
    _update_collisions(amendment.section_id)
    return amendment


@writes
def support_amendment(actor, document_id: int, amendment_id: int) -> Amendment:
    """Co-sign an open amendment.

    :raises PermissionDenied: for the author, anonymous users, or closed amendments.
    :raises ValidationError: when the actor supports it already.
    """
    _, _, amendment = _lock(document_id, amendment_id, alone=True)
    if amendment.status == Status.DRAFT:
        raise NotFound("There is no such amendment.")
    if _member(actor) and actor.id == amendment.author_id:
        raise PermissionDenied("You cannot support your own amendment.")
    if not can_support(actor, amendment):
        raise PermissionDenied("Only open amendments can be supported, by someone other than their author.")
    try:
        with db.session.begin_nested():
            db.session.add(Support(amendment_id=amendment.id, user_id=actor.id))
    except IntegrityError as exc:
        raise ValidationError("You already support this amendment.") from exc
    amendment.support_count += 1
    record_event(actor, "amendment.supported", amendment, document_id=document_id,
                 data={"supporters": amendment.support_count})
    return amendment


@writes
def withdraw_support(actor, document_id: int, amendment_id: int) -> Amendment:
    """Take one's support back from an open amendment.

    :raises ValidationError: when the actor did not support it.
    """
    _, _, amendment = _lock(document_id, amendment_id, alone=True)
    if not _member(actor):
        raise NotFound("There is no such amendment.")
    if amendment.status != Status.SUBMITTED:
        raise ValidationError("Support can only be withdrawn while the amendment is open.")
    removed = db.session.execute(delete(Support).where(Support.amendment_id == amendment.id,
                                                       Support.user_id == actor.id)).rowcount
    if not removed:
        raise ValidationError("You do not support this amendment.")
    amendment.support_count -= 1
    record_event(actor, "amendment.support_withdrawn", amendment, document_id=document_id,
                 data={"supporters": amendment.support_count})
    return amendment


@writes
def decide_amendment(actor, document_id: int, amendment_id: int, *, decision: str, reason: str,
                     revision: int | None, final_heading: str | None = None, final_body: str | None = None,
                     merged_into: str | None = None) -> Amendment:
    """Accept (as proposed or modified), reject, or close an amendment, with a public reason.

    Accepting writes the text as a new version of its section, credited to the
    author with the moderator as approver; the section's other open
    amendments are then rebased onto it.

    :raises PermissionDenied: unless the actor is a moderator other than the author.
    :raises ValidationError: on a missing reason, a conflicted or stale amendment, or missing support.
    :raises ConflictError: when the amendment changed or was decided since ``revision``.
    """
    if not (_member(actor) and actor.is_moderator):
        raise PermissionDenied("Only moderators decide on amendments.")
    status = DECISIONS.get(decision)
    if status is None:
        raise ValidationError("Choose a decision.", "decision")
    # Every check below reads the locked rows, never a copy loaded before the lock.
    document, section, amendment = _lock(document_id, amendment_id)
    if amendment.status == Status.DRAFT:
        raise NotFound("There is no such amendment.")
    _check_revision(amendment, revision, "deciding")
    if amendment.status != Status.SUBMITTED:
        raise ConflictError(f"{amendment.code} is {Status(amendment.status).label.lower()} already.", current=amendment)
    if actor.id == amendment.author_id:
        raise PermissionDenied("You cannot decide on your own amendment.")
    reason = documents.clean_reason(reason)
    kind = Kind(amendment.kind)
    accepting = status in (Status.ACCEPTED, Status.ACCEPTED_MODIFIED)
    if accepting:
        _check_acceptable(amendment, document, section)
    if status is Status.MERGED:
        target = _merge_target(document, amendment, merged_into)
        amendment.merged_into_id = target.id
    before = amendment.status
    amendment.status = status.value
    amendment.decision_reason = reason
    amendment.decided_by_id = actor.id
    amendment.decided_at = utcnow()
    db.session.flush()
    if accepting:
        _apply(amendment, document, section, actor, status, reason, kind, final_heading, final_body)
    _touch(amendment, actor, status.label.lower())
    record_event(actor, f"amendment.{status.value}", amendment, document_id=document.id,
                 from_state=before, to_state=amendment.status, reason=reason,
                 data={"merged_into": merged_into} if status is Status.MERGED else None)
    _update_collisions(amendment.section_id if kind is not Kind.INSERT else None)
    return amendment


def _check_acceptable(amendment: Amendment, document: Document, section: Section | None) -> None:
    """Refuse to accept a conflicted, stale or under-supported amendment.

    :raises ValidationError: explaining what must happen first.
    """
    if amendment.conflicted:
        raise ValidationError(f"{amendment.code} conflicts with a newer version of its section. The author "
                              "or a moderator must resolve the conflict before it can be accepted.")
    if amendment.support_count < document.min_supporters:
        raise ValidationError(f"{amendment.code} has {amendment.support_count} of the "
                              f"{document.min_supporters} supporters it needs before a decision to accept.")
    if amendment.kind != Kind.INSERT and (section is None or section.retired):
        raise ValidationError("The section has been retired; mark the amendment obsolete instead.")
    if amendment.kind == Kind.MODIFY and amendment.base_version_id != section.current_version_id:
        raise ValidationError(f"{amendment.code} was written on an older version of its section and has not "
                              "been rebased; it cannot be accepted blind.")


def _merge_target(document: Document, amendment: Amendment, code: str | None) -> Amendment:
    """Find the amendment another one is merged into, by code (A-007 or 7).

    :raises ValidationError:
    """
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    if not digits or len(digits) > 9:
        raise ValidationError("Name the amendment it is merged into, e.g. A-007.", "merged_into")
    target = db.session.scalar(select(Amendment).where(Amendment.document_id == document.id,
                                                       Amendment.number == int(digits)))
    if target is None or target.id == amendment.id:
        raise ValidationError("Name another amendment of this document.", "merged_into")
    return target


def _apply(amendment, document, section, actor, status, reason, kind, final_heading, final_body) -> None:
    """Carry an accepted amendment into the document."""
    author = db.session.get(User, amendment.author_id)
    version_reason = f"{amendment.code} accepted: {reason}"
    if kind is Kind.DELETE:
        documents.retire_section(actor, document.id, section.id, reason=version_reason,
                                 audit_action="section.retired_by_amendment")
        return
    if kind is Kind.INSERT:
        heading, body = amendment.proposed_heading, amendment.proposed_body
        if status is Status.ACCEPTED_MODIFIED:
            heading = documents.clean_heading(final_heading or heading)
            body = documents.clean_body(final_body or body)
            _store_modification(amendment, heading, body)
        new = documents.create_section(actor, document.id, heading=heading, body=body, reason=version_reason,
                                       after_section_id=amendment.section_id, author=author, approver=actor,
                                       audit_action="section.created_by_amendment")
        amendment.result_version_id = new.current_version_id
        return
    current = section.current_version
    heading = amendment.proposed_heading or current.heading
    body = amendment.proposed_body
    if status is Status.ACCEPTED_MODIFIED:
        heading = documents.clean_heading(final_heading or heading)
        body = documents.clean_body(final_body)
        if heading == current.heading and body == current.body:
            raise ValidationError("The modified text is the same as the current text; reject the amendment "
                                  "instead.", "final_body")
        _store_modification(amendment, heading, body)
    version = documents.write_version(section, document, heading=heading, body=body, reason=version_reason,
                                      author=author, approver=actor, kind="amendment")
    amendment.result_version_id = version.id


def _store_modification(amendment: Amendment, heading: str, body: str) -> None:
    """Keep the moderator's final text and its own diff against what was proposed."""
    amendment.final_heading, amendment.final_body = heading, body
    amendment.modification_diff_html = render_inline(word_diff(amendment.proposed_body or "", body))


# --------------------------------------------------------------------- rebase

def _rebase_one(amendment: Amendment, document: Document, new: SectionVersion, actor,
                entry: documents.SectionEntry | None = None) -> bool:
    """Move one amendment onto ``new`` by three-way merge, or mark it conflicted; True when clean."""
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
        amendment.revision += 1
        amendment.updated_at = utcnow()
        record_event(actor, "amendment.conflicted", amendment, document_id=document.id,
                     reason=f"Version {new.number} of the section changed the same passage.",
                     data={"version": new.number})
        return False
    if amendment.kind == Kind.MODIFY:
        amendment.proposed_body = merged_body
        if amendment.proposed_heading == new.heading:
            amendment.proposed_heading = None
        if merged_body == new.body and not amendment.proposed_heading:
            # The new version already says what the amendment asked for.
            amendment.base_version_id = new.id
            _describe(amendment, document, new, entry=entry)
            amendment.conflicted = True
            amendment.conflict = {"version": new.number, "regions": [], "heading": None, "absorbed": True}
            _touch(amendment, actor, f"nothing left to change after version {new.number}")
            return False
    amendment.base_version_id = new.id
    amendment.conflicted, amendment.conflict = False, None
    _describe(amendment, document, new, entry=entry)
    _touch(amendment, actor, f"rebased onto version {new.number}")
    record_event(actor, "amendment.rebased", amendment, document_id=document.id, data={"version": new.number})
    return True


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


@version_written.connect
def _follow_new_version(section: Section, *, document: Document, version: SectionVersion, actor, **_kw) -> None:
    """Rebase every undecided amendment of a section onto its new version (same transaction)."""
    amendments = _lock_undecided(section, Amendment.base_version_id != version.id)
    if not amendments:
        return
    entry = documents.section_entry(document, section)  # once, not per amendment
    for amendment in amendments:
        _rebase_one(amendment, document, version, actor, entry)
    db.session.flush()
    _update_collisions(section.id)


@section_retired.connect
def _follow_retirement(section: Section, *, document: Document, actor, **_kw) -> None:
    """When a section leaves the text, its open amendments cannot be accepted as they are."""
    amendments = _lock_undecided(section)
    for amendment in amendments:
        amendment.conflicted = True
        amendment.conflict = {"retired": True, "regions": [], "heading": None}
        amendment.revision += 1
        record_event(actor, "amendment.conflicted", amendment, document_id=document.id,
                     reason="The section was retired.")
    if amendments:
        db.session.flush()
        _update_collisions(section.id)


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


# -------------------------------------------------------------------- listing

SORTS = {
    "code": (Amendment.number,),
    "date": (Amendment.submitted_at, Amendment.id),
    "section": (Section.position, Amendment.first_line, Amendment.number),
    "support": (Amendment.support_count, Amendment.number),
}


@dataclass
class ListFilter:
    """What an amendment list shows."""

    status: str = "open"  # open | decided | all | a Status value
    section_id: int | None = None
    author_id: int | None = None
    needs_decision: bool = False
    conflicted: bool = False
    supported_by: int | None = None
    sort: str = "code"
    descending: bool = False
    page: int = 1
    per_page: int = 50

    def query_args(self) -> dict[str, Any]:
        """The filter as URL query arguments (defaults left out)."""
        args = {"status": self.status, "section": self.section_id, "author": self.author_id,
                "needs_decision": 1 if self.needs_decision else None, "conflicted": 1 if self.conflicted else None,
                "mine_supported": 1 if self.supported_by else None, "sort": self.sort,
                "desc": 1 if self.descending else None}
        return {key: value for key, value in args.items() if value not in (None, "")}


@dataclass
class AmendmentPage:
    """One page of a list, with what each row shows, loaded in a fixed number of queries."""

    pagination: Any
    collisions: dict[int, list[str]] = field(default_factory=dict)
    supported: set[int] = field(default_factory=set)


def _filtered(document: Document, flt: ListFilter):
    """The SELECT for a filtered list (drafts never appear)."""
    stmt = select(Amendment).where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value)
    if flt.status == "open":
        stmt = stmt.where(Amendment.status == Status.SUBMITTED.value)
    elif flt.status == "decided":
        stmt = stmt.where(Amendment.status.in_([s.value for s in DECIDED]))
    elif flt.status in {s.value for s in Status}:
        stmt = stmt.where(Amendment.status == flt.status)
    if flt.section_id:
        stmt = stmt.where(Amendment.section_id == flt.section_id)
    if flt.author_id:
        stmt = stmt.where(Amendment.author_id == flt.author_id)
    if flt.needs_decision:
        stmt = stmt.where(Amendment.status == Status.SUBMITTED.value, Amendment.conflicted.is_(False),
                          Amendment.support_count >= document.min_supporters)
    if flt.conflicted:
        stmt = stmt.where(Amendment.conflicted.is_(True), Amendment.status == Status.SUBMITTED.value)
    if flt.supported_by:
        stmt = stmt.where(Amendment.id.in_(select(Support.amendment_id).where(Support.user_id == flt.supported_by)))
    return stmt


def list_amendments(document: Document, flt: ListFilter, user=None) -> AmendmentPage:
    """Return one page of a document's amendments, filtered and sorted, in four queries."""
    stmt = _filtered(document, flt).options(joinedload(Amendment.author))
    columns = SORTS.get(flt.sort, SORTS["code"])
    if flt.sort == "section":
        stmt = stmt.outerjoin(Section, Section.id == Amendment.section_id)
    order = [c.desc() if flt.descending else c.asc() for c in columns]
    stmt = stmt.order_by(*order, Amendment.id)
    pagination = db.paginate(stmt, page=flt.page, per_page=flt.per_page, error_out=False, count=True)
    ids = [a.id for a in pagination.items]
    page = AmendmentPage(pagination)
    if ids:
        page.collisions = collisions_for(ids)
        if _member(user):
            page.supported = set(db.session.scalars(select(Support.amendment_id).where(
                Support.user_id == user.id, Support.amendment_id.in_(ids))))
    return page


def collisions_for(ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """Map each amendment id to (code, id) of the open amendments it collides with (one query)."""
    other = Amendment.__table__.alias("other")
    rows = db.session.execute(
        select(Collision.amendment_id, Collision.other_id, Amendment.number, other.c.number)
        .join(Amendment, Amendment.id == Collision.amendment_id)
        .join(other, other.c.id == Collision.other_id)
        .where(or_(Collision.amendment_id.in_(ids), Collision.other_id.in_(ids)))).all()
    result: dict[int, list[tuple[str, int]]] = {}
    for a_id, b_id, a_number, b_number in rows:
        result.setdefault(a_id, []).append((f"A-{b_number:03d}", b_id))
        result.setdefault(b_id, []).append((f"A-{a_number:03d}", a_id))
    return {key: sorted(value) for key, value in result.items()}


def open_counts_by_section(document: Document) -> dict[int, int]:
    """Open amendments per section, for the reading page (one query)."""
    rows = db.session.execute(
        select(Amendment.section_id, func.count())
        .where(Amendment.document_id == document.id, Amendment.status == Status.SUBMITTED.value,
               Amendment.kind != Kind.INSERT.value)
        .group_by(Amendment.section_id)).all()
    return {section_id: count for section_id, count in rows}


def status_counts(document: Document, min_supporters: int) -> dict[str, int]:
    """How many amendments are in each state, plus the moderators' queues (one query)."""
    open_ = Amendment.status == Status.SUBMITTED.value
    row = db.session.execute(
        select(
            func.count().filter(open_),
            func.count().filter(and_(open_, Amendment.conflicted.is_(False),
                                     Amendment.support_count >= min_supporters)),
            func.count().filter(and_(open_, Amendment.conflicted.is_(True))),
            func.count().filter(Amendment.status.in_([s.value for s in DECIDED])),
            func.count(),
        ).where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value)).one()
    return {"open": row[0], "needs_decision": row[1], "conflicted": row[2], "decided": row[3], "all": row[4]}


def my_drafts(document: Document, user) -> list[Amendment]:
    """The user's own drafts (only they can see them)."""
    if not _member(user):
        return []
    return list(db.session.scalars(select(Amendment).where(
        Amendment.document_id == document.id, Amendment.author_id == user.id,
        Amendment.status == Status.DRAFT.value).order_by(Amendment.id.desc()).limit(50)))


def supporters(amendment: Amendment) -> list:
    """The people who support an amendment, in the order they signed (one query)."""
    return [s.user for s in db.session.scalars(
        select(Support).options(joinedload(Support.user)).where(Support.amendment_id == amendment.id)
        .order_by(Support.id))]


def revisions(amendment: Amendment) -> list[AmendmentRevision]:
    """Every revision of an amendment, newest first, with editors and base versions (one query)."""
    return list(db.session.scalars(
        select(AmendmentRevision)
        .options(joinedload(AmendmentRevision.author), joinedload(AmendmentRevision.base_version))
        .where(AmendmentRevision.amendment_id == amendment.id)
        .order_by(AmendmentRevision.number.desc())))


def merged_target_code(amendment: Amendment) -> str | None:
    """The code of the amendment this one was merged into."""
    if not amendment.merged_into_id:
        return None
    number = db.session.scalar(select(Amendment.number).where(Amendment.id == amendment.merged_into_id))
    return f"A-{number:03d}" if number else None
