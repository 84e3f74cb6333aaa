"""The main pages in French and Spanish in Chromium: axe-core, phone width, and the switcher (issue #9, Languages).

French and Spanish run a fifth to a third longer than English: a button
that fits in English can push a phone page sideways in French. Each page is
opened by a browser set to the language (its Accept-Language), the way a
delegate's phone does.
"""

from __future__ import annotations

import pytest

from e2e_helpers import DEMO_PASSWORD, OVERFLOWING, PAGES, STATUS, axe_violations, describe, expect, screenshot, watched_tab

LANGUAGES = ("fr", "es")


@pytest.fixture(scope="module")
def language_pages(browser, live_server, demo):
    """Per language, a visitor's tab and a participant's tab whose browser asks for that language."""
    pages, contexts = {}, []
    for language in LANGUAGES:
        for role, email in (("visitor", None), ("participant", "sofia@example.org"), ("moderator", "moderator@example.org")):
            context, page, watcher = watched_tab(browser, live_server.url, {"fr": "fr-FR", "es": "es-ES"}[language])
            contexts.append(context)
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


def test_a_visitor_switches_to_spanish_and_registers_in_it(new_page, live_server, demo, monkeypatch):
    """Journey: with the keyboard, a visitor picks Español; registering, the error and the account all speak it.

    The browser asks for English: the switcher alone makes the site Spanish,
    for a visitor without an account (a cookie, no session), and the account
    then keeps the language and a time zone of its own.
    """
    monkeypatch.setitem(live_server.app.config, "EMAIL_VERIFICATION", "off")  # the welcome of a ready account
    page = new_page(width=390, height=844)
    page.goto(f"/d/{demo['doc']}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Español").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/d/{demo['doc']}/?") or page.url.endswith(f"/d/{demo['doc']}/")
    assert page.locator("html").get_attribute("lang") == "es"
    expect(page.locator(".language-switcher [aria-current=true]")).to_have_text("Español")
    # The document's own text keeps its language inside the Spanish page.
    assert page.locator("main [lang=en]").count() > 0

    page.get_by_role("link", name="Registrarse").click()
    page.get_by_label("Correo electrónico").fill("paz@example.org")
    page.get_by_label("Nombre visible").fill("Paz Ortega")
    page.get_by_label("Contraseña", exact=True).fill("corta")
    page.get_by_label("Repita la contraseña").fill("corta")
    page.get_by_role("button", name="Crear la cuenta").click()
    error = page.locator("#password-error")
    expect(error).to_be_visible()
    assert "Error:" in error.inner_text() and "characters" not in error.inner_text()
    expect(page.get_by_label("Nombre visible")).to_have_value("Paz Ortega")  # nothing typed is lost

    page.get_by_label("Contraseña", exact=True).fill("una contraseña larga")
    page.get_by_label("Repita la contraseña").fill("una contraseña larga")
    page.get_by_role("button", name="Crear la cuenta").click()
    expect(page.get_by_text("¡Bienvenido/a! Su cuenta está lista.")).to_be_visible()

    page.get_by_role("link", name="Paz Ortega").click()
    expect(page.get_by_label("Idioma", exact=True)).to_have_value("es")  # registered in Spanish, kept
    page.get_by_label("Zona horaria").select_option("America/Bogota")
    page.get_by_role("button", name="Guardar mis preferencias").click()
    expect(page.get_by_text("Sus preferencias se han guardado.")).to_be_visible()
    expect(page.locator("footer")).to_contain_text("Las horas se muestran en America/Bogota.")
