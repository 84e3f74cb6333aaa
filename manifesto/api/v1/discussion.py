"""Discussion: the threads of a section or an amendment, one comment with its replies, commenting, replying, reports.

Every operation calls the services the discussion pages call
(``discussion/views.py``, ``discussion/comments.py``, ``moderation.py``),
with the same arguments, and shows each comment as the threads show it to
the caller: a deleted comment as a placeholder without its author, a hidden
one as its public reason only (its author and the moderators still read it).
Comments and reports count in the pages' per-person buckets
(``RATELIMIT_COMMENTS``, ``RATELIMIT_REPORTS``).
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from ...amendments import services as amendments
from ...audit import states
from ...discussion import comments, moderation
from ...discussion.comments import ThreadNode
from ...discussion.models import COMMENT_LIMIT, QUOTE_LIMIT, Comment, Target
from ...documents import services as documents
from ...documents.models import Document
from ...services import ValidationError
from ..spec import Count, Id, Input, Model, PageNumber, Query, Reply, operation
from .amendments import ReportIn, ReportOut
from .blueprint import bp
from .common import ListOf, creating, document_validator, iso, list_of

TAG = "Discussion"


# ------------------------------------------------------------------ answers

class PassageOut(Model):
    """The passage of the section a comment is about (W3C TextQuoteSelector)."""

    quote: str
    lost: bool = Field(description="The passage changed in a newer version and could not be found again.")
    version: int | None = Field(ge=1, description="The section version it quoted, when lost.")


class CommentOut(Model):
    """A comment as its thread shows it to you, with the replies shown under it."""

    id: Id
    thread_id: Id
    parent_id: Id | None
    depth: int = Field(ge=0)
    target: str = Field(description="section or amendment")
    section_id: Id | None
    amendment_id: Id | None
    author: str | None = Field(description="The author's display name (None for a deleted comment).")
    reply_to: str | None = Field(description="For a reply shown flat (deep in a thread): whom it answers.")
    deleted: bool
    hidden: bool
    hidden_reason: str | None = Field(description="Why the moderators hid it (public).")
    body: str | None = Field(description="Markdown (None when deleted, or hidden from you).")
    body_html: str | None = Field(description="The text rendered and sanitised (None likewise).")
    passage: PassageOut | None
    created_at: datetime
    edited_at: datetime | None
    revision: int = Field(ge=1)
    replies: list[CommentOut]
    more: Count = Field(0, description="On a thread's first comment: comments of the thread not shown here.")
    url: str = Field(description="The comment in the API.")


class ThreadList(ListOf[CommentOut]):
    """One page of threads (20 to a page, as on the pages), each its first comment with its replies."""

    comments: Count = Field(description="Visible comments in all the threads.")


class CommentsQuery(Query):
    """Whose threads: a section's or an amendment's (exactly one)."""

    section: Id | None = Field(None, description="A section's id.")
    amendment: Id | None = Field(None, description="An amendment's id.")
    page: PageNumber = 1


class CommentIn(Input):
    """A new thread on a section (optionally on a passage of it) or on an amendment."""

    body: str = Field(max_length=COMMENT_LIMIT, description="Markdown.")
    section_id: Id | None = None
    amendment_id: Id | None = None
    quote: str | None = Field(None, max_length=QUOTE_LIMIT * 2,
                              description="Sections only: the words of the current text it is about.")
    quote_prefix: str | None = Field(None, max_length=200, description="Text just before the quote, to tell "
                                                                       "repeats apart.")
    quote_suffix: str | None = Field(None, max_length=200, description="Text just after the quote.")


class ReplyIn(Input):
    """A reply: just the text."""

    body: str = Field(max_length=COMMENT_LIMIT, description="Markdown.")


# ------------------------------------------------------------------ building answers

def comment_out(document: Document, node: ThreadNode, more: int = 0) -> CommentOut:
    """A comment and the replies under it, as the thread shows them to the caller."""
    comment = node.comment
    visible = comments.can_see(current_user, comment)
    passage = None
    if comment.quote is not None and visible:
        passage = PassageOut(quote=comment.quote, lost=comment.passage_lost,
                             version=node.version_number if comment.passage_lost else None)
    return CommentOut(
        id=comment.id, thread_id=comment.thread_id or comment.id, parent_id=comment.parent_id, depth=comment.depth,
        target=comment.target, section_id=comment.section_id, amendment_id=comment.amendment_id,
        author=None if comment.is_deleted else comment.author.display, reply_to=node.reply_to,
        deleted=comment.is_deleted, hidden=comment.is_hidden and not comment.is_deleted,
        hidden_reason=comment.hidden_reason if comment.is_hidden and not comment.is_deleted else None,
        body=comment.body if visible else None, body_html=comment.body_html if visible else None,
        passage=passage, created_at=iso(comment.created_at),
        edited_at=iso(comment.edited_at) if not comment.is_deleted else None, revision=comment.revision,
        replies=[comment_out(document, child) for child in node.children], more=more,
        url=url_for("api.get_comment", slug=document.slug, comment_id=comment.id))


def _target(document: Document, section_id: int | None, amendment_id: int | None):
    """The section or the amendment whose threads are asked for (someone else's draft: 404).

    :raises ValidationError: unless exactly one is named.
    """
    if (section_id is None) == (amendment_id is None):
        raise ValidationError(_("Choose what to comment on."), "section" if section_id is None else "amendment")
    if amendment_id is not None:
        return None, amendments.get_amendment_or_404(document, amendment_id, current_user, related=False)
    return documents.get_section_or_404(document, section_id), None


def _comment_scopes(document: Document, comment: Comment) -> tuple[str, ...]:
    """The document's parts a comment's answer follows (the parts its events change: ``figures.changed_parts``)."""
    if comment.amendment_id is not None:
        return (states.amendment_scope(comment.amendment_id),)
    return (states.section_scope(comment.section_id),)


def _find(nodes: list[ThreadNode], comment_id: int) -> ThreadNode | None:
    """The node of a comment in some trees."""
    for node in nodes:
        if node.comment.id == comment_id:
            return node
        found = _find(node.children, comment_id)
        if found is not None:
            return found
    return None


def _comment_answer(document: Document, comment_id: int) -> CommentOut:
    """A comment and its replies, from the page of its thread that shows it (as its permanent address finds it)."""
    comment = comments.get_comment_or_404(document, comment_id)
    if comment.target == Target.AMENDMENT:  # a comment on an amendment the caller may not see is not there either
        amendments.get_amendment_or_404(document, comment.amendment_id, current_user, related=False)
    _threads_page, rank = comments.where_is(comment)
    found = comments.thread_page(document, comment.thread_id or comment.id, rank // comments.THREAD_PAGE + 1)
    node = _find(found.nodes, comment.id) or ThreadNode(comment)
    shown = sum(1 for _node in _walk([node]))
    more = max(0, found.size - shown) if comment.parent_id is None else 0
    return comment_out(document, node, more=more)


def _walk(nodes: list[ThreadNode]):
    """Every node of some trees."""
    for node in nodes:
        yield node
        yield from _walk(node.children)


# ------------------------------------------------------------------ the operations

@operation(bp, "GET", "/documents/<slug>/comments", summary="List the threads of a section or an amendment",
           tag=TAG, response=ThreadList, query=CommentsQuery, scope="read", conditional=True)
def list_comments(slug: str, query: CommentsQuery):
    """The threads of a section (``section=``) or an amendment (``amendment=``), as its page shows them.

    Twenty threads to a page; each shows up to its first 100 comments
    (``more`` counts the rest: read them at the first comment's address).
    """
    document = documents.get_document_or_404(slug)
    section, amendment = _target(document, query.section, query.amendment)
    part = states.amendment_scope(amendment.id) if amendment is not None else states.section_scope(section.id)

    def body() -> ThreadList:
        """One page of threads, in a fixed number of queries."""
        found = comments.discussion_for(document, current_user, section=section, amendment=amendment,
                                        page=query.page)
        items = [comment_out(document, node, more=found.more.get(node.comment.thread_id, 0))
                 for node in found.threads]
        listed = list_of(_PlainThreads, found, items)
        return ThreadList(items=items, page=listed.page, per_page=listed.per_page, total=listed.total,
                          pages=listed.pages, links=listed.links, comments=found.comment_count)

    return Reply(body=body, etag=document_validator(document, part, params=(query.section, query.amendment,
                                                                            query.page), personal=True))


class _PlainThreads(ListOf[CommentOut]):
    """The page's fields without the comment count (``list_of`` fills them)."""


@operation(bp, "GET", "/documents/<slug>/comments/<int:comment_id>", summary="Read a comment and its replies",
           tag=TAG, response=CommentOut, scope="read", conditional=True)
def get_comment(slug: str, comment_id: int):
    """One comment, with the replies shown under it in its thread."""
    document = documents.get_document_or_404(slug)
    comment = comments.get_comment_or_404(document, comment_id)
    return Reply(body=lambda: _comment_answer(document, comment_id),
                 etag=document_validator(document, *_comment_scopes(document, comment), params=(comment_id,),
                                         personal=True))


def _created(document: Document, comment_id: int) -> Reply:
    """201 with the new comment and its address."""
    location = url_for("api.get_comment", slug=document.slug, comment_id=comment_id)
    return Reply(body=_comment_answer(document, comment_id), status=201, headers={"Location": location})


@operation(bp, "POST", "/documents/<slug>/comments", summary="Comment on a section, a passage or an amendment",
           tag=TAG, response=CommentOut, status=201, body=CommentIn, scope="comment")
def post_comment(slug: str, body: CommentIn):
    """Start a thread on a section (``section_id``; with ``quote``, on a passage of its current text) or on an
    amendment (``amendment_id``); counts against the comment limit."""
    document = documents.get_document_or_404(slug)
    if body.section_id is not None and body.amendment_id is not None:
        raise ValidationError(_("Choose what to comment on."), "amendment_id")
    with creating("RATELIMIT_COMMENTS"):
        if body.amendment_id is not None:
            if body.quote or body.quote_prefix or body.quote_suffix:  # the amendment's form has no passage
                raise ValidationError(_("This field is not known here; leave it out."), "quote")
            amendment = amendments.get_amendment_or_404(document, body.amendment_id, current_user, related=False)
            comment = comments.post_comment(current_user, document.id, amendment_id=amendment.id, body=body.body)
        elif body.section_id is not None:
            section = documents.get_section_or_404(document, body.section_id)
            comment = comments.post_comment(current_user, document.id, section_id=section.id, body=body.body,
                                            quote=body.quote, quote_prefix=body.quote_prefix,
                                            quote_suffix=body.quote_suffix)
        else:
            raise ValidationError(_("Choose what to comment on."), "section_id")
    return _created(document, comment.id)


@operation(bp, "POST", "/documents/<slug>/comments/<int:comment_id>/replies", summary="Reply to a comment",
           tag=TAG, response=CommentOut, status=201, body=ReplyIn, scope="comment")
def reply_to_comment(slug: str, comment_id: int, body: ReplyIn):
    """Reply to a comment, at any depth; counts against the comment limit."""
    document = documents.get_document_or_404(slug)
    parent = comments.get_comment_or_404(document, comment_id)
    with creating("RATELIMIT_COMMENTS"):
        comment = comments.reply_to_comment(current_user, document.id, parent.id, body=body.body)
    return _created(document, comment.id)


@operation(bp, "POST", "/documents/<slug>/comments/<int:comment_id>/reports", summary="Report a comment",
           tag=TAG, response=ReportOut, status=201, body=ReportIn, scope="comment")
def report_comment(slug: str, comment_id: int, body: ReportIn):
    """Tell the moderators what is wrong with a comment (once per person; never your own)."""
    document = documents.get_document_or_404(slug)
    comment = comments.get_comment_or_404(document, comment_id)
    with creating("RATELIMIT_REPORTS"):
        moderation.report_item(current_user, document.id, Target.COMMENT.value, comment.id, reason=body.reason)
    return ReportOut(target="comment", target_id=comment_id, status="open")
