"""Comments: threads on sections, on passages of sections and on amendments, and passages that follow the text.

Every change is a service in one write transaction that checks permission,
validates, writes and records an audit event (``comment.created``,
``comment.edited``, ``comment.deleted``; hiding and restoring live in
``moderation``). Pages read threads in a fixed number of queries.

Passages: a passage comment stores a W3C TextQuoteSelector (quote, prefix,
suffix) and its position in the reading text of the version it was written
on (``manifesto.text.anchor``). When the section gets a new version, every
passage of the section is located again in the new text, in the same
transaction, and the result stored in ``located_*`` (or ``passage_lost``).

Locks (see ``manifesto.locking``): a passage comment locks the document and
the section, as every new version does, so that a passage is never checked
against a version that is being replaced; a reply locks its parent comment
to check it is neither hidden nor deleted; an edit or a deletion locks the
comment. Re-anchoring runs under the section's lock (the transaction that
writes the version holds it) and updates the anchor columns only, in one
statement; nothing that holds a comment's lock ever waits for a section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from ..accounts.models import User
from ..accounts.rules import is_member, is_moderator
from ..amendments.models import Amendment, Status
from ..audit.services import record_event
from ..documents import services as documents
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..i18n import current_language
from ..locking import lock_row
from ..pagination import Page, paginate
from ..services import ConflictError, NotFound, PermissionDenied, ValidationError, to_int, utcnow, writes
from ..text.anchor import Passage, Span, TextQuoteSelector, find_quote, make_selector, normalize_space
from ..text.anchor import reading_text, reanchor
from ..text.render import render_markdown
from .models import COMMENT_LIMIT, CONTEXT_CHARS, QUOTE_LIMIT, Comment, CommentRevision, Target

THREADS_PER_PAGE = 20  # threads on one page of a section or an amendment
THREAD_PREVIEW = 100  # comments of one thread shown there; the thread's own page shows the rest
THREAD_PAGE = 100  # comments on one page of a thread
INDENT_LEVELS = 3  # levels shown indented; deeper replies are shown flat, "in reply to" someone


# ---------------------------------------------------------------- permissions

# Who is a member or a moderator is asked of ``accounts.rules``; these rules
# about comments are built from its answers.

def can_comment(user) -> bool:
    """Any participant may comment."""
    return is_member(user)


def can_see(user, comment: Comment) -> bool:
    """Whether the user may read the comment's text (hidden ones: their author and the moderators)."""
    if comment.is_deleted:
        return False
    if comment.is_hidden:
        return is_moderator(user) or (is_member(user) and user.id == comment.author_id)
    return True


def can_edit(user, comment: Comment) -> bool:
    """Authors edit and delete their own comments while they are neither deleted nor hidden."""
    return (is_member(user) and user.id == comment.author_id
            and not comment.is_deleted and not comment.is_hidden)


def can_reply(user, comment: Comment) -> bool:
    """Participants reply to comments that are neither deleted nor hidden."""
    return is_member(user) and not comment.is_deleted and not comment.is_hidden


def can_report(user, comment: Comment) -> bool:
    """Participants report other people's visible comments."""
    return is_member(user) and user.id != comment.author_id and not comment.is_deleted and not comment.is_hidden


# ------------------------------------------------------------------ validation

def clean_body(body: str | None) -> str:
    """Validate a comment's Markdown text.

    :raises ValidationError: naming the ``body`` field.
    """
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationError(_("Write your comment first: it cannot be empty."), "body")
    if len(body) > COMMENT_LIMIT:
        raise ValidationError(_("The comment is %(length)s characters long; the limit is %(limit)s. "
                                "Shorten it, or split it into two comments.",
                                length=format_number(len(body)), limit=format_number(COMMENT_LIMIT)), "body")
    if "\x00" in body:
        raise ValidationError(_("The comment contains a character that cannot be stored."), "body")
    return body


def _clean_context(value: str | None) -> str:
    """A prefix or suffix sent by the reader's browser: short, plain, never trusted to be right."""
    value = (value or "").replace("\x00", "")
    return value[-CONTEXT_CHARS * 2:] if len(value) > CONTEXT_CHARS * 2 else value


def place_quote(version: SectionVersion, quote: str | None, prefix: str | None = None,
                suffix: str | None = None) -> tuple[TextQuoteSelector, str]:
    """Find a reader's quote in a version's reading text; return its selector and the text.

    :raises ValidationError: naming the ``quote`` field, when the quote is too
        long, not in the text, or found in several places that nothing tells apart.
    """
    quote = normalize_space((quote or "").replace("\x00", ""))
    if len(quote) > QUOTE_LIMIT:
        raise ValidationError(_("The quoted passage is %(length)s characters long; the limit is %(limit)s. "
                                "Quote only the words your comment is about.",
                                length=format_number(len(quote)), limit=format_number(QUOTE_LIMIT)), "quote")
    text = reading_text(version.body_html)
    spans = find_quote(text, quote, _clean_context(prefix), _clean_context(suffix))
    if not spans:
        raise ValidationError(_("These words are not in the current text of the section. Copy them exactly "
                                "from the text (or select them there), or leave the field empty to comment "
                                "on the whole section."), "quote")
    if len(spans) > 1:
        raise ValidationError(_("These words appear %(count)s times in the section. Quote a few more words "
                                "around them, so that it is clear which place you mean.",
                                count=format_number(len(spans))), "quote")
    span = spans[0]
    return make_selector(text, span.start, span.end, CONTEXT_CHARS), text


# -------------------------------------------------------------------- loading

def get_comment_or_404(document: Document, comment_id: int) -> Comment:
    """Return a comment of ``document`` with its author.

    :raises NotFound:
    """
    comment = db.session.scalar(select(Comment).options(joinedload(Comment.author))
                                .where(Comment.id == comment_id, Comment.document_id == document.id))
    if comment is None:
        raise NotFound(_("There is no such comment."))
    return comment


def _lock_comment(document_id: int, comment_id: int) -> Comment:
    """Lock a comment of the document and return it fresh.

    :raises NotFound:
    """
    comment = lock_row(Comment, to_int(comment_id))
    if comment is None or comment.document_id != document_id:
        raise NotFound(_("There is no such comment."))
    return comment


def _check_amendment_open_to_comments(actor, amendment: Amendment) -> None:
    """Refuse comments on drafts and, unless the actor moderates, on hidden amendments.

    :raises NotFound: for someone else's draft, which must not be seen to exist.
    :raises ValidationError: for the author's own draft.
    :raises PermissionDenied: for a hidden amendment.
    """
    if amendment.status == Status.DRAFT:
        if is_member(actor) and actor.id == amendment.author_id:
            raise ValidationError(_("Drafts cannot be commented on: submit the amendment first."), "body")
        raise NotFound(_("There is no such amendment."))
    if amendment.is_hidden and not is_moderator(actor):
        raise PermissionDenied(_("The moderators hid this amendment; it is closed to comments."))


# ------------------------------------------------------------------- services

def _created(actor, comment: Comment) -> Comment:
    """Record the creation of a comment."""
    db.session.add(comment)
    db.session.flush()
    if comment.thread_id is None:
        comment.thread_id = comment.id
    record_event(actor, "comment.created", comment, document_id=comment.document_id,
                 data={"target": comment.target,
                       "target_id": comment.section_id if comment.target == Target.SECTION else comment.amendment_id,
                       "parent_id": comment.parent_id})
    return comment


@writes
def post_comment(actor, document_id: int, *, body: str, section_id: int | None = None,
                 amendment_id: int | None = None, quote: str | None = None, quote_prefix: str | None = None,
                 quote_suffix: str | None = None) -> Comment:
    """Start a thread on a section, on a passage of a section (``quote``), or on an amendment.

    :raises PermissionDenied: for anonymous or deactivated users, and on hidden amendments.
    :raises NotFound: for a section or amendment of another document, or someone else's draft.
    :raises ValidationError: naming ``body`` or ``quote``.
    """
    if not can_comment(actor):
        raise PermissionDenied(_("Log in to comment."))
    body = clean_body(body)
    document = db.session.get(Document, to_int(document_id))
    if document is None:
        raise NotFound(_("There is no such document."))
    comment = Comment(document_id=document.id, author_id=actor.id, body=body, body_html=render_markdown(body),
                      depth=0, revision=1, passage_lost=False)
    if amendment_id is not None:
        amendment = db.session.get(Amendment, to_int(amendment_id))
        if amendment is None or amendment.document_id != document.id:
            raise NotFound(_("There is no such amendment."))
        _check_amendment_open_to_comments(actor, amendment)
        comment.target, comment.amendment_id = Target.AMENDMENT.value, amendment.id
        return _created(actor, comment)
    if section_id is None:
        raise ValidationError(_("Choose what to comment on."))
    has_quote = bool(normalize_space(quote))
    if has_quote:
        # The passage is checked against the current version: hold it still meanwhile.
        document = documents.lock_document(document.id)
        section = documents.lock_section(document, to_int(section_id))
    else:
        section = documents.get_section_or_404(document, to_int(section_id))
    if section.retired:
        raise ValidationError(_("This section is retired; it is closed to new comments."), "body")
    comment.target, comment.section_id = Target.SECTION.value, section.id
    if has_quote:
        version = section.current_version
        selector, _text = place_quote(version, quote, quote_prefix, quote_suffix)
        comment.quote, comment.quote_prefix, comment.quote_suffix = selector.exact, selector.prefix, selector.suffix
        comment.quote_start, comment.quote_end = selector.start, selector.end
        comment.anchor_version_id = comment.located_version_id = version.id
        comment.located_start, comment.located_end = selector.start, selector.end
    return _created(actor, comment)


@writes
def reply_to_comment(actor, document_id: int, parent_id: int, *, body: str) -> Comment:
    """Reply to a comment, at any depth.

    :raises PermissionDenied: for anonymous or deactivated users, and in threads on hidden amendments.
    :raises ValidationError: when the parent is deleted or hidden, or on a bad text.
    """
    if not can_comment(actor):
        raise PermissionDenied(_("Log in to reply."))
    body = clean_body(body)
    parent = _lock_comment(to_int(document_id), parent_id)
    if parent.is_deleted:
        raise ValidationError(_("This comment was deleted by its author, so it can no longer be replied to. "
                                "You can reply to another comment of the thread, or start a new one."), "body")
    if parent.is_hidden:
        raise ValidationError(_("The moderators hid this comment, so it can no longer be replied to. "
                                "You can reply to another comment of the thread, or start a new one."), "body")
    if parent.amendment_id is not None:
        _check_amendment_open_to_comments(actor, db.session.get(Amendment, parent.amendment_id))
    comment = Comment(document_id=parent.document_id, target=parent.target, section_id=parent.section_id,
                      amendment_id=parent.amendment_id, parent_id=parent.id, thread_id=parent.thread_id,
                      depth=parent.depth + 1, author_id=actor.id, body=body, body_html=render_markdown(body),
                      revision=1, passage_lost=False)
    return _created(actor, comment)


def _data(comment: Comment) -> dict:
    """What the audit events of a comment carry besides the comment itself."""
    return {"target": comment.target,
            "target_id": comment.section_id if comment.target == Target.SECTION else comment.amendment_id,
            "parent_id": comment.parent_id}


@writes
def edit_comment(actor, document_id: int, comment_id: int, *, body: str, revision: int | None) -> Comment:
    """Change one's own comment; the earlier text is kept as a revision.

    :raises PermissionDenied: for someone else's comment.
    :raises ValidationError: on a deleted or hidden comment, or a bad or unchanged text.
    :raises ConflictError: when the comment changed since ``revision`` (the text is kept).
    """
    comment = _lock_comment(to_int(document_id), comment_id)
    if not is_member(actor) or actor.id != comment.author_id:
        raise PermissionDenied(_("You can only edit your own comments."))
    if comment.is_deleted:
        raise ValidationError(_("This comment was deleted; it can no longer be edited."))
    if comment.is_hidden:
        raise ValidationError(_("The moderators hid this comment; it can no longer be edited."))
    if revision is not None and to_int(revision, "body") != comment.revision:
        raise ConflictError(_("This comment changed since you opened it (perhaps in another window). Nothing "
                              "was saved: your text is kept below; compare it with the current one and save "
                              "again."), "body", current=comment)
    body = clean_body(body)
    if body == comment.body:
        raise ValidationError(_("Nothing changed: edit the text first."), "body")
    db.session.add(CommentRevision(comment_id=comment.id, number=comment.revision, body=comment.body,
                                   written_at=comment.edited_at or comment.created_at))
    comment.body, comment.body_html = body, render_markdown(body)
    comment.revision += 1
    comment.edited_at = utcnow()
    record_event(actor, "comment.edited", comment, document_id=comment.document_id,
                 from_state=f"r{comment.revision - 1}", to_state=f"r{comment.revision}", data=_data(comment))
    return comment


@writes
def delete_comment(actor, document_id: int, comment_id: int) -> Comment:
    """Delete one's own comment: a placeholder keeps its place, so replies still read in context.

    :raises PermissionDenied: for someone else's comment.
    :raises ValidationError: when it is deleted already.
    """
    comment = _lock_comment(to_int(document_id), comment_id)
    if not is_member(actor) or actor.id != comment.author_id:
        raise PermissionDenied(_("You can only delete your own comments."))
    if comment.is_deleted:
        raise ValidationError(_("This comment is deleted already."))
    comment.deleted_at = utcnow()
    comment.revision += 1
    record_event(actor, "comment.deleted", comment, document_id=comment.document_id, data=_data(comment))
    return comment


# ------------------------------------------------------- following the text

def follow_new_version(section: Section, *, document: Document, version: SectionVersion, **_kw) -> None:
    """Locate every passage comment of a section in its new version (same transaction, fixed queries).

    The writer holds the section's lock, which covers the anchors of its
    passages. One query reads the passages, one update writes every result.
    """
    rows = db.session.execute(
        select(Comment.id, Comment.quote, Comment.quote_prefix, Comment.quote_suffix, Comment.quote_start,
               Comment.quote_end, Comment.located_version_id, Comment.located_start, Comment.located_end,
               Comment.passage_lost)
        .where(Comment.section_id == section.id, Comment.quote.is_not(None), Comment.deleted_at.is_(None))
    ).all()
    if not rows:
        return
    old = db.session.get(SectionVersion, version.parent_id) if version.parent_id else None
    old_text = reading_text(old.body_html) if old is not None else None
    anchors = []
    for row in rows:
        selector = TextQuoteSelector(row.quote, row.quote_prefix or "", row.quote_suffix or "",
                                     row.quote_start or 0, row.quote_end or 0)
        on_old = (old is not None and row.located_version_id == old.id and not row.passage_lost
                  and row.located_start is not None)
        anchors.append((selector, Span(row.located_start, row.located_end) if on_old else None))
    spans = reanchor(anchors, old_text, reading_text(version.body_html))
    db.session.execute(update(Comment), [
        {"id": row.id, "located_version_id": version.id if span else None,
         "located_start": span.start if span else None, "located_end": span.end if span else None,
         "passage_lost": span is None}
        for row, span in zip(rows, spans)])


# -------------------------------------------------------------------- reading

@dataclass
class ThreadNode:
    """A comment as a thread shows it: its replies, or, below the indented levels, who it answers."""

    comment: Comment
    children: list[ThreadNode] = field(default_factory=list)
    reply_to: str | None = None  # the parent's author, for replies shown flat
    passage_label: str | None = None  # its number in the section's text, when its passage is marked there
    version_number: int | None = None  # the version a lost passage was written on


@dataclass
class Discussion(Page):
    """The comments of a section or an amendment as one page shows them: a :class:`Page` of threads."""

    comment_count: int = 0  # visible comments (neither deleted nor hidden)
    more: dict[int, int] = field(default_factory=dict)  # thread id -> comments not shown on this page
    passages: list[Passage] = field(default_factory=list)  # marked in the section's text
    body_html: str | None = None  # the section's text with its passages marked

    @property
    def threads(self) -> list[ThreadNode]:
        """The page's threads, as trees."""
        return list(self.items)

    @property
    def thread_count(self) -> int:
        """How many threads the section or amendment has, on every page."""
        return self.total


def _visible_clause():
    """SQL: comments counted for everyone (neither deleted nor hidden)."""
    return and_(Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))


def _target_clause(section_id: int | None, amendment_id: int | None):
    """SQL: the comments of one section or one amendment."""
    if amendment_id is not None:
        return and_(Comment.target == Target.AMENDMENT.value, Comment.amendment_id == amendment_id)
    return and_(Comment.target == Target.SECTION.value, Comment.section_id == section_id)


def _load_threads(threads, limit: int, offset: int = 0, *extra):
    """Rows (comment, thread size, anchor version number, parent's author, *extra) of some threads (one query).

    ``threads`` is a list of thread ids, or a SELECT of them. Keeps the
    comments numbered ``offset + 1 .. offset + limit`` of each thread, by
    id; a reply always has a larger id than its parent, so the first ones of
    a thread form a whole tree.
    """
    numbered = (select(Comment.id.label("cid"),
                       func.row_number().over(partition_by=Comment.thread_id, order_by=Comment.id).label("rn"),
                       func.count().over(partition_by=Comment.thread_id).label("size"))
                .where(Comment.thread_id.in_(threads)).subquery())
    parent = aliased(Comment)
    parent_author = aliased(User)
    return db.session.execute(
        select(Comment, numbered.c.size, SectionVersion.number, parent_author.name, *extra)
        .join(numbered, numbered.c.cid == Comment.id)
        .outerjoin(SectionVersion, SectionVersion.id == Comment.anchor_version_id)
        .outerjoin(parent, parent.id == Comment.parent_id)
        .outerjoin(parent_author, parent_author.id == parent.author_id)
        .options(joinedload(Comment.author))
        .where(numbered.c.rn > offset, numbered.c.rn <= offset + limit)
        .order_by(Comment.id)).all()


def _build(rows, labels: dict[int, str]) -> tuple[list[ThreadNode], dict[int, int]]:
    """Arrange loaded comments as trees: three levels indented, deeper replies flat under the third.

    Returns the top nodes and each thread's size. A comment whose parent is
    not among the rows (on an earlier page of a long thread) starts a tree
    of its own, shown "in reply to" its parent's author.
    """
    nodes: dict[int, ThreadNode] = {}
    level: dict[int, int] = {}
    holder: dict[int, ThreadNode] = {}  # for nodes on the last indented level and below: the node holding them
    top: list[ThreadNode] = []
    sizes: dict[int, int] = {}
    last = INDENT_LEVELS - 1
    for comment, size, version_number, parent_name, *_extra in rows:
        sizes[comment.thread_id] = size
        node = ThreadNode(comment, passage_label=labels.get(comment.id), version_number=version_number)
        nodes[comment.id] = node
        parent = nodes.get(comment.parent_id) if comment.parent_id else None
        if parent is None:
            node.reply_to = parent_name if comment.parent_id else None
            top.append(node)
            level[comment.id] = 0
        elif level[parent.comment.id] < last:
            parent.children.append(node)
            level[comment.id] = level[parent.comment.id] + 1
        else:
            node.reply_to = parent_name
            holder[parent.comment.id].children.append(node)
            level[comment.id] = last
            holder[comment.id] = holder[parent.comment.id]
            continue
        if level[comment.id] == last:
            holder[comment.id] = node
    return top, sizes


def _passages(section: Section, user) -> list[tuple[int, int, int, str]]:
    """The passages marked in a section's current text: (comment id, start, end, author's name), in text order.

    One query. Hidden passages are marked only for their author and the moderators.
    """
    visible = Comment.hidden_at.is_(None)
    if is_moderator(user):
        visible = True
    elif is_member(user):
        visible = or_(Comment.hidden_at.is_(None), Comment.author_id == user.id)
    return [tuple(row) for row in db.session.execute(
        select(Comment.id, Comment.located_start, Comment.located_end, User.name)
        .join(User, User.id == Comment.author_id)
        .where(Comment.section_id == section.id, Comment.quote.is_not(None), Comment.deleted_at.is_(None),
               Comment.passage_lost.is_(False), Comment.located_version_id == section.current_version_id,
               visible)
        .order_by(Comment.located_start, Comment.id))]


def discussion_for(document: Document, user, *, section: Section | None = None, amendment: Amendment | None = None,
                   page: int = 1, passage_href=None) -> Discussion:
    """The threads of a section or an amendment, one page of them, in two queries (three with passages).

    ``passage_href(comment_id, on_page)`` gives the link from a marked
    passage to its comment; with it, the passages to mark in the section's
    text come along.
    """
    section_id = section.id if section is not None else None
    amendment_id = amendment.id if amendment is not None else None
    target = _target_clause(section_id, amendment_id)
    roots = and_(target, Comment.parent_id.is_(None))
    # Counted once per statement (uncorrelated), carried on every row.
    visible_total = select(func.count()).select_from(Comment).where(target, _visible_clause()).scalar_subquery()
    root_ids = select(Comment.id).where(roots).order_by(Comment.id)
    found = paginate(root_ids, page, THREADS_PER_PAGE, load=lambda offset, limit: _load_threads(
        root_ids.limit(limit).offset(offset), THREAD_PREVIEW, 0, visible_total))
    rows = found.items
    comment_count = rows[0][4] if rows else 0
    marked = _passages(section, user) if section is not None and passage_href is not None else []
    labels = {cid: str(n) for n, (cid, *_rest) in enumerate(marked, start=1)}
    threads, sizes = _build(rows, labels)
    shown: dict[int, int] = {}
    for node in _walk(threads):
        shown[node.comment.thread_id] = shown.get(node.comment.thread_id, 0) + 1
    result = Discussion(threads, found.page, found.per_page, found.total, comment_count=comment_count,
                        more={tid: size - shown.get(tid, 0) for tid, size in sizes.items() if size > shown.get(tid, 0)})
    if marked:
        on_page = {node.comment.id for node in _walk(threads)}
        result.passages = [Passage(cid, start, end, passage_href(cid, cid in on_page), labels[cid],
                                   _("Comment %(number)s, by %(name)s", number=labels[cid], name=name),
                                   current_language()) for cid, start, end, name in marked]
    return result


def _walk(nodes: list[ThreadNode]):
    """Every node of some trees, in the order they are shown."""
    for node in nodes:
        yield node
        yield from _walk(node.children)


@dataclass
class ThreadPage(Page):
    """One page of a whole thread: a :class:`Page` of its comments, as trees."""

    root: Comment | None = None

    @property
    def nodes(self) -> list[ThreadNode]:
        """The page's comments, as trees."""
        return list(self.items)

    @property
    def size(self) -> int:
        """How many comments the thread has, the first one included."""
        return self.total


def thread_page(document: Document, root_id: int, page: int = 1) -> ThreadPage:
    """One page of a thread, in order, THREAD_PAGE comments at a time (three queries).

    :raises NotFound: when ``root_id`` is not the first comment of a thread of the document.
    """
    root = get_comment_or_404(document, root_id)
    if root.parent_id is not None:
        raise NotFound(_("This comment does not start a thread."))
    found = paginate(select(Comment.id).where(Comment.thread_id == root.id), page, THREAD_PAGE,
                     load=lambda offset, limit: _load_threads([root.id], limit, offset))
    nodes, _sizes = _build(found.items, {})
    return ThreadPage(nodes, found.page, found.per_page, found.total, root=root)


def where_is(comment: Comment) -> tuple[int, int]:
    """Which page of threads shows a comment's thread, and which page of its thread shows the comment (two queries)."""
    target = _target_clause(comment.section_id, comment.amendment_id if comment.target == Target.AMENDMENT else None)
    earlier_threads = db.session.scalar(select(func.count()).select_from(Comment).where(
        target, Comment.parent_id.is_(None), Comment.id < comment.thread_id))
    earlier_in_thread = db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.thread_id == comment.thread_id, Comment.id < comment.id))
    return earlier_threads // THREADS_PER_PAGE + 1, earlier_in_thread


def revisions_of(comment: Comment) -> list[CommentRevision]:
    """A comment's earlier texts, newest first (one query)."""
    return list(db.session.scalars(select(CommentRevision).where(CommentRevision.comment_id == comment.id)
                                   .order_by(CommentRevision.number.desc())))


def wrote_on(user, *, section: Section | None = None, amendment: Amendment | None = None) -> bool:
    """Whether a member has a comment (not deleted) on a section or an amendment (one query; none for others).

    Only such a reader sees its threads otherwise than everyone of their role does: their own
    links, their own hidden comments and the passages of those.
    """
    if not is_member(user):
        return False
    target = _target_clause(section.id if section is not None else None,
                            amendment.id if amendment is not None else None)
    return db.session.scalar(select(Comment.id).where(target, Comment.author_id == user.id,
                                                      Comment.deleted_at.is_(None)).limit(1)) is not None


def counts_by_section(document: Document) -> dict[int, int]:
    """Visible comments per section of a document, for the reading page (one query)."""
    return dict(db.session.execute(
        select(Comment.section_id, func.count())
        .where(Comment.document_id == document.id, Comment.target == Target.SECTION.value,
               Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))
        .group_by(Comment.section_id)).all())


def counts_by_amendment(amendment_ids: list[int]) -> dict[int, int]:
    """Visible comments per amendment, for amendment lists (one query; none without ids)."""
    if not amendment_ids:
        return {}
    return dict(db.session.execute(
        select(Comment.amendment_id, func.count())
        .where(Comment.amendment_id.in_(amendment_ids), Comment.target == Target.AMENDMENT.value,
               Comment.deleted_at.is_(None), Comment.hidden_at.is_(None))
        .group_by(Comment.amendment_id)).all())
