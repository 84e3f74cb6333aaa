"""API v1, amendments: the list with the page's filters, one amendment, proposing, editing, support, decisions.

What a client would notice: the same rules as the pages (the services
decide), the same refusals as problem details (403, 409 with the current
revision, 412 for a stale If-Match, 422 by field, 429 past the proposal
limit), nothing written when refused, nothing hidden shown, no email anywhere.
"""

from __future__ import annotations

import json

import pytest
from harness import bearer
from sqlalchemy import func, select

from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment, Support
from manifesto.discussion import moderation
from manifesto.documents import services as documents
from manifesto.extensions import db

BASE = "/api/v1/documents/doc/amendments"


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments (no supporter needed), three sections."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def author(make_user):
    """A participant who proposes."""
    return make_user(name="Ada Author", organisation="Cooperative")


@pytest.fixture
def entries(doc):
    """The document's sections as they are now."""
    return documents.current_sections(doc)


def propose(author, doc, entry, text=" Added.", **kwargs):
    """Propose a change to a section through the service; its id."""
    amendment = amendments.propose_amendment(author, doc.id, kind="modify", section_id=entry.section.id, heading=None,
                                             body=entry.version.body + text, reason="Because it is better.",
                                             **kwargs)
    return amendment.id


def call(client, method, path, token=None, body=None, headers=None):
    """One API call with a JSON body (when given) and a token (when given)."""
    extra = dict(bearer(token))
    extra.update(headers or {})
    if body is not None:
        return client.open(path, method=method, data=json.dumps(body), content_type="application/json",
                           headers=extra)
    return client.open(path, method=method, headers=extra)


def no_email(response) -> None:
    """No address of anyone is in the answer."""
    assert "@example.org" not in response.get_data(as_text=True)


# ------------------------------------------------------------------ the list

def test_the_list_shows_rows_as_the_page_does_with_counts_and_links(client, doc, entries, author, users):
    first = propose(author, doc, entries[0])
    propose(author, doc, entries[1], " Other words.")
    amendments.support_amendment(users["participant"], doc.id, first)
    response = client.get(BASE)
    assert response.status_code == 200
    data = response.get_json()
    assert [row["code"] for row in data["items"]] == ["A-001", "A-002"]
    row = data["items"][0]
    assert row["status"] == "submitted" and row["kind"] == "modify" and row["supporters"] == 1
    assert row["author"] == "Ada Author" and row["section"]["number"] == 1 and row["section"]["id"] == entries[0].section.id
    assert row["excerpt"] and row["title"] and row["revision"] == 1 and row["supported_by_me"] is False
    assert row["links"]["self"] == f"{BASE}/{first}"
    assert data["counts"]["open"] == 2 and data["counts"]["all"] == 2
    assert data["total"] == 2 and data["page"] == 1 and data["links"]["next"] is None
    assert response.headers["ETag"]
    assert client.get(BASE, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    no_email(response)


def test_filters_and_sorts_are_the_list_pages(client, doc, entries, author, users, make_token):
    ids = [propose(author, doc, entries[i % 3], f" Change {i}.") for i in range(4)]
    amendments.support_amendment(users["participant"], doc.id, ids[2])
    amendments.decide_amendment(users["moderator"], doc.id, ids[3], decision="reject", reason="No.", revision=None)
    assert [r["id"] for r in client.get(BASE).get_json()["items"]] == ids[:3]
    assert [r["id"] for r in client.get(BASE + "?status=decided").get_json()["items"]] == [ids[3]]
    assert [r["id"] for r in client.get(BASE + "?status=rejected").get_json()["items"]] == [ids[3]]
    assert len(client.get(BASE + "?status=all").get_json()["items"]) == 4
    section = entries[0].section.id
    assert [r["id"] for r in client.get(f"{BASE}?section={section}").get_json()["items"]] == [ids[0]]
    assert [r["id"] for r in client.get(BASE + "?sort=support&desc=1").get_json()["items"]][0] == ids[2]
    assert [r["id"] for r in client.get(BASE + "?desc=true").get_json()["items"]] == ids[2::-1]
    token = make_token(users["participant"])
    mine = call(client, "GET", BASE + "?supported_by_me=1", token).get_json()["items"]
    assert [r["id"] for r in mine] == [ids[2]] and mine[0]["supported_by_me"] is True
    # A visitor has no "me": the filter does nothing for them, as on the page.
    assert len(client.get(BASE + "?supported_by_me=1").get_json()["items"]) == 3
    page = client.get(BASE + "?per_page=2&page=2").get_json()
    assert [r["id"] for r in page["items"]] == [ids[2]] and page["pages"] == 2 and page["links"]["prev"]


@pytest.mark.parametrize("query", ["status=nonsense", "sort=secret", "section=0", "section=abc", "page=0",
                                   "per_page=101", "section=99999999999999999999", "needs_decision=maybe"])
def test_a_wrong_filter_is_a_422_naming_it(client, doc, query):
    response = client.get(f"{BASE}?{query}")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"].split(".")[-1] == query.split("=")[0]


def test_a_moderators_queue_leaves_out_her_own_amendments_as_her_page_does(client, doc, entries, users, make_token):
    propose(users["moderator"], doc, entries[0])
    propose(users["participant"], doc, entries[1])
    token = make_token(users["moderator"])
    data = call(client, "GET", BASE + "?needs_decision=1", token).get_json()
    assert [r["author"] for r in data["items"]] == [users["participant"].name]
    assert data["counts"]["needs_decision"] == 1 and data["counts"]["own_needs_decision"] == 1
    visitor = client.get(BASE + "?needs_decision=1").get_json()
    assert visitor["total"] == 2 and visitor["counts"]["needs_decision"] == 2


def test_the_list_takes_the_same_number_of_queries_for_3_and_30_amendments(client, doc, entries, author, users,
                                                                              make_user, make_token, queries):
    token = make_token(users["moderator"])
    supporters = [make_user() for _ in range(3)]

    def measure() -> int:
        db.session.commit()
        with queries() as counted:
            response = call(client, "GET", BASE + "?status=all&per_page=100", token)
        assert response.status_code == 200
        return counted.count, len(response.get_json()["items"])

    def add(n):
        for i in range(n):
            amendment_id = propose(author, doc, entries[i % 3], f" Change {i} {n}.")
            amendments.support_amendment(supporters[i % 3], doc.id, amendment_id)

    add(3)
    measure()  # the token's first use is noted once (its "last used" time)
    few, listed = measure()
    assert listed == 3
    add(27)
    many, listed = measure()
    assert listed == 30
    assert few == many, (few, many)


# ------------------------------------------------------------------ one amendment

def test_one_amendment_with_diff_supporters_history_and_etag(client, doc, entries, author, users):
    amendment_id = propose(author, doc, entries[0])
    amendments.support_amendment(users["participant"], doc.id, amendment_id)
    response = client.get(f"{BASE}/{amendment_id}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["code"] == "A-001" and data["reason"] == "Because it is better."
    assert data["proposed_body"].endswith(" Added.") and data["base_version"] == 1
    assert {"op": "insert", "text": " Added."} in data["diff"]["runs"] or any(
        run["op"] == "insert" and "Added" in run["text"] for run in data["diff"]["runs"])
    assert "<ins" in data["diff"]["inline_html"]
    assert data["supporter_names"] == [users["participant"].display]
    assert [r["number"] for r in data["revisions"]] == [1] and data["decision"] is None
    assert data["may"] == {"edit": False, "withdraw": False, "support": False, "decide": False}
    etag = response.headers["ETag"]
    assert client.get(f"{BASE}/{amendment_id}", headers={"If-None-Match": etag}).status_code == 304
    amendments.support_amendment(users["moderator"], doc.id, amendment_id)
    assert client.get(f"{BASE}/{amendment_id}", headers={"If-None-Match": etag}).status_code == 200
    no_email(response)


def test_someone_elses_draft_is_not_there_but_its_author_reads_it(client, doc, entries, author, make_token, users):
    draft = propose(author, doc, entries[0], submit=False)
    assert client.get(f"{BASE}/{draft}").status_code == 404
    assert call(client, "GET", f"{BASE}/{draft}", make_token(users["moderator"])).status_code == 404
    mine = call(client, "GET", f"{BASE}/{draft}", make_token(author))
    assert mine.status_code == 200 and mine.get_json()["status"] == "draft"
    assert client.get(BASE + "?status=all").get_json()["total"] == 0


def test_a_hidden_amendments_words_are_invisible_to_visitors_and_participants(client, doc, entries, author, users,
                                                                             make_token):
    amendment_id = propose(author, doc, entries[0], " Secret words.")
    amendments.hide_amendment(users["moderator"], doc.id, amendment_id, reason="Off topic.")
    for token in (None, make_token(users["participant"])):
        one = call(client, "GET", f"{BASE}/{amendment_id}", token)
        text = one.get_data(as_text=True)
        assert one.status_code == 200 and "Secret words" not in text and "Because it is better" not in text
        data = one.get_json()
        assert data["hidden"] is True and data["hidden_reason"] == "Off topic." and data["diff"] is None
        listed = call(client, "GET", BASE, token)
        assert "Secret words" not in listed.get_data(as_text=True) and listed.get_json()["items"][0]["hidden"]
    for token in (make_token(author), make_token(users["moderator"])):
        data = call(client, "GET", f"{BASE}/{amendment_id}", token).get_json()
        assert "Secret words" in data["proposed_body"] and data["reason"] and data["diff"]


def test_an_unknown_amendment_or_document_is_a_404_problem(client, doc):
    assert client.get(f"{BASE}/999").status_code == 404
    assert client.get("/api/v1/documents/nope/amendments").status_code == 404
    response = client.get(f"{BASE}/{2**40}")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


# ------------------------------------------------------------------ proposing

def proposal(entry, text=" Proposed through the API.", **extra):
    """A proposal body for a section."""
    return {"kind": "modify", "section_id": entry.section.id, "body": entry.version.body + text,
            "reason": "Clearer.", **extra}


ROLES = ["participant", "moderator", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_every_member_proposes_with_a_propose_token(client, doc, entries, users, make_token, role):
    response = call(client, "POST", BASE, make_token(users[role], scopes=("propose",)), proposal(entries[0]))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert response.headers["Location"] == f"{BASE}/{data['id']}"
    assert data["code"] == "A-001" and data["status"] == "submitted" and data["author"] == users[role].name
    no_email(response)


@pytest.mark.parametrize("scopes", [("read",), ("comment",), ("moderate",), ("read", "comment", "moderate")])
def test_a_token_without_the_propose_scope_is_refused_and_nothing_is_written(client, doc, entries, users,
                                                                             make_token, scopes):
    response = call(client, "POST", BASE, make_token(users["admin"], scopes=scopes), proposal(entries[0]))
    assert response.status_code == 403 and response.get_json()["type"].endswith("insufficient-scope")
    assert db.session.scalar(select(func.count()).select_from(Amendment)) == 0


def test_an_anonymous_write_is_a_401(client, doc, entries):
    response = call(client, "POST", BASE, None, proposal(entries[0]))
    assert response.status_code == 401 and "Bearer" in response.headers["WWW-Authenticate"]


def test_a_draft_is_saved_when_asked(client, doc, entries, users, make_token):
    data = call(client, "POST", BASE, make_token(users["participant"]), proposal(entries[0], submit=False)).get_json()
    assert data["status"] == "draft" and data["code"] == "Draft"


@pytest.mark.parametrize("body, field", [
    ({"reason": ""}, "reason"),
    ({"body": None}, "body"),
    ({"kind": "rewrite"}, "kind"),
    ({"section_id": "1"}, "section_id"),
    ({"extra": 1}, "extra"),
])
def test_a_wrong_proposal_is_a_422_by_field_and_nothing_is_written(client, doc, entries, users, make_token,
                                                                   body, field):
    response = call(client, "POST", BASE, make_token(users["participant"]), {**proposal(entries[0]), **body})
    assert response.status_code == 422, response.get_json()
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert db.session.scalar(select(func.count()).select_from(Amendment)) == 0


def test_the_same_text_is_refused_with_the_forms_message(client, doc, entries, users, make_token):
    response = call(client, "POST", BASE, make_token(users["participant"]), proposal(entries[0], text=""))
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "body", "message": "The proposal is the same as the current "
                                                                          "text: change something first."}]


def test_proposing_outside_the_window_is_refused(client, make_document, users, make_token):
    doc = make_document(editor=users["admin"])  # drafting: amendments are not open
    entry = documents.current_sections(doc)[0]
    response = call(client, "POST", BASE, make_token(users["participant"]), proposal(entry))
    assert response.status_code == 422 and db.session.scalar(select(func.count()).select_from(Amendment)) == 0


def test_api_proposals_count_against_the_per_person_proposal_limit(make_app, make_user, make_document):
    app = make_app(RATELIMIT_PROPOSALS="2 per hour")
    with app.app_context():
        admin, person, other = make_user("admin"), make_user(), make_user()
        doc = make_document(phase="amendments", editor=admin)
        entries = documents.current_sections(doc)
        from manifesto.api.tokens import create_token
        secret = create_token(person, name="t", scopes=("read", "propose"), expires_in_days=None).secret
        other_secret = create_token(other, name="t", scopes=("read", "propose"), expires_in_days=None).secret
        client = app.test_client()
        for i in range(2):
            assert call(client, "POST", BASE, secret, proposal(entries[i], f" Try {i}.")).status_code == 201
        refused = call(client, "POST", BASE, secret, proposal(entries[2], " One too many."))
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        assert db.session.scalar(select(func.count()).select_from(Amendment)) == 2
        # Someone else still may; refused proposals did not count.
        assert call(client, "POST", BASE, other_secret, proposal(entries[2], " Mine.")).status_code == 201


def test_refused_proposals_do_not_count_against_the_limit(make_app, make_user, make_document):
    app = make_app(RATELIMIT_PROPOSALS="1 per hour")
    with app.app_context():
        admin, person = make_user("admin"), make_user()
        doc = make_document(phase="amendments", editor=admin)
        entry = documents.current_sections(doc)[0]
        from manifesto.api.tokens import create_token
        secret = create_token(person, name="t", scopes=("propose",), expires_in_days=None).secret
        client = app.test_client()
        assert call(client, "POST", BASE, secret, proposal(entry, text="")).status_code == 422
        assert call(client, "POST", BASE, secret, proposal(entry)).status_code == 201
        assert call(client, "POST", BASE, secret, proposal(entry, " Again.")).status_code == 429


def test_the_form_and_the_api_share_the_proposal_bucket(make_app, make_user, make_document, login):
    app = make_app(RATELIMIT_PROPOSALS="2 per hour")
    with app.app_context():
        admin, person = make_user("admin"), make_user()
        doc = make_document(phase="amendments", editor=admin)
        entries = documents.current_sections(doc)
        from manifesto.api.tokens import create_token
        secret = create_token(person, name="t", scopes=("propose",), expires_in_days=None).secret
        browser = app.test_client()
        login(person, test_client=browser)
        page = browser.post(f"/d/doc/amendments/new", data={
            "kind": "modify", "section_id": entries[0].section.id, "body": entries[0].version.body + " Form.",
            "reason": "Form.", "action": "submit"})
        assert page.status_code == 302
        api = app.test_client()
        assert call(api, "POST", BASE, secret, proposal(entries[1])).status_code == 201
        assert call(api, "POST", BASE, secret, proposal(entries[2])).status_code == 429


# ------------------------------------------------------------------ editing and withdrawing

def edit_body(revision, text="Rewritten through the API."):
    """An edit's body."""
    return {"body": text, "reason": "Better now.", "revision": revision}


def test_the_author_edits_with_the_current_revision(client, doc, entries, author, make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(author)
    etag = call(client, "GET", f"{BASE}/{amendment_id}", token).headers["ETag"]
    response = call(client, "PATCH", f"{BASE}/{amendment_id}", token, edit_body(1), {"If-Match": etag})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["revision"] == 2 and data["proposed_body"] == "Rewritten through the API."
    assert response.headers["ETag"] != etag
    assert call(client, "GET", f"{BASE}/{amendment_id}", token).headers["ETag"] == response.headers["ETag"]


def test_a_stale_revision_is_a_409_with_the_current_one_and_nothing_is_written(client, doc, entries, author,
                                                                               make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(author)
    assert call(client, "PATCH", f"{BASE}/{amendment_id}", token, edit_body(1, "First.")).status_code == 200
    response = call(client, "PATCH", f"{BASE}/{amendment_id}", token, edit_body(1, "Second, stale."))
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["current_revision"] == 2 and problem["type"].endswith("conflict")
    assert db.session.get(Amendment, amendment_id).proposed_body == "First."


def test_a_stale_if_match_is_a_412_and_nothing_is_written(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(author)
    etag = call(client, "GET", f"{BASE}/{amendment_id}", token).headers["ETag"]
    amendments.support_amendment(users["participant"], doc.id, amendment_id)  # someone acts meanwhile
    response = call(client, "PATCH", f"{BASE}/{amendment_id}", token, edit_body(1), {"If-Match": etag})
    assert response.status_code == 412 and response.mimetype == "application/problem+json"
    stored = db.session.get(Amendment, amendment_id)
    assert stored.revision == 1 and stored.proposed_body.endswith(" Added.")


def test_the_revision_is_required_to_edit(client, doc, entries, author, make_token):
    amendment_id = propose(author, doc, entries[0])
    response = call(client, "PATCH", f"{BASE}/{amendment_id}", make_token(author), {"body": "x", "reason": "y"})
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == "revision"


@pytest.mark.parametrize("role", ROLES)
def test_only_the_author_edits(client, doc, entries, author, users, make_token, role):
    amendment_id = propose(author, doc, entries[0])
    response = call(client, "PATCH", f"{BASE}/{amendment_id}", make_token(users[role]), edit_body(1))
    assert response.status_code == 403
    assert db.session.get(Amendment, amendment_id).revision == 1


def test_the_author_withdraws_and_a_stale_withdrawal_is_a_409(client, doc, entries, author, make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(author)
    stale = call(client, "POST", f"{BASE}/{amendment_id}/withdraw", token, {"revision": 7})
    assert stale.status_code == 409 and stale.get_json()["current_revision"] == 1
    done = call(client, "POST", f"{BASE}/{amendment_id}/withdraw", token, {"revision": 1, "reason": "Changed mind."})
    assert done.status_code == 200 and done.get_json()["status"] == "withdrawn"
    assert done.get_json()["decision"]["reason"] == "Changed mind."


# ------------------------------------------------------------------ support

def test_support_and_withdraw_support(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(users["participant"], scopes=("propose",))
    path = f"{BASE}/{amendment_id}/supports"
    response = call(client, "POST", path, token)
    assert response.status_code == 200
    assert response.get_json() == {"amendment_id": amendment_id, "supporters": 1, "supported_by_me": True}
    again = call(client, "POST", path, token)
    assert again.status_code == 422 and "already" in again.get_json()["detail"]
    gone = call(client, "DELETE", path, token)
    assert gone.status_code == 200 and gone.get_json() == {"amendment_id": amendment_id, "supporters": 0,
                                                           "supported_by_me": False}
    assert call(client, "DELETE", path, token).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Support)) == 0


@pytest.mark.parametrize("who, scopes, status", [
    ("anonymous", None, 401),
    ("participant", ("read", "comment", "moderate"), 403),
    ("author", ("propose",), 403),
    ("participant", ("propose",), 200),
    ("moderator", ("propose",), 200),
    ("admin", ("propose",), 200),
])
def test_the_support_permission_matrix(client, doc, entries, author, users, make_token, who, scopes, status):
    amendment_id = propose(author, doc, entries[0])
    person = author if who == "author" else users.get(who)
    token = make_token(person, scopes=scopes) if person is not None else None
    assert call(client, "POST", f"{BASE}/{amendment_id}/supports", token).status_code == status
    assert db.session.get(Amendment, amendment_id).support_count == (1 if status == 200 else 0)


def test_a_decided_amendment_cannot_be_supported(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    amendments.decide_amendment(users["moderator"], doc.id, amendment_id, decision="reject", reason="No.",
                                revision=None)
    assert call(client, "POST", f"{BASE}/{amendment_id}/supports", make_token(users["participant"])).status_code == 403


# ------------------------------------------------------------------ decisions

def decision(revision, kind="accept", **extra):
    """A decision's body."""
    return {"decision": kind, "reason": "The assembly agreed.", "revision": revision, **extra}


def test_a_moderator_accepts_and_the_text_becomes_a_version(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    response = call(client, "POST", f"{BASE}/{amendment_id}/decision", make_token(users["moderator"]),
                    decision(1))
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["status"] == "accepted" and data["decision"]["decided_by"] == users["moderator"].name
    assert data["decision"]["reason"] == "The assembly agreed."
    assert data["decision"]["result_version"] == {"section_id": entries[0].section.id, "number": 2}
    assert data["decision"]["final_body"].endswith(" Added.")
    no_email(response)


def test_accept_with_modifications_and_merged(client, doc, entries, author, users, make_token):
    first, second = propose(author, doc, entries[0]), propose(author, doc, entries[1])
    token = make_token(users["moderator"])
    modified = call(client, "POST", f"{BASE}/{first}/decision", token,
                    decision(1, "accept_modified", final_body="The moderators' text."))
    assert modified.status_code == 200 and modified.get_json()["decision"]["final_body"] == "The moderators' text."
    assert modified.get_json()["diff"]["modification_html"]
    merged = call(client, "POST", f"{BASE}/{second}/decision", token, decision(1, "merged", merged_into="A-001"))
    assert merged.status_code == 200 and merged.get_json()["decision"]["merged_into"] == "A-001"


@pytest.mark.parametrize("role, scopes, status", [
    ("participant", ("moderate",), 403),  # the scope does not make anyone a moderator: the service refuses
    ("participant", ("read", "propose", "comment", "moderate"), 403),
    ("moderator", ("read", "propose", "comment"), 403),  # the scope is missing
    ("moderator", ("moderate",), 200),
    ("admin", ("moderate",), 200),
    ("author", ("moderate",), 403),  # a moderator never decides her own
])
def test_the_decision_permission_matrix(client, doc, entries, users, make_user, make_token, role, scopes, status):
    person = make_user("moderator") if role == "author" else users[role]
    amendment_id = propose(person if role == "author" else users["participant"], doc, entries[0])
    if role == "participant":
        amendment_id = propose(make_user(), doc, entries[1])
    response = call(client, "POST", f"{BASE}/{amendment_id}/decision", make_token(person, scopes=scopes),
                    decision(1))
    assert response.status_code == status, response.get_json()
    assert db.session.get(Amendment, amendment_id).status == ("accepted" if status == 200 else "submitted")


def test_a_stale_decision_is_a_409_and_a_stale_if_match_a_412(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(users["moderator"])
    etag = call(client, "GET", f"{BASE}/{amendment_id}", token).headers["ETag"]
    amendments.edit_amendment(author, doc.id, amendment_id, heading=None, body="Changed meanwhile.",
                              reason="Why.", revision=1)
    stale = call(client, "POST", f"{BASE}/{amendment_id}/decision", token, decision(1))
    assert stale.status_code == 409 and stale.get_json()["current_revision"] == 2
    precondition = call(client, "POST", f"{BASE}/{amendment_id}/decision", token, decision(2), {"If-Match": etag})
    assert precondition.status_code == 412
    assert db.session.get(Amendment, amendment_id).status == "submitted"
    fresh = call(client, "GET", f"{BASE}/{amendment_id}", token).headers["ETag"]
    assert call(client, "POST", f"{BASE}/{amendment_id}/decision", token, decision(2),
                {"If-Match": fresh}).status_code == 200


def test_a_wrong_decision_is_a_422_by_field(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    token = make_token(users["moderator"])
    wrong = call(client, "POST", f"{BASE}/{amendment_id}/decision", token, decision(1, "maybe"))
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == "decision"
    no_target = call(client, "POST", f"{BASE}/{amendment_id}/decision", token, decision(1, "merged", merged_into="x"))
    assert no_target.status_code == 422 and no_target.get_json()["errors"][0]["field"] == "merged_into"
    no_reason = call(client, "POST", f"{BASE}/{amendment_id}/decision", token, {**decision(1), "reason": " "})
    assert no_reason.status_code == 422 and no_reason.get_json()["errors"][0]["field"] == "reason"


# ------------------------------------------------------------------ reports

def test_reporting_an_amendment(client, doc, entries, author, users, make_token):
    amendment_id = propose(author, doc, entries[0])
    path = f"{BASE}/{amendment_id}/reports"
    token = make_token(users["participant"], scopes=("comment",))
    response = call(client, "POST", path, token, {"reason": "Spam."})
    assert response.status_code == 201 and response.get_json() == {"target": "amendment", "target_id": amendment_id,
                                                                    "status": "open"}
    assert call(client, "POST", path, token, {"reason": "Again."}).status_code == 422
    assert call(client, "POST", path, make_token(author), {"reason": "Mine."}).status_code == 403
    assert call(client, "POST", path, make_token(users["moderator"], scopes=("propose",)),
                {"reason": "x"}).status_code == 403
    assert call(client, "POST", path, None, {"reason": "x"}).status_code == 401
    assert len(moderation.queue(doc, 1).items) == 1


# ------------------------------------------------------------------ the document

def test_the_openapi_document_lists_the_refusals_of_the_writes(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    one = paths["/api/v1/documents/{slug}/amendments/{amendment_id}"]
    assert {"409", "412", "422", "403", "401"} <= set(one["patch"]["responses"])
    assert {"200", "304", "404"} <= set(one["get"]["responses"])
    proposals = paths["/api/v1/documents/{slug}/amendments"]["post"]["responses"]
    assert {"201", "409", "422", "429", "401", "403"} <= set(proposals)
    decision_ = paths["/api/v1/documents/{slug}/amendments/{amendment_id}/decision"]["post"]["responses"]
    assert {"409", "412", "403"} <= set(decision_)


# ------------------------------------------------------------------ hostile input

HOSTILE = ["\x00", "x" * 60_000, "<script>alert(1)</script>", "A-" + "9" * 40, "\ud800", "§" * 10]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_never_makes_a_500(client, doc, entries, author, users, make_token, value):
    amendment_id = propose(author, doc, entries[0])
    mine, moderator = make_token(author), make_token(users["moderator"])
    section = entries[1].section.id
    answers = [
        call(client, "POST", BASE, mine, {"kind": "modify", "section_id": section, "body": value, "reason": value}),
        call(client, "POST", BASE, mine, {"kind": "insert", "section_id": section, "heading": value, "body": value,
                                          "reason": "r"}),
        call(client, "PATCH", f"{BASE}/{amendment_id}", mine, {"body": value, "reason": value, "revision": 1}),
        call(client, "POST", f"{BASE}/{amendment_id}/withdraw", mine, {"revision": 1, "reason": value}),
        call(client, "POST", f"{BASE}/{amendment_id}/decision", moderator,
             {"decision": "merged", "reason": value, "revision": 1, "merged_into": value[:20]}),
        call(client, "POST", f"{BASE}/{amendment_id}/reports", moderator, {"reason": value}),
        call(client, "PATCH", f"{BASE}/{amendment_id}", mine, {"body": "x", "reason": "y", "revision": 2**40}),
        call(client, "GET", f"{BASE}?section={2**40}&author=-1", mine),
        call(client, "PATCH", f"{BASE}/{amendment_id}", mine, {"body": "x", "reason": "y", "revision": 1},
             {"If-Match": value.encode("utf-8", "replace").decode("latin-1")[:100]}),
    ]
    for response in answers:
        assert response.status_code < 500, response.get_data(as_text=True)[:300]
        assert response.is_json
