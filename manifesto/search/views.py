"""Pages of the search area: search a document."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from ..documents import services as documents
from ..services import NotFound
from ..web import page_arg
from . import indexing, services  # noqa: F401  (indexing follows every recorded change)
from .forms import SearchForm

bp = Blueprint("search", __name__, url_prefix="/d/<slug>")


def _document(slug: str):
    """Load the document or answer 404."""
    try:
        return documents.get_document_or_404(slug)
    except NotFound as error:
        abort(404, description=error.message)


@bp.get("/search")
def search(slug: str):
    """Search the document's sections, amendments and comments; matches highlighted, linked to their place."""
    document = _document(slug)
    form = SearchForm(request.args)
    results = None
    if form.q.data:
        results = services.search(document, form.q.data, kind=form.kind.data, page=page_arg())
    return render_template("search/search.html", document=document, form=form, results=results,
                           kinds=services.KINDS)
