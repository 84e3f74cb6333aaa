"""What JavaScript adds, in Chromium: a preview that follows the text, and support without a reload.

Each page also works without JavaScript (journeys 1 and 2 run with it off);
these tests check that the script adds what it promises and nothing breaks.
"""

from __future__ import annotations

import re

from e2e_helpers import expect, log_in, make_world, propose

TEXT = "Cooperatives keep the value they create in the territories that create it."


def test_the_preview_follows_the_text_while_typing(new_page, live_server):
    """Typing in the editor updates the diff preview after a pause, without pressing "Preview changes"."""
    people, sections = make_world(live_server, slug="typing", sections=[("Purpose", TEXT)],
                                  people={"admin": "admin", "ann": "participant"})
    page = new_page()
    log_in(page, people["ann"][1])
    page.goto(f"/d/typing/amendments/new?section={sections[0]}")
    page.wait_for_load_state("load")  # enhance.js is deferred
    text = page.get_by_label("Text (Markdown)")
    text.fill(TEXT.replace("the value", "all the value"))
    preview = page.get_by_role("region", name="Preview of your changes")
    expect(preview.get_by_role("insertion").filter(has_text="all")).to_be_visible()
    text.press("End")
    page.keyboard.type(" And share it.")
    expect(preview.get_by_role("insertion").filter(has_text="And share it.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/amendments/new"))  # nothing was submitted
    page.get_by_label("Reason").fill("Stronger.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("A-001 is submitted")


def test_support_is_given_and_withdrawn_without_a_reload(new_page, live_server):
    """The support button updates the count and turns into "Withdraw my support" on the same page."""
    people, sections = make_world(live_server, slug="inplace", sections=[("Purpose", TEXT)],
                                  people={"admin": "admin", "ann": "participant", "bob": "participant"})
    amendment_id, code = propose(live_server, people["ann"][0], "inplace", sections[0], find="the value",
                                 replace="all the value")
    page = new_page()
    log_in(page, people["bob"][1])
    page.goto(f"/d/inplace/amendments/{amendment_id}")
    page.wait_for_load_state("load")
    page.evaluate("() => { window.stillHere = true; }")  # gone if the page reloads
    page.get_by_role("button", name="Support this amendment").click()
    expect(page.get_by_text("1 supporter.", exact=True)).to_be_visible()
    withdraw = page.get_by_role("button", name="Withdraw my support")
    expect(withdraw).to_be_focused()
    withdraw.click()
    expect(page.get_by_text("0 supporters.", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Support this amendment")).to_be_visible()
    assert page.evaluate("() => window.stillHere === true")
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)


def test_the_time_zone_setting_offers_this_devices_zone(new_page, live_server):
    """On a phone in Geneva, one tap picks Europe/Zurich; saved, every time on the site moves there."""
    people, _sections = make_world(live_server, slug="zones", sections=[("Purpose", TEXT)],
                                   people={"admin": "admin", "ann": "participant"})
    page = new_page(timezone_id="Europe/Zurich")
    log_in(page, people["ann"][1])
    page.goto("/account/password")
    page.wait_for_load_state("load")  # enhance.js is deferred
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("UTC")
    page.get_by_role("button", name="Use this device’s time zone: Europe/Zurich").click()
    expect(zone).to_have_value("Europe/Zurich")
    expect(zone).to_be_focused()
    page.get_by_role("button", name="Save my preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Your preferences are saved.")
    expect(page.locator("footer")).to_contain_text("Times are shown in Europe/Zurich.")
    # Without the script, or with the zone already chosen, no button is offered.
    page.goto("/account/password")
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name=re.compile("Use this device"))).to_have_count(0)
