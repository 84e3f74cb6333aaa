"""A vote's page follows the vote live: each cast and the close announce ``vote:<id>`` once committed (a refused
cast nothing); the page's live region fetches a fragment with the turnout and, once closed, the result."""

from __future__ import annotations

import re

import pytest

from manifesto.plenary import votes
from manifesto.services import ValidationError


def secret_vote(users, amendment_id, document_id):
    """A secret vote, on the amendment or (None) on the whole text."""
    return votes.open_vote(users["moderator"], document_id, amendment_id, question="Adopt it?", secret=True,
                           majority="simple", abstentions_count=False)


def test_a_cast_and_the_close_reach_the_vote_s_followers_and_a_refused_cast_nothing(app, users, amendment):
    vote = secret_vote(users, amendment.id, amendment.document_id)
    subscription = app.extensions["live"].hub.subscribe([f"vote:{vote.id}"])
    votes.cast_vote(users["participant"], vote.id, "yes")
    assert [n.topic for n in subscription.take(0.5)] == [f"vote:{vote.id}"]
    with pytest.raises(ValidationError):
        votes.cast_vote(users["participant"], vote.id, "no")  # a second secret vote: rolled back
    assert subscription.take(0.05) == []
    votes.close_vote(users["moderator"], vote.id)
    assert [n.topic for n in subscription.take(0.5)] == [f"vote:{vote.id}"]


def test_the_vote_page_is_a_live_region_whose_fragment_follows_the_vote(client, make_user, users, amendment):
    vote = secret_vote(users, None, amendment.document_id)
    page = client.get(f"/d/doc/votes/{vote.id}").get_data(as_text=True)
    region = re.search(r'data-live-topic="vote:(\d+)" data-live-fragment="([^"]+)"', page)
    assert region and int(region[1]) == vote.id and "data-live-announcer" in page
    fragment = region[2]
    assert client.get(f"/live/poll?topic=vote:{vote.id}").status_code == 200
    assert client.get(f"/live/poll?topic=vote:{vote.id + 100}").status_code == 404
    first = client.get(fragment)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    assert 'data-live-summary="0 have voted"' in first.get_data(as_text=True)
    for choice in ("yes", "no", "yes"):
        votes.cast_vote(make_user(), vote.id, choice)
    assert 'data-live-summary="3 have voted"' in client.get(fragment).get_data(as_text=True)
    votes.close_vote(users["moderator"], vote.id)
    closed = client.get(fragment).get_data(as_text=True)
    assert 'data-live-summary="The vote has closed: passed."' in closed and "2 yes, and 2 were needed" in closed
    assert "csrf_token" not in closed and "<form" not in closed  # nothing personal, no form


def test_only_votes_that_exist_are_followed(users, amendment):
    vote = secret_vote(users, amendment.id, amendment.document_id)
    on_text = secret_vote(users, None, amendment.document_id)
    assert votes.followable(None, {vote.id, on_text.id, on_text.id + 1}) == {vote.id, on_text.id}
