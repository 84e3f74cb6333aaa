"""Consultative votes: open, cast, close, check a receipt; and what the pages read of them.

A moderator opens a vote on an open amendment, or on the document's whole
text, and closes it; every member
votes once, yes, no or abstain. A *named* vote keeps the choice with the
voter and may be changed until the vote closes. A *secret* vote is final once
cast: the voter is marked as having voted (``VoteParticipation``) and the
choice goes into a ``Ballot`` that nothing joins to them (see ``models.py``);
the voter is shown a receipt code once, kept only as a hash beside the ballot,
with which they check after the result that their ballot was counted as cast.
While the vote is open the ballot is sealed (``sealing.py``); the close opens
every ballot and writes them again in a random order, in one statement.

The audit trail records who opened, voted and closed, and the result; it
never records a choice (a secret one would be revealed, a named one would
leak the count before the close).

Locks (``locking.py``): opening locks the amendment; casting and closing lock
the vote row, so a close waits for the casts in flight and counts them all,
and a cast after the close sees it closed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import load_only

from ..accounts.models import User
from ..accounts.rules import is_moderator, require_member, require_moderator
from ..amendments.models import Amendment
from ..amendments.services import can_view
from ..audit.services import record_event
from ..documents.models import Document
from ..extensions import db
from ..live import announce
from ..locking import lock_row
from ..services import ConflictError, NotFound, ValidationError, utcnow, writes
from . import sealing
from .models import CHOICES, SUBJECT_AMENDMENT, SUBJECT_TEXT, Ballot, SealedBallot, Vote, VoteParticipation
from .tally import Majority, Rule, tally

QUESTION_MAX = 500
ELIGIBLE_MAX = 1_000_000


@dataclass(frozen=True)
class Cast:
    """What casting answered: the vote, whether a named vote was changed, and a secret vote's receipt code (once)."""

    vote: Vote
    changed: bool = False
    receipt: str | None = None


# ------------------------------------------------------------------ reading

def get_vote_or_404(document: Document, vote_id: int) -> Vote:
    """A vote of ``document``.

    :raises NotFound: when there is none with that id on this document.
    """
    vote = db.session.scalar(select(Vote).where(Vote.id == vote_id, Vote.document_id == document.id))
    if vote is None:
        raise NotFound(_("There is no such vote."))
    return vote


def votes_on(amendment_id: int) -> list[Vote]:
    """An amendment's votes, newest first."""
    return list(db.session.scalars(select(Vote).where(Vote.amendment_id == amendment_id).order_by(Vote.id.desc())))


def votes_on_text(document_id: int) -> list[Vote]:
    """A document's votes on its whole text, newest first."""
    return list(db.session.scalars(select(Vote).where(Vote.document_id == document_id, Vote.subject == SUBJECT_TEXT)
                                   .order_by(Vote.id.desc())))


def votes_statement(document_id: int):
    """The SELECT of every vote of a document, newest first (for a page of them)."""
    return select(Vote).where(Vote.document_id == document_id).order_by(Vote.id.desc())


def votes_of(document_id: int) -> list[Vote]:
    """Every vote of a document, newest first."""
    return list(db.session.scalars(votes_statement(document_id)))


def amendment_codes(amendment_ids: list[int]) -> dict[int, str]:
    """The codes (A-014) of amendments by id, in one query."""
    if not amendment_ids:
        return {}
    return {a.id: a.code for a in db.session.scalars(select(Amendment).options(load_only(Amendment.id, Amendment.number))
                                                      .where(Amendment.id.in_(set(amendment_ids))))}


def closed_votes_of(document_id: int, until=None) -> list[Vote]:
    """A document's closed votes in the order they closed; only those closed by ``until`` when given."""
    query = select(Vote).where(Vote.document_id == document_id, Vote.closed_at.is_not(None))
    if until is not None:
        query = query.where(Vote.closed_at <= until)
    return list(db.session.scalars(query.order_by(Vote.closed_at, Vote.id)))


def rolls_of(votes: list[Vote]) -> dict[int, list[tuple[str, str]]]:
    """The rolls of closed named votes (``named_voters`` for many votes, in one query): vote id → (name, choice)."""
    named = [vote.id for vote in votes if vote.is_closed and not vote.secret]
    rolls: dict[int, list[tuple[str, str]]] = {vote_id: [] for vote_id in named}
    if named:
        for vote_id, user, choice in db.session.execute(
                select(VoteParticipation.vote_id, User, VoteParticipation.choice)
                .join(User, VoteParticipation.voter_id == User.id).where(VoteParticipation.vote_id.in_(named))):
            rolls[vote_id].append((user.display, choice))
    return {vote_id: sorted(roll, key=lambda pair: pair[0].casefold()) for vote_id, roll in rolls.items()}


def participant_counts(vote_ids: list[int]) -> dict[int, int]:
    """How many have voted in each vote (one query)."""
    if not vote_ids:
        return {}
    return dict(db.session.execute(select(VoteParticipation.vote_id, func.count()).where(
        VoteParticipation.vote_id.in_(vote_ids)).group_by(VoteParticipation.vote_id)).all())


def participation_of(user, vote: Vote) -> VoteParticipation | None:
    """The reader's own participation in ``vote``, if they voted."""
    if user is None or not user.is_authenticated or user.id is None:
        return None
    return db.session.scalar(select(VoteParticipation).where(VoteParticipation.vote_id == vote.id,
                                                             VoteParticipation.voter_id == user.id))


def named_voters(vote: Vote) -> list[tuple[str, str]]:
    """A closed named vote's roll: (display name, choice), by name; empty for a secret or open vote."""
    if vote.secret or not vote.is_closed:
        return []
    rows = db.session.execute(select(User, VoteParticipation.choice).join(
        VoteParticipation, VoteParticipation.voter_id == User.id).where(VoteParticipation.vote_id == vote.id))
    return sorted(((user.display, choice) for user, choice in rows), key=lambda pair: pair[0].casefold())


def followable(user, ids: set[int]) -> set[int]:
    """The votes among ``ids`` whose page ``user`` may see, for ``vote:<id>`` live topics (one query).

    A vote on the whole text is public; one on an amendment follows the amendment's page.
    """
    rows = db.session.execute(select(Vote.id, Vote.amendment_id, Amendment.status, Amendment.author_id)
                              .outerjoin(Amendment, Amendment.id == Vote.amendment_id).where(Vote.id.in_(ids)))
    return {row.id for row in rows if row.amendment_id is None or can_view(user, row)}


def can_open(user) -> bool:
    """Moderators open votes."""
    return is_moderator(user)


def can_close(user, vote: Vote) -> bool:
    """Moderators close open votes."""
    return is_moderator(user) and not vote.is_closed


# ------------------------------------------------------------------ writing

@writes
def open_vote(actor, document_id: int, amendment_id: int | None, *, question: str, secret: bool, majority: str,
              abstentions_count: bool, eligible: int | None = None, quorum_votes: int | None = None,
              quorum_percent: int | None = None) -> Vote:
    """A moderator opens a vote on an open amendment of the document, or (``amendment_id`` None) on its whole text.

    :raises PermissionDenied: for anyone but a moderator.
    :raises NotFound: for an amendment not on this document, or no such document.
    :raises ValidationError: for an amendment that is not open, or a rule that cannot be applied.
    """
    require_moderator(actor, _("Only moderators open votes."))
    amendment = None
    if amendment_id is None:
        if db.session.get(Document, document_id) is None:
            raise NotFound(_("There is no such document."))
    else:
        amendment = lock_row(Amendment, amendment_id)
        if amendment is None or amendment.document_id != document_id:
            raise NotFound(_("There is no such amendment."))
        if not amendment.is_open:
            raise ValidationError(_("Votes are held only on open amendments."))
    question = (question or "").strip()
    if not question or len(question) > QUESTION_MAX:
        raise ValidationError(_("Ask a question of at most %(max)s characters.", max=QUESTION_MAX), "question")
    if majority not in {m.value for m in Majority}:
        raise ValidationError(_("Choose a majority."), "majority")
    for name, value, top in (("eligible", eligible, ELIGIBLE_MAX), ("quorum_votes", quorum_votes, ELIGIBLE_MAX),
                             ("quorum_percent", quorum_percent, 100)):
        if value is not None and not 0 <= value <= top:
            raise ValidationError(_("Give a number from 0 to %(max)s.", max=top), name)
    if quorum_percent == 0:
        quorum_percent = None
    if eligible is None and majority == Majority.ABSOLUTE.value:
        raise ValidationError(_("An absolute majority needs the number of eligible voters."), "eligible")
    if eligible is None and quorum_percent is not None:
        raise ValidationError(_("A quorum in percent needs the number of eligible voters."), "eligible")
    vote = Vote(document_id=document_id, subject=SUBJECT_TEXT if amendment is None else SUBJECT_AMENDMENT,
                amendment_id=amendment.id if amendment else None, question=question, secret=bool(secret),
                majority=majority, abstentions_count=bool(abstentions_count), eligible=eligible,
                quorum_votes=quorum_votes or None, quorum_percent=quorum_percent, opened_by_id=actor.id,
                opened_at=utcnow())
    Rule(majority=Majority(majority), abstentions_count=vote.abstentions_count, eligible=eligible,
         quorum_votes=vote.quorum_votes, quorum_percent=quorum_percent)  # the tally accepts it
    db.session.add(vote)
    db.session.flush()
    record_event(actor, "vote.opened", vote, document_id=document_id, to_state="open",
                 data={"subject": vote.subject, "amendment_id": vote.amendment_id,
                       "code": amendment.code if amendment else None, "secret": vote.secret, "majority": majority})
    return vote


def _lock_open_vote(vote_id: int) -> Vote:
    """Lock a vote and check it is still open.

    :raises NotFound: when there is no such vote.
    :raises ValidationError: when it has closed.
    """
    vote = lock_row(Vote, vote_id)
    if vote is None:
        raise NotFound(_("There is no such vote."))
    if vote.is_closed:
        raise ValidationError(_("This vote has closed: no more votes are taken."), "choice")
    return vote


def receipt_hash(vote_id: int, code: str) -> str:
    """The stored form of a receipt code: SHA-256 of the vote and the code without its dashes and spaces."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(f"{vote_id}:{cleaned}".encode()).hexdigest()


def _new_receipt() -> str:
    """A receipt code: 80 random bits as five groups of four hex digits (easy to copy, impossible to guess)."""
    raw = secrets.token_hex(10).upper()
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


@writes
def cast_vote(actor, vote_id: int, choice: str) -> Cast:
    """A member votes yes, no or abstain; a named vote may be changed until it closes, a secret one is final.

    :raises PermissionDenied: for visitors, suspended and unverified accounts.
    :raises NotFound: when there is no such vote.
    :raises ValidationError: for a closed vote, a second secret vote, or a choice that is not one.
    """
    require_member(actor, _("Log in with an active account to vote."))
    if choice not in CHOICES:
        raise ValidationError(_("Choose yes, no or abstain."), "choice")
    vote = _lock_open_vote(vote_id)
    mine = db.session.scalar(select(VoteParticipation).where(VoteParticipation.vote_id == vote.id,
                                                             VoteParticipation.voter_id == actor.id))
    if mine is not None:
        if vote.secret:
            raise ValidationError(_("You have already voted in this secret vote; a secret vote cannot be changed."),
                                  "choice")
        changed = mine.choice != choice
        mine.choice = choice
        if changed:
            record_event(actor, "vote.changed", vote, document_id=vote.document_id)
        return Cast(vote=vote, changed=changed)
    try:
        with db.session.begin_nested():
            db.session.add(VoteParticipation(vote_id=vote.id, voter_id=actor.id,
                                             choice=None if vote.secret else choice))
    except IntegrityError:
        # Another request of the same person got there first (the lock makes this rare; the constraint sure).
        raise ValidationError(_("You have already voted in this vote."), "choice") from None
    receipt = None
    if vote.secret:
        # Sealed: this transaction also wrote the participation, so its traces (xmin, place, time) are shared.
        receipt = _new_receipt()
        db.session.add(SealedBallot(id=secrets.token_hex(16), vote_id=vote.id,
                                    sealed=sealing.seal(current_app.secret_key, vote.id, choice,
                                                        receipt_hash(vote.id, receipt))))
    # Who voted is public; how is not: no choice in the event, for either kind of vote.
    record_event(actor, "vote.cast", vote, document_id=vote.document_id)
    announce(f"vote:{vote.id}")  # open vote pages count one more (after the commit; nothing on a rollback)
    return Cast(vote=vote, receipt=receipt)


def _counts(vote: Vote) -> dict[str, int]:
    """The choices counted, from the ballots (secret) or the participations (named)."""
    column = Ballot.choice if vote.secret else VoteParticipation.choice
    model = Ballot if vote.secret else VoteParticipation
    rows = db.session.execute(select(column, func.count()).select_from(model)
                              .where(model.vote_id == vote.id).group_by(column)).all()
    counts = dict.fromkeys(CHOICES, 0)
    counts.update({choice: n for choice, n in rows if choice in counts})
    return counts


def _secret_keys() -> list:
    """The app's secret key, then the older ones it still accepts (``SECRET_KEY_FALLBACKS``)."""
    return [current_app.secret_key, *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]


def _open_ballots(vote: Vote) -> None:
    """Open a closing secret vote's sealed ballots and write them as open ballots, in a random order, at once.

    The sealed rows are deleted; every open ballot is written by this one statement of the closing
    transaction, with a new random key, so none keeps a trace of the transaction that cast it.

    :raises ConflictError: when a sealed ballot cannot be opened (the secret key changed while the vote was
        open, and the old one is not in ``SECRET_KEY_FALLBACKS``); nothing is changed then.
    """
    sealed = db.session.scalars(select(SealedBallot.sealed).where(SealedBallot.vote_id == vote.id)).all()
    try:
        opened = [sealing.unseal(_secret_keys(), vote.id, text) for text in sealed]
    except sealing.Unreadable:
        raise ConflictError(_("The ballots of this vote cannot be opened: the site's secret key changed while the "
                              "vote was open. An administrator can add the old key to SECRET_KEY_FALLBACKS.")) from None
    db.session.execute(delete(SealedBallot).where(SealedBallot.vote_id == vote.id))
    if opened:
        db.session.execute(insert(Ballot), [
            {"id": secrets.token_hex(16), "vote_id": vote.id, "choice": choice, "receipt_hash": hashed}
            for choice, hashed in sealing.shuffled(opened)])


@writes
def close_vote(actor, vote_id: int) -> Vote:
    """A moderator closes a vote: the result is computed once and stored.

    :raises PermissionDenied: for anyone but a moderator.
    :raises NotFound: when there is no such vote.
    :raises ValidationError: when it has already closed.
    """
    require_moderator(actor, _("Only moderators close votes."))
    vote = lock_row(Vote, vote_id)
    if vote is None:
        raise NotFound(_("There is no such vote."))
    if vote.is_closed:
        raise ValidationError(_("This vote has already closed."))
    if vote.secret:
        _open_ballots(vote)
    counts = _counts(vote)
    outcome = tally(counts["yes"], counts["no"], counts["abstain"], vote.rule)
    vote.yes_count, vote.no_count, vote.abstain_count = outcome.yes, outcome.no, outcome.abstain
    vote.passed, vote.why = outcome.passed, outcome.why.value
    vote.closed_at, vote.closed_by_id = utcnow(), actor.id
    record_event(actor, "vote.closed", vote, document_id=vote.document_id, from_state="open", to_state="closed",
                 data={"subject": vote.subject, "amendment_id": vote.amendment_id, "yes": outcome.yes, "no": outcome.no,
                       "abstain": outcome.abstain, "passed": outcome.passed, "why": outcome.why.value})
    announce(f"vote:{vote.id}")  # open vote pages show the result
    return vote


def check_receipt(vote: Vote, code: str) -> str:
    """The choice recorded with a receipt code, once the result is out.

    :raises ValidationError: before the result, for a named vote, or for a code no ballot of this vote has.
    """
    if not vote.secret:
        raise ValidationError(_("Receipts are given only in secret votes."), "code")
    if not vote.is_closed:
        raise ValidationError(_("Receipts can be checked once the vote has closed."), "code")
    choice = db.session.scalar(select(Ballot.choice).where(Ballot.vote_id == vote.id,
                                                           Ballot.receipt_hash == receipt_hash(vote.id, code or "")))
    if choice is None:
        raise ValidationError(_("No ballot of this vote has that receipt code. Check that you copied it whole."),
                              "code")
    return choice
