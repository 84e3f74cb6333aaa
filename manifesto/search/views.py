"""Pages of the search area: search a document, and its activity since the last visit."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..documents import services as documents
from ..services import MAX_ID
from ..web import page_arg
from . import activity, services
from .forms import SearchForm

bp = Blueprint("search", __name__, url_prefix="/d/<slug>")


@bp.get("/search")
def search(slug: str):
    """Search the document's sections, amendments and comments; matches highlighted, linked to their place."""
    document = documents.get_document_or_404(slug)
    form = SearchForm(request.args)
    results = None
    if form.q.data:
        results = services.search(document, form.q.data, kind=form.kind.data, page=page_arg())
    return render_template("search/search.html", document=document, form=form, results=results,
                           kinds=services.KINDS)


@bp.get("/activity")
def activity_page(slug: str):
    """What happened to the document, newest first; what is new since the reader's last visit is marked."""
    document = documents.get_document_or_404(slug)
    last_seen_at = activity.last_visit(current_user, document)
    previous = activity.mark_visit(current_user, document)
    # Later pages keep the first page's "since", as the visit has moved on meanwhile.
    since = request.args.get("since", type=int)
    if since is None or not 0 <= since <= MAX_ID:
        since = previous
    page = activity.feed(document, since=since, what=request.args.get("what"), page=page_arg())
    return render_template("search/activity.html", document=document, page=page, filters=activity.FILTERS,
                           last_seen_at=last_seen_at if previous is not None else None)
