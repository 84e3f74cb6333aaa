"""Long PDFs are built by the background queue, not in the request.

:func:`pdf_response` answers a PDF download: the cached file when there is
one; a file rendered on the spot when the text is short
(``EXPORT_INLINE_MAX_CHARS`` characters, estimated in one query without
loading the text); otherwise an :class:`~manifesto.exports.models.ExportJob`
and a redirect to its page, which shows the job's progress and then the
download link. A second request for the same text and options joins the
job already queued or running.

The worker (:func:`run_export_job`, a job on the app's queue,
``manifesto.jobs``) builds the export, renders it with progress callbacks
that update the job row in short transactions, stores the file in the export
cache and marks the job done; any failure marks it failed with a readable
message. A job that stops moving (its worker died with its process) counts as
failed after ``EXPORT_JOB_TIMEOUT`` seconds, and the next request starts a
new one.
"""

from __future__ import annotations

import io
import json
import logging
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

from babel.lists import format_list
from flask import Response, current_app, redirect, render_template, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select, update

from ..amendments.models import Amendment
from ..audit.services import record_event
from ..documents.models import Document, Section, SectionVersion
from ..documents.services import lock_document
from ..extensions import db
from ..i18n import current_language
from ..jobs import enqueue, task
from ..pagination import Page, paginate
from ..releases.models import Release, ReleaseSection
from ..services import DatabaseUnavailable, NotFound, ServiceError, after_commit, as_utc, utcnow, writes
from . import cache
from . import models as texts
from .build import build_export
from .formats import FORMATS
from .formats import download_name as file_name_of
from .forms import language_name
from .labels import in_language
from .options import ExportOptions, export_language
from .models import ACTIVE, ExportJob, JobStatus
from .pdf import PdfUnavailable, pdf_unavailable_reason, render_pdf

__all__ = ["describe_options", "download_name", "estimate_chars", "failure_reason", "find_active_job",
           "get_job_or_404", "job_file", "job_release", "pdf_response", "recent_jobs", "releases_of",
           "request_export_job", "run_export_job", "send_export"]

log = logging.getLogger(__name__)

DEFAULT_INLINE_MAX_CHARS = 60_000
DEFAULT_JOB_TIMEOUT = 600  # seconds without progress after which a running job counts as dead
DEFAULT_QUEUE_TIMEOUT = 3600  # seconds a job may wait for a worker before it counts as lost
PROGRESS_INTERVAL = 1.0  # seconds between two progress writes
ANNEX_CHARS_PER_AMENDMENT = 400  # what one amendment adds to the annex, for the estimate


class JobCancelled(Exception):
    """The job was ended while it ran (it stopped moving and a newer one replaced it)."""


def _setting(name: str, default: float) -> float:
    """A numeric setting of the exports, with its default."""
    value = current_app.config.get(name)
    return float(default if value is None else value)


# ------------------------------------------------------------------ reading

def estimate_chars(document: Document, release, options: ExportOptions) -> int:
    """About how many characters the export typesets, from stored lengths (one or two queries, no text loaded)."""
    if release is None:
        body = db.session.scalar(
            select(func.coalesce(func.sum(func.length(SectionVersion.body)), 0))
            .join(Section, Section.current_version_id == SectionVersion.id)
            .where(Section.document_id == document.id, Section.retired_at.is_(None)))
    else:
        body = db.session.scalar(
            select(func.coalesce(func.sum(func.length(SectionVersion.body)), 0))
            .join(ReleaseSection, ReleaseSection.version_id == SectionVersion.id)
            .where(ReleaseSection.release_id == release.id))
    total = int(body or 0)
    if options.redline_against:
        total *= 2  # the redline sets the changed text again, old and new words
    if options.annex:
        count = db.session.scalar(select(func.count(Amendment.id)).where(Amendment.document_id == document.id))
        total += int(count or 0) * ANNEX_CHARS_PER_AMENDMENT
    return total


def _stale_before(job: ExportJob) -> bool:
    """Whether an active job has stopped moving for too long (its worker is gone)."""
    now = utcnow()
    if job.status == JobStatus.RUNNING:
        limit = _setting("EXPORT_JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT)
        return as_utc(job.updated_at) < now - timedelta(seconds=limit)
    limit = _setting("EXPORT_QUEUE_TIMEOUT", DEFAULT_QUEUE_TIMEOUT)
    return as_utc(job.created_at) < now - timedelta(seconds=limit)


def find_active_job(document: Document, release, fmt: str, key: cache.CacheKey) -> ExportJob | None:
    """The job already building this export (same text, format, options and fingerprint), if one is alive."""
    jobs = db.session.scalars(
        select(ExportJob)
        .where(ExportJob.document_id == document.id,
               ExportJob.release_id.is_(None) if release is None else ExportJob.release_id == release.id,
               ExportJob.fmt == fmt, ExportJob.options_key == key.options_key,
               ExportJob.fingerprint == key.fingerprint, ExportJob.status.in_(ACTIVE))
        .order_by(ExportJob.id.desc())).all()
    return next((job for job in jobs if not _stale_before(job)), None)


def get_job_or_404(document: Document, job_id: int) -> ExportJob:
    """An export job of ``document``.

    :raises NotFound:
    """
    job = db.session.get(ExportJob, job_id)
    if job is None or job.document_id != document.id:
        raise NotFound(_("There is no such export."))
    return job


def recent_jobs(document: Document, page: int = 1, per_page: int = 20) -> Page[ExportJob]:
    """One page of the document's export jobs, newest first, with their releases."""
    return paginate(select(ExportJob).where(ExportJob.document_id == document.id).order_by(ExportJob.id.desc()),
                    page, per_page)


def job_file(job: ExportJob) -> Path | None:
    """The file a finished job built, while the cache still holds it."""
    if job.status != JobStatus.DONE or not job.file_name:
        return None
    path = cache.export_dir() / job.file_name
    return path if path.is_file() else None


def download_name(document: Document, release, fmt: str, options: ExportOptions) -> str:
    """The file name a download gets, the same as the other formats' (``formats.download_name``)."""
    return file_name_of(document.slug, release.slug if release is not None else None, options, fmt)


def describe_options(options: ExportOptions) -> str:
    """The options in words, in the reader's language: "line numbers and the annex of amendments" ("": none)."""
    parts = []
    if options.line_numbers:
        parts.append(_("line numbers"))
    if options.annex:
        parts.append(_("the annex of amendments"))
    if options.contributors:
        parts.append(_("the contributors"))
    if options.redline_against:
        parts.append(_("the changes since %(release)s", release=options.redline_against))
    language = export_language(options.language)
    if language:
        parts.append(_("headings and labels in %(language)s", language=language_name(language)))
    return format_list(parts, locale=current_language()) if parts else ""


def releases_of(jobs: list[ExportJob]) -> dict[int, Release]:
    """The releases a page of jobs exports, by id (one query)."""
    ids = {job.release_id for job in jobs if job.release_id is not None}
    if not ids:
        return {}
    return {release.id: release for release in db.session.scalars(select(Release).where(Release.id.in_(ids)))}


def job_release(job: ExportJob):
    """The release a job exports, or None for the live text."""
    return db.session.get(Release, job.release_id) if job.release_id is not None else None


# ------------------------------------------------------------------ services

def _describe(release, options: ExportOptions) -> dict:
    """What an audit event says about an export."""
    return {"release": release.slug if release is not None else None, "options": asdict(options)}


@writes
def request_export_job(actor, document_id: int, release_id: int | None, fmt: str, options: ExportOptions,
                       key: cache.CacheKey) -> ExportJob:
    """Queue the background build of one export, or return the job already building it.

    Anybody who may read the text may ask (``actor`` is None for an anonymous
    reader). A job that stopped moving is marked failed here and replaced.

    :raises NotFound: for an unknown document, release or format.
    """
    if fmt not in FORMATS:
        raise NotFound(_("There is no such export format."))
    document = lock_document(document_id)  # serialises two readers asking for the same file at once
    release = None
    if release_id is not None:
        release = db.session.get(Release, release_id)
        if release is None or release.document_id != document.id:
            raise NotFound(_("There is no such release of this document."))
    for job in db.session.scalars(
            select(ExportJob)
            .where(ExportJob.document_id == document.id, ExportJob.status.in_(ACTIVE),
                   ExportJob.release_id.is_(None) if release is None else ExportJob.release_id == release.id,
                   ExportJob.fmt == fmt, ExportJob.options_key == key.options_key,
                   ExportJob.fingerprint == key.fingerprint)
            .order_by(ExportJob.id)).all():
        if not _stale_before(job):
            return job
        _end(job, JobStatus.FAILED, texts.english(texts.STOPPED))
    job = ExportJob(document_id=document.id, release_id=release_id, fmt=fmt, options_key=key.options_key,
                    options_json=json.dumps(asdict(options), sort_keys=True), fingerprint=key.fingerprint,
                    status=JobStatus.QUEUED.value, stage=texts.english(texts.WAITING), progress_done=0,
                    progress_total=0, message="", requested_by_id=actor.id if actor is not None else None)
    db.session.add(job)
    db.session.flush()
    record_event(actor, "export.queued", job, to_state=JobStatus.QUEUED.value,
                 data={"document": document.slug, "fmt": fmt, **_describe(release, options)})
    job_id = job.id
    after_commit(lambda: enqueue_export_job(job_id))
    return job


def _end(job: ExportJob, status: JobStatus, message: str = "", file_name: str | None = None) -> bool:
    """Finish an active job (inside a write service) and record it; False when someone else ended it first.

    The update is conditional on the status read, so a worker and a request
    that both end the same job cannot both succeed.
    """
    before = job.status
    if before not in ACTIVE:
        return False
    now = utcnow()
    values = {"status": status.value, "message": message, "finished_at": now, "updated_at": now,
              "stage": texts.english(texts.READY if status == JobStatus.DONE else texts.FAILED)}
    if status == JobStatus.DONE:
        values.update(file_name=file_name, progress_done=ExportJob.progress_total)
    changed = db.session.execute(
        update(ExportJob).where(ExportJob.id == job.id, ExportJob.status == before).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        return False
    db.session.refresh(job)
    record_event(None, f"export.{'finished' if status == JobStatus.DONE else 'failed'}", job,
                 from_state=before, to_state=status.value, reason=message or None)
    return True


@writes
def start_export_job(job_id: int) -> bool:
    """Take a queued job for this worker; False when it is gone, taken or already ended."""
    now = utcnow()
    changed = db.session.execute(
        update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == JobStatus.QUEUED.value)
        .values(status=JobStatus.RUNNING.value, started_at=now, updated_at=now, stage=texts.english(texts.READING))
        .execution_options(synchronize_session=False)).rowcount
    return bool(changed)


@writes
def report_progress(job_id: int, stage: str, done: int, total: int) -> None:
    """Record how far a running job got.

    Bookkeeping, not a change anybody makes: no audit event.

    :raises JobCancelled: when the job is no longer running (it was replaced).
    """
    changed = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status == JobStatus.RUNNING.value)
        .values(stage=stage[:200], progress_done=max(0, done), progress_total=max(0, total), updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if not changed:
        raise JobCancelled(f"export job {job_id} is no longer running")


@writes
def finish_export_job(job_id: int, file_name: str) -> bool:
    """Mark a running job done, with the cached file it built; False when it had ended meanwhile."""
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    return job is not None and job.status == JobStatus.RUNNING and _end(job, JobStatus.DONE, file_name=file_name)


@writes
def fail_export_job(job_id: int, message: str) -> bool:
    """Mark a job failed, with a message a reader understands; False when it had ended already."""
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    return job is not None and _end(job, JobStatus.FAILED, message[:2000])


# ------------------------------------------------------------------ the worker

@task("manifesto.export-job", formerly="manifesto.exports.jobs")
def _export_job_task(job_id: int) -> None:
    """Build one queued export (a job of ``manifesto.jobs``); failures are recorded on the job, never raised."""
    run_export_job(job_id)


def enqueue_export_job(job_id: int) -> None:
    """Put a job on the queue (call it after the commit that created the job)."""
    enqueue(_export_job_task, job_id)


class _Reporter:
    """Progress callback of a render: writes the job row at most once a second, and on each new stage."""

    def __init__(self, job_id: int):
        self.job_id, self.last_write, self.last_kind = job_id, 0.0, ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Record progress when a second has passed or the kind of work changed."""
        kind = stage.split(" page ")[0]
        now = time.monotonic()
        if kind == self.last_kind and now - self.last_write < PROGRESS_INTERVAL:
            return
        self.last_write, self.last_kind = now, kind
        try:
            report_progress(self.job_id, stage, done, total)
        except DatabaseUnavailable:  # a busy database costs a progress tick, not the PDF
            log.warning("export job %s: progress not recorded (database unavailable)", self.job_id)


def _failure_message(error: BaseException) -> str:
    """What a reader is told when an export fails, in English as the job row stores it (shown translated)."""
    with force_locale("en"):
        return failure_reason(error)


def failure_reason(error: BaseException) -> str:
    """What a reader is told when an export fails, in the current language (the details go to the log)."""
    if isinstance(error, PdfUnavailable):
        return str(error)
    if isinstance(error, ServiceError):
        return str(error.message)
    if isinstance(error, MemoryError):
        return str(texts.OUT_OF_MEMORY)
    return str(texts.SERVER_ERROR)


def run_export_job(job_id: int) -> None:
    """Build, render and store the file of one queued job, recording its progress and how it ended.

    It runs with an app context and no request (the queue's worker, or a
    thread): the job row's texts are English, the file's fixed texts are in
    the export's language (:func:`~manifesto.exports.labels.in_language`).
    """
    with force_locale("en"):
        _run_export_job(job_id)


def _run_export_job(job_id: int) -> None:
    """:func:`run_export_job`, its messages in English."""
    if not start_export_job(job_id):
        return
    try:
        job = db.session.get(ExportJob, job_id, populate_existing=True)
        document = db.session.get(Document, job.document_id)
        release = job_release(job)
        if document is None or (job.release_id is not None and release is None):
            raise NotFound(_("The document or release of this export no longer exists."))
        options, fmt = job.options, job.fmt
        if fmt != "pdf":
            raise NotFound(_("Only PDF files are built in the background."))
        # The key is read before the text, so a text that changes meanwhile lands under the older key.
        key = cache.cache_key(document, release, fmt, options)
        export = build_export(document, release, options)
        db.session.commit()  # end the read transaction: a long render must not hold a snapshot open
        with in_language(export):
            data = render_pdf(export, _Reporter(job_id))
        path = cache.store(key, data)
        finish_export_job(job_id, str(path.relative_to(cache.export_dir())))
    except JobCancelled:
        log.info("export job %s was replaced while it ran", job_id)
    except Exception as error:  # the job must say it failed, whatever happened
        log.exception("export job %s failed", job_id)
        db.session.rollback()
        try:
            fail_export_job(job_id, _failure_message(error))
        except Exception:
            log.exception("export job %s: could not record the failure", job_id)


# ------------------------------------------------------------------ the download

def send_export(path: Path, name: str, fmt: str = "pdf") -> Response:
    """Send a cached export as an attachment named ``name``.

    The bytes are read first (a few MB at most), so a file replaced by a newer
    one meanwhile is never sent half, and no file handle outlives the request.

    :raises FileNotFoundError: when the file was removed meanwhile.
    """
    data = path.read_bytes()
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt][1], as_attachment=True, download_name=name, max_age=0)


def pdf_response(document: Document, release, options: ExportOptions) -> Response | tuple[str, int]:
    """The web download of a PDF: the cached file, one rendered now for a short text, or a background job.

    :raises NotFound: when the release to compare against does not exist.
    """
    reason = pdf_unavailable_reason()
    if reason is not None:
        return render_template("exports/job_unavailable.html", document=document, release=release,
                               reason=reason), 503
    key = cache.cache_key(document, release, "pdf", options)
    name = download_name(document, release, "pdf", options)
    path = cache.lookup(key)
    if path is not None:
        try:
            return send_export(path, name)
        except FileNotFoundError:  # replaced by a newer file this instant: carry on as if it were missing
            pass
    job = find_active_job(document, release, "pdf", key)
    if job is None and estimate_chars(document, release, options) <= _setting("EXPORT_INLINE_MAX_CHARS",
                                                                             DEFAULT_INLINE_MAX_CHARS):
        export = build_export(document, release, options)
        db.session.commit()  # end the read transaction before typesetting
        return send_export(cache.store(key, render_pdf(export)), name)
    if job is None:
        actor = current_user if current_user.is_authenticated else None
        job = request_export_job(actor, document.id, release.id if release is not None else None, "pdf",
                                 options, key)
    return redirect(url_for("export_jobs.show", slug=document.slug, job_id=job.id))
