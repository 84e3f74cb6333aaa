"""Moderators' decisions: accept (as proposed or modified), reject, obsolete, merged."""

from __future__ import annotations

from flask_babel import format_number, gettext as _, ngettext
from sqlalchemy import select

from ...accounts.models import User
from ...accounts.rules import require_moderator
from ...audit.services import record_event
from ...documents import services as documents
from ...documents.models import Document, Section, SectionVersion
from ...documents.rules import require_text_changes
from ...extensions import db
from ...services import ConflictError, NotFound, PermissionDenied, ValidationError, utcnow, writes
from ...text.diff import word_diff
from ...text.diff_html import render_inline
from ...text.memo import reusing_work
from ..models import Amendment, Kind, Status
from .core import check_revision, lock_for_change, touch
from .collisions import update_collisions
from .following import decision_in_progress, recording_together
from ..wording import note_data


DECISIONS = {
    "accept": Status.ACCEPTED,
    "accept_modified": Status.ACCEPTED_MODIFIED,
    "reject": Status.REJECTED,
    "obsolete": Status.OBSOLETE,
    "merged": Status.MERGED,
}


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
    require_moderator(actor, _("Only moderators decide on amendments."))
    status = DECISIONS.get(decision)
    if status is None:
        raise ValidationError(_("Choose a decision."), "decision")
    # Every check below reads the locked rows, never a copy loaded before the lock.
    document, section, amendment = lock_for_change(document_id, amendment_id)
    if amendment.status == Status.DRAFT:
        raise NotFound(_("There is no such amendment."))
    check_revision(amendment, revision, "deciding")
    if amendment.status != Status.SUBMITTED:
        raise ConflictError(_("%(code)s is %(status)s already.", code=amendment.code,
                              status=Status(amendment.status).label.lower()), current=amendment)
    if actor.id == amendment.author_id:
        raise PermissionDenied(_("You cannot decide on your own amendment."))
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
    followed = False
    # The events of the amendments that follow the new text and of the decision itself are recorded as one
    # batch: their notifications are written together, once all of them are known.
    with recording_together():
        if accepting:
            # What the new text does to others names this decision; the section's texts are diffed and parsed
            # once for the new version and all the amendments that follow it, not once per amendment.
            with decision_in_progress(amendment, status), reusing_work():
                followed = _apply(amendment, document, section, actor, status, reason, kind, final_heading,
                                  final_body)
        touch(amendment, actor, note_data("decided", status=status.value))
        record_event(actor, f"amendment.{status.value}", amendment, document_id=document.id,
                     from_state=before, to_state=amendment.status, reason=reason,
                     data={"merged_into": merged_into} if status is Status.MERGED else None)
    if not followed:  # else the section's collisions were rewritten once already, after this one closed
        update_collisions(amendment.section_id if kind is not Kind.INSERT else None)
    return amendment


def _check_acceptable(amendment: Amendment, document: Document, section: Section | None) -> None:
    """Refuse to accept a conflicted, stale or under-supported amendment.

    :raises ValidationError: explaining what must happen first.
    """
    # Accepting writes text, and a final document's text no longer changes (rejecting still may close it).
    require_text_changes(document)
    if amendment.conflicted:
        raise ValidationError(_("%(code)s conflicts with a newer version of its section. The author "
                                "or a moderator must resolve the conflict before it can be accepted.",
                                code=amendment.code))
    if amendment.support_count < document.min_supporters:
        # flask_babel's ngettext fills %(num)s itself, unformatted: the figures have their own names.
        raise ValidationError(ngettext(
            "%(code)s has %(count)s of the %(needed)s supporter it needs before a decision to accept.",
            "%(code)s has %(count)s of the %(needed)s supporters it needs before a decision to accept.",
            document.min_supporters, code=amendment.code, count=format_number(amendment.support_count),
            needed=format_number(document.min_supporters)))
    if amendment.kind != Kind.INSERT and (section is None or section.retired):
        raise ValidationError(_("The section has been retired; mark the amendment obsolete instead."))
    if amendment.kind == Kind.MODIFY and amendment.base_version_id != section.current_version_id:
        raise ValidationError(_("%(code)s was written on an older version of its section and has not "
                                "been rebased; it cannot be accepted blind.", code=amendment.code))


def _merge_target(document: Document, amendment: Amendment, code: str | None) -> Amendment:
    """Find the amendment another one is merged into, by code (A-007 or 7).

    :raises ValidationError:
    """
    digits = "".join(ch for ch in (code or "") if ch.isdigit())
    if not digits or len(digits) > 9:
        raise ValidationError(_("Name the amendment it is merged into, e.g. A-007."), "merged_into")
    target = db.session.scalar(select(Amendment).where(Amendment.document_id == document.id,
                                                       Amendment.number == int(digits)))
    if target is None or target.id == amendment.id:
        raise ValidationError(_("Name another amendment of this document."), "merged_into")
    return target


def _apply(amendment, document, section, actor, status, reason, kind, final_heading, final_body) -> bool:
    """Carry an accepted amendment into the document.

    Returns whether other amendments of the section followed the change:
    then following them rewrote the section's collisions, after this
    amendment had left the open ones (its status is flushed before).
    """
    author = db.session.get(User, amendment.author_id)
    version_reason = f"{amendment.code} accepted: {reason}"
    # Asked before the change: those that follow a new version are the ones not written on it, every one
    # with a base; all of them follow a retirement.
    followed = _has_followers(section, based=kind is Kind.MODIFY) if kind is not Kind.INSERT else False
    if kind is Kind.DELETE:
        documents.retire_section(actor, document.id, section.id, reason=version_reason,
                                 audit_action="section.retired_by_amendment")
        return followed
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
        return False
    current = section.current_version
    heading = amendment.proposed_heading or current.heading
    body = amendment.proposed_body
    if status is Status.ACCEPTED_MODIFIED:
        heading = documents.clean_heading(final_heading or heading)
        body = documents.clean_body(final_body)
        if heading == current.heading and body == current.body:
            raise ValidationError(_("The modified text is the same as the current text; reject the amendment "
                                    "instead."), "final_body")
        _store_modification(amendment, heading, body)
    version = documents.write_version(section, document, heading=heading, body=body, reason=version_reason,
                                      author=author, approver=actor, kind="amendment")
    amendment.result_version_id = version.id
    return followed


def _has_followers(section: Section, *, based: bool) -> bool:
    """Whether the section has undecided amendments (not inserts), ``based`` on some version, to follow a change.

    One query for the answer alone: following locks and loads the
    amendments themselves, and their base versions, in a few queries.
    """
    undecided = [Amendment.section_id == section.id, Amendment.kind != Kind.INSERT.value,
                 Amendment.status.in_([Status.SUBMITTED.value, Status.DRAFT.value])]
    if based:
        undecided.append(Amendment.base_version_id.is_not(None))
    return db.session.scalar(select(Amendment.id).where(*undecided).limit(1)) is not None


def _store_modification(amendment: Amendment, heading: str, body: str) -> None:
    """Keep the moderator's final text and its own diff against what was proposed."""
    amendment.final_heading, amendment.final_body = heading, body
    amendment.modification_diff_html = render_inline(word_diff(amendment.proposed_body or "", body))


def decide_together(actor, document: Document, section: Section, decisions: list[tuple[Amendment, Status, str]], *,
                    heading: str, body: str, version_reason: str, data: dict[int, dict] | None = None,
                    ) -> SectionVersion | None:
    """Decide several amendments of one section at once, writing one new version for all those accepted.

    The merge workspace's decision (``plenary.merging``): the caller is a
    ``@writes`` service that holds the document's, the section's and these
    amendments' locks and checked their revisions and permission. Every
    amendment is checked and closed as :func:`decide_amendment` would; then,
    if the text changes, one version is written (credited to the moderator,
    who wrote it from several proposals) and the section's other undecided
    amendments follow it as usual. ``data`` adds to each amendment's event.
    Returns the new version, or None when the text stayed as it was.

    :raises PermissionDenied: for an amendment of the actor's own.
    :raises ValidationError: for an amendment that cannot be accepted (see :func:`_check_acceptable`).
    :raises ConflictError: for one that is no longer open.
    """
    if any(amendment.section_id != section.id for amendment, _status, _reason in decisions):
        raise ValueError("decide_together decides amendments of its own section only")
    for amendment, status, _reason in decisions:
        if amendment.status != Status.SUBMITTED:
            raise ConflictError(_("%(code)s is %(status)s already.", code=amendment.code,
                                  status=Status(amendment.status).label.lower()), current=amendment)
        if actor.id == amendment.author_id:
            raise PermissionDenied(_("You cannot decide on your own amendment (%(code)s).", code=amendment.code))
        if status in (Status.ACCEPTED, Status.ACCEPTED_MODIFIED):
            _check_acceptable(amendment, document, section)
    now = utcnow()
    befores = {}
    for amendment, status, reason in decisions:
        befores[amendment.id] = amendment.status
        amendment.status = status.value
        amendment.decision_reason = reason
        amendment.decided_by_id = actor.id
        amendment.decided_at = now
    db.session.flush()  # closed before the new version, so that following it leaves them alone
    accepted = [(a, s) for a, s, _r in decisions if s in (Status.ACCEPTED, Status.ACCEPTED_MODIFIED)]
    current = section.current_version
    version = None
    with recording_together():
        if heading != current.heading or body != current.body:
            cause, cause_status = accepted[0] if accepted else (decisions[0][0], decisions[0][1])
            with decision_in_progress(cause, cause_status), reusing_work():
                version = documents.write_version(section, document, heading=heading, body=body,
                                                  reason=version_reason, author=actor, approver=actor,
                                                  kind="amendment")
        for amendment, status in accepted:
            if version is not None:
                amendment.result_version_id = version.id
            if status is Status.ACCEPTED_MODIFIED:
                _store_modification(amendment, heading, body)
        for amendment, status, reason in decisions:
            touch(amendment, actor, note_data("decided", status=status.value))
            record_event(actor, f"amendment.{status.value}", amendment, document_id=document.id,
                         from_state=befores[amendment.id], to_state=amendment.status, reason=reason,
                         data=(data or {}).get(amendment.id))
    update_collisions(section.id)  # the decided ones left the open ones (following may have done it already)
    return version
