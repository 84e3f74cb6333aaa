"""Release pages: the list, one release's text, publishing, and the redline between two texts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.rules import is_admin, require_moderator
from ..documents import serving
from ..documents import services as documents
from ..services import NotFound
from ..web import back_on_refusal, page_arg, refusals
from . import services
from .forms import MarkFinalForm, PublishForm
from .redline import CHANGE_LABELS, compare_texts, summary

bp = Blueprint("releases", __name__)

LIVE = "live"  # the live text, in comparisons


@bp.get("/d/<slug>/releases")
def index(slug: str):
    """A document's releases, newest first: name, date, who published it, and links to read and compare."""
    document = documents.get_document_or_404(slug)
    pagination = services.releases_page(document, page_arg())
    return render_template("releases/index.html", document=document, pagination=pagination,
                           can_publish=services.can_publish(current_user))


@bp.route("/d/<slug>/releases/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    """Publish the live text as a release (moderators; a final release, admins)."""
    document = documents.get_document_or_404(slug)
    require_moderator(current_user, _("Only moderators can publish a release."))
    form = PublishForm()
    can_final = services.can_mark_final(current_user)
    status = 200
    if form.validate_on_submit():
        with refusals(form) as refused:
            release = services.publish_release(current_user, document.id, name=form.name.data,
                                               description=form.description.data or "",
                                               final=bool(form.final.data))
            if release.is_final:
                flash(_("The release “%(name)s” is published and the document is final.", name=release.name),
                      "success")
            else:
                flash(_("The release “%(name)s” is published.", name=release.name), "success")
            return redirect(url_for("releases.show", slug=slug, release_slug=release.slug))
        status = refused.status
    elif form.errors:
        status = 400
    outline = documents.outline(document)
    return render_template("releases/new.html", document=document, form=form, can_final=can_final,
                           outline=outline, latest=services.latest_release(document)), status


@bp.get("/d/<slug>/releases/<release_slug>")
def show(slug: str, release_slug: str):
    """One release's text as it was frozen, with a table of contents and line numbers (``?lines=0`` hides them)."""
    document = documents.get_document_or_404(slug)
    release = services.get_release_or_404(document, release_slug)
    show_lines = request.args.get("lines") != "0"

    def body() -> str:
        """The frozen text (the same for every reader of a variant)."""
        return render_template("releases/_show_body.html", document=document, release=release,
                               entries=services.release_entries(release), show_lines=show_lines)

    def shell(html):
        """The page around the text, with the admin's form to mark the release final."""
        return render_template("releases/show.html", document=document, release=release, body=html,
                               can_mark_final=services.can_mark_final(current_user) and not release.is_final,
                               final_form=MarkFinalForm())

    return serving.serve(document, "release", params=(release.id, show_lines), body=body, shell=shell)


@bp.post("/d/<slug>/releases/<release_slug>/final")
@login_required
@back_on_refusal("releases.show", shown_to=is_admin)
def mark_final(slug: str, release_slug: str):
    """Make a release the final text (admins)."""
    document = documents.get_document_or_404(slug)
    release = services.get_release_or_404(document, release_slug)
    form = MarkFinalForm()
    if not form.validate():
        flash(_("The form is out of date. Reload the page and try again."), "error")
    else:
        services.mark_release_final(current_user, document.id, release.id)
        flash(_("“%(name)s” is the final text; the document is in its final phase.", name=release.name),
              "success")
    return redirect(url_for("releases.show", slug=slug, release_slug=release_slug))


@bp.get("/d/<slug>/compare")
def compare(slug: str):
    """The redline between two texts: ``?from=<release>&to=<release or live>``.

    Without ``from``, the newest release is compared with the live text.
    """
    document = documents.get_document_or_404(slug)
    releases = services.list_releases(document)
    from_slug = request.args.get("from") or (releases[0].slug if releases else None)
    to_slug = request.args.get("to") or LIVE
    if from_slug is None:
        return render_template("releases/compare.html", document=document, old=None, new=None,
                               body=render_template("releases/_compare_body.html", document=document,
                                                    releases=releases, changes=None, old=None, new=None,
                                                    from_slug=None, to_slug=LIVE))
    by_slug = {release.slug: release for release in releases}
    if from_slug not in by_slug or (to_slug != LIVE and to_slug not in by_slug):
        raise NotFound(_("This document has no release at this address: choose one from the list of "
                         "releases to compare."))
    old, new = by_slug[from_slug], by_slug.get(to_slug)
    show_all = request.args.get("all") == "1"

    def body() -> str:
        """The redline (the same for every reader of a variant)."""
        changes = compare_texts(document, old, new)
        return render_template("releases/_compare_body.html", document=document, releases=releases, old=old,
                               new=new, from_slug=from_slug, to_slug=to_slug, changes=changes,
                               counts=summary(changes), labels=CHANGE_LABELS, show_all=show_all)

    return serving.serve(document, "redline", params=(from_slug, to_slug, show_all), body=body,
                         shell=lambda html: render_template("releases/compare.html", document=document, old=old,
                                                            new=new, body=html))
