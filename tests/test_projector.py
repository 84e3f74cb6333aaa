"""The projector and its console: who may change the screen, stepping through a section's amendments, decisions
recorded from the console, what the screen shows (and hides), its live fragment and validators, no-JS forms."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.accounts.services import set_active
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment, AmendmentRevision
from manifesto.audit.models import AuditEvent
from manifesto.documents import services as documents
from manifesto.documents.models import SectionVersion
from manifesto.extensions import db
from manifesto.plenary import votes
from manifesto.plenary.projector import services as projector
from manifesto.plenary.projector.models import Projection
from manifesto.services import ConflictError, NotFound, PermissionDenied, ValidationError

from harness import notices_during

PARAGRAPH_ONE = "Paragraph one of section 1, about cooperatives and energy."
PARAGRAPH_TWO = "Paragraph two of section 1, about democracy at work."


@pytest.fixture
def room(make_document, users):
    """A document in the amendment phase with four amendments to its first section, proposed by the participant.

    In code order A-001 (paragraph two), A-002 and A-003 (paragraph one), A-004 (paragraph two); in the list's
    "section" order, by first line and then number: A-002, A-003, A-001, A-004.
    """
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    body = entry.version.body

    def propose(old, new, reason="Better."):
        return amendments.propose_amendment(
            users["participant"], document.id, kind="modify", section_id=entry.section.id, heading=None,
            body=body.replace(old, new, 1), reason=reason)

    found = [propose("democracy at work", "democracy at every workplace"),
             propose("cooperatives", "worker cooperatives"),
             propose("and energy", "and clean energy"),
             propose("at work.", "at work and at home.")]
    return {"document": document, "section": entry.section, "a": {a.code: a for a in found}}


def code_of(projection) -> str | None:
    """The code of the amendment a projection shows."""
    return db.session.get(Amendment, projection.amendment_id).code if projection.amendment_id else None


def logged_in(app, login, user):
    """A client of its own, logged in as ``user``."""
    client = app.test_client()
    assert login(user, test_client=client).status_code == 302
    return client


def csrf(page: str) -> str:
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


# ------------------------------------------------------------------ who may change the screen

@pytest.mark.parametrize(("role", "allowed"), [("visitor", False), ("participant", False), ("suspended", False),
                                               ("moderator", True), ("admin", True)])
def test_only_moderators_change_the_projector(make_user, users, room, role, allowed):
    document, a2 = room["document"], room["a"]["A-002"]
    actor = {"visitor": None, "suspended": None}.get(role) or users.get(role)
    if role == "visitor":
        from flask_login import AnonymousUserMixin
        actor = AnonymousUserMixin()
    elif role == "suspended":
        moderator = make_user("moderator")
        set_active(users["admin"], moderator.id, False)
        actor = db.session.get(User, moderator.id)
    actions = [
        lambda: projector.show_section(actor, document.id, room["section"].id),
        lambda: projector.show_amendment(actor, document.id, a2.id),
        lambda: projector.step(actor, document.id, "next"),
        lambda: projector.show_nothing(actor, document.id, message="Lunch"),
    ]
    if not allowed:
        for action in actions:
            with pytest.raises(PermissionDenied):
                action()
        with pytest.raises(PermissionDenied):
            projector.decide_shown(actor, document.id, a2.id, decision="reject", reason="No.",
                                   amendment_revision=None, revision=None)
        assert db.session.scalar(select(func.count()).select_from(Projection)) == 0
        assert db.session.get(Amendment, a2.id).status == "submitted"
        assert not db.session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action.like("projector.%")))
        return
    shown = actions[0]()
    assert shown.shown == "section" and shown.revision == 1
    shown = actions[1]()
    assert code_of(shown) == "A-002" and shown.section_id == room["section"].id and shown.revision == 2
    assert code_of(actions[2]()) == "A-003"
    cleared = actions[3]()
    assert cleared.shown == "nothing" and cleared.message == "Lunch" and cleared.revision == 4
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("projector.%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["projector.shown", "projector.shown", "projector.stepped", "projector.cleared"]


def test_a_participants_console_pages_are_refused(app, client, login, users, room):
    participant = logged_in(app, login, users["participant"])
    assert participant.get("/d/doc/console").status_code == 403
    assert 'href="/d/doc/console"' not in participant.get("/d/doc/amendments/").get_data(as_text=True)
    moderator = logged_in(app, login, users["moderator"])
    assert 'href="/d/doc/console">Projector console</a>' in moderator.get("/d/doc/amendments/").get_data(as_text=True)
    page = participant.get("/d/doc/projector")  # the screen is for everyone
    token = csrf(participant.get("/account/password").get_data(as_text=True))
    response = participant.post("/d/doc/console/amendment",
                                data={"csrf_token": token, "amendment_id": room["a"]["A-002"].id})
    assert page.status_code == 200 and response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Projection)) == 0
    assert client.get("/d/doc/console").status_code == 302  # a visitor is asked to log in


# ------------------------------------------------------------------ stepping

def test_next_and_previous_follow_the_lists_section_order(users, room):
    document, moderator = room["document"], users["moderator"]
    projector.show_section(moderator, document.id, room["section"].id)
    seen = [code_of(projector.step(moderator, document.id, "next")) for _ in range(4)]
    assert seen == ["A-002", "A-003", "A-001", "A-004"]
    with pytest.raises(ValidationError, match="no open amendment after A-004"):
        projector.step(moderator, document.id, "next")
    seen = [code_of(projector.step(moderator, document.id, "previous")) for _ in range(3)]
    assert seen == ["A-001", "A-003", "A-002"]
    with pytest.raises(ValidationError, match="no open amendment before A-002"):
        projector.step(moderator, document.id, "previous")


def test_stepping_passes_over_decided_withdrawn_and_hidden_amendments(users, room):
    document, moderator, a = room["document"], users["moderator"], room["a"]
    amendments.decide_amendment(moderator, document.id, a["A-003"].id, decision="reject", reason="No.",
                                revision=None)
    amendments.withdraw_amendment(users["participant"], document.id, a["A-001"].id, revision=None, reason="Mine.")
    projector.show_amendment(moderator, document.id, a["A-002"].id)
    assert code_of(projector.step(moderator, document.id, "next")) == "A-004"
    # From a decided amendment shown, the next open one after its place in the order.
    projector.show_amendment(moderator, document.id, a["A-003"].id)
    assert code_of(projector.step(moderator, document.id, "next")) == "A-004"
    amendments.hide_amendment(moderator, document.id, a["A-004"].id, reason="Off topic.")
    projector.show_section(moderator, document.id, room["section"].id)
    assert code_of(projector.step(moderator, document.id, "previous")) == "A-002"
    with pytest.raises(ValidationError, match="no open amendment after A-002"):
        projector.step(moderator, document.id, "next")


def test_stepping_needs_something_shown_and_a_direction(users, room):
    document, moderator = room["document"], users["moderator"]
    with pytest.raises(ValidationError, match="Show a section"):
        projector.step(moderator, document.id, "next")
    with pytest.raises(ValidationError):
        projector.step(moderator, document.id, "sideways")


def test_what_cannot_be_shown_is_refused(make_document, users, room):
    document, moderator, a = room["document"], users["moderator"], room["a"]
    draft = amendments.propose_amendment(users["participant"], document.id, kind="modify",
                                         section_id=room["section"].id, heading=None,
                                         body=PARAGRAPH_ONE + "\n\nA draft.", reason="Later.", submit=False)
    other = make_document(slug="other", editor=users["admin"])
    with pytest.raises(NotFound):
        projector.show_amendment(moderator, document.id, draft.id)
    with pytest.raises(NotFound):
        projector.show_section(moderator, document.id, documents.current_sections(other)[0].section.id)
    amendments.hide_amendment(moderator, document.id, a["A-001"].id, reason="Off topic.")
    with pytest.raises(ValidationError, match="hidden"):
        projector.show_amendment(moderator, document.id, a["A-001"].id)
    with pytest.raises(ValidationError, match="at most|characters"):
        projector.show_nothing(moderator, document.id, message="x" * 201)
    assert db.session.scalar(select(func.count()).select_from(Projection)) <= 1
    assert projector.projection_of(document).revision == 0


def test_a_stale_console_changes_nothing(users, room):
    document, moderator, a = room["document"], users["moderator"], room["a"]
    first = projector.show_amendment(moderator, document.id, a["A-002"].id)
    seen = first.revision
    projector.show_amendment(users["admin"], document.id, a["A-001"].id)  # another moderator, meanwhile
    with pytest.raises(ConflictError, match="now shows A-001"):
        projector.step(moderator, document.id, "next", revision=seen)
    with pytest.raises(ConflictError):
        projector.show_nothing(moderator, document.id, revision=seen)
    assert code_of(projector.projection_of(document)) == "A-001"


# ------------------------------------------------------------------ decisions from the console

def test_a_decision_through_the_console_is_the_amendments_own(users, room):
    document, moderator, a2 = room["document"], users["moderator"], room["a"]["A-002"]
    shown = projector.show_amendment(moderator, document.id, a2.id)
    versions = db.session.scalar(select(func.count()).select_from(SectionVersion))
    decided = projector.decide_shown(moderator, document.id, a2.id, decision="accept", reason="The room agrees.",
                                     amendment_revision=a2.revision, revision=shown.revision)
    assert decided.status == "accepted" and decided.decision_reason == "The room agrees."
    assert db.session.scalar(select(func.count()).select_from(SectionVersion)) == versions + 1
    current = documents.current_sections(document)[0].version
    assert "worker cooperatives" in current.body and decided.result_version_id == current.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "amendment.accepted"))
    assert event.object_id == a2.id and event.actor_id == moderator.id and event.reason == "The room agrees."
    # The section's other open amendments followed the new text, as after any decision.
    assert db.session.scalar(select(func.count()).select_from(AmendmentRevision)
                             .where(AmendmentRevision.amendment_id == room["a"]["A-001"].id)) == 2


def test_a_decision_on_a_changed_amendment_or_projector_is_refused(users, room):
    document, moderator, a = room["document"], users["moderator"], room["a"]
    seen = projector.show_amendment(moderator, document.id, a["A-002"].id).revision
    old_revision = a["A-002"].revision
    amendments.edit_amendment(users["participant"], document.id, a["A-002"].id, heading=None,
                              body=documents.current_sections(document)[0].version.body.replace(
                                  "cooperatives", "many cooperatives", 1),
                              reason="Even better.", revision=None, submit=True)
    with pytest.raises(ConflictError, match="changed while you were deciding"):
        projector.decide_shown(moderator, document.id, a["A-002"].id, decision="reject", reason="No.",
                               amendment_revision=old_revision, revision=seen)
    fresh = db.session.get(Amendment, a["A-002"].id)
    projector.show_amendment(users["admin"], document.id, a["A-001"].id)
    with pytest.raises(ConflictError, match="now shows A-001"):
        projector.decide_shown(moderator, document.id, fresh.id, decision="reject", reason="No.",
                               amendment_revision=fresh.revision, revision=seen)
    assert db.session.get(Amendment, fresh.id).status == "submitted"
    assert not db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "amendment.rejected"))


def test_the_author_does_not_decide_from_the_console_either(make_user, users, room):
    document, a2 = room["document"], room["a"]["A-002"]
    author = db.session.get(User, users["participant"].id)
    author.role = "moderator"
    db.session.commit()
    shown = projector.show_amendment(users["moderator"], document.id, a2.id)
    with pytest.raises(PermissionDenied, match="your own"):
        projector.decide_shown(author, document.id, a2.id, decision="accept", reason="Mine.",
                               amendment_revision=a2.revision, revision=shown.revision)


# ------------------------------------------------------------------ the screen

def test_the_screen_shows_nothing_until_a_moderator_chooses(client, room):
    page = client.get("/d/doc/projector")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Nothing is shown right now." in text
    assert '<noscript><meta http-equiv="refresh" content="20"></noscript>' in text
    assert 'class="site-header"' not in text and "nav-links" not in text  # no site navigation
    assert f'data-live-topic="projector:{room["document"].id}' in text
    assert 'data-live-fragment="/d/doc/projector/screen"' in text


def test_the_screen_shows_a_section_on_its_numbered_lines(client, users, room):
    projector.show_section(users["moderator"], room["document"].id, room["section"].id)
    text = client.get("/d/doc/projector").get_data(as_text=True)
    assert "§1" in text and "Section 1" in text and 'class="numbered-text"' in text
    assert re.search(r'<span class="ln">1</span> <span class="lt">Paragraph one of section 1', text)
    assert 'data-live-summary="Now showing §1 Section 1."' in text


def test_the_screen_shows_an_amendment_its_diff_supporters_decision_and_votes(make_user, client, users, room):
    document, a2 = room["document"], room["a"]["A-002"]
    supporter = make_user(name="Rosa Supporter")
    amendments.support_amendment(supporter, document.id, a2.id)
    projector.show_amendment(users["moderator"], document.id, a2.id)
    text = client.get("/d/doc/projector").get_data(as_text=True)
    assert "A-002" in text and "Open" in text and "diff-numbered" in text
    assert re.search(r"<ins>(<span[^>]*>[^<]*</span>)?worker </ins>cooperatives", text)
    assert "1 supporter." in text and "Rosa Supporter" in text
    assert 'data-live-summary="Now showing A-002: ' in text
    vote = votes.open_vote(users["moderator"], document.id, a2.id, question="Adopt A-002?", secret=False,
                           majority="simple", abstentions_count=False)
    assert "Adopt A-002?" in client.get("/d/doc/projector").get_data(as_text=True)
    votes.cast_vote(supporter, vote.id, "yes")
    votes.close_vote(users["moderator"], vote.id)
    text = client.get("/d/doc/projector").get_data(as_text=True)
    assert "passed" in text and "1 yes, 0 no, 0 abstain" in text
    amendments.decide_amendment(users["moderator"], document.id, a2.id, decision="accept",
                                reason="Carried by the room.", revision=None)
    text = client.get("/d/doc/projector").get_data(as_text=True)
    assert "Accepted" in text and "Carried by the room." in text
    assert 'data-live-summary="A-002: Accepted."' in text


def test_a_hidden_amendment_shows_its_reason_never_its_text_even_to_moderators(app, login, client, users, room):
    document, a1 = room["document"], room["a"]["A-001"]
    projector.show_amendment(users["moderator"], document.id, a1.id)
    amendments.hide_amendment(users["moderator"], document.id, a1.id, reason="Insults a delegate.")
    moderator = logged_in(app, login, users["moderator"])
    for reader in (client, moderator):
        for path in ("/d/doc/projector", "/d/doc/projector/screen"):
            text = reader.get(path).get_data(as_text=True)
            assert "Insults a delegate." in text and "A-001" in text
            assert "every workplace" not in text and "Better." not in text and "Participant" not in text


def test_the_fragment_is_the_region_alone_with_its_summary_and_validators(client, users, room):
    document = room["document"]
    projector.show_amendment(users["moderator"], document.id, room["a"]["A-003"].id)
    response = client.get("/d/doc/projector/screen")
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in text and "<noscript>" not in text
    assert text.strip().startswith('<div class="screen screen-amendment" data-live-summary="Now showing A-003')
    assert response.headers["Cache-Control"] == "private, no-cache" and response.headers["ETag"]
    again = client.get("/d/doc/projector/screen", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    # A new supporter elsewhere changes the screen: the old validator no longer matches.
    amendments.support_amendment(users["admin"], document.id, room["a"]["A-003"].id)
    changed = client.get("/d/doc/projector/screen", headers={"If-None-Match": response.headers["ETag"]})
    assert changed.status_code == 200 and "1 supporter." in changed.get_data(as_text=True)
    # So does the console's next step.
    projector.step(users["moderator"], document.id, "next")
    stepped = client.get("/d/doc/projector/screen", headers={"If-None-Match": changed.headers["ETag"]})
    assert stepped.status_code == 200 and 'data-live-summary="Now showing A-001' in stepped.get_data(as_text=True)


def test_the_projector_page_is_revalidated_every_time(client, users, room):
    response = client.get("/d/doc/projector")
    assert response.headers["Cache-Control"] == "public, no-cache" and response.headers["ETag"]
    assert client.get("/d/doc/projector", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    projector.show_nothing(users["moderator"], room["document"].id, message="Back at 14:30")
    fresh = client.get("/d/doc/projector", headers={"If-None-Match": response.headers["ETag"]})
    assert fresh.status_code == 200 and "Back at 14:30" in fresh.get_data(as_text=True)


# ------------------------------------------------------------------ the console without JavaScript

def console_page(moderator) -> str:
    """The console's HTML."""
    response = moderator.get("/d/doc/console")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    return response.get_data(as_text=True)


def test_a_moderator_works_through_a_section_from_the_console(app, login, client, users, room):
    document, a = room["document"], room["a"]
    moderator = logged_in(app, login, users["moderator"])
    page = console_page(moderator)
    assert 'href="/d/doc/projector" target="_blank"' in page and "Preview" in page
    assert '<label for="section_id">Section</label>' in page and '<label for="amendment_id">Amendment</label>' in page
    response = moderator.post("/d/doc/console/section", data={"csrf_token": csrf(page), "revision": "0",
                                                              "section_id": room["section"].id})
    assert response.status_code == 303 and response.headers["Location"].endswith("/d/doc/console")
    page = console_page(moderator)
    assert "§1" in page and 'data-live-summary="Now showing §1 Section 1."' in page
    moderator.post("/d/doc/console/step", data={"csrf_token": csrf(page), "revision": "1", "direction": "next"})
    page = console_page(moderator)
    assert "The projector shows A-002." in page and "Record the decision" in page
    assert code_of(projector.projection_of(document)) == "A-002"
    response = moderator.post("/d/doc/console/decide", data={
        "csrf_token": csrf(page), "revision": "2", "amendment_id": a["A-002"].id,
        "amendment_revision": a["A-002"].revision, "decision": "reject", "reason": "The room says no."})
    assert response.status_code == 303
    assert db.session.get(Amendment, a["A-002"].id).status == "rejected"
    screen = client.get("/d/doc/projector/screen").get_data(as_text=True)
    assert "Rejected" in screen and "The room says no." in screen
    page = console_page(moderator)
    moderator.post("/d/doc/console/step", data={"csrf_token": csrf(page), "revision": "2", "direction": "next"})
    assert code_of(projector.projection_of(document)) == "A-003"
    moderator.post("/d/doc/console/clear", data={"csrf_token": csrf(page), "revision": "3", "message": "Coffee"})
    assert "Coffee" in client.get("/d/doc/projector").get_data(as_text=True)


def test_a_refused_decision_keeps_the_reason_typed(app, login, users, room):
    document, a = room["document"], room["a"]
    moderator = logged_in(app, login, users["moderator"])
    seen = projector.show_amendment(users["moderator"], document.id, a["A-002"].id).revision
    page = console_page(moderator)
    no_decision = moderator.post("/d/doc/console/decide", data={
        "csrf_token": csrf(page), "revision": seen, "amendment_id": a["A-002"].id,
        "amendment_revision": a["A-002"].revision, "decision": "", "reason": "My careful reason."})
    assert no_decision.status_code == 400
    assert "Choose a decision." in no_decision.get_data(as_text=True)
    assert "My careful reason." in no_decision.get_data(as_text=True)
    projector.show_amendment(users["admin"], document.id, a["A-001"].id)  # the room moved on meanwhile
    stale = moderator.post("/d/doc/console/decide", data={
        "csrf_token": csrf(page), "revision": seen, "amendment_id": a["A-002"].id,
        "amendment_revision": a["A-002"].revision, "decision": "accept", "reason": "My careful reason."})
    text = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "now shows A-001" in text and "My careful reason." in text
    assert db.session.get(Amendment, a["A-002"].id).status == "submitted"


def test_a_stale_console_button_goes_back_with_the_reason(app, login, users, room):
    document, a = room["document"], room["a"]
    moderator = logged_in(app, login, users["moderator"])
    page = console_page(moderator)
    projector.show_amendment(users["admin"], document.id, a["A-001"].id)
    response = moderator.post("/d/doc/console/step", data={"csrf_token": csrf(page), "revision": "0",
                                                           "direction": "next"})
    assert response.status_code == 303
    assert "The projector changed meanwhile: it now shows A-001." in console_page(moderator)
    assert code_of(projector.projection_of(document)) == "A-001"


@pytest.fixture
def csrf_app(make_app):
    """An app that checks CSRF tokens, as in production."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def test_every_console_form_needs_its_csrf_token(csrf_app, make_document, users):
    document = make_document(phase="amendments", editor=users["admin"])
    section_id = documents.current_sections(document)[0].section.id
    client = csrf_app.test_client()
    token = csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": users["moderator"].email, "password": "correct-horse-battery",
                                       "csrf_token": token}).status_code == 302
    page = console_page(client)
    assert len(re.findall(r'<form[^>]*method="post"', page)) == page.count('name="csrf_token"')
    forms = {"/d/doc/console/section": {"section_id": section_id}, "/d/doc/console/step": {"direction": "next"},
             "/d/doc/console/clear": {"message": "Lunch"}, "/d/doc/console/amendment": {"amendment_id": 1},
             "/d/doc/console/decide": {"decision": "reject", "reason": "No.", "amendment_id": 1}}
    for path, data in forms.items():
        assert client.post(path, data={"revision": "0", **data}).status_code == 400, path
    assert db.session.scalar(select(func.count()).select_from(Projection)) == 0
    assert client.post("/d/doc/console/section", data={"revision": "0", "section_id": section_id,
                                                       "csrf_token": csrf(page)}).status_code == 303
    assert projector.projection_of(document).section_id == section_id


# ------------------------------------------------------------------ live notices

def test_each_console_action_reaches_the_projectors_and_a_refused_one_nothing(app, users, room):
    document, moderator, a = room["document"], users["moderator"], room["a"]
    topic = projector.topic(document.id)
    subscription = app.extensions["live"].hub.subscribe([topic])
    with pytest.raises(PermissionDenied):
        projector.show_section(users["participant"], document.id, room["section"].id)
    with pytest.raises(ValidationError):
        projector.step(moderator, document.id, "next")  # nothing shown yet
    assert subscription.take(0.05) == []
    projector.show_section(moderator, document.id, room["section"].id)
    assert [n.topic for n in subscription.take(0.5)] == [topic]
    seen = projector.step(moderator, document.id, "next").revision
    assert [n.topic for n in subscription.take(0.5)] == [topic]
    projector.decide_shown(moderator, document.id, a["A-002"].id, decision="reject", reason="No.",
                           amendment_revision=a["A-002"].revision, revision=seen)
    assert topic in {n.topic for n in subscription.take(0.5)}
    projector.show_nothing(moderator, document.id)
    assert [n.topic for n in subscription.take(0.5)] == [topic]


def test_a_change_made_elsewhere_to_what_is_shown_reaches_the_projectors(app, make_user, users, room):
    document, a = room["document"], room["a"]
    projector.show_amendment(users["moderator"], document.id, a["A-002"].id)
    subscription = app.extensions["live"].hub.subscribe([projector.topic(document.id)])
    amendments.support_amendment(make_user(), document.id, a["A-001"].id)  # not the one shown
    assert subscription.take(0.05) == []
    amendments.support_amendment(make_user(), document.id, a["A-002"].id)
    assert len(subscription.take(0.5)) == 1
    vote = votes.open_vote(users["moderator"], document.id, a["A-002"].id, question="Adopt?", secret=True,
                           majority="simple", abstentions_count=False)
    assert len(subscription.take(0.5)) == 1
    votes.cast_vote(users["admin"], vote.id, "no")
    assert len(subscription.take(0.5)) == 1
    amendments.decide_amendment(users["moderator"], document.id, a["A-002"].id, decision="accept",
                                reason="Carried.", revision=None)  # on the amendment page
    assert len(subscription.take(0.5)) == 1


def test_the_screen_follows_its_one_topic_and_takes_its_content_from_the_notice(app, login, client, users, room):
    document, a2 = room["document"], room["a"]["A-002"]
    projector.show_amendment(users["moderator"], document.id, a2.id)
    topic = projector.topic(document.id)
    region = re.search(r'<div data-live-topic="([^"]+)" data-live-fragment="([^"]+)"( data-live-content="[^"]+")?',
                       client.get("/d/doc/projector").get_data(as_text=True))
    assert region.groups() == (topic, "/d/doc/projector/screen", f' data-live-content="{topic}"')
    # The console's preview sits under the console's headings: it fetches a fragment of its own.
    console = logged_in(app, login, users["moderator"]).get("/d/doc/console").get_data(as_text=True)
    region = re.search(r'<div data-live-topic="([^"]+)" data-live-fragment="([^"]+)"( data-live-content)?', console)
    assert region.groups() == (topic, "/d/doc/projector/screen?place=console", None)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_console_action_brings_every_projector_the_new_screen_in_its_language(stream_app, users, room, language):
    document, moderator = room["document"], users["moderator"]
    topic = projector.topic(document.id)
    headers = {"Accept-Language": language}
    client = stream_app.test_client()
    stream = client.get(f"/live/stream?topic={topic}&content={topic}", headers=headers)
    plain = client.get(f"/live/stream?topic={topic}")  # the console's preview: a notice, then its own fetch

    brought, heard = notices_during(stream_app, [stream, plain], lambda: projector.show_section(
        moderator, document.id, room["section"].id))
    assert heard[0]["data"] == topic and "event" not in heard[0]
    assert brought[0]["event"] == "content" and brought[0]["id"] == heard[0]["id"]
    named, _, html = brought[0]["data"].partition("\n")
    fetched = client.get("/d/doc/projector/screen", headers=headers).get_data(as_text=True)
    assert named == topic and html.strip() == fetched.strip()
    assert PARAGRAPH_ONE in html and ("Affichage du §" in html) == (language == "fr")


def test_the_screen_costs_the_same_however_many_supporters_and_votes(make_user, client, users, room, queries):
    document, a2 = room["document"], room["a"]["A-002"]
    projector.show_amendment(users["moderator"], document.id, a2.id)

    def cost() -> int:
        with queries() as counted:
            assert client.get("/d/doc/projector/screen").status_code == 200
        return counted.count

    amendments.support_amendment(make_user(), document.id, a2.id)
    votes.open_vote(users["moderator"], document.id, a2.id, question="Adopt?", secret=False, majority="simple",
                    abstentions_count=False)
    few = cost()
    for n in range(6):
        amendments.support_amendment(make_user(), document.id, a2.id)
        votes.open_vote(users["moderator"], document.id, a2.id, question=f"Adopt {n}?", secret=n % 2 == 0,
                        majority="simple", abstentions_count=False)
    assert cost() == few


# ------------------------------------------------------------------ races (PostgreSQL)

def race(app, count: int, act) -> list[str]:
    """Run ``act(i)`` in ``count`` threads at once, each in its own app context; their answers or refusals."""
    barrier = threading.Barrier(count)
    answers: list[str] = []

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                answers.append(act(i))
            except (ConflictError, ValidationError) as refused:
                answers.append(f"refused: {refused.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def test_first_uses_at_once_make_one_projection(make_app, database_url, users, room):
    if not database_url.startswith("postgresql"):
        pytest.skip("a race needs PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE)")
    document_id, section_id = room["document"].id, room["section"].id
    moderator_ids = [users["moderator"].id, users["admin"].id]

    def show(i: int) -> str:
        projector.show_section(db.session.get(User, moderator_ids[i]), document_id, section_id)
        return "shown"

    assert race(make_app(), 2, show) == ["shown", "shown"]
    assert db.session.scalar(select(func.count()).select_from(Projection)) == 1
    assert projector.projection_of(room["document"]).revision == 2


def test_two_consoles_stepping_at_once_step_once(make_app, database_url, users, room):
    if not database_url.startswith("postgresql"):
        pytest.skip("a race needs PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE)")
    document_id = room["document"].id
    seen = projector.show_section(users["moderator"], document_id, room["section"].id).revision
    moderator_ids = [users["moderator"].id, users["admin"].id]

    def step(i: int) -> str:
        return code_of(projector.step(db.session.get(User, moderator_ids[i]), document_id, "next", revision=seen))

    answers = race(make_app(), 2, step)
    assert sorted(answers)[0] == "A-002" and sorted(answers)[1].startswith("refused: The projector changed meanwhile")
    assert code_of(projector.projection_of(room["document"])) == "A-002"


def test_ballots_cast_while_the_moderator_puts_their_vote_on_the_screen_all_count(make_app, make_user, database_url,
                                                                                  users, room):
    if not database_url.startswith("postgresql"):
        pytest.skip("a race needs PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE)")
    document_id, moderator_id = room["document"].id, users["moderator"].id
    final = votes.open_vote(users["moderator"], document_id, None, question="Adopt the manifesto?", secret=True,
                            majority="simple", abstentions_count=False)
    projector.show_section(users["moderator"], document_id, room["section"].id)
    voter_ids, vote_id = [make_user().id for _ in range(3)], final.id

    def act(i: int) -> str:
        if i == len(voter_ids):
            return projector.show_vote(db.session.get(User, moderator_id), document_id, vote_id).shown.value
        votes.cast_vote(db.session.get(User, voter_ids[i]), vote_id, "yes")
        return "cast"

    assert sorted(race(make_app(), len(voter_ids) + 1, act)) == ["cast", "cast", "cast", "vote"]
    assert votes.participant_counts([vote_id]) == {vote_id: 3}
    assert projector.projection_of(room["document"]).vote_id == vote_id


def test_the_console_offers_what_may_be_shown_at_a_fixed_cost(app, login, make_user, users, room, queries):
    document, a = room["document"], room["a"]
    moderator = logged_in(app, login, users["moderator"])
    amendments.hide_amendment(users["moderator"], document.id, a["A-004"].id, reason="Off topic.")
    amendments.propose_amendment(users["participant"], document.id, kind="modify", section_id=room["section"].id,
                                 heading=None, body=PARAGRAPH_ONE + "\n\nA draft.", reason="Later.", submit=False)
    page = console_page(moderator)
    offered = re.findall(r'<option[^>]*value="(\d+)"[^>]*>(A-\d+)', page)
    assert [code for _, code in offered] == ["A-002", "A-003", "A-001"]  # the list's section order; no hidden, no draft

    def cost() -> int:
        with queries() as counted:
            console_page(moderator)
        return counted.count

    few = cost()
    body = documents.current_sections(document)[1].version.body
    for n in range(5):
        amendments.propose_amendment(make_user(), document.id, kind="modify",
                                     section_id=documents.current_sections(document)[1].section.id, heading=None,
                                     body=body + f"\n\nMore {n}.", reason="More.")
    assert cost() == few


def test_a_decision_the_amendments_refuse_comes_back_by_its_field(app, login, users, room):
    document, a2 = room["document"], room["a"]["A-002"]
    moderator = logged_in(app, login, users["moderator"])
    seen = projector.show_amendment(users["moderator"], document.id, a2.id).revision
    page = console_page(moderator)
    response = moderator.post("/d/doc/console/decide", data={
        "csrf_token": csrf(page), "revision": seen, "amendment_id": a2.id, "amendment_revision": a2.revision,
        "decision": "merged", "reason": "Folded into another one."})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "Folded into another one." in text
    assert re.search(r'id="merged_into-error"><strong>Error:</strong> Name the amendment it is merged into', text)
    assert db.session.get(Amendment, a2.id).status == "submitted"


def test_a_decision_that_moves_a_whole_section_asks_what_is_shown_once(users, room, queries):
    document, a = room["document"], room["a"]
    projector.show_amendment(users["moderator"], document.id, a["A-001"].id)
    with queries() as counted:
        amendments.decide_amendment(users["moderator"], document.id, a["A-002"].id, decision="accept",
                                    reason="Carried.", revision=None)  # the three others follow the new text
    assert sum("FROM projections" in statement for statement in counted.statements) == 1


def test_the_screen_numbers_an_amendments_lines_as_the_text_reads_now(client, users, room):
    document, a = room["document"], room["a"]
    second = documents.current_sections(document)[1]
    amendment = amendments.propose_amendment(users["participant"], document.id, kind="modify",
                                             section_id=second.section.id, heading=None,
                                             body=second.version.body.replace("energy", "solar energy", 1),
                                             reason="Sun.")
    projector.show_amendment(users["moderator"], document.id, amendment.id)
    before = client.get("/d/doc/projector/screen").get_data(as_text=True)
    assert '<span class="ln">3</span>' in before  # the second section's first line follows the first's two
    first = documents.current_sections(document)[0]
    documents.edit_section(users["admin"], document.id, first.section.id, heading=first.version.heading,
                           body=first.version.body + "\n\nA third paragraph.\n\nAnd a fourth.", reason="Longer.",
                           base_version=first.version.number)
    after = client.get("/d/doc/projector/screen").get_data(as_text=True)
    assert '<span class="ln">5</span>' in after and '<span class="ln">3</span>' not in after


# ------------------------------------------------------------------ a vote on the whole text

def test_a_vote_on_the_whole_text_is_shown_with_its_turnout_then_its_result(app, client, make_document, make_user,
                                                                             users, room):
    document, moderator = room["document"], users["moderator"]
    final = votes.open_vote(moderator, document.id, None, question="Adopt the manifesto?", secret=True,
                            majority="two_thirds", abstentions_count=False)
    on_amendment = votes.open_vote(moderator, document.id, room["a"]["A-001"].id, question="Adopt A-001?",
                                   secret=False, majority="simple", abstentions_count=False)
    elsewhere = make_document(slug="other", phase="amendments", editor=users["admin"])
    foreign = votes.open_vote(moderator, elsewhere.id, None, question="Adopt the other text?", secret=False,
                              majority="simple", abstentions_count=False)
    with pytest.raises(PermissionDenied):
        projector.show_vote(users["participant"], document.id, final.id)
    with pytest.raises(ValidationError) as refused:
        projector.show_vote(moderator, document.id, on_amendment.id)
    assert refused.value.field == "vote_id"
    with pytest.raises(NotFound):
        projector.show_vote(moderator, document.id, foreign.id)
    seen = projector.show_section(moderator, document.id, room["section"].id).revision
    shown = projector.show_vote(moderator, document.id, final.id, revision=seen)
    assert (shown.section_id, shown.amendment_id, shown.vote_id) == (None, None, final.id)
    assert projector.describe(shown) == "the vote “Adopt the manifesto?”"
    with pytest.raises(ValidationError):
        projector.step(moderator, document.id, "next")  # nothing to step through

    screen = lambda: client.get("/d/doc/projector/screen").get_data(as_text=True)  # noqa: E731
    text = screen()
    assert "The vote on the whole text" in text and "Adopt the manifesto?" in text and "Secret vote" in text
    assert "Voting is open." in text and "0 have voted" in text and PARAGRAPH_ONE not in text
    subscription = app.extensions["live"].hub.subscribe([projector.topic(document.id)])
    voters = [make_user() for _ in range(3)]
    votes.cast_vote(voters[0], final.id, "yes")
    assert len(subscription.take(0.5)) == 1  # the turnout on the screen changed
    assert "1 has voted" in screen()
    votes.cast_vote(voters[1], final.id, "yes")
    votes.cast_vote(voters[2], final.id, "no")
    votes.close_vote(moderator, final.id)
    text = screen()
    assert "Passed." in text and "2 yes, 1 no, 0 abstain" in text and "Voting is open." not in text
    assert "2 were needed (3 votes cast)" in text  # two thirds, and why
    # Showing anything else lets the vote go.
    assert projector.show_section(moderator, document.id, room["section"].id).vote_id is None


def test_the_console_shows_a_vote_on_the_whole_text_when_there_is_one(app, login, users, room):
    document, moderator_user = room["document"], users["moderator"]
    moderator = logged_in(app, login, moderator_user)
    page = console_page(moderator)
    assert "Show this vote" not in page  # no vote on the whole text yet
    final = votes.open_vote(moderator_user, document.id, None, question="Adopt the manifesto?", secret=False,
                            majority="simple", abstentions_count=False)
    page = console_page(moderator)
    assert re.search(rf'<option value="{final.id}">Adopt the manifesto\? \(open\)</option>', page)
    revision = re.search(r'name="revision" type="hidden" value="(\d+)"', page).group(1)
    answer = moderator.post("/d/doc/console/vote", data={"vote_id": final.id, "revision": revision,
                                                         "csrf_token": csrf(page)})
    assert answer.status_code == 303
    page = console_page(moderator)
    assert "The vote on the whole text “Adopt the manifesto?” (open)" in page
    assert "Next open amendment" not in page
    # A console that showed the room an older state changes nothing.
    stale = moderator.post("/d/doc/console/vote", data={"vote_id": final.id, "revision": revision,
                                                        "csrf_token": csrf(page)})
    assert stale.status_code == 303
    assert "The projector changed meanwhile" in console_page(moderator)
    participant = logged_in(app, login, users["participant"])
    assert participant.post("/d/doc/console/vote", data={"vote_id": final.id}).status_code == 403


def test_the_console_accepts_with_modifications_and_keeps_the_final_text_through_a_refusal(app, login, users, room):
    document, a2 = room["document"], room["a"]["A-002"]
    moderator = logged_in(app, login, users["moderator"])
    seen = projector.show_amendment(users["moderator"], document.id, a2.id).revision
    page = console_page(moderator)
    assert "Accept with modifications" in page
    offered = re.search(r'<textarea[^>]*name="final_body"[^>]*>\n?([^<]*)</textarea>', page).group(1)
    assert "worker cooperatives" in offered  # starts from the text as proposed
    final = offered.replace("worker cooperatives", "worker and housing cooperatives")
    form = {"csrf_token": csrf(page), "revision": seen, "amendment_id": a2.id, "amendment_revision": a2.revision,
            "decision": "accept_modified", "final_body": final}
    refused = moderator.post("/d/doc/console/decide", data={**form, "reason": ""})  # no reason: refused by its field
    assert refused.status_code == 400
    assert "worker and housing cooperatives" in refused.get_data(as_text=True)
    assert db.session.get(Amendment, a2.id).status == "submitted"
    answer = moderator.post("/d/doc/console/decide", data={**form, "reason": "Carried, housing added."})
    assert answer.status_code == 303
    decided = db.session.get(Amendment, a2.id)
    assert decided.status == "accepted_modified"
    assert "worker and housing cooperatives" in documents.current_sections(document)[0].version.body
    screen = app.test_client().get("/d/doc/projector/screen").get_data(as_text=True)
    assert "Accepted with modifications" in screen and "Carried, housing added." in screen
