"""Pages of the discussion area: comments and threads, reports, and the moderators' queue.

The section and amendment pages belong to their areas; ``figures`` adds
their comment threads, forms and counts through ``documents.contributions``.
Every form works without JavaScript: replying, editing, deleting, reporting
and moderating each have a small page of their own, which is also where a
refused form comes back with its message next to the field and the text kept.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts import services as accounts
from ..accounts.rules import require_admin, require_moderator
from ..amendments import services as amendments
from ..documents import services as documents
from ..services import ConflictError, NotFound, PermissionDenied
from ..web import page_arg, refusals
from . import comments, moderation
from .figures import Rights
from .forms import (CommentForm, DeleteCommentForm, DismissForm, EditCommentForm, HideForm, ReplyForm,
                    ReportForm, RestoreForm, SuspendForm)
from .models import Comment, Target

bp = Blueprint("discussion", __name__, url_prefix="/d/<slug>")


# ------------------------------------------------------------------- loading

def _context(document, comment: Comment) -> dict:
    """What a comment's own pages show about where it belongs: the section or the amendment."""
    if comment.target == Target.AMENDMENT:
        return {"amendment": amendments.get_amendment_or_404(document, comment.amendment_id, current_user),
                "section": None}
    return {"section": documents.get_section_or_404(document, comment.section_id), "amendment": None}


def _place(document, comment: Comment) -> str:
    """The address of the page showing a comment, with its anchor."""
    threads_page, rank = comments.where_is(comment)
    if rank >= comments.THREAD_PREVIEW:
        return url_for("discussion.thread", slug=document.slug, comment_id=comment.thread_id,
                       page=rank // comments.THREAD_PAGE + 1) + f"#{comment.anchor}"
    args = {"comments": threads_page} if threads_page > 1 else {}
    if comment.target == Target.AMENDMENT:
        return url_for("amendments.show", slug=document.slug, amendment_id=comment.amendment_id,
                       **args) + f"#{comment.anchor}"
    return url_for("documents.section", slug=document.slug, section_id=comment.section_id,
                   **args) + f"#{comment.anchor}"


# ------------------------------------------------------------------- comments

@bp.get("/comments/<int:comment_id>")
def comment(slug: str, comment_id: int):
    """A comment's permanent address: the page and place that show it."""
    document = documents.get_document_or_404(slug)
    return redirect(_place(document, comments.get_comment_or_404(document, comment_id)))


@bp.get("/threads/<int:comment_id>")
def thread(slug: str, comment_id: int):
    """A whole thread, page by page, for threads too long for their section or amendment page."""
    document = documents.get_document_or_404(slug)
    found = comments.thread_page(document, comment_id, page_arg())
    return render_template("discussion/thread.html", document=document, thread=found,
                           comment_rights=Rights(current_user), **_context(document, found.root))


def _comment_page(document, form, status: int, **extra):
    """The page of a new comment's form (shown again, with its messages, when it was refused)."""
    return render_template("discussion/comment_form.html", document=document, form=form, **extra), status


@bp.route("/sections/<int:section_id>/comments", methods=["GET", "POST"])
@login_required
def comment_on_section(slug: str, section_id: int):
    """Comment on a section or on a passage of it."""
    document = documents.get_document_or_404(slug)
    section = documents.get_section_or_404(document, section_id)
    form = CommentForm()
    if request.method == "GET":
        form.quote.data = request.args.get("quote", "")[:5000]
        return _comment_page(document, form, 200, section=section)
    status = 400
    if form.validate_on_submit():
        with refusals(form) as refused:
            comment = comments.post_comment(current_user, document.id, section_id=section.id, body=form.body.data,
                                            quote=form.quote.data, quote_prefix=form.quote_prefix.data,
                                            quote_suffix=form.quote_suffix.data)
            flash(_("Your comment is posted."), "success")
            return redirect(_place(document, comment))
        status = refused.status
    # Loaded again: the refused transaction expired what was loaded before it.
    return _comment_page(document, form, status, section=documents.get_section_or_404(document, section_id))


@bp.route("/amendments/<int:amendment_id>/comments", methods=["GET", "POST"])
@login_required
def comment_on_amendment(slug: str, amendment_id: int):
    """Comment on an amendment."""
    document = documents.get_document_or_404(slug)
    amendment = amendments.get_amendment_or_404(document, amendment_id, current_user)
    form = ReplyForm()
    if request.method == "GET":
        return _comment_page(document, form, 200, amendment=amendment)
    status = 400
    if form.validate_on_submit():
        with refusals(form) as refused:
            comment = comments.post_comment(current_user, document.id, amendment_id=amendment.id,
                                            body=form.body.data)
            flash(_("Your comment is posted."), "success")
            return redirect(_place(document, comment))
        status = refused.status
    return _comment_page(document, form, status, amendment=amendment)


@bp.route("/comments/<int:comment_id>/reply", methods=["GET", "POST"])
@login_required
def reply(slug: str, comment_id: int):
    """Reply to a comment."""
    document = documents.get_document_or_404(slug)
    parent = comments.get_comment_or_404(document, comment_id)
    form = ReplyForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        with refusals(form) as refused:
            comment = comments.reply_to_comment(current_user, document.id, parent.id, body=form.body.data)
            flash(_("Your reply is posted."), "success")
            return redirect(_place(document, comment))
        status = refused.status
    elif request.method == "POST":
        status = 400
    return render_template("discussion/reply.html", document=document, parent=parent, form=form,
                           comment_rights=Rights(current_user), **_context(document, parent)), status


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str, comment_id: int):
    """An author edits their comment; a stale form keeps the text and shows the current one."""
    document = documents.get_document_or_404(slug)
    found = comments.get_comment_or_404(document, comment_id)
    if found.author_id != current_user.id:
        raise PermissionDenied(_("You can only edit your own comments."))
    form = EditCommentForm()
    if request.method == "GET":
        form.body.data, form.revision.data = found.body, found.revision
    status, conflict = 200, []

    def stale(error: ConflictError) -> None:
        """Show the comment as it is now; saving again is now a deliberate choice."""
        conflict.append(error.current)
        form.revision.data = error.current.revision

    if request.method == "POST" and form.validate_on_submit():
        with refusals(form, on_conflict=stale) as refused:
            comments.edit_comment(current_user, document.id, found.id, body=form.body.data,
                                  revision=form.revision.data or None)
            flash(_("Your comment is saved."), "success")
            return redirect(_place(document, found))
        status = refused.status
    elif request.method == "POST":
        status = 400
    return render_template("discussion/edit.html", document=document, comment=found, form=form,
                           conflict=conflict[0] if conflict else None), status


@bp.route("/comments/<int:comment_id>/delete", methods=["GET", "POST"])
@login_required
def delete(slug: str, comment_id: int):
    """An author deletes their comment (after a confirmation page)."""
    document = documents.get_document_or_404(slug)
    found = comments.get_comment_or_404(document, comment_id)
    if found.author_id != current_user.id:
        raise PermissionDenied(_("You can only delete your own comments."))
    form = DeleteCommentForm()
    if request.method == "POST" and form.validate_on_submit():
        with refusals(form) as refused:
            comments.delete_comment(current_user, document.id, found.id)
            flash(_("Your comment is deleted. Its replies stay, under a placeholder."), "success")
            return redirect(_place(document, found))
        return render_template("discussion/delete.html", document=document, comment=found, form=form), \
            refused.status
    return render_template("discussion/delete.html", document=document, comment=found, form=form)


@bp.get("/comments/<int:comment_id>/history")
def history(slug: str, comment_id: int):
    """A comment's earlier texts."""
    document = documents.get_document_or_404(slug)
    found = comments.get_comment_or_404(document, comment_id)
    if not comments.can_see(current_user, found):
        raise NotFound(_("This comment's text is not available."))
    return render_template("discussion/history.html", document=document, comment=found,
                           revisions=comments.revisions_of(found))


# -------------------------------------------------------------------- reports

def _report(document, target: str, item, title: str):
    """Show and handle the report form for a comment or an amendment."""
    if item.author_id == current_user.id:
        raise PermissionDenied(_("You cannot report what you wrote yourself."))
    form = ReportForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        with refusals(form) as refused:
            moderation.report_item(current_user, document.id, target, item.id, reason=form.reason.data)
            flash(_("Thank you: the moderators will look at your report."), "success")
            if target == Target.AMENDMENT:
                return redirect(url_for("amendments.show", slug=document.slug, amendment_id=item.id))
            return redirect(_place(document, item))
        status = refused.status
    elif request.method == "POST":
        status = 400
    return render_template("discussion/report.html", document=document, form=form, target=target, item=item,
                           title=title, comment_rights=Rights(current_user)), status


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
def report_comment(slug: str, comment_id: int):
    """Report a comment to the moderators."""
    document = documents.get_document_or_404(slug)
    found = comments.get_comment_or_404(document, comment_id)
    return _report(document, Target.COMMENT.value, found, _("Report a comment by %(name)s", name=found.author.name))


@bp.route("/amendments/<int:amendment_id>/report", methods=["GET", "POST"])
@login_required
def report_amendment(slug: str, amendment_id: int):
    """Report an amendment to the moderators."""
    document = documents.get_document_or_404(slug)
    amendment = amendments.get_amendment_or_404(document, amendment_id, current_user)
    return _report(document, Target.AMENDMENT.value, amendment, _("Report %(code)s", code=amendment.code))


# ----------------------------------------------------------------- moderation

@bp.get("/moderation")
@login_required
def queue(slug: str):
    """The moderators' queue: reported items, oldest first, and what was hidden lately."""
    document = documents.get_document_or_404(slug)
    require_moderator(current_user, _("Only moderators can do this."))  # the services check again
    return render_template("discussion/moderation.html", document=document,
                           queue=moderation.queue(document, page_arg()), hide_form=HideForm(formdata=None),
                           dismiss_form=DismissForm(formdata=None), suspend_form=SuspendForm(formdata=None),
                           restore_form=RestoreForm(formdata=None), comment_rights=Rights(current_user))


ACTIONS = {
    "hide": (HideForm, moderation.hide_item),
    "restore": (RestoreForm, moderation.restore_item),
    "dismiss": (DismissForm, moderation.dismiss_reports),
}


def _moderation_texts(action: str, target: str, item) -> tuple[str, str]:
    """The page title and the confirmation of a moderator's action, as whole sentences in the reader's language."""
    if target == Target.COMMENT:
        name = item.author.name
        return {
            "hide": (_("Hide the comment by %(name)s", name=name),
                     _("The comment by %(name)s is hidden. Its open reports are resolved.", name=name)),
            "restore": (_("Show the comment by %(name)s again", name=name),
                        _("The comment by %(name)s is visible again.", name=name)),
            "dismiss": (_("Dismiss the reports of the comment by %(name)s", name=name),
                        _("The reports of the comment by %(name)s are dismissed.", name=name)),
        }[action]
    code = item.code
    return {
        "hide": (_("Hide %(code)s", code=code),
                 _("%(code)s is hidden. Its open reports are resolved.", code=code)),
        "restore": (_("Show %(code)s again", code=code), _("%(code)s is visible again.", code=code)),
        "dismiss": (_("Dismiss the reports of %(code)s", code=code),
                    _("The reports of %(code)s are dismissed.", code=code)),
    }[action]


def _moderate(document, action: str, target: str, item):
    """Show and handle a moderator's form (hide, restore, dismiss) for a comment or an amendment."""
    require_moderator(current_user, _("Only moderators can do this."))  # the services check again
    form_class, service = ACTIONS[action]
    title, done = _moderation_texts(action, target, item)
    form = form_class()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        with refusals(form) as refused:
            service(current_user, document.id, target, item.id, reason=form.reason.data)
            flash(done, "success")
            return redirect(url_for("discussion.queue", slug=document.slug))
        status = refused.status
    elif request.method == "POST":
        status = 400
    return render_template("discussion/moderate.html", document=document, form=form, action=action,
                           target=target, item=item, title=title, comment_rights=Rights(current_user)), status


@bp.route("/moderation/comments/<int:comment_id>/hide", methods=["GET", "POST"], defaults={"action": "hide"})
@bp.route("/moderation/comments/<int:comment_id>/restore", methods=["GET", "POST"], defaults={"action": "restore"})
@bp.route("/moderation/comments/<int:comment_id>/dismiss", methods=["GET", "POST"], defaults={"action": "dismiss"})
@login_required
def moderate_comment(slug: str, comment_id: int, action: str):
    """Hide or restore a comment, or dismiss its reports."""
    document = documents.get_document_or_404(slug)
    found = comments.get_comment_or_404(document, comment_id)
    return _moderate(document, action, Target.COMMENT.value, found)


@bp.route("/moderation/amendments/<int:amendment_id>/hide", methods=["GET", "POST"], defaults={"action": "hide"})
@bp.route("/moderation/amendments/<int:amendment_id>/restore", methods=["GET", "POST"],
          defaults={"action": "restore"})
@bp.route("/moderation/amendments/<int:amendment_id>/dismiss", methods=["GET", "POST"],
          defaults={"action": "dismiss"})
@login_required
def moderate_amendment(slug: str, amendment_id: int, action: str):
    """Hide or restore an amendment, or dismiss its reports."""
    document = documents.get_document_or_404(slug)
    amendment = amendments.get_amendment_or_404(document, amendment_id, current_user)
    return _moderate(document, action, Target.AMENDMENT.value, amendment)


@bp.route("/moderation/users/<int:user_id>/suspend", methods=["GET", "POST"])
@login_required
def suspend(slug: str, user_id: int):
    """An admin suspends the account of a reported author, with a reason."""
    document = documents.get_document_or_404(slug)
    require_admin(current_user, _("Only admins can suspend accounts."))
    person = accounts.get_user_or_404(user_id)
    form = SuspendForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        with refusals(form) as refused:
            accounts.set_active(current_user, person.id, False, reason=form.reason.data or "")
            flash(_("The account of %(name)s is suspended.", name=person.name), "success")
            return redirect(url_for("discussion.queue", slug=document.slug))
        status = refused.status
    elif request.method == "POST":
        status = 400
    return render_template("discussion/suspend.html", document=document, form=form, person=person), status
