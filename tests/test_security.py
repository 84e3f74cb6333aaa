"""Hostile input: script injection in every text field, CSRF on every form, error pages."""

from __future__ import annotations

import re

import pytest

from manifesto.documents import services
from tests.conftest import live_markup

PAYLOADS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "\"><script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "<iframe src=//evil.example></iframe>",
]


def assert_safe(page: str) -> None:
    found = live_markup(page)
    assert not found, f"dangerous markup in page: {found}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_text_field_is_sanitised(client, make_user, payload):
    admin = make_user("admin", name=f"Admin {payload}", organisation=payload)
    document = services.create_document(admin, title=f"Title {payload}", slug="doc",
                                        introduction=f"Intro {payload}")
    section = services.create_section(admin, document.id, heading=f"Heading {payload}",
                                      body=f"Body {payload}\n\nMore {payload}", reason=f"Reason {payload}")
    services.edit_section(admin, document.id, section.id, heading=f"Heading2 {payload}",
                          body=f"Body2 {payload}", reason=f"Reason2 {payload}", base_version=1)
    urls = ["/d/doc/", "/d/doc/?lines=1", f"/d/doc/sections/{section.id}",
            f"/d/doc/sections/{section.id}/versions/1", f"/d/doc/sections/{section.id}/compare?from=1&to=2",
            f"/d/doc/sections/{section.id}/compare?from=1&to=2&view=side", "/d/doc/log"]
    for url in urls:
        page = client.get(url).get_data(as_text=True)
        assert_safe(page)
    client.post("/login", data={"email": admin.email, "password": "correct-horse-battery"})
    assert_safe(client.get("/admin/users").get_data(as_text=True))


def test_hostile_registration_is_escaped(client):
    client.post("/register", data={"email": "x@example.org", "name": PAYLOADS[0], "organisation": PAYLOADS[1],
                                   "password": "long-enough-pw", "confirm": "long-enough-pw"})
    assert_safe(client.get("/account/password").get_data(as_text=True))


@pytest.fixture
def csrf_client(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app.test_client()


def test_post_without_csrf_token_is_refused_and_keeps_the_text(csrf_client):
    text = "A long and careful amendment text that must not be lost."
    response = csrf_client.post("/register", data={"email": "x@example.org", "name": text,
                                                   "password": "secret-password", "confirm": "secret-password"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please send this again" in page and text in page
    assert "secret-password" not in page  # passwords are never echoed
    assert 'name="csrf_token"' in page


def test_every_form_carries_a_csrf_token(make_app, make_user, document):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        section = services.current_sections(document)[0].section
        for url in ("/login", "/register"):
            page = client.get(url).get_data(as_text=True)
            # Every form that changes something posts a token; the visitors' language switcher is a GET.
            post_forms = len(re.findall(r'<form[^>]*method="post"', page))
            assert post_forms == page.count('name="csrf_token"') > 0, url
            assert re.search(r'<form class="language-switcher"[^>]*method="get"', page), url
        admin = make_user("admin")
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        assert client.post("/login", data={"email": admin.email, "password": "correct-horse-battery",
                                           "csrf_token": token}).status_code == 302
        for url in ("/d/doc/", f"/d/doc/sections/{section.id}", f"/d/doc/sections/{section.id}/edit",
                    "/d/doc/sections/new", "/d/doc/settings", "/admin/users", "/account/password",
                    f"/d/doc/sections/{section.id}/retire"):
            page = client.get(url).get_data(as_text=True)
            post_forms = len(re.findall(r'<form[^>]*method="post"', page))
            assert post_forms == len(re.findall(r'name="csrf_token"', page)), url


def test_404_page(client):
    response = client.get("/d/no-such-document/")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_unknown_section_and_version_are_404(client, document):
    section = services.current_sections(document)[0].section
    assert client.get("/d/doc/sections/999999").status_code == 404
    assert client.get(f"/d/doc/sections/{section.id}/versions/7").status_code == 404


def test_403_page_is_readable(client, users, login, document):
    login(users["participant"])
    response = client.get("/d/doc/settings")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_413_page_for_oversized_request(client, users, login, document):
    login(users["moderator"])
    section = services.current_sections(document)[0].section
    response = client.post(f"/d/doc/sections/{section.id}/edit",
                           data={"heading": "x", "body": "x" * (2 * 1024 * 1024), "reason": "r"})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_session_cookie_is_hardened(client, make_user, login):
    response = login(make_user())
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_carry_a_strict_content_security_policy(client, document):
    response = client.get("/d/doc/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.get_data(as_text=True)
    assert "<script" not in page and " style=" not in page  # nothing inline that the policy would block


def test_nul_characters_never_reach_the_database(client, users, login, document):
    """PostgreSQL refuses NUL in text: hostile input must get a normal answer, not a 500."""
    assert client.get("/d/doc%00/").status_code == 404
    assert client.get("/admin/users?q=a%00b").status_code == 302  # anonymous: to the login page
    response = client.post("/login", data={"email": "x\x00@example.org", "password": "p\x00assword"})
    assert response.status_code == 400
    response = client.post("/register", data={"email": "nul@example.org", "name": "Na\x00me",
                                              "password": "a-long-pass-phrase", "confirm": "a-long-pass-phrase"})
    assert response.status_code == 302
    login(users["admin"])
    assert client.get("/admin/users?q=a%00b").status_code == 200
    section = services.current_sections(document)[0].section
    response = client.post(f"/d/doc/sections/{section.id}/edit", data={
        "heading": "Head\x00ing", "body": "Bo\x00dy", "reason": "Re\x00ason", "base_version": "1"})
    assert response.status_code == 302
    assert services.current_sections(document)[0].version.body == "Body"


@pytest.mark.parametrize("url", [
    "/d/doc/sections/99999999999999999999",
    "/d/doc/sections/1/versions/99999999999999999999",
    "/d/doc/amendments/99999999999999999999",
    "/d/doc/amendments/?section=99999999999999999999&author=99999999999999999999&page=99999999999999",
    "/d/doc/sections/1/compare?from=99999999999999999999&to=-5",
    "/d/doc/amendments/?status=%27;drop&sort=nonsense&section=abc",
])
def test_absurd_numbers_in_urls_are_not_server_errors(client, document, url):
    assert client.get(url).status_code in (200, 404)


@pytest.mark.parametrize("field,value", [("base_version", "abc"), ("base_version", "99999999999999999999"),
                                         ("base_version", "-1")])
def test_damaged_hidden_fields_get_a_message_not_a_500(client, users, login, document, field, value):
    login(users["moderator"])
    section = services.current_sections(document)[0].section
    response = client.post(f"/d/doc/sections/{section.id}/edit", data={
        "heading": "Section 1", "body": "My text survives.", "reason": "Why.", field: value})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "damaged or out of date" in page and "My text survives." in page


def test_expired_token_on_an_amendment_keeps_the_draft_and_resends_it(make_app, make_document, users):
    from manifesto.amendments.models import Amendment
    from manifesto.extensions import db

    document = make_document(phase="amendments", editor=users["admin"])
    entry = services.current_sections(document)[0]
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        client.post("/login", data={"email": users["participant"].email, "password": "correct-horse-battery",
                                    "csrf_token": token})
        draft = entry.version.body + " My twenty-minute addition."
        form = {"kind": "modify", "section_id": str(entry.section.id), "body": draft, "reason": "Long reason.",
                "base_version_id": str(entry.version.id), "action": "submit", "csrf_token": "expired"}
        page = client.post("/d/doc/amendments/new", data=form).get_data(as_text=True)
        assert "Please send this again" in page and "My twenty-minute addition." in page
        assert '<input type="hidden" name="action" value="submit">' in page  # not shown as a text box
        fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/d/doc/amendments/new", data={**form, "csrf_token": fresh}).status_code == 302
        assert db.session.scalar(db.select(Amendment.proposed_body)) == draft
