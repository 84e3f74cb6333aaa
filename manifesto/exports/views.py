"""Download pages: the export form, the files themselves, and the pages of PDFs built in the background.

``GET /d/<slug>/export`` shows the options as a GET form (the address of a
file says what it holds, so a link to it can be shared);
``GET /d/<slug>/export/<fmt>?release=..&lines=1&annex=1&credits=1&against=..``
answers the file as an attachment. Files come from the cache; a missing one
is built in the request, except long PDFs, which the background queue
builds (``jobs.pdf_response``). A PDF that fails while it is built in the
request answers the export page with the reason, as a failed job's page
does. The JSON archive holds the whole database and only admins may
download it.

The job pages (blueprint ``export_jobs``) show a long PDF's progress, then
its download link. A job's page reloads itself every few seconds while the
job runs (a ``Refresh`` header: no script), so a reader can wait on it, leave
and come back; the document's list of exports finds it again.
"""

from __future__ import annotations

import functools
import io
import logging

from flask import Blueprint, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .. import pagecache
from ..accounts.rules import is_admin, require_admin
from ..audit import states
from ..documents import services as documents
from ..extensions import db
from ..releases import services as releases
from ..services import DatabaseUnavailable, NotFound, PermissionDenied, ServiceError
from ..web import page_arg
from . import cache, formats, jobs, pdf
from .archive.writer import write_archive
from .build import resolve_release
from .formats import FORMATS
from .forms import ExportForm, flag, options_from, query_of
from .options import ExportOptions
from .pdf import PdfUnavailable

bp = Blueprint("exports", __name__)
jobs_bp = Blueprint("export_jobs", __name__, url_prefix="/d")
log = logging.getLogger(__name__)

# The buttons, in the order people look for them.
DOWNLOADS = (("pdf", "PDF"), ("docx", "Word (DOCX)"), ("html", "HTML"), ("md", "Markdown"), ("txt", _l("Plain text")))
REFRESH_SECONDS = 3  # how often a running job's page reloads itself


def _release(document, release_slug: str | None):
    """The named release of the document, or None for the live text.

    :raises NotFound: for a release the document does not have.
    """
    return resolve_release(document, release_slug) if release_slug else None


@bp.app_template_global("export_links")
def export_links(document, release=None, options: ExportOptions | None = None) -> list[dict]:
    """The download buttons of a text: format, label, address (and, for the PDF, why it is unavailable)."""
    query = query_of(options or ExportOptions(), release.slug if release is not None else None)
    links = []
    for fmt, label in DOWNLOADS:
        url = url_for("exports.download", slug=document.slug, fmt=fmt, **query)
        link = {"fmt": fmt, "label": str(label), "url": url}
        if fmt == "pdf":
            link["unavailable"] = pdf.pdf_unavailable_reason()  # looked up each time: tests replace it
        links.append(link)
    return links


@bp.get("/d/<slug>/export")
def export_page(slug: str):
    """The export options of a document's text: which text, line numbers, annex, credits, redline."""
    return _export_page(documents.get_document_or_404(slug))


def _export_page(document, failure: str | None = None, status: int = 200):
    """Render the export options of ``document`` from the query string, with why a download failed, if it did.

    :raises NotFound: for a release (to export, or to compare with) the document does not have.
    """
    form = ExportForm(request.args)
    form.fill_choices(releases.list_releases(document), document.language)
    release = _release(document, request.args.get("release") or None)
    options = options_from(request.args)
    _release(document, options.redline_against)  # an unknown release is a readable 404 here too
    return render_template("exports/export.html", document=document, release=release, form=form, options=options,
                           links=export_links(document, release, options), can_archive=is_admin(current_user),
                           failure=failure), status


@bp.get("/d/<slug>/export/<fmt>")
def download(slug: str, fmt: str):
    """One export file, as an attachment: from the cache, built now, or (a long PDF) by the background queue."""
    if fmt not in FORMATS:
        raise NotFound(_("There is no export format “%(format)s”. Choose PDF, DOCX, Markdown, HTML, "
                         "plain text or the JSON archive.", format=fmt[:40]))
    document = documents.get_document_or_404(slug)
    release = _release(document, request.args.get("release") or None)
    if fmt == "json":
        return _archive()
    options = options_from(request.args)
    _release(document, options.redline_against)
    # A file depends on the text (or the release), the options and the language: the same for every reader.
    state = states.read(states.SITE, states.document_scope(document.id))
    tag = pagecache.etag("export", fmt, document.id, release.id if release is not None else None, state.marks,
                         sorted(query_of(options, None).items()), str(get_locale()))
    fresh = pagecache.answer_if_fresh(tag, state.changed_at, shared=True)
    if fresh is not None:
        return fresh
    response = make_response(_download(document, release, fmt, options))
    if response.status_code == 200:
        pagecache.set_validators(response, tag, state.changed_at, shared=True)
    return response


def _download(document, release, fmt: str, options: ExportOptions):
    """The file itself: from the export cache, built now, or (a long PDF) from the background queue."""
    if fmt == "pdf":
        return _pdf(document, release, options)
    render = functools.partial(formats.render, fmt)
    path = cache.get_or_render(document, release, fmt, options, render)
    db.session.commit()  # end the read transaction before sending a file
    name = formats.download_name(document.slug, release.slug if release is not None else None, options, fmt)
    try:
        data = path.read_bytes()  # these formats are small; a PDF is sent from its file by jobs.pdf_response
    except FileNotFoundError:  # replaced by a newer file this instant: build it again
        data = cache.get_or_render(document, release, fmt, options, render).read_bytes()
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt][1], as_attachment=True, download_name=name,
                     max_age=0)


def _pdf(document, release, options: ExportOptions):
    """The PDF download (``jobs.pdf_response``); a render that fails in the request answers the export page.

    The reason is the one a failed background job shows (the details go to
    the log): 503 when the server lacks what PDFs need, else 500. A service's
    refusal and a database that failed go on to their own pages.
    """
    slug = document.slug
    try:
        return jobs.pdf_response(document, release, options)
    except (ServiceError, DatabaseUnavailable, SQLAlchemyError, HTTPException):
        raise
    except Exception as error:  # the reader is told, whatever the renderer raised
        log.exception("PDF of %s failed in the request", slug)
        db.session.rollback()
        status = 503 if isinstance(error, (MemoryError, PdfUnavailable)) else 500
        return _export_page(documents.get_document_or_404(slug), jobs.failure_reason(error), status)


def _archive():
    """The JSON archive of the whole database: admins only (it holds every account, and emails when asked)."""
    if not current_user.is_authenticated:
        raise PermissionDenied(_("Only admins can download the archive of the whole database. Log in first."))
    require_admin(current_user, _("Only admins can download the archive of the whole database."))
    data = write_archive(include_emails=flag(request.args, "emails"))
    db.session.commit()
    response = send_file(io.BytesIO(data), mimetype=FORMATS["json"][1], as_attachment=True,
                         download_name="manifesto-archive.json", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------ PDFs built in the background

@jobs_bp.context_processor
def _job_helpers() -> dict:
    """What the job pages share: the options in words."""
    return {"describe_options": jobs.describe_options}


@jobs_bp.get("/<slug>/exports/jobs", endpoint="index")
def job_list(slug: str):
    """The document's exports built in the background, newest first."""
    document = documents.get_document_or_404(slug)
    pagination = jobs.recent_jobs(document, page_arg())
    return render_template("exports/jobs.html", document=document, pagination=pagination,
                           releases=jobs.releases_of(pagination.items))


@jobs_bp.get("/<slug>/exports/jobs/<int:job_id>", endpoint="show")
def job_page(slug: str, job_id: int):
    """One export job: its progress while it runs, then its download link or why it failed."""
    document = documents.get_document_or_404(slug)
    job = jobs.get_job_or_404(document, job_id)
    response = render_template("exports/job.html", document=document, job=job, release=jobs.job_release(job),
                               options=job.options, has_file=jobs.job_file(job) is not None,
                               refresh=REFRESH_SECONDS if job.active else None)
    headers = {"Refresh": str(REFRESH_SECONDS), "Cache-Control": "no-store"} if job.active else {}
    return response, 200, headers


@jobs_bp.get("/<slug>/exports/jobs/<int:job_id>/file", endpoint="download")
def job_download(slug: str, job_id: int):
    """The file a finished job built."""
    document = documents.get_document_or_404(slug)
    job = jobs.get_job_or_404(document, job_id)
    path = jobs.job_file(job)
    if path is not None:
        name = jobs.download_name(document, jobs.job_release(job), job.fmt, job.options)
        try:
            return jobs.send_export(path, name, job.fmt)
        except FileNotFoundError:  # replaced by a newer file this instant
            pass
    flash(_("This file is not available: the export is not finished, failed, or was replaced by a newer one."),
          "error")
    return redirect(url_for("export_jobs.show", slug=slug, job_id=job_id))


@jobs_bp.get("/<slug>/exports/jobs/<int:job_id>/again", endpoint="again")
def job_again(slug: str, job_id: int):
    """The same export as this job's, from the text as it is now: the cached file or a new job."""
    document = documents.get_document_or_404(slug)
    job = jobs.get_job_or_404(document, job_id)
    return _pdf(document, jobs.job_release(job), job.options)
