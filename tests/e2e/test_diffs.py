"""Diffs in Chromium: meaning without colour, and a visible gap between a deleted word and the word inserted for it."""

from __future__ import annotations

import pytest

from e2e_helpers import expect, make_world, propose


@pytest.fixture(scope="module")
def replaced(live_server):
    """An amendment that replaces one word with another; its path."""
    people, sections = make_world(live_server, slug="diffs", sections=[
        ("Means", "By many hands, with patience and with care for every voice.")],
        people={"admin": "admin", "ann": "participant"})
    amendment_id, _ = propose(live_server, people["ann"][0], "diffs", sections[0], find="patience",
                              replace="courage")
    return f"/d/diffs/amendments/{amendment_id}"


@pytest.mark.parametrize("view", ["inline", "side"])
def test_changes_read_without_colour(page, replaced, view):
    """Deleted words are struck through and inserted ones underlined, and both say so to screen readers."""
    page.goto(replaced + ("?view=side" if view == "side" else ""))
    deleted = page.get_by_role("main").get_by_role("deletion").filter(has_text="patience").first
    inserted = page.get_by_role("main").get_by_role("insertion").filter(has_text="courage").first
    expect(deleted).to_be_visible()
    expect(inserted).to_be_visible()
    assert "line-through" in deleted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "underline" in inserted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert deleted.inner_text().strip().startswith("deleted"), deleted.inner_text()
    assert inserted.inner_text().strip().startswith("inserted"), inserted.inner_text()


def test_a_replaced_word_does_not_run_into_its_replacement(page, replaced):
    """Inline, “patience” struck through and “courage” underlined stand apart, as two words."""
    page.goto(replaced)
    deleted = page.get_by_role("main").get_by_role("deletion").filter(has_text="patience").first
    inserted = page.get_by_role("main").get_by_role("insertion").filter(has_text="courage").first
    gap = page.evaluate("([d, i]) => i.getBoundingClientRect().left - d.getBoundingClientRect().right",
                        [deleted.element_handle(), inserted.element_handle()])
    assert gap >= 2, f"deleted and inserted words touch (gap {gap} px)"


def test_the_gap_check_catches_words_run_together(page, replaced):
    """Remove what separates the two words, and the check sees them touch."""
    page.goto(replaced)
    deleted = page.get_by_role("main").get_by_role("deletion").filter(has_text="patience").first
    inserted = page.get_by_role("main").get_by_role("insertion").filter(has_text="courage").first
    gap = page.evaluate("""([d, i]) => {
        while (d.nextSibling && d.nextSibling !== i) d.nextSibling.remove();
        d.style.setProperty('margin-right', '0'); i.style.setProperty('margin-left', '0');
        d.style.setProperty('padding-right', '0'); i.style.setProperty('padding-left', '0');
        return i.getBoundingClientRect().left - d.getBoundingClientRect().right; }""",
                        [deleted.element_handle(), inserted.element_handle()])
    assert gap < 2
