"""Every POST route, every role, hostile values in every field: never a server error.

Exceptions propagate in tests, so any crash fails here with its traceback.
"""

from __future__ import annotations

import pytest

from manifesto.amendments import services as amendments
from manifesto.documents import services as documents
from manifesto.releases import services as releases

FIELDS = ["email", "name", "organisation", "country", "password", "confirm", "current_password", "new_password",
          "remember", "next", "role", "active", "heading", "body", "reason", "base_version", "after",
          "structure_version", "to_number", "direction", "title", "introduction", "phase", "amendment_deadline",
          "min_supporters", "kind", "section_id", "base_version_id", "revision", "action", "decision",
          "final_heading", "final_body", "merged_into", "description", "final", "credit"]

HOSTILE = [
    "",
    " ",
    "\x00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "99999999999999999999999",
    "-1",
    "0",
    "nan",
    "𝕳𝖊𝖑𝖑𝖔 ‮ RTL  emoji 👩🏽‍🌾",
    "x" * 60_000,  # over every field limit; 34 of them make the request itself too large (413)
    "y" * 10_000,
    "2030-02-30T25:61",
    "//evil.example",
]


@pytest.fixture
def world(make_document, users, make_user):
    """A document in the amendment phase with an open, a conflicted and a decided amendment."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    author = make_user()
    body = entry.version.body
    open_one = amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                            heading=None, body=body.replace("energy", "solar energy"), reason="A")
    other = amendments.propose_amendment(users["participant"], document.id, kind="modify",
                                         section_id=entry.section.id, heading=None,
                                         body=body.replace("energy", "wind energy"), reason="B")
    amendments.decide_amendment(users["moderator"], document.id, other.id, decision="accept", reason="Yes.",
                                revision=1)
    release = releases.publish_release(users["moderator"], document.id, name="Draft 1")
    return {"document": document, "section": entry.section.id, "amendment": open_one.id, "author": author,
            "release": release.slug}


def post_routes(app):
    """Every rule that accepts POST."""
    return sorted(rule.rule for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ()))


@pytest.mark.parametrize("role", ["anonymous", "participant", "author", "moderator", "admin"])
def test_no_form_crashes_on_hostile_input(app, client, login, users, world, role):
    people = {**users, "author": world["author"]}
    if role != "anonymous":
        login(people[role])
    values = {"slug": "doc", "section_id": world["section"], "amendment_id": world["amendment"],
              "user_id": users["participant"].id, "release_slug": world["release"]}
    routes = post_routes(app)
    assert len(routes) >= 15, routes
    for rule in routes:
        url = rule
        for name, value in values.items():
            url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        for hostile in HOSTILE:
            data = {field: hostile for field in FIELDS}
            response = client.post(url, data=data)
            assert response.status_code < 500, (rule, hostile[:20], response.status_code)
            if rule == "/logout" and role != "anonymous":
                login(people[role])  # stay in the role for the next route
