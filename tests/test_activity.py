"""The activity page: what happened to a document, newest first, and what is new since my last visit."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.audit.services import record_event
from manifesto.discussion.models import Comment, Report
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.search import activity
from manifesto.search.models import Visit
from manifesto.services import DatabaseUnavailable, utcnow, writes
from manifesto.text.render import render_markdown

from harness import live_markup


@writes
def add_comment(author, document, *, body: str, section_id=None, amendment_id=None, parent=None) -> Comment:
    """Write a comment and record ``comment.created`` by the contract of issue #7."""
    comment = Comment(document_id=document.id, target="amendment" if amendment_id else "section",
                      section_id=section_id, amendment_id=amendment_id, parent_id=parent.id if parent else None,
                      depth=parent.depth + 1 if parent else 0, author_id=author.id, body=body,
                      body_html=render_markdown(body))
    db.session.add(comment)
    db.session.flush()
    comment.thread_id = parent.thread_id if parent else comment.id
    record_event(author, "comment.created", comment, document_id=document.id,
                 data={"target": comment.target, "target_id": section_id or amendment_id,
                       "parent_id": comment.parent_id})
    return comment


@writes
def hide_comment(actor, comment_id: int, reason: str) -> None:
    """Hide a comment with a public reason (``comment.hidden``)."""
    comment = db.session.get(Comment, comment_id)
    comment.hidden_at, comment.hidden_by_id, comment.hidden_reason = utcnow(), actor.id, reason
    record_event(actor, "comment.hidden", comment, document_id=comment.document_id, reason=reason)


@writes
def report(actor, document, comment_id: int, reason: str) -> None:
    """Report a comment (``report.created``): the moderators' business only."""
    item = Report(document_id=document.id, target="comment", target_id=comment_id, reporter_id=actor.id, reason=reason)
    db.session.add(item)
    db.session.flush()
    record_event(actor, "report.created", item, document_id=document.id, reason=reason)


@writes
def hide_amendment(actor, amendment_id: int, reason: str) -> None:
    """Hide an amendment with a public reason (``amendment.hidden``)."""
    amendment = db.session.get(Amendment, amendment_id)
    amendment.hidden_at, amendment.hidden_by_id, amendment.hidden_reason = utcnow(), actor.id, reason
    record_event(actor, "amendment.hidden", amendment, document_id=amendment.document_id, reason=reason)


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments, three sections."""
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def sections(doc):
    """The document's live sections."""
    return documents.current_sections(doc)


def propose(author, doc, entry, extra: str, reason: str = "Because.", submit: bool = True):
    """Propose adding words to a section."""
    return amendments.propose_amendment(author, doc.id, kind="modify", section_id=entry.section.id, heading=None,
                                        body=entry.version.body + extra, reason=reason, submit=submit)


def page(client, query: str = "") -> str:
    """The activity page's HTML."""
    response = client.get(f"/d/doc/activity{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def items(html: str) -> list[str]:
    """The text of each item on the page, tags removed, spaces collapsed."""
    found = re.findall(r'<li class="activity-item[^"]*">(.*?)</li>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in found]


def new_items(html: str) -> list[str]:
    """Items marked new."""
    return [item for item in items(html) if item.startswith("New ")]


# ------------------------------------------------------------------ reading

def test_anonymous_visitors_see_the_latest_activity_newest_first(client, doc, sections, make_user, users):
    author = make_user(name="Amina")
    amendment = propose(author, doc, sections[0], " Solar roofs.", reason="Cheaper power.")
    amendments.decide_amendment(users["moderator"], doc.id, amendment.id, decision="reject", reason="Too vague.",
                                revision=amendment.revision)
    html = page(client)
    listed = items(html)
    assert "rejected A-001" in listed[0] and listed[0].endswith("Reason: Too vague.")
    assert "Amina proposed A-001" in listed[1] and "Reason: Cheaper power." in listed[1]
    assert any("added §1 Section 1" in item for item in listed)
    assert "Log in" in html and "to see what is new since your last visit" in html
    assert new_items(html) == []
    assert f'href="/d/doc/amendments/{amendment.id}"' in html


def test_a_published_release_is_listed_with_its_link(client, doc, sections, users):
    """Publishing a release is news: it is listed by name with a link to its page, under "text" too."""
    from manifesto.releases import services as releases

    release = releases.publish_release(users["moderator"], doc.id, name="Draft 2 — for the consultations")
    html = page(client)
    assert "published the release Draft 2 — for the consultations" in items(html)[0]
    assert f'href="/d/doc/releases/{release.slug}"' in html
    assert "Draft 2 — for the consultations" in " ".join(items(page(client, "?what=text")))


def test_an_automatic_conflict_says_what_it_followed_from(client, doc, sections, make_user, users):
    """Nobody chose the conflict: it is told as following from the accepted amendment, credited to nobody."""
    first = propose(make_user(name="Amina"), doc, sections[0], " Solar roofs.")
    second = propose(make_user(name="Lucas"), doc, sections[0], " Wind farms.")
    amendments.decide_amendment(users["moderator"], doc.id, first.id, decision="accept", reason="Yes.",
                                revision=first.revision)
    assert db.session.get(Amendment, second.id).conflicted
    listed = items(page(client))
    line = next(item for item in listed if "now conflicts with the text" in item)
    assert f"{second.code}" in line and f"now conflicts with the text, after {first.code} was accepted." in line
    assert users["moderator"].name not in line


def test_what_is_new_since_my_last_visit_is_marked_in_words(client, login, doc, sections, make_user, users):
    reader = make_user()
    login(reader)
    first = page(client)
    assert "From your next visit on" in first and new_items(first) == []
    propose(make_user(name="Lucas"), doc, sections[1], " Night trains.")
    documents.edit_section(users["moderator"], doc.id, sections[2].section.id, heading="Section 3",
                           body="A new text.", reason="Clearer.", base_version=1)
    second = page(client)
    assert "<strong>2 new</strong> since your last visit" in second
    marked = new_items(second)
    assert len(marked) == 2
    assert "wrote version 2 of §3 Section 3" in marked[0] and "Lucas proposed A-001" in marked[1]
    assert 'class="badge badge-new">New</span>' in second  # a word, not a colour
    third = page(client)
    assert "Nothing new since your last visit" in third and new_items(third) == []


def test_the_visit_belongs_to_the_reader_and_the_document(client, login, doc, sections, make_user, make_document,
                                                          users):
    other_doc = make_document(slug="other", editor=users["admin"])
    reader, other_reader = make_user(), make_user()
    login(reader)
    page(client)
    propose(make_user(), doc, sections[0], " More.")
    other_client = client.application.test_client()
    login(other_reader, test_client=other_client)
    assert other_client.get("/d/doc/activity").status_code == 200  # another reader's first visit
    assert "1 new" in page(client)
    visits = {(v.user_id, v.document_id) for v in db.session.scalars(select(Visit))}
    assert visits == {(reader.id, doc.id), (other_reader.id, doc.id)}
    assert (reader.id, other_doc.id) not in visits


def test_later_pages_keep_marking_what_was_new(client, login, doc, sections, make_user):
    reader = make_user()
    login(reader)
    page(client)
    author = make_user()
    for i in range(60):
        propose(author, doc, sections[i % 3], f" Idea {i}.")
    first = page(client)
    assert "60 new" in first and len(new_items(first)) == 50
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "since=" in next_link
    second = client.get(next_link).get_data(as_text=True)
    assert len(new_items(second)) == 10  # the visit moved on, but the second page still knows where it stood
    assert "Nothing new" in page(client)


def test_the_visit_only_moves_forward(app, doc, make_user):
    reader = make_user()
    activity.record_visit(reader.id, doc.id, 10)
    activity.record_visit(reader.id, doc.id, 4)
    activity.record_visit(reader.id, doc.id, 12)
    assert db.session.scalar(select(Visit.last_event_id).where(Visit.user_id == reader.id)) == 12


def test_a_visit_that_cannot_be_recorded_does_not_fail_the_page(client, login, doc, sections, make_user,
                                                                monkeypatch):
    def unavailable(*args, **kwargs):
        raise DatabaseUnavailable("busy")

    monkeypatch.setattr(activity, "record_visit", unavailable)
    login(make_user())
    assert "added §1 Section 1" in " ".join(items(page(client)))
    assert db.session.scalar(select(Visit.id)) is None


def test_filters_narrow_the_page(client, doc, sections, make_user, users):
    amendment = propose(make_user(), doc, sections[0], " Wind.")
    amendments.support_amendment(make_user(), doc.id, amendment.id)
    amendments.decide_amendment(users["moderator"], doc.id, amendment.id, decision="accept", reason="Good.",
                                revision=db.session.get(Amendment, amendment.id).revision)
    decisions = items(page(client, "?what=decisions"))
    assert len(decisions) == 1 and "accepted A-001" in decisions[0]
    supports = items(page(client, "?what=supports"))
    assert len(supports) == 1 and "supported A-001" in supports[0]
    text = items(page(client, "?what=text"))
    assert any("accepted A-001" in item for item in text) and any("added §1" in item for item in text)
    assert all("supported" not in item for item in text)
    assert len(items(page(client, "?what=nonsense&page=-3&since=abc"))) == len(items(page(client)))


# ------------------------------------------------------- what never shows

def test_drafts_never_appear(client, doc, sections, make_user):
    author = make_user(name="Sofia")
    draft = propose(author, doc, sections[0], " Secret plan.", reason="Confidential reason.", submit=False)
    html = page(client)
    assert "Confidential reason" not in html and "Sofia" not in html
    assert f"/amendments/{draft.id}" not in html
    amendments.edit_amendment(author, doc.id, draft.id, heading=None, body=sections[0].version.body + " Plan.",
                              reason="Public reason.", revision=draft.revision, submit=True)
    html = page(client)
    assert "Sofia proposed A-001" in " ".join(items(html))
    assert "Confidential reason" not in html  # the draft's own event stays out


def test_a_rebased_draft_leaves_no_trace(client, doc, sections, make_user, users):
    draft = propose(make_user(), doc, sections[0], " Draft words.", submit=False)
    documents.edit_section(users["moderator"], doc.id, sections[0].section.id, heading="Section 1",
                           body="Paragraph one of section 1, about cooperatives and energy.\n\nA new second paragraph.",
                           reason="Edit.", base_version=1)
    html = page(client)
    assert f"/amendments/{draft.id}" not in html and "was moved onto version" not in html


def test_comments_are_linked_never_quoted_and_hidden_ones_keep_their_secret(client, doc, sections, make_user,
                                                                            users):
    author = make_user(name="Lucas")
    comment = add_comment(author, doc, body="My private **opinion** about energy.", section_id=sections[0].section.id)
    reply = add_comment(make_user(), doc, body="A reply.", section_id=sections[0].section.id, parent=comment)
    hide_comment(users["moderator"], comment.id, "Personal attack.")
    report(make_user(), doc, reply.id, "Reporter's secret reason.")
    html = page(client)
    listed = " ".join(items(html))
    assert "opinion" not in html and "A reply." not in html
    assert "Lucas commented on §1 Section 1" in listed
    assert "replied to a comment on §1 Section 1" in listed
    assert "hid a comment on §1 Section 1" in listed and "Reason: Personal attack." in listed
    assert "Reporter's secret reason" not in html and "report" not in listed.lower()
    assert f'href="/d/doc/comments/{comment.id}"' in html  # its permanent address: the page and anchor that show it


def test_the_discussion_services_leave_their_words_off_the_page(client, doc, sections, make_user, users):
    """End to end, through the real comment and moderation services."""
    from manifesto.discussion import comments, moderation

    author, reporter = make_user(name="Lucas"), make_user(name="Reporter")
    comment = comments.post_comment(author, doc.id, body="Words of the comment.", section_id=sections[0].section.id)
    moderation.report_item(reporter, doc.id, "comment", comment.id, reason="The reporter's reason.")
    moderation.hide_item(users["moderator"], doc.id, "comment", comment.id, reason="Public reason.")
    html = page(client)
    listed = " ".join(items(html))
    assert "Lucas commented on §1 Section 1" in listed and "hid a comment on §1 Section 1" in listed
    assert "Reason: Public reason." in listed
    assert "Words of the comment" not in html and "The reporter's reason" not in html and "Reporter" not in html


def test_a_hidden_amendment_keeps_its_words_off_the_page(client, doc, sections, make_user, users):
    amendment = propose(make_user(), doc, sections[0], " Insults.", reason="Abusive reason text.")
    hide_amendment(users["moderator"], amendment.id, "Abusive.")
    html = page(client)
    assert "Abusive reason text" not in html
    listed = " ".join(items(html))
    assert "hid A-001" in listed and "Reason: Abusive." in listed
    assert "(hidden by a moderator)" in listed


def test_hostile_text_in_events_is_inert(client, doc, sections, make_user, users):
    author = make_user(name="<script>alert(1)</script>")
    propose(author, doc, sections[0], " X.", reason='<img src=x onerror=alert(1)> "><script>alert(2)</script>')
    html = page(client)
    assert live_markup(html) == []
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ------------------------------------------------------------------- scale

def test_the_page_runs_a_fixed_number_of_queries(client, login, doc, sections, make_user, users, queries):
    reader = make_user()

    def count(n):
        author = make_user()
        for i in range(n):
            amendment = propose(author, doc, sections[i % 3], f" Idea {n}-{i}.")
            add_comment(make_user(), doc, body="Why?", amendment_id=amendment.id)
            add_comment(make_user(), doc, body="Yes.", section_id=sections[i % 3].section.id)
        documents.edit_section(users["moderator"], doc.id, sections[0].section.id, heading="Section 1",
                               body=f"Version text {n}.", reason="Edit.",
                               base_version=documents.get_section_or_404(doc, sections[0].section.id).version_count)
        with queries() as q:
            assert client.get("/d/doc/activity").status_code == 200
        return q.count

    login(reader)
    client.get("/d/doc/activity")
    assert count(3) == count(15)
