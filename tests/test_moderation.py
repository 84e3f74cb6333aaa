"""Moderation: reports, the queue, hiding and restoring in the open, suspending, and who may do what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.audit.models import AuditEvent
from manifesto.discussion import comments, moderation
from manifesto.discussion.models import Comment, Report
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.services import PermissionDenied, ValidationError

ROLES = ["anonymous", "participant", "author", "moderator", "admin"]


@pytest.fixture
def world(make_document, users, make_user):
    """An open document; a comment, a reply and an amendment by ``author``; a report by the participant."""
    document = make_document(phase="amendments", editor=users["admin"])
    section = documents.current_sections(document)[0].section
    author = make_user(name="The Author", organisation="Author's coop")
    comment = comments.post_comment(author, document.id, section_id=section.id, body="A *heated* remark.")
    reply = comments.reply_to_comment(users["moderator"], document.id, comment.id, body="Calm down, please.")
    version = documents.get_section_or_404(document, section.id).current_version
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=version.body + " Shouting.", reason="Because.")
    return {"document": document, "section": section, "author": author, "comment": comment, "reply": reply,
            "amendment": amendment, "people": {**users, "author": author}}


def _events(action):
    """The audit events of one action, oldest first."""
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _fresh(model, row_id):
    """Read a row again."""
    db.session.expire_all()
    return db.session.get(model, row_id)


# ------------------------------------------------------------------ who may do what

# (method, url, data, expected status for anonymous, participant, author, moderator, admin)
MATRIX = [
    ("GET", "/d/doc/moderation", None, [302, 403, 403, 200, 200]),
    ("GET", "/d/doc/comments/{c}/report", None, [302, 200, 403, 200, 200]),
    ("POST", "/d/doc/comments/{c}/report", {"reason": "Insulting."}, [302, 302, 403, 302, 302]),
    ("GET", "/d/doc/amendments/{a}/report", None, [302, 200, 403, 200, 200]),
    ("POST", "/d/doc/amendments/{a}/report", {"reason": "Spam."}, [302, 302, 403, 302, 302]),
    ("GET", "/d/doc/moderation/comments/{c}/hide", None, [302, 403, 403, 200, 200]),
    ("POST", "/d/doc/moderation/comments/{c}/hide", {"reason": "Insults."}, [302, 403, 403, 302, 302]),
    ("POST", "/d/doc/moderation/comments/{c}/dismiss", {"reason": ""}, [302, 403, 403, 302, 302]),
    ("POST", "/d/doc/moderation/comments/{r}/restore", {"reason": ""}, [302, 403, 403, 302, 302]),
    ("POST", "/d/doc/moderation/amendments/{a}/hide", {"reason": "Spam."}, [302, 403, 403, 302, 302]),
    ("POST", "/d/doc/moderation/amendments/{a}/dismiss", {"reason": ""}, [302, 403, 403, 302, 302]),
    ("GET", "/d/doc/moderation/users/{u}/suspend", None, [302, 403, 403, 403, 200]),
    ("POST", "/d/doc/moderation/users/{u}/suspend", {"reason": "Repeated insults."}, [302, 403, 403, 403, 302]),
    ("POST", "/d/doc/sections/{s}/comments", {"body": "Hello."}, [302, 302, 302, 302, 302]),
    ("POST", "/d/doc/amendments/{a}/comments", {"body": "Hello."}, [302, 302, 302, 302, 302]),
    ("POST", "/d/doc/comments/{c}/reply", {"body": "Hello."}, [302, 302, 302, 302, 302]),
    ("GET", "/d/doc/comments/{c}/edit", None, [302, 403, 200, 403, 403]),
    ("POST", "/d/doc/comments/{c}/edit", {"body": "Calmer.", "revision": "1"}, [302, 403, 302, 403, 403]),
    ("POST", "/d/doc/comments/{c}/delete", {}, [302, 403, 302, 403, 403]),
    ("GET", "/d/doc/comments/{c}", None, [302, 302, 302, 302, 302]),
    ("GET", "/d/doc/threads/{c}", None, [200, 200, 200, 200, 200]),
    ("GET", "/d/doc/comments/{c}/history", None, [200, 200, 200, 200, 200]),
]


@pytest.mark.parametrize("role_index,role", list(enumerate(ROLES)))
@pytest.mark.parametrize("method,url,data,expected", MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX])
def test_moderation_role_matrix(client, login, world, make_user, role_index, role, method, url, data, expected):
    people = world["people"]
    # Someone outside the matrix reported both items; a reply is hidden, to restore.
    reporter = make_user()
    moderation.report_item(reporter, world["document"].id, "comment", world["comment"].id, reason="Rude.")
    moderation.report_item(reporter, world["document"].id, "amendment", world["amendment"].id, reason="Off topic.")
    moderation.hide_item(people["admin"], world["document"].id, "comment", world["reply"].id, reason="Test.")
    if role != "anonymous":
        login(people[role])
    url = url.format(c=world["comment"].id, r=world["reply"].id, a=world["amendment"].id, s=world["section"].id,
                     u=world["author"].id)
    response = client.open(url, method=method, data=data)
    assert response.status_code == expected[role_index], (role, url, response.get_data(as_text=True)[:300])
    if role == "anonymous" and response.status_code == 302 and method == "POST":
        assert "/login" in response.headers["Location"]


# ------------------------------------------------------------------ reports and the queue

def test_reports_reach_the_queue_and_hiding_resolves_them_in_the_open(client, login, world, users):
    comment, author = world["comment"], world["author"]
    login(users["participant"])
    response = client.post(f"/d/doc/comments/{comment.id}/report", data={"reason": "A personal attack."})
    assert response.status_code == 302
    report = db.session.scalar(select(Report))
    assert (report.target, report.target_id, report.reporter_id, report.status) == \
        ("comment", comment.id, users["participant"].id, "open")
    event = _events("report.created")[0]
    assert (event.object_type, event.object_id, event.reason) == ("reports", report.id, "A personal attack.")
    assert event.data == {"target": "comment", "target_id": comment.id}
    client.post("/logout")

    login(users["moderator"])
    queue = client.get("/d/doc/moderation").get_data(as_text=True)
    assert "A personal attack." in queue and "A <em>heated</em> remark." in queue
    assert "1 item with open reports" in queue
    response = client.post(f"/d/doc/moderation/comments/{comment.id}/hide", data={"reason": "Insults a delegate."})
    assert response.status_code == 302
    report = _fresh(Report, report.id)
    assert (report.status, report.handled_by_id, report.handled_reason) == \
        ("hidden", users["moderator"].id, "Insults a delegate.")
    hidden = _events("comment.hidden")[0]
    assert (hidden.object_id, hidden.reason, hidden.actor_id) == (comment.id, "Insults a delegate.",
                                                                    users["moderator"].id)
    queue = client.get("/d/doc/moderation").get_data(as_text=True)
    assert "0 items with open reports" in queue and "Insults a delegate." in queue  # under "Hidden lately"
    client.post("/logout")

    section_url = f"/d/doc/sections/{world['section'].id}"
    for viewer in (None, users["participant"], users["admin"]):
        if viewer is not None:
            login(viewer)
        page = client.get(section_url).get_data(as_text=True)
        if viewer is users["admin"]:
            assert "A <em>heated</em> remark." in page  # moderators still read it ...
            assert "Hidden by the moderators</strong> (only its author and the moderators" in page
        else:
            assert "heated" not in page
            assert "<strong>Hidden by the moderators.</strong> Reason: Insults a delegate." in page
        assert "Calm down, please." in page  # the thread stays readable
        client.post("/logout")
    login(author)
    page = client.get(section_url).get_data(as_text=True)
    assert "A <em>heated</em> remark." in page and "only its author and the moderators can read it" in page
    assert _fresh(Comment, comment.id).body == "A *heated* remark."  # kept in the database

    client.post("/logout")
    login(users["moderator"])
    assert client.post(f"/d/doc/moderation/comments/{comment.id}/restore", data={"reason": "On appeal."}) \
        .status_code == 302
    assert _fresh(Comment, comment.id).hidden_at is None
    assert _events("comment.restored")[0].reason == "On appeal."
    client.post("/logout")
    assert "A <em>heated</em> remark." in client.get(section_url).get_data(as_text=True)


def test_one_report_per_person_and_item(client, login, world, users):
    document, comment = world["document"], world["comment"]
    moderation.report_item(users["participant"], document.id, "comment", comment.id, reason="Rude.")
    with pytest.raises(ValidationError, match="already reported"):
        moderation.report_item(users["participant"], document.id, "comment", comment.id, reason="Still rude.")
    login(users["participant"])
    response = client.post(f"/d/doc/comments/{comment.id}/report", data={"reason": "My second complaint."})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'id="reason-error"><strong>Error:</strong> You have already reported this comment', page)
    assert "My second complaint.</textarea>" in page
    assert len(db.session.scalars(select(Report)).all()) == 1


def test_reports_need_a_reason_and_cannot_target_oneself_or_hidden_items(client, login, world, users):
    document, comment, author = world["document"], world["comment"], world["author"]
    login(users["participant"])
    response = client.post(f"/d/doc/comments/{comment.id}/report", data={"reason": "   "})
    assert response.status_code == 400 and 'id="reason-error"' in response.get_data(as_text=True)
    with pytest.raises(PermissionDenied):
        moderation.report_item(author, document.id, "comment", comment.id, reason="Me.")
    with pytest.raises(PermissionDenied):
        moderation.report_item(author, document.id, "amendment", world["amendment"].id, reason="Me.")
    moderation.hide_item(users["moderator"], document.id, "comment", comment.id, reason="Gone.")
    with pytest.raises(ValidationError, match="hidden this comment already"):
        moderation.report_item(users["admin"], document.id, "comment", comment.id, reason="Late.")


def test_dismissing_closes_every_open_report_of_the_item(world, users, make_user):
    document, amendment = world["document"], world["amendment"]
    reporters = [users["participant"], make_user(), make_user()]
    for person in reporters:
        moderation.report_item(person, document.id, "amendment", amendment.id, reason=f"By {person.name}")
    assert moderation.dismiss_reports(users["moderator"], document.id, "amendment", amendment.id,
                                      reason="Within the rules.") == 3
    assert {r.status for r in db.session.scalars(select(Report))} == {"dismissed"}
    events = _events("report.dismissed")
    assert len(events) == 3 and {e.reason for e in events} == {"Within the rules."}
    assert all(e.object_type == "reports" and e.data == {"target": "amendment", "target_id": amendment.id}
               for e in events)
    with pytest.raises(ValidationError, match="no open report"):
        moderation.dismiss_reports(users["moderator"], document.id, "amendment", amendment.id)
    assert _fresh(Amendment, amendment.id).hidden_at is None


def test_a_hidden_amendment_shows_its_reason_to_everyone_but_its_author_and_the_moderators(
        client, login, world, users):
    document, amendment, author = world["document"], world["amendment"], world["author"]
    assert document.slug == "doc"
    moderation.report_item(users["participant"], document.id, "amendment", amendment.id, reason="Spam.")
    moderation.hide_item(users["moderator"], document.id, "amendment", amendment.id, reason="Advertising.")
    assert _fresh(Report, 1).status == "hidden"
    event = _events("amendment.hidden")[0]
    assert (event.object_type, event.object_id, event.reason) == ("amendments", amendment.id, "Advertising.")
    urls = [f"/d/doc/amendments/{amendment.id}", f"/d/doc/amendments/{amendment.id}/revisions/1"]
    for viewer in (None, users["participant"]):
        if viewer:
            login(viewer)
        for url in urls:
            page = client.get(url).get_data(as_text=True)
            assert "Shouting." not in page and "Because." not in page
            assert "<strong>Hidden by the moderators.</strong> Reason: Advertising." in page
        listing = client.get("/d/doc/amendments/?status=all").get_data(as_text=True)
        assert "Hidden by the moderators</span>" in listing
        client.post("/logout")
    for viewer in (author, users["moderator"]):
        login(viewer)
        page = client.get(urls[0]).get_data(as_text=True)
        assert "Because." in page and "only its author and the moderators can read its text" in page
        client.post("/logout")
    amendments.restore_amendment(users["moderator"], document.id, amendment.id, reason="Fixed.")
    assert "Because." in client.get(urls[0]).get_data(as_text=True)
    assert _events("amendment.restored")[0].reason == "Fixed."


def test_hiding_needs_a_public_reason_and_keeps_the_text(client, login, world, users):
    login(users["moderator"])
    comment = world["comment"]
    response = client.post(f"/d/doc/moderation/comments/{comment.id}/hide", data={"reason": ""})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.get_data(as_text=True)
    too_long = "x" * 2001
    response = client.post(f"/d/doc/moderation/amendments/{world['amendment'].id}/hide", data={"reason": too_long})
    assert response.status_code == 400 and too_long in response.get_data(as_text=True)
    assert _fresh(Comment, comment.id).hidden_at is None


def test_an_admin_suspends_a_reported_author_from_the_queue_with_a_reason(client, login, world, users):
    document, author = world["document"], world["author"]
    moderation.report_item(users["participant"], document.id, "comment", world["comment"].id, reason="Abuse.")
    login(users["admin"])
    queue = client.get("/d/doc/moderation").get_data(as_text=True)
    assert f"/d/doc/moderation/users/{author.id}/suspend" in queue
    response = client.post(f"/d/doc/moderation/users/{author.id}/suspend", data={"reason": ""})
    assert response.status_code == 400 and "Give the reason for the suspension." in response.get_data(as_text=True)
    response = client.post(f"/d/doc/moderation/users/{author.id}/suspend", data={"reason": "Repeated abuse."})
    assert response.status_code == 302
    assert _fresh(User, author.id).active is False
    event = _events("user.deactivated")[0]
    assert (event.object_id, event.reason, event.actor_id) == (author.id, "Repeated abuse.", users["admin"].id)
    client.post("/logout")
    login(users["moderator"])
    assert f"/moderation/users/{author.id}/suspend" not in client.get("/d/doc/moderation").get_data(as_text=True)


def test_the_queue_pages_take_the_same_queries_for_few_and_many_reports(app, make_document, users, make_user,
                                                                          queries):
    client = app.test_client()
    client.post("/login", data={"email": users["admin"].email, "password": "correct-horse-battery"})
    reporters = [make_user() for _ in range(3)]
    counts = []
    for slug, n in (("small", 3), ("big", 45)):
        document = make_document(phase="amendments", slug=slug, editor=users["admin"])
        section = documents.current_sections(document)[0].section
        author = make_user()
        version = documents.get_section_or_404(document, section.id).current_version
        a = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id, heading=None,
                                         body=version.body + " x", reason="R")
        moderation.report_item(reporters[0], document.id, "amendment", a.id, reason="Spam")
        for i in range(n):
            c = comments.post_comment(author, document.id, section_id=section.id, body=f"Comment {i}")
            for person in reporters[: 1 + i % 3]:
                moderation.report_item(person, document.id, "comment", c.id, reason=f"Reason {i}")
            if i % 5 == 0:
                moderation.hide_item(users["moderator"], document.id, "comment", c.id, reason="Hidden.")
        with queries() as counted:
            assert client.get(f"/d/{slug}/moderation").status_code == 200
        counts.append(counted.count)
    assert counts[0] == counts[1], counts
