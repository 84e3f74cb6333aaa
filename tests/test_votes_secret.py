"""Secret means secret: what a reader of the database finds of a secret vote, while it is open and after.

The issue asks that the ballot row have no voter, no time and no sequence that joins it to the "has voted"
row, and that it be written in an order that does not reveal the voter. Casting writes both rows in one
transaction, so while the vote is open the ballot is sealed (encrypted under a key derived from the app's
secret key); the close opens every ballot and writes them again, shuffled, in its own transaction.
"""

from __future__ import annotations

import re

import pytest
from flask import current_app
from sqlalchemy import func, inspect, select, text

from manifesto.accounts.models import User
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.plenary import sealing, votes
from manifesto.plenary.models import Ballot, SealedBallot, Vote, VoteParticipation
from manifesto.services import ConflictError

CAST = (("yes", "Ann"), ("no", "Bob"), ("abstain", "Cleo"))


@pytest.fixture
def three(make_user):
    """Three voters: Ann, Bob and Cleo."""
    return [make_user(name=name) for _, name in CAST]


def secret_vote(users, amendment) -> Vote:
    """A secret vote on the amendment, opened by the moderator."""
    return votes.open_vote(users["moderator"], amendment.document_id, amendment.id, question="Adopt it?",
                           secret=True, majority="simple", abstentions_count=False)


def rows(table: str) -> list[dict]:
    """Every row of a table as a database reader sees it: every column, by its name."""
    return [dict(row._mapping) for row in db.session.execute(text(f"SELECT * FROM {table}"))]


def is_postgresql() -> bool:
    """Whether the tests run on PostgreSQL."""
    return db.engine.dialect.name == "postgresql"


def test_a_secret_vote_of_three_leaves_nothing_that_joins_a_ballot_to_its_voter(app, users, amendment, three):
    vote = secret_vote(users, amendment)
    receipts = [votes.cast_vote(voter, vote.id, choice).receipt for voter, (choice, _) in zip(three, CAST)]

    # While the vote is open: no open ballot; sealed ones, all alike, with nothing readable in them.
    assert rows("ballots") == []
    sealed = rows("sealed_ballots")
    assert len(sealed) == 3 and {frozenset(row) for row in sealed} == {frozenset({"id", "vote_id", "sealed"})}
    hashes = {votes.receipt_hash(vote.id, receipt) for receipt in receipts}
    for row in sealed:
        assert re.fullmatch(r"[0-9a-f]{32}", row["id"])
        assert re.fullmatch(r"[A-Za-z0-9_-]{82}==", row["sealed"])  # one length for every choice
        assert not {str(value) for value in row.values()} & {"yes", "no", "abstain"}
        assert not any(hashed in row["sealed"] or receipt.replace("-", "") in row["sealed"]
                       for hashed, receipt in zip(hashes, receipts))
    assert len({row["sealed"] for row in sealed}) == 3
    # Only the app's key opens them (and only for their own vote).
    assert sorted(sealing.unseal([app.secret_key], vote.id, row["sealed"])[0] for row in sealed) == \
        ["abstain", "no", "yes"]
    for keys, vote_id in (([app.secret_key + "x"], vote.id), ([app.secret_key], vote.id + 1)):
        with pytest.raises(sealing.Unreadable):
            sealing.unseal(keys, vote_id, sealed[0]["sealed"])

    votes.close_vote(users["moderator"], vote.id)

    # After the close: the sealed rows are gone; each open ballot is a random key, the choice and a hash.
    assert rows("sealed_ballots") == []
    assert {column["name"] for column in inspect(db.engine).get_columns("ballots")} == \
        {"id", "vote_id", "choice", "receipt_hash"}  # no voter, no time, no sequence
    ballots = rows("ballots")
    assert sorted(b["choice"] for b in ballots) == ["abstain", "no", "yes"]
    assert {b["receipt_hash"] for b in ballots} == hashes
    assert not {b["id"] for b in ballots} & {row["id"] for row in sealed}  # new keys, not the sealed ones'
    for ballot in ballots:
        assert re.fullmatch(r"[0-9a-f]{32}", ballot["id"]) and re.fullmatch(r"[0-9a-f]{64}", ballot["receipt_hash"])
    assert {column["name"] for column in inspect(db.engine).get_columns("vote_participations")} == \
        {"id", "vote_id", "voter_id", "choice"}
    participations = rows("vote_participations")
    assert sorted(p["voter_id"] for p in participations) == sorted(v.id for v in three)
    assert {p["choice"] for p in participations} == {None}
    for table in ("ballots", "sealed_ballots", "vote_participations"):
        targets = {fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys(table)}
        assert targets <= {"votes", "users"}
    # The audit trail says who voted, never how, and names no ballot.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "votes")).all()
    recorded = repr([(e.action, e.actor_id, e.data, e.reason, e.from_state, e.to_state) for e in events])
    for ballot in ballots:
        assert ballot["id"] not in recorded and ballot["receipt_hash"] not in recorded
    cast_events = [e for e in events if e.action == "vote.cast"]
    assert len(cast_events) == 3 and all(e.data is None for e in cast_events)
    # Each voter still checks their own ballot by the receipt.
    closed = db.session.get(Vote, vote.id)
    assert [votes.check_receipt(closed, receipt) for receipt in receipts] == ["yes", "no", "abstain"]
    assert (closed.yes_count, closed.no_count, closed.abstain_count) == (1, 1, 1)

    if is_postgresql():
        # What PostgreSQL shows any reader of a row: the transaction that wrote it and its place on the page.
        ballot_xmins = {r.xmin for r in db.session.execute(text("SELECT xmin::text AS xmin FROM ballots"))}
        cast_xmins = {r.xmin for r in db.session.execute(text("SELECT xmin::text AS xmin FROM vote_participations"))}
        vote_xmin = db.session.scalar(text("SELECT xmin::text FROM votes WHERE id = :id"), {"id": vote.id})
        assert len(cast_xmins) == 3
        assert ballot_xmins == {vote_xmin}  # all written by the close, none by a cast
        assert not ballot_xmins & cast_xmins
        places = db.session.execute(text("SELECT ctid::text FROM ballots")).scalars().all()
        assert len(set(places)) == 3


def test_the_open_ballots_are_not_in_the_order_of_voting(app, users, amendment, three):
    """Ten votes of three, always cast yes, no, abstain: the ballots' physical order follows none of them.

    Each close shuffles; that all ten keep the order of voting has a chance of (1/6)**10, about 1.7e-8.
    """
    order_of_place = "ctid" if is_postgresql() else "rowid"
    orders = []
    for _ in range(10):
        vote = secret_vote(users, amendment)
        for voter, (choice, _name) in zip(three, CAST):
            votes.cast_vote(voter, vote.id, choice)
        votes.close_vote(users["moderator"], vote.id)
        orders.append(tuple(db.session.scalars(text(
            f"SELECT choice FROM ballots WHERE vote_id = :id ORDER BY {order_of_place}"), {"id": vote.id})))
    assert all(sorted(order) == ["abstain", "no", "yes"] for order in orders)
    assert set(orders) != {("yes", "no", "abstain")}
    assert len(set(orders)) > 1


def test_a_vote_whose_ballots_no_key_opens_is_not_closed(make_app, users, amendment, three):
    """The secret key changed while the vote was open: the close is refused; the old key as a fallback opens them."""
    vote = secret_vote(users, amendment)
    for voter, (choice, _name) in zip(three, CAST):
        votes.cast_vote(voter, vote.id, choice)
    vote_id, moderator_id, old_key = vote.id, users["moderator"].id, current_app.secret_key
    db.session.commit()
    with make_app(SECRET_KEY="another key entirely").app_context():
        with pytest.raises(ConflictError, match="secret key changed"):
            votes.close_vote(db.session.get(User, moderator_id), vote_id)
        assert db.session.get(Vote, vote_id).closed_at is None
        assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 3
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
        db.session.remove()
    with make_app(SECRET_KEY="another key entirely", SECRET_KEY_FALLBACKS=[old_key]).app_context():
        closed = votes.close_vote(db.session.get(User, moderator_id), vote_id)
        assert (closed.yes_count, closed.no_count, closed.abstain_count) == (1, 1, 1)
        db.session.remove()


def test_a_named_vote_writes_no_ballot_at_all(users, amendment, three):
    vote = votes.open_vote(users["moderator"], amendment.document_id, amendment.id, question="Adopt it?",
                           secret=False, majority="simple", abstentions_count=False)
    for voter, (choice, _name) in zip(three, CAST):
        votes.cast_vote(voter, vote.id, choice)
    votes.close_vote(users["moderator"], vote.id)
    assert rows("ballots") == [] and rows("sealed_ballots") == []
    assert sorted(p.choice for p in db.session.scalars(select(VoteParticipation))) == ["abstain", "no", "yes"]


def test_a_sealed_ballot_has_one_length_whatever_its_choice_and_opens_only_unchanged():
    hashed = "ab" * 32
    sealed = {choice: sealing.seal("key", 7, choice, hashed) for choice in sealing.CHOICES}
    assert {len(value) for value in sealed.values()} == {sealing.SEALED_LENGTH}
    assert {choice: sealing.unseal(["old", "key"], 7, value) for choice, value in sealed.items()} == \
        {choice: (choice, hashed) for choice in sealing.CHOICES}
    assert sealing.seal("key", 7, "yes", hashed) != sealed["yes"]  # a fresh nonce every time
    tampered = sealed["yes"][:20] + ("A" if sealed["yes"][20] != "A" else "B") + sealed["yes"][21:]
    for value in (tampered, "not base64 at all!", ""):
        with pytest.raises(sealing.Unreadable):
            sealing.unseal(["key"], 7, value)
