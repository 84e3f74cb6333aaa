"""Documents, their log, activity and search, as French and Spanish readers see them.

The interface speaks the reader's language; the document's own text stays in
its language and says so (``lang``), and nothing stored is a sentence in
one language: audit events are codes, put into words when they are shown.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from manifesto.audit.models import AuditEvent
from manifesto.documents import services
from manifesto.extensions import db
from manifesto.search.models import SearchEntry

FR = {"Accept-Language": "fr"}
ES = {"Accept-Language": "es"}


def text(html: str) -> str:
    """A page's text, tags removed and spaces collapsed (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", html))


def first_section(document):
    return services.current_sections(document)[0]


def test_the_reading_page_speaks_french_and_marks_the_text_with_its_own_language(client, make_document):
    document = make_document(phase="amendments")
    html = client.get("/d/doc/", headers=FR).get_data(as_text=True)
    page = text(html)
    assert "Phase\u00a0: Amendements ouverts" in page
    assert "Afficher les numéros de ligne" in html and "Sommaire" in html
    assert "0 amendement ouvert" in page
    assert "Les amendements sont ouverts." in page and "Connectez-vous" in page
    # The document's text is English, inside a French page: screen readers are told.
    assert '<html lang="fr"' in html
    assert f'<h1 lang="en">{document.title}</h1>' in html
    assert '<div class="prose" lang="en">' in html
    assert "Phase: " not in page and "Show line numbers" not in page


def test_the_reading_page_in_spanish_names_the_deadline_in_spanish(client, users, make_document):
    document = make_document(phase="amendments")
    services.update_document(users["admin"], document.id, title=document.title, introduction="",
                             phase="amendments", amendment_deadline=datetime(2030, 1, 31, 18, 0, tzinfo=timezone.utc),
                             min_supporters=0)
    page = text(client.get("/d/doc/", headers=ES).get_data(as_text=True))
    assert "Fase: Enmiendas abiertas" in page
    assert "El plazo de enmiendas se cierra el 31 ene 2030" in page and "UTC" in page


def test_a_moderators_flash_and_a_services_refusal_come_back_in_spanish(client, users, login, document):
    login(users["moderator"])
    entry = first_section(document)
    response = client.post(f"/d/doc/sections/{entry.section.id}/edit", headers=ES, follow_redirects=True, data={
        "heading": entry.version.heading, "body": entry.version.body, "reason": "Sin cambios.", "base_version": 1})
    assert response.status_code == 400
    assert "No ha cambiado nada: modifique primero el título o el texto." in response.get_data(as_text=True)
    response = client.post(f"/d/doc/sections/{entry.section.id}/edit", headers=ES, follow_redirects=True, data={
        "heading": entry.version.heading, "body": "Un texto nuevo.", "reason": "Más claro.", "base_version": 1})
    page = text(response.get_data(as_text=True))
    assert "La versión 2 se ha guardado." in page
    assert "Versión 2 de 2" in page and "Historial" in page


def test_a_conflict_is_explained_in_french(client, users, login, document):
    login(users["moderator"])
    entry = first_section(document)
    services.edit_section(users["moderator"], document.id, entry.section.id, heading="Section 1",
                          body="Someone else's text.", reason="Faster.", base_version=1)
    response = client.post(f"/d/doc/sections/{entry.section.id}/edit", headers=FR, data={
        "heading": "Section 1", "body": "My text.", "reason": "Mine.", "base_version": 1})
    page = text(response.get_data(as_text=True))
    assert response.status_code == 409
    assert ("Quelqu’un a enregistré la version 2 de cette section pendant que vous travailliez sur la version 1."
            in page)
    assert "inséré\u00a0:" in page or "supprimé\u00a0:" in page  # the diff's screen-reader labels


def test_settings_take_the_deadline_in_the_admins_time_zone_and_the_texts_language(client, users, login, document):
    admin = users["admin"]
    admin.timezone = "Europe/Paris"
    db.session.commit()
    login(admin)
    form = client.get("/d/doc/settings", headers=FR).get_data(as_text=True)
    assert "Date limite des amendements, dans votre fuseau horaire (Europe/Paris), facultatif" in form
    assert '<option selected value="en">English</option>' in form or 'value="en" selected' in form
    response = client.post("/d/doc/settings", headers=FR, data={
        "title": "Manifeste", "introduction": "", "language": "fr", "phase": "amendments",
        "amendment_deadline": "2030-01-31T18:00", "min_supporters": "0"})
    assert response.status_code == 302
    db.session.refresh(document)
    # 18:00 in Paris (winter) is 17:00 UTC: stored in UTC, shown back as typed.
    assert document.deadline == datetime(2030, 1, 31, 17, 0, tzinfo=timezone.utc)
    assert document.language == "fr"
    page = client.get("/d/doc/", headers=FR).get_data(as_text=True)
    assert "Les paramètres sont enregistrés." in page
    assert '<div class="prose" lang="fr">' in page and "31 janv. 2030, 18:00 CET" in page
    assert 'value="2030-01-31T18:00"' in client.get("/d/doc/settings", headers=FR).get_data(as_text=True)
    # Search stems the text in its new language.
    languages = set(db.session.scalars(select(SearchEntry.language).where(SearchEntry.document_id == document.id)))
    assert languages == {"french"}


def test_the_settings_phase_choices_are_in_spanish(client, users, login, document):
    login(users["admin"])
    page = client.get("/d/doc/settings", headers=ES).get_data(as_text=True)
    assert ">Enmiendas abiertas</option>" in page and ">Redacción</option>" in page
    assert "Idioma del texto" in page and ">Français</option>" in page


def test_the_log_tells_stored_codes_in_the_readers_language(client, users, document):
    entry = first_section(document)
    services.edit_section(users["moderator"], document.id, entry.section.id, heading="Section 1", body="New.",
                          reason="Plus court.", base_version=1)
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)) == "section.edited"
    fr = text(client.get("/d/doc/log", headers=FR).get_data(as_text=True))
    assert "section modifiée (section " in fr and "v1 → v2" in fr and "Motif\u00a0: Plus court." in fr
    assert "Journal des modifications" in fr
    es = text(client.get("/d/doc/log", headers=ES).get_data(as_text=True))
    assert "sección modificada (sección " in es and "documento creado" in es
    en = text(client.get("/d/doc/log").get_data(as_text=True))
    assert "section edited (section " in en


def test_the_activity_page_tells_each_event_as_a_spanish_sentence(client, users, document):
    entry = first_section(document)
    services.edit_section(users["moderator"], document.id, entry.section.id, heading="Section 1", body="New.",
                          reason="Plus court.", base_version=1)
    services.move_section(users["moderator"], document.id, entry.section.id, direction="down",
                          structure_version=document.structure_version)
    html = client.get("/d/doc/activity", headers=ES).get_data(as_text=True)
    page = text(html)
    moderator = users["moderator"].name
    assert f"{moderator} desplazó §2 Section 1 hacia abajo." in page
    assert f"{moderator} redactó la versión 2 de §1 Section 1." in page or \
        f"{moderator} redactó la versión 2 de §2 Section 1." in page
    assert "añadió §3 Section 3" in page
    assert "Actividad" in page and "Todo" in page and "Decisiones" in page
    # The actor is escaped in bold, the object is a link.
    assert f"<strong>{moderator}</strong> desplazó <a href=\"/d/doc/sections/{entry.section.id}\">" in html


def test_the_activity_page_counts_what_is_new_in_french(client, users, login, make_user, document):
    reader = make_user()
    login(reader)
    client.get("/d/doc/activity")  # the first visit
    entry = first_section(document)
    services.edit_section(users["moderator"], document.id, entry.section.id, heading="Section 1", body="New.",
                          reason="r", base_version=1)
    page = text(client.get("/d/doc/activity", headers=FR).get_data(as_text=True))
    assert "1 nouvel élément depuis votre dernière visite" in page and "«\u00a0Nouveau\u00a0»" in page


def test_search_counts_and_labels_in_french_and_spanish(client, document):
    fr = text(client.get("/d/doc/search?q=cooperatives+section+1", headers=FR).get_data(as_text=True))
    assert "1 résultat pour cooperatives, section, 1." in fr
    assert "Tout (1)" in fr and "Sections (1)" in fr and "Commentaires (0)" in fr
    assert "Rechercher dans ce document" in fr
    es = text(client.get("/d/doc/search?q=cooperatives+section+1&kind=section", headers=ES).get_data(as_text=True))
    assert "1 resultado para cooperatives, section, 1 en las secciones." in es
    many = text(client.get("/d/doc/search?q=cooperatives", headers=ES).get_data(as_text=True))
    assert "Todo (3)" in many and "Secciones (3)" in many
    none = text(client.get("/d/doc/search?q=%21%21", headers=ES).get_data(as_text=True))
    assert "No hay ninguna palabra que buscar en “!!”: escriba letras o cifras." in none


def test_the_automatic_words_of_an_event_follow_the_reader(app):
    from flask_babel import force_locale

    from manifesto.audit.labels import action_label, automatic, state_label

    event = AuditEvent(action="amendment.conflicted", object_type="amendments", object_id=1,
                       data={"after": {"code": "A-001", "decision": "accepted"}})
    with app.test_request_context():
        assert automatic(event) == "now conflicts with the text, after A-001 was accepted"
        with force_locale("fr"):
            assert automatic(event) == "est désormais en conflit avec le texte, depuis l’acceptation de A-001"
            assert str(automatic(event, subject="A-002")).startswith("A-002 est désormais en conflit")
            assert action_label("amendment.accepted") == "amendement accepté"
            assert state_label("submitted") == "ouvert" and state_label("v3") == "v3"
        with force_locale("es"):
            assert action_label("amendment.accepted") == "enmienda aceptada"
            assert action_label("something.unknown") == "something unknown"
