"""Comments, reports and moderation as French and Spanish readers see them.

The interface speaks the reader's language; what people wrote (comments, report
reasons, a moderator's public reason) stays as written, and a quoted passage is
the document's text, marked with the document's language.
"""

from __future__ import annotations

import re

import pytest

from manifesto.discussion import comments, moderation
from manifesto.discussion.models import COMMENT_LIMIT
from manifesto.documents import services as documents

FR = {"Accept-Language": "fr"}
ES = {"Accept-Language": "es"}
NB, NNB = "\u00a0", "\u202f"  # no-break space (before ":"), narrow no-break space (before "?", in numbers)


def text(html: str) -> str:
    """A page's text, tags removed and spaces collapsed (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def doc(make_document, users):
    """A document open for amendments, with its first section."""
    document = make_document(phase="amendments", editor=users["admin"])
    return document, documents.current_sections(document)[0].section


def test_the_comment_form_and_threads_speak_french(client, login, doc, users, make_user):
    document, section = doc
    author = make_user(name="Amina Diallo")
    root = comments.post_comment(author, document.id, section_id=section.id, body="Plus de coopératives.",
                                 quote="cooperatives and energy")
    comments.reply_to_comment(users["moderator"], document.id, root.id, body="D'accord.")
    login(users["participant"])
    html = client.get(f"/d/doc/sections/{section.id}", headers=FR).get_data(as_text=True)
    page = text(html)
    assert "Commentaires (2)" in page
    assert "Votre commentaire" in page and "Passage que vous commentez (facultatif)" in page
    # The limit is written the French way.
    assert f"Jusqu’à 20{NNB}000 caractères." in page
    assert "Publier le commentaire" in page
    assert 'Répondre<span class="visually-hidden"> à Amina Diallo</span>' in html
    assert 'Signaler<span class="visually-hidden"> ce commentaire aux modérateurs</span>' in html
    assert 'aria-label="Réponses"' in html and 'title="Lien vers ce commentaire"' in html
    # The quoted passage is the document's (English) text inside a French page.
    assert '<blockquote class="quote" lang="en"><p>cooperatives and energy</p></blockquote>' in html
    # What people wrote is not translated.
    assert "Plus de coopératives." in page and "D'accord." in page
    assert "Your comment" not in page and "Post the comment" not in page and "Comments (" not in page


def test_a_refused_comment_and_the_posted_flash_come_back_in_spanish(client, login, doc, users):
    document, section = doc
    login(users["participant"])
    url = f"/d/doc/sections/{section.id}/comments"
    refused = client.post(url, data={"body": "   "}, headers=ES)
    assert refused.status_code == 400
    assert "Escriba primero su comentario: no puede estar vacío." in refused.get_data(as_text=True)
    too_long = client.post(url, data={"body": "x" * (COMMENT_LIMIT + 1)}, headers=ES).get_data(as_text=True)
    assert "El comentario tiene 20.001 caracteres; el límite es de 20.000." in too_long
    missing = client.post(url, data={"body": "¿Dónde?", "quote": "words that are not there"},
                          headers=ES).get_data(as_text=True)
    assert "Estas palabras no figuran en el texto actual de la sección." in missing
    posted = client.post(url, data={"body": "Muy bien."}, headers=ES, follow_redirects=True)
    assert "Su comentario está publicado." in posted.get_data(as_text=True)


def test_a_lost_passage_and_a_deleted_comment_read_in_french(client, doc, users):
    document, section = doc
    lost = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Énergie ?",
                                 quote="cooperatives and energy")
    gone = comments.post_comment(users["participant"], document.id, section_id=section.id, body="À retirer.")
    comments.reply_to_comment(users["moderator"], document.id, gone.id, body="Réponse.")
    comments.delete_comment(users["participant"], document.id, gone.id)
    written_on = documents.get_section_or_404(document, section.id).version_count
    documents.edit_section(users["moderator"], document.id, section.id, heading="Heading",
                           body="An entirely new text about housing.", reason="Editorial.", base_version=None)
    html = client.get(f"/d/doc/sections/{section.id}", headers=FR).get_data(as_text=True)
    page = text(html)
    assert "Le passage auquel ce commentaire se rapporte a changé." in page
    assert f"Il citait la version {written_on} de la section{NB}:" in page
    assert f'<blockquote class="quote" lang="en"><p>{lost.quote}</p></blockquote>' in html
    assert "Commentaire supprimé" in page and "Ce commentaire a été supprimé par son auteur." in page
    assert "Réponse." in page


def test_the_moderation_queue_speaks_french_with_plurals(client, login, doc, users, make_user):
    document, section = doc
    author = make_user(name="Jean Dupont")
    comment = comments.post_comment(author, document.id, section_id=section.id, body="Un propos vif.")
    for reporter in (users["participant"], make_user()):
        moderation.report_item(reporter, document.id, "comment", comment.id, reason="Insultant.")
    login(users["moderator"])
    page = text(client.get("/d/doc/moderation", headers=FR).get_data(as_text=True))
    assert "Modération" in page
    assert "1 élément avec des signalements en attente, le plus ancien signalement en premier." in page
    assert f"Commentaire{NB}: 2 signalements" in page
    assert f"{NB}: Insultant." in page  # the reason as the reporter wrote it
    assert "Motif public du masquage" in page and "Classer les signalements" in page
    assert "Rien n’est masqué." in page
    assert "item with open reports" not in page


def test_hiding_flashes_in_spanish_and_the_placeholder_reads_in_french(client, login, doc, users, make_user, app):
    document, section = doc
    author = make_user(name="Jean Dupont")
    comment = comments.post_comment(author, document.id, section_id=section.id, body="Un propos vif.")
    moderation.report_item(users["participant"], document.id, "comment", comment.id, reason="Insultant.")
    login(users["moderator"])
    form = client.get(f"/d/doc/moderation/comments/{comment.id}/hide", headers=ES).get_data(as_text=True)
    assert "Ocultar el comentario de Jean Dupont" in form and "Motivo público" in form
    empty = client.post(f"/d/doc/moderation/comments/{comment.id}/hide", data={"reason": ""}, headers=ES)
    assert "Indique el motivo público: se muestra en lugar del texto oculto." in empty.get_data(as_text=True)
    done = client.post(f"/d/doc/moderation/comments/{comment.id}/hide", data={"reason": "Insults a delegate."},
                       headers=ES, follow_redirects=True).get_data(as_text=True)
    assert "El comentario de Jean Dupont está oculto. Sus denuncias pendientes quedan resueltas." in done
    assert "0 items with open reports" not in done and "Ningún elemento con denuncias pendientes." in done
    # Everyone else reads the placeholder in their language, with the moderator's reason as written.
    page = text(app.test_client().get(f"/d/doc/sections/{section.id}", headers=FR).get_data(as_text=True))
    assert f"Masqué par les modérateurs. Motif{NB}: Insults a delegate." in page
    assert "Un propos vif." not in page


def test_a_second_report_is_refused_in_spanish_and_the_report_page_speaks_french(client, login, doc, users):
    document, section = doc
    comment = comments.post_comment(users["moderator"], document.id, section_id=section.id, body="Texto.")
    login(users["participant"])
    url = f"/d/doc/comments/{comment.id}/report"
    form = text(client.get(url, headers=FR).get_data(as_text=True))
    assert f"Signaler un commentaire de {users['moderator'].name}" in form
    assert f"Quel est le problème{NNB}?" in form and "Envoyer le signalement" in form
    first = client.post(url, data={"reason": "Spam."}, headers=ES, follow_redirects=True).get_data(as_text=True)
    assert "Gracias: los moderadores examinarán su denuncia." in first
    again = client.post(url, data={"reason": "Otra vez."}, headers=ES).get_data(as_text=True)
    assert "Ya denunció este comentario; los moderadores tienen su denuncia." in again


def test_a_long_thread_counts_its_comments_in_spanish(client, doc, users, monkeypatch):
    monkeypatch.setattr(comments, "THREAD_PREVIEW", 2)
    document, section = doc
    root = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Inicio.")
    for n in range(3):
        comments.reply_to_comment(users["moderator"], document.id, root.id, body=f"Respuesta {n}.")
    section_page = text(client.get(f"/d/doc/sections/{section.id}", headers=ES).get_data(as_text=True))
    assert "Leer todo el hilo (2 comentarios más)" in section_page
    thread = text(client.get(f"/d/doc/threads/{root.id}", headers=ES).get_data(as_text=True))
    assert f"Hilo iniciado por {users['participant'].name}" in thread and "4 comentarios." in thread


def test_an_amendment_in_the_queue_and_its_moderation_pages_speak_french(client, login, doc, users, make_user):
    from manifesto.amendments import services as amendments

    document, section = doc
    author = make_user(name="Jean Dupont")
    version = documents.get_section_or_404(document, section.id).current_version
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=section.id,
                                             heading=None, body=version.body + " Shouting.", reason="Because.")
    moderation.report_item(users["participant"], document.id, "amendment", amendment.id, reason="Publicité.")
    login(users["moderator"])
    queue = text(client.get("/d/doc/moderation", headers=FR).get_data(as_text=True))
    assert f"Amendement {amendment.code}{NB}: 1 signalement" in queue
    assert f"Motif donné par son auteur{NB}: Because." in queue  # the author's reason, as written
    form = text(client.get(f"/d/doc/moderation/amendments/{amendment.id}/dismiss", headers=FR)
                .get_data(as_text=True))
    assert f"Classer les signalements de {amendment.code}" in form
    assert f"L’élément reste tel quel{NNB}; tous ses signalements en attente sont clos." in form
    done = client.post(f"/d/doc/moderation/amendments/{amendment.id}/dismiss", data={"reason": ""}, headers=FR,
                       follow_redirects=True).get_data(as_text=True)
    assert f"Les signalements de l’amendement {amendment.code} sont classés." in done
    again = client.post(f"/d/doc/moderation/amendments/{amendment.id}/dismiss", data={"reason": ""}, headers=ES)
    assert "Esta enmienda no tiene ninguna denuncia pendiente" in again.get_data(as_text=True)


def test_an_edited_comment_shows_its_history_in_spanish(client, login, doc, users):
    document, section = doc
    comment = comments.post_comment(users["participant"], document.id, section_id=section.id, body="Primero.")
    comments.edit_comment(users["participant"], document.id, comment.id, body="Segundo.", revision=1)
    page = text(client.get(f"/d/doc/sections/{section.id}", headers=ES).get_data(as_text=True))
    assert "modificado (ver las versiones anteriores)" in page
    history = text(client.get(f"/d/doc/comments/{comment.id}/history", headers=ES).get_data(as_text=True))
    assert f"Comentario de {users['participant'].name}: sus versiones" in history
    assert "Versión actual (modificada el " in history and "Versión 1, escrita el " in history
    login(users["participant"])
    stale = client.post(f"/d/doc/comments/{comment.id}/edit", data={"body": "Tercero.", "revision": "1"},
                        headers=ES)
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Este comentario cambió desde que lo abrió" in page and "El comentario en su estado actual" in page
