"""Document pages: reading, sections, history, comparison, and moderators' editing."""

from __future__ import annotations

import re

from flask import Blueprint, flash, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required
from markupsafe import Markup

from ..accounts.rules import is_moderator, require_admin, require_moderator, stand_in
from ..audit import labels as audit_labels
from ..audit import states
from ..audit.services import document_log
from ..forms import choices
from ..i18n import current_zone
from ..services import ConflictError
from ..text.diff import word_diff
from ..templating import diff_labels, render_parts, unpack_parts
from ..text.diff_html import relabel, render_inline
from ..web import back_on_refusal, int_arg, page_arg, refusals
from . import services, serving
from .contributions import page_figures
from .models import version_kind_label
from .forms import DocumentSettingsForm, MoveForm, NewSectionForm, RetireForm, RevertForm, SectionForm

bp = Blueprint("documents", __name__, url_prefix="/d")

# Audit events in words, in the reader's language, for every template (the log, the
# activity page, an amendment's audit trail): {{ event.action|audit_action }} and the rest.
bp.app_template_filter("audit_action")(audit_labels.action_label)
bp.app_template_filter("audit_object")(audit_labels.object_label)
bp.app_template_filter("audit_state")(audit_labels.state_label)
bp.app_template_filter("audit_automatic")(audit_labels.automatic)
bp.app_template_filter("audit_reason")(audit_labels.reason_label)
bp.app_template_global("version_kind")(version_kind_label)


@bp.get("/<slug>/")
def read(slug: str):
    """The whole document on one page, with a table of contents and optional line numbers."""
    document = services.get_document_or_404(slug)
    show_lines = request.args.get("lines") == "1"

    def text() -> str:
        """The text of every section with its open amendments (the same for every reader of a variant)."""
        return render_template("documents/_read_body.html", document=document, show_lines=show_lines,
                               entries=services.current_sections(document),
                               **page_figures(document, current_user, "read"))

    def body() -> str:
        """The text, kept until the text or its amendments change, with the comment counts filled in.

        Comments come far more often than changes of the text: a new one fills 300 counts into the
        kept text again, where it rendered the whole page.
        """
        kept = serving.cached_part(document, "read-text", [states.reading_scope(document.id)], text,
                                   params=(show_lines,))
        return fill_comment_counts(kept, document,
                                   page_figures(document, current_user, "read-comments").get("comment_counts"))

    return serving.serve(document, "read", params=(show_lines,), body=body,
                         parts=[states.reading_scope(document.id), states.reading_comments_scope(document.id)],
                         shell=lambda html: render_template("documents/read.html", document=document, body=html))


_COMMENT_COUNT = re.compile(r"<!--comment-count:(\d+):([\w.]+)-->")


def fill_comment_counts(html: str, document, counts: dict[int, int] | None) -> str:
    """Put each section's comment count where the reading page's kept text marks it (none without comments).

    The marks cannot come from what people write: their text is sanitised, comments stripped, and
    the numbered view escapes it.
    """
    if counts is None:
        return _COMMENT_COUNT.sub("", html)
    link = get_template_attribute("documents/_comment_count.html", "comment_count")
    return _COMMENT_COUNT.sub(lambda mark: str(link(document, int(mark[1]), mark[2], counts.get(int(mark[1]), 0))),
                              html)


@bp.get("/<slug>/sections/<int:section_id>")
def section(slug: str, section_id: int):
    """A section's current text, its discussion, and its history."""
    document = services.get_document_or_404(slug)
    section = services.get_section_or_404(document, section_id)
    show_lines = request.args.get("lines") == "1"
    can_edit = services.can_edit_sections(current_user)

    def body() -> str:
        """The section's number, text, threads and history, as a stand-in of the reader's role sees them.

        The history's revert forms carry the reader's CSRF token: for those who may revert, the shell renders it.
        """
        return render_parts("documents/_section_body.html", document=document, section=section,
                            entry=services.section_entry(document, section), show_lines=show_lines,
                            history=None if can_edit else services.section_history(section), can_edit=False,
                            **page_figures(document, stand_in(current_user), "section", section=section))

    def shell(cached: Markup) -> str:
        """The page around the cached parts: follow button, moderators' forms, the comment form, one's own threads."""
        return render_template("documents/section.html", document=document, section=section,
                               parts=unpack_parts(cached), show_lines=show_lines, can_edit=can_edit,
                               history=services.section_history(section) if can_edit else None,
                               **page_figures(document, current_user, "section", section=section,
                                              reader_only=True))

    return serving.serve(document, "section", params=(section.id, show_lines, page_arg("comments")), body=body,
                         shell=shell, parts=[states.section_scope(section.id)])


@bp.get("/<slug>/sections/<int:section_id>/versions/<int:number>")
def version(slug: str, section_id: int, number: int):
    """One version of a section as it was."""
    document = services.get_document_or_404(slug)
    section = services.get_section_or_404(document, section_id)
    version = services.get_version_or_404(section, number)
    return render_template("documents/version.html", document=document, section=section, version=version,
                           show_lines=request.args.get("lines") == "1")


@bp.get("/<slug>/sections/<int:section_id>/compare")
def compare(slug: str, section_id: int):
    """Word-level diff between two versions of a section, inline or side by side."""
    document = services.get_document_or_404(slug)
    section = services.get_section_or_404(document, section_id)
    newest = section.version_count
    old_n = int_arg("from") or max(1, newest - 1)
    new_n = int_arg("to") or newest
    view = "side" if request.args.get("view") == "side" else "inline"
    old = services.get_version_or_404(section, old_n)
    new = services.get_version_or_404(section, new_n)

    def body() -> str:
        """The word diff (the same for every reader of a variant)."""
        inline_html, side_html = services.compare_versions(old, new)
        heading_ops = word_diff(old.heading, new.heading) if old.heading != new.heading else None
        labels = diff_labels()  # stored diffs speak English; the page speaks its reader's language
        return render_template("documents/_compare_body.html", document=document, section=section, old=old,
                               new=new, view=view, diff_html=relabel(side_html if view == "side" else inline_html,
                                                                      labels),
                               heading_diff=render_inline(heading_ops, labels=labels) if heading_ops else None,
                               numbers=range(1, newest + 1))

    return serving.serve(document, "compare", params=(section.id, old.number, new.number, view), body=body,
                         shell=lambda html: render_template("documents/compare.html", document=document, old=old,
                                                            new=new, body=html))


@bp.route("/<slug>/sections/new", methods=["GET", "POST"])
@login_required
def new_section(slug: str):
    """Add a section (moderators)."""
    document = services.get_document_or_404(slug)
    require_moderator(current_user, _("Only moderators can add sections."))
    entries = services.outline(document)
    form = NewSectionForm()
    form.after.choices = choices([(0, _("At the beginning"))] + [
        (e.section_id, _("After §%(number)s %(heading)s", number=e.number, heading=e.heading)) for e in entries])
    if request.method == "GET":
        form.structure_version.data = document.structure_version
        if entries:
            form.after.data = int_arg("after") or entries[-1].section_id
    status = 200
    if form.validate_on_submit():
        with refusals(form, on_conflict=lambda error: None) as refused:
            section = services.create_section(
                current_user, document.id, heading=form.heading.data, body=form.body.data,
                reason=form.reason.data, after_section_id=form.after.data or None,
                structure_version=form.structure_version.data or None)
            flash(_("The section is added."), "success")
            return redirect(url_for("documents.section", slug=slug, section_id=section.id))
        status = refused.status
        form.structure_version.data = document.structure_version  # sending again is a deliberate choice
    elif form.errors:
        status = 400
    return render_template("documents/section_form.html", document=document, form=form, section=None,
                           conflict=None), status


@bp.route("/<slug>/sections/<int:section_id>/edit", methods=["GET", "POST"])
@login_required
def edit_section(slug: str, section_id: int):
    """Write a new version of a section (moderators); a stale base version is a conflict."""
    document = services.get_document_or_404(slug)
    section = services.get_section_or_404(document, section_id)
    require_moderator(current_user, _("Only moderators can edit sections directly."))
    current = section.current_version
    form = SectionForm()
    if request.method == "GET":
        form.heading.data, form.body.data = current.heading, current.body
        form.base_version.data = section.version_count
    status, conflict = 200, {}

    def stale(error: ConflictError) -> None:
        """Show the current version beside the user's text; saving again is now a deliberate choice."""
        conflict.update(_conflict_view(error, form.body.data))
        form.base_version.data = error.current.number

    if form.validate_on_submit():
        with refusals(form, on_conflict=stale) as refused:
            version = services.edit_section(current_user, document.id, section.id, heading=form.heading.data,
                                            body=form.body.data, reason=form.reason.data,
                                            base_version=form.base_version.data or None)
            flash(_("Version %(number)s is saved.", number=version.number), "success")
            return redirect(url_for("documents.section", slug=slug, section_id=section.id))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("documents/section_form.html", document=document, form=form, section=section,
                           current=current, conflict=conflict or None), status


def _conflict_view(error: ConflictError, mine: str) -> dict:
    """What a conflict page shows: the current version, and how the user's text differs from it."""
    current = error.current
    return {"current": current, "diff": render_inline(word_diff(current.body, (mine or "").replace("\r\n", "\n")),
                                                      labels=diff_labels())}


@bp.post("/<slug>/sections/<int:section_id>/revert")
@login_required
@back_on_refusal("documents.section", shown_to=is_moderator)
def revert_section(slug: str, section_id: int):
    """Make an earlier version current again (moderators)."""
    document = services.get_document_or_404(slug)
    section = services.get_section_or_404(document, section_id)
    form = RevertForm()
    if not form.validate():
        flash(_("Give a reason for the revert."), "error")
        return redirect(url_for("documents.section", slug=slug, section_id=section_id) + "#history")
    version = services.revert_section(current_user, document.id, section_id, to_number=form.to_number.data,
                                      reason=form.reason.data, base_version=form.base_version.data or None)
    flash(_("Version %(number)s restores the text of an earlier version.", number=version.number), "success")
    return redirect(url_for("documents.section", slug=slug, section_id=section_id))


@bp.post("/<slug>/sections/<int:section_id>/move")
@login_required
@back_on_refusal(lambda: _after_move(request.view_args["slug"], request.view_args["section_id"]),
                 shown_to=is_moderator)
def move_section(slug: str, section_id: int):
    """Move a section up or down (moderators)."""
    document = services.get_document_or_404(slug)
    services.get_section_or_404(document, section_id)
    form = MoveForm()
    services.move_section(current_user, document.id, section_id, direction=form.direction.data or "",
                          structure_version=form.structure_version.data or None)
    return redirect(_after_move(slug, section_id))


def _after_move(slug: str, section_id: int) -> str:
    """Where a move goes back to: the reading page when it was pressed there, else the section's page."""
    reading = url_for("documents.read", slug=slug)
    return reading if request.form.get("back") == reading else \
        url_for("documents.section", slug=slug, section_id=section_id)


@bp.route("/<slug>/sections/<int:section_id>/retire", methods=["GET", "POST"])
@login_required
def retire_section(slug: str, section_id: int):
    """Take a section out of the text, or bring it back (moderators)."""
    document = services.get_document_or_404(slug)
    section = services.get_section_or_404(document, section_id)
    require_moderator(current_user, _("Only moderators can retire sections."))
    heading = section.current_version.heading
    form = RetireForm()
    if request.method == "GET":
        form.base_version.data = section.version_count
    status = 200
    if form.validate_on_submit():
        retired = section.retired
        with refusals(form, on_conflict=lambda error: None) as refused:
            if retired:
                services.restore_section(current_user, document.id, section_id, reason=form.reason.data)
            else:
                services.retire_section(current_user, document.id, section_id, reason=form.reason.data,
                                        base_version=form.base_version.data or None)
            flash(_("The section is restored.") if retired else _("The section is retired."), "success")
            return redirect(url_for("documents.section", slug=slug, section_id=section_id))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("documents/retire.html", document=document, section=section, form=form,
                           heading=heading), status


@bp.route("/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    """An admin's settings: title, introduction, language, phase, deadline, supporters needed.

    The deadline is stored in UTC, and typed and shown in the admin's time zone, which its label names.
    """
    document = services.get_document_or_404(slug)
    require_admin(current_user, _("Only admins can change the document's settings."))
    form = DocumentSettingsForm(obj=document)
    form.amendment_deadline.label.text = _("Amendment deadline, in your time zone (%(zone)s), optional",
                                           zone=current_zone())
    if request.method == "GET" and document.amendment_deadline:
        form.amendment_deadline.data = to_user_timezone(document.deadline).replace(tzinfo=None)
    status = 200
    if form.validate_on_submit():
        deadline = form.amendment_deadline.data
        with refusals(form) as refused:
            services.update_document(current_user, document.id, title=form.title.data,
                                     introduction=form.introduction.data or "", phase=form.phase.data,
                                     amendment_deadline=to_utc(deadline) if deadline else None,
                                     min_supporters=form.min_supporters.data, language=form.language.data)
            flash(_("The settings are saved."), "success")
            return redirect(url_for("documents.read", slug=slug))
        status = refused.status
    elif form.errors:
        status = 400
    return render_template("documents/settings.html", document=document, form=form), status


@bp.get("/<slug>/log")
def log(slug: str):
    """Everything that happened to the document, newest first."""
    document = services.get_document_or_404(slug)
    pagination = document_log(document.id, page_arg())
    return render_template("documents/log.html", document=document, pagination=pagination,
                           **page_figures(document, current_user, "log", events=pagination.items))
