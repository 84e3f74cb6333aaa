"""Consultative votes: who opens, votes and closes; named and secret; receipts; results on the pages; refusals."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.accounts.services import set_active
from manifesto.amendments import services as amendments
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.plenary import votes
from manifesto.plenary.models import Ballot, SealedBallot, Vote, VoteParticipation
from manifesto.services import NotFound, PermissionDenied, ValidationError

RECEIPT = re.compile(r"[0-9A-F]{4}(?:-[0-9A-F]{4}){4}")


@pytest.fixture
def open_vote(amendment, users):
    """Open a vote on the amendment as the moderator: ``open_vote(secret=True, majority="two_thirds")``."""
    def do(**rule):
        rule = {"question": "Do we adopt it?", "secret": False, "majority": "simple", "abstentions_count": False,
                **rule}
        return votes.open_vote(users["moderator"], amendment.document_id, amendment.id, **rule)
    return do


def page(vote, path=""):
    """The address of a vote's page, or of one of its forms."""
    return f"/d/doc/votes/{vote.id}{path}"


def logged_in(app, login, user):
    """A client of its own, logged in as ``user``."""
    client = app.test_client()
    assert login(user, test_client=client).status_code == 302
    return client


# ------------------------------------------------------------------ who may do what

@pytest.mark.parametrize(("role", "allowed"), [("participant", False), ("moderator", True), ("admin", True)])
def test_only_moderators_open_and_close_votes(users, amendment, open_vote, role, allowed):
    rule = dict(question="Adopt?", secret=False, majority="simple", abstentions_count=False)
    if not allowed:
        with pytest.raises(PermissionDenied):
            votes.open_vote(users[role], amendment.document_id, amendment.id, **rule)
        vote = open_vote()
        with pytest.raises(PermissionDenied):
            votes.close_vote(users[role], vote.id)
        assert db.session.get(Vote, vote.id).closed_at is None
        return
    vote = votes.open_vote(users[role], amendment.document_id, amendment.id, **rule)
    assert votes.close_vote(users[role], vote.id).is_closed


@pytest.mark.parametrize("role", ["visitor", "participant", "moderator", "admin"])
def test_the_pages_by_role(app, client, login, users, amendment, open_vote, role):
    vote = open_vote()
    if role != "visitor":
        client = logged_in(app, login, users[role])
    amendment_page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "Do we adopt it?" in amendment_page and "0 have voted" in amendment_page
    assert ("Open a vote" in amendment_page) == (role in ("moderator", "admin"))
    vote_page = client.get(page(vote)).get_data(as_text=True)
    assert ('name="choice"' in vote_page) == (role != "visitor")
    assert ("Close the vote" in vote_page) == (role in ("moderator", "admin"))
    new = client.get(f"/d/doc/votes/new?amendment={amendment.id}")
    assert new.status_code == {"visitor": 302, "participant": 403}.get(role, 200)
    closing = client.post(page(vote, "/close"))
    assert db.session.get(Vote, vote.id).is_closed == (role in ("moderator", "admin"))
    assert closing.status_code == (302 if role == "visitor" else 303)


def test_suspended_and_unverified_accounts_do_not_vote(make_app, make_user, users, open_vote):
    vote = open_vote()
    suspended = make_user()
    set_active(users["admin"], suspended.id, False)
    with pytest.raises(PermissionDenied):
        votes.cast_vote(db.session.get(User, suspended.id), vote.id, "yes")
    unverified = make_user()
    unverified.email_verified_at = None
    db.session.commit()
    with pytest.raises(PermissionDenied, match="Confirm your email"):
        votes.cast_vote(unverified, vote.id, "yes")
    assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 0


def test_a_vote_on_an_amendment_that_is_not_open_is_refused(users, amendment, open_vote):
    amendments.decide_amendment(users["moderator"], amendment.document_id, amendment.id, decision="reject",
                                reason="No.", revision=None, final_heading=None, final_body=None, merged_into=None)
    with pytest.raises(ValidationError, match="only on open amendments"):
        open_vote()


@pytest.mark.parametrize(("rule", "field"), [
    (dict(question="  "), "question"), (dict(majority="most"), "majority"),
    (dict(majority="absolute"), "eligible"), (dict(quorum_percent=50), "eligible"),
    (dict(eligible=-1), "eligible"), (dict(quorum_percent=101, eligible=10), "quorum_percent"),
])
def test_a_rule_that_cannot_be_applied_is_refused_by_its_field(open_vote, rule, field):
    with pytest.raises(ValidationError) as refused:
        open_vote(**rule)
    assert refused.value.field == field
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


# ------------------------------------------------------------------ named and secret

def test_a_named_vote_may_be_changed_until_it_closes(users, open_vote):
    vote = open_vote()
    voter = users["participant"]
    assert votes.cast_vote(voter, vote.id, "no").receipt is None
    assert votes.cast_vote(voter, vote.id, "yes").changed
    assert not votes.cast_vote(voter, vote.id, "yes").changed
    votes.close_vote(users["moderator"], vote.id)
    with pytest.raises(ValidationError, match="has closed"):
        votes.cast_vote(voter, vote.id, "no")
    closed = db.session.get(Vote, vote.id)
    assert (closed.yes_count, closed.no_count, closed.abstain_count, closed.passed) == (1, 0, 0, True)
    assert votes.named_voters(closed) == [(voter.display, "yes")]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "votes")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["vote.opened", "vote.cast", "vote.changed", "vote.closed"]


def test_a_secret_vote_is_final_and_its_receipt_checks_after_the_result(users, open_vote):
    vote = open_vote(secret=True)
    cast = votes.cast_vote(users["participant"], vote.id, "abstain")
    assert RECEIPT.fullmatch(cast.receipt)
    with pytest.raises(ValidationError, match="cannot be changed"):
        votes.cast_vote(users["participant"], vote.id, "yes")
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 1
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
    with pytest.raises(ValidationError, match="once the vote has closed"):
        votes.check_receipt(db.session.get(Vote, vote.id), cast.receipt)
    votes.close_vote(users["moderator"], vote.id)
    closed = db.session.get(Vote, vote.id)
    assert votes.check_receipt(closed, cast.receipt.lower().replace("-", " ")) == "abstain"
    with pytest.raises(ValidationError, match="No ballot"):
        votes.check_receipt(closed, "0000-0000-0000-0000-0000")
    assert votes.named_voters(closed) == []
    assert closed.why == "no_votes" and closed.abstain_count == 1


def test_closing_twice_is_refused_and_the_result_is_kept(users, open_vote):
    vote = open_vote()
    votes.cast_vote(users["participant"], vote.id, "yes")
    votes.close_vote(users["moderator"], vote.id)
    with pytest.raises(ValidationError, match="already closed"):
        votes.close_vote(users["admin"], vote.id)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "vote.closed")) == 1


def test_a_vote_of_another_document_is_not_found(make_document, open_vote):
    vote = open_vote()
    other = make_document(slug="other")
    with pytest.raises(NotFound):
        votes.get_vote_or_404(other, vote.id)


# ------------------------------------------------------------------ through the pages

def test_a_named_vote_through_the_pages(app, client, login, make_user, users, amendment):
    moderator = logged_in(app, login, users["moderator"])
    opened = moderator.post(f"/d/doc/votes/new?amendment={amendment.id}", data={
        "question": "Adopt A-001?", "secret": "named", "majority": "two_thirds", "abstentions_count": "y"})
    assert opened.status_code == 302
    vote = db.session.scalar(select(Vote))
    assert (vote.majority, vote.abstentions_count, vote.secret) == ("two_thirds", True, False)
    ann, bob, cleo = (make_user(name=name) for name in ("Ann", "Bob", "Cleo"))
    for voter, choice in ((ann, "yes"), (bob, "yes"), (cleo, "no")):
        c = logged_in(app, login, voter)
        response = c.post(page(vote, "/cast"), data={"choice": choice}, follow_redirects=True)
        assert "Your vote is recorded." in response.get_data(as_text=True)
    c = logged_in(app, login, cleo)
    assert "Your vote is changed." in c.post(page(vote, "/cast"), data={"choice": "abstain"},
                                             follow_redirects=True).get_data(as_text=True)
    mine = c.get(page(vote)).get_data(as_text=True)
    assert "You voted: Abstain." in mine and "no-store" in c.get(page(vote)).headers["Cache-Control"]
    moderator.post(page(vote, "/close"))
    result = client.get(page(vote)).get_data(as_text=True)
    # 2 yes of 3 cast (the abstention counted): two thirds, just.
    assert "Passed." in result and "2 yes, and 2 were needed (3 votes cast)" in result
    assert "Ann: Yes" in result and "Bob: Yes" in result and "Cleo: Abstain" in result
    amendment_page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "passed" in amendment_page and "2 yes, 0 no, 1 abstain" in amendment_page


def test_a_secret_vote_through_the_pages(app, client, login, make_user, users, amendment, open_vote):
    vote = open_vote(secret=True, majority="absolute", eligible=4)
    receipts = {}
    for name, choice in (("Ann", "yes"), ("Bob", "yes"), ("Cleo", "no")):
        c = logged_in(app, login, make_user(name=name))
        response = c.post(page(vote, "/cast"), data={"choice": choice})
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
        receipts[name] = RECEIPT.search(response.get_data(as_text=True)).group(0)
        again = c.get(page(vote)).get_data(as_text=True)
        assert receipts[name] not in again and "You have voted." in again and 'name="choice"' not in again
        second = c.post(page(vote, "/cast"), data={"choice": "no"}, follow_redirects=True)
        assert "cannot be changed" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 3
    moderator = logged_in(app, login, users["moderator"])
    moderator.post(page(vote, "/close"))
    result = client.get(page(vote)).get_data(as_text=True)
    # Two yes of four eligible is not more than half of them.
    assert "Not passed." in result and "2 yes, but 3 were needed" in result
    assert "Ann" not in result and "Who voted how" not in result
    checked = client.post(page(vote, "/receipt"), data={"code": receipts["Cleo"]})
    assert "was counted as: No." in checked.get_data(as_text=True)
    wrong = client.post(page(vote, "/receipt"), data={"code": "nonsense"})
    assert wrong.status_code == 400 and "No ballot of this vote" in wrong.get_data(as_text=True)
    log = client.get("/d/doc/log").get_data(as_text=True)
    assert log.count("voted") >= 3 and "vote closed, result published" in log and f"vote {vote.id}" in log
    late = logged_in(app, login, make_user())
    refused = late.post(page(vote, "/cast"), data={"choice": "yes"}, follow_redirects=True)
    assert "This vote has closed" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 3


def test_a_quorum_not_met_says_so(app, client, users, open_vote):
    vote = open_vote(quorum_votes=3)
    votes.cast_vote(users["participant"], vote.id, "yes")
    votes.close_vote(users["moderator"], vote.id)
    result = client.get(page(vote)).get_data(as_text=True)
    assert "Not passed: 1 took part, the quorum was 3." in result


def test_a_ballot_without_a_choice_is_shown_again(app, login, users, open_vote):
    vote = open_vote()
    c = logged_in(app, login, users["participant"])
    response = c.post(page(vote, "/cast"), data={})
    assert response.status_code == 400 and "Choose yes, no or abstain." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 0


def test_the_open_form_shows_its_refusals_by_their_fields(app, login, users, amendment):
    moderator = logged_in(app, login, users["moderator"])
    response = moderator.post(f"/d/doc/votes/new?amendment={amendment.id}", data={
        "question": "Adopt?", "secret": "named", "majority": "absolute"})
    assert response.status_code == 400
    assert "An absolute majority needs the number of eligible voters." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


# ------------------------------------------------------------------ races (PostgreSQL)

def test_two_ballots_of_one_person_at_once_count_once(make_app, database_url, make_user, users, amendment,
                                                      open_vote):
    if not database_url.startswith("postgresql"):
        pytest.skip("a race needs PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE)")
    vote_id, voter_id = open_vote(secret=True).id, make_user().id  # the threads share no objects
    app = make_app()
    barrier = threading.Barrier(2)
    answers: list[str] = []

    def cast() -> None:
        """Vote in a thread of its own, both threads at once."""
        with app.app_context():
            me = db.session.get(User, voter_id)
            barrier.wait()
            try:
                votes.cast_vote(me, vote_id, "yes")
                answers.append("cast")
            except ValidationError as refused:
                answers.append(refused.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cast) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 2 and answers.count("cast") == 1
    assert "already voted" in next(answer for answer in answers if answer != "cast")
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 1
    assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 1


def test_a_close_counts_every_ballot_cast_before_it(make_app, database_url, make_user, users, open_vote):
    if not database_url.startswith("postgresql"):
        pytest.skip("a race needs PostgreSQL")
    vote_id, moderator_id = open_vote(secret=True).id, users["moderator"].id
    voters = [make_user().id for _ in range(6)]
    app = make_app()
    barrier = threading.Barrier(len(voters) + 1)

    def act(user_id: int | None) -> None:
        """Cast a ballot, or (None) close the vote, all at once."""
        with app.app_context():
            me = db.session.get(User, user_id or moderator_id)
            barrier.wait()
            try:
                votes.close_vote(me, vote_id) if user_id is None else votes.cast_vote(me, vote_id, "yes")
            except ValidationError:
                pass  # arrived after the close
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(v,)) for v in voters] + [threading.Thread(target=act, args=(None,))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    closed = db.session.get(Vote, vote_id)
    assert closed.is_closed
    assert closed.yes_count == db.session.scalar(select(func.count()).select_from(Ballot))
    assert closed.yes_count == db.session.scalar(select(func.count()).select_from(VoteParticipation))
    assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0


def test_the_amendment_page_follows_the_votes_though_it_is_cached(client, users, amendment, open_vote):
    """The Votes part is kept with the page's cached body: every vote event must bring it up to date."""
    address = f"/d/doc/amendments/{amendment.id}"
    assert "No vote has been held on this amendment." in client.get(address).get_data(as_text=True)
    vote = open_vote(secret=True)
    assert "0 have voted" in client.get(address).get_data(as_text=True)
    votes.cast_vote(users["participant"], vote.id, "yes")
    assert "1 has voted" in client.get(address).get_data(as_text=True)
    votes.close_vote(users["moderator"], vote.id)
    assert "1 yes, 0 no, 0 abstain" in client.get(address).get_data(as_text=True)


# ------------------------------------------------------------------ bad input (the list)

def recorded() -> tuple[int, int, int, int, int]:
    """What a vote has written: participations, sealed and open ballots, cast and closed events."""
    def count(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))
    return (count(VoteParticipation), count(SealedBallot), count(Ballot),
            count(AuditEvent, AuditEvent.action.in_(("vote.cast", "vote.changed"))),
            count(AuditEvent, AuditEvent.action == "vote.closed"))


@pytest.mark.parametrize("secret", [False, True])
def test_bad_input_a_vote_after_the_close_is_refused_and_nothing_is_added(app, login, users, open_vote, secret):
    vote = open_vote(secret=secret)
    votes.cast_vote(users["participant"], vote.id, "yes")
    votes.close_vote(users["moderator"], vote.id)
    before = recorded()
    for who in (users["participant"], users["admin"]):  # one who voted, one who did not
        c = logged_in(app, login, who)
        refused = c.post(page(vote, "/cast"), data={"choice": "no"}, follow_redirects=True)
        assert "This vote has closed: no more votes are taken." in refused.get_data(as_text=True)
        assert 'name="choice"' not in c.get(page(vote)).get_data(as_text=True)
    closing = logged_in(app, login, users["moderator"]).post(page(vote, "/close"), follow_redirects=True)
    assert "This vote has already closed." in closing.get_data(as_text=True)
    assert recorded() == before
    assert db.session.get(Vote, vote.id).yes_count == 1


def test_bad_input_a_second_vote_counts_once(app, login, users, open_vote):
    secret, named = open_vote(secret=True), open_vote()
    c = logged_in(app, login, users["participant"])
    assert c.post(page(secret, "/cast"), data={"choice": "yes"}).status_code == 200
    second = c.post(page(secret, "/cast"), data={"choice": "no"}, follow_redirects=True)
    assert "You have already voted in this secret vote; a secret vote cannot be changed." in \
        second.get_data(as_text=True)
    # A named vote given again unchanged is one vote, not two (a different choice is a change, also one).
    for choice in ("no", "no", "abstain"):
        c.post(page(named, "/cast"), data={"choice": choice})
    participations, sealed, ballots, casts, _closed = recorded()
    assert (participations, sealed, ballots, casts) == (2, 1, 0, 3)  # cast, cast, changed
    assert db.session.scalar(select(VoteParticipation.choice).where(VoteParticipation.vote_id == named.id)) == \
        "abstain"


def test_bad_input_a_suspended_account_does_not_vote(app, login, make_user, users, open_vote):
    vote = open_vote(secret=True)
    voter = make_user()
    c = logged_in(app, login, voter)
    set_active(users["admin"], voter.id, False)
    refused = c.post(page(vote, "/cast"), data={"choice": "yes"})
    assert refused.status_code in (302, 403)  # logged out by the suspension, or refused
    with pytest.raises(PermissionDenied, match="active account"):
        votes.cast_vote(db.session.get(User, voter.id), vote.id, "yes")
    assert recorded() == (0, 0, 0, 0, 0)


def test_bad_input_a_participant_opens_and_closes_no_vote(app, login, users, amendment, open_vote):
    vote = open_vote()
    c = logged_in(app, login, users["participant"])
    opening = c.post(f"/d/doc/votes/new?amendment={amendment.id}", data={
        "question": "Mine?", "secret": "named", "majority": "simple"})
    assert opening.status_code == 403 and "Only moderators open votes." in opening.get_data(as_text=True)
    closing = c.post(page(vote, "/close"), follow_redirects=True)
    assert "Only moderators close votes." in closing.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1
    assert db.session.get(Vote, vote.id).closed_at is None and recorded()[4] == 0


# ------------------------------------------------------------------ votes on the whole text

def test_a_vote_on_the_whole_text_from_the_reading_page(app, client, login, make_user, users, amendment):
    moderator = logged_in(app, login, users["moderator"])
    reading = moderator.get("/d/doc/").get_data(as_text=True)
    assert 'href="/d/doc/votes/new"' in reading and "Open a vote on the whole text" in reading
    assert "Open a vote on the whole text" not in client.get("/d/doc/").get_data(as_text=True)
    form = moderator.get("/d/doc/votes/new").get_data(as_text=True)
    assert "Open a vote on the whole text" in form
    opened = moderator.post("/d/doc/votes/new", data={"question": "Do we adopt the manifesto?", "secret": "secret",
                                                      "majority": "two_thirds"})
    assert opened.status_code == 302
    vote = db.session.scalar(select(Vote))
    assert (vote.subject, vote.amendment_id, vote.on_text) == ("text", None, True)
    shown = client.get(page(vote)).get_data(as_text=True)
    assert "The whole text of" in shown and "Do we adopt the manifesto?" in shown
    assert "Do we adopt the manifesto?" in client.get("/d/doc/").get_data(as_text=True)  # the cached text follows
    for choice in ("yes", "yes", "no"):
        votes.cast_vote(make_user(), vote.id, choice)
    assert "3 have voted" in client.get("/d/doc/").get_data(as_text=True)
    moderator.post(page(vote, "/close"))
    result = client.get(page(vote)).get_data(as_text=True)
    assert "Passed." in result and "2 yes, and 2 were needed (3 votes cast)" in result
    assert "2 yes, 1 no, 0 abstain" in client.get("/d/doc/").get_data(as_text=True)
    listing = client.get("/d/doc/votes/").get_data(as_text=True)
    assert "Do we adopt the manifesto?" in listing and "The whole text" in listing
    # The amendment's page does not list the vote on the text.
    assert "Do we adopt the manifesto?" not in client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)


def test_the_votes_page_lists_every_vote_open_ones_first(client, users, amendment, open_vote):
    on_amendment = open_vote(question="Adopt A-001?")
    votes.close_vote(users["moderator"], on_amendment.id)
    votes.open_vote(users["moderator"], amendment.document_id, None, question="The final vote?", secret=False,
                    majority="simple", abstentions_count=False)
    listing = client.get("/d/doc/votes/").get_data(as_text=True)
    assert listing.index("The final vote?") < listing.index("Adopt A-001?")
    assert amendment.code in listing and "not passed" in listing and "0 have voted" in listing
    assert "Open a vote on the whole text" not in listing


def test_only_moderators_open_a_vote_on_the_text(app, login, users, document):
    with pytest.raises(PermissionDenied):
        votes.open_vote(users["participant"], document.id, None, question="Adopt?", secret=False,
                        majority="simple", abstentions_count=False)
    c = logged_in(app, login, users["participant"])
    assert c.get("/d/doc/votes/new").status_code == 403
    assert c.post("/d/doc/votes/new", data={"question": "Adopt?", "secret": "named",
                                            "majority": "simple"}).status_code == 403
    with pytest.raises(NotFound):
        votes.open_vote(users["moderator"], document.id + 100, None, question="Adopt?", secret=False,
                        majority="simple", abstentions_count=False)
    assert logged_in(app, login, users["moderator"]).get("/d/doc/votes/new?amendment=x").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0
