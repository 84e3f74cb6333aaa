"""Long PDFs go through the background queue: a job, its progress page, then the download.

Short texts are rendered in the request; a text over ``EXPORT_INLINE_MAX_CHARS``
becomes an export job. Tests run the queue immediately (the test default),
as a separate worker would (``QUEUE_MODE=worker``, then running the queued
task by hand), and with the real in-process worker thread.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from manifesto.audit.models import AuditEvent
from manifesto.exports import jobs, pdf
from manifesto.exports.models import ExportJob
from manifesto.exports.options import ExportOptions
from manifesto.extensions import db
from manifesto import jobs as queue
from manifesto.services import utcnow

from harness import require_pdf

pypdf = pytest.importorskip("pypdf")

JOB_URL = re.compile(r"/d/doc/exports/jobs/(\d+)$")


@pytest.fixture(autouse=True)
def _needs_weasyprint():
    """Skip, saying what to install, where WeasyPrint cannot run."""
    require_pdf()


@pytest.fixture(autouse=True)
def _own_export_folder(app, tmp_path):
    """A cache folder of the test's own: ids restart with every test, and so would file names."""
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")


@pytest.fixture
def long_text(app):
    """Every PDF counts as long: it goes through a job."""
    app.config["EXPORT_INLINE_MAX_CHARS"] = 10


@pytest.fixture
def worker_queue(app, tmp_path):
    """Jobs wait in a queue file for a worker instead of running at once; ``run()`` plays the worker."""
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    queue.init_app(app)

    def run() -> int:
        ran = 0
        while (task := queue.huey.dequeue()) is not None:
            queue.huey.execute(task)
            ran += 1
        return ran

    try:
        yield run
    finally:
        queue.huey.flush()
        app.config.update(QUEUE_MODE="immediate")
        queue.init_app(app)


def all_jobs() -> list[ExportJob]:
    """Every export job, oldest first, read afresh."""
    db.session.commit()
    return db.session.scalars(select(ExportJob).order_by(ExportJob.id)).all()


def job_id_of(response) -> int:
    """The job a download redirected to."""
    assert response.status_code == 302, response.status_code
    match = JOB_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def headings_in(data: bytes) -> str:
    """The text of a PDF, read back with pypdf."""
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    return " ".join(page.extract_text() for page in reader.pages)


def test_a_short_text_is_rendered_in_the_request(client, document):
    response = client.get("/d/doc/export/pdf?lines=1")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "§1 Section 1" in headings_in(response.data)
    assert all_jobs() == []


def test_a_long_text_goes_through_a_job_then_the_download(client, document, long_text, users, login):
    login(users["participant"])
    response = client.get("/d/doc/export/pdf?lines=1&annex=1")
    job_id = job_id_of(response)
    page = client.get(f"/d/doc/exports/jobs/{job_id}")  # the queue ran the job right after the commit
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Status: Ready" in html
    assert "Refresh" not in page.headers  # a finished job's page stops reloading
    assert f"/d/doc/exports/jobs/{job_id}/file" in html
    download = client.get(f"/d/doc/exports/jobs/{job_id}/file")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == "attachment; filename=doc-live-lines-annex.pdf"
    text = headings_in(download.data)
    for n in (1, 2, 3):
        assert f"§{n} Section {n}" in text
    assert "Annex: amendments" in text
    (job,) = all_jobs()
    assert job.status == "done" and job.requested_by_id == users["participant"].id
    assert job.progress_total > 0 and job.progress_done == job.progress_total
    assert job.options == ExportOptions(line_numbers=True, annex=True)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "export_jobs")).all()
    assert actions == ["export.queued", "export.finished"]
    # The file is now in the cache: the next download is sent at once, no new job.
    again = client.get("/d/doc/export/pdf?lines=1&annex=1")
    assert again.status_code == 200 and again.data == download.data
    assert len(all_jobs()) == 1
    # The document's list of exports finds the job again.
    listing = client.get("/d/doc/exports/jobs").get_data(as_text=True)
    assert f"/d/doc/exports/jobs/{job_id}" in listing and "with line numbers and the annex of amendments" in listing


def test_the_job_page_shows_progress_and_the_same_request_joins_the_waiting_job(client, document, long_text,
                                                                                  worker_queue):
    first = job_id_of(client.get("/d/doc/export/pdf?lines=1"))
    second = job_id_of(client.get("/d/doc/export/pdf?lines=1"))  # someone else, same options
    assert second == first
    other = job_id_of(client.get("/d/doc/export/pdf"))  # other options: another file, another job
    assert other != first
    assert [job.status for job in all_jobs()] == ["queued", "queued"]
    page = client.get(f"/d/doc/exports/jobs/{first}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Waiting for its turn" in html
    assert page.headers["Refresh"] == "3"  # reloads itself: no script needed
    assert "This page updates itself every 3 seconds" in html
    assert '<progress id="job-progress" max="100" value="0">' in html and 'for="job-progress"' in html
    assert "/file" not in html
    assert worker_queue() == 2  # the worker takes both jobs
    html = client.get(f"/d/doc/exports/jobs/{first}").get_data(as_text=True)
    assert "Status: Ready" in html and "Download the PDF" in html
    assert [job.status for job in all_jobs()] == ["done", "done"]


def test_a_job_records_its_progress_while_it_runs(app, client, document, long_text, worker_queue, monkeypatch):
    seen: list[tuple[str, str, int, int]] = []
    render = jobs.render_pdf

    def watching(doc, progress=None):
        """Render for real, and look at the job row as the page would while pages are laid out."""

        def spy(stage, done, total):
            progress(stage, done, total)
            if stage.startswith("Laying out page"):
                with app.app_context():
                    row = db.session.get(ExportJob, 1)
                    seen.append((row.status, row.stage, row.progress_done, row.progress_total))

        return render(doc, spy)

    monkeypatch.setattr(jobs, "render_pdf", watching)
    job_id_of(client.get("/d/doc/export/pdf?lines=1"))
    worker_queue()
    assert seen and seen[0][0] == "running" and seen[0][1].startswith("Laying out page")
    assert 0 < seen[0][2] <= seen[0][3]
    (job,) = all_jobs()
    assert job.status == "done" and job.started_at is not None and job.finished_at is not None


def test_a_failed_render_is_reported_and_the_job_survives(client, document, long_text, monkeypatch, caplog):
    def broken(doc, progress=None):
        progress("Laying out page 1", 1, 5)
        raise RuntimeError("Pango exploded at glyph 42")

    monkeypatch.setattr(jobs, "render_pdf", broken)
    job_id = job_id_of(client.get("/d/doc/export/pdf"))
    (job,) = all_jobs()
    assert job.status == "failed" and job.finished_at is not None and job.file_name is None
    assert "failed because of an error on the server" in job.message
    assert "export job" in caplog.text and "Pango exploded" in caplog.text  # the details go to the log
    page = client.get(f"/d/doc/exports/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert "Status: Failed" in html and "The PDF could not be built." in html and "Pango exploded" not in html
    assert "Refresh" not in page.headers
    assert client.get(f"/d/doc/exports/jobs/{job_id}/file").status_code == 302  # no file: back to the page
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "export_jobs")).all()
    assert actions == ["export.queued", "export.failed"]
    # Trying again starts a new job, which works once the renderer does.
    monkeypatch.undo()
    retry = client.get(f"/d/doc/exports/jobs/{job_id}/again")
    assert job_id_of(retry) != job_id
    assert [job.status for job in all_jobs()] == ["failed", "done"]


def test_missing_libraries_in_the_worker_are_reported_with_what_to_install(client, document, long_text,
                                                                          monkeypatch):
    monkeypatch.setattr(pdf, "pdf_unavailable_reason", lambda: pdf.INSTALL_HINT)
    job_id_of(client.get("/d/doc/export/pdf"))
    (job,) = all_jobs()
    assert job.status == "failed" and "apt install libpango-1.0-0" in job.message


def test_without_pango_the_pdf_download_says_what_to_install_and_other_formats_work(client, document,
                                                                                   monkeypatch):
    monkeypatch.setattr(jobs, "pdf_unavailable_reason", lambda: pdf.INSTALL_HINT)
    response = client.get("/d/doc/export/pdf")
    assert response.status_code == 503
    assert "apt install libpango-1.0-0" in response.get_data(as_text=True)
    assert client.get("/d/doc/export/md").status_code == 200
    assert all_jobs() == []


def test_a_job_whose_worker_died_is_replaced(client, document, long_text, worker_queue):
    first = job_id_of(client.get("/d/doc/export/pdf"))
    job = db.session.get(ExportJob, first)
    job.status, job.updated_at = "running", utcnow() - timedelta(hours=1)  # its worker was killed long ago
    db.session.commit()
    second = job_id_of(client.get("/d/doc/export/pdf"))
    assert second != first
    old, new = all_jobs()
    assert old.status == "failed" and "stopped before it was finished" in old.message
    assert new.status == "queued"
    # The old worker, should it wake up, may not overwrite the verdict.
    with pytest.raises(jobs.JobCancelled):
        jobs.report_progress(first, "Laying out page 3", 3, 10)
    assert jobs.finish_export_job(first, "doc/old.pdf") is False
    assert worker_queue() >= 1
    assert [job.status for job in all_jobs()] == ["failed", "done"]


def test_a_changed_text_does_not_join_the_old_job(client, document, long_text, worker_queue, users):
    from manifesto.documents import services as documents

    first = job_id_of(client.get("/d/doc/export/pdf"))
    entry = documents.current_sections(document)[0]
    documents.edit_section(users["admin"], document.id, entry.section.id, heading="Renamed", body="New words.",
                           reason="Edit.", base_version=entry.version.number)
    second = job_id_of(client.get("/d/doc/export/pdf"))
    assert second != first
    worker_queue()
    text = headings_in(client.get(f"/d/doc/exports/jobs/{second}/file").data)
    assert "§1 Renamed" in text


def test_a_release_is_exported_through_a_job(client, document, long_text, users):
    from manifesto.releases import services as releases

    release = releases.publish_release(users["moderator"], document.id, name="Draft 2 — regional consultations")
    job_id = job_id_of(client.get(f"/d/doc/export/pdf?release={release.slug}"))
    html = client.get(f"/d/doc/exports/jobs/{job_id}").get_data(as_text=True)
    assert "Draft 2 — regional consultations" in html and "Status: Ready" in html
    text = headings_in(client.get(f"/d/doc/exports/jobs/{job_id}/file").data)
    assert "Draft 2 — regional consultations" in text
    assert f"/d/doc/exports/jobs/{job_id}" in client.get("/d/doc/exports/jobs").get_data(as_text=True)


def test_the_list_of_exports_pages_in_a_fixed_number_of_queries(app, client, document, users, queries):
    from manifesto.releases import services as releases

    release = releases.publish_release(users["moderator"], document.id, name="Draft 1")
    key = jobs.cache.cache_key(document, None, "pdf", ExportOptions())
    for n in range(30):
        db.session.add(ExportJob(document_id=document.id, release_id=release.id if n % 2 else None, fmt="pdf",
                                 options_key=key.options_key, options_json="{}", fingerprint=f"f{n}",
                                 status="done", stage="Ready", progress_done=1, progress_total=1, message=""))
    db.session.commit()
    with queries() as counted:
        page = client.get("/d/doc/exports/jobs")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("Draft 1") == 10  # 20 a page, every other one of the release
    with queries() as second_page:
        assert client.get("/d/doc/exports/jobs?page=2").status_code == 200
    assert counted.count == second_page.count <= 8


@pytest.mark.parametrize("url", ["/d/nope/exports/jobs", "/d/doc/exports/jobs/999", "/d/doc/exports/jobs/999/file",
                                 "/d/doc/exports/jobs/999/again", "/d/doc/exports/jobs/99999999999"])
def test_unknown_jobs_and_documents_are_readable_404s(client, document, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "<h1" in response.get_data(as_text=True)


def test_a_job_of_another_document_is_not_found_here(client, make_document, long_text):
    make_document(slug="doc")
    make_document(slug="other")
    job_id = job_id_of(client.get("/d/doc/export/pdf"))
    assert client.get(f"/d/other/exports/jobs/{job_id}").status_code == 404


def test_the_worker_thread_builds_the_pdf_while_the_reader_waits(app, client, document, long_text, tmp_path):
    """The default outside tests: a worker thread in the web process; the request returns at once."""
    app.config.update(QUEUE_MODE="thread", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    queue.init_app(app)
    try:
        job_id = job_id_of(client.get("/d/doc/export/pdf?lines=1"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            page = client.get(f"/d/doc/exports/jobs/{job_id}")
            if "Status: Ready" in page.get_data(as_text=True):
                break
            assert page.headers.get("Refresh") == "3"
            time.sleep(0.2)
        assert "Status: Ready" in page.get_data(as_text=True)
        assert client.get(f"/d/doc/exports/jobs/{job_id}/file").data.startswith(b"%PDF-")
    finally:
        queue.stop_worker_thread()
        app.config.update(QUEUE_MODE="immediate")
        queue.init_app(app)


def test_the_production_worker_knows_the_export_task(app):
    """huey_consumer imports manifesto.worker: the export task must be registered by then."""
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": "x", "QUEUE_MODE": "worker"}
    code = ("import manifesto.worker as w; "
            "print(any(name.endswith('manifesto.export-job') for name in w.huey._registry._registry))")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().endswith("True"), result.stderr


MISSING_PANGO = """
import sys
sys.modules["weasyprint"] = None  # what a machine without Pango looks like: the import fails
from flask_migrate import upgrade
from manifesto import create_app
from manifesto.accounts.services import register_user
from manifesto.documents import services

app = create_app({"TESTING": True, "SECRET_KEY": "x", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "DATABASE_URL": sys.argv[1], "WTF_CSRF_ENABLED": False,
                  "SERVER_NAME": "localhost", "EXPORT_DIR": sys.argv[2]})
with app.app_context():
    upgrade()
    admin = register_user("admin@example.org", "Admin", "correct-horse-battery", None, None, role="admin")
    document = services.create_document(admin, title="Manifesto", slug="doc")
    services.create_section(admin, document.id, heading="Energy", body="Words.", reason="First.")
client = app.test_client()
print(client.get("/d/doc/").status_code, client.get("/d/doc/export/md").status_code,
      client.get("/d/doc/export/docx").status_code)
page = client.get("/d/doc/export")
print("libpango-1.0-0" in page.get_data(as_text=True))
pdf = client.get("/d/doc/export/pdf")
print(pdf.status_code, "apt install libpango-1.0-0" in pdf.get_data(as_text=True))
"""


def test_without_pango_the_app_runs_every_other_format_works_and_the_pdf_says_what_to_install(tmp_path):
    result = subprocess.run([sys.executable, "-c", MISSING_PANGO, f"sqlite:///{tmp_path / 'db.sqlite'}",
                             str(tmp_path / "exports")], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "MANIFESTO_INSTANCE_PATH": str(tmp_path / "instance")})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["200", "200", "200", "True", "503", "True"], result.stdout + result.stderr[-2000:]
