"""Notifications in French and Spanish, as their readers meet them.

A notification's summary is stored as text, so it is written in its
recipient's language when it is made (their profile's language; English
without one); emails and digests speak the recipient's language and show
times in their time zone; the pages, buttons, flashes and form errors follow
the reader's language like every page.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from manifesto.accounts import services as accounts
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.notifications import digests, services
from manifesto.notifications.mail import compose_notification
from manifesto.notifications.models import Notification
from manifesto.notifications.tokens import unsubscribe_token

NB = "\u00a0"  # French: before a colon, inside « »
FR = {"Accept-Language": "fr"}
ES = {"Accept-Language": "es"}


def notes(user) -> list[Notification]:
    """Someone's notifications, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def speaks(user, locale: str | None, zone: str | None = None):
    """Keep a language (and a time zone) in someone's profile."""
    return accounts.set_preferences(user, locale, zone)


@pytest.fixture
def world(make_document, users, make_user):
    """An open amendment by Amina (French), followed by Fatou (Spanish) and Ed (no language chosen)."""
    document = make_document(phase="amendments", editor=users["admin"])
    entries = documents.current_sections(document)
    author = speaks(make_user(name="Amina Author", email="amina@example.org"), "fr", "Europe/Paris")
    follower = speaks(make_user(name="Fatou Follower", email="fatou@example.org"), "es",
                      "America/Argentina/Buenos_Aires")
    english = make_user(name="Ed English")
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=entries[0].section.id,
                                             heading=None, body=entries[0].version.body.replace("energy", "solar"),
                                             reason="Better.")
    services.follow(follower, "amendment", amendment.id)
    services.follow(english, "amendment", amendment.id)
    return {"document": document, "entries": entries, "author": author, "follower": follower,
            "english": english, "amendment": amendment, "moderator": users["moderator"]}


def reject(world, reason: str = "Pas maintenant.") -> None:
    """The moderator rejects the world's amendment (the reason stays as written)."""
    db.session.expire_all()
    amendment = db.session.get(Amendment, world["amendment"].id)
    amendments.decide_amendment(world["moderator"], world["document"].id, amendment.id, decision="reject",
                                reason=reason, revision=amendment.revision)


# --- summaries, written in each recipient's language -------------------------------------------


def test_each_recipient_reads_the_summary_in_their_own_language(world):
    reject(world)
    moderator = world["moderator"].name
    [to_author] = notes(world["author"])
    assert to_author.summary.startswith(f"{moderator} a rejeté votre amendement A-001")
    assert to_author.summary.endswith(f"Motif{NB}: Pas maintenant.")  # the reason is the moderator's own words
    [to_follower] = notes(world["follower"])
    assert to_follower.summary.startswith(f"Una enmienda que usted sigue: {moderator} rechazó la enmienda A-001")
    assert to_follower.summary.endswith("Motivo: Pas maintenant.")
    [to_english] = notes(world["english"])
    assert to_english.summary.startswith(f"An amendment you follow: {moderator} rejected A-001")


def test_a_supporter_count_is_a_plural_in_the_authors_language(world, make_user):
    amendments.support_amendment(make_user(name="Sara Supporter"), world["document"].id, world["amendment"].id)
    amendments.support_amendment(make_user(name="Sam Second"), world["document"].id, world["amendment"].id)
    first, second = notes(world["author"])
    assert first.summary.startswith("Sara Supporter soutient votre amendement A-001")
    assert first.summary.endswith("(1 soutien à présent).")
    assert second.summary.endswith("(2 soutiens à présent).")


def test_a_section_heading_is_quoted_the_french_way_and_left_untranslated(world, make_user):
    reader = speaks(make_user(), "fr")
    section = world["entries"][2].section
    services.follow(reader, "section", section.id)
    documents.edit_section(world["moderator"], world["document"].id, section.id, heading="Section 3",
                           body="New text.", reason="Shorter.", base_version=1)
    [note] = notes(reader)
    assert f"a rédigé la version 2 de «{NB}Section 3{NB}», une section que vous suivez." in note.summary


def test_older_english_summaries_still_show(client, login, world):
    reject(world)
    db.session.execute(update(Notification).where(Notification.user_id == world["author"].id)
                       .values(summary="An old summary, written in English."))
    db.session.commit()
    login(world["author"])
    page = client.get("/notifications/").get_data(as_text=True)
    assert "An old summary, written in English." in page and "Tout marquer comme lu" in page


# --- pages --------------------------------------------------------------------------------------


def test_the_notification_centre_in_french(client, login, world, make_user):
    reader = make_user()  # no language in the profile: the browser's
    services.follow(reader, "amendment", world["amendment"].id)
    reject(world)
    login(reader)
    page = client.get("/notifications/", headers=FR).get_data(as_text=True)
    assert "<title>Notifications · Manifesto</title>" in page
    assert ">Non lue</span>" in page and "Marquer comme lue" in page and "Tout marquer comme lu" in page
    assert "Choisir celles qui vous parviennent par courriel" in page
    newest = notes(reader)[-1].id
    done = client.post("/notifications/read-all", data={"up_to": newest}, headers=FR, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Toutes vos notifications sont marquées comme lues." in text and "déjà lue" in text
    again = client.post("/notifications/read-all", headers=FR, follow_redirects=True).get_data(as_text=True)
    assert "Toutes vos notifications étaient déjà lues." in again


def test_an_empty_notification_centre_in_spanish(client, login, make_user):
    login(make_user())
    page = client.get("/notifications/", headers=ES).get_data(as_text=True)
    assert "Todavía no hay notificaciones." in page


def test_the_settings_page_and_its_errors_in_spanish(client, login, make_user):
    login(make_user())
    page = client.get("/notifications/settings", headers=ES).get_data(as_text=True)
    assert "<legend>Una decisión sobre su enmienda (aceptada, rechazada, obsoleta, fusionada)</legend>" in page
    assert "Enviarme un correo de inmediato" in page and "En el resumen diario por correo" in page
    assert "Solo aquí, sin correo" in page and "Guardar la configuración" in page
    response = client.post("/notifications/settings", data={"decision": "digest"}, headers=ES)
    assert response.status_code == 400
    assert "Elija una de las tres opciones." in response.get_data(as_text=True)
    choices = {name: "app" for name in ("decision", "conflict", "rebase", "support", "comment", "reply",
                                        "moderation", "following")}
    saved = client.post("/notifications/settings", data=choices, headers=ES, follow_redirects=True)
    assert "Su configuración de notificaciones se ha guardado." in saved.get_data(as_text=True)


def test_following_a_section_in_french(client, login, document, make_user):
    login(make_user())
    section = documents.current_sections(document)[0].section
    url = f"/d/doc/sections/{section.id}"
    assert "Suivre cette section" in client.get(url, headers=FR).get_data(as_text=True)
    followed = client.post("/notifications/follow", data={"target": "section", "target_id": section.id},
                           headers=FR, follow_redirects=True).get_data(as_text=True)
    assert f"Vous suivez cette section{NB}: vous serez informé de ses modifications." in followed
    assert "<strong>Vous suivez cette section</strong>" in followed and "Ne plus suivre" in followed
    left = client.post("/notifications/follow", data={"target": "section", "target_id": section.id,
                                                       "action": "unfollow"}, headers=ES, follow_redirects=True)
    assert "Ya no sigue esta sección." in left.get_data(as_text=True)


def test_unsubscribing_in_french(client, world):
    token = unsubscribe_token(world["author"].id, "decision")
    page = client.get(f"/notifications/unsubscribe/{token}", headers=FR).get_data(as_text=True)
    assert "Se désabonner" in page and "Oui, me désabonner" in page
    assert "«\u00a0Une décision sur votre amendement" in page
    done = client.post(f"/notifications/unsubscribe/{token}", data={"scope": "link"}, headers=FR)
    assert "amina@example.org ne recevra plus de courriels concernant" in done.get_data(as_text=True)
    broken = client.get("/notifications/unsubscribe/not-a-token", headers=ES)
    assert broken.status_code == 404 and "Este enlace para darse de baja no es válido." in broken.get_data(
        as_text=True)


def test_the_unsubscribe_page_speaks_the_language_the_email_was_written_in(client, world):
    token = unsubscribe_token(world["follower"].id, "digest")  # Fatou reads Spanish
    page = client.get(f"/notifications/unsubscribe/{token}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert '<html lang="es">' in text
    assert "¿Dejar de enviar el resumen diario a <strong>fatou@example.org</strong>?" in text
    done = client.post(f"/notifications/unsubscribe/{token}", data={"scope": "all"}).get_data(as_text=True)
    assert "fatou@example.org ya no recibirá ningún correo de Manifesto." in done
    client.set_cookie("manifesto_lang", "en")  # a language chosen in the switcher wins
    chosen = client.get(f"/notifications/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop sending the daily digest email to <strong>fatou@example.org</strong>?" in chosen


# --- email --------------------------------------------------------------------------------------


def test_an_immediate_email_speaks_the_recipients_language(app, world):
    app.config["SITE_URL"] = "https://manifesto.test"
    reject(world)
    [note] = notes(world["author"])
    message = compose_notification(note, db.session.get(type(world["author"]), world["author"].id))
    assert message["Subject"].startswith(f"Manifesto{NB}: {world['moderator'].name} a rejeté votre amendement")
    text = message.get_body(("plain",)).get_content()
    assert "Bonjour Amina Author," in text and f"Voir{NB}: https://manifesto.test/" in text
    assert f"«{NB}Une décision sur votre amendement (accepté, rejeté, obsolète, fusionné){NB}»" in text
    html = message.get_body(("html",)).get_content()
    assert '<html lang="fr">' in html and "Voir sur Manifesto" in html


def test_an_english_recipient_gets_english_mail(world):
    reject(world)
    [note] = notes(world["english"])
    user = db.session.get(type(world["english"]), world["english"].id)
    text = compose_notification(note, user).get_body(("plain",)).get_content()
    assert "Hello Ed English," in text and "An amendment you follow" in text


def test_a_digest_speaks_french_with_times_in_the_readers_zone(world, make_user, monkeypatch):
    sent = []
    monkeypatch.setattr(digests, "send_message", sent.append)
    for name in ("Sara Supporter", "Sam Second"):
        amendments.support_amendment(make_user(name=name), world["document"].id, world["amendment"].id)
    db.session.execute(update(Notification).where(Notification.user_id == world["author"].id)
                       .values(created_at=datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)))
    db.session.commit()
    assert digests.send_digests().sent == 1
    [to_author] = sent
    assert to_author["Subject"] == f"Manifesto{NB}: votre récapitulatif, 2 nouveautés"
    text = to_author.get_body(("plain",)).get_content()
    assert f"2 nouveautés depuis votre dernier récapitulatif{NB}:" in text
    assert "15:05 CET" in text  # 14:05 UTC in Paris, saying which zone


def test_a_spanish_digest_in_buenos_aires_time(world, make_user, monkeypatch):
    sent = []
    monkeypatch.setattr(digests, "send_message", sent.append)
    author = speaks(world["author"], "es", "America/Argentina/Buenos_Aires")
    amendments.support_amendment(make_user(), world["document"].id, world["amendment"].id)
    db.session.execute(update(Notification).where(Notification.user_id == author.id)
                       .values(created_at=datetime(2026, 11, 30, 14, 5, tzinfo=timezone.utc)))
    db.session.commit()
    digests.send_digests()
    [message] = sent
    assert message["Subject"] == "Manifesto: su resumen, 1 novedad"
    text = message.get_body(("plain",)).get_content()
    assert "Hola, Amina Author:" in text and "1 novedad desde su último resumen:" in text
    assert "11:05" in text and "apoya su enmienda A-001" in text
    html = message.get_body(("html",)).get_content()
    assert '<html lang="es">' in html and "Dejar de recibir el resumen" in html
