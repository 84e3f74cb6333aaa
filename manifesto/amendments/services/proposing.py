"""Proposing, editing and withdrawing amendments."""

from __future__ import annotations

from flask_babel import gettext as _

from ...accounts.rules import is_member
from ...audit.services import record_event
from ...documents import services as documents
from ...documents.rules import require_amendments_open
from ...documents.models import SectionVersion
from ...extensions import db
from ...services import PermissionDenied, ValidationError, to_int, utcnow, writes
from ..models import Amendment, Kind, Status
from .permissions import can_edit, can_withdraw
from .core import check_revision, clean_kind, clean_proposal, describe, lock_for_change, next_number, record_revision, touch
from .collisions import update_collisions
from .following import rebase_one
from ..wording import note_data


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
    if not is_member(actor):
        raise PermissionDenied(_("Log in to propose an amendment."))
    document = documents.lock_document(document_id)  # amendment numbers are given under it
    require_amendments_open(document)
    kind = clean_kind(kind)
    reason = documents.clean_reason(reason)
    section = base = None
    after_number = None
    if kind is Kind.INSERT:
        if section_id:
            section = documents.get_section_or_404(document, to_int(section_id, "section_id"))
            after_number = documents.section_entry(document, section).number
    else:
        if not section_id:
            raise ValidationError(_("Choose the section the amendment changes."), "section_id")
        section = documents.lock_section(document, to_int(section_id, "section_id"))
        if section.retired:
            raise ValidationError(_("This section has been retired; it can no longer be amended."), "section_id")
        base = section.current_version
        if base_version_id and to_int(base_version_id) != base.id:
            base = db.session.get(SectionVersion, to_int(base_version_id))
            if base is None or base.section_id != section.id:
                raise ValidationError(_("The amendment must be written on a version of this section."))
    heading, body = clean_proposal(kind, base, heading, body)
    amendment = Amendment(
        document_id=document.id, kind=kind.value, author_id=actor.id, section_id=section.id if section else None,
        base_version_id=base.id if base else None, proposed_heading=heading, proposed_body=body, reason=reason,
        status=Status.SUBMITTED.value if submit else Status.DRAFT.value, revision=1)
    if submit:
        amendment.number = next_number(document.id)
        amendment.submitted_at = utcnow()
    db.session.add(amendment)
    db.session.flush()
    describe(amendment, document, base, after_number)
    record_revision(amendment, actor, note_data("submitted" if submit else "draft_saved"))
    record_event(actor, "amendment.submitted" if submit else "amendment.drafted", amendment,
                 document_id=document.id, to_state=amendment.status, reason=reason)
    if base is not None and base.id != section.current_version_id:
        rebase_one(amendment, document, section.current_version, actor)
    if submit:
        update_collisions(amendment.section_id if kind is not Kind.INSERT else None)
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
    document, section, amendment = lock_for_change(document_id, amendment_id)  # numbering on submission needs the document
    check_revision(amendment, revision, "editing")
    if not can_edit(actor, amendment):
        raise PermissionDenied(_("Only the author can edit this amendment."))
    resolving = amendment.conflicted
    if not resolving:
        require_amendments_open(document)
    kind = Kind(amendment.kind)
    reason = documents.clean_reason(reason)
    base = None
    after_number = None
    if kind is not Kind.INSERT:
        if section.retired:
            raise ValidationError(_("This section has been retired; the amendment can only be withdrawn "
                                    "or marked obsolete."))
        base = db.session.get(SectionVersion, section.current_version_id)
    elif section is not None:
        after_number = documents.section_entry(document, section).number
    heading, body = clean_proposal(kind, base, heading, body)
    before = amendment.status
    amendment.proposed_heading, amendment.proposed_body, amendment.reason = heading, body, reason
    amendment.base_version_id = base.id if base else None
    amendment.conflicted, amendment.conflict = False, None
    note = "conflict_resolved" if resolving else "edited"
    if submit and amendment.status == Status.DRAFT:
        amendment.status = Status.SUBMITTED.value
        amendment.number = next_number(document.id) if not amendment.number else amendment.number
        amendment.submitted_at = utcnow()
        note = "submitted"
    describe(amendment, document, base, after_number)
    touch(amendment, actor, note_data(note))
    record_event(actor, f"amendment.{note}", amendment, document_id=document.id,
                 from_state=before, to_state=amendment.status, reason=reason if note != "edited" else None,
                 data={"revision": amendment.revision})
    if amendment.status == Status.SUBMITTED:
        update_collisions(amendment.section_id if kind is not Kind.INSERT else None)
    return amendment


@writes
def withdraw_amendment(actor, document_id: int, amendment_id: int, *, revision: int | None,
                       reason: str | None = None) -> Amendment:
    """The author takes an undecided amendment back.

    :raises PermissionDenied: unless the actor is the author.
    :raises ConflictError: when the amendment changed since ``revision``.
    """
    amendment = lock_for_change(document_id, amendment_id)[2]  # its section's collisions change
    check_revision(amendment, revision, "withdrawing")
    if not can_withdraw(actor, amendment):
        raise PermissionDenied(_("Only the author can withdraw an undecided amendment."))
    reason = (reason or "").strip() or None
    if reason:
        reason = documents.clean_reason(reason)
    before = amendment.status
    amendment.status = Status.WITHDRAWN.value
    amendment.decision_reason = reason
    amendment.decided_at = utcnow()
    touch(amendment, actor, note_data("withdrawn"))
    record_event(actor, "amendment.withdrawn", amendment, document_id=document_id, from_state=before,
                 to_state=amendment.status, reason=reason)
    update_collisions(amendment.section_id)
    return amendment
