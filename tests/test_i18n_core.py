"""Accounts, error pages and the CLI in French and Spanish, as a delegate notices them.

The language comes from the profile, then the switcher's cookie, then the
browser's Accept-Language; these tests take each road once, and check that
what the server stores (a user's locale, their time zone) is a code, never a
sentence in someone's language.
"""

from __future__ import annotations

import re

import pytest
from harness import PASSWORD

from manifesto.accounts.models import User
from manifesto.extensions import db
from manifesto.i18n import LANGUAGE_COOKIE

FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
ES = {"Accept-Language": "es-AR,es;q=0.9"}
NBSP = "\u00a0"


def errors(page: str) -> dict[str, str]:
    """The error shown under each field, by the field's id."""
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).strip()
            for m in re.finditer(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', page, re.S)}


def register(client, headers=None, **overrides):
    data = {"email": "nadia@example.org", "name": "Nadia Diallo", "organisation": "Coop Sahel",
            "country": "Sénégal", "password": PASSWORD, "confirm": PASSWORD}
    data.update(overrides)
    return client.post("/register", data=data, headers=headers or {})


# ------------------------------------------------------------------ pages by Accept-Language

def test_register_and_login_pages_speak_french_and_spanish(client):
    page = client.get("/register", headers=FR).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "<h1>Créer un compte</h1>" in page
    assert "Adresse électronique" in page and "Nom affiché" in page and "Au moins 15 caractères." in page
    assert "Créer le compte</button>" in page
    assert "Email address" not in page

    page = client.get("/login", headers=ES).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "<title>Iniciar sesión · Manifesto</title>" in page
    assert "Mantener la sesión iniciada en este dispositivo" in page
    assert "¿Aún no tiene cuenta? <a href=\"/register\">Regístrese</a>." in page


def test_a_validation_error_comes_back_in_spanish_next_to_its_field_with_the_text_kept(client, make_user):
    make_user(email="taken@example.org")
    response = register(client, ES, email="taken@example.org", name="Lucía Fernández")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors(page) == {"email": "Error: Ya existe una cuenta con este correo electrónico."}
    assert 'value="Lucía Fernández"' in page and 'value="taken@example.org"' in page
    assert "Algunos campos requieren su atención" in page


def test_wtforms_own_messages_follow_the_reader(client):
    """Flask-WTF's i18n gives WTForms' built-in messages ("This field is required.") in the page's language."""
    page = register(client, FR, name="", password="", confirm="").get_data(as_text=True)
    found = errors(page)
    assert found["name"] == f"Erreur{NBSP}: Ce champ est requis."
    assert found["password"] == f"Erreur{NBSP}: Ce champ est requis."
    page = register(client, ES, name="").get_data(as_text=True)
    assert errors(page)["name"] == "Error: Este campo es obligatorio."


def test_registering_in_french_keeps_french_as_the_profile_language(app, client):
    app.config["EMAIL_VERIFICATION"] = "off"  # the welcome of an account that needs no confirmation
    assert register(client, FR).status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "nadia@example.org"))
    assert user.locale == "fr"
    # The welcome, and the pages after it, stay French even where the browser says otherwise.
    page = client.get("/", headers={"Accept-Language": "en"}, follow_redirects=True).get_data(as_text=True)
    assert "Bienvenue\u202f! Votre compte est prêt." in page


def test_the_profile_language_beats_accept_language(client, make_user, login):
    user = make_user()
    user.locale = "es"
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD}, headers=FR)
    assert response.status_code == 302
    page = client.get("/account/password", headers=FR).get_data(as_text=True)
    assert '<html lang="es">' in page and "<h1>Su cuenta</h1>" in page
    assert "Sesión iniciada como" in page  # the flash after login speaks the profile's language too
    assert "<dd>Participante</dd>" in page


# ------------------------------------------------------------------ preferences

def test_preferences_save_language_and_time_zone_and_the_next_page_speaks_them(client, make_user, login):
    user = make_user()
    login(user)
    page = client.get("/account/password").get_data(as_text=True)
    assert "Language and time zone" in page and "Same as my browser" in page
    response = client.post("/account/preferences", data={"locale": "fr", "timezone": "Europe/Paris"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password#preferences")
    db.session.refresh(user)
    assert (user.locale, user.timezone) == ("fr", "Europe/Paris")
    page = client.get("/account/password").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Vos préférences sont enregistrées." in page
    assert "Langue et fuseau horaire" in page and "Comme mon navigateur" in page
    assert "Europe/Paris" in page  # the footer names the reader's zone


def test_a_bad_preference_is_refused_in_the_readers_language(client, make_user, login):
    user = make_user()
    user.locale = "es"
    db.session.commit()
    login(user)
    response = client.post("/account/preferences", data={"locale": "es", "timezone": "Mars/Olympus"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors(page)["timezone"] == "Error: Elija una zona horaria de la lista."
    db.session.refresh(user)
    assert user.timezone is None


# ------------------------------------------------------------------ the switcher

def test_visitors_switch_with_a_cookie_and_a_safe_next(client):
    response = client.get("/language?lang=fr&next=/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert f"{LANGUAGE_COOKIE}=fr" in " ".join(response.headers.getlist("Set-Cookie"))
    page = client.get("/login", headers=ES).get_data(as_text=True)  # the choice beats the browser
    assert '<html lang="fr">' in page and "<h1>Se connecter</h1>" in page

    for unsafe in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = client.get("/language", query_string={"lang": "es", "next": unsafe})
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]


def test_an_unknown_language_is_refused_with_a_message(client):
    response = client.get("/language?lang=de&next=/login", headers=ES)
    assert response.status_code == 302 and LANGUAGE_COOKIE not in " ".join(response.headers.getlist("Set-Cookie"))
    page = client.get("/login", headers=ES).get_data(as_text=True)
    assert "Elija uno de los idiomas disponibles." in page


def test_logged_in_people_switch_with_a_post_that_needs_csrf_and_is_kept(make_app, make_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        user = make_user()
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302

        refused = client.post("/language", data={"lang": "es", "next": "/account/password"})
        assert refused.status_code == 400  # the "send again" page, not a change
        db.session.refresh(user)
        assert user.locale is None

        page = client.get("/account/password").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/language", data={"lang": "es", "next": "/account/password",
                                                  "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
        db.session.refresh(user)
        assert user.locale == "es"
        assert "<h1>Su cuenta</h1>" in client.get("/account/password", headers=FR).get_data(as_text=True)


def test_the_csrf_page_asks_again_in_the_readers_language(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        response = client.post("/register", headers=FR, data={
            "email": "x@example.org", "name": "Un texte à garder", "password": "secret-password",
            "confirm": "secret-password"})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "<h1>Veuillez renvoyer ce formulaire</h1>" in page
        assert "Un texte à garder" in page and "secret-password" not in page
        assert "Mot de passe (non conservé ici" in page  # the password is asked for again, in French
        assert "Renvoyer</button>" in page


# ------------------------------------------------------------------ admin, roles, error pages

def test_roles_and_admin_messages_are_translated(client, users, login):
    users["admin"].locale = "fr"
    db.session.commit()
    login(users["admin"])
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<h1>Comptes</h1>" in page and "<th scope=\"col\">Statut</th>" in page
    assert ">Modérateur</option>" in page and ">Administrateur</option>" in page
    found = client.get("/admin/users", query_string={"q": users["admin"].email}).get_data(as_text=True)
    assert "<caption>1 compte</caption>" in found
    target = users["participant"]
    response = client.post(f"/admin/users/{target.id}/role", data={"role": "moderator"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert f"{target.name} a désormais le rôle «{NBSP}Modérateur{NBSP}»." in page
    db.session.refresh(target)
    assert target.role == "moderator"  # the code is stored, never the French word


def test_error_pages_are_translated_not_werkzeugs_english(client, users, login):
    page = client.get("/no/such/page", headers=ES).get_data(as_text=True)
    assert "<h1>Página no encontrada</h1>" in page and "No hay nada en esta dirección." in page
    assert "requested URL" not in page
    login(users["participant"])
    response = client.get("/admin/users", headers=ES)
    assert response.status_code == 403
    assert "Solo los administradores pueden gestionar las cuentas." in response.get_data(as_text=True)


def test_the_503_page_speaks_french_without_the_database(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/no-such-folder/manifesto.sqlite")
    client = app.test_client()
    response = client.get("/", headers=FR)
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert '<html lang="fr">' in page
    assert "<h1>La base de données est injoignable</h1>" in page
    assert "Réessayez d’afficher cette page" in page

    client.set_cookie(LANGUAGE_COOKIE, "es")
    response = client.post("/login", data={"email": "alguien@example.org", "password": "secreto-largo"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "alguien@example.org" in page and "secreto-largo" not in page
    assert "No se ha guardado nada." in page and "Contraseña (no se conserva aquí" in page
    assert "Enviar de nuevo</button>" in page


# ------------------------------------------------------------------ the command line

@pytest.mark.parametrize("lang,created,role", [("fr_FR.UTF-8", "Compte chair@example.org créé", "Administrateur"),
                                                ("es_ES.UTF-8", "Cuenta chair@example.org creada", "Administrador")])
def test_the_cli_speaks_the_terminals_language(runner, monkeypatch, lang, created, role):
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", lang)
    result = runner.invoke(args=["create-user", "chair@example.org", "--name", "Chair", "--role", "admin",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert created in result.output and role in result.output
    weak = runner.invoke(args=["create-user", "w@example.org", "--name", "W", "--password", "short"])
    assert weak.exit_code != 0
    assert ("au moins 15 caractères" if lang.startswith("fr") else "al menos 15 caracteres") in weak.output


def test_logging_out_keeps_the_profiles_language_on_this_device(client, make_user, login):
    user = make_user()
    user.locale = "fr"
    db.session.commit()
    login(user)
    response = client.post("/logout", headers=ES)
    assert f"{LANGUAGE_COOKIE}=fr" in " ".join(response.headers.getlist("Set-Cookie"))
    page = client.get("/login", headers=ES).get_data(as_text=True)
    assert '<html lang="fr">' in page and "Vous êtes déconnecté." in page
