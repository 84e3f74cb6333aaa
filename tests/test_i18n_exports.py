"""Exports and releases in French and Spanish, as a delegate notices them.

An exported file is written in one language: its contents, labels, dates and
annex are in the document's own language unless the reader asks for another
(``?lang=``, the options page, ``--language``); the text itself is never
translated. The release pages, the compare page, the export options and the
pages of background jobs follow the reader's language.
"""

from __future__ import annotations

import io
import re

import docx
import pytest
from sqlalchemy import select

from manifesto.exports import cache, formats, jobs, labels, pdf
from manifesto.exports.build import build_export
from manifesto.exports.models import ExportJob
from manifesto.exports.options import ExportOptions
from manifesto.extensions import db
from manifesto.releases import services as releases

from harness import require_pdf

FR = {"Accept-Language": "fr"}
ES = {"Accept-Language": "es"}


@pytest.fixture(autouse=True)
def _own_export_folder(app, tmp_path):
    """A cache folder of the test's own."""
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")


@pytest.fixture
def french_doc(make_document):
    """A document whose text is written in French."""
    document = make_document()
    document.language = "fr"
    db.session.commit()
    return document


def download(client, fmt, headers=None, **args) -> str:
    """One export file of the document "doc", as text."""
    response = client.get(f"/d/doc/export/{fmt}", query_string=args, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


# ------------------------------------------------------------------ files

def test_a_french_text_exports_with_french_headings_whatever_the_readers_language(client, french_doc):
    text = download(client, "txt", annex=1, credits=1)  # an English reader: no Accept-Language
    assert "Sommaire" in text and "Contents" not in text
    assert "Annexe\u00a0: amendements" in text and "Contributeurs" in text
    assert re.search(r"Texte actuel au \d{1,2} \w+ \d{4} à \d\d:\d\d UTC", text)
    assert "Paragraph one of section 1" in text  # the text itself is never translated


def test_the_language_of_headings_can_be_chosen_and_is_a_file_of_its_own(client, french_doc):
    english = download(client, "txt", lang="en")
    spanish = download(client, "txt", lang="es")
    assert "Contents" in english and "Live text as of" in english
    assert "Índice" in spanish and "Texto actual a fecha de" in spanish
    assert english != spanish
    keys = {cache.cache_key(french_doc, None, "txt", ExportOptions(language=code)) for code in (None, "en", "es")}
    assert len({key.filename for key in keys}) == 3
    # An unknown language falls back to the text's own.
    assert "Sommaire" in download(client, "txt", lang="de")


def test_a_spanish_html_file_says_lang_es_and_keeps_the_text_in_its_own_language(client, document):
    page = download(client, "html", lang="es", lines=1)
    assert '<html lang="es">' in page
    assert '<main lang="en">' in page  # an English text inside Spanish headings
    assert "Índice" in page and "Líneas 1–" in page


def test_the_word_file_of_a_french_text_has_french_labels(client, french_doc):
    response = client.get("/d/doc/export/docx", query_string={"annex": 1})
    word = docx.Document(io.BytesIO(response.data))
    paragraphs = [paragraph.text for paragraph in word.paragraphs]
    assert "Sommaire" in paragraphs and "Annexe\u00a0: amendements" in paragraphs
    assert "Aucun amendement n’a été déposé." in paragraphs
    assert any(text.startswith("Texte actuel au ") for text in paragraphs)


def test_the_printed_copy_speaks_the_export_language(french_doc):
    export = build_export(french_doc, options=ExportOptions(annex=True, contributors=True))
    html = pdf.build_html(export)
    assert '<html lang="fr">' in html and "Sommaire" in html and "Contributeurs" in html
    with labels.in_language(export):
        footer = pdf.page_css()
    assert '"Page " counter(page) " sur " counter(pages)' in footer
    spanish = build_export(french_doc, options=ExportOptions(language="es"))
    assert "Índice" in pdf.build_html(spanish) and 'lang="fr"' in pdf.build_html(spanish)


def test_the_command_line_writes_the_language_asked_for(runner, document, tmp_path):
    target = tmp_path / "doc.txt"
    result = runner.invoke(args=["export", "doc", "--format", "txt", "--language", "fr", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Sommaire" in target.read_text(encoding="utf-8")


# ------------------------------------------------------------------ pages

def test_the_export_options_page_in_french(client, document):
    page = client.get("/d/doc/export", headers=FR).get_data(as_text=True)
    assert "Télécharger le texte" in page
    assert "Langue des titres et des libellés" in page
    assert "La langue du texte (anglais)" in page and ">Español<" in page
    assert "Texte brut" in page and "Télécharger en texte brut" in page


def test_the_download_buttons_keep_the_chosen_language(client, document):
    page = client.get("/d/doc/export?lang=es", headers=FR).get_data(as_text=True)
    chosen = re.search(r'<select[^>]*name="lang".*?</select>', page, re.S).group(0)
    assert re.search(r'<option (selected value="es"|value="es" selected)', chosen)


def test_release_pages_in_spanish(client, document, users):
    releases.publish_release(users["moderator"], document.id, name="Draft 1")
    listing = client.get("/d/doc/releases", headers=ES).get_data(as_text=True)
    assert "Versiones publicadas" in listing and "3 secciones, 6 líneas" in listing
    page = client.get("/d/doc/releases/draft-1", headers=ES).get_data(as_text=True)
    assert "Índice" in page and "Ocultar los números de línea" in page
    assert 'lang="en"' in page  # the frozen text is marked with its own language


def test_publishing_a_release_answers_in_the_readers_language(client, document, users, login):
    login(users["moderator"])
    empty = client.post("/d/doc/releases/new", data={"name": ""}, headers=ES)
    assert empty.status_code == 400
    assert "Dé un nombre a la versión publicada." in empty.get_data(as_text=True)
    published = client.post("/d/doc/releases/new", data={"name": "Borrador 1"}, headers=FR, follow_redirects=True)
    assert "La version «\u00a0Borrador 1\u00a0» est publiée." in published.get_data(as_text=True)


def test_the_compare_page_in_french(client, document, users):
    releases.publish_release(users["moderator"], document.id, name="Draft 1")
    page = client.get("/d/doc/compare", headers=FR).get_data(as_text=True)
    assert "Modifications de «\u00a0Draft 1\u00a0» au texte actuel" in page
    assert "Les deux textes sont identiques." in page


def test_an_unknown_release_is_a_french_404(client, document):
    response = client.get("/d/doc/releases/nope", headers=FR)
    assert response.status_code == 404
    assert "Ce document n’a pas de version publiée à cette adresse." in response.get_data(as_text=True)


# ------------------------------------------------------------------ background jobs

def test_a_jobs_stored_stage_and_failure_show_in_the_readers_language(app, client, document):
    job = ExportJob(document_id=document.id, release_id=None, fmt="pdf", options_key="plain",
                    options_json='{"annex": true, "contributors": false, "line_numbers": true, '
                                 '"redline_against": null}',  # a job stored before the language option
                    fingerprint="x", status="running", stage="Laying out page 3", progress_done=3,
                    progress_total=10, message="")
    db.session.add(job)
    db.session.commit()
    page = client.get(f"/d/doc/exports/jobs/{job.id}", headers=FR).get_data(as_text=True)
    assert "Mise en page de la page 3" in page and "(3 sur environ 10 pages)" in page
    assert "Le texte avec les numéros de ligne et l’annexe des amendements." in page
    job.status, job.stage = "failed", "Failed"
    job.message = jobs._failure_message(RuntimeError("boom"))
    db.session.commit()
    page = client.get(f"/d/doc/exports/jobs/{job.id}", headers=ES).get_data(as_text=True)
    assert "No se ha podido generar el PDF." in page
    assert "La generación de este fichero falló por un error en el servidor." in page
    assert "Building this file failed" in job.message  # stored in English, shown in the reader's language


def test_a_background_pdf_is_built_in_the_export_language(app, client, french_doc):
    require_pdf()
    pypdf = pytest.importorskip("pypdf")
    app.config["EXPORT_INLINE_MAX_CHARS"] = 10  # every PDF goes through a job
    response = client.get("/d/doc/export/pdf", query_string={"lang": "es"}, headers=FR)
    assert response.status_code == 302
    db.session.commit()
    (job,) = db.session.scalars(select(ExportJob)).all()
    assert job.options.language == "es" and job.status == "done"
    page = client.get(response.headers["Location"], headers=FR).get_data(as_text=True)
    assert "titres et libellés en espagnol" in page
    data = client.get(f"/d/doc/exports/jobs/{job.id}/file").data
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Índice" in text and re.search(r"Página \d+ de \d+", text)


def test_outside_a_request_the_file_is_still_in_its_language(app, french_doc):
    # The CLI and the queue's worker have an app context and no request: the file's language is forced all the same.
    assert "Índice" in formats.render("txt", build_export(french_doc, options=ExportOptions(language="es"))).decode()
    markdown = formats.render("md", build_export(french_doc, options=ExportOptions(annex=True))).decode()
    assert "## Annexe\u00a0: amendements" in markdown and "Texte actuel au " in markdown


def test_a_worker_builds_the_pdf_in_the_export_language_and_stores_english_bookkeeping(app, client, french_doc,
                                                                                         tmp_path):
    require_pdf()
    pypdf = pytest.importorskip("pypdf")
    from manifesto import jobs as queue

    app.config.update(EXPORT_INLINE_MAX_CHARS=10, QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    queue.init_app(app)
    try:
        response = client.get("/d/doc/export/pdf", headers=ES)  # a Spanish reader; the text is French
        assert response.status_code == 302
        while (task := queue.huey.dequeue()) is not None:  # the worker: no request, no reader
            queue.huey.execute(task)
    finally:
        queue.huey.flush()
        app.config.update(QUEUE_MODE="immediate")
        queue.init_app(app)
    db.session.commit()
    (job,) = db.session.scalars(select(ExportJob)).all()
    assert job.status == "done" and job.stage == "Ready"
    data = client.get(f"/d/doc/exports/jobs/{job.id}/file").data
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "Sommaire" in text and re.search(r"Page \d+ sur \d+", text)
    page = client.get(f"/d/doc/exports/jobs/{job.id}", headers=ES).get_data(as_text=True)
    assert "Estado: Listo" in page


def test_the_annex_and_the_redline_speak_the_export_language(client, make_document, users):
    from manifesto.amendments import services as amendments
    from manifesto.documents import services as documents

    document = make_document(phase="amendments")
    release = releases.publish_release(users["moderator"], document.id, name="Draft 1")
    entry = documents.current_sections(document)[0]
    amendment = amendments.propose_amendment(users["participant"], document.id, kind="modify",
                                             section_id=entry.section.id, heading=None,
                                             body=entry.version.body.replace("energy", "solar energy"),
                                             reason="Clearer.")
    amendment = db.session.get(type(amendment), amendment.id)
    amendments.decide_amendment(users["moderator"], document.id, amendment.id, decision="accept",
                                reason="Agreed.", revision=amendment.revision)
    text = download(client, "txt", lang="es", annex=1, against=release.slug)
    assert "Cambios desde Draft 1" in text and "Texto modificado" in text
    assert f"Enmiendas aprobadas: {amendment.code}" in text
    assert "Estado: Aceptada" in text and "Motivo: Agreed." in text  # the moderators' reason stays as written


def test_a_worker_without_pango_stores_the_reason_in_english_and_shows_it_translated(client, document,
                                                                                       monkeypatch):
    require_pdf()
    monkeypatch.setattr(pdf, "_weasyprint_missing", lambda: True)  # the worker's machine lacks Pango
    job = ExportJob(document_id=document.id, release_id=None, fmt="pdf", options_key="lang-fr",
                    options_json='{"language": "fr"}', fingerprint="x", status="queued", stage="Waiting for its turn",
                    progress_done=0, progress_total=0, message="")
    db.session.add(job)
    db.session.commit()
    jobs.run_export_job(job.id)
    db.session.expire_all()
    job = db.session.get(ExportJob, job.id)
    assert job.status == "failed" and job.message.startswith("PDF export needs Pango")
    monkeypatch.setattr(jobs, "pdf_unavailable_reason", lambda: None)  # the web server itself has it
    page = client.get(f"/d/doc/exports/jobs/{job.id}", headers=FR).get_data(as_text=True)
    assert "L’export PDF nécessite Pango et HarfBuzz sur le serveur" in page
