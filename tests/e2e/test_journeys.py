"""The six journeys of issue #9, walked in Chromium the way people do: by labels and roles, never by CSS ids."""

from __future__ import annotations

import re

import pytest

from e2e_helpers import PASSWORD, expect, log_in, make_world, propose, screenshot

from manifesto.accounts import services, tokens

PURPOSE = ("We write this manifesto together, in the open.\n\n"
           "Cooperatives and mutuals keep the value they create in the territories that create it.")
MEANS = "By many hands, with patience and with care for every voice."


def verification_link(live_server, email: str) -> str:
    """The address-verification link the mail of a new account carries."""
    with live_server.app.app_context():
        return f"/account/verify/{tokens.make_token(services.get_user_by_email(email), tokens.VERIFICATION)}"


# Journeys 1 and 2 run twice: as most people browse, and with JavaScript off (every page must work without it).
SCRIPTING = pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])


@SCRIPTING
def test_newcomer_registers_reads_and_proposes_an_amendment(new_page, live_server, java_script):
    """Journey 1: register, read with line numbers, propose, preview the diff, submit, find it in the list."""
    slug = "one" if java_script else "one-nojs"
    make_world(live_server, slug=slug, sections=[("Purpose", PURPOSE), ("Means", MEANS)],
               people={"admin": "admin"})
    page = new_page(java_script=java_script)
    page.goto("/register")
    page.get_by_label("Email address").fill(f"newcomer-{slug}@example.org")
    page.get_by_label("Display name").fill("Nadia Newcomer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    # Reading is open at once; taking part waits for the link we mail (here the mail goes to the log, so the
    # test makes the same link), which shows a button that confirms the address.
    expect(page.get_by_role("button", name="Send the link again")).to_be_visible()
    page.goto(verification_link(live_server, f"newcomer-{slug}@example.org"))
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("is confirmed")).to_be_visible()

    page.goto(f"/d/{slug}/")
    expect(page.get_by_role("heading", name=f"The {slug} manifesto", level=1)).to_be_visible()
    page.get_by_role("link", name="Show line numbers").click()
    expect(page).to_have_url(re.compile(r"lines=1"))
    purpose = page.get_by_role("region", name="§1 Purpose")
    # Line numbers now stand in the margin of the text, one per line.
    expect(purpose).to_contain_text("1")
    expect(page.get_by_role("link", name="Hide line numbers")).to_be_visible()

    page.get_by_role("link", name="Propose an amendment to §1").click()
    text = page.get_by_label("Text (Markdown)")
    expect(text).to_have_value(re.compile("in the open"))
    text.fill(PURPOSE.replace("in the open", "in the open, in three languages"))
    page.get_by_label("Reason").fill("The forum works in English, French and Spanish.")
    page.get_by_role("button", name="Preview changes").click()
    preview = page.get_by_role("region", name="Preview of your changes")
    expect(preview.get_by_role("insertion").filter(has_text="in three languages")).to_be_visible()
    # The preview keeps what was typed.
    expect(page.get_by_label("Reason")).to_have_value("The forum works in English, French and Spanish.")
    if java_script:
        screenshot(page, "amendment-preview-1280")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("A-001 is submitted")

    page.get_by_role("navigation", name="Document").get_by_role("link", name="Amendments").click()
    row = page.get_by_role("listitem").filter(has_text="A-001")
    expect(row).to_contain_text("Nadia Newcomer")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("A-001")
    expect(page.get_by_role("insertion").filter(has_text="in three languages")).to_be_visible()


@SCRIPTING
def test_second_participant_supports_and_comments_on_a_passage(new_page, live_server, java_script):
    """Journey 2: support someone's amendment, then comment on a passage chosen with the keyboard."""
    slug = "two" if java_script else "two-nojs"
    people, sections = make_world(live_server, slug=slug, sections=[("Purpose", PURPOSE), ("Means", MEANS)],
                                  people={"admin": "admin", "ann": "participant", "bob": "participant"})
    _, code = propose(live_server, people["ann"][0], slug, sections[0], find="in the open",
                      replace="in the open, in three languages")
    page = new_page(java_script=java_script)
    log_in(page, people["bob"][1])
    page.goto(f"/d/{slug}/amendments/")
    code_link(page, code).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    expect(page.get_by_text("0 supporters")).to_be_visible()
    page.get_by_role("button", name="Support this amendment").click()
    expect(page.get_by_text("1 supporter", exact=False).first).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw my support")).to_be_visible()

    page.goto(f"/d/{slug}/")
    page.get_by_role("link", name="0 comments on §1").click()
    expect(page).to_have_url(re.compile(r"/sections/\d+"))
    passage = page.get_by_label("Passage you are commenting on (optional)")
    expect(passage).to_be_visible()
    page.wait_for_load_state("load")  # passage.js is deferred: it must be listening before she selects
    if java_script:
        # With JavaScript: she selects the words with the mouse and takes the button that appears.
        _drag_select(page, "keep the value they create")
        page.get_by_role("button", name=re.compile("^Comment on the selected words")).click()
        expect(passage).to_have_value("keep the value they create")
        page.get_by_label("Your comment").focus()
    else:
        # Without: the keyboard path, the words typed into the passage's labelled field.
        passage.focus()
        page.keyboard.type("keep the value they create")
        page.keyboard.press("Tab")
    page.keyboard.type("Which territories? Name the regions.")
    expect(page.get_by_label("Your comment")).to_have_value("Which territories? Name the regions.")
    page.get_by_role("button", name="Post the comment").click()
    comments = page.get_by_role("region", name=re.compile(r"Comments \(1\)"))
    expect(comments).to_contain_text("keep the value they create")
    expect(comments).to_contain_text("Which territories? Name the regions.")
    expect(comments).to_contain_text(f"Bob {slug.capitalize()}")


def test_moderator_decides_with_a_modification_and_publishes_a_release(new_page, live_server):
    """Journey 3: filter what needs a decision, accept with a modification, see the collision conflict, release."""
    from manifesto.amendments import services as amendments

    from e2e_helpers import Who, call

    people, sections = make_world(live_server, slug="three", sections=[("Purpose", PURPOSE), ("Means", MEANS)],
                                  people={"admin": "admin", "mod": "moderator", "ann": "participant",
                                          "bob": "participant", "cy": "participant"}, min_supporters=1)
    ann_id, ann_code = propose(live_server, people["ann"][0], "three", sections[0], find="in the open",
                               replace="in the open, in three languages")
    bob_id, bob_code = propose(live_server, people["bob"][0], "three", sections[0], find="in the open",
                               replace="openly")
    _, lone_code = propose(live_server, people["cy"][0], "three", sections[1], find="patience", replace="time")
    document_id = _document_id(live_server, "three")
    call(live_server, amendments.support_amendment, Who(people["bob"][0]), document_id, ann_id)
    call(live_server, amendments.support_amendment, Who(people["cy"][0]), document_id, bob_id)

    page = new_page()
    log_in(page, people["mod"][1])
    page.goto("/d/three/amendments/")
    page.get_by_label("Needs a decision").check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("2 amendments")
    expect(code_link(page, ann_code)).to_be_visible()
    expect(code_link(page, bob_code)).to_be_visible()
    # Without a supporter, the third does not need a decision yet.
    expect(page.get_by_role("main").get_by_role("link", name=re.compile(rf"^{lone_code}\b"))).to_have_count(0)
    screenshot(page, "amendments-needing-a-decision-1280")

    code_link(page, ann_code).click()
    page.get_by_label("Accept with modifications (edit the final text below)").check()
    page.get_by_label("Public reason").fill("Adopted; the committee prefers “in our three languages”.")
    page.get_by_text("Final text, for “accept with modifications”").click()
    final = page.get_by_label("Final text (for accept with modifications)")
    expect(final).to_have_value(re.compile("in three languages"))
    final.fill(final.input_value().replace("in three languages", "in our three languages"))
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Accepted with modifications")

    page.goto("/d/three/")
    expect(page.get_by_role("region", name="§1 Purpose")).to_contain_text("in the open, in our three languages")

    page.goto("/d/three/amendments/")
    page.get_by_role("link", name="1 conflicted").click()
    expect(page.get_by_role("status")).to_contain_text("1 amendment")
    code_link(page, bob_code).click()
    expect(page.locator("main")).to_contain_text("onflict")

    page.get_by_role("link", name="Publish a release").click()
    page.get_by_label("Name").fill("Draft 2 — after the first decisions")
    page.get_by_label("Description (Markdown, optional)").fill("The text after the committee's first decisions.")
    page.get_by_role("button", name="Publish the release").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft 2 — after the first decisions")
    expect(page.locator("main")).to_contain_text("in the open, in our three languages")
    screenshot(page, "release-1280")


def _drag_select(page, words: str) -> None:
    """Select words of the main text with the mouse, from the first letter to the last, as a person does."""
    box = page.evaluate("""(words) => {
        const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
        let node;
        while ((node = walker.nextNode())) {
            const at = node.data.indexOf(words);
            if (at < 0 || node.parentElement.closest('form, textarea')) continue;
            node.parentElement.scrollIntoView({block: 'center', behavior: 'instant'});
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + words.length);
            const rects = [...range.getClientRects()];
            const first = rects[0], last = rects[rects.length - 1];
            return {x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1,
                    y2: last.top + last.height / 2};
        }
        return null;
    }""", words)
    assert box, f"“{words}” is not in the page's text"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()


def code_link(page, code: str):
    """The first link to an amendment whose name starts with its code (A-001), wherever the row puts it."""
    return page.get_by_role("main").get_by_role("link", name=re.compile(rf"^{code}\b")).first


def _document_id(live_server, slug: str) -> int:
    """The id of a document, by slug."""
    from manifesto.documents.models import Document
    from manifesto.extensions import db

    with live_server.context():
        return db.session.query(Document).filter_by(slug=slug).one().id


def _conflicted_world(live_server, slug: str) -> tuple[dict, list[int], str]:
    """Two colliding amendments; a moderator accepts Ann's with a change, so Bob's becomes conflicted. Return Bob's code."""
    from manifesto.amendments import services as amendments
    from manifesto.amendments.models import Amendment
    from manifesto.extensions import db

    from e2e_helpers import Who, call

    people, sections = make_world(live_server, slug=slug, sections=[("Purpose", PURPOSE), ("Means", MEANS)],
                                  people={"admin": "admin", "mod": "moderator", "ann": "participant",
                                          "bob": "participant"})
    ann_id, _ = propose(live_server, people["ann"][0], slug, sections[0], find="in the open",
                        replace="in the open, in three languages")
    _, bob_code = propose(live_server, people["bob"][0], slug, sections[0], find="in the open", replace="openly")
    with live_server.context():
        revision = db.session.get(Amendment, ann_id).revision
    call(live_server, amendments.decide_amendment, Who(people["mod"][0]), _document_id(live_server, slug), ann_id,
         decision="accept", reason="Adopted.", revision=revision)
    return people, sections, bob_code


def test_author_hears_of_the_conflict_and_resolves_it(new_page, live_server):
    """Journey 5: the notification leads the author to the conflict, which an edit resolves."""
    people, _, bob_code = _conflicted_world(live_server, "five")
    page = new_page()
    log_in(page, people["bob"][1])
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    notification = page.get_by_role("link", name=re.compile(f"{bob_code}.*conflict|conflict.*{bob_code}"))
    expect(notification).to_be_visible()
    notification.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(bob_code)
    expect(page.get_by_role("heading", name="Conflict with the current text")).to_be_visible()
    screenshot(page, "conflicted-amendment-1280")
    page.get_by_role("link", name="Resolve the conflict").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Resolve the conflict of {bob_code}")
    # The three texts are labelled: what both changed, what the amendment makes it, what the new version made it.
    for heading in ("Text both changed", "This amendment makes it", "Version 2 made it"):
        expect(page.get_by_role("columnheader", name=heading).first).to_be_visible()
    text = page.get_by_label("Text (Markdown)")
    text.fill(PURPOSE.replace("in the open", "openly, in three languages"))
    page.get_by_label("Reason").fill("Rebased on version 2: openly, and in three languages.")
    page.get_by_role("button", name=re.compile("^(Submit|Save)")).first.click()
    expect(page.get_by_role("status")).to_contain_text(f"{bob_code} is saved")
    expect(page.get_by_role("heading", name="Conflict with the current text")).to_have_count(0)
    expect(page.get_by_role("insertion").filter(has_text="openly")).to_be_visible()


def test_reader_downloads_the_pdf_and_the_docx(page, live_server):
    """Journey 4: a reader, logged out, downloads the PDF and the Word file from the document's page."""
    make_world(live_server, slug="four", sections=[("Purpose", PURPOSE), ("Means", MEANS)],
               people={"admin": "admin"})
    page.goto("/d/four/")
    downloads = page.get_by_role("region", name="Download the text")
    for name, suffix, magic in (("PDF", ".pdf", b"%PDF"), ("Word (DOCX)", ".docx", b"PK")):
        with page.expect_download() as info:
            downloads.get_by_role("link", name=name, exact=True).click()
        download = info.value
        assert download.failure() is None
        assert download.suggested_filename.startswith("four"), download.suggested_filename
        assert download.suggested_filename.endswith(suffix), download.suggested_filename
        with open(download.path(), "rb") as file:
            assert file.read(len(magic)) == magic


def test_expired_session_keeps_what_was_typed(page, live_server):
    """Journey 6: the session ends while someone writes; after logging in again nothing typed is lost."""
    people, _ = make_world(live_server, slug="six", sections=[("Purpose", PURPOSE)],
                           people={"admin": "admin", "ann": "participant"})
    log_in(page, people["ann"][1])
    page.goto("/d/six/")
    page.get_by_role("link", name="Propose an amendment to §1").click()
    typed = PURPOSE.replace("in the open", "in the open, with every delegate")
    page.get_by_label("Text (Markdown)").fill(typed)
    page.get_by_label("Reason").fill("Nobody is left out.")
    editor_font = page.get_by_label("Text (Markdown)").evaluate("e => getComputedStyle(e).fontFamily")
    page.context.clear_cookies()  # the session expires while she writes
    page.get_by_role("button", name="Submit").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("again")
    screenshot(page, "send-again-1280")
    # Everything she typed is still on the page, in the same form she was writing in: the same labels,
    # a one-line heading, the editor's font.
    expect(page.get_by_label("Text (Markdown)")).to_have_value(typed)
    expect(page.get_by_label("Reason")).to_have_value("Nobody is left out.")
    expect(page.get_by_label("Heading")).to_have_value("Purpose")
    assert page.get_by_label("Heading").evaluate("e => e.tagName") == "INPUT"
    assert page.get_by_label("Text (Markdown)").evaluate("e => getComputedStyle(e).fontFamily") == editor_font
    # She logs in again in a new tab, comes back and sends: the amendment is submitted as she wrote it.
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Log in in a new tab").click()
    login_tab = opened.value
    login_tab.get_by_label("Email address").fill(people["ann"][1])
    login_tab.get_by_label("Password").fill(PASSWORD)
    login_tab.get_by_role("button", name="Log in").click()
    expect(login_tab.get_by_role("button", name="Log out")).to_be_visible()
    login_tab.close()
    page.get_by_role("button", name="Send again").click()
    expect(page.get_by_role("status")).to_contain_text("A-001 is submitted")
    expect(page.get_by_role("insertion").filter(has_text="with every delegate")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Nobody is left out.")
