"""The projector's services: what the room's screen shows, changed from the moderators' console.

A document has one projection (``models.Projection``): nothing, a section
or an amendment. Moderators change it (show a section or an amendment, step
to the next or previous open amendment of the shown section, show nothing
with a short message) and record the assembly's decision on the amendment
shown, through the amendments area's own ``decide_amendment``: there is one
path for decisions. Every change is audited (``projector.shown``,
``projector.stepped``, ``projector.cleared``) and announced on the
document's live topic ``projector:<document_id>`` once it commits.

Every console form carries the projection's ``revision``: a console that
shows an older state than the room is refused with a ConflictError and
changes nothing, so two moderators never step past an amendment unseen.

The screen is the same for everyone who reads the document: it is what the
public sees, whoever opened the page (the screen in the room usually runs in
a moderator's browser), so a hidden amendment shows only its code and the
moderators' reason, never its text.

Locks (``locking.py``): the projection row, level ``projections``, after
everything else; a decision locks what ``decide_amendment`` locks and then
the projection, to check that it still shows the amendment decided.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from ...accounts.rules import require_moderator
from ...amendments import services as amendments
from ...amendments.models import Amendment, Status
from ...amendments.services.queries import SORTS
from ...audit import states
from ...audit.services import record_event
from ...documents import services as documents
from ...documents.models import Document, Section
from ...extensions import db
from ...live import announce
from ...locking import lock_row
from ...services import ConflictError, NotFound, ValidationError, to_int, utcnow, writes
from .. import votes
from ..models import Vote
from .models import MESSAGE_MAX, Projection, Shown


NEXT, PREVIOUS = "next", "previous"
_SHOWN_KEY = "projector_shown"  # session.info: what each document's projector shows, per transaction


def topic(document_id: int) -> str:
    """The live topic of a document's projector: announced whenever what it shows changes."""
    return f"projector:{document_id}"


# ------------------------------------------------------------------ reading

def projection_of(document: Document) -> Projection:
    """The document's projection; a blank one (not stored) before a moderator first chose anything."""
    found = db.session.scalar(select(Projection).where(Projection.document_id == document.id))
    return found if found is not None else Projection(document_id=document.id, revision=0)


@dataclass
class Screen:
    """What the projector shows, loaded for the page: the same for every reader."""

    document: Document
    projection: Projection
    entry: documents.SectionEntry | None = None  # the section shown, numbered (also an amendment's section)
    amendment: Amendment | None = None
    supporters: list = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    vote_participants: dict[int, int] = field(default_factory=dict)
    merged_into: str | None = None
    vote: Vote | None = None  # a vote on the whole text, shown alone

    @property
    def shown(self) -> Shown:
        """Nothing, a section, an amendment or a vote on the whole text (what has disappeared shows as nothing)."""
        if self.vote is not None:
            return Shown.VOTE
        if self.amendment is not None:
            return Shown.AMENDMENT
        return Shown.SECTION if self.entry is not None else Shown.NOTHING

    @property
    def hidden(self) -> bool:
        """Whether the amendment shown is hidden by the moderators: the room sees its code and the reason only."""
        return self.amendment is not None and self.amendment.is_hidden


def scopes(projection: Projection) -> list[str]:
    """The content states the screen shows (``audit/states.py``), beyond the projection's own revision."""
    return [states.SITE, *_shown_scopes(projection.document_id, projection.section_id, projection.amendment_id,
                                        projection.vote_id)]


def _shown_scopes(document_id: int, section_id: int | None, amendment_id: int | None,
                  vote_id: int | None = None) -> list[str]:
    """The document's frame and the content states of the section, amendment or whole-text vote shown."""
    found = [states.frame_scope(document_id)]
    if vote_id is not None:  # a vote on the whole text changes the reading page's state (plenary/figures.py)
        found.append(states.reading_scope(document_id))
    if amendment_id is not None:
        found.append(states.amendment_scope(amendment_id))
    if section_id is not None:
        found.append(states.section_text_scope(section_id))
    return found


def live_topics(projection: Projection) -> str:
    """The topic a projector's live region follows: its own, announced for every change it shows (:func:`follow_shown`)."""
    return topic(projection.document_id)


def document_by_id(document_id: int) -> Document | None:
    """The document of a projector topic (``live/content.py`` renders its screen by id), or None."""
    return db.session.get(Document, document_id)


def screen(document: Document, projection: Projection) -> Screen:
    """Load what the projector shows, as the public sees it (a fixed number of queries)."""
    result = Screen(document=document, projection=projection)
    if projection.vote_id is not None:
        vote = db.session.get(Vote, projection.vote_id)
        if vote is not None and vote.document_id == document.id:
            result.vote = vote
            result.vote_participants = votes.participant_counts([vote.id])
    if projection.amendment_id is not None:
        try:  # with its author, section and versions, as the amendment page has them; never a draft
            amendment = amendments.get_amendment_or_404(document, projection.amendment_id, None)
        except NotFound:
            amendment = None
        if amendment is not None:
            result.amendment = amendment
            if not amendment.is_hidden:
                result.supporters = amendments.supporters(amendment)
                result.votes = votes.votes_on(amendment.id)
                result.vote_participants = votes.participant_counts([v.id for v in result.votes])
                result.merged_into = amendments.merged_target_code(amendment)
    if projection.section_id is not None:
        try:
            section = documents.get_section_or_404(document, projection.section_id)
        except NotFound:
            section = None
        if section is not None and not section.retired:  # a retired section has no lines to show
            result.entry = documents.section_entry(document, section)
    return result


def describe(projection: Projection) -> str:
    """What a projection shows, in a few words for messages: "A-012", "§3 Energy", a vote's question or "nothing"."""
    if projection.vote_id is not None:
        vote = db.session.get(Vote, projection.vote_id)
        if vote is not None:
            return _("the vote “%(question)s”", question=vote.question)
    if projection.amendment_id is not None:
        amendment = db.session.get(Amendment, projection.amendment_id)
        if amendment is not None:
            return amendment.code
    if projection.section_id is not None:
        section = db.session.get(Section, projection.section_id)
        if section is not None and section.current_version_id is not None:
            document = db.session.get(Document, section.document_id)
            entry = documents.section_entry(document, documents.get_section_or_404(document, section.id))
            return f"§{entry.number} {entry.version.heading}" if entry.number else entry.version.heading
    return _("nothing")


def sequence(document_id: int, section_id: int | None) -> list:
    """The amendments of a section in the amendment list's "section" order (drafts left out), one query.

    Rows of (id, number, status, hidden_at); the order is the list's own (``queries.SORTS["section"]``).
    """
    in_section = Amendment.section_id == section_id if section_id is not None else Amendment.section_id.is_(None)
    return list(db.session.execute(
        select(Amendment.id, Amendment.number, Amendment.status, Amendment.hidden_at)
        .outerjoin(Section, Section.id == Amendment.section_id)
        .where(Amendment.document_id == document_id, Amendment.status != Status.DRAFT.value, in_section)
        .order_by(*SORTS["section"], Amendment.id)).all())


def showable_amendments(document: Document) -> list[Amendment]:
    """The amendments the console offers to show: submitted or decided, not hidden, in the list's "section" order.

    One query; their texts and diffs are left unread.
    """
    return list(db.session.scalars(
        select(Amendment).options(*(defer(column) for column in (
            Amendment.proposed_body, Amendment.diff_inline_html, Amendment.diff_side_html,
            Amendment.heading_diff_html, Amendment.final_body, Amendment.modification_diff_html)))
        .outerjoin(Section, Section.id == Amendment.section_id)
        .where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value,
               Amendment.hidden_at.is_(None))
        .order_by(*SORTS["section"], Amendment.id)))


def step_target(projection: Projection, direction: str) -> int | None:
    """The open amendment after (or before) the one shown, in its section; None when there is none.

    With a section shown and no amendment, "next" is the section's first open amendment and
    "previous" its last. Decided, withdrawn and hidden amendments are passed over.
    """
    rows = sequence(projection.document_id, projection.section_id)
    ids = [row.id for row in rows]
    if projection.amendment_id in ids:
        at = ids.index(projection.amendment_id)
        candidates = rows[at + 1:] if direction == NEXT else list(reversed(rows[:at]))
    else:
        candidates = rows if direction == NEXT else list(reversed(rows))
    return next((row.id for row in candidates
                 if row.status == Status.SUBMITTED.value and row.hidden_at is None), None)


# ------------------------------------------------------------------ writing

def _lock_projection(actor, document_id: int) -> Projection:
    """The document's projection, locked (made on first use; the unique document settles two first uses).

    :raises PermissionDenied: for anyone but a moderator.
    :raises NotFound: for a document that does not exist.
    """
    require_moderator(actor, _("Only moderators use the projector's console."))
    if db.session.get(Document, document_id) is None:
        raise NotFound(_("There is no such document."))
    found = db.session.scalar(select(Projection.id).where(Projection.document_id == document_id))
    if found is None:
        try:
            with db.session.begin_nested():
                blank = Projection(document_id=document_id, revision=0, updated_at=utcnow())
                db.session.add(blank)
            found = blank.id
        except IntegrityError:  # another moderator's first use got there first: theirs is the one
            found = db.session.scalar(select(Projection.id).where(Projection.document_id == document_id))
    return lock_row(Projection, found)


def _check_revision(projection: Projection, revision: int | str | None) -> None:
    """Refuse a console that showed an older state of the projector than the room sees now.

    :raises ConflictError: naming what the projector shows now.
    """
    if revision is not None and to_int(revision) != projection.revision:
        raise ConflictError(_("The projector changed meanwhile: it now shows %(what)s. Nothing was changed; "
                              "check the console and choose again.", what=describe(projection)),
                            current=projection)


def _changed(actor, projection: Projection, action: str, data: dict) -> Projection:
    """Record a change of the projection, bump its revision and announce it once committed."""
    projection.revision += 1
    projection.updated_at = utcnow()
    projection.updated_by_id = actor.id
    record_event(actor, action, projection, document_id=projection.document_id,
                 data={"shown": projection.shown.value, "section_id": projection.section_id,
                       "amendment_id": projection.amendment_id, "vote_id": projection.vote_id, **data})
    announce(topic(projection.document_id))
    return projection


def _showable(document_id: int, amendment_id: int) -> Amendment:
    """An amendment of the document that may be put on the screen.

    :raises NotFound: for a draft or an amendment of another document.
    :raises ValidationError: for a hidden amendment (the room must not read what the moderators hid).
    """
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None or amendment.document_id != document_id or not amendments.can_view(None, amendment):
        raise NotFound(_("There is no such amendment."))
    if amendment.is_hidden:
        raise ValidationError(_("%(code)s is hidden by the moderators; it cannot be shown on the projector.",
                                code=amendment.code), "amendment_id")
    return amendment


@writes
def show_section(actor, document_id: int, section_id: int, *, revision: int | None = None) -> Projection:
    """A moderator puts a section on the screen, with its numbered lines.

    :raises PermissionDenied: for anyone but a moderator.
    :raises NotFound: for a section of another document.
    :raises ValidationError: for a retired section.
    :raises ConflictError: when the projector changed since ``revision``.
    """
    projection = _lock_projection(actor, document_id)
    _check_revision(projection, revision)
    if not section_id:
        raise ValidationError(_("Choose a section."), "section_id")
    section = db.session.get(Section, to_int(section_id, "section_id"))
    if section is None or section.document_id != document_id:
        raise NotFound(_("This section does not exist."))
    if section.retired:
        raise ValidationError(_("This section has been retired; it cannot be shown."), "section_id")
    projection.section_id, projection.amendment_id, projection.message = section.id, None, None
    projection.vote_id = None
    return _changed(actor, projection, "projector.shown", {})


@writes
def show_amendment(actor, document_id: int, amendment_id: int, *, revision: int | None = None) -> Projection:
    """A moderator puts an amendment on the screen: its diff on numbered lines, supporters, decision and votes.

    :raises PermissionDenied: for anyone but a moderator.
    :raises NotFound: for a draft or an amendment of another document.
    :raises ValidationError: for a hidden amendment.
    :raises ConflictError: when the projector changed since ``revision``.
    """
    projection = _lock_projection(actor, document_id)
    _check_revision(projection, revision)
    if not amendment_id:
        raise ValidationError(_("Choose an amendment."), "amendment_id")
    amendment = _showable(document_id, to_int(amendment_id, "amendment_id"))
    projection.section_id, projection.amendment_id, projection.message = amendment.section_id, amendment.id, None
    projection.vote_id = None
    return _changed(actor, projection, "projector.shown", {"code": amendment.code})


@writes
def show_vote(actor, document_id: int, vote_id: int, *, revision: int | None = None) -> Projection:
    """A moderator puts a vote on the whole text on the screen: its question, the turnout, then the result.

    A vote on an amendment is shown with its amendment (:func:`show_amendment`).

    :raises PermissionDenied: for anyone but a moderator.
    :raises NotFound: for a vote of another document.
    :raises ValidationError: for no vote chosen, or a vote on an amendment.
    :raises ConflictError: when the projector changed since ``revision``.
    """
    projection = _lock_projection(actor, document_id)
    _check_revision(projection, revision)
    if not vote_id:
        raise ValidationError(_("Choose a vote."), "vote_id")
    vote = db.session.get(Vote, to_int(vote_id, "vote_id"))
    if vote is None or vote.document_id != document_id:
        raise NotFound(_("There is no such vote."))
    if not vote.on_text:
        raise ValidationError(_("A vote on an amendment is shown with its amendment: show the amendment."),
                              "vote_id")
    projection.section_id = projection.amendment_id = None
    projection.vote_id, projection.message = vote.id, None
    return _changed(actor, projection, "projector.shown", {"question": vote.question})


@writes
def show_nothing(actor, document_id: int, *, message: str | None = None, revision: int | None = None) -> Projection:
    """A moderator clears the screen, optionally with a short message for the room ("Back at 14:30").

    :raises PermissionDenied: for anyone but a moderator.
    :raises ValidationError: for a message that is too long.
    :raises ConflictError: when the projector changed since ``revision``.
    """
    projection = _lock_projection(actor, document_id)
    _check_revision(projection, revision)
    message = " ".join((message or "").split()) or None
    if message is not None and len(message) > MESSAGE_MAX:
        raise ValidationError(_("Keep the message to %(max)s characters.", max=MESSAGE_MAX), "message")
    projection.section_id = projection.amendment_id = projection.vote_id = None
    projection.message = message
    return _changed(actor, projection, "projector.cleared", {})


@writes
def step(actor, document_id: int, direction: str, *, revision: int | None = None) -> Projection:
    """A moderator shows the next (or previous) open amendment of the section shown.

    :raises PermissionDenied: for anyone but a moderator.
    :raises ValidationError: when nothing is shown, or no open amendment lies that way.
    :raises ConflictError: when the projector changed since ``revision``.
    """
    if direction not in (NEXT, PREVIOUS):
        raise ValidationError(_("Choose the next or the previous amendment."), "direction")
    projection = _lock_projection(actor, document_id)
    _check_revision(projection, revision)
    if projection.shown in (Shown.NOTHING, Shown.VOTE):
        raise ValidationError(_("Show a section or one of its amendments first."), "direction")
    target = step_target(projection, direction)
    if target is None:
        where = describe(projection)
        raise ValidationError(_("There is no open amendment after %(what)s in this section.", what=where)
                              if direction == NEXT else
                              _("There is no open amendment before %(what)s in this section.", what=where),
                              "direction")
    amendment = _showable(document_id, target)
    projection.amendment_id, projection.message = amendment.id, None
    return _changed(actor, projection, "projector.stepped", {"code": amendment.code, "direction": direction})


@writes
def decide_shown(actor, document_id: int, amendment_id: int, *, decision: str, reason: str,
                 amendment_revision: int | None, revision: int | None, merged_into: str | None = None,
                 final_heading: str | None = None, final_body: str | None = None) -> Amendment:
    """Record the assembly's decision on the amendment the projector shows, through ``decide_amendment``.

    The amendment's ``amendment_revision`` and the projector's ``revision`` are both checked, so a
    console that shows an older state decides nothing. ``final_heading`` and ``final_body`` are the text
    of a decision "accept_modified" (empty: as proposed).

    :raises PermissionDenied: for anyone but a moderator, and for the amendment's own author.
    :raises ValidationError: as ``decide_amendment`` refuses (reason, support, conflicts).
    :raises ConflictError: when the amendment or the projector changed meanwhile.
    """
    require_moderator(actor, _("Only moderators use the projector's console."))
    decided = amendments.decide_amendment(actor, document_id, amendment_id, decision=decision, reason=reason,
                                          revision=amendment_revision, final_heading=final_heading,
                                          final_body=final_body, merged_into=merged_into)
    # After the amendment's own locks (the protocol's order): the decision stands only if the room saw it.
    projection = _lock_projection(actor, document_id)
    _check_revision(projection, revision)
    if projection.amendment_id != decided.id:
        raise ConflictError(_("The projector no longer shows %(code)s (it shows %(what)s). Nothing was decided.",
                              code=decided.code, what=describe(projection)), current=projection)
    announce(topic(document_id))
    return decided


# ------------------------------------------------------------------ following the content shown

def follow_shown(event, obj=None, **_kwargs) -> None:
    """Announce a document's projector when an event changes what it shows (an ``event_recorded`` listener).

    What the screen shows is what its validator follows (:func:`scopes`): an event that bumps one of
    those content states (a new supporter, a decision made on the amendment page, a vote, a hidden
    amendment, a new version of the section, the document's frame) announces ``projector:<document>``. The
    screen's live region follows that one topic, so it hears each change once, by construction.
    """
    if event.document_id is None:
        return
    shown = _shown_in(event.document_id)
    if shown is None or (shown.section_id is None and shown.amendment_id is None and shown.vote_id is None):
        return
    if states.scopes_of(event) & set(_shown_scopes(event.document_id, shown.section_id, shown.amendment_id,
                                                   shown.vote_id)):
        announce(topic(event.document_id))


def _shown_in(document_id: int):
    """What the document's projector shows (section and amendment ids; None without one), read once a transaction.

    A decision that rebases a section's open amendments records an event for each of them: they share one
    query, not one each. The answer is kept with the transaction it was read in, and asked again in the next.
    """
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None:
        return _read_shown(document_id)
    held = session.info.get(_SHOWN_KEY)
    if held is None or held[0]() is not transaction:
        held = (weakref.ref(transaction), {})
        session.info[_SHOWN_KEY] = held
    if document_id not in held[1]:
        held[1][document_id] = _read_shown(document_id)
    return held[1][document_id]


def _read_shown(document_id: int):
    """The section and amendment a document's projection shows (one query); None without a projection."""
    return db.session.execute(select(Projection.section_id, Projection.amendment_id, Projection.vote_id)
                              .where(Projection.document_id == document_id)).first()


def changed_parts(event, projection) -> set[str]:
    """A projector's own events change no page but the projector's (``audit.states.register_parts``).

    The projector follows its projection's revision, read on every request, so its events bump
    only the document's counter (which the lists and a logged-in reader's validator follow).
    """
    return set()
