"""Merging a section's open amendments into one new version: the workspace's reading and its services.

A moderator *starts* a merge of a section (a :class:`MergeDraft`, one per
section: a second moderator is refused, naming who merges since when, and
may *take over*, audited); the workspace saves the draft as they work
(*autosave*: the choices, the hand-edited text, the reasons; not audited,
it is work in progress) and *completes* it: one new version of the section
and a decision on every amendment taken or left, in one transaction
(``amendments.services.deciding.decide_together``), after which the
section's other open amendments follow the new version as usual.

Which amendments can be merged: open proposals to change the section's text
that are written on its current version, not conflicted, not hidden and
with the supporters the document asks for. The others are listed apart: they
need their author (or support) first.

Locks: starting, taking over and completing lock the document, then the
section (then the amendments decided, then the draft: ``merge_drafts`` is
the last level of ``locking.py``); an autosave and a discard lock the draft
alone. Every draft save and completion announces ``merge:<section id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_datetime, gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...accounts.rules import require_moderator
from ...amendments.models import Amendment, Kind, Status
from ...amendments.services.deciding import decide_together
from ...audit.services import record_event
from ...documents import services as documents
from ...documents.models import Document, Section, SectionVersion
from ...documents.rules import require_text_changes
from ...extensions import db
from ...live import announce
from ...locking import lock_row, lock_rows
from ...services import ConflictError, NotFound, PermissionDenied, ValidationError, to_int, utcnow, writes
from ...text.combine import CombineError, Outcome, Workspace, clean_choices, compose, needs_check, outcomes, workspace
from ...text.memo import reusing_work
from ...text.merge import rebase
from .models import MergeDraft

# What a moderator may decide for an amendment, by what the merge takes of it.
OPEN = "open"  # not decided by this merge: it stays open and follows the new version like any other
STATUSES = (Status.ACCEPTED.value, Status.ACCEPTED_MODIFIED.value, Status.REJECTED.value, Status.OBSOLETE.value,
            OPEN)


def merge_topic(section_id: int) -> str:
    """The live topic of a section's merge (pages showing it re-fetch on each notice)."""
    return f"merge:{section_id}"


def placed(section_id: int) -> tuple[Document, Section] | None:
    """A merge topic's document and section, by the section's id (``live/content.py`` renders its view); or None."""
    document_id = db.session.scalar(select(Section.document_id).where(Section.id == section_id))
    if document_id is None:
        return None
    document = db.session.get(Document, document_id)
    return document, documents.get_section_or_404(document, section_id)  # loaded as the pages load it


def followable(user, ids: set[int]) -> set[int]:
    """The sections whose merge topic a reader may follow: every existing one (their public view is open to all)."""
    return set(db.session.scalars(select(Section.id).where(Section.id.in_(ids))))


def changed_parts(event, draft) -> set[str]:
    """A merge's own events (start, take over, discard) change no cached part of a page (``register_parts``)."""
    return set()


# ------------------------------------------------------------------ reading

@dataclass
class Board:
    """What the workspace shows of a section: its text, the amendments it merges and those left apart."""

    document: Document
    section: Section
    version: SectionVersion
    amendments: list[Amendment]
    apart: list[tuple[Amendment, str]]
    work: Workspace
    headings: dict[str, str] = field(default_factory=dict)  # key -> proposed heading

    def amendment(self, key: str) -> Amendment:
        """The amendment of a workspace key."""
        return self.by_key[key]

    @property
    def by_key(self) -> dict[str, Amendment]:
        """The merged amendments by their key in the workspace (their id, as text)."""
        return {str(a.id): a for a in self.amendments}


def key_of(amendment: Amendment) -> str:
    """An amendment's key in the workspace: its id."""
    return str(amendment.id)


def _why_apart(amendment: Amendment, version: SectionVersion, document: Document) -> str | None:
    """Why an open amendment of the section cannot be merged now; None when it can."""
    if amendment.is_hidden:
        return _("hidden by a moderator")
    if amendment.conflicted:
        return _("conflicts with the current text: needs its author first")
    if amendment.base_version_id != version.id:
        return _("written on an older version: needs its author first")
    if amendment.support_count < document.min_supporters:
        return _("has %(count)s of the %(needed)s supporters it needs", count=amendment.support_count,
                 needed=document.min_supporters)
    return None


def board(document: Document, section: Section, *, only: Mapping[str, int] | None = None) -> Board:
    """Read the section's current text and open amendments, and lay out their changes (two queries).

    ``only`` (amendment id as text -> revision) limits the merge to the amendments a moderator saw,
    at those revisions: one that changed since is refused by the caller, one that came since stays open.
    """
    version = section.current_version or db.session.get(SectionVersion, section.current_version_id)
    found = list(db.session.scalars(
        select(Amendment).options(joinedload(Amendment.author))
        .where(Amendment.section_id == section.id, Amendment.status == Status.SUBMITTED.value,
               Amendment.kind == Kind.MODIFY.value)
        .order_by(Amendment.number)))
    mergeable, apart = [], []
    for amendment in found:
        why = _why_apart(amendment, version, document)
        if why is not None:
            apart.append((amendment, why))
        elif only is None or key_of(amendment) in only:
            mergeable.append(amendment)
    with reusing_work():  # the base is tokenised once for all the amendments' diffs
        work = workspace(version.body, [(key_of(a), a.proposed_body or version.body) for a in mergeable])
    headings = {key_of(a): a.proposed_heading for a in mergeable
                if a.proposed_heading and a.proposed_heading != version.heading}
    return Board(document, section, version, mergeable, apart, work, headings)


def get_draft(section_id: int) -> MergeDraft | None:
    """The merge in progress of a section, with its moderator; None when there is none."""
    return db.session.scalar(select(MergeDraft).options(joinedload(MergeDraft.moderator))
                             .where(MergeDraft.section_id == section_id))


@dataclass(frozen=True)
class Verdict:
    """One amendment in a composed merge: what is taken of it, what it may become, and what it becomes by default."""

    amendment: Amendment
    outcome: Outcome
    heading_taken: bool
    heading_proposed: bool
    default: str
    allowed: tuple[str, ...]

    @property
    def taken(self) -> int:
        """How many of its changes are taken (its heading counts as one)."""
        return len(self.outcome.taken) + (1 if self.heading_taken else 0)

    @property
    def total(self) -> int:
        """How many changes it has (its heading counts as one)."""
        return self.outcome.total + (1 if self.heading_proposed else 0)


@dataclass(frozen=True)
class Composition:
    """What choices make of the section: the composed heading and text, and a verdict per amendment."""

    choices: dict[str, Any]
    heading: str
    text: str
    needs_check: list[str]
    verdicts: list[Verdict]

    def verdict(self, amendment_id: int) -> Verdict:
        """The verdict on one amendment."""
        return next(v for v in self.verdicts if v.amendment.id == amendment_id)


def clean(b: Board, choices: Mapping[str, Any] | None) -> dict[str, Any]:
    """Choices as stored: known places and ids only, and a heading that some amendment proposes."""
    choices = choices or {}
    heading = choices.get("heading")
    return {"places": clean_choices(b.work, choices.get("places") or {}),
            "heading": heading if heading in b.headings else None}


def composition(b: Board, choices: Mapping[str, Any] | None, final_text: str | None = None,
                final_heading: str | None = None, *, actor_id: int | None = None) -> Composition:
    """Compose the choices and judge each amendment against the final text (the composed one by default).

    An amendment all of whose changes are taken is *accepted* when the final
    text has it whole: the composed text as chosen, with no other amendment's
    alternative beside its own, or else when rebasing it onto the final text
    changes nothing (a hand edit that kept it); otherwise it is *accepted
    with modifications*, as is one some of whose changes are taken. One with
    nothing taken is *rejected* by default (or obsolete, or left open). The
    actor's own amendments (``actor_id``) can only be left open, untaken.
    """
    choices = clean(b, choices)
    places = choices["places"]
    text = compose(b.work, places)
    heading = b.headings.get(choices["heading"] or "", b.version.heading)
    final = text if final_text is None else final_text
    final_heading = heading if final_heading is None else final_heading
    shared = {pid for pid in needs_check(b.work, places)} | {
        place.id for place in b.work.places if place.colliding and len(places.get(place.id) or []) > 1}
    found = outcomes(b.work, places)
    verdicts = []
    for amendment in b.amendments:
        key = key_of(amendment)
        outcome = found[key]
        heading_proposed = key in b.headings
        heading_taken = heading_proposed and final_heading == b.headings[key]
        total = outcome.total + heading_proposed
        taken = len(outcome.taken) + heading_taken
        if taken == 0:
            allowed: tuple[str, ...] = (Status.REJECTED.value, Status.OBSOLETE.value, OPEN)
            if final != b.version.body:
                allowed += (Status.ACCEPTED_MODIFIED.value,)
            default = Status.REJECTED.value
        elif taken < total:
            allowed = (Status.ACCEPTED_MODIFIED.value,)
            default = Status.ACCEPTED_MODIFIED.value
        else:
            mine = {p.id for p in b.work.places if key in p.keys}
            alone = final == text and not (mine & shared)
            whole = alone or _rebases_unchanged(b.version.body, amendment.proposed_body, final)
            if heading_proposed and final_heading != b.headings[key]:
                whole = False
            allowed = ((Status.ACCEPTED.value,) if whole else ()) + (Status.ACCEPTED_MODIFIED.value,)
            default = allowed[0]
        if actor_id is not None and amendment.author_id == actor_id:
            allowed, default = ((OPEN,) if taken == 0 else ()), OPEN
        verdicts.append(Verdict(amendment, outcome, heading_taken, heading_proposed, default, allowed))
    return Composition(choices, heading, text, needs_check(b.work, places), verdicts)


def _rebases_unchanged(base: str, proposal: str | None, final: str) -> bool:
    """Whether the final text already has everything the amendment asks (rebasing it there changes nothing)."""
    result = rebase(base, proposal or base, final, cross_check=False)
    return result.clean and result.text == final


def default_reason(b: Board, amendment: Amendment, status: str, others: list[Amendment]) -> str:
    """The reason a merge gives by default, naming the merge (the moderator may edit it)."""
    names = ", ".join(a.code for a in others if a.id != amendment.id)
    if status == Status.ACCEPTED.value:
        return (_("Accepted as proposed in the merge of the section's amendments (with %(others)s).", others=names)
                if names else _("Accepted as proposed in the merge of the section's amendments."))
    if status == Status.ACCEPTED_MODIFIED.value:
        return (_("Accepted in part in the merge of the section's amendments (with %(others)s).", others=names)
                if names else _("Accepted in part in the merge of the section's amendments."))
    if status == Status.OBSOLETE.value:
        return _("Obsolete after the merge of the section's amendments.")
    return _("Not taken in the merge of the section's amendments.")


# ------------------------------------------------------------------ services

class MergeInProgress(ConflictError):
    """Another moderator is merging this section; ``draft`` says who and since when."""

    def __init__(self, draft: MergeDraft):
        """Name the moderator and since when, in the reader's language."""
        super().__init__(_("%(name)s has been merging this section since %(since)s. Nothing was changed. You can "
                           "take the merge over: their draft is kept and they are told by the audit trail.",
                           name=draft.moderator.name, since=format_datetime(draft.started_at, "short")))
        self.draft = draft


def _lock(document_id: int, section_id: int) -> tuple[Document, Section]:
    """Lock the document and the section, in protocol order; refuse a final document or a retired section.

    :raises NotFound: ValidationError:
    """
    document = documents.lock_document(document_id)
    section = documents.lock_section(document, section_id)
    require_text_changes(document)
    if section.retired:
        raise ValidationError(_("This section is retired; there is nothing to merge."))
    return document, section


def seen_revisions(b: Board) -> dict[str, int]:
    """The revision of each merged amendment, as the moderator sees it now."""
    return {key_of(a): a.revision for a in b.amendments}


@writes
def start_merge(actor, document_id: int, section_id: int, *, take_over: bool = False,
                restart: bool = False) -> MergeDraft:
    """Start (or resume) merging a section's amendments; ``take_over`` another moderator's merge.

    ``restart`` starts one's own draft again on the current version (after the section moved on).

    :raises PermissionDenied: unless the actor is a moderator.
    :raises MergeInProgress: when another moderator merges it and ``take_over`` is not asked.
    """
    require_moderator(actor, _("Only moderators merge amendments."))
    document, section = _lock(document_id, section_id)
    found = db.session.scalar(select(MergeDraft.id).where(MergeDraft.section_id == section.id))
    draft = lock_row(MergeDraft, found) if found is not None else None
    b = board(document, section)
    if draft is not None and draft.moderator_id != actor.id:
        if not take_over:
            raise MergeInProgress(draft)
        before = draft.moderator_id
        draft.moderator_id = actor.id
        draft.revision += 1
        draft.updated_at = utcnow()
        record_event(actor, "merge.taken_over", draft, document_id=document.id,
                     data={"section_id": section.id, "from_user_id": before})
        announce(merge_topic(section.id))
        return draft
    if draft is not None and not restart:
        return draft
    if draft is None:
        draft = MergeDraft(document_id=document.id, section_id=section.id, moderator_id=actor.id)
        db.session.add(draft)
    else:
        draft.revision += 1
    draft.base_version_id = b.version.id
    draft.choices, draft.text, draft.reasons = {"places": {}, "heading": None}, None, {}
    draft.amendment_revisions = seen_revisions(b)
    draft.started_at = draft.updated_at = utcnow()
    db.session.flush()
    record_event(actor, "merge.started", draft, document_id=document.id,
                 data={"section_id": section.id, "version": b.version.number,
                       "amendments": [a.code for a in b.amendments], "restart": restart or None})
    announce(merge_topic(section.id))
    return draft


def _own_draft(actor, section_id: int, revision: int | None) -> MergeDraft:
    """Lock the actor's draft of a section, at the revision their page showed.

    :raises NotFound: when no merge of it is in progress.
    :raises ConflictError: when another moderator took it over, or it was saved since.
    """
    found = db.session.scalar(select(MergeDraft.id).where(MergeDraft.section_id == section_id))
    draft = lock_row(MergeDraft, found) if found is not None else None
    if draft is None:
        raise NotFound(_("No merge of this section is in progress (it was completed or discarded)."))
    if draft.moderator_id != actor.id:
        raise ConflictError(_("%(name)s took over this merge. Nothing was changed; your text is kept below.",
                              name=draft.moderator.name))
    if revision is not None and to_int(revision) != draft.revision:
        raise ConflictError(_("This merge was saved elsewhere since (another tab?). Nothing was changed; your text "
                              "is kept below: reload the workspace and compare."))
    return draft


@writes
def save_draft(actor, section_id: int, *, revision: int | None, choices: Mapping[str, Any] | None,
               text: str | None, reasons: Mapping[str, Any] | None, seen: Mapping[str, int] | None = None,
               ) -> MergeDraft:
    """Keep the moderator's work on a merge (autosave): choices, hand-edited text (None: not edited), reasons.

    Not audited: it is work in progress, and the completion records what went in.

    :raises NotFound: ConflictError: see :func:`_own_draft`; ConflictError also when the section moved on
        (the draft is kept; restart it on the new version).
    """
    require_moderator(actor, _("Only moderators merge amendments."))
    draft = _own_draft(actor, section_id, revision)
    current = db.session.scalar(select(Section.current_version_id).where(Section.id == section_id))
    if current != draft.base_version_id:
        raise ConflictError(_("The section has a new version since this merge started. Nothing was changed; your "
                              "text is kept below. Start the merge again on the new version."))
    draft.choices = {"places": {str(k): [str(i) for i in v] for k, v in ((choices or {}).get("places") or {}).items()},
                     "heading": (choices or {}).get("heading")}
    draft.text = None if text is None else documents.clean_body(text)
    draft.reasons = {str(k): {"status": str(v.get("status") or ""), "reason": str(v.get("reason") or "")[:2000]}
                     for k, v in (reasons or {}).items() if isinstance(v, Mapping)}
    if seen is not None:
        draft.amendment_revisions = {str(k): int(v) for k, v in seen.items()}
    draft.revision += 1
    draft.updated_at = utcnow()
    announce(merge_topic(section_id))
    return draft


@writes
def discard_merge(actor, section_id: int, *, revision: int | None = None) -> None:
    """Give up one's merge of a section: the draft is deleted, nothing else changes.

    :raises NotFound: ConflictError: see :func:`_own_draft`.
    """
    require_moderator(actor, _("Only moderators merge amendments."))
    draft = _own_draft(actor, section_id, revision)
    record_event(actor, "merge.discarded", draft, document_id=draft.document_id, data={"section_id": section_id})
    db.session.delete(draft)
    announce(merge_topic(section_id))


@dataclass(frozen=True)
class Merged:
    """What a completed merge wrote: the new version (None if the text stayed) and each amendment's status."""

    version: SectionVersion | None
    statuses: dict[int, str]


@writes
def complete_merge(actor, document_id: int, section_id: int, *, revision: int | None, base_version: int | None,
                   choices: Mapping[str, Any], final_text: str | None, final_heading: str | None = None,
                   decisions: Mapping[int, tuple[str, str]], seen: Mapping[str, int]) -> Merged:
    """Write the merged text as one new version and decide every amendment of the merge, in one transaction.

    ``final_text`` is the moderator's (hand-edited) text, None for the
    choices' own; ``decisions`` maps each amendment id to (status, reason)
    (``"open"``: left open, it follows the new version); ``seen`` the
    revisions the moderator merged. The draft is deleted; ``section.merged``
    records which changes of which amendment went in.

    :raises PermissionDenied: for a participant, or an amendment of the actor's own.
    :raises ConflictError: when the section moved on since ``base_version``, an amendment changed since it was
        seen, or the draft is someone else's now: nothing is written.
    :raises ValidationError: on a status the merge does not allow for an amendment, or a missing reason.
    """
    require_moderator(actor, _("Only moderators merge amendments."))
    document, section = _lock(document_id, section_id)
    if base_version is not None and to_int(base_version) != section.version_count:
        raise ConflictError(_("Someone saved version %(current)s of this section while you were merging version "
                              "%(base)s. Nothing was changed; your text is kept below. Start the merge again on "
                              "the new version.", current=section.version_count, base=base_version))
    b = board(document, section, only={str(k): int(v) for k, v in seen.items()})
    lock_rows(Amendment, [a.id for a in b.amendments])  # the merged ones (fresh); following locks the others
    changed = [a for a in b.amendments if a.revision != int(seen[key_of(a)])]
    gone = [int(k) for k in seen if k not in b.by_key]
    if gone:
        changed += list(db.session.scalars(select(Amendment).where(Amendment.id.in_(gone))))
    if changed:
        raise ConflictError(_("%(codes)s changed since you looked (edited, withdrawn, decided or in conflict). "
                              "Nothing was changed; your text is kept below: review the workspace again.",
                              codes=", ".join(sorted(a.code for a in changed))))
    try:
        comp = composition(b, choices, None if final_text is None else documents.clean_body(final_text),
                           None if final_heading is None else documents.clean_heading(final_heading),
                           actor_id=actor.id)
    except CombineError as exc:
        raise ValidationError(_("These choices do not fit the workspace any more: review them again.")) from exc
    body = comp.text if final_text is None else documents.clean_body(final_text)
    heading = comp.heading if final_heading is None else documents.clean_heading(final_heading)
    closing: list[tuple[Amendment, Status, str]] = []
    statuses: dict[int, str] = {}
    taken_data: dict[int, dict] = {}
    for verdict in comp.verdicts:
        amendment = verdict.amendment
        status, reason = decisions.get(amendment.id) or (verdict.default, None)
        if reason is None:  # not given (a caller other than the page): the default naming the merge
            reason = default_reason(b, amendment, status, [v.amendment for v in comp.verdicts if v.taken])
        if not verdict.allowed:
            raise PermissionDenied(_("You cannot decide on your own amendment (%(code)s): leave its changes out of "
                                     "your merge.", code=amendment.code))
        if status not in verdict.allowed:
            raise ValidationError(_("%(code)s cannot be “%(status)s” in this merge: %(taken)s of its %(total)s "
                                    "changes are taken.", code=amendment.code, status=_status_words(status),
                                    taken=verdict.taken, total=verdict.total), f"status-{amendment.id}")
        statuses[amendment.id] = status
        if status == OPEN:
            continue
        closing.append((amendment, Status(status), documents.clean_reason(reason, f"reason-{amendment.id}")))
        taken_data[amendment.id] = {"merge": {"section_id": section.id,
                                              "taken": [int(i.split(".")[1]) for i in verdict.outcome.taken],
                                              "changes": verdict.outcome.total,
                                              "heading": verdict.heading_taken or None}}
    accepting = [a for a, s, _r in closing if s in (Status.ACCEPTED, Status.ACCEPTED_MODIFIED)]
    if (body != b.version.body or heading != b.version.heading) and not accepting:
        raise ValidationError(_("The text changes but no amendment is accepted: accept the amendments it comes "
                                "from, or edit the section itself."))
    if not closing:
        raise ValidationError(_("Decide at least one amendment, or discard the merge."))
    version_reason = "Merged: " + ", ".join(f"{a.code} {s.value}" for a, s, _r in closing)
    version = decide_together(actor, document, section, closing, heading=heading, body=body,
                              version_reason=version_reason, data=taken_data)
    if version is not None:  # nothing went in otherwise: the decisions' own events say what happened
        record_event(actor, "section.merged", section, document_id=document.id,
                     from_state=f"v{b.version.number}", to_state=f"v{version.number}",
                     data={"version": version.number, "hand_edited": body != comp.text or None,
                           "amendments": [{"id": a.id, "code": a.code, "status": s.value,
                                           **{key: taken_data[a.id]["merge"][key]
                                              for key in ("taken", "changes", "heading")}}
                                          for a, s, _r in closing]})
    found = db.session.scalar(select(MergeDraft.id).where(MergeDraft.section_id == section.id))
    draft = lock_row(MergeDraft, found) if found is not None else None
    if draft is None or draft.moderator_id != actor.id:
        raise ConflictError(_("This merge was taken over or discarded meanwhile. Nothing was changed; your text is "
                              "kept below."))
    if revision is not None and to_int(revision) != draft.revision:
        raise ConflictError(_("This merge was saved elsewhere since (another tab?). Nothing was changed; your text "
                              "is kept below: reload the workspace and compare."))
    db.session.delete(draft)
    announce(merge_topic(section.id))
    return Merged(version, statuses)


def _status_words(status: str) -> str:
    """A status as the select lists it, in the reader's language."""
    if status == OPEN:
        return _("left open")
    try:
        return Status(status).label.lower()
    except ValueError:
        return status
