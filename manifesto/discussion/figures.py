"""What the discussion shows on pages: the reader's rights over each comment, and its parts of other areas' pages.

The section and amendment pages belong to their areas; the discussion adds
their comment threads, forms and counts through ``documents.contributions``
(registered by the area's ``init_app``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from ..accounts.rules import is_member
from ..amendments import services as amendments
from ..audit.states import amendment_scope, reading_comments_scope, section_scope
from ..text.anchor import highlight_passages
from ..web import page_arg
from . import comments, moderation
from .forms import CommentForm, ReplyForm
from .models import Comment


@dataclass
class Rights:
    """What the reader may do with each comment: the templates ask, the services decide."""

    user: Any

    def see(self, comment: Comment) -> bool:
        """May read its text."""
        return comments.can_see(self.user, comment)

    def reply(self, comment: Comment) -> bool:
        """May reply to it."""
        return comments.can_reply(self.user, comment)

    def edit(self, comment: Comment) -> bool:
        """May edit or delete it."""
        return comments.can_edit(self.user, comment)

    def report(self, comment: Comment) -> bool:
        """May report it."""
        return comments.can_report(self.user, comment)

    @property
    def moderate(self) -> bool:
        """May hide and restore."""
        return moderation.can_moderate(self.user)


def document_page_figures(document, user, page: str, **context) -> dict:
    """Comment counts for the reading page and amendment lists; threads and forms for section and amendment pages.

    With ``reader_only`` the page already has what every reader of the reader's role sees (from its
    cache, rendered for ``accounts.rules.stand_in``): the threads come only when this reader wrote some
    of them and so sees them otherwise; what is about the reader (rights, form) always does.
    """
    if page == "read-comments":
        return {"comment_counts": comments.counts_by_section(document)}
    if page == "amendments":
        return {"comment_counts": comments.counts_by_amendment(context.get("amendment_ids") or [])}
    rights = Rights(user)
    shared = context.get("reader_only", False)
    if page == "section":
        section = context["section"]
        figures = {"comment_rights": rights,
                   "comment_form": CommentForm(formdata=None) if comments.can_comment(user) and not section.retired
                   else None}
        if shared and not comments.wrote_on(user, section=section):
            return figures

        def passage_href(comment_id: int, on_page: bool) -> str:
            """Link from a marked passage to its comment: on this page, or wherever it is."""
            return f"#comment-{comment_id}" if on_page else \
                url_for("discussion.comment", slug=document.slug, comment_id=comment_id)

        # With line numbers the page shows the Markdown source, where nothing is marked.
        marked = request.args.get("lines") != "1"
        discussion = comments.discussion_for(document, user, section=section, page=page_arg("comments"),
                                             passage_href=passage_href if marked else None)
        if discussion.passages:
            discussion.body_html = highlight_passages(section.current_version.body_html, discussion.passages)
        return {"discussion": discussion, **figures}
    if page == "amendment":
        amendment = context["amendment"]
        open_to_comments = (comments.can_comment(user) and amendment.status != "draft"
                            and (not amendment.is_hidden or rights.moderate))
        figures = {"comment_rights": rights,
                   "comment_form": ReplyForm(formdata=None) if open_to_comments else None,
                   "amendment_hidden_from_me": not amendments.can_see_hidden(user, amendment),
                   "can_report_amendment": (is_member(user) and user.id != amendment.author_id
                                            and not amendment.is_hidden),
                   "can_moderate": rights.moderate}
        if shared and not comments.wrote_on(user, amendment=amendment):
            return figures
        return {"discussion": comments.discussion_for(document, user, amendment=amendment,
                                                      page=page_arg("comments")), **figures}
    return {}


def changed_parts(event, comment: Comment) -> set[str] | None:
    """The parts of the document an event on ``comment`` changes (``audit.states.register_parts``).

    A comment on an amendment shows on that amendment's page (and in the lists' counts); one on a
    section on the section's page and in the reading page's counts (not in its text).
    """
    if comment.amendment_id is not None:
        return {amendment_scope(comment.amendment_id)}
    if comment.section_id is not None:
        return {section_scope(comment.section_id), reading_comments_scope(event.document_id)}
    return None
