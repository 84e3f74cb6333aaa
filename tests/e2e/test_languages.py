"""The main pages in French and Spanish in Chromium: axe-core, phone width, and the switcher (issue #9, Languages).

French and Spanish run a fifth to a third longer than English: a button
that fits in English can push a phone page sideways in French. Each page is
opened by a browser set to the language (its Accept-Language), the way a
delegate's phone does.
"""

from __future__ import annotations

import pytest

from e2e_helpers import DEMO_PASSWORD, OVERFLOWING, PAGES, STATUS, Watcher, axe_violations, describe, expect, screenshot

LANGUAGES = ("fr", "es")


@pytest.fixture(scope="module")
def language_pages(browser, live_server, demo):
    """Per language, a visitor's tab and a participant's tab whose browser asks for that language."""
    pages, contexts = {}, []
    for language in LANGUAGES:
        for role, email in (("visitor", None), ("participant", "sofia@example.org"), ("moderator", "moderator@example.org")):
            context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900},
                                          locale={"fr": "fr-FR", "es": "es-ES"}[language])
            context.set_default_timeout(15_000)
            contexts.append(context)
            watcher = Watcher()
            context.on("page", watcher.attach)
            page = context.new_page()
            if email:
                # Setup only (the journeys test the login form): the fields by name, whatever their language.
                page.goto("/login")
                page.locator("main input[name=email]").fill(email)
                page.locator("main input[name=password]").fill(DEMO_PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.wait_for_load_state()
                assert page.locator("form[action='/logout']").count() == 1
            pages[language, role] = (page, watcher)
    yield pages
    for context in contexts:
        context.close()


def _params():
    for name, (_, roles) in PAGES.items():
        role = "participant" if "participant" in roles else next(iter(roles))
        for language in LANGUAGES:
            yield pytest.param(name, role, language, id=f"{name}-{language}")


@pytest.mark.parametrize(("name", "role", "language"), list(_params()))
def test_page_in_another_language_is_accessible_and_fits_a_phone(language_pages, demo, name, role, language):
    """The page speaks the language (lang), axe finds nothing serious, and 360 px need no sideways scrolling."""
    page, watcher = language_pages[language, role]
    watcher.problems.clear()
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto(PAGES[name][0].format(**demo))
    assert response is not None and response.status == STATUS.get(name, 200), (name, response and response.status)
    assert not watcher.problems, "\n".join(watcher.problems)
    assert page.locator("html").get_attribute("lang") == language
    expect(page.get_by_role("main")).to_be_visible()
    violations = axe_violations(page)
    assert not violations, f"{name} in {language}:\n" + describe(violations)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"{name}-{language}-390")
    page.set_viewport_size({"width": 360, "height": 780})
    measured = page.evaluate(OVERFLOWING)
    assert measured["scrollWidth"] <= measured["clientWidth"], f"{name} in {language} at 360 px: {measured}"
