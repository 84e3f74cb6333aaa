"""Notifications: every trigger, following, the notification centre, settings, and a fan-out that stays set-based.

Email delivery itself (SMTP, unsubscribe, digests, retries) is in test_mail.py.
Comment and moderation triggers go through the discussion area's services,
which record the audit events of the contract of issue #7.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from harness import live_markup
from manifesto import jobs
from manifesto.accounts import services as accounts
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.discussion import comments, moderation
from manifesto.discussion.models import Comment
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.notifications import services
from manifesto.notifications.models import Follow, Notification, NotificationSetting
from manifesto.services import NotFound


# --- helpers ------------------------------------------------------------------------------------


def notes(user, kind: str | None = None) -> list[Notification]:
    """Someone's notifications, oldest first (optionally of one kind)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query.order_by(Notification.id)))


def revision(amendment_id: int) -> int:
    """An amendment's current revision, read fresh."""
    db.session.expire_all()
    return db.session.get(Amendment, amendment_id).revision


def propose(author, document, entry, old: str, new: str, **kw) -> Amendment:
    """Propose a change of one word in a section."""
    return amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                        heading=None, body=entry.version.body.replace(old, new), reason="Better.",
                                        **kw)


def decide(moderator, document, amendment, decision: str = "accept", reason: str = "Agreed.", **kw):
    """Decide an amendment at its current revision."""
    return amendments.decide_amendment(moderator, document.id, amendment.id, decision=decision, reason=reason,
                                       revision=revision(amendment.id), **kw)


def post_comment(author, document_id: int, *, section_id=None, amendment_id=None, parent=None,
                 body="A comment.") -> Comment:
    """A comment or a reply, through the comments area's services."""
    if parent is not None:
        return comments.reply_to_comment(author, document_id, parent.id, body=body)
    return comments.post_comment(author, document_id, body=body, section_id=section_id, amendment_id=amendment_id)


def moderate_comment(moderator, comment_id: int, *, hide: bool, reason: str | None = None) -> Comment:
    """Hide or restore a comment, through the moderation services."""
    comment = db.session.get(Comment, comment_id)
    if hide:
        return moderation.hide_item(moderator, comment.document_id, "comment", comment_id, reason=reason)
    return moderation.restore_item(moderator, comment.document_id, "comment", comment_id, reason=reason)


def hide_amendment(moderator, amendment_id: int, reason: str) -> Amendment:
    """Hide an amendment with a public reason, through the moderation services."""
    amendment = db.session.get(Amendment, amendment_id)
    return moderation.hide_item(moderator, amendment.document_id, "amendment", amendment_id, reason=reason)


@pytest.fixture
def world(make_document, users, make_user):
    """A document open for amendments, an author with an open amendment, a follower and a moderator."""
    document = make_document(phase="amendments", editor=users["admin"])
    entries = documents.current_sections(document)
    author = make_user(name="Amina Author")
    follower = make_user(name="Fatou Follower")
    amendment = propose(author, document, entries[0], "energy", "solar energy")
    services.follow(follower, "amendment", amendment.id)
    return {"document": document, "entries": entries, "author": author, "follower": follower,
            "amendment": amendment, "moderator": users["moderator"]}


# --- triggers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("decision, words", [
    ("accept", "accepted your amendment A-001"),
    ("accept_modified", "accepted your amendment A-001"),
    ("reject", "rejected your amendment A-001"),
    ("obsolete", "marked your amendment A-001"),
    ("merged", "marked your amendment A-001"),
])
def test_a_decision_reaches_the_author_and_the_followers_but_not_the_moderator(world, make_user, decision, words):
    document, author, follower, moderator = world["document"], world["author"], world["follower"], world["moderator"]
    entry = world["entries"][1]
    other = propose(make_user(), document, entry, "democracy", "economic democracy")
    extra = {}
    if decision == "merged":
        extra["merged_into"] = other.code
    if decision == "accept_modified":
        extra["final_body"] = world["entries"][0].version.body.replace("energy", "clean energy")
    decide(moderator, document, world["amendment"], decision, reason="After the debate in plenary.", **extra)

    [mine] = notes(author, "decision")
    assert words in mine.summary and "Reason: After the debate in plenary." in mine.summary
    assert mine.summary.startswith(moderator.name)
    assert mine.link == f"/d/doc/amendments/{world['amendment'].id}#history"
    assert mine.email_state == "sent"  # decisions go out at once by default (to the log: no MAIL_SERVER here)
    if decision == "merged":
        assert "merged into A-002" in mine.summary
    [theirs] = notes(follower)
    assert theirs.kind == "following" and theirs.summary.startswith("An amendment you follow:")
    assert theirs.email_state == "digest"
    assert notes(moderator) == []


def test_an_accepted_amendment_tells_the_followers_of_its_section(world, make_user):
    reader = make_user(name="Sami Section")
    services.follow(reader, "section", world["entries"][0].section.id)
    decide(world["moderator"], world["document"], world["amendment"])
    [note] = notes(reader)
    assert note.kind == "following"
    assert "a section you follow, has a new version" in note.summary and "A-001" in note.summary


def test_a_clean_rebase_and_a_conflict_reach_their_authors(world, make_user):
    document, entries = world["document"], world["entries"]
    clean_author, conflict_author = make_user(name="Rita Rebase"), make_user(name="Chloe Conflict")
    clean = propose(clean_author, document, entries[0], "democracy", "economic democracy")
    clashing = propose(conflict_author, document, entries[0], "energy", "wind energy")
    decide(world["moderator"], document, world["amendment"])

    [rebased] = notes(clean_author)
    assert rebased.kind == "rebase" and "now applies to version 2" in rebased.summary
    assert rebased.link == f"/d/doc/amendments/{clean.id}#changes" and rebased.email_state == "digest"
    [conflicted] = notes(conflict_author)
    assert conflicted.kind == "conflict" and "conflicts with a change to" in conflicted.summary
    assert "Resolve the conflict" in conflicted.summary and conflicted.email_state == "sent"
    assert conflicted.link == f"/d/doc/amendments/{clashing.id}#changes"
    # Its author follows it, but hears once, for the most specific reason.
    assert len(notes(conflict_author)) == 1


def test_a_retired_section_puts_its_amendments_in_conflict(world):
    documents.retire_section(world["moderator"], world["document"].id, world["entries"][0].section.id,
                             reason="Merged into §2.")
    [note] = notes(world["author"])
    assert note.kind == "conflict" and "The section was retired." in note.summary


def test_a_supporter_is_announced_to_the_author_only(world, make_user):
    supporter = make_user(name="Sara Supporter")
    amendments.support_amendment(supporter, world["document"].id, world["amendment"].id)
    [note] = notes(world["author"])
    assert note.kind == "support" and note.summary == "Sara Supporter supports your amendment A-001 (§1, line 1) " \
                                                      "(1 supporter now)."
    assert notes(world["follower"]) == [] and notes(supporter) == []


def test_comments_reach_the_amendment_author_the_followers_and_the_person_replied_to(world, make_user):
    document, amendment = world["document"], world["amendment"]
    critic, replier = make_user(name="Carl Critic"), make_user(name="Rosa Reply")
    comment = post_comment(critic, document.id, amendment_id=amendment.id)
    [to_author] = notes(world["author"])
    assert to_author.kind == "comment" and to_author.summary.startswith("Carl Critic commented on your amendment")
    assert to_author.link == f"/d/doc/amendments/{amendment.id}#comment-{comment.id}"
    [to_follower] = notes(world["follower"])
    assert to_follower.kind == "following" and "an amendment you follow" in to_follower.summary

    reply = post_comment(replier, document.id, amendment_id=amendment.id, parent=comment)
    [to_critic] = notes(critic)
    assert to_critic.kind == "reply" and to_critic.summary.startswith("Rosa Reply replied to your comment on A-001")
    assert to_critic.link.endswith(f"#comment-{reply.id}")
    # The author replying to a reply to their own amendment: the reply wins over "comment", once.
    post_comment(world["author"], document.id, amendment_id=amendment.id, parent=reply)
    assert [n.kind for n in notes(replier)] == ["reply"]
    assert len(notes(world["author"])) == 2  # the first comment and the reply, nothing for their own


def test_a_comment_on_a_followed_section_and_moderation_of_it(world, make_user):
    document, section = world["document"], world["entries"][1].section
    reader, commenter = make_user(), make_user(name="Nadia Noisy")
    services.follow(reader, "section", section.id)
    comment = post_comment(commenter, document.id, section_id=section.id)
    [note] = notes(reader)
    assert note.kind == "following" and "a section you follow" in note.summary
    assert note.link == f"/d/doc/sections/{section.id}#comment-{comment.id}"

    moderate_comment(world["moderator"], comment.id, hide=True, reason="Personal attack.")
    [hidden] = notes(commenter)
    assert hidden.kind == "moderation" and hidden.email_state == "sent"
    assert "hid your comment" in hidden.summary and hidden.summary.endswith("Reason: Personal attack.")
    moderate_comment(world["moderator"], comment.id, hide=False)
    assert "restored your comment" in notes(commenter)[-1].summary
    assert len(notes(reader)) == 1  # moderation is between the moderator and the author


def test_a_hidden_amendment_is_announced_to_its_author(world):
    hide_amendment(world["moderator"], world["amendment"].id, "Off topic.")
    [note] = notes(world["author"])
    assert note.kind == "moderation" and note.summary.endswith("Reason: Off topic.")


def test_followers_hear_about_edits_withdrawals_and_new_versions(world, make_user):
    document, amendment, follower, author = world["document"], world["amendment"], world["follower"], world["author"]
    entry = world["entries"][0]
    amendments.edit_amendment(author, document.id, amendment.id, heading=None,
                              body=entry.version.body.replace("energy", "renewable energy"), reason="Clearer.",
                              revision=revision(amendment.id))
    amendments.withdraw_amendment(author, document.id, amendment.id, revision=revision(amendment.id))
    assert [n.summary for n in notes(follower)] == [
        "An amendment you follow: Amina Author edited A-001 (§1, line 1).",
        "An amendment you follow: Amina Author withdrew A-001 (§1, line 1).",
    ]
    section_reader = make_user()
    section = world["entries"][2].section
    services.follow(section_reader, "section", section.id)
    documents.edit_section(world["moderator"], document.id, section.id, heading="Section 3", body="New text.",
                           reason="Shorter.", base_version=1)
    documents.retire_section(world["moderator"], document.id, section.id, reason="Gone.")
    documents.restore_section(world["moderator"], document.id, section.id, reason="Back.")
    summaries = [n.summary for n in notes(section_reader)]
    assert summaries[0].endswith("wrote version 2 of “Section 3”, a section you follow. Reason: Shorter.")
    assert "out of the text" in summaries[1] and "back into the text" in summaries[2]
    assert all(n.link == f"/d/doc/sections/{section.id}#history" for n in notes(section_reader))


def test_a_new_amendment_on_a_followed_section_is_announced(world, make_user):
    reader = make_user()
    services.follow(reader, "section", world["entries"][1].section.id)
    propose(make_user(name="Paula Proposer"), world["document"], world["entries"][1], "democracy", "self-rule")
    [note] = notes(reader)
    assert note.summary.startswith("Paula Proposer proposed A-002")


def test_authors_follow_their_amendments_from_submission_and_drafts_tell_nobody(world, make_user):
    author = world["author"]
    assert db.session.scalar(select(Follow).where(Follow.user_id == author.id, Follow.target == "amendment",
                                                  Follow.target_id == world["amendment"].id)) is not None
    drafter, reader = make_user(), make_user()
    services.follow(reader, "section", world["entries"][1].section.id)
    draft = propose(drafter, world["document"], world["entries"][1], "democracy", "self-rule", submit=False)
    assert db.session.scalar(select(func.count(Follow.id)).where(Follow.user_id == drafter.id)) == 0
    assert notes(reader) == []
    with pytest.raises(NotFound):
        services.follow(reader, "amendment", draft.id)


def test_nobody_hears_about_their_own_actions_and_deactivated_people_hear_nothing(world, make_user, users):
    document, amendment, author, follower = world["document"], world["amendment"], world["author"], world["follower"]
    post_comment(author, document.id, amendment_id=amendment.id)
    assert notes(author) == [] and len(notes(follower)) == 1
    accounts.set_active(users["admin"], follower.id, False)
    post_comment(make_user(), document.id, amendment_id=amendment.id)
    assert len(notes(follower)) == 1 and len(notes(author)) == 1


@pytest.fixture
def queue_file(app, tmp_path):
    """Jobs wait in a queue file instead of running at once (as in production with a separate worker)."""
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    jobs.init_app(app)
    yield
    app.config.update(QUEUE_MODE="immediate")
    jobs.init_app(app)


def test_the_fan_out_is_set_based_whatever_the_number_of_followers(queue_file, users, make_user, make_document,
                                                                     queries):
    counts = []
    for slug, n in (("few", 3), ("many", 45)):
        document = make_document(phase="amendments", slug=slug, editor=users["admin"])
        entry = documents.current_sections(document)[0]
        amendment = propose(make_user(), document, entry, "energy", "solar energy")
        people = [make_user() for _ in range(n)]
        for person in people:
            services.follow(person, "amendment", amendment.id)
        for person in people[: n // 3]:
            services.save_settings(person, {"following": "immediate"})
        waiting = jobs.pending_jobs()
        with queries() as counted:
            decide(users["moderator"], document, amendment)
        counts.append(counted.count)
        followers = select(Notification.email_state).where(Notification.object_id == amendment.id,
                                                          Notification.kind == "following")
        states = list(db.session.scalars(followers))
        assert len(states) == n and states.count("queued") == n // 3
        # One job for the event (the author's decision email and the followers' together).
        assert jobs.pending_jobs() == waiting + 1
    assert counts[0] == counts[1], counts


# --- following through the pages ----------------------------------------------------------------


def test_follow_and_unfollow_a_section_from_its_page(client, login, world, make_user):
    reader = make_user()
    section = world["entries"][1].section
    url = f"/d/doc/sections/{section.id}"
    assert "Follow this section" not in client.get(url).get_data(as_text=True)  # anonymous: no button
    login(reader)
    page = client.get(url).get_data(as_text=True)
    assert "Follow this section" in page and 'name="target_id"' in page
    response = client.post("/notifications/follow", data={"target": "section", "target_id": section.id})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "You follow this section" in page and "Unfollow" in page
    client.post("/notifications/follow", data={"target": "section", "target_id": section.id, "action": "unfollow"})
    assert "Follow this section" in client.get(url).get_data(as_text=True)
    assert db.session.scalar(select(func.count(Follow.id)).where(Follow.user_id == reader.id)) == 0


def test_the_amendment_page_shows_that_its_author_follows_it(client, login, world):
    login(world["author"])
    page = client.get(f"/d/doc/amendments/{world['amendment'].id}").get_data(as_text=True)
    assert "You follow this amendment" in page
    client.post("/notifications/follow", data={"target": "amendment", "target_id": world["amendment"].id,
                                               "action": "unfollow"})
    page = client.get(f"/d/doc/amendments/{world['amendment'].id}").get_data(as_text=True)
    assert "Follow this amendment" in page


@pytest.mark.parametrize("data", [
    {},
    {"target": "document", "target_id": "1"},
    {"target": "section", "target_id": "99999999999999999999"},
    {"target": "section", "target_id": "<script>alert(1)</script>"},
    {"target": "amendment", "target_id": "424242"},
    {"target": "section\x00", "target_id": "-1", "action": "unfollow"},
])
def test_following_something_that_does_not_exist_is_refused_gently(client, login, world, data):
    login(world["follower"])
    response = client.post("/notifications/follow", data=data)
    assert response.status_code in (303, 404)  # 303: back to the notifications with the message
    if response.status_code == 303:
        assert response.headers["Location"] == "/notifications/"
    assert db.session.scalar(select(func.count(Follow.id)).where(Follow.user_id == world["follower"].id)) == 1


def test_someone_elses_draft_cannot_be_followed(client, login, world, make_user):
    draft = propose(make_user(), world["document"], world["entries"][1], "democracy", "self-rule", submit=False)
    login(world["follower"])
    response = client.post("/notifications/follow", data={"target": "amendment", "target_id": draft.id})
    assert response.status_code == 404


def test_following_needs_a_login(client, world):
    response = client.post("/notifications/follow", data={"target": "section", "target_id": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the notification centre ----------------------------------------------------------------------


def _make_notes(world, make_user, n: int) -> list:
    """``n`` supporters of the world's amendment: ``n`` notifications for its author."""
    people = [make_user(name=f"Supporter {i}") for i in range(n)]
    for person in people:
        amendments.support_amendment(person, world["document"].id, world["amendment"].id)
    return people


def test_the_centre_lists_newest_first_marks_unread_in_words_and_pages(make_app, login, world, make_user):
    app = make_app(NOTIFICATIONS_PER_PAGE=3)
    client = app.test_client()
    _make_notes(world, make_user, 4)
    login(world["author"], test_client=client)
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index("Supporter 3 supports") < page.index("Supporter 1 supports")
    assert "Supporter 0 supports" not in page  # on page 2
    assert page.count(">Unread</span>") == 3  # said in words, not by colour alone
    assert "Notifications (4 unread)" in page
    assert "Page 1 of 2" in page
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "Supporter 0 supports" in second


def test_following_a_notification_marks_it_read_and_goes_to_its_place(client, login, world, make_user):
    _make_notes(world, make_user, 2)
    login(world["author"])
    first = notes(world["author"])[0]
    response = client.get(f"/notifications/{first.id}/open")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/d/doc/amendments/{world['amendment'].id}#support")
    assert notes(world["author"])[0].read_at is not None
    assert "Notifications (1 unread)" in client.get("/notifications/").get_data(as_text=True)


def test_mark_one_and_mark_all_read(client, login, world, make_user):
    _make_notes(world, make_user, 3)
    login(world["author"])
    first, second, third = notes(world["author"])
    client.post(f"/notifications/{second.id}/read")
    assert [n.read_at is not None for n in notes(world["author"])] == [False, True, False]
    page = client.get("/notifications/").get_data(as_text=True)
    up_to = re.search(r'name="up_to" type="hidden" value="(\d+)"', page).group(1)
    _make_notes(world, make_user, 1)  # arrives after the page was shown
    response = client.post("/notifications/read-all", data={"up_to": up_to})
    assert response.status_code == 302
    assert [n.read_at is not None for n in notes(world["author"])] == [True, True, True, False]
    client.post("/notifications/read-all")
    assert all(n.read_at is not None for n in notes(world["author"]))
    assert "Notifications (" not in client.get("/notifications/").get_data(as_text=True)


def test_nobody_reads_or_marks_someone_elses_notifications(client, login, world, make_user):
    _make_notes(world, make_user, 1)
    [theirs] = notes(world["author"])
    login(world["follower"])
    assert client.get(f"/notifications/{theirs.id}/open").status_code == 404
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    client.post("/notifications/read-all")
    assert notes(world["author"])[0].read_at is None
    assert world["author"].name not in client.get("/notifications/").get_data(as_text=True)


def test_the_centre_needs_a_login(client):
    for url in ("/notifications/", "/notifications/settings"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_centre_runs_a_fixed_number_of_queries(make_app, login, world, make_user, queries):
    app = make_app(NOTIFICATIONS_PER_PAGE=10)
    client = app.test_client()
    login(world["author"], test_client=client)
    counts = []
    for n in (2, 25):
        _make_notes(world, make_user, n)
        with queries() as counted:
            assert client.get("/notifications/").status_code == 200
        counts.append(counted.count)
    # the user, the page, its count, and the header's unread count
    assert counts[0] == counts[1] <= 4, counts


def test_summaries_are_plain_text_however_hostile_the_names(client, login, world, make_user):
    evil = make_user(name='<script>alert(1)</script><img src=x onerror=alert(2)>')
    amendments.support_amendment(evil, world["document"].id, world["amendment"].id)
    login(world["author"])
    page = client.get("/notifications/").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert live_markup(page) == []


# --- settings -----------------------------------------------------------------------------------


def test_settings_show_the_defaults_and_save_a_choice(client, login, world, make_user):
    login(world["author"])
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert 'checked id="decision-0" name="decision" required type="radio" value="immediate"' in page
    assert 'checked id="support-1" name="support" required type="radio" value="digest"' in page
    assert "<legend>A decision on your amendment" in page
    form = {kind: delivery.value for kind, delivery in services.delivery_settings(world["author"]).items()}
    form["support"] = "immediate"
    response = client.post("/notifications/settings", data=form)
    assert response.status_code == 302
    assert services.delivery_settings(world["author"])["support"].value == "immediate"
    amendments.support_amendment(make_user(), world["document"].id, world["amendment"].id)
    assert notes(world["author"])[-1].email_state == "sent"


def test_settings_refuse_nonsense_next_to_the_field(client, login, world):
    login(world["author"])
    form = {kind: delivery.value for kind, delivery in services.delivery_settings(world["author"]).items()}
    form["support"] = "carrier-pigeon"
    response = client.post("/notifications/settings", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="support-error"' in page and "Not a valid choice" in page
    assert db.session.scalar(select(func.count(NotificationSetting.id))) == 0


def test_choosing_in_app_only_takes_waiting_items_out_of_the_digest(world, make_user):
    _make_notes(world, make_user, 2)
    assert {n.email_state for n in notes(world["author"])} == {"digest"}
    services.save_settings(world["author"], {"support": "app"})
    assert {n.email_state for n in notes(world["author"])} == {"none"}
    _make_notes(world, make_user, 1)
    assert notes(world["author"])[-1].email_state == "none"


HOSTILE = ["", "\x00", "<script>alert(1)</script>", "99999999999999999999999", "-1", "x" * 10_000, "immediate\x00"]


@pytest.mark.parametrize("role", ["anonymous", "participant"])
def test_no_notification_form_crashes_on_hostile_input(client, login, world, users, role):
    if role != "anonymous":
        login(users["participant"])
    before = notes(users["participant"])
    for hostile in HOSTILE:
        for url in ("/notifications/settings", "/notifications/read-all", "/notifications/follow",
                    "/notifications/1/read", f"/notifications/unsubscribe/{hostile[:200] or 'x'}"):
            data = {name: hostile for name in ("decision", "conflict", "rebase", "support", "comment", "reply",
                                               "moderation", "following", "up_to", "target", "target_id",
                                               "action", "scope", "List-Unsubscribe")}
            response = client.post(url, data=data)
            assert response.status_code < 500, (url, hostile[:20])
        assert client.get(f"/notifications/unsubscribe/{hostile[:200] or 'x'}").status_code in (302, 404)
    assert notes(users["participant"]) == before


def test_a_rebased_draft_is_called_a_draft(world, make_user):
    drafter = make_user()
    propose(drafter, world["document"], world["entries"][0], "democracy", "self-rule", submit=False)
    decide(world["moderator"], world["document"], world["amendment"])
    [note] = notes(drafter)
    assert note.kind == "rebase" and note.summary.startswith("Your amendment draft (§1")
