"""API v1, discussion: threads as the pages show them to each role, commenting, replying and reporting."""

from __future__ import annotations

import json

import pytest
from harness import bearer, live_markup
from sqlalchemy import func, select

from manifesto.amendments import services as amendments
from manifesto.discussion import comments, moderation
from manifesto.discussion.models import Comment, Report
from manifesto.documents import services as documents
from manifesto.extensions import db

BASE = "/api/v1/documents/doc/comments"
ROLES = ["participant", "moderator", "admin"]


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments, three sections."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def section_id(doc):
    """The first section's id."""
    return documents.current_sections(doc)[0].section.id


@pytest.fixture
def writer(make_user):
    """A participant who comments."""
    return make_user(name="Wanda Writer")


def call(client, method, path, token=None, body=None):
    """One API call with a JSON body (when given) and a token (when given)."""
    if body is not None:
        return client.open(path, method=method, data=json.dumps(body), content_type="application/json",
                           headers=bearer(token))
    return client.open(path, method=method, headers=bearer(token))


def count(model) -> int:
    """Rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ reading

def test_the_threads_of_a_section_with_replies_and_passages(client, doc, section_id, writer, users):
    root = comments.post_comment(writer, doc.id, section_id=section_id, body="I *like* it.")
    comments.reply_to_comment(users["participant"], doc.id, root.id, body="Me too.")
    comments.post_comment(users["participant"], doc.id, section_id=section_id, body="About cooperatives.",
                          quote="about cooperatives")
    response = client.get(f"{BASE}?section={section_id}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 2 and data["comments"] == 3 and data["per_page"] == 20
    first, second = data["items"]
    assert first["author"] == "Wanda Writer" and first["body"] == "I *like* it." and "<em>like</em>" in first["body_html"]
    assert [reply["body"] for reply in first["replies"]] == ["Me too."]
    assert second["passage"] == {"quote": "about cooperatives", "lost": False, "version": None}
    assert "@example.org" not in response.get_data(as_text=True)
    assert client.get(f"{BASE}?section={section_id}",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_threads_of_an_amendment(client, doc, section_id, writer, users):
    entry = documents.current_sections(doc)[0]
    amendment = amendments.propose_amendment(writer, doc.id, kind="modify", section_id=section_id, heading=None,
                                             body=entry.version.body + " More.", reason="Why.")
    comments.post_comment(users["participant"], doc.id, amendment_id=amendment.id, body="Good change.")
    data = client.get(f"{BASE}?amendment={amendment.id}").get_json()
    assert [item["body"] for item in data["items"]] == ["Good change."]
    assert data["items"][0]["target"] == "amendment" and data["items"][0]["amendment_id"] == amendment.id


@pytest.mark.parametrize("query", ["", "section=1&amendment=1", "section=abc", "page=0"])
def test_threads_need_exactly_one_target(client, doc, query):
    assert client.get(f"{BASE}?{query}").status_code == 422


def test_threads_of_an_unknown_section_or_someone_elses_draft_are_404(client, doc, section_id, writer, users,
                                                                      make_token):
    assert client.get(f"{BASE}?section=9999").status_code == 404
    entry = documents.current_sections(doc)[0]
    draft = amendments.propose_amendment(writer, doc.id, kind="modify", section_id=section_id, heading=None,
                                         body=entry.version.body + " Draft.", reason="Why.", submit=False)
    assert client.get(f"{BASE}?amendment={draft.id}").status_code == 404
    assert call(client, "GET", f"{BASE}?amendment={draft.id}", make_token(writer)).status_code == 200


def test_one_comment_with_its_replies(client, doc, section_id, writer, users):
    root = comments.post_comment(writer, doc.id, section_id=section_id, body="Root.")
    reply = comments.reply_to_comment(users["participant"], doc.id, root.id, body="Reply.")
    comments.reply_to_comment(writer, doc.id, reply.id, body="Reply to the reply.")
    data = client.get(f"{BASE}/{root.id}").get_json()
    assert data["body"] == "Root." and data["replies"][0]["body"] == "Reply."
    assert data["replies"][0]["replies"][0]["body"] == "Reply to the reply."
    middle = client.get(f"{BASE}/{reply.id}").get_json()
    assert middle["parent_id"] == root.id and [r["body"] for r in middle["replies"]] == ["Reply to the reply."]
    assert client.get(f"{BASE}/99999").status_code == 404


def test_hidden_and_deleted_comments_show_as_the_threads_show_them_to_each_role(client, doc, section_id, writer,
                                                                               users, make_token):
    hidden = comments.post_comment(writer, doc.id, section_id=section_id, body="Rude words.")
    gone = comments.post_comment(writer, doc.id, section_id=section_id, body="Regretted words.")
    moderation.hide_item(users["moderator"], doc.id, "comment", hidden.id, reason="Rude.")
    comments.delete_comment(writer, doc.id, gone.id)
    for token in (None, make_token(users["participant"])):
        response = call(client, "GET", f"{BASE}?section={section_id}", token)
        text = response.get_data(as_text=True)
        assert "Rude words" not in text and "Regretted words" not in text
        shown_hidden, shown_gone = response.get_json()["items"]
        assert shown_hidden["hidden"] and shown_hidden["hidden_reason"] == "Rude." and shown_hidden["body"] is None
        assert shown_gone["deleted"] and shown_gone["author"] is None and shown_gone["body"] is None
        assert call(client, "GET", f"{BASE}/{hidden.id}", token).get_json()["body"] is None
    for token in (make_token(writer), make_token(users["moderator"])):
        shown_hidden, shown_gone = call(client, "GET", f"{BASE}?section={section_id}", token).get_json()["items"]
        assert shown_hidden["body"] == "Rude words." and shown_hidden["hidden"]
        assert shown_gone["body"] is None


# ------------------------------------------------------------------ writing

@pytest.mark.parametrize("role", ROLES)
def test_every_member_comments_with_a_comment_token(client, doc, section_id, users, make_token, role):
    response = call(client, "POST", BASE, make_token(users[role], scopes=("comment",)),
                    {"body": "My view.", "section_id": section_id})
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["Location"] == f"{BASE}/{data['id']}" and data["body"] == "My view."
    assert data["author"] == users[role].name and "@" not in response.get_data(as_text=True)


@pytest.mark.parametrize("scopes", [("read",), ("propose",), ("moderate",), ("read", "propose", "moderate")])
def test_a_token_without_the_comment_scope_is_refused_and_nothing_is_written(client, doc, section_id, users,
                                                                             make_token, scopes):
    token = make_token(users["admin"], scopes=scopes)
    root = comments.post_comment(users["participant"], doc.id, section_id=section_id, body="Root.")
    db.session.commit()
    for path, body in ((BASE, {"body": "x", "section_id": section_id}), (f"{BASE}/{root.id}/replies", {"body": "x"}),
                       (f"{BASE}/{root.id}/reports", {"reason": "x"})):
        response = call(client, "POST", path, token, body)
        assert response.status_code == 403 and response.get_json()["type"].endswith("insufficient-scope")
    assert count(Comment) == 1 and count(Report) == 0


def test_anonymous_writes_are_401(client, doc, section_id, users):
    root = comments.post_comment(users["participant"], doc.id, section_id=section_id, body="Root.")
    db.session.commit()
    assert call(client, "POST", BASE, None, {"body": "x", "section_id": section_id}).status_code == 401
    assert call(client, "POST", f"{BASE}/{root.id}/replies", None, {"body": "x"}).status_code == 401
    assert call(client, "POST", f"{BASE}/{root.id}/reports", None, {"reason": "x"}).status_code == 401


def test_a_passage_comment_and_a_quote_not_in_the_text(client, doc, section_id, users, make_token):
    token = make_token(users["participant"])
    ok = call(client, "POST", BASE, token, {"body": "On this.", "section_id": section_id,
                                            "quote": "democracy at work"})
    assert ok.status_code == 201 and ok.get_json()["passage"]["quote"] == "democracy at work"
    wrong = call(client, "POST", BASE, token, {"body": "On that.", "section_id": section_id, "quote": "not there"})
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "quote"
    assert count(Comment) == 1


@pytest.mark.parametrize("body, field", [
    ({"body": "   "}, "body"),
    ({"body": "x", "section_id": None}, "section_id"),
    ({"body": 5}, "body"),
    ({"body": "x", "nope": 1}, "nope"),
])
def test_a_wrong_comment_is_a_422_by_field(client, doc, section_id, users, make_token, body, field):
    response = call(client, "POST", BASE, make_token(users["participant"]), {"section_id": section_id, **body})
    assert response.status_code == 422, response.get_json()
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert count(Comment) == 0


def test_comments_on_an_amendment_and_on_a_hidden_one(client, doc, section_id, writer, users, make_token):
    entry = documents.current_sections(doc)[0]
    amendment = amendments.propose_amendment(writer, doc.id, kind="modify", section_id=section_id, heading=None,
                                             body=entry.version.body + " More.", reason="Why.")
    token = make_token(users["participant"])
    ok = call(client, "POST", BASE, token, {"body": "Agreed.", "amendment_id": amendment.id})
    assert ok.status_code == 201 and ok.get_json()["amendment_id"] == amendment.id
    both = call(client, "POST", BASE, token, {"body": "x", "amendment_id": amendment.id, "section_id": section_id})
    assert both.status_code == 422
    quoted = call(client, "POST", BASE, token, {"body": "x", "amendment_id": amendment.id, "quote": "More"})
    assert quoted.status_code == 422 and quoted.get_json()["errors"][0]["field"] == "quote"
    amendments.hide_amendment(users["moderator"], doc.id, amendment.id, reason="Off topic.")
    closed = call(client, "POST", BASE, token, {"body": "Still?", "amendment_id": amendment.id})
    assert closed.status_code == 403
    assert call(client, "POST", BASE, make_token(users["moderator"]),
                {"body": "Moderators may.", "amendment_id": amendment.id}).status_code == 201


def test_replies_and_a_reply_to_a_hidden_comment(client, doc, section_id, writer, users, make_token):
    root = comments.post_comment(writer, doc.id, section_id=section_id, body="Root.")
    token = make_token(users["participant"])
    reply = call(client, "POST", f"{BASE}/{root.id}/replies", token, {"body": "Answer."})
    assert reply.status_code == 201 and reply.get_json()["parent_id"] == root.id and reply.get_json()["depth"] == 1
    assert reply.headers["Location"] == f"{BASE}/{reply.get_json()['id']}"
    moderation.hide_item(users["moderator"], doc.id, "comment", root.id, reason="Rude.")
    refused = call(client, "POST", f"{BASE}/{root.id}/replies", token, {"body": "Too late."})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "body"
    assert call(client, "POST", f"{BASE}/999/replies", token, {"body": "x"}).status_code == 404


def test_reporting_a_comment(client, doc, section_id, writer, users, make_token):
    root = comments.post_comment(writer, doc.id, section_id=section_id, body="Root.")
    token = make_token(users["participant"], scopes=("comment",))
    response = call(client, "POST", f"{BASE}/{root.id}/reports", token, {"reason": "Spam."})
    assert response.status_code == 201 and response.get_json() == {"target": "comment", "target_id": root.id,
                                                                    "status": "open"}
    assert call(client, "POST", f"{BASE}/{root.id}/reports", token, {"reason": "Again."}).status_code == 422
    assert call(client, "POST", f"{BASE}/{root.id}/reports", make_token(writer), {"reason": "Mine."}).status_code == 403
    assert call(client, "POST", f"{BASE}/{root.id}/reports", token, {"reason": ""}).status_code == 422
    assert count(Report) == 1


def test_comments_and_reports_count_against_the_per_person_limits(make_app, make_user, make_document):
    from manifesto.api.tokens import create_token

    app = make_app(RATELIMIT_COMMENTS="2 per hour", RATELIMIT_REPORTS="1 per hour")
    with app.app_context():
        admin, person, other = make_user("admin"), make_user(), make_user()
        doc = make_document(phase="amendments", editor=admin)
        section = documents.current_sections(doc)[0].section.id
        secret = create_token(person, name="t", scopes=("comment",), expires_in_days=None).secret
        client = app.test_client()
        first = call(client, "POST", BASE, secret, {"body": "One.", "section_id": section})
        assert first.status_code == 201
        assert call(client, "POST", f"{BASE}/{first.get_json()['id']}/replies", secret,
                    {"body": "Two."}).status_code == 201
        refused = call(client, "POST", BASE, secret, {"body": "Three.", "section_id": section})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert count(Comment) == 2
        theirs = [comments.post_comment(other, doc.id, section_id=section, body=f"Theirs {i}.").id for i in range(2)]
        assert call(client, "POST", f"{BASE}/{theirs[0]}/reports", secret, {"reason": "Spam."}).status_code == 201
        assert call(client, "POST", f"{BASE}/{theirs[1]}/reports", secret, {"reason": "Spam."}).status_code == 429


def test_the_openapi_document_lists_the_discussions_refusals(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    posting = paths["/api/v1/documents/{slug}/comments"]["post"]["responses"]
    assert {"201", "401", "403", "422", "429"} <= set(posting)
    assert "304" in paths["/api/v1/documents/{slug}/comments/{comment_id}"]["get"]["responses"]


HOSTILE = ["\x00", "x" * 30_000, "<script>alert(1)</script>", "\ud800", " \n\t ", "[x](javascript:alert(1))"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_never_makes_a_500_nor_live_markup(client, doc, section_id, writer, users, make_token, value):
    root = comments.post_comment(writer, doc.id, section_id=section_id, body="Root.")
    token = make_token(users["participant"])
    answers = [
        call(client, "POST", BASE, token, {"body": value, "section_id": section_id}),
        call(client, "POST", BASE, token, {"body": "x", "section_id": section_id, "quote": value,
                                           "quote_prefix": value[:200], "quote_suffix": value[:200]}),
        call(client, "POST", f"{BASE}/{root.id}/replies", token, {"body": value}),
        call(client, "POST", f"{BASE}/{root.id}/reports", token, {"reason": value}),
        call(client, "GET", f"{BASE}?section={2**40}", token),
        call(client, "GET", f"{BASE}?amendment=-5", token),
    ]
    for response in answers:
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.is_json
    listed = client.get(f"{BASE}?section={section_id}").get_json()
    assert not [found for item in listed["items"] for found in live_markup(item["body_html"] or "")]
