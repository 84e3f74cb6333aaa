"""The plenary's rows: consultative votes, who has voted, and the secret ballots.

**Secret means secret.** For a secret vote the choice lives in a
:class:`Ballot` and the voter in a :class:`VoteParticipation`, and nothing
joins the two: the ballot has no voter, no time and no sequential id (its key
is 16 random bytes, so neither its key nor an index on it follows the order
of voting), and the participation has no choice and no ballot. What a ballot
keeps besides its choice is the SHA-256 of the receipt code its voter was
shown once. For a named vote the choice is on the participation itself and
there are no ballots.

While a secret vote is open its ballots are :class:`SealedBallot` rows:
the same transaction writes the participation and the ballot, so the ballot
is encrypted (``sealing.py``) and a reader of the database sees only a
ciphertext beside the transaction's traces. The close opens them, deletes
them and writes them as :class:`Ballot` rows in a random order, all in the
closing transaction, so that no trace of a cast remains on an open ballot.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..extensions import db
from ..services import utcnow
from .tally import Majority, Outcome, Rule, Why, tally

CHOICES = ("yes", "no", "abstain")
# What a vote is on: one amendment, or the document's whole text (the final vote on it).
SUBJECT_AMENDMENT, SUBJECT_TEXT = "amendment", "text"
SUBJECTS = (SUBJECT_AMENDMENT, SUBJECT_TEXT)


class Vote(db.Model):
    """A consultative vote on an amendment or on the whole text: the question, how it is counted, its result."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(20), default=SUBJECT_AMENDMENT, server_default=SUBJECT_AMENDMENT)
    # Set for a vote on an amendment, NULL for one on the whole text.
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    majority: Mapped[str] = mapped_column(String(20), default=Majority.SIMPLE.value)
    abstentions_count: Mapped[bool] = mapped_column(Boolean, default=False)
    eligible: Mapped[int | None] = mapped_column(Integer)
    quorum_votes: Mapped[int | None] = mapped_column(Integer)
    quorum_percent: Mapped[int | None] = mapped_column(Integer)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The result, computed once when the vote closes and kept as it was then.
    yes_count: Mapped[int | None] = mapped_column(Integer)
    no_count: Mapped[int | None] = mapped_column(Integer)
    abstain_count: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    why: Mapped[str | None] = mapped_column(String(20))

    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])

    def __repr__(self) -> str:
        on = f"amendment {self.amendment_id}" if self.amendment_id else "the text"
        return f"<Vote {self.id} on {on} {'closed' if self.is_closed else 'open'}>"

    @property
    def on_text(self) -> bool:
        """Whether the vote is on the document's whole text (not on an amendment)."""
        return self.subject == SUBJECT_TEXT

    @property
    def is_closed(self) -> bool:
        """Whether the vote is over and its result stored."""
        return self.closed_at is not None

    @property
    def rule(self) -> Rule:
        """How this vote is counted, for the tally."""
        return Rule(majority=Majority(self.majority), abstentions_count=self.abstentions_count,
                    eligible=self.eligible, quorum_votes=self.quorum_votes, quorum_percent=self.quorum_percent)

    @property
    def outcome(self) -> Outcome | None:
        """The stored result as the tally words it; None while the vote is open."""
        if not self.is_closed:
            return None
        # The stored counts and verdict are the record (a later change to the tally must not rewrite a
        # published result); the figures of the reason are arithmetic on them.
        outcome = tally(self.yes_count or 0, self.no_count or 0, self.abstain_count or 0, self.rule)
        return replace(outcome, passed=bool(self.passed), why=Why(self.why))


class VoteParticipation(db.Model):
    """That one person has voted in one vote ("has voted"); for a named vote, also how.

    One per person and vote (the unique constraint settles two submissions at
    once). For a secret vote ``choice`` is always NULL and nothing here leads
    to the ballot.
    """

    __tablename__ = "vote_participations"
    __table_args__ = (UniqueConstraint("vote_id", "voter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    choice: Mapped[str | None] = mapped_column(String(10))

    voter: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<VoteParticipation vote={self.vote_id} voter={self.voter_id}>"


class SealedBallot(db.Model):
    """A secret ballot while its vote is open: a random key, its vote and the sealed choice and receipt hash."""

    __tablename__ = "sealed_ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # 16 random bytes, hex
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str] = mapped_column(String(100))  # sealing.seal: 84 ASCII characters for every choice

    def __repr__(self) -> str:
        return f"<SealedBallot in vote {self.vote_id}>"


class Ballot(db.Model):
    """One secret ballot of a closed vote: a random key, its vote, the choice and the hash of its receipt.

    Written only by the close, all of a vote's at once in a random order (see the module's docstring).
    """

    __tablename__ = "ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # 16 random bytes, hex
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id", ondelete="CASCADE"), index=True)
    choice: Mapped[str] = mapped_column(String(10))
    receipt_hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"<Ballot in vote {self.vote_id}>"
