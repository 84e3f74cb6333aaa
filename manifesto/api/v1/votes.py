"""A document's consultative votes, read-only: the question, the rule, and once closed the result.

The same services as the vote pages (``plenary/votes.py``). What is private
stays so: a vote's counts and its list of voters are published when it
closes, as on its page; a secret vote never lists who voted how, and no
ballot is ever exposed. Votes are opened, cast and closed on the site.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import url_for
from pydantic import Field

from ...audit import states
from ...documents import services as documents
from ...documents.models import Document
from ...pagination import paginate
from ...plenary import votes
from ...plenary.models import Vote
from ...plenary.wording import rule_text, why_text
from ..spec import Count, Id, Model, Reply, operation
from .blueprint import bp
from .common import ListOf, PageQuery, document_validator, iso, list_of
from .documents import asked

TAG = "Votes"


class Choice(StrEnum):
    """A vote's three answers."""

    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Subject(StrEnum):
    """What a vote is on: an amendment, or the document's whole text."""

    AMENDMENT = "amendment"
    TEXT = "text"


class Majority(StrEnum):
    """The majority a vote needs: of the votes cast, of the eligible voters, or two thirds of the votes cast."""

    SIMPLE = "simple"
    ABSOLUTE = "absolute"
    TWO_THIRDS = "two_thirds"


class Why(StrEnum):
    """Why a vote passed or not."""

    PASSED = "passed"
    TOO_FEW_YES = "too_few_yes"
    NO_QUORUM = "no_quorum"
    NO_VOTES = "no_votes"


class VoteResult(Model):
    """A closed vote's result, as counted when it closed."""

    yes: Count
    no: Count
    abstain: Count
    passed: bool
    why: Why = Field(description="The reason as a code.")
    explanation: str = Field(description="The reason in words, with the numbers it rests on, in the caller's "
                                         "language.")


class NamedVoter(Model):
    """One voter of a closed named vote and their choice."""

    name: str = Field(description="Their public display name.")
    choice: Choice


class VoteOut(Model):
    """A vote: its question and rule; its result and (named votes) its voters only once it has closed."""

    id: Id
    question: str
    subject: Subject
    amendment_id: Id | None = Field(description="The amendment voted on (null for a vote on the whole text).")
    amendment_code: str | None = Field(description="Its code, such as A-014 (null for the whole text).")
    secret: bool = Field(description="A secret vote publishes its counts only; a named one also who voted how.")
    majority: Majority
    abstentions_count: bool = Field(description="Whether abstentions count among the votes cast.")
    eligible: Count | None = Field(description="The number of eligible voters, when the moderators gave it.")
    quorum_votes: Count | None
    quorum_percent: int | None = Field(ge=0, le=100)
    rule: str = Field(description="How the vote is counted, in words, in the caller's language.")
    closed: bool
    opened_at: datetime
    closed_at: datetime | None
    participants: Count = Field(description="How many have voted so far.")
    result: VoteResult | None = Field(description="Null while the vote is open.")
    voters: list[NamedVoter] | None = Field(description="Who voted how: a closed named vote only (null otherwise).")
    url: str = Field(description="The vote's page on the site.")


class VoteList(ListOf[VoteOut]):
    """One page of a document's votes, newest first."""


def vote_out(document: Document, vote: Vote, *, participants: int, code: str | None,
             roll: list[tuple[str, str]] | None) -> VoteOut:
    """A vote as the API shows it to anyone (nothing in it is personal)."""
    outcome = vote.outcome
    result = None
    if outcome is not None:
        result = VoteResult(yes=outcome.yes, no=outcome.no, abstain=outcome.abstain, passed=outcome.passed,
                            why=Why(outcome.why.value), explanation=why_text(outcome))
    return VoteOut(
        id=vote.id, question=vote.question, subject=Subject(vote.subject), amendment_id=vote.amendment_id,
        amendment_code=code, secret=vote.secret, majority=Majority(vote.majority),
        abstentions_count=vote.abstentions_count, eligible=vote.eligible, quorum_votes=vote.quorum_votes,
        quorum_percent=vote.quorum_percent, rule=rule_text(vote.rule), closed=vote.is_closed,
        opened_at=iso(vote.opened_at), closed_at=iso(vote.closed_at), participants=participants, result=result,
        voters=[NamedVoter(name=name, choice=Choice(choice)) for name, choice in roll] if roll is not None else None,
        url=url_for("plenary.show", slug=document.slug, vote_id=vote.id))


def _outs(document: Document, found: list[Vote]) -> list[VoteOut]:
    """Votes as the API shows them, in three queries whatever their number."""
    ids = [vote.id for vote in found]
    counts = votes.participant_counts(ids)
    codes = votes.amendment_codes([vote.amendment_id for vote in found if vote.amendment_id])
    rolls = votes.rolls_of(found)
    return [vote_out(document, vote, participants=counts.get(vote.id, 0), code=codes.get(vote.amendment_id),
                     roll=rolls.get(vote.id)) for vote in found]


@operation(bp, "GET", "/documents/<slug>/votes", summary="List a document's votes", tag=TAG, response=VoteList,
           query=PageQuery, scope="read", conditional=True)
def list_votes(slug: str, query: PageQuery):
    """A document's consultative votes, on amendments and on the whole text, newest first."""
    document = documents.get_document_or_404(slug)

    def body() -> VoteList:
        page = paginate(votes.votes_statement(document.id), query.page, query.size())
        return list_of(VoteList, page, _outs(document, list(page.items)))

    # Every vote event is on the document: its state follows each one (and the site's, for voters' names).
    return Reply(body=body, etag=document_validator(document, params=asked()))


@operation(bp, "GET", "/documents/<slug>/votes/<int:vote_id>", summary="Read a vote", tag=TAG, response=VoteOut,
           scope="read", conditional=True)
def get_vote(slug: str, vote_id: int):
    """One vote: its question and rule, how many have voted; its result and named voters once it has closed."""
    document = documents.get_document_or_404(slug)
    vote = votes.get_vote_or_404(document, vote_id)
    part = (states.amendment_scope(vote.amendment_id) if vote.amendment_id is not None
            else states.reading_scope(document.id))
    return Reply(body=lambda: _outs(document, [vote])[0], etag=document_validator(document, part, params=(vote.id,)))
