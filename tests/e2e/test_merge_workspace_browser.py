"""The merge workspace in Chromium: start, tick, the draft and preview saved and shown by the script, axe, the public view."""

from __future__ import annotations

from e2e_helpers import DEMO_PASSWORD, axe_violations, describe, expect, log_in


def test_a_moderator_ticks_changes_and_the_draft_saves_itself(new_page, demo):
    page = new_page()
    log_in(page, "moderator@example.org", DEMO_PASSWORD)
    page.goto(f"/d/{demo['doc']}/sections/{demo['section']}")
    page.get_by_role("link", name="Merge its amendments").click()
    page.get_by_role("button", name="Start merging").click()
    expect(page.get_by_role("heading", name="Preview", exact=True)).to_be_visible()
    assert not (found := axe_violations(page)), describe(found)
    boxes = page.locator("input[name=take]")
    assert boxes.count() > 0, "the demo section has changes that compete with none"
    revision = page.locator("#revision").input_value()
    merged = page.get_by_label("Merged text")
    before = merged.input_value()
    page.evaluate("window.notReloaded = true")
    boxes.first.check()
    expect(page.locator("#revision")).not_to_have_value(revision, timeout=15_000)  # the script saved the draft
    expect(page.locator("[data-merge-status]")).to_contain_text("Draft saved")
    # The preview follows the tick at once, without the Preview button or a reload.
    expect(page.locator("[data-merge-status]")).to_contain_text("preview updated")
    expect(merged).not_to_have_value(before)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator("input[name=composed]").input_value() == merged.input_value()
    page.reload()
    assert page.locator("input[name=take]").first.is_checked()  # kept by the autosave, not by a submit
    # Anyone who reads the document follows the merge on the public view.
    visitor = new_page(width=360, height=740)
    visitor.goto(f"/d/{demo['doc']}/merge/{demo['section']}/view")
    expect(visitor.get_by_text("is merging this section")).to_be_visible()
    assert not (found := axe_violations(visitor)), describe(found)
    page.get_by_role("button", name="Discard the merge").click()
    expect(page.get_by_text("The merge is discarded")).to_be_visible()
