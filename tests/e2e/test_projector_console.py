"""The projector in the room follows the moderator's console live: a section, the next amendment, the decision,
the vote on the whole text and its turnout.

The console is used without any script of its own (plain forms); the projector's live region takes each change
without a reload, says it to screen readers, and passes axe at desktop and phone width.
"""

from e2e_helpers import (PASSWORD, Who, axe_violations, call, describe, expect, log_in, make_world, propose,
                         screenshot)


def test_the_projector_follows_the_console(live_server, new_page):
    people, sections = make_world(
        live_server, slug="room", people={"admin": "admin", "mod": "moderator", "ann": "participant"},
        sections=[("Energy", "We want cooperatives and energy for all.\n\nMore text here about democracy at work."),
                  ("Work", "Democracy at work matters.")])
    first = propose(live_server, people["ann"][0], "room", sections[0], find="cooperatives",
                    replace="worker cooperatives")
    second = propose(live_server, people["ann"][0], "room", sections[0], find="democracy at work",
                     replace="democracy everywhere")
    screen = new_page()
    screen.goto("/d/room/projector")
    expect(screen.locator("h1")).to_contain_text("The room manifesto")
    console = new_page()
    log_in(console, people["mod"][1], PASSWORD)
    console.goto("/d/room/console")
    console.get_by_label("Section", exact=True).select_option(str(sections[0]))
    console.get_by_role("button", name="Show this section").click()
    expect(screen.locator("h1")).to_contain_text("Energy")
    expect(screen.locator("[data-live-announcer]")).to_contain_text("Now showing §1 Energy")
    console.get_by_role("button", name="Next open amendment →").click()
    expect(screen.locator("h1")).to_contain_text(first[1])
    assert not axe_violations(screen), describe(axe_violations(screen))
    console.get_by_label("Decision", exact=True).select_option("reject")
    console.get_by_label("Public reason").fill("The room prefers the current text.")
    console.get_by_role("button", name="Record the decision").click()
    expect(screen.locator(".screen-decision")).to_contain_text("The room prefers the current text.")
    expect(screen.locator("[data-live-announcer]")).to_contain_text(f"{first[1]}: Rejected")
    expect(console.locator(".projector-preview")).to_contain_text("The room prefers the current text.")
    assert not axe_violations(console), describe(axe_violations(console))
    console.get_by_role("button", name="Next open amendment →").click()
    expect(screen.locator("h1")).to_contain_text(second[1])
    screen.set_viewport_size({"width": 360, "height": 700})
    assert screen.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
    assert not axe_violations(screen), describe(axe_violations(screen))
    screenshot(screen, "projector-live-360")

    # The final vote: on the whole text, shown alone, its turnout following the ballots.
    from manifesto.documents import services as documents
    from manifesto.plenary import votes

    def open_final(moderator):
        document = documents.get_document_or_404("room")
        return votes.open_vote(moderator, document.id, None, question="Do we adopt the manifesto?", secret=True,
                               majority="two_thirds", abstentions_count=False).id

    vote_id = call(live_server, open_final, Who(people["mod"][0]))
    console.goto("/d/room/console")
    console.get_by_label("Vote on the whole text").select_option(str(vote_id))
    console.get_by_role("button", name="Show this vote").click()
    expect(screen.locator("h1")).to_contain_text("The vote on the whole text")
    expect(screen.locator(".screen-question")).to_contain_text("Do we adopt the manifesto?")
    expect(screen.locator(".screen-turnout")).to_contain_text("0 have voted")
    call(live_server, lambda voter: votes.cast_vote(voter, vote_id, "yes") and None, Who(people["ann"][0]))
    expect(screen.locator(".screen-turnout")).to_contain_text("1 has voted")
    assert not axe_violations(screen), describe(axe_violations(screen))
