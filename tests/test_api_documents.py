"""API v1, reading a document: its outline, sections, versions and the diff between two versions.

What a client notices: the same numbers, lines and texts as the pages, retired
sections out of the lists, authors by name and never by address, 304 while
nothing shown changed and a fresh answer once something did, bad queries
refused by field, and lists that cost the same whatever their length.
"""

from __future__ import annotations

import pytest

from manifesto.amendments import services as amendments
from manifesto.documents import services as documents

from harness import bearer

API = "/api/v1/documents"


@pytest.fixture
def doc(make_document, users):
    """A document with three sections, written by the admin."""
    return make_document(3, editor=users["admin"])


@pytest.fixture
def entries(doc):
    """The document's live sections."""
    return documents.current_sections(doc)


def edit(user, doc, entry, body: str, heading: str | None = None, reason: str = "Clearer."):
    """Write a new version of a section through the service."""
    return documents.edit_section(user, doc.id, entry.section.id, heading=heading or entry.version.heading,
                                  body=body, reason=reason, base_version=None)


def no_email(response) -> None:
    """No address of anyone is ever in an answer."""
    assert "@example.org" not in response.get_data(as_text=True)


# ------------------------------------------------------------------ outline

def test_the_outline_numbers_the_live_sections_and_their_lines(client, doc, entries):
    response = client.get(f"{API}/doc/outline")
    assert response.status_code == 200
    data = response.get_json()
    assert [s["number"] for s in data["sections"]] == [1, 2, 3]
    assert [s["section_id"] for s in data["sections"]] == [e.section.id for e in entries]
    assert [s["heading"] for s in data["sections"]] == ["Section 1", "Section 2", "Section 3"]
    assert [(s["first_line"], s["last_line"]) for s in data["sections"]] == \
        [(e.first_line, e.last_line) for e in entries]
    assert all(s["version"] == 1 for s in data["sections"])
    assert data["line_count"] == entries[-1].last_line
    assert data["sections"][0]["url"] == f"/d/doc/sections/{entries[0].section.id}"


def test_a_retired_section_leaves_the_outline_and_the_others_are_renumbered(client, doc, entries, users):
    documents.retire_section(users["moderator"], doc.id, entries[0].section.id, reason="Gone.")
    data = client.get(f"{API}/doc/outline").get_json()
    assert [s["section_id"] for s in data["sections"]] == [entries[1].section.id, entries[2].section.id]
    assert [s["number"] for s in data["sections"]] == [1, 2]
    assert data["sections"][0]["first_line"] == 1


def test_an_unknown_document_is_a_problem_404(client, doc):
    for path in ("/nope/outline", "/nope/sections", "/nope/sections/1", "/nope/sections/1/versions",
                 "/nope/sections/1/versions/1", "/nope/sections/1/diff?from=1&to=1"):
        response = client.get(API + path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"


def test_the_outline_is_conditional_and_changes_with_the_text(client, doc, entries, users):
    first = client.get(f"{API}/doc/outline")
    tag = first.headers["ETag"]
    assert client.get(f"{API}/doc/outline", headers={"If-None-Match": tag}).status_code == 304
    edit(users["moderator"], doc, entries[0], "One line only now.", heading="Renamed")
    fresh = client.get(f"{API}/doc/outline", headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] != tag
    assert fresh.get_json()["sections"][0]["heading"] == "Renamed"
    assert fresh.get_json()["sections"][0]["version"] == 2


# ------------------------------------------------------------------ sections

def test_the_sections_list_has_each_current_version_as_the_reading_page_numbers_it(client, doc, entries):
    response = client.get(f"{API}/doc/sections")
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == 3 and data["page"] == 1 and data["pages"] == 1
    first = data["items"][0]
    assert first["id"] == entries[0].section.id
    assert first["number"] == 1 and first["retired"] is False and first["retired_at"] is None
    assert (first["first_line"], first["last_line"]) == (entries[0].first_line, entries[0].last_line)
    assert first["current"]["number"] == 1
    assert first["current"]["kind"] == "created"
    assert first["current"]["body"] == entries[0].version.body
    assert first["current"]["body_html"] == entries[0].version.body_html
    assert first["current"]["line_count"] == entries[0].version.line_count
    assert first["current"]["created_at"].endswith("Z") or "+00:00" in first["current"]["created_at"]
    assert first["version_count"] == 1


def test_the_sections_list_pages_with_links(client, doc, entries):
    data = client.get(f"{API}/doc/sections?per_page=2&page=2").get_json()
    assert [item["number"] for item in data["items"]] == [3]
    assert data["pages"] == 2 and data["links"]["prev"] and data["links"]["next"] is None
    assert "per_page=2" in data["links"]["first"]
    # Past the end: the last page, as every list does.
    assert client.get(f"{API}/doc/sections?per_page=2&page=9").get_json()["page"] == 2


def test_retired_sections_are_not_listed(client, doc, entries, users):
    documents.retire_section(users["moderator"], doc.id, entries[1].section.id, reason="Gone.")
    data = client.get(f"{API}/doc/sections").get_json()
    assert [item["id"] for item in data["items"]] == [entries[0].section.id, entries[2].section.id]
    assert [item["number"] for item in data["items"]] == [1, 2]


@pytest.mark.parametrize("query", ["page=0", "page=-1", "per_page=0", "per_page=101", "per_page=abc",
                                   "page=99999999999999999999"])
def test_a_bad_page_is_refused_by_field(client, doc, query):
    response = client.get(f"{API}/doc/sections?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] in ("page", "per_page")


def test_a_section_with_its_current_version(client, doc, entries):
    entry = entries[1]
    response = client.get(f"{API}/doc/sections/{entry.section.id}")
    assert response.status_code == 200
    data = response.get_json()
    assert data["id"] == entry.section.id and data["number"] == 2
    assert (data["first_line"], data["last_line"]) == (entry.first_line, entry.last_line)
    assert data["current"]["heading"] == "Section 2"
    assert data["url"] == f"/d/doc/sections/{entry.section.id}"


def test_a_section_of_another_document_or_unknown_is_404(client, doc, entries, make_document, users):
    other = make_document(1, slug="other", editor=users["admin"])
    other_section = documents.current_sections(other)[0].section.id
    assert client.get(f"{API}/doc/sections/{other_section}").status_code == 404
    assert client.get(f"{API}/doc/sections/999999").status_code == 404
    assert client.get(f"{API}/doc/sections/0").status_code == 404
    assert client.get(f"{API}/doc/sections/99999999999999999999").status_code == 404


def test_a_retired_section_answers_marked_retired_as_its_page_does(client, doc, entries, users):
    documents.retire_section(users["moderator"], doc.id, entries[0].section.id, reason="Gone.")
    data = client.get(f"{API}/doc/sections/{entries[0].section.id}").get_json()
    assert data["retired"] is True and data["retired_at"]
    assert data["number"] is None and data["first_line"] is None and data["last_line"] is None


def test_a_section_is_conditional_and_follows_its_text_and_the_lines_before_it(client, doc, entries, users):
    url = f"{API}/doc/sections/{entries[2].section.id}"
    tag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    # A longer text before it moves its lines: the answer changes, so must its validator.
    edit(users["moderator"], doc, entries[0], entries[0].version.body + "\n\nA third paragraph.")
    fresh = client.get(url, headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.get_json()["first_line"] > entries[2].first_line
    tag = fresh.headers["ETag"]
    edit(users["moderator"], doc, entries[2], "New text of the third.")
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 200
    assert again.get_json()["current"]["body"] == "New text of the third."


def test_an_accepted_amendment_changes_the_section_answer(client, make_document, users, make_user):
    doc = make_document(2, slug="open", phase="amendments", editor=users["admin"])
    entry = documents.current_sections(doc)[0]
    url = f"{API}/open/sections/{entry.section.id}"
    tag = client.get(url).headers["ETag"]
    versions_tag = client.get(url + "/versions").headers["ETag"]
    amendment = amendments.propose_amendment(make_user(), doc.id, kind="modify", section_id=entry.section.id,
                                             heading=None, body=entry.version.body + " Accepted words.",
                                             reason="Because.")
    amendments.decide_amendment(users["moderator"], doc.id, amendment.id, decision="accept", reason="Yes.",
                                revision=None)
    fresh = client.get(url, headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.get_json()["current"]["kind"] == "amendment"
    versions = client.get(url + "/versions", headers={"If-None-Match": versions_tag})
    assert versions.status_code == 200
    assert versions.get_json()["items"][0]["approver"] == users["moderator"].name


def test_a_token_needs_the_read_scope(client, doc, entries, users, make_token):
    url = f"{API}/doc/sections/{entries[0].section.id}"
    without = make_token(users["participant"], scopes=("propose",))
    refused = client.get(url, headers=bearer(without))
    assert refused.status_code == 403
    assert client.get(url, headers=bearer(make_token(users["participant"], scopes=("read",)))).status_code == 200


@pytest.mark.parametrize("role", ["visitor", "participant", "moderator", "admin"])
def test_every_role_reads_the_same_text(client, doc, entries, users, make_token, role):
    headers = bearer(make_token(users[role], scopes=("read",))) if role != "visitor" else {}
    for path in ("/doc/outline", "/doc/sections", f"/doc/sections/{entries[0].section.id}",
                 f"/doc/sections/{entries[0].section.id}/versions"):
        response = client.get(API + path, headers=headers)
        assert response.status_code == 200, path
        no_email(response)
    visitor = client.get(f"{API}/doc/sections").get_json()
    assert client.get(f"{API}/doc/sections", headers=headers).get_json() == visitor


# ------------------------------------------------------------------ versions

def test_a_sections_versions_newest_first_with_authors_by_name_only(client, doc, entries, users):
    edit(users["moderator"], doc, entries[0], "Second text.", reason="Shorter.")
    response = client.get(f"{API}/doc/sections/{entries[0].section.id}/versions")
    assert response.status_code == 200
    data = response.get_json()
    assert [v["number"] for v in data["items"]] == [2, 1]
    newest = data["items"][0]
    assert newest == {"number": 2, "kind": "edit", "heading": "Section 1", "reason": "Shorter.",
                      "author": users["moderator"].name, "approver": None, "current": True,
                      "created_at": newest["created_at"],
                      "url": f"/d/doc/sections/{entries[0].section.id}/versions/2"}
    assert data["items"][1]["current"] is False
    assert data["items"][1]["author"] == users["admin"].name
    no_email(response)


def test_one_version_in_full(client, doc, entries, users):
    edit(users["moderator"], doc, entries[0], "Second *text*.")
    base = f"{API}/doc/sections/{entries[0].section.id}/versions"
    old = client.get(f"{base}/1").get_json()
    assert old["body"] == entries[0].version.body and old["current"] is False
    assert old["reason"] == "Initial text." and old["author"] == users["admin"].name
    new = client.get(f"{base}/2").get_json()
    assert new["body"] == "Second *text*." and "<em>text</em>" in new["body_html"] and new["current"] is True
    assert new["line_count"] == 1
    no_email(client.get(f"{base}/2"))
    for number in (0, 3, 99999999999999999999):
        missing = client.get(f"{base}/{number}")
        assert missing.status_code == 404
        assert missing.mimetype == "application/problem+json"


def test_versions_are_conditional_and_follow_a_new_version(client, doc, entries, users):
    base = f"{API}/doc/sections/{entries[0].section.id}/versions"
    list_tag = client.get(base).headers["ETag"]
    one_tag = client.get(f"{base}/1").headers["ETag"]
    assert client.get(base, headers={"If-None-Match": list_tag}).status_code == 304
    assert client.get(f"{base}/1", headers={"If-None-Match": one_tag}).status_code == 304
    edit(users["moderator"], doc, entries[0], "Second text.")
    assert client.get(base, headers={"If-None-Match": list_tag}).status_code == 200
    # Version 1 is no longer the current one: its answer says so.
    fresh = client.get(f"{base}/1", headers={"If-None-Match": one_tag})
    assert fresh.status_code == 200 and fresh.get_json()["current"] is False


def test_the_versions_list_pages(client, doc, entries, users):
    for n in range(2, 6):
        edit(users["moderator"], doc, entries[0], f"Text number {n}.")
    data = client.get(f"{API}/doc/sections/{entries[0].section.id}/versions?per_page=2&page=3").get_json()
    assert [v["number"] for v in data["items"]] == [1]
    assert data["total"] == 5 and data["pages"] == 3


# ------------------------------------------------------------------ diff

def test_the_diff_between_two_versions_as_runs_and_html(client, doc, entries, users):
    body = entries[0].version.body.replace("cooperatives", "unions")
    edit(users["moderator"], doc, entries[0], body, heading="Section one")
    response = client.get(f"{API}/doc/sections/{entries[0].section.id}/diff?from=1&to=2")
    assert response.status_code == 200
    data = response.get_json()
    assert data["old"]["number"] == 1 and data["new"]["number"] == 2
    assert {"op": "delete", "text": "cooperatives"} in data["changes"]
    assert {"op": "insert", "text": "unions"} in data["changes"]
    assert "".join(r["text"] for r in data["changes"] if r["op"] != "insert") == entries[0].version.body
    assert "".join(r["text"] for r in data["changes"] if r["op"] != "delete") == body
    assert {r["op"] for r in data["heading_changes"]} == {"equal", "delete", "insert"}
    assert "<ins" in data["inline_html"] and "<del" in data["inline_html"]
    assert "<table" in data["side_by_side_html"]
    no_email(response)
    # The inline diff is what the comparison page shows (consecutive versions: the stored one).
    assert data["inline_html"] == documents.compare_versions(
        documents.get_version_or_404(entries[0].section, 1), documents.get_version_or_404(entries[0].section, 2))[0]


def test_the_diff_of_any_two_versions_either_way(client, doc, entries, users):
    edit(users["moderator"], doc, entries[0], "Second.")
    edit(users["moderator"], doc, entries[0], "Third.")
    data = client.get(f"{API}/doc/sections/{entries[0].section.id}/diff?from=3&to=1").get_json()
    assert data["old"]["number"] == 3 and data["heading_changes"] == []
    assert "".join(r["text"] for r in data["changes"] if r["op"] != "delete") == entries[0].version.body
    same = client.get(f"{API}/doc/sections/{entries[0].section.id}/diff?from=2&to=2").get_json()
    assert [r["op"] for r in same["changes"]] == ["equal"]


@pytest.mark.parametrize("query", ["", "from=1", "to=1", "from=x&to=1", "from=0&to=1", "from=1&to=-2",
                                   "from=1&to=99999999999999"])
def test_a_diff_without_two_valid_numbers_is_422(client, doc, entries, query):
    response = client.get(f"{API}/doc/sections/{entries[0].section.id}/diff?{query}")
    assert response.status_code == 422
    assert {error["field"] for error in response.get_json()["errors"]} <= {"from", "to"}


def test_a_diff_with_a_missing_version_is_404(client, doc, entries):
    response = client.get(f"{API}/doc/sections/{entries[0].section.id}/diff?from=1&to=7")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_the_diff_is_conditional(client, doc, entries, users):
    edit(users["moderator"], doc, entries[0], "Second.")
    url = f"{API}/doc/sections/{entries[0].section.id}/diff?from=1&to=2"
    tag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    other = client.get(f"{API}/doc/sections/{entries[0].section.id}/diff?from=2&to=1").headers["ETag"]
    assert other != tag
    # A new version of the section: the versions' "current" flags change.
    edit(users["moderator"], doc, entries[0], "Third.")
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200


# ------------------------------------------------------------------ cost

def test_lists_cost_the_same_for_3_and_30_items(client, make_document, users, queries):
    small = make_document(3, slug="small", editor=users["admin"])
    large = make_document(30, slug="large", editor=users["admin"])
    counts: dict[str, list[int]] = {}
    for doc in (small, large):
        section = documents.current_sections(doc)[0].section.id
        for name, path in (("outline", "outline"), ("sections", "sections?per_page=100"),
                           ("section", f"sections/{section}"), ("versions", f"sections/{section}/versions")):
            client.get(f"{API}/{doc.slug}/{path}")  # warm: the first request loads what every one needs
            with queries() as counted:
                assert client.get(f"{API}/{doc.slug}/{path}").status_code == 200
            counts.setdefault(name, []).append(counted.count)
    for name, (few, many) in counts.items():
        assert few == many, (name, few, many)


def test_a_sections_versions_cost_the_same_for_3_and_30(client, doc, entries, users, queries):
    few, many = entries[0], entries[1]
    for n in range(2, 4):
        edit(users["moderator"], doc, few, f"Text {n}.")
    for n in range(2, 31):
        edit(users["moderator"], doc, many, f"Text {n}.")
    counts = []
    for entry in (few, many):
        url = f"{API}/doc/sections/{entry.section.id}/versions?per_page=100"
        client.get(url)
        with queries() as counted:
            data = client.get(url).get_json()
        counts.append(counted.count)
        assert data["total"] in (3, 30)
    assert counts[0] == counts[1]
