"""Amendments as French and Spanish readers see them.

What is generated about an amendment (its title, the few words saying what
it changes, its revisions' notes) is stored as data and worded when shown,
so the same amendment reads "§1, ligne 2" to one reader and "§1, línea 2" to
the next; the English words stay stored for search and archives, and rows
written before the data existed still translate.
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from harness import migrated_demo_app

from manifesto.amendments import services
from manifesto.amendments.excerpt import change_excerpt
from manifesto.amendments.models import Amendment, AmendmentRevision
from manifesto.amendments.wording import ENGLISH, parse_note, parse_title, render_title
from manifesto.documents import services as documents
from manifesto.extensions import db

FR = {"Accept-Language": "fr"}
ES = {"Accept-Language": "es"}
NBSP = "\u00a0"


def text(html: str) -> str:
    """A page's text, tags removed and spaces collapsed (no-break spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", html))


def propose(document, author, n=1, old="cooperatives", new="worker cooperatives", reason="Because it is better."):
    entry = documents.current_sections(document)[n - 1]
    return services.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                      heading=None, body=entry.version.body.replace(old, new, 1), reason=reason)


def fresh(amendment) -> Amendment:
    return db.session.get(Amendment, amendment.id)


def test_the_list_words_titles_and_changes_in_french(client, make_document, users):
    document = make_document(phase="amendments", editor=users["admin"])
    amendment = propose(document, users["participant"])
    page = text(client.get("/d/doc/amendments/", headers=FR).get_data(as_text=True))
    assert "A-001 §1, ligne 1" in page
    assert f"Dans «{NBSP}Section 1{NBSP}»{NBSP}: ajoute «{NBSP}worker{NBSP}»" in page
    assert "Modifier une section" in page and "0 soutien" in page and "Ouvert" in page
    assert "1 amendement." in page and "Filtrer et trier" in page
    assert "line 1" not in page and "adds" not in page
    # English stays stored, for search and the archives.
    assert fresh(amendment).title == "§1, line 1"
    assert fresh(amendment).excerpt == "adds “worker”"


def test_the_amendment_page_in_spanish_with_its_diff_labels_and_history(client, make_document, users):
    document = make_document(phase="amendments", editor=users["admin"])
    amendment = propose(document, users["participant"])
    html = client.get(f"/d/doc/amendments/{amendment.id}", headers=ES).get_data(as_text=True)
    page = text(html)
    assert "A-001 §1, línea 1" in page
    assert "Propuesta por" in page and "Cambios" in page and "Mostrar lado a lado" in page
    # Screen readers hear the change marked in Spanish, though the diff was stored once, in English.
    assert '<span class="visually-hidden">insertado: </span>' in html
    assert "inserted: " not in html
    # The document's words are marked with their own language inside the Spanish page.
    assert '<div lang="en"><div class="diff' in html
    assert "Inicie sesión para apoyar esta enmienda." in page  # anonymous: no button
    assert "Revisión 1" in page and "presentada por" in page
    side = client.get(f"/d/doc/amendments/{amendment.id}?view=side", headers=ES).get_data(as_text=True)
    assert '<th scope="col">Antes</th>' in side and 'data-label="Después"' in side


def test_a_conflict_note_names_the_decision_in_french(client, make_document, users, make_user):
    document = make_document(phase="amendments", editor=users["admin"])
    first = propose(document, users["participant"], new="worker cooperatives")
    second = propose(document, make_user(), new="solidarity cooperatives")
    services.decide_amendment(users["moderator"], document.id, first.id, decision="accept",
                              reason="Agreed.", revision=fresh(first).revision)
    assert fresh(second).conflicted
    note = db.session.scalars(select(AmendmentRevision).where(AmendmentRevision.amendment_id == second.id)
                              .order_by(AmendmentRevision.number.desc())).first()
    assert note.note == "conflicts with version 2, after A-001 was accepted"
    page = text(client.get(f"/d/doc/amendments/{second.id}", headers=FR).get_data(as_text=True))
    assert "en conflit avec la version 2, après que A-001 a été accepté" in page
    assert "Conflit avec le texte actuel" in page
    assert "La version 2 de la section a modifié le même passage." in page
    assert "Système" in page


def test_refusals_and_flashes_come_back_in_the_readers_language(client, make_document, users, login):
    document = make_document(phase="amendments", editor=users["admin"])
    amendment = propose(document, users["participant"])
    login(users["moderator"])
    url = f"/d/doc/amendments/{amendment.id}"
    first = client.post(f"{url}/support", data={"action": "support"}, headers=ES, follow_redirects=True)
    assert "Usted apoya esta enmienda." in first.get_data(as_text=True)
    assert "1 apoyo." in text(first.get_data(as_text=True)) and "Retirar mi apoyo" in first.get_data(as_text=True)
    again = client.post(f"{url}/support", data={"action": "support"}, headers=ES, follow_redirects=True)
    assert "Usted ya apoya esta enmienda." in again.get_data(as_text=True)
    refused = client.post(f"{url}/decide", data={"reason": "", "revision": fresh(amendment).revision}, headers=FR)
    page = text(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert "Choisissez une décision." in page and "Enregistrer la décision" in page
    assert "Accepter tel que proposé" in page and "Motif public" in page


def test_the_proposal_form_speaks_french(client, make_document, users, login):
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    login(users["participant"])
    html = client.get(f"/d/doc/amendments/new?section={entry.section.id}", headers=FR).get_data(as_text=True)
    page = text(html)
    assert "Proposer un amendement" in page and "Texte (Markdown)" in page and "Enregistrer comme brouillon" in page
    assert 'data-preview-updated="Aperçu mis à jour."' in html
    preview = client.post(f"/d/doc/amendments/new?section={entry.section.id}", headers=FR, data={
        "kind": "modify", "section_id": entry.section.id, "body": entry.version.body + " More.",
        "heading": entry.version.heading, "reason": "", "action": "preview"}).get_data(as_text=True)
    assert "Aperçu de vos modifications" in preview and f"inséré{NBSP}: " in preview


def test_rows_written_before_the_data_still_translate(client, make_document, users):
    document = make_document(phase="amendments", editor=users["admin"])
    amendment = propose(document, users["participant"])
    row = fresh(amendment)
    row.summary = None  # as migration 0011 finds a row it cannot read from its texts
    db.session.execute(AmendmentRevision.__table__.update().values(note_data=None, note="rebased onto version 3"))
    db.session.commit()
    with force_locale("es"):
        assert fresh(amendment).display_title == "§1, línea 1"
        assert fresh(amendment).display_excerpt == "adds “worker”"  # the English words it kept
    page = text(client.get(f"/d/doc/amendments/{amendment.id}", headers=FR).get_data(as_text=True))
    assert "A-001 §1, ligne 1" in page and "mis à jour sur la version 3" in page


def test_the_english_words_are_those_stored_before():
    for title in ("New section after §4", "New section at the start", "§2: delete the section",
                  "Retired section: delete the section", "§3, heading", "§3, line 12", "§3, lines 12–14",
                  "Retired section, lines 2–5"):
        assert render_title(parse_title(title), ENGLISH) == title
    assert parse_title("Something else") is None
    assert parse_note("nothing left to change after version 4, after A-003 was accepted with modifications") == {
        "code": "absorbed", "version": 4, "after": {"code": "A-003", "decision": "accepted_modified"}}
    assert parse_note("accepted with modifications") == {"code": "decided", "status": "accepted_modified"}
    assert change_excerpt("modify", "One two three four.", "One two five four. And six.") == \
        "replaces “three” with “five” (and 1 more change)"


@pytest.fixture
def demo_app(tmp_path, instance_path):
    """An app on a SQLite file of its own, built by the migrations and holding the demo."""
    with migrated_demo_app(tmp_path / "wording.sqlite") as app:
        yield app


def test_migration_0011_gives_old_rows_the_data_the_services_store(demo_app):
    stored = {a.id: (a.summary, a.title, a.excerpt) for a in db.session.scalars(select(Amendment))}
    notes = {r.id: (r.note_data, r.note) for r in db.session.scalars(select(AmendmentRevision))}
    assert len(stored) > 3 and all(summary for summary, _, _ in stored.values())
    db.session.commit()
    downgrade(revision="0010_user_language")
    upgrade()
    db.session.expire_all()
    assert {a.id: (a.summary, a.title, a.excerpt) for a in db.session.scalars(select(Amendment))} == stored
    assert {r.id: (r.note_data, r.note) for r in db.session.scalars(select(AmendmentRevision))} == notes
