"""The six journeys of issue #9, walked in Chromium the way people do: by labels and roles, never by CSS ids."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e_helpers import PASSWORD, log_in, make_world, propose, screenshot

PURPOSE = ("We write this manifesto together, in the open.\n\n"
           "Cooperatives and mutuals keep the value they create in the territories that create it.")
MEANS = "By many hands, with patience and with care for every voice."


def test_newcomer_registers_reads_and_proposes_an_amendment(page, live_server):
    """Journey 1: register, read with line numbers, propose, preview the diff, submit, find it in the list."""
    make_world(live_server, slug="one", sections=[("Purpose", PURPOSE), ("Means", MEANS)],
               people={"admin": "admin"})
    page.goto("/register")
    page.get_by_label("Email address").fill("newcomer@example.org")
    page.get_by_label("Display name").fill("Nadia Newcomer")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    page.goto("/d/one/")
    expect(page.get_by_role("heading", name="The one manifesto", level=1)).to_be_visible()
    page.get_by_role("link", name="Show line numbers").click()
    expect(page).to_have_url(re.compile(r"lines=1"))
    purpose = page.get_by_role("region", name="§1 Purpose")
    # Line numbers now stand in the margin of the text, one per line.
    expect(purpose).to_contain_text("1")
    expect(page.get_by_role("link", name="Hide line numbers")).to_be_visible()

    page.get_by_role("link", name="Propose an amendment to §1").click()
    page.get_by_role("button", name="Start from its current text").click() if page.get_by_role(
        "button", name="Start from its current text").count() else None
    text = page.get_by_label("Text (Markdown)")
    expect(text).to_have_value(re.compile("in the open"))
    text.fill(PURPOSE.replace("in the open", "in the open, in three languages"))
    page.get_by_label("Reason").fill("The forum works in English, French and Spanish.")
    page.get_by_role("button", name="Preview changes").click()
    preview = page.get_by_role("region", name="Preview of your changes")
    expect(preview.get_by_role("insertion").filter(has_text="in three languages")).to_be_visible()
    # The preview keeps what was typed.
    expect(page.get_by_label("Reason")).to_have_value("The forum works in English, French and Spanish.")
    screenshot(page, "amendment-preview-1280")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("status")).to_contain_text("A-001 is submitted")

    page.get_by_role("navigation", name="Document").get_by_role("link", name="Amendments").click()
    row = page.get_by_role("listitem").filter(has_text="A-001")
    expect(row).to_contain_text("Nadia Newcomer")
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("A-001")
    expect(page.get_by_role("insertion").filter(has_text="in three languages")).to_be_visible()
