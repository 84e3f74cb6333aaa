"""What every page does with languages and time zones: lang, the switcher, dates and numbers."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale

from manifesto import i18n
from manifesto.accounts.services import set_preferences

MOMENT = datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)


def _html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(("header", "lang", "skip_link"), [
    ("fr-CH,fr;q=0.9,en;q=0.5", "fr", "Aller au contenu"),
    ("es-AR,es;q=0.8", "es", "Saltar al contenido"),
    ("de-DE,de;q=0.9", "en", "Skip to content"),
    (None, "en", "Skip to content"),
])
def test_a_visitor_reads_the_browser_language(client, document, header, lang, skip_link):
    """No account, no choice made: Accept-Language decides, English when we do not speak it."""
    headers = {"Accept-Language": header} if header else {}
    response = client.get(f"/d/{document.slug}/", headers=headers)
    assert response.status_code == 200
    assert _html_lang(response) == lang
    assert skip_link in response.get_data(as_text=True)


def test_the_switcher_is_on_every_page_and_needs_no_session_for_visitors(client, document):
    """A visitor's switcher is a GET form with no CSRF token; each language is named in itself."""
    for path in (f"/d/{document.slug}/", "/login", "/register", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        form = re.search(r'<form class="language-switcher".*?</form>', page, re.S)
        assert form, path
        assert 'method="get"' in form.group(0) and "csrf_token" not in form.group(0)
        assert re.search(r'<button [^>]*value="fr" lang="fr"[^>]*>Français</button>', form.group(0))
        assert re.search(r'<button [^>]*value="es" lang="es"[^>]*>Español</button>', form.group(0))
        assert 'aria-current="true">English</strong>' in form.group(0)


def test_a_visitor_choice_beats_the_browser_and_a_profile_beats_both(client, document, make_user, login):
    """Order: profile, then the switcher's cookie, then Accept-Language."""
    response = client.get(f"/language?lang=es&next=/d/{document.slug}/", headers={"Accept-Language": "fr"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/d/{document.slug}/")
    assert "manifesto_lang=es" in response.headers["Set-Cookie"]
    assert _html_lang(client.get(f"/d/{document.slug}/", headers={"Accept-Language": "fr"})) == "es"

    user = make_user()
    set_preferences(user, "fr", None)
    login(user)
    assert _html_lang(client.get(f"/d/{document.slug}/", headers={"Accept-Language": "es"})) == "fr"


def test_a_logged_in_switch_is_a_post_kept_in_the_profile(client, document, make_user, login, app):
    """Logged in, the switcher posts with CSRF and the choice follows the person to other devices."""
    user = make_user()
    login(user)
    page = client.get(f"/d/{document.slug}/").get_data(as_text=True)
    form = re.search(r'<form class="language-switcher".*?</form>', page, re.S).group(0)
    assert 'method="post"' in form and "csrf_token" in form
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/language", data={"lang": "es", "next": f"/d/{document.slug}/", "csrf_token": token})
    assert response.status_code == 302
    from manifesto.accounts.models import User
    from manifesto.extensions import db

    assert db.session.get(User, user.id).locale == "es"
    other_device = app.test_client()
    login(user, test_client=other_device)
    assert _html_lang(other_device.get(f"/d/{document.slug}/")) == "es"


def test_the_switcher_refuses_unknown_languages_and_foreign_next(client, document):
    """Only our languages, and never a redirect off the site."""
    response = client.get("/language?lang=de&next=/d/doc")
    assert response.status_code == 302 and "manifesto_lang" not in response.headers.get("Set-Cookie", "")
    response = client.get("/language?lang=fr&next=https://evil.example/")
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


@pytest.mark.parametrize(("language", "zone", "expected"), [
    ("en", "UTC", "Nov 30, 2026, 2:05\u202fPM UTC"),
    ("fr", "UTC", "30 nov. 2026, 14:05 UTC"),
    ("es", "UTC", "30 nov 2026, 14:05 UTC"),
    ("fr", "Europe/Zurich", "30 nov. 2026, 15:05 CET"),
    ("es", "America/Bogota", "30 nov 2026, 9:05 GMT-05:00"),
])
def test_times_follow_the_language_and_the_zone(app, language, zone, expected):
    """A stored UTC time is shown in the reader's language and zone, and says which zone."""
    with app.test_request_context("/"), force_locale(language), i18n.force_timezone(zone):
        assert i18n.format_datetime(MOMENT) == expected


def test_a_users_time_zone_shows_on_their_pages(client, document, make_user, login):
    """Times on a page move to the reader's zone, and the footer names it."""
    user = make_user()
    set_preferences(user, "en", "Asia/Tokyo")
    login(user)
    page = client.get(f"/d/{document.slug}/log").get_data(as_text=True)
    assert "Times are shown in Asia/Tokyo." in page
    assert re.search(r"<time [^>]*>[^<]*JST</time>", page)
    assert "UTC</time>" not in page


def test_numbers_follow_the_language(app):
    """Counts use the reader's grouping: 3,600 in English, 3 600 in French, 3600 in Spanish (CLDR)."""
    from flask_babel import format_number

    with app.test_request_context("/"):
        with force_locale("en"):
            assert format_number(3600) == "3,600"
        with force_locale("fr"):
            assert format_number(3600) == "3\u202f600"


def test_preferences_refuse_what_we_do_not_know(make_user):
    """An unknown language or zone is a message next to its field, and nothing is saved."""
    from manifesto.services import ValidationError

    user = make_user()
    with pytest.raises(ValidationError) as error:
        set_preferences(user, "de", None)
    assert error.value.field == "locale"
    with pytest.raises(ValidationError) as error:
        set_preferences(user, "fr", "Mars/Olympus_Mons")
    assert error.value.field == "timezone"
    assert user.locale is None and user.timezone is None


def test_a_final_release_reads_in_the_readers_language_in_the_log(client, document, users):
    """The log words a system reason when shown: French readers read French, old English rows included."""
    from manifesto.audit.models import AuditEvent
    from manifesto.extensions import db
    from manifesto.releases.services import publish_release

    publish_release(users["admin"], document.id, name="Texte final", final=True)
    event = db.session.query(AuditEvent).filter_by(action="document.updated").one()
    assert event.reason is None  # nothing English stored
    page = client.get(f"/d/{document.slug}/log", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "La version publiée «\u00a0Texte final\u00a0» est le texte définitif." in page
    assert "is final" not in page

    event.reason, event.data = "Release “Old final” is final.", {"release": "old-final"}  # as rows before it
    db.session.commit()
    page = client.get(f"/d/{document.slug}/log", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Old final" in page and "is final" not in page


def test_forcing_a_zone_shows_times_there_and_then_lets_go(app):
    """Mail written for someone in Tokyo shows Tokyo time; after the block, the request's zone again."""
    with app.test_request_context("/"):
        assert i18n.format_datetime(MOMENT) == "Nov 30, 2026, 2:05\u202fPM UTC"
        with force_locale("fr"), i18n.force_timezone("Asia/Tokyo"):
            assert i18n.format_datetime(MOMENT) == "30 nov. 2026, 23:05 JST"
            with i18n.force_timezone("Mars/Olympus_Mons"):  # unknown: UTC, never an error
                assert i18n.format_datetime(MOMENT) == "30 nov. 2026, 14:05 UTC"
        assert i18n.format_datetime(MOMENT) == "Nov 30, 2026, 2:05\u202fPM UTC"
