"""Live regions in Chromium (static/live.js): a page follows the room without a reload, focus and scroll stay put.

The live server is one process (the in-process broker): a change made through a service in the test reaches
the page's stream as a change made by another delegate would.
"""

from __future__ import annotations

from e2e_helpers import Who, call, expect, log_in, make_world, propose

TEXT = "Cooperatives keep the value they create in the territories that create it. " * 12


def test_a_delegates_amendment_page_follows_supports_and_the_decision(new_page, live_server):
    """Supports and the decision appear on an open page within seconds; focus, scroll and the page stay."""
    from manifesto.amendments import services as amendments

    people, sections = make_world(live_server, slug="delegates", sections=[("Purpose", TEXT)],
                                  people={"admin": "admin", "ann": "participant", "bob": "participant",
                                          "mod": "moderator"})
    amendment_id, code = propose(live_server, people["ann"][0], "delegates", sections[0], find="the value",
                                 replace="all the value")
    page = new_page(width=800, height=500)
    log_in(page, people["bob"][1])
    page.goto(f"/d/delegates/amendments/{amendment_id}")
    page.wait_for_load_state("load")
    page.evaluate("() => { window.stillHere = true; }")  # gone if the page reloads
    supporters = page.locator('[data-live-part="supporters"]')
    expect(supporters).to_contain_text("0 supporters.")
    # The reader is further down the page, with focus on the support button.
    button = page.get_by_role("button", name="Support this amendment")
    button.focus()
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    seen = "() => document.querySelector('#history').getBoundingClientRect().top"  # where the reader looks
    assert page.evaluate("() => document.querySelector('[data-live-part=supporters]').getBoundingClientRect()"
                         ".bottom < 0"), "the region is above what the reader sees"
    before = page.evaluate(seen)

    call(live_server, amendments.support_amendment, Who(people["mod"][0]), _document_id(live_server, "delegates"),
         amendment_id)
    expect(supporters).to_contain_text("1 supporter.", timeout=5_000)
    expect(page.locator("[data-live-announcer]")).to_have_text("1 supporter.")
    expect(button).to_be_focused()
    assert abs(page.evaluate(seen) - before) < 2  # the region grew above: what the reader sees stayed (sub-pixel)

    call(live_server, amendments.decide_amendment, Who(people["mod"][0]), _document_id(live_server, "delegates"),
         amendment_id, decision="reject", reason="Not in this text.", revision=1)
    expect(page.locator('[data-live-part="decision"]')).to_contain_text("Not in this text.", timeout=5_000)
    expect(page.locator('[data-live-part="status"]')).to_contain_text("Rejected")
    expect(page.locator("[data-live-announcer]")).to_contain_text(f"{code}: Rejected.")
    assert page.evaluate("() => window.stillHere === true")


def test_focus_inside_a_region_stays_on_the_same_link_when_the_region_changes(new_page, live_server):
    """A moderator on the "Open a vote" link: another moderator opens a vote; the list grows, focus stays put."""
    from manifesto.plenary import votes

    people, sections = make_world(live_server, slug="focus", sections=[("Purpose", TEXT)],
                                  people={"admin": "admin", "ann": "participant", "mod": "moderator",
                                          "other": "moderator"})
    amendment_id, _code = propose(live_server, people["ann"][0], "focus", sections[0], find="the value",
                                  replace="all the value")
    page = new_page()
    log_in(page, people["mod"][1])
    page.goto(f"/d/focus/amendments/{amendment_id}")
    page.wait_for_load_state("load")
    region = page.locator('[data-live-part="votes"]')
    link = region.get_by_role("link", name="Open a vote")
    link.focus()
    call(live_server, votes.open_vote, Who(people["other"][0]), _document_id(live_server, "focus"), amendment_id,
         question="Do we adopt it?", secret=False, majority="simple", abstentions_count=False)
    expect(region.get_by_role("link", name="Do we adopt it?")).to_be_visible(timeout=5_000)
    expect(region.get_by_role("link", name="Open a vote")).to_be_focused()


def test_without_a_stream_the_page_polls(new_page, live_server):
    """A browser without EventSource still sees the change, by asking every few seconds."""
    from manifesto.amendments import services as amendments

    people, sections = make_world(live_server, slug="polling", sections=[("Purpose", TEXT)],
                                  people={"admin": "admin", "ann": "participant", "mod": "moderator"})
    amendment_id, _code = propose(live_server, people["ann"][0], "polling", sections[0], find="the value",
                                  replace="all the value")
    page = new_page()
    page.add_init_script("delete window.EventSource;")
    page.goto(f"/d/polling/amendments/{amendment_id}")
    page.wait_for_load_state("load")
    call(live_server, amendments.support_amendment, Who(people["mod"][0]), _document_id(live_server, "polling"),
         amendment_id)
    expect(page.locator('[data-live-part="supporters"]')).to_contain_text("1 supporter.", timeout=12_000)


def _document_id(live_server, slug: str) -> int:
    """The id of the document at ``slug``."""
    from manifesto.documents.models import Document
    from manifesto.extensions import db

    with live_server.context():
        return db.session.query(Document).filter_by(slug=slug).one().id
