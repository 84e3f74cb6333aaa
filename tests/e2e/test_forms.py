"""Form errors in Chromium: each error tied to its field, the user's text kept, focus taken to the summary."""

from __future__ import annotations

import pytest

from e2e_helpers import PASSWORD, expect, log_in, make_world


@pytest.fixture(scope="module")
def author(live_server):
    """A participant's email on a document open for amendments."""
    people, _ = make_world(live_server, slug="forms", sections=[("Purpose", "We write together, in the open.")],
                           people={"admin": "admin", "ann": "participant"})
    return people["ann"][1]


def _submit_without_a_reason(page, author):
    """Propose an amendment but forget the reason; return the text typed."""
    log_in(page, author)
    page.goto("/d/forms/amendments/new?section=1")
    start = page.get_by_role("button", name="Start from its current text")
    if start.count():
        start.click()
    typed = "We write together, in the open and in good faith."
    page.get_by_label("Text (Markdown)").fill(typed)
    page.get_by_role("button", name="Submit").click()
    return typed


def test_an_error_is_tied_to_its_field_and_the_text_is_kept(page, author):
    """The missing reason is announced on the field itself (aria-describedby, aria-invalid); nothing typed is lost."""
    typed = _submit_without_a_reason(page, author)
    expect(page.get_by_role("alert")).to_contain_text("Problem")
    reason = page.get_by_label("Reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    described = reason.get_attribute("aria-describedby") or ""
    texts = [page.evaluate("(id) => document.getElementById(id).textContent", part) for part in described.split()]
    assert any("Error" in text for text in texts), texts
    expect(page.get_by_label("Text (Markdown)")).to_have_value(typed)


def test_a_wrong_password_is_tied_to_its_field(page, author):
    """Logging in with a wrong password says so, and keeps the email address."""
    page.goto("/login")
    page.get_by_label("Email address").fill(author)
    page.get_by_label("Password").fill(PASSWORD + "-wrong")
    page.get_by_role("button", name="Log in").click()
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    error_id = (password.get_attribute("aria-describedby") or "").split()[-1]
    assert "is wrong" in page.evaluate("(id) => document.getElementById(id).textContent", error_id)
    expect(page.get_by_label("Email address")).to_have_value(author)


def test_focus_moves_to_the_error_summary(page, author):
    """After a failed submit, focus is on the error summary, so a screen reader reads it first."""
    _submit_without_a_reason(page, author)
    # The browser runs autofocus once the page has rendered, a moment after it has loaded.
    page.wait_for_function("() => !!document.activeElement.closest('[role=alert]')", timeout=5_000)
