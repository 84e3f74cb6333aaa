"""Votes through the JSON archive: closed ones with their result and open ballots, open secret ones sealed.

A sealed ballot opens only with the secret key it was sealed under (or one in ``SECRET_KEY_FALLBACKS``),
so the archive carries it as it is: restored where the key is the same, the vote closes and counts every
ballot; restored elsewhere, the close is refused with the reason and nothing is lost.
"""

from __future__ import annotations

import json

import pytest
from flask import current_app
from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.documents import services as documents
from manifesto.exports.archive.reader import import_archive
from manifesto.exports.archive.writer import write_archive
from manifesto.extensions import db
from manifesto.plenary import votes
from manifesto.plenary.models import Ballot, SealedBallot, Vote
from manifesto.services import ConflictError

from harness import empty_tables


@pytest.fixture
def archived(make_document, make_user, users):
    """An archive with a closed secret vote and an open one, each of three ballots; with the receipts."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body.replace("cooperatives", "worker cooperatives", 1), reason="Better.")
    voters = [make_user() for _ in range(3)]
    receipts = {}
    for name in ("closed", "open"):
        vote = votes.open_vote(users["moderator"], document.id, amendment.id, question=f"The {name} one?",
                               secret=True, majority="simple", abstentions_count=False)
        receipts[name] = [votes.cast_vote(voter, vote.id, choice).receipt
                          for voter, choice in zip(voters, ("yes", "no", "yes"))]
        if name == "closed":
            votes.close_vote(users["moderator"], vote.id)
    db.session.commit()
    return {"data": write_archive(), "receipts": receipts, "moderator": users["moderator"].id,
            "ids": dict(db.session.execute(select(Vote.question, Vote.id)).all())}


def test_the_archive_carries_open_ballots_and_sealed_ones_without_voters(archived):
    tables = json.loads(archived["data"])["tables"]
    assert {frozenset(row) for row in tables["ballots"]} == {frozenset({"id", "vote_id", "choice", "receipt_hash"})}
    assert {frozenset(row) for row in tables["sealed_ballots"]} == {frozenset({"id", "vote_id", "sealed"})}
    assert len(tables["ballots"]) == len(tables["sealed_ballots"]) == 3
    assert not {row["sealed"] for row in tables["sealed_ballots"]} & {"yes", "no", "abstain"}


def test_restored_with_the_same_key_the_open_vote_closes_and_every_receipt_checks(archived):
    empty_tables()
    import_archive(archived["data"])
    assert write_archive() == archived["data"]
    closed_id, open_id = archived["ids"]["The closed one?"], archived["ids"]["The open one?"]
    assert [votes.check_receipt(db.session.get(Vote, closed_id), r) for r in archived["receipts"]["closed"]] == \
        ["yes", "no", "yes"]
    closed = votes.close_vote(db.session.get(User, archived["moderator"]), open_id)
    assert (closed.yes_count, closed.no_count, closed.abstain_count, closed.passed) == (2, 1, 0, True)
    assert [votes.check_receipt(closed, r) for r in archived["receipts"]["open"]] == ["yes", "no", "yes"]
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0


def test_restored_under_another_key_the_open_vote_is_not_closed_and_nothing_is_lost(make_app, archived):
    old_key = current_app.secret_key
    empty_tables()
    db.session.remove()
    with make_app(SECRET_KEY="the new instance's own key").app_context():
        import_archive(archived["data"])
        with pytest.raises(ConflictError, match="SECRET_KEY_FALLBACKS"):
            votes.close_vote(db.session.get(User, archived["moderator"]), archived["ids"]["The open one?"])
        assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 3
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 3  # the closed vote's
        db.session.remove()
    with make_app(SECRET_KEY="the new instance's own key", SECRET_KEY_FALLBACKS=[old_key]).app_context():
        closed = votes.close_vote(db.session.get(User, archived["moderator"]), archived["ids"]["The open one?"])
        assert (closed.yes_count, closed.no_count) == (2, 1)
        db.session.remove()
