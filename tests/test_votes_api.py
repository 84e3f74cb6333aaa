"""API v1: a document's votes, read-only.

What a client notices: every vote of the document (on amendments and on the whole text) with its question
and rule; the counts and the result only once it has closed; who voted how only for a closed named vote,
never for a secret one and never a ballot; 304 while nothing shown changed; another document's vote not found;
a list that costs the same whatever its length.
"""

from __future__ import annotations

import pytest

from manifesto.amendments import services as amendments
from manifesto.documents import services as documents
from manifesto.plenary import votes

API = "/api/v1/documents/doc/votes"


@pytest.fixture
def world(make_document, make_user, users):
    """A named vote on an amendment and a secret one on the whole text, three voters each, both still open."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body.replace("cooperatives", "worker cooperatives", 1), reason="Better.")
    voters = [make_user(name=name) for name in ("Ann Arbor", "Bob Brown", "Cleo Clay")]
    named = votes.open_vote(users["moderator"], document.id, amendment.id, question="Adopt A-001?", secret=False,
                            majority="simple", abstentions_count=False)
    secret = votes.open_vote(users["moderator"], document.id, None, question="Adopt the text?", secret=True,
                             majority="absolute", abstentions_count=True, eligible=5, quorum_votes=2)
    receipts = []
    for voter, choice in zip(voters, ("yes", "no", "yes")):
        votes.cast_vote(voter, named.id, choice)
        receipts.append(votes.cast_vote(voter, secret.id, choice).receipt)
    return {"amendment": amendment, "named": named, "secret": secret, "voters": voters, "receipts": receipts}


def by_id(answer) -> dict[int, dict]:
    """A list answer's votes by id."""
    return {item["id"]: item for item in answer.get_json()["items"]}


def test_open_votes_show_their_question_and_rule_but_no_result_and_no_voters(client, world):
    listed = client.get(API)
    assert listed.status_code == 200 and listed.get_json()["total"] == 2
    items = by_id(listed)
    named, secret = items[world["named"].id], items[world["secret"].id]
    assert list(items) == [world["secret"].id, world["named"].id]  # newest first
    assert named["subject"] == "amendment" and named["amendment_code"] == world["amendment"].code
    assert secret["subject"] == "text" and secret["amendment_id"] is None and secret["amendment_code"] is None
    assert (secret["majority"], secret["eligible"], secret["quorum_votes"], secret["abstentions_count"]) == \
        ("absolute", 5, 2, True)
    assert "Absolute majority: more yes than half of the 5 eligible voters." in secret["rule"]
    for vote in (named, secret):
        assert vote["closed"] is False and vote["closed_at"] is None and vote["participants"] == 3
        assert vote["result"] is None and vote["voters"] is None
        assert vote["url"].endswith(f"/d/doc/votes/{vote['id']}")
    text = listed.get_data(as_text=True)
    assert "Ann Arbor" not in text and '"yes"' not in text.replace('"majority"', "")


def test_closed_votes_show_the_result_and_a_named_vote_its_voters(client, world, users):
    for vote in (world["named"], world["secret"]):
        votes.close_vote(users["moderator"], vote.id)
    named = client.get(f"{API}/{world['named'].id}").get_json()
    assert named["closed"] is True and named["closed_at"]
    assert named["result"] == {"yes": 2, "no": 1, "abstain": 0, "passed": True, "why": "passed",
                               "explanation": "Passed: 2 yes, and 2 were needed (3 votes cast)."}
    assert named["voters"] == [{"name": "Ann Arbor", "choice": "yes"}, {"name": "Bob Brown", "choice": "no"},
                               {"name": "Cleo Clay", "choice": "yes"}]
    secret = client.get(f"{API}/{world['secret'].id}")
    body = secret.get_json()
    assert body["result"]["yes"] == 2 and body["result"]["passed"] is False and body["result"]["why"] == "too_few_yes"
    assert body["voters"] is None
    text = secret.get_data(as_text=True)
    assert "Ann Arbor" not in text and not any(receipt in text for receipt in world["receipts"])
    assert "receipt" not in text and "ballot" not in text


def test_a_vote_is_answered_304_until_something_shown_changes(client, world, make_user):
    address = f"{API}/{world['named'].id}"
    first = client.get(address)
    tag = first.headers["ETag"]
    assert client.get(address, headers={"If-None-Match": tag}).status_code == 304
    listed = client.get(API)
    votes.cast_vote(make_user(), world["named"].id, "no")
    again = client.get(address, headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.get_json()["participants"] == 4
    assert client.get(API, headers={"If-None-Match": listed.headers["ETag"]}).status_code == 200


def test_another_documents_vote_and_an_unknown_document_are_not_found(client, world, make_document):
    make_document(slug="other")
    assert client.get(f"/api/v1/documents/other/votes/{world['named'].id}").status_code == 404
    assert client.get(f"{API}/999999").status_code == 404
    assert client.get("/api/v1/documents/nothing/votes").status_code == 404
    assert client.get("/api/v1/documents/other/votes").get_json()["items"] == []


def test_the_list_costs_the_same_whatever_its_length(client, world, users, queries):
    def count() -> int:
        with queries() as counted:
            assert client.get(API, query_string={"per_page": 100}).status_code == 200
        return counted.count

    for vote in (world["named"], world["secret"]):
        votes.close_vote(users["moderator"], vote.id)
    few = count()
    for n in range(6):
        vote = votes.open_vote(users["moderator"], world["amendment"].document_id, None, question=f"Again {n}?",
                               secret=n % 2 == 0, majority="simple", abstentions_count=False)
        votes.cast_vote(world["voters"][0], vote.id, "yes")
        votes.close_vote(users["moderator"], vote.id)
    assert count() <= few
