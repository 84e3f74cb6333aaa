"""Comments: threads, passages that follow the text, counts, bad input, and pages in a fixed number of queries."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from manifesto.amendments import services as amendments
from manifesto.audit.models import AuditEvent
from manifesto.discussion import comments
from manifesto.discussion.models import COMMENT_LIMIT, Comment, CommentRevision
from manifesto.documents import services as documents
from manifesto.documents.models import Section, SectionVersion
from manifesto.extensions import db
from manifesto.services import NotFound, PermissionDenied, ValidationError
from tests.conftest import live_markup

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
            "<svg onload=alert(1)>", '"><iframe src=//evil.example>', "&lt;script&gt;alert(1)&lt;/script&gt;"]


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments, with its first section."""
    document = make_document(phase="amendments", editor=users["admin"])
    return document, documents.current_sections(document)[0].section


OUR_SCRIPT = re.compile(r'<script src="/static/passage\.js(\?v=\w+)?" defer></script>')


def _live(page: str) -> list[str]:
    """Live markup in a page, besides the one script of our own (a static file, allowed by the CSP)."""
    return live_markup(OUR_SCRIPT.sub("", page))


def _fresh(model, row_id):
    """Read a row again from the database."""
    db.session.expire_all()
    return db.session.get(model, row_id)


def _edit(users, document, section_id, body):
    """A moderator writes a new version of a section."""
    return documents.edit_section(users["moderator"], document.id, section_id, heading="Heading", body=body,
                                  reason="Editorial.", base_version=None)


def _body(section_id):
    """The section's current Markdown text."""
    return db.session.get(SectionVersion, _fresh(Section, section_id).current_version_id).body


class _Tree(HTMLParser):
    """Collect each comment's nesting depth (how many lists of replies hold it) and its "in reply to" text."""

    def __init__(self):
        super().__init__()
        self.lists, self.depth, self.reply_to, self._current, self._in_reply = [], {}, {}, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "ol" and "replies" in (attrs.get("class") or ""):
            self.lists.append(tag)
        elif tag == "ol":
            self.lists.append("other")
        if tag == "li" and (attrs.get("id") or "").startswith("comment-"):
            self._current = int(attrs["id"].split("-")[1])
            self.depth[self._current] = sum(1 for kind in self.lists if kind == "ol")
        if tag == "span" and attrs.get("class") == "in-reply-to":
            self._in_reply = True

    def handle_endtag(self, tag):
        if tag == "ol" and self.lists:
            self.lists.pop()
        if tag == "span":
            self._in_reply = False

    def handle_data(self, data):
        if self._in_reply and self._current is not None:
            self.reply_to[self._current] = data.strip()


# ------------------------------------------------------------------ threads

def test_a_thread_shows_three_levels_indented_and_deeper_replies_flat(client, doc, make_user):
    document, section = doc
    people = [make_user(name=f"Person {i}", organisation=f"Coop {i}") for i in range(6)]
    root = comments.post_comment(people[0], document.id, section_id=section.id, body="Root *comment*.")
    chain = [root]
    for i in range(1, 6):
        chain.append(comments.reply_to_comment(people[i], document.id, chain[-1].id, body=f"Reply at depth {i}."))
    sibling = comments.reply_to_comment(people[2], document.id, root.id, body="Another reply to the root.")
    assert [c.depth for c in chain] == [0, 1, 2, 3, 4, 5]
    assert {c.thread_id for c in chain} == {root.id}

    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    tree = _Tree()
    tree.feed(page)
    depths = [tree.depth[c.id] for c in chain]
    assert depths == [0, 1, 2, 3, 3, 3], depths  # three indented levels, then flat
    assert tree.depth[sibling.id] == 1
    assert tree.reply_to.get(chain[3].id) == "in reply to Person 2"
    assert tree.reply_to.get(chain[5].id) == "in reply to Person 4"
    assert chain[1].id not in tree.reply_to  # indented replies need no "in reply to"
    # Author, organisation, time, a link to each comment.
    assert "Person 0</strong><span class=\"org\">, Coop 0</span>" in page
    assert f'id="comment-{root.id}"' in page and f'href="#comment-{root.id}"' in page
    assert "<em>comment</em>" in page


def test_the_permanent_address_of_a_comment_leads_to_its_page_and_anchor(client, doc, users, app):
    document, section = doc
    app.config["TESTING"] = True
    first = comments.post_comment(users["participant"], document.id, section_id=section.id, body="First.")
    for i in range(comments.THREADS_PER_PAGE):
        comments.post_comment(users["participant"], document.id, section_id=section.id, body=f"Thread {i}.")
    last = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Last.")
    response = client.get(f"/d/doc/comments/{first.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/d/doc/sections/{section.id}#comment-{first.id}")
    response = client.get(f"/d/doc/comments/{last.id}")
    assert response.headers["Location"].endswith(f"/d/doc/sections/{section.id}?comments=2#comment-{last.id}")
    page2 = client.get(f"/d/doc/sections/{section.id}?comments=2").get_data(as_text=True)
    assert f'id="comment-{last.id}"' in page2 and f'id="comment-{first.id}"' not in page2
    assert "Page 2 of 2" in page2
    past = client.get(f"/d/doc/sections/{section.id}?comments=99").get_data(as_text=True)
    assert f'id="comment-{last.id}"' in past and "Page 2 of 2" in past  # past the end: the last page
    assert f'href="/d/doc/sections/{section.id}?comments=1#comments">← Earlier threads</a>' in past


def test_a_long_thread_has_pages_of_its_own(client, doc, users, monkeypatch):
    document, section = doc
    monkeypatch.setattr(comments, "THREAD_PREVIEW", 5)
    monkeypatch.setattr(comments, "THREAD_PAGE", 4)
    root = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Root.")
    replies = [comments.reply_to_comment(users["moderator"], document.id, root.id, body=f"Reply {i}.")
               for i in range(8)]
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert f'id="comment-{replies[3].id}"' in page and f'id="comment-{replies[4].id}"' not in page
    assert "Read the whole thread (4 more comments)" in page
    thread2 = client.get(f"/d/doc/threads/{root.id}?page=2").get_data(as_text=True)
    assert f'id="comment-{replies[3].id}"' in thread2 and f'id="comment-{replies[6].id}"' in thread2
    assert "in reply to" in thread2  # their parent is on page 1
    past = client.get(f"/d/doc/threads/{root.id}?page=99").get_data(as_text=True)
    assert f'id="comment-{replies[7].id}"' in past and "Page 3 of 3" in past
    assert f'rel="prev" href="/d/doc/threads/{root.id}?page=2"' in past and 'rel="next"' not in past
    assert client.get(f"/d/doc/comments/{replies[7].id}").headers["Location"].endswith(
        f"/d/doc/threads/{root.id}?page=3#comment-{replies[7].id}")
    assert client.get(f"/d/doc/threads/{replies[0].id}").status_code == 404


def test_comment_counts_on_the_reading_page_and_amendment_pages(client, doc, users, make_user):
    document, section = doc
    for i in range(3):
        comments.post_comment(users["participant"], document.id, section_id=section.id, body=f"C{i}")
    hidden = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Hidden")
    from manifesto.discussion import moderation
    moderation.hide_item(users["moderator"], document.id, "comment", hidden.id, reason="Off topic.")
    deleted = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Gone")
    comments.delete_comment(users["participant"], document.id, deleted.id)
    reading = client.get("/d/doc/").get_data(as_text=True)
    assert "3 comments<span class=\"visually-hidden\"> on §1</span>" in reading
    assert "0 comments<span class=\"visually-hidden\"> on §2</span>" in reading

    author = make_user()
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=_body(section.id) + " More.", reason="Why.")
    comments.post_comment(users["participant"], document.id, amendment_id=amendment.id, body="Agreed.")
    listing = client.get("/d/doc/amendments/?status=all").get_data(as_text=True)
    assert f"1 comment<span class=\"visually-hidden\"> on {amendment.code}</span>" in listing
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "Comments <span class=\"count\">(1)</span>" in page and "Agreed." in page


# ------------------------------------------------------------------ editing and deleting

def test_authors_edit_their_comments_and_the_history_is_kept(client, login, doc, users):
    document, section = doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Frist text.")
    login(users["participant"])
    form = client.get(f"/d/doc/comments/{comment.id}/edit").get_data(as_text=True)
    assert "Frist text." in form and 'name="revision" type="hidden" value="1"' in form
    response = client.post(f"/d/doc/comments/{comment.id}/edit", data={"body": "First text.", "revision": "1"})
    assert response.status_code == 302
    fresh = _fresh(Comment, comment.id)
    assert (fresh.body, fresh.revision) == ("First text.", 2) and fresh.edited_at is not None
    assert [r.body for r in db.session.scalars(select(CommentRevision))] == ["Frist text."]
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert ">edited<" in page
    history = client.get(f"/d/doc/comments/{comment.id}/history").get_data(as_text=True)
    assert "Frist text." in history and "First text." in history
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.edited"))
    assert event.object_id == comment.id and event.document_id == document.id


def test_a_stale_edit_is_refused_and_keeps_the_text(client, login, doc, users):
    document, section = doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="One.")
    comments.edit_comment(users["participant"], document.id, comment.id, body="Two.", revision=1)
    login(users["participant"])
    response = client.post(f"/d/doc/comments/{comment.id}/edit", data={"body": "My careful rewrite.", "revision": "1"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "My careful rewrite." in page and "Two." in page and "changed since you opened it" in page
    assert 'value="2"' in page  # saving again is now deliberate
    assert _fresh(Comment, comment.id).body == "Two."


def test_nobody_edits_or_deletes_someone_elses_comment(client, login, doc, users):
    document, section = doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Mine.")
    with pytest.raises(PermissionDenied):
        comments.edit_comment(users["moderator"], document.id, comment.id, body="Theirs.", revision=1)
    with pytest.raises(PermissionDenied):
        comments.delete_comment(users["admin"], document.id, comment.id)
    login(users["moderator"])
    assert client.get(f"/d/doc/comments/{comment.id}/edit").status_code == 403
    assert client.post(f"/d/doc/comments/{comment.id}/edit", data={"body": "x", "revision": "1"}).status_code == 403
    assert client.post(f"/d/doc/comments/{comment.id}/delete").status_code == 403
    assert _fresh(Comment, comment.id).body == "Mine."


def test_a_deleted_comment_leaves_a_placeholder_and_its_replies(client, login, doc, users):
    document, section = doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Regrettable.")
    reply = comments.reply_to_comment(users["moderator"], document.id, comment.id, body="A fair answer.")
    login(users["participant"])
    assert client.post(f"/d/doc/comments/{comment.id}/delete").status_code == 302
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert "Regrettable." not in page and "This comment was deleted by its author." in page
    assert "A fair answer." in page and f'id="comment-{reply.id}"' in page
    with pytest.raises(ValidationError, match="deleted"):
        comments.reply_to_comment(users["admin"], document.id, comment.id, body="Hello?")
    response = client.post(f"/d/doc/comments/{comment.id}/reply", data={"body": "My reply to it."})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "My reply to it." in text and "deleted by its author, so it can no longer be replied to" in text


def test_replies_to_hidden_comments_are_refused(client, login, doc, users):
    from manifesto.discussion import moderation

    document, section = doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Rude.")
    moderation.hide_item(users["moderator"], document.id, "comment", comment.id, reason="Insults.")
    for person in (users["admin"], users["moderator"], users["participant"]):
        with pytest.raises(ValidationError, match="hid this comment"):
            comments.reply_to_comment(person, document.id, comment.id, body="Reply.")
    login(users["admin"])
    response = client.post(f"/d/doc/comments/{comment.id}/reply", data={"body": "Still replying."})
    assert response.status_code == 400 and "Still replying." in response.get_data(as_text=True)


# ------------------------------------------------------------------ amendments

def test_comments_on_amendments_but_not_on_drafts_nor_hidden_ones(client, login, doc, users, make_user):
    document, section = doc
    author = make_user()
    body = _body(section.id) + " More."
    draft = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id, heading=None,
                                         body=body, reason="Why.", submit=False)
    with pytest.raises(NotFound):
        comments.post_comment(users["participant"], document.id, amendment_id=draft.id, body="Hi.")
    with pytest.raises(ValidationError, match="Drafts"):
        comments.post_comment(author, document.id, amendment_id=draft.id, body="Note to self.")
    submitted = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=body + " Even more.", reason="Why.")
    comment = comments.post_comment(users["participant"], document.id, amendment_id=submitted.id, body="Good.")
    assert (comment.target, comment.amendment_id, comment.section_id) == ("amendment", submitted.id, None)
    amendments.hide_amendment(users["moderator"], document.id, submitted.id, reason="Spam.")
    with pytest.raises(PermissionDenied):
        comments.post_comment(users["participant"], document.id, amendment_id=submitted.id, body="More.")
    with pytest.raises(PermissionDenied):
        comments.reply_to_comment(users["participant"], document.id, comment.id, body="More.")
    comments.post_comment(users["moderator"], document.id, amendment_id=submitted.id, body="Moderators may.")
    login(users["participant"])
    page = client.get(f"/d/doc/amendments/{submitted.id}").get_data(as_text=True)
    assert 'id="comment-form"' not in page
    assert client.post(f"/d/doc/amendments/{submitted.id}/comments", data={"body": "x"}).status_code == 403


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("body,message", [
    ("", "cannot be empty"),
    ("   \n  ", "cannot be empty"),
    ("x" * (COMMENT_LIMIT + 1), f"the limit is {COMMENT_LIMIT:,}"),
])
def test_a_bad_comment_gets_a_message_next_to_the_field_and_keeps_the_text(client, login, doc, users, body, message):
    document, section = doc
    login(users["participant"])
    response = client.post(f"/d/doc/sections/{section.id}/comments",
                           data={"body": body, "quote": "cooperatives and energy"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="body-error"><strong>Error:</strong>[^<]*' + re.escape(message), page)
    assert 'aria-invalid="true"' in page
    assert "cooperatives and energy</textarea>" in page  # the quote is kept as well
    if body.strip():
        assert body[:200] in page
    assert db.session.scalar(select(Comment.id)) is None


@pytest.mark.parametrize("quote,message", [
    ("words that are nowhere", "not in the current text"),
    ("Paragraph", "appear 2 times"),
    ("y" * 2001, "the limit is 2,000"),
])
def test_a_bad_quote_gets_a_message_next_to_the_field_and_keeps_the_text(client, login, doc, users, quote, message):
    document, section = doc
    login(users["participant"])
    response = client.post(f"/d/doc/sections/{section.id}/comments", data={"body": "My point.", "quote": quote})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="quote-error"><strong>Error:</strong>[^<]*' + re.escape(message), page)
    assert "My point.</textarea>" in page and quote[:100] in page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_comments_quotes_and_reasons_are_inert(client, login, doc, users, make_user, payload):
    from manifesto.discussion import moderation

    document, section = doc
    text = f"About cooperatives: {payload} and more."
    documents.edit_section(users["moderator"], document.id, section.id, heading="Heading", body=text,
                           reason=f"Reason {payload}", base_version=None)
    quote = documents.get_section_or_404(document, section.id).current_version.body_html
    reading = comments.reading_text(quote)
    c1 = comments.post_comment(users["participant"], document.id, section_id=section.id,
                               body=f"Body {payload}", quote=reading)
    c2 = comments.reply_to_comment(users["admin"], document.id, c1.id, body=payload)
    moderation.report_item(users["admin"], document.id, "comment", c1.id, reason=f"Report {payload}")
    moderation.hide_item(users["moderator"], document.id, "comment", c2.id, reason=f"Hidden {payload}")
    author = make_user()
    a = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id, heading=None,
                                     body=text + " More.", reason="Why.")
    moderation.report_item(users["participant"], document.id, "amendment", a.id, reason=payload)
    amendments.hide_amendment(users["moderator"], document.id, a.id, reason=f"Hide {payload}")
    for role in ("participant", "moderator", "admin"):
        login(users[role])
        for url in (f"/d/doc/sections/{section.id}", f"/d/doc/amendments/{a.id}", "/d/doc/moderation",
                    f"/d/doc/comments/{c1.id}/reply", f"/d/doc/comments/{c1.id}/report",
                    f"/d/doc/threads/{c1.id}", f"/d/doc/moderation/comments/{c2.id}/restore",
                    "/d/doc/amendments/?status=all", "/d/doc/log"):
            response = client.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)
            assert not _live(response.get_data(as_text=True)), (role, url)
        client.post("/logout")


# ------------------------------------------------------------------ passages

PASSAGE_TEXT = ("Cooperatives pool the savings of their members.\n\n"
                "Energy cooperatives produce power for their villages and sell the rest.\n\n"
                "Governments should reserve a clear share of new capacity for community ownership.")


@pytest.fixture
def passage_doc(doc, users):
    """A section with three paragraphs to quote from."""
    document, section = doc
    documents.edit_section(users["moderator"], document.id, section.id, heading="Energy", body=PASSAGE_TEXT,
                           reason="Text for the tests.", base_version=None)
    return document, section


def _marks(page: str) -> list[str]:
    """The words marked as commented passages on a page."""
    return re.findall(r'<mark class="passage">(.*?)</mark>', page)


def test_a_passage_comment_is_marked_in_the_text_and_links_both_ways(client, login, passage_doc, users):
    document, section = passage_doc
    login(users["participant"])
    response = client.post(f"/d/doc/sections/{section.id}/comments",
                           data={"body": "Which villages?", "quote": "produce power   for\ntheir villages"})
    assert response.status_code == 302
    comment = db.session.scalar(select(Comment))
    assert comment.quote == "produce power for their villages"
    assert (comment.located_version_id, comment.passage_lost) == (comment.anchor_version_id, False)
    assert comment.quote_prefix.endswith("Energy cooperatives ")
    assert comment.quote_suffix.startswith(" and sell the rest.")
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert _marks(page) == ["produce power for their villages"]
    assert f'<span class="passage-anchor" id="passage-{comment.id}"></span>' in page
    assert f'<a class="passage-ref" href="#comment-{comment.id}"' in page  # text -> comment
    assert f'<a href="#passage-{comment.id}">Passage [1]' in page  # comment -> text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.created"))
    assert event.data == {"target": "section", "target_id": section.id, "parent_id": None}
    assert (event.object_type, event.object_id, event.document_id) == ("comments", comment.id, document.id)


def test_the_browsers_context_picks_one_of_repeated_words(client, login, passage_doc, users):
    document, section = passage_doc
    login(users["participant"])
    response = client.post(f"/d/doc/sections/{section.id}/comments",
                           data={"body": "Which ones?", "quote": "cooperatives", "quote_prefix": "Energy ",
                                 "quote_suffix": " produce power"})
    assert response.status_code == 302
    comment = db.session.scalar(select(Comment))
    text = comments.reading_text(documents.get_section_or_404(document, section.id).current_version.body_html)
    assert text[comment.quote_start - 7:comment.quote_end] == "Energy cooperatives"


def test_passages_follow_edits_are_lost_when_rewritten_and_come_back_with_a_revert(client, passage_doc, users):
    document, section = passage_doc
    moved = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Savings!",
                                  quote="pool the savings of their members")
    rewritten = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Share?",
                                      quote="reserve a clear share of new capacity")
    tweaked = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Power.",
                                    quote="Energy cooperatives produce power for their villages")
    written_on = _fresh(Section, section.id).version_count
    new_text = ("An introduction, new in this version.\n\n" + PASSAGE_TEXT)\
        .replace("Energy cooperatives produce power", "Energy cooperatives produce clean power")\
        .replace("reserve a clear share of new capacity", "support solar villages with cheap loans")
    _edit(users, document, section.id, new_text)
    current = documents.get_section_or_404(document, section.id).current_version
    text = comments.reading_text(current.body_html)
    m, r, t = (_fresh(Comment, c.id) for c in (moved, rewritten, tweaked))
    assert text[m.located_start:m.located_end] == "pool the savings of their members"
    assert m.located_version_id == current.id and not m.passage_lost
    assert text[t.located_start:t.located_end] == "Energy cooperatives produce clean power for their villages"
    assert r.passage_lost and r.located_version_id is None
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert sorted(_marks(page)) == ["Energy cooperatives produce clean power for their villages",
                                    "pool the savings of their members"]
    assert "The passage this comment refers to has changed." in page
    assert f'/d/doc/sections/{section.id}/versions/{written_on}">version {written_on} of the section</a>' in page
    assert "reserve a clear share of new capacity" in page  # the lost passage's quote is still shown

    documents.revert_section(users["moderator"], document.id, section.id, to_number=written_on,
                             reason="Back.", base_version=None)
    assert not _fresh(Comment, rewritten.id).passage_lost
    page = client.get(f"/d/doc/sections/{section.id}").get_data(as_text=True)
    assert "reserve a clear share of new capacity" in _marks(page)


def test_passages_follow_an_accepted_amendment(passage_doc, users, make_user):
    document, section = passage_doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Yes.",
                                    quote="community ownership")
    before = comment.located_start
    author = make_user()
    body = ("A first paragraph added by the amendment.\n\n" + PASSAGE_TEXT)
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=body, reason="Context.")
    amendments.decide_amendment(users["moderator"], document.id, amendment.id, decision="accept", reason="Fine.",
                                revision=1)
    fresh = _fresh(Comment, comment.id)
    current = documents.get_section_or_404(document, section.id).current_version
    assert fresh.located_version_id == current.id
    text = comments.reading_text(current.body_html)
    assert text[fresh.located_start:fresh.located_end] == "community ownership"
    assert fresh.located_start == before + len("A first paragraph added by the amendment. ")


def test_reanchoring_takes_a_fixed_number_of_queries(passage_doc, users, queries):
    document, section = passage_doc
    counts = []
    for n in (3, 30):
        for i in range(n):
            comments.post_comment(users["participant"], document.id, section_id=section.id, body=f"{i}",
                                  quote="produce power")
        with queries() as counted:
            _edit(users, document, section.id, f"Version {n}.\n\n" + PASSAGE_TEXT)
        counts.append(counted.count)
    assert counts[0] == counts[1], counts


def test_a_passage_comment_locks_the_section_against_a_new_version(app, passage_doc, users, monkeypatch):
    """The quote is checked against the version that stays current until the comment is saved."""
    from manifesto import locking

    document, section = passage_doc
    taken = []
    real = locking.lock_rows

    def spy(model, ids):
        taken.append(model.__tablename__)
        return real(model, ids)

    monkeypatch.setattr(locking, "lock_rows", spy)
    comments.post_comment(users["participant"], document.id, section_id=section.id, body="x", quote="savings")
    assert taken == ["documents", "sections"]


# ------------------------------------------------------------------ query budgets

def _bulk_comments(document, section_id, amendment_id, authors, n):
    """``n`` comments in threads of up to five, some replies deep, some passages, some hidden or deleted."""
    from manifesto.discussion.models import Target
    from manifesto.services import utcnow

    target = Target.AMENDMENT.value if amendment_id else Target.SECTION.value
    section = db.session.get(Section, section_id) if section_id else None
    made = 0
    while made < n:
        root = Comment(document_id=document.id, target=target, section_id=section_id, amendment_id=amendment_id,
                       depth=0, author_id=authors[made % len(authors)].id, body="Root", body_html="<p>Root</p>",
                       revision=1, passage_lost=False)
        if section is not None and made % 3 == 0:
            root.quote, root.quote_prefix, root.quote_suffix = "Paragraph one", "", " of section 1"
            root.quote_start, root.quote_end = 0, 13
            root.anchor_version_id = root.located_version_id = section.current_version_id
            root.located_start, root.located_end = 0, 13
            root.passage_lost = made % 2 == 0
        db.session.add(root)
        db.session.flush()
        root.thread_id = root.id
        made += 1
        parent = root
        for depth in range(1, 5):
            if made >= n:
                break
            reply = Comment(document_id=document.id, target=target, section_id=section_id,
                            amendment_id=amendment_id, parent_id=parent.id, thread_id=root.id, depth=depth,
                            author_id=authors[(made + depth) % len(authors)].id, body="Reply",
                            body_html="<p>Reply</p>", revision=1, passage_lost=False,
                            hidden_at=utcnow() if made % 7 == 0 else None, hidden_reason="Spam.",
                            deleted_at=utcnow() if made % 11 == 0 else None)
            db.session.add(reply)
            db.session.flush()
            parent = reply
            made += 1
    db.session.commit()


def test_section_and_amendment_pages_take_the_same_queries_for_few_and_many_comments(
        app, make_document, users, make_user, queries):
    authors = [make_user(organisation=f"Org {i}") for i in range(5)]
    client = app.test_client()
    client.post("/login", data={"email": users["moderator"].email, "password": "correct-horse-battery"})
    counts = []
    for slug, n_section, n_amendment in (("small", 150, 20), ("big", 500, 200)):
        document = make_document(phase="amendments", slug=slug, editor=users["admin"])
        section = documents.current_sections(document)[0].section
        amendment = amendments.propose_amendment(authors[0], document.id, kind="modify", section_id=section.id,
                                                 heading=None, body=_body(section.id) + " More.", reason="R.")
        _bulk_comments(document, section.id, None, authors, n_section)
        _bulk_comments(document, None, amendment.id, authors, n_amendment)
        row = []
        for url in (f"/d/{slug}/sections/{section.id}", f"/d/{slug}/sections/{section.id}?comments=2",
                    f"/d/{slug}/amendments/{amendment.id}", f"/d/{slug}/"):
            with queries() as counted:
                response = client.get(url)
            assert response.status_code == 200
            row.append(counted.count)
        counts.append(row)
        if n_section == 500:
            page = client.get(f"/d/{slug}/sections/{section.id}").get_data(as_text=True)
            assert page.count('class="comment"') <= comments.THREADS_PER_PAGE * 5
            assert "Page 1 of" in page
    assert counts[0] == counts[1], counts


# ------------------------------------------------------------------ every discussion form, every role, hostile values

@pytest.mark.parametrize("role", ["anonymous", "participant", "author", "moderator", "admin"])
def test_no_discussion_form_crashes_on_hostile_input(app, client, login, doc, users, make_user, role):
    from manifesto.discussion import moderation
    from tests.test_hostile_forms import HOSTILE

    document, section = doc
    author = make_user()
    people = {**users, "author": author}
    comment = comments.post_comment(author, document.id, section_id=section.id, body="Root.", quote="cooperatives")
    hidden = comments.reply_to_comment(users["participant"], document.id, comment.id, body="Hidden.")
    moderation.hide_item(users["moderator"], document.id, "comment", hidden.id, reason="Test.")
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=_body(section.id) + " More.", reason="Why.")
    moderation.report_item(users["participant"], document.id, "amendment", amendment.id, reason="Spam.")
    if role != "anonymous":
        login(people[role])
    rules = sorted(rule.rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.startswith("discussion.") and "POST" in (rule.methods or ()))
    assert len(rules) >= 14, rules
    fields = ["body", "quote", "quote_prefix", "quote_suffix", "reason", "revision", "csrf_token"]
    for rule in rules:
        for comment_id in (comment.id, hidden.id):
            url = (rule.replace("<slug>", "doc").replace("<int:comment_id>", str(comment_id))
                   .replace("<int:section_id>", str(section.id)).replace("<int:amendment_id>", str(amendment.id))
                   .replace("<int:user_id>", str(author.id)))
            for hostile in HOSTILE:
                response = client.post(url, data={name: hostile for name in fields})
                assert response.status_code < 500, (rule, hostile[:20], response.status_code)
                if response.status_code == 200 or response.status_code == 400:
                    assert not _live(response.get_data(as_text=True)), (rule, hostile[:20])
    for hostile in ("-1", "0", "99999999999999999999", "abc", "<script>"):
        for url in (f"/d/doc/sections/{section.id}?comments={hostile}", f"/d/doc/threads/{comment.id}?page={hostile}",
                    f"/d/doc/moderation?page={hostile}", f"/d/doc/sections/{section.id}/comments?quote={hostile}",
                    f"/d/doc/amendments/{amendment.id}?comments={hostile}"):
            response = client.get(url)
            assert response.status_code < 500 and not _live(response.get_data(as_text=True)), url


# ------------------------------------------------------------------ the demo

def test_the_demo_has_threads_passages_a_lost_passage_a_hidden_comment_and_a_pending_report(runner, client):
    from manifesto.discussion.models import Report
    from manifesto.seed.demo_discussion import PARITY_BEFORE

    assert runner.invoke(args=["seed-demo", "--password", "demo-password"]).exit_code == 0
    all_comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert max(c.depth for c in all_comments) >= 4
    lost = [c for c in all_comments if c.passage_lost]
    assert [c.quote for c in lost] == [PARITY_BEFORE]
    moved = [c for c in all_comments if c.quote and not c.passage_lost]
    assert len(moved) >= 2
    for c in moved:
        version = db.session.get(SectionVersion, c.located_version_id)
        assert comments.reading_text(version.body_html)[c.located_start:c.located_end] == c.quote
    assert any(c.located_start != c.quote_start for c in moved)  # moved with the committee's edit
    hidden = [c for c in all_comments if c.is_hidden]
    assert len(hidden) == 1 and hidden[0].hidden_reason.startswith("Personal attack.")
    assert [r.status for r in db.session.scalars(select(Report).order_by(Report.id))] == ["hidden", "open"]
    assert any(c.is_deleted for c in all_comments) and any(c.edited_at for c in all_comments)
    for c in lost + moved:
        page = client.get(f"/d/sse-manifesto/sections/{c.section_id}").get_data(as_text=True)
        assert page.count('<mark class="passage">') >= (0 if c.passage_lost else 1)
    page = client.get(f"/d/sse-manifesto/sections/{lost[0].section_id}").get_data(as_text=True)
    assert "The passage this comment refers to has changed." in page
    assert runner.invoke(args=["seed-demo", "--password", "demo-password"]).exit_code == 0
    assert len(db.session.scalars(select(Comment)).all()) == len(all_comments)  # nothing added twice


def test_with_line_numbers_passages_are_not_marked_and_link_to_the_marked_text(client, passage_doc, users):
    document, section = passage_doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Hm.",
                                    quote="produce power")
    page = client.get(f"/d/doc/sections/{section.id}?lines=1").get_data(as_text=True)
    assert not _marks(page) and 'href="#passage-' not in page
    assert f'/d/doc/sections/{section.id}#passage-{comment.id}">The passage in the section' in page
