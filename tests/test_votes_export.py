"""Votes in the export annex: each closed vote's question, rule, counts and result with the reason; who voted
how for a named vote, never for a secret one; open votes not at all; a release's annex as it stood then.
In the HTML, Markdown, plain text and Word files (and the PDF, read from its HTML)."""

from __future__ import annotations

import io

import docx
import pytest
from sqlalchemy import select

from manifesto.amendments import services as amendments
from manifesto.documents import services as documents
from manifesto.exports.build import build_export
from manifesto.exports.options import ExportOptions
from manifesto.extensions import db
from manifesto.plenary import votes
from manifesto.plenary.models import Vote
from manifesto.releases import services as releases
from tests.export_helpers import structure_of


@pytest.fixture
def world(make_document, make_user, users):
    """A document with a closed named vote on an amendment, a closed secret one on the whole text, an open one."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(
        users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
        body=entry.version.body.replace("cooperatives", "worker cooperatives", 1), reason="Better.")
    ann, bob, cleo = (make_user(name=name) for name in ("Ann Arbor", "Bob Brown", "Cleo Clay"))

    def held(amendment_id, question, secret, majority, cast, close=True):
        vote = votes.open_vote(users["moderator"], document.id, amendment_id, question=question, secret=secret,
                               majority=majority, abstentions_count=False)
        for voter, choice in cast:
            votes.cast_vote(voter, vote.id, choice)
        if close:
            votes.close_vote(users["moderator"], vote.id)
        return vote

    named = held(amendment.id, "Adopt the worker cooperatives?", False, "simple",
                 [(ann, "yes"), (bob, "no"), (cleo, "yes")])
    secret = held(None, "Adopt the whole manifesto?", True, "two_thirds", [(ann, "yes"), (bob, "no"), (cleo, "no")])
    held(None, "Still open?", False, "simple", [(ann, "yes")], close=False)
    return {"document": document, "amendment": amendment, "named": named, "secret": secret}


def export(client, fmt, **args) -> str:
    """Download an export and read its words (HTML as the text a reader sees)."""
    response = client.get(f"/d/doc/export/{fmt}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    if fmt == "html":
        return " ".join("".join(structure_of(response.get_data(as_text=True)).text).split())
    if fmt == "docx":
        return " ".join("\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs).split())
    return " ".join(response.get_data(as_text=True).replace("\\", "").split())  # Markdown escapes punctuation


@pytest.mark.parametrize("fmt", ["html", "md", "txt", "docx"])
def test_the_annex_lists_each_closed_vote_with_its_rule_counts_and_result(client, world, fmt):
    text = export(client, fmt, annex=1)
    assert "Annex: votes" in text
    named = text[text.index("Adopt the worker cooperatives?"):text.index("Adopt the whole manifesto?")]
    for words in (world["amendment"].code, "Named vote", "Simple majority: more yes than half of the votes cast.",
                  "2 yes, 1 no, 0 abstain", "Passed.", "2 yes, and 2 were needed (3 votes cast)",
                  "Who voted how:", "Ann Arbor: Yes", "Bob Brown: No", "Cleo Clay: Yes"):
        assert words in named, words
    secret = text[text.index("Adopt the whole manifesto?"):]
    for words in ("The whole text", "Secret vote", "Two thirds", "1 yes, 2 no, 0 abstain", "Not passed.",
                  "1 yes, but 2 were needed"):
        assert words in secret, words
    assert "Ann Arbor" not in secret and "Who voted how" not in secret
    assert "Still open?" not in text


def test_no_annex_no_votes(client, world):
    assert "Adopt the worker cooperatives?" not in export(client, "md")


def test_an_export_made_before_a_vote_closes_is_not_served_after(client, world, users):
    first = export(client, "md", annex=1)
    assert "Still open?" not in first
    still_open = db.session.scalar(select(Vote).where(Vote.question == "Still open?"))
    votes.close_vote(users["moderator"], still_open.id)
    assert "Still open?" in export(client, "md", annex=1)


def test_a_release_lists_the_votes_closed_by_its_day(client, world, users):
    release = releases.publish_release(users["moderator"], world["document"].id, name="Draft 1", description="")
    still_open = db.session.scalar(select(Vote).where(Vote.question == "Still open?"))
    votes.close_vote(users["moderator"], still_open.id)
    frozen = build_export(world["document"], release, ExportOptions(annex=True))
    assert [vote.question for vote in frozen.votes] == ["Adopt the worker cooperatives?",
                                                        "Adopt the whole manifesto?"]
    live = build_export(world["document"], None, ExportOptions(annex=True))
    assert [vote.question for vote in live.votes][-1] == "Still open?"
    assert live.votes[0].roll == [("Ann Arbor", "Yes"), ("Bob Brown", "No"), ("Cleo Clay", "Yes")]
    assert live.votes[1].roll == []


def test_the_pdf_s_html_has_the_votes_in_its_contents_and_annex(app, world):
    from manifesto.exports.pdf import build_html

    html = build_html(build_export(world["document"], None, ExportOptions(annex=True)))
    assert 'href="#votes"' in html and 'id="votes"' in html
    assert "Adopt the whole manifesto?" in html and "Ann Arbor: Yes" in html and "Still open?" not in html
