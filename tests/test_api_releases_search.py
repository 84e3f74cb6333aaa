"""API v1: a document's releases (reading, publishing), its search and its activity feed.

What a client notices: the release pages' list and frozen text, publishing
refused to whoever the page refuses (and to a token without the scope),
search and activity that show exactly what the pages show (no draft, no
hidden amendment or comment, no report, no address), 304 while nothing shown
changed, bad queries refused by field, and lists that cost the same
whatever their length.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from manifesto.amendments import services as amendments
from manifesto.discussion import comments, moderation
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.releases import services as releases
from manifesto.search.models import Visit

from harness import bearer

API = "/api/v1/documents"


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments, three sections."""
    return make_document(3, phase="amendments", editor=users["admin"])


@pytest.fixture
def entries(doc):
    """The document's live sections."""
    return documents.current_sections(doc)


def no_email(response) -> None:
    """No address of anyone is ever in an answer."""
    assert "@example.org" not in response.get_data(as_text=True)


def propose(author, doc, entry, extra: str, reason: str = "Because.", submit: bool = True):
    """Propose adding words to a section."""
    return amendments.propose_amendment(author, doc.id, kind="modify", section_id=entry.section.id, heading=None,
                                        body=entry.version.body + extra, reason=reason, submit=submit)


def publish(json: dict, headers: dict, client):
    """POST a release."""
    return client.post(f"{API}/doc/releases", json=json, headers=headers)


# ------------------------------------------------------------------ releases

def test_no_release_yet_is_an_empty_list(client, doc):
    response = client.get(f"{API}/doc/releases")
    assert response.status_code == 200
    assert response.get_json()["items"] == [] and response.get_json()["total"] == 0


def test_the_releases_newest_first_with_who_published_them_by_name(client, doc, users):
    releases.publish_release(users["moderator"], doc.id, name="Draft 1", description="For the *regions*.")
    releases.publish_release(users["admin"], doc.id, name="Draft 2")
    response = client.get(f"{API}/doc/releases")
    data = response.get_json()
    assert [r["name"] for r in data["items"]] == ["Draft 2", "Draft 1"]
    first = data["items"][1]
    assert first["slug"] == "draft-1" and first["final"] is False
    assert first["published_by"] == users["moderator"].name
    assert first["section_count"] == 3 and first["line_count"] > 0
    assert "<em>regions</em>" in first["description_html"]
    assert first["url"] == "/d/doc/releases/draft-1"
    no_email(response)


def test_a_release_is_its_frozen_text(client, doc, entries, users):
    releases.publish_release(users["moderator"], doc.id, name="Draft 1")
    documents.edit_section(users["moderator"], doc.id, entries[0].section.id, heading="Later", body="Later text.",
                           reason="Later.", base_version=None)
    response = client.get(f"{API}/doc/releases/draft-1")
    assert response.status_code == 200
    data = response.get_json()
    assert data["document_title"] == "Test manifesto"
    assert [(s["number"], s["section_id"], s["version"]) for s in data["sections"]] == \
        [(e.number, e.section.id, 1) for e in entries]
    assert data["sections"][0]["heading"] == "Section 1"
    assert data["sections"][0]["body"] == entries[0].version.body
    assert (data["sections"][1]["first_line"], data["sections"][1]["last_line"]) == \
        (entries[1].first_line, entries[1].last_line)
    no_email(response)


def test_an_unknown_release_or_document_is_404(client, doc):
    assert client.get(f"{API}/doc/releases/nope").status_code == 404
    assert client.get(f"{API}/doc/releases/{'x' * 300}").status_code == 404
    assert client.get(f"{API}/nope/releases").status_code == 404
    assert client.get(f"{API}/nope/releases/draft-1").status_code == 404


def test_releases_are_conditional(client, doc, users):
    releases.publish_release(users["moderator"], doc.id, name="Draft 1")
    list_tag = client.get(f"{API}/doc/releases").headers["ETag"]
    one_tag = client.get(f"{API}/doc/releases/draft-1").headers["ETag"]
    assert client.get(f"{API}/doc/releases", headers={"If-None-Match": list_tag}).status_code == 304
    assert client.get(f"{API}/doc/releases/draft-1", headers={"If-None-Match": one_tag}).status_code == 304
    release = releases.get_release_or_404(doc, "draft-1")
    releases.mark_release_final(users["admin"], doc.id, release.id)
    fresh = client.get(f"{API}/doc/releases/draft-1", headers={"If-None-Match": one_tag})
    assert fresh.status_code == 200 and fresh.get_json()["final"] is True
    listed = client.get(f"{API}/doc/releases", headers={"If-None-Match": list_tag})
    assert listed.status_code == 200 and listed.get_json()["items"][0]["final"] is True


@pytest.mark.parametrize("query", ["page=0", "per_page=1000", "page=x"])
def test_a_bad_page_of_releases_is_422(client, doc, query):
    assert client.get(f"{API}/doc/releases?{query}").status_code == 422


@pytest.mark.parametrize("role, scopes, status", [
    (None, None, 401),
    ("participant", ("read", "moderate"), 403),
    ("moderator", ("read", "propose", "comment"), 403),
    ("moderator", ("moderate",), 201),
    ("admin", ("moderate",), 201),
])
def test_who_may_publish_a_release(client, doc, users, make_token, role, scopes, status):
    headers = bearer(make_token(users[role], scopes=scopes)) if role else {}
    response = publish({"name": "Draft 1", "description": "Notes."}, headers, client)
    assert response.status_code == status
    if status == 201:
        assert response.headers["Location"] == f"{API}/doc/releases/draft-1"
        data = response.get_json()
        assert data["name"] == "Draft 1" and data["published_by"] == users[role].name
        assert len(data["sections"]) == 3
        assert client.get(response.headers["Location"]).get_json() == data
    else:
        assert response.mimetype == "application/problem+json"
        assert releases.latest_release(doc) is None


@pytest.mark.parametrize("role, status", [("moderator", 403), ("admin", 201)])
def test_only_an_admin_publishes_a_final_release(client, doc, users, make_token, role, status):
    response = publish({"name": "Final", "final": True}, bearer(make_token(users[role], scopes=("moderate",))),
                       client)
    assert response.status_code == status
    if status == 201:
        assert response.get_json()["final"] is True
        assert client.get(f"{API}/doc").get_json()["phase"] == "final"


def test_publishing_changes_the_lists_validator(client, doc, users, make_token):
    tag = client.get(f"{API}/doc/releases").headers["ETag"]
    publish({"name": "Draft 1"}, bearer(make_token(users["moderator"], scopes=("moderate",))), client)
    assert client.get(f"{API}/doc/releases", headers={"If-None-Match": tag}).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": 5}, "name"),
    ({"name": "Draft", "final": "yes"}, "final"),
    ({"name": "Draft", "colour": "red"}, "colour"),
    ({"name": "   "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Draft", "description": "x" * 20_001}, "description"),
])
def test_a_bad_release_is_refused_by_field(client, doc, users, make_token, body, field):
    response = publish(body, bearer(make_token(users["moderator"], scopes=("moderate",))), client)
    assert response.status_code == 422
    assert field in {error["field"] for error in response.get_json()["errors"]}


def test_a_release_name_is_unique_per_document(client, doc, users, make_token):
    headers = bearer(make_token(users["moderator"], scopes=("moderate",)))
    assert publish({"name": "Draft 1"}, headers, client).status_code == 201
    again = publish({"name": "draft 1"}, headers, client)
    assert again.status_code == 422 and again.get_json()["errors"][0]["field"] == "name"


def test_a_release_body_must_be_json(client, doc, users, make_token):
    headers = bearer(make_token(users["moderator"], scopes=("moderate",)))
    assert client.post(f"{API}/doc/releases", data="name=x", headers=headers,
                       content_type="application/x-www-form-urlencoded").status_code == 415
    assert client.post(f"{API}/doc/releases", data="{", headers=headers,
                       content_type="application/json").status_code == 400


def test_an_empty_document_has_nothing_to_release(client, make_document, users, make_token):
    make_document(0, slug="empty", editor=users["admin"])
    response = client.post(f"{API}/empty/releases", json={"name": "Draft"},
                           headers=bearer(make_token(users["moderator"], scopes=("moderate",))))
    assert response.status_code == 422


def test_the_releases_list_and_one_release_cost_the_same_for_3_and_30(client, make_document, users, queries):
    counts: dict[str, list[int]] = {}
    for slug, n in (("few", 3), ("many", 30)):
        doc = make_document(n, slug=slug, editor=users["admin"])
        for i in range(n):
            releases.publish_release(users["moderator"], doc.id, name=f"Release {i}")
        for name, path in (("list", "releases?per_page=100"), ("one", "releases/release-0")):
            client.get(f"{API}/{slug}/{path}")
            with queries() as counted:
                assert client.get(f"{API}/{slug}/{path}").status_code == 200
            counts.setdefault(name, []).append(counted.count)
    for name, (few, many) in counts.items():
        assert few == many, (name, few, many)


# ------------------------------------------------------------------ search

def test_search_finds_a_section_with_its_words_marked(client, doc, entries):
    response = client.get(f"{API}/doc/search?q=democracy")
    assert response.status_code == 200
    data = response.get_json()
    assert data["words"] == ["democracy"] and data["truncated"] is False
    assert data["counts"]["section"] == 3 and data["total"] == 3
    result = data["items"][0]
    assert result["kind"] == "section" and result["id"] in {e.section.id for e in entries}
    assert "<mark>democracy</mark>" in result["snippet_html"]
    assert "<mark>" not in result["snippet"] and "democracy" in result["snippet"]
    assert result["url"] == f"/d/doc/#section-{result['id']}"


def test_search_by_kind_and_its_counts(client, doc, entries, make_user):
    amendment = propose(make_user(), doc, entries[0], " Add geothermal heat.")
    data = client.get(f"{API}/doc/search?q=geothermal&kind=amendment").get_json()
    assert [(r["kind"], r["id"]) for r in data["items"]] == [("amendment", amendment.id)]
    assert data["items"][0]["url"] == f"/d/doc/amendments/{amendment.id}"
    none = client.get(f"{API}/doc/search?q=geothermal&kind=section").get_json()
    assert none["items"] == [] and none["counts"]["amendment"] == 1


def test_search_shows_what_the_page_shows_and_nothing_hidden(client, doc, entries, make_user, users, make_token):
    author = make_user()
    draft = propose(author, doc, entries[0], " Zanzibar draft.", submit=False)
    hidden = propose(author, doc, entries[1], " Zanzibar hidden.")
    moderation.hide_item(users["moderator"], doc.id, "amendment", hidden.id, reason="Off topic.")
    shown = comments.post_comment(author, doc.id, body="Zanzibar shown comment.", section_id=entries[0].section.id)
    gone = comments.post_comment(author, doc.id, body="Zanzibar hidden comment.", section_id=entries[0].section.id)
    moderation.hide_item(users["moderator"], doc.id, "comment", gone.id, reason="Rude.")
    for headers in ({}, bearer(make_token(users["moderator"], scopes=("read",)))):
        response = client.get(f"{API}/doc/search?q=zanzibar", headers=headers)
        found = {(r["kind"], r["id"]) for r in response.get_json()["items"]}
        assert found == {("comment", shown.id)}
        assert ("amendment", draft.id) not in found
        no_email(response)
    assert author.name in response.get_json()["items"][0]["label"]


@pytest.mark.parametrize("query, field", [("", "q"), ("q=", "q"), ("q=x&kind=nothing", "kind"),
                                          ("q=x&page=0", "page"), ("q=x&per_page=0", "per_page"),
                                          ("q=" + "a" * 10_001, "q")])
def test_a_bad_search_is_422(client, doc, query, field):
    response = client.get(f"{API}/doc/search?{query}")
    assert response.status_code == 422
    assert field in {error["field"] for error in response.get_json()["errors"]}


@pytest.mark.parametrize("q", ['"', "*", "NEAR(a b)", "!!!", "%00", "a" * 200])
def test_hostile_queries_answer_an_empty_or_real_search(client, doc, entries, q):
    response = client.get(f"{API}/doc/search", query_string={"q": q})
    assert response.status_code == 200


def test_search_is_conditional_and_follows_new_comments(client, doc, entries, make_user):
    url = f"{API}/doc/search?q=marmalade"
    first = client.get(url)
    assert first.get_json()["total"] == 0
    tag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    comments.post_comment(make_user(), doc.id, body="Marmalade for all.", section_id=entries[0].section.id)
    fresh = client.get(url, headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.get_json()["total"] == 1


def test_search_speaks_the_readers_language_with_its_own_validator(client, doc, entries, make_user):
    author = make_user(name="Zoé")
    comments.post_comment(author, doc.id, body="Marmalade for all.", section_id=entries[0].section.id)
    english = client.get(f"{API}/doc/search?q=marmalade", headers={"Accept-Language": "en"})
    french = client.get(f"{API}/doc/search?q=marmalade", headers={"Accept-Language": "fr"})
    assert english.headers["ETag"] != french.headers["ETag"]
    assert english.get_json()["items"][0]["label"].startswith("Comment by Zoé")


def test_search_results_cost_the_same_for_3_and_30(client, make_document, users, make_user, queries):
    counts = []
    for slug, n in (("few", 3), ("many", 30)):
        doc = make_document(n, slug=slug, phase="amendments", editor=users["admin"])
        entry = documents.current_sections(doc)[0]
        author = make_user()
        for i in range(n):
            propose(author, doc, entry, f" Wombat {i}.")
            comments.post_comment(author, doc.id, body=f"Wombat comment {i}.", section_id=entry.section.id)
        url = f"{API}/{slug}/search?q=wombat&per_page=100"
        client.get(url)
        with queries() as counted:
            data = client.get(url).get_json()
        assert data["total"] == 2 * n
        counts.append(counted.count)
    assert counts[0] == counts[1]


# ------------------------------------------------------------------ activity

def test_the_activity_feed_tells_what_happened_newest_first(client, doc, entries, make_user, users):
    author = make_user(name="Ada Author")
    amendment = propose(author, doc, entries[0], " Solar roofs.")
    releases.publish_release(users["moderator"], doc.id, name="Draft 1")
    response = client.get(f"{API}/doc/activity")
    assert response.status_code == 200
    data = response.get_json()
    items = data["items"]
    assert items[0]["action"] == "release.published"
    assert items[0]["object"] == {"type": "release", "id": items[0]["object"]["id"], "slug": "draft-1",
                                  "label": "Draft 1", "url": "/d/doc/releases/draft-1"}
    assert items[0]["actor"] == users["moderator"].name
    assert items[0]["text"] == f"{users['moderator'].name} published the release Draft 1"
    assert '<a href="/d/doc/releases/draft-1">' in items[0]["text_html"]
    submitted = next(item for item in items if item["action"] == "amendment.submitted")
    assert submitted["object"]["type"] == "amendment" and submitted["object"]["id"] == amendment.id
    assert submitted["object"]["url"] == f"/d/doc/amendments/{amendment.id}"
    assert submitted["actor"] == "Ada Author" and submitted["reason"] == "Because."
    assert [item["id"] for item in items] == sorted((item["id"] for item in items), reverse=True)
    assert all(item["new"] is False for item in items) and data["new_count"] == 0
    no_email(response)


def test_since_marks_the_later_events_new_and_reading_marks_no_visit(client, doc, entries, make_user, users,
                                                                     make_token):
    newest = client.get(f"{API}/doc/activity").get_json()["items"][0]["id"]
    propose(make_user(), doc, entries[0], " Wind.")
    token = make_token(users["participant"], scopes=("read",))
    data = client.get(f"{API}/doc/activity?since={newest}", headers=bearer(token)).get_json()
    assert data["since"] == newest and data["new_count"] == 1
    assert [item["new"] for item in data["items"][:2]] == [True, False]
    assert db.session.scalar(select(func.count()).select_from(Visit)) == 0


def test_activity_narrowed_to_one_kind(client, doc, entries, make_user, users):
    propose(make_user(), doc, entries[0], " Wind.")
    releases.publish_release(users["moderator"], doc.id, name="Draft 1")
    data = client.get(f"{API}/doc/activity?what=amendments").get_json()
    assert {item["action"] for item in data["items"]} == {"amendment.submitted"}
    assert "what=amendments" in data["links"]["self"]


def test_activity_leaves_out_drafts_reports_and_hidden_words(client, doc, entries, make_user, users):
    author = make_user()
    draft = propose(author, doc, entries[0], " Secret.", reason="Private reason.", submit=False)
    hidden = propose(author, doc, entries[1], " Rude.", reason="Rude reason.")
    moderation.hide_item(users["moderator"], doc.id, "amendment", hidden.id, reason="Off topic.")
    comment = comments.post_comment(author, doc.id, body="Words of a comment.", section_id=entries[0].section.id)
    moderation.report_item(users["participant"], doc.id, "comment", comment.id, reason="Reporter's words.")
    response = client.get(f"{API}/doc/activity")
    text = response.get_data(as_text=True)
    items = response.get_json()["items"]
    assert not any(item["object"]["type"] == "amendment" and item["object"]["id"] == draft.id for item in items)
    assert "Private reason." not in text and "Reporter's words." not in text and "Words of a comment." not in text
    assert "Rude reason." not in text
    hidden_submitted = next(item for item in items if item["action"] == "amendment.submitted")
    assert hidden_submitted["reason"] is None and hidden_submitted["note"]
    assert not any(item["action"].startswith("report.") for item in items)
    no_email(response)


@pytest.mark.parametrize("query, field", [("since=-1", "since"), ("since=x", "since"), ("what=everything", "what"),
                                          ("page=0", "page"), ("per_page=101", "per_page"),
                                          ("since=99999999999999", "since")])
def test_a_bad_activity_query_is_422(client, doc, query, field):
    response = client.get(f"{API}/doc/activity?{query}")
    assert response.status_code == 422
    assert field in {error["field"] for error in response.get_json()["errors"]}


def test_activity_is_conditional(client, doc, entries, make_user):
    tag = client.get(f"{API}/doc/activity").headers["ETag"]
    assert client.get(f"{API}/doc/activity", headers={"If-None-Match": tag}).status_code == 304
    comments.post_comment(make_user(), doc.id, body="New.", section_id=entries[0].section.id)
    fresh = client.get(f"{API}/doc/activity", headers={"If-None-Match": tag})
    assert fresh.status_code == 200 and fresh.get_json()["items"][0]["action"] == "comment.created"


def test_unknown_document_search_and_activity_are_404(client, doc):
    assert client.get(f"{API}/nope/search?q=x").status_code == 404
    assert client.get(f"{API}/nope/activity").status_code == 404


def test_the_activity_feed_costs_the_same_for_3_and_30_events(client, make_document, users, make_user, queries):
    counts = []
    for slug, n in (("few", 3), ("many", 30)):
        doc = make_document(1, slug=slug, phase="amendments", editor=users["admin"])
        entry = documents.current_sections(doc)[0]
        for i in range(n):
            author = make_user()
            amendment = propose(author, doc, entry, f" Idea {i}.")
            comments.post_comment(author, doc.id, body=f"Comment {i}.", amendment_id=amendment.id)
        url = f"{API}/{slug}/activity?per_page=100&since=1"
        client.get(url)
        with queries() as counted:
            data = client.get(url).get_json()
        assert len(data["items"]) >= 2 * n
        counts.append(counted.count)
    assert counts[0] == counts[1]
