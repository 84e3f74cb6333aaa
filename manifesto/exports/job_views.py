"""Pages of long exports built in the background: progress, then the download link.

A job's page reloads itself every few seconds while the job runs (a
``Refresh`` header: no script), so a reader can wait on it, leave and come
back; the document's list of exports finds it again.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..documents import services as documents
from ..services import NotFound
from ..web import page_arg
from . import jobs
from .model import ExportOptions

bp = Blueprint("export_jobs", __name__, url_prefix="/d")

REFRESH_SECONDS = 3


@bp.context_processor
def _helpers() -> dict:
    """What the job pages share: the options in words."""
    return {"describe_options": jobs.describe_options}


def _load(slug: str, job_id: int | None = None):
    """The document (and one of its export jobs) or a 404 page."""
    try:
        document = documents.get_document_or_404(slug)
        job = jobs.get_job_or_404(document, job_id) if job_id is not None else None
    except NotFound as error:
        abort(404, description=error.message)
    return document, job


@bp.get("/<slug>/exports/jobs")
def index(slug: str):
    """The document's exports built in the background, newest first."""
    document, _ = _load(slug)
    pagination = jobs.recent_jobs(document, page_arg())
    releases = jobs.releases_of(pagination.items)
    return render_template("exports/jobs.html", document=document, pagination=pagination, releases=releases)


@bp.get("/<slug>/exports/jobs/<int:job_id>")
def show(slug: str, job_id: int):
    """One export job: its progress while it runs, then its download link or why it failed."""
    document, job = _load(slug, job_id)
    release = jobs.job_release(job)
    response = render_template("exports/job.html", document=document, job=job, release=release,
                               options=job.options, has_file=jobs.job_file(job) is not None,
                               refresh=REFRESH_SECONDS if job.active else None)
    headers = {"Refresh": str(REFRESH_SECONDS), "Cache-Control": "no-store"} if job.active else {}
    return response, 200, headers


@bp.get("/<slug>/exports/jobs/<int:job_id>/file")
def download(slug: str, job_id: int):
    """The file a finished job built."""
    document, job = _load(slug, job_id)
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


@bp.get("/<slug>/exports/jobs/<int:job_id>/again")
def again(slug: str, job_id: int):
    """The same export as this job's, from the text as it is now: the cached file or a new job."""
    document, job = _load(slug, job_id)
    options: ExportOptions = job.options
    try:
        return jobs.pdf_response(document, jobs.job_release(job), options)
    except NotFound as error:
        abort(404, description=error.message)
