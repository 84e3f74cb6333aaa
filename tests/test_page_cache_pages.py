"""The section page, the amendment lists and the amendment page, served from the page cache.

What a reader notices: an unchanged page is answered 304 with nothing in it;
every kind of write the page shows changes its validator and shows at once;
one role's page (or validator) never answers another role; one person's
own parts (drafts, own comment links, support, forms with their CSRF token)
never reach anyone else, however warm the cache.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from manifesto.amendments import services as amendments
from manifesto.discussion import comments, moderation
from manifesto.documents import services as documents
from harness import PASSWORD


@pytest.fixture
def world(make_document, users, make_user):
    """An open document, an amendment to its first section, and the people who read them."""
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    author = make_user(name="Amendment Author")
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                             heading=None, body=entry.version.body + " More solar panels.",
                                             reason="The sun shines.")
    return SimpleNamespace(document=document, section=entry.section, amendment=amendment, author=author,
                           other=make_user(name="Other Member"), **users)


PAGES = {
    "reading page": "/d/doc/",
    "section": "/d/doc/sections/{s}",
    "section with line numbers": "/d/doc/sections/{s}?lines=1",
    "amendment list": "/d/doc/amendments/?status=all",
    "amendment list, default": "/d/doc/amendments/",
    "amendments of a section": "/d/doc/amendments/?section={s}&status=all&sort=support&desc=1",
    "amendment": "/d/doc/amendments/{a}",
    "amendment side by side": "/d/doc/amendments/{a}?view=side",
}


def _url(world, page: str) -> str:
    """The page's address in this world."""
    return PAGES[page].format(s=world.section.id, a=world.amendment.id)


def _reader(app, login, person):
    """A test client of its own, logged in as ``person`` (None: a visitor)."""
    client = app.test_client()
    if person is not None:
        assert login(person, test_client=client).status_code == 302
    return client


def _page(client, url: str):
    """The page with its validator (a first page after logging in carries a flashed message, and none)."""
    response = client.get(url)
    if "ETag" not in response.headers:
        response = client.get(url)
    assert response.status_code == 200 and response.headers["ETag"].startswith('W/"'), response.headers
    return response


@pytest.mark.parametrize("role", ["visitor", "participant", "moderator"])
@pytest.mark.parametrize("page", list(PAGES))
def test_an_unchanged_page_is_answered_304_with_nothing_in_it(app, login, world, page, role):
    client = _reader(app, login, None if role == "visitor" else getattr(world, role))
    url = _url(world, page)
    first = _page(client, url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": 'W/"something-else"'}).status_code == 200


def _new_version(world):
    """A moderator writes a new version of the section."""
    documents.edit_section(world.moderator, world.document.id, world.section.id, heading="Section 1",
                           body="Paragraph one, now about tidal power.\n\nParagraph two.", reason="Tides.",
                           base_version=1)


def _proposal(world):
    """Someone proposes another amendment to the section."""
    version = documents.get_section_or_404(world.document, world.section.id).current_version
    return amendments.propose_amendment(world.other, world.document.id, kind="modify",
                                        section_id=world.section.id, heading=None,
                                        body=version.body.replace("democracy", "wind democracy"), reason="Wind too.")


def _support(world):
    """A participant supports the amendment."""
    amendments.support_amendment(world.participant, world.document.id, world.amendment.id)


def _decision(world):
    """A moderator rejects the amendment."""
    amendments.decide_amendment(world.moderator, world.document.id, world.amendment.id, decision="reject",
                                reason="Not this year, sorry.", revision=world.amendment.revision)


def _section_comment(world):
    """A participant comments on the section."""
    comments.post_comment(world.participant, world.document.id, section_id=world.section.id,
                          body="What about storage?")


def _amendment_comment(world):
    """A participant comments on the amendment."""
    comments.post_comment(world.participant, world.document.id, amendment_id=world.amendment.id,
                          body="What about storage?")


def _hidden(target: str):
    """A moderator hides the visible comment posted before (its text, read by visitors, goes)."""
    def write(world):
        """Hide the first comment of the target."""
        comment = world.comments[target]
        moderation.hide_item(world.moderator, world.document.id, "comment", comment.id, reason="Off topic here.")
    return write


def _retitled(world):
    """An admin renames the document (a write no area narrows: every page shows it)."""
    document = world.document
    documents.update_document(world.admin, document.id, title="The Renamed Manifesto",
                              introduction=document.introduction or "", phase=document.phase,
                              amendment_deadline=document.deadline, min_supporters=document.min_supporters)


# (page, write, what a visitor sees before but not after, what a visitor sees after but not before)
WRITES = [
    ("reading page", _new_version, "Paragraph one of section 1", "tidal power"),
    ("reading page", _proposal, "1 open amendment", "2 open amendments"),
    ("reading page", _decision, '1 open amendment<span class="visually-hidden"> to §1',
     '0 open amendments<span class="visually-hidden"> to §1'),
    ("reading page", _section_comment, '1 comment<span class="visually-hidden"> on §1',
     '2 comments<span class="visually-hidden"> on §1'),
    ("reading page", _retitled, "Test manifesto", "The Renamed Manifesto"),
    ("section", _retitled, "Test manifesto", "The Renamed Manifesto"),
    ("amendment", _retitled, "Test manifesto", "The Renamed Manifesto"),
    ("amendment", _new_version, "Written on</dt><dd>version 1", "rebased onto version 2"),
    ("section", _decision, "1 open amendment", "0 open amendments"),
    ("section", _new_version, "Paragraph one of section 1", "tidal power"),
    ("section with line numbers", _new_version, "Paragraph one of section 1", "tidal power"),
    ("section", _proposal, "1 open amendment", "2 open amendments"),
    ("section", _section_comment, '<span class="count">(1)</span>', "What about storage?"),
    ("section", _hidden("section"), "Visible remark.", "Off topic here."),
    ("amendment list", _proposal, "1 amendment.", "2 amendments."),
    ("amendment list", _support, "0 supporters", "1 supporter"),
    ("amendment list", _decision, "status-submitted", "status-rejected"),
    ("amendment list", _amendment_comment, "1 comment<", "2 comments<"),
    ("amendments of a section", _support, "0 supporters", "1 supporter"),
    ("amendment", _support, "0 supporters.", "1 supporter."),
    ("amendment", _decision, "status-submitted", "Not this year, sorry."),
    ("amendment", _amendment_comment, '<span class="count">(1)</span>', "What about storage?"),
    ("amendment", _hidden("amendment"), "Visible remark.", "Off topic here."),
    ("amendment side by side", _decision, "status-submitted", "Not this year, sorry."),
    ("amendment side by side", _new_version, "Written on</dt><dd>version 1", "rebased onto version 2"),
]


@pytest.mark.parametrize("page,write,gone,shown", WRITES,
                         ids=[f"{page}: {write.__name__.strip('_')}" for page, write, _, _ in WRITES])
def test_each_write_the_page_shows_changes_its_validator_and_shows(app, login, world, page, write, gone, shown):
    world.comments = {
        "section": comments.post_comment(world.other, world.document.id, section_id=world.section.id,
                                         body="Visible remark."),
        "amendment": comments.post_comment(world.other, world.document.id, amendment_id=world.amendment.id,
                                           body="Visible remark."),
    }
    visitor, url = _reader(app, login, None), _url(world, page)
    before = _page(visitor, url)
    assert gone in before.get_data(as_text=True) and shown not in before.get_data(as_text=True)
    write(world)
    after = visitor.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    text = after.get_data(as_text=True)
    assert shown in text and gone not in text


def _hidden_amendment(world):
    """The amendment hidden by a moderator: its author and the moderators still read its text."""
    amendments.hide_amendment(world.moderator, world.document.id, world.amendment.id, reason="Spam, sadly.")


@pytest.mark.parametrize("order", [("visitor", "participant", "author", "moderator"),
                                   ("moderator", "author", "participant", "visitor")])
def test_a_role_never_gets_another_roles_page_nor_its_304(app, login, world, order):
    """The hidden amendment's text is the moderators' and its author's; the section's edit form, the moderators'."""
    _hidden_amendment(world)
    readers = {role: _reader(app, login, None if role == "visitor" else getattr(world, role)) for role in order}
    amendment_url, section_url = _url(world, "amendment"), _url(world, "section")
    tags: dict[str, list[str]] = {amendment_url: [], section_url: []}
    for role in order:  # each sends the validator the reader before got: never a 304 across roles
        client = readers[role]
        for url in (amendment_url, section_url):
            sent = {"If-None-Match": tags[url][-1]} if tags[url] else {}
            page = client.get(url, headers=sent)
            if "ETag" not in page.headers:  # the page after logging in carries a flashed message
                page = client.get(url, headers=sent)
            assert page.status_code == 200, (role, url)
            tags[url].append(page.headers["ETag"])
            text = page.get_data(as_text=True)
            if url == amendment_url:
                reads_it = role in ("author", "moderator")
                assert ("More solar panels." in text) is reads_it, role
                assert ("The sun shines." in text) is reads_it, role
                assert "Spam, sadly." in text
            else:
                assert ("Edit this section" in text) is (role == "moderator"), role
    for url, seen in tags.items():
        assert len(set(seen)) == len(seen), url


def test_a_hidden_comment_is_read_by_its_author_and_the_moderators_only(app, login, world):
    remark = comments.post_comment(world.other, world.document.id, section_id=world.section.id,
                                   body="A remark only some may read.", quote="cooperatives and energy")
    moderation.hide_item(world.moderator, world.document.id, "comment", remark.id, reason="Too personal.")
    url = _url(world, "section")
    for person, reads_it in ((None, False), (world.other, True), (world.participant, False), (world.moderator, True),
                             (world.author, False)):
        text = _page(_reader(app, login, person), url).get_data(as_text=True)
        assert ("A remark only some may read." in text) is reads_it, person
        # Its passage is marked in the text for the same readers only.
        assert (f'id="passage-{remark.id}"' in text) is reads_it, person


def test_one_members_own_parts_never_reach_another_member(app, login, world, make_user):
    """Own comment links, own drafts, own support: the first member warms every page, the second sees none of it."""
    mine = comments.post_comment(world.participant, world.document.id, section_id=world.section.id,
                                 body="My own remark.")
    on_amendment = comments.post_comment(world.participant, world.document.id, amendment_id=world.amendment.id,
                                         body="My remark on the amendment.")
    draft = amendments.propose_amendment(world.participant, world.document.id, kind="modify",
                                         section_id=world.section.id, heading=None, body="My secret draft text.",
                                         reason="Mine.", submit=False)
    _support(world)
    first, second = _reader(app, login, world.participant), _reader(app, login, world.other)
    edit_mine = f"/d/doc/comments/{mine.id}/edit"
    edit_on_amendment = f"/d/doc/comments/{on_amendment.id}/edit"
    for page in PAGES:
        url = _url(world, page)
        warm = _page(first, url)
        mine_text, theirs = warm.get_data(as_text=True), _page(second, url)
        assert theirs.headers["ETag"] != warm.headers["ETag"]
        # Even with the first member's validator, the second gets their own page.
        again = second.get(url, headers={"If-None-Match": warm.headers["ETag"]})
        assert again.status_code == 200, page
        for text, own in ((mine_text, True), (theirs.get_data(as_text=True), False),
                          (again.get_data(as_text=True), False)):
            if page.startswith("section") and "lines" not in page:
                assert (edit_mine in text) is own, page
                # The threads everyone else gets (from the cache) let them report it, never edit it.
                assert (f"/d/doc/comments/{mine.id}/report" in text) is not own, page
            if page in ("amendment", "amendment side by side"):
                assert (edit_on_amendment in text) is own, page
                assert ("Withdraw my support" in text) is own, page
                assert ("Support this amendment" in text) is not own, page
            if page.startswith("amendment list") or page.startswith("amendments of"):
                assert ("you support it" in text) is own, page
                if page != "amendments of a section":
                    assert (f"/d/doc/amendments/{draft.id}" in text) is own, page
                    assert ("Your drafts" in text) is own, page


def test_a_moderators_queue_is_her_own(app, login, world, make_user):
    """Her own amendment waits for another moderator: her queue leaves it out, the other moderator's shows it."""
    version = documents.get_section_or_404(world.document, world.section.id).current_version
    own = amendments.propose_amendment(world.moderator, world.document.id, kind="modify",
                                       section_id=world.section.id, heading=None,
                                       body=version.body.replace("democracy", "deliberative democracy"),
                                       reason="Mine.")
    second = make_user("moderator", name="Second Moderator")
    url = _url(world, "amendment list, default")
    hers = _page(_reader(app, login, world.moderator), url).get_data(as_text=True)
    assert f"<strong>{own.code}</strong>" not in hers and "Not listed: your own amendments" in hers
    assert "1 amendment needing a decision." in hers
    theirs = _page(_reader(app, login, second), url).get_data(as_text=True)
    assert f"<strong>{own.code}</strong>" in theirs and "Not listed" not in theirs
    assert "2 amendments needing a decision." in theirs


def test_the_supported_mark_cannot_be_forged_by_what_people_write(app, login, world):
    """The list's "you support it" goes only where the shell puts it: a heading that looks like its place is text."""
    documents.edit_section(world.moderator, world.document.id, world.section.id,
                           heading=f"<!--you-support:{world.amendment.id}-->",
                           body="Paragraph one of section 1, about cooperatives and energy.", reason="Odd.",
                           base_version=1)
    text = _page(_reader(app, login, world.other), _url(world, "amendment list")).get_data(as_text=True)
    assert "you support it" not in text
    assert f"&lt;!--you-support:{world.amendment.id}--&gt;" in text


def _csrf(page: str) -> str:
    """The CSRF token of the first form of a page."""
    return re.search(r'name="csrf_token"[^>]*? value="([^"]+)"', page).group(1)


def _log_in_with_csrf(client, user) -> None:
    """Log in through the real form, token included."""
    token = _csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}) \
        .status_code == 302


@pytest.mark.parametrize("page,action", [
    ("section", "revert"), ("amendment", "support"), ("amendment", "decide")])
def test_forms_carry_the_readers_own_token_after_someone_else_warmed_the_page(make_app, world, make_user, page,
                                                                              action):
    """Two moderators (or members): the second one's form works, with the token of the second one's session."""
    app = make_app(WTF_CSRF_ENABLED=True)
    documents.edit_section(world.moderator, world.document.id, world.section.id, heading="Section 1",
                           body="A second version.", reason="Two.", base_version=1)
    second_moderator = make_user("moderator", name="Second Moderator")
    people = (world.moderator, second_moderator) if action != "support" else (world.other, world.participant)
    url = _url(world, page)
    clients = []
    for person in people:
        client = app.test_client()
        _log_in_with_csrf(client, person)
        clients.append(client)
    warm = _page(clients[0], url).get_data(as_text=True)
    mine = _page(clients[1], url).get_data(as_text=True)
    assert _csrf(mine) != _csrf(warm)
    if action == "revert":
        response = clients[1].post(f"/d/doc/sections/{world.section.id}/revert", data={
            "csrf_token": _csrf(mine.split("Revert to version 1")[1]), "to_number": "1", "base_version": "2",
            "reason": "Back to one."})
        assert response.status_code == 302
        assert "Version 3 restores" in clients[1].get(response.headers["Location"]).get_data(as_text=True)
    elif action == "support":
        form = mine.split('action="/d/doc/amendments/%d/support"' % world.amendment.id)[1]
        response = clients[1].post(f"/d/doc/amendments/{world.amendment.id}/support",
                                   data={"csrf_token": _csrf(form), "action": "support"})
        assert response.status_code == 302
        assert "Withdraw my support" in clients[1].get(url).get_data(as_text=True)
    else:
        form = mine.split('id="decide"')[1]
        response = clients[1].post(f"/d/doc/amendments/{world.amendment.id}/decide", data={
            "csrf_token": _csrf(form), "decision": "reject", "reason": "No.",
            "revision": re.search(r'name="revision"[^>]*? value="(\d+)"', form).group(1)})
        assert response.status_code == 302
        assert "The decision is recorded." in clients[1].get(url).get_data(as_text=True)


def test_a_refused_decision_keeps_the_moderators_text_on_a_page_nobody_else_gets(app, login, world):
    """A decision refused as stale renders the page with the kept text: never cached, never a validator."""
    moderator = _reader(app, login, world.moderator)
    url = _url(world, "amendment")
    _page(moderator, url)
    response = moderator.post(f"{url}/decide", data={"decision": "reject", "reason": "My careful reasoning.",
                                                     "revision": "99"})
    assert response.status_code == 409
    assert "My careful reasoning." in response.get_data(as_text=True) and "ETag" not in response.headers
    visitor = _page(_reader(app, login, None), url).get_data(as_text=True)
    assert "My careful reasoning." not in visitor


@pytest.mark.parametrize("page", [*PAGES, "/d/doc/?lines=1"])
def test_a_visitors_whole_page_is_rendered_once_and_then_served_as_it_was(app, world, page):
    from flask import template_rendered

    url = _url(world, page) if page in PAGES else page
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    first = app.test_client().get(url)
    assert first.status_code == 200 and rendered
    rendered.clear()
    again = app.test_client().get(url)  # another visitor, no cookie
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    assert rendered == [] and "Set-Cookie" not in again.headers
    _decision(world)
    after = app.test_client().get(url)
    assert after.headers["ETag"] != first.headers["ETag"] and rendered  # a write: rendered again


def test_a_visitors_page_that_gives_them_a_session_is_never_served_to_another(app, world):
    from flask_wtf.csrf import generate_csrf

    from manifesto.documents import serving

    def page():
        return serving.serve(world.document, "probe", body=lambda: "<p>body</p>",
                             shell=lambda body: f"<html>{body}<input value='{generate_csrf()}'></html>")

    app.add_url_rule("/probe-token", "probe_token", page)
    one, two = app.test_client().get("/probe-token"), app.test_client().get("/probe-token")
    token = re.compile(r"value='([^']+)'")
    assert token.search(one.get_data(as_text=True))[1] != token.search(two.get_data(as_text=True))[1]
    assert "Set-Cookie" in one.headers and "Set-Cookie" in two.headers
    assert one.headers["Cache-Control"].startswith("private")


# (page, a write elsewhere that the page does not show): the page is not rendered again for it
UNSHOWN = [
    ("reading page", _support),
    ("reading page", _amendment_comment),
    ("section", _support),
    ("section", _amendment_comment),
    ("amendment", _section_comment),
]


@pytest.mark.parametrize("page,write", UNSHOWN, ids=[f"{page}: {write.__name__.strip('_')}" for page, write in UNSHOWN])
def test_a_write_on_another_part_leaves_the_page_and_its_validator_as_they_were(app, world, page, write):
    visitor, url = app.test_client(), _url(world, page)
    before = _page(visitor, url)
    write(world)
    again = visitor.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 304


def test_a_support_on_one_amendment_leaves_the_other_amendments_of_its_section_as_they_were(app, world):
    other = _proposal(world)
    visitor, url = app.test_client(), _url(world, "amendment")
    before = _page(visitor, url)
    amendments.support_amendment(world.participant, world.document.id, other.id)
    assert visitor.get(url, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("url", ["/d/doc/", "/d/doc/?lines=1"])
def test_a_section_comment_changes_the_reading_pages_count_without_rendering_its_text(app, world, url):
    from flask import template_rendered

    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    first = app.test_client().get(url).get_data(as_text=True)
    assert "documents/_read_body.html" in rendered and '0 comments<span class="visually-hidden"> on §1' in first
    rendered.clear()
    _section_comment(world)
    after = app.test_client().get(url).get_data(as_text=True)
    assert '1 comment<span class="visually-hidden"> on §1' in after
    assert "documents/_read_body.html" not in rendered  # the text was kept; only the counts were filled in
    _decision(world)  # the amendment's rejection changes the text part (its open amendments)
    again = app.test_client().get(url).get_data(as_text=True)
    assert "documents/_read_body.html" in rendered and '1 comment<span class="visually-hidden"> on §1' in again


def test_the_comment_count_marks_cannot_be_forged_by_what_people_write(app, world):
    forged = f"<!--comment-count:{world.section.id}:1-->"
    documents.edit_section(world.admin, world.document.id, world.section.id, heading="Forged",
                           body=f"Text {forged} and more.\n\n`{forged}`", reason="Testing.", base_version=1)
    for url in ("/d/doc/", "/d/doc/?lines=1"):
        page = app.test_client().get(url).get_data(as_text=True)
        assert page.count(f'href="/d/doc/sections/{world.section.id}#comments"') == 1, url
        assert "<!--comment-count" not in page
