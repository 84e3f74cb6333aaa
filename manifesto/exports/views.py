"""Download pages: the export form and the files themselves.

``GET /d/<slug>/export`` shows the options as a GET form (the address of a
file says what it holds, so a link to it can be shared);
``GET /d/<slug>/export/<fmt>?release=..&lines=1&annex=1&credits=1&against=..``
answers the file as an attachment. Files come from the cache; a missing one
is built in the request, except long PDFs, which the background queue
builds (``jobs.pdf_response``). The JSON archive holds the whole database
and only admins may download it.
"""

from __future__ import annotations

import io

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..documents import services as documents
from ..extensions import db
from ..services import NotFound
from . import cache, formats
from .build import resolve_release
from .forms import ExportForm, flag, options_from, query_of
from .model import FORMATS, ExportOptions

bp = Blueprint("exports", __name__)

# The buttons, in the order people look for them.
DOWNLOADS = (("pdf", "PDF"), ("docx", "Word (DOCX)"), ("html", "HTML"), ("md", "Markdown"), ("txt", _l("Plain text")))


def _load(slug: str, release_slug: str | None = None):
    """The document and (when named) its release, or a readable 404."""
    try:
        document = documents.get_document_or_404(slug)
        release = resolve_release(document, release_slug) if release_slug else None
    except NotFound as error:
        abort(404, description=error.message)
    return document, release


def pdf_unavailable() -> str | None:
    """What to install for PDF export, or None when it works."""
    try:
        from .pdf import pdf_unavailable_reason
    except ImportError:  # the PDF module itself could not load
        return _("PDF export is not available on this server.")
    return pdf_unavailable_reason()


@bp.app_template_global("export_links")
def export_links(document, release=None, options: ExportOptions | None = None) -> list[dict]:
    """The download buttons of a text: format, label, address (and, for the PDF, why it is unavailable)."""
    query = query_of(options or ExportOptions(), release.slug if release is not None else None)
    links = []
    for fmt, label in DOWNLOADS:
        url = url_for("exports.download", slug=document.slug, fmt=fmt, **query)
        link = {"fmt": fmt, "label": str(label), "url": url}
        if fmt == "pdf":
            link["unavailable"] = pdf_unavailable()
        links.append(link)
    return links


@bp.get("/d/<slug>/export")
def export_page(slug: str):
    """The export options of a document's text: which text, line numbers, annex, credits, redline."""
    document, _ = _load(slug)
    from ..releases import services as releases

    form = ExportForm(request.args)
    form.fill_choices(releases.list_releases(document), document.language)
    release_slug = request.args.get("release") or None
    release = None
    if release_slug:
        document, release = _load(slug, release_slug)
    options = options_from(request.args)
    if options.redline_against:
        _load(slug, options.redline_against)  # an unknown release is a readable 404 here too
    return render_template("exports/export.html", document=document, release=release, form=form, options=options,
                           links=export_links(document, release, options),
                           can_archive=current_user.is_authenticated and current_user.is_admin)


@bp.get("/d/<slug>/export/<fmt>")
def download(slug: str, fmt: str):
    """One export file, as an attachment: from the cache, built now, or (a long PDF) by the background queue."""
    if fmt not in FORMATS:
        abort(404, description=_("There is no export format “%(format)s”. Choose PDF, DOCX, Markdown, HTML, "
                                 "plain text or the JSON archive.", format=fmt[:40]))
    document, release = _load(slug, request.args.get("release") or None)
    if fmt == "json":
        return _archive()
    options = options_from(request.args)
    try:
        if options.redline_against:
            resolve_release(document, options.redline_against)
        if fmt == "pdf":
            from .jobs import pdf_response

            return pdf_response(document, release, options)
        path = cache.get_or_render(document, release, fmt, options, lambda doc: formats.render(fmt, doc))
    except NotFound as error:
        abort(404, description=error.message)
    db.session.commit()  # end the read transaction before sending a file
    name = formats.download_name(document.slug, release.slug if release is not None else None, options, fmt)
    try:
        data = path.read_bytes()  # these formats are small; a PDF is sent from its file by jobs.pdf_response
    except FileNotFoundError:  # replaced by a newer file this instant: build it again
        render = lambda doc: formats.render(fmt, doc)  # noqa: E731
        data = cache.get_or_render(document, release, fmt, options, render).read_bytes()
    return send_file(io.BytesIO(data), mimetype=FORMATS[fmt][1], as_attachment=True, download_name=name,
                     max_age=0)


def _archive():
    """The JSON archive of the whole database: admins only (it holds every account, and emails when asked)."""
    if not current_user.is_authenticated:
        abort(403, description=_("Only admins can download the archive of the whole database. Log in first."))
    if not current_user.is_admin:
        abort(403, description=_("Only admins can download the archive of the whole database."))
    from .archive import write_archive

    data = write_archive(include_emails=flag(request.args, "emails"))
    db.session.commit()
    response = send_file(io.BytesIO(data), mimetype=FORMATS["json"][1], as_attachment=True,
                         download_name="manifesto-archive.json", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
