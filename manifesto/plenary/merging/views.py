"""Merge pages: the workspace (moderators), its public read-only view and that view's live fragment.

Every page is rendered for its reader and kept by no cache. The workspace is
one form that works without JavaScript: tick changes, "Preview" (saves the
draft and shows the composed text, its diff and each amendment's outcome),
edit by hand, "Merge". Every refusal shows the page again with what was sent.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_time, gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from ...accounts.rules import is_moderator, require_moderator
from ...documents import services as documents
from ...services import ConflictError, NotFound, PermissionDenied, ValidationError
from ...templating import diff_labels
from ...text.combine import CombineError, composed_diff
from ...text.diff import word_diff
from ...text.diff_html import render_inline
from ...text.memo import reusing_work
from ...text.render import render_markdown
from ...web import back_on_refusal
from . import display, services
from .forms import DiscardForm, MergeForm, StartForm

bp = Blueprint("plenary_merge", __name__, url_prefix="/d/<slug>/merge")


def _private(response, cache: str = "private, no-store"):
    """The reader's own page: never kept by a browser's or a proxy's cache."""
    response.headers["Cache-Control"] = cache
    return response


def _load(slug: str, section_id: int):
    """The document and section of the address."""
    document = documents.get_document_or_404(slug)
    return document, documents.get_section_or_404(document, section_id)


def _render(document, section, *, form: MergeForm | None = None, posted=None, message: str | None = None,
            status: int = 200):
    """The workspace as its reader sees it: start, someone else's merge, a stale one, or one's own form.

    ``posted`` (choices, text, reasons) is what a refused form sent, shown again instead of the draft.
    """
    draft = services.get_draft(section.id)
    context = dict(document=document, section=section, draft=draft, message=message,
                   start_form=StartForm(), discard_form=DiscardForm(revision=draft.revision if draft else None))
    if draft is None or draft.moderator_id != current_user.id:
        b = services.board(document, section)
        kept = posted[1] if posted is not None else None  # a refused form's text, not lost with the merge
        return _private(make_response(render_template("plenary/merge/start.html", b=b, kept=kept, **context),
                                      status))
    stale = draft.base_version_id != section.current_version_id
    if stale:  # the moderator's text is kept on the page: what they just sent, else the draft's
        kept = (posted[1] if posted is not None else None) or draft.text
        return _private(make_response(render_template("plenary/merge/stale.html", kept=kept, **context),
                                      409 if status == 200 else status))
    b = services.board(document, section, only=draft.amendment_revisions or None)
    choices, text, reasons = posted if posted is not None else (draft.choices, draft.text, draft.reasons)
    shown = _preview(b, choices, text, reasons)
    comp = shown["comp"]
    if form is None:
        form = MergeForm(formdata=None, revision=draft.revision, base_version=section.version_count,
                         seen=display.write_seen(services.seen_revisions(b)), composed=comp.text, text=shown["final"])
    else:
        form.revision.data, form.composed.data = draft.revision, comp.text
    return _private(make_response(render_template(
        "plenary/merge/workspace.html", b=b, form=form, pieces=display.pieces(b, comp.choices), **shown, **context),
        status))


def _preview(b: services.Board, choices, text: str | None, reasons) -> dict:
    """What the preview shows for these ticks, hand text and reasons (``_preview.html``'s context, but the form)."""
    try:
        comp = services.composition(b, choices, text, actor_id=current_user.id)
    except CombineError:  # the draft's choices no longer fit (amendments changed): start from nothing taken
        comp = services.composition(b, {}, text, actor_id=current_user.id)
    final = comp.text if text is None else text
    taken = [v.amendment for v in comp.verdicts if v.taken]  # the amendments a default reason names
    rows = display.decisions(comp, reasons or {}, lambda a, s: services.default_reason(b, a, s, taken))
    return dict(comp=comp, rows=rows, final=final, diff=_diff(b, comp, final), status_words=STATUS_WORDS,
                hand_edited=text is not None and text != comp.text, rendered=Markup(render_markdown(final)))


def _diff(b: services.Board, comp: services.Composition, final: str) -> str:
    """The merged text against the current version: built from the places, or diffed whole after a hand edit."""
    ops = composed_diff(b.work, comp.choices["places"]) if final == comp.text else word_diff(b.version.body, final)
    return render_inline(ops, labels=diff_labels())


STATUS_WORDS = {
    "accepted": lambda: _("Accepted"), "accepted_modified": lambda: _("Accepted with modifications"),
    "rejected": lambda: _("Rejected"), "obsolete": lambda: _("Obsolete"), "open": lambda: _("Left open (rebased)"),
}


@bp.get("/<int:section_id>")
@login_required
def workspace(slug: str, section_id: int):
    """The merge workspace of one section (moderators)."""
    require_moderator(current_user, _("Only moderators merge amendments."))
    document, section = _load(slug, section_id)
    with reusing_work():  # the current text is diffed against every amendment and the preview: tokenised once
        return _render(document, section)


@bp.post("/<int:section_id>/start")
@login_required
@back_on_refusal("plenary_merge.workspace", shown_to=is_moderator)
def start(slug: str, section_id: int):
    """Start, resume or restart one's merge of a section, or take over another moderator's."""
    require_moderator(current_user, _("Only moderators merge amendments."))
    document, section = _load(slug, section_id)
    form = StartForm()
    if not form.validate():
        return _render(document, section, status=400)
    take_over, restart = bool(request.form.get("take_over")), bool(request.form.get("restart"))
    try:
        services.start_merge(current_user, document.id, section.id, take_over=take_over, restart=restart)
    except services.MergeInProgress as refused:
        return _render(document, section, message=refused.message, status=409)
    if take_over:
        flash(_("You have taken over this merge."), "success")
    return redirect(url_for("plenary_merge.workspace", slug=slug, section_id=section_id), 303)


@bp.post("/<int:section_id>")
@login_required
def save(slug: str, section_id: int):
    """The workspace form: preview (save the draft), start again from the ticks, merge, or discard."""
    require_moderator(current_user, _("Only moderators merge amendments."))
    document, section = _load(slug, section_id)
    form = MergeForm()
    draft = services.get_draft(section.id)
    seen = display.read_seen(form.seen.data)
    b = services.board(document, section, only=seen or (draft.amendment_revisions if draft else None))
    choices, reasons = display.read_choices(b, request.form), display.read_reasons(b, request.form)
    text = form.text.data if form.text.data is not None else None
    action = request.form.get("action", "preview")
    if action == "reset":
        text = None  # start again from the ticks
    elif text is not None and text.replace("\r\n", "\n").strip() == (form.composed.data or "").replace(
            "\r\n", "\n").strip():
        text = None  # not edited by hand: the text follows the ticks
    posted = (choices, text, reasons)
    if not form.validate():
        return _render(document, section, form=form, posted=posted, status=400)
    try:
        if action == "merge":
            composed_now = services.composition(b, choices).text
            if text is None and composed_now != (form.composed.data or "").replace("\r\n", "\n"):
                # The ticks changed since the preview: merging must be what the moderator saw.
                raise ValidationError(_("Your ticks changed since the preview. Check the new preview below, then "
                                        "merge."))
            decisions = {a.id: (reasons[services.key_of(a)]["status"], reasons[services.key_of(a)]["reason"])
                         for a in b.amendments}
            merged = services.complete_merge(
                current_user, document.id, section.id, revision=form.revision.data or None,
                base_version=form.base_version.data or None, choices=choices, final_text=text,
                decisions=decisions, seen=seen)
            flash(_("The section is merged: version %(version)s.", version=merged.version.number)
                  if merged.version else _("The amendments are decided; the text is unchanged."), "success")
            return redirect(url_for("documents.section", slug=slug, section_id=section_id), 303)
        services.save_draft(current_user, section.id, revision=form.revision.data or None, choices=choices,
                            text=text, reasons=reasons, seen=seen)
    except (ValidationError, ConflictError, NotFound, PermissionDenied, CombineError) as refused:
        # Every refusal shows the workspace again with what was sent (or, with no merge left, the text kept).
        message = getattr(refused, "message", None) or _("These choices do not fit the workspace any more.")
        return _render(document, section, form=form, posted=posted, message=message,
                       status=getattr(refused, "status", 400))
    flash(_("Draft saved."), "success")
    return redirect(url_for("plenary_merge.workspace", slug=slug, section_id=section_id) + "#preview", 303)


@bp.post("/<int:section_id>/autosave")
@login_required
def autosave(slug: str, section_id: int):
    """Save the draft from the page's script (JSON answer: the new revision and when).

    With ``preview`` in the form (the moderator ticked a change), the answer also brings the preview for
    the ticks just saved (``_preview.html``) and the text they compose, so the page shows it at once.
    """
    require_moderator(current_user, _("Only moderators merge amendments."))
    document, section = _load(slug, section_id)
    form = MergeForm()
    if not form.validate():
        return {"saved": False, "message": _("The page is too old; reload it.")}, 400
    seen = display.read_seen(form.seen.data)
    b = services.board(document, section, only=seen or None)
    text = form.text.data
    if text is not None and text.replace("\r\n", "\n").strip() == (form.composed.data or "").replace(
            "\r\n", "\n").strip():
        text = None
    choices, reasons = display.read_choices(b, request.form), display.read_reasons(b, request.form)
    try:
        draft = services.save_draft(current_user, section.id, revision=form.revision.data or None,
                                    choices=choices, text=text, reasons=reasons, seen=seen)
    except (ValidationError, ConflictError) as refused:
        return _private(make_response({"saved": False, "message": refused.message}, refused.status))
    answer = {"saved": True, "revision": draft.revision,
              "message": _("Draft saved %(time)s", time=format_time(draft.updated_at, "short"))}
    if request.form.get("preview"):
        with reusing_work():
            shown = _preview(b, choices, text, reasons)
        form.text.data, form.composed.data = shown["final"], shown["comp"].text
        answer["composed"] = shown["comp"].text
        answer["preview"] = render_template("plenary/merge/_preview.html", b=b, form=form, document=document,
                                            **shown)
    return _private(make_response(answer))


@bp.post("/<int:section_id>/discard")
@login_required
@back_on_refusal("plenary_merge.workspace", shown_to=is_moderator)
def discard(slug: str, section_id: int):
    """Give up one's merge: the draft is deleted, nothing else changes."""
    require_moderator(current_user, _("Only moderators merge amendments."))
    document, section = _load(slug, section_id)
    form = DiscardForm()
    if not form.validate():
        return _render(document, section, status=400)
    services.discard_merge(current_user, section.id, revision=form.revision.data or None)
    flash(_("The merge is discarded; nothing was changed."), "success")
    return redirect(url_for("documents.section", slug=slug, section_id=section_id), 303)


def _public(document, section) -> dict:
    """What anyone who reads the document may see of a merge in progress: its text, its diff, what is in."""
    draft = services.get_draft(section.id)
    if draft is None or draft.base_version_id != section.current_version_id:
        return {"draft": None}
    b = services.board(document, section, only=draft.amendment_revisions or None)
    try:
        comp = services.composition(b, draft.choices, draft.text)
    except CombineError:
        comp = services.composition(b, {}, draft.text)
    final = comp.text if draft.text is None else draft.text
    return {"draft": draft, "b": b, "comp": comp, "final": final, "diff": _diff(b, comp, final)}


@bp.get("/<int:section_id>/view")
def view(slug: str, section_id: int):
    """The merge in progress, read-only, for anyone who reads the document; updated live."""
    document, section = _load(slug, section_id)
    return _private(make_response(render_template("plenary/merge/view.html", document=document, section=section,
                                                  topic=services.merge_topic(section.id),
                                                  **_public(document, section))), "private, no-cache")


def view_content(section_id: int) -> str:
    """The public view's changing part (``/view/fragment``) as every reader sees it: the live pump's renderer.

    Whoever may follow ``merge:<section>`` may read the document, and the public view is the same for all,
    so the events process renders it once per language for every phone following the merge
    (``live/content.py``) instead of each of them composing the merge again after every autosave.
    """
    found = services.placed(section_id)
    if found is None:
        raise LookupError(f"no section {section_id}")
    document, section = found
    with reusing_work():
        return render_template("plenary/merge/_view_body.html", document=document, section=section,
                               **_public(document, section))


@bp.get("/<int:section_id>/view/fragment")
def fragment(slug: str, section_id: int):
    """The changing part of the public view (what a live region fetches on each notice)."""
    document, section = _load(slug, section_id)
    return _private(make_response(render_template("plenary/merge/_view_body.html", document=document,
                                                  section=section, **_public(document, section))),
                    "private, no-cache")
