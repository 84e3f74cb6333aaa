"""Keeping the search index in step with the text, inside the writing transaction.

Every state change records an audit event; :func:`note_event` listens to
``event_recorded`` and notes which sections, amendments and comments the
change touched. Just before the transaction commits, :func:`refresh_pending`
brings their ``SearchEntry`` rows up to date in a few set-based statements:
one SELECT per kind for everything the transaction touched, one bulk upsert
(rows whose text did not change are left alone, so the FTS5 triggers do not
churn), and one DELETE for what may no longer be found. A rebase that moves a
hundred amendments therefore costs the same handful of statements as one edit.
Only what an event names is read again: every amendment whose text a new
version changes records an event of its own (rebased, or conflicted when the
new text absorbed it), so the section's other amendments, decided or not
moved, are not re-read and their text is not converted again.

What is indexed, and what is not:

- a section: the heading and text of its current version, while it is live
  (retired sections leave the index, restored ones come back);
- an amendment: its code and proposed heading, text and reason, once it is
  submitted (drafts never), and unless a moderator hid it; withdrawn and
  decided ones stay searchable;
- a comment: its text, unless it is deleted or hidden.

Whatever the index does not hold, nobody can find: that is how search keeps
hidden comments and drafts from those who may not see them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..amendments.models import Amendment, Status
from ..discussion.models import Comment
from ..documents.models import Document, Section, SectionVersion
from ..extensions import db
from ..services import utcnow, writes
from .models import SearchEntry
from .schema import language_config

log = logging.getLogger(__name__)

# Private-use characters the engines wrap matches in (see services.py); they
# are removed from indexed text so that nobody can forge a highlight.
START, STOP = "\ue000", "\ue001"

# Audit actions that change no searchable text: not worth a look at the index.
UNCHANGED = frozenset({"amendment.supported", "amendment.support_withdrawn", "section.moved"})
# A decision that writes a new version of the section: the section's entry follows (the amendments
# that follow the new text record events of their own).
NEW_VERSION_BY_DECISION = frozenset({"amendment.accepted", "amendment.accepted_modified"})

CHUNK = 500  # rows per bulk statement when rebuilding everything


# ------------------------------------------------------------- plain text

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,}).*$", re.M)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+|\s+#+\s*$", re.M)
_QUOTE = re.compile(r"^\s{0,3}(>\s?)+", re.M)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+", re.M)
_RULE = re.compile(r"^\s{0,3}(?:[-*_]\s*){3,}$", re.M)
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$", re.M)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_EMPHASIS = re.compile(r"(?<![\w*])\*{1,3}(?=\S)|(?<=\S)\*{1,3}(?![\w*])|(?<!\w)_{1,3}(?=\S)|(?<=\S)_{1,3}(?!\w)|~~|`+")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_ESCAPED = 0xF0000  # escaped ASCII punctuation hides here (a private-use plane) while markup is removed


_PRIVATE_RANGE = re.compile(f"[{chr(_ESCAPED)}-{chr(_ESCAPED + 127)}]")
_BLANK_LINES = re.compile(r"\n{3,}")

# The markup rules in the order they run, each with what it cannot match without (None: run it always).
# A text that holds none of a rule's needles skips it, with the same result: most prose has no markup,
# and the emphasis and heading patterns cost the most (a tenth of a millisecond on a page of text).
_RULES = (
    (_FENCE, "", ("```", "~~~")),
    (_REFERENCE, "", ("]:",)),
    (_IMAGE_OR_LINK, r"\1", ("](",)),
    (_AUTOLINK, r"\1", ("<",)),
    (_RULE, "", ("-", "*", "_")),
    (_HEADING, "", ("#",)),
    (_QUOTE, "", (">",)),
    (_BULLET, "", None),
    (_EMPHASIS, "", ("*", "_", "~~", "`")),
)


def plain_text(markdown: str | None) -> str:
    """Markdown source as the words a reader sees: markup, link targets and fences removed.

    Search matches and shows snippets of this text, so ``**bold**`` is found
    as "bold" and a link is found by its words, never by its address.
    """
    if not markdown:
        return ""
    text = markdown.replace(START, "").replace(STOP, "").replace("\x00", "")
    # The private-use range below stands for escaped characters while the
    # rules run; a writer's own characters there would come back as control
    # characters (U+F0000 as NUL, which PostgreSQL refuses to store).
    text = _PRIVATE_RANGE.sub("", text)
    # Escaped characters are kept out of the markup rules below, then put back as themselves.
    escaped = "\\" in text
    if escaped:
        text = _ESCAPE.sub(lambda m: chr(_ESCAPED + ord(m.group(1))), text)
    for pattern, replacement, needles in _RULES:
        if needles is None or any(needle in text for needle in needles):
            text = pattern.sub(replacement, text)
    if escaped:  # else the text holds no character of the range: the writer's own were removed above
        text = _PRIVATE_RANGE.sub(lambda m: chr(ord(m.group()) - _ESCAPED), text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _clean(value: str | None) -> str:
    """A short plain text (a heading, a code) without the highlight sentinels."""
    return (value or "").replace(START, "").replace(STOP, "").replace("\x00", "").strip()


# ----------------------------------------------------- what a change touched

@dataclass
class Pending:
    """What the running transaction changed, by kind: refreshed just before it commits."""

    sections: set[int] = field(default_factory=set)
    amendments: set[int] = field(default_factory=set)
    comments: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.sections or self.amendments or self.comments)


_KEY = "search_pending"


def _pending(session: Session) -> Pending:
    """The running transaction's pending changes (created on first use)."""
    pending = session.info.get(_KEY)
    if pending is None:
        pending = session.info[_KEY] = Pending()
    return pending


def note_event(event, *, obj=None, actor=None, **_kw) -> None:
    """Note what a recorded change touched; the index follows just before the commit."""
    if obj is None or event.action in UNCHANGED:
        return
    pending = _pending(db.session())
    if event.object_type == "sections":
        pending.sections.add(obj.id)
    elif event.object_type == "amendments":
        pending.amendments.add(obj.id)
        if event.action in NEW_VERSION_BY_DECISION and obj.section_id is not None:
            pending.sections.add(obj.section_id)
    elif event.object_type == "comments":
        pending.comments.add(obj.id)
    elif event.action == "document.updated" and (event.data or {}).get("language"):
        # The text's language changed: its entries are stemmed in the new one (one statement).
        db.session.execute(update(SearchEntry).where(SearchEntry.document_id == obj.id)
                           .values(language=language_config(obj.language)))


def refresh_pending(session: Session) -> None:
    """Bring the touched entries up to date, in the transaction that is about to commit."""
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction refreshes everything once, at its commit
    pending = session.info.pop(_KEY, None)
    if pending:
        refresh(session, pending)


def forget_pending(session: Session, transaction) -> None:
    """A finished transaction leaves nothing pending: a rolled-back one changed nothing (a retry notes it again)."""
    if transaction.parent is None:
        session.info.pop(_KEY, None)


# -------------------------------------------------------------- refreshing

def refresh(session: Session, pending: Pending) -> None:
    """Upsert the entries of everything pending that may be found, and delete the rest."""
    if pending.sections:
        _apply(session, "section", pending.sections, _section_rows(session, sections=pending.sections))
    if pending.amendments:
        _apply(session, "amendment", pending.amendments, _amendment_rows(session, ids=pending.amendments))
    if pending.comments:
        _apply(session, "comment", pending.comments, _comment_rows(session, ids=pending.comments))


def _section_rows(session: Session, *, sections: Iterable[int] | None = None) -> list[dict]:
    """Entries of live sections (all of them when ``sections`` is None): heading and current text."""
    stmt = (select(Section.id, Section.document_id, Document.language, SectionVersion.heading, SectionVersion.body)
            .join(SectionVersion, SectionVersion.id == Section.current_version_id)
            .join(Document, Document.id == Section.document_id)
            .where(Section.retired_at.is_(None)))
    if sections is not None:
        stmt = stmt.where(Section.id.in_(sorted(sections)))
    return [_row("section", r.id, r.document_id, r.language, _clean(r.heading), plain_text(r.body))
            for r in session.execute(stmt)]


def _amendment_rows(session: Session, *, ids: Iterable[int] | None = None) -> list[dict]:
    """Entries of submitted, visible amendments: code and proposed heading; proposed text and reason."""
    stmt = (select(Amendment.id, Amendment.document_id, Document.language, Amendment.number,
                   Amendment.proposed_heading, Amendment.proposed_body, Amendment.reason)
            .join(Document, Document.id == Amendment.document_id)
            .where(Amendment.status != Status.DRAFT.value, Amendment.number.is_not(None),
                   Amendment.hidden_at.is_(None)))
    if ids is not None:
        stmt = stmt.where(Amendment.id.in_(sorted(ids)))
    rows = []
    for r in session.execute(stmt):
        title = f"A-{r.number:03d} {_clean(r.proposed_heading)}".strip()
        body = "\n\n".join(part for part in (plain_text(r.proposed_body), plain_text(r.reason)) if part)
        rows.append(_row("amendment", r.id, r.document_id, r.language, title, body))
    return rows


def _comment_rows(session: Session, *, ids: Iterable[int] | None = None) -> list[dict]:
    """Entries of visible comments (neither deleted nor hidden, never on a draft): their text.

    The discussion area refuses comments on drafts; the condition is a second lock on that door.
    """
    stmt = (select(Comment.id, Comment.document_id, Document.language, Comment.body)
            .join(Document, Document.id == Comment.document_id)
            .outerjoin(Amendment, Amendment.id == Comment.amendment_id)
            .where(Comment.deleted_at.is_(None), Comment.hidden_at.is_(None),
                   or_(Comment.amendment_id.is_(None), Amendment.status != Status.DRAFT.value)))
    if ids is not None:
        stmt = stmt.where(Comment.id.in_(sorted(ids)))
    return [_row("comment", r.id, r.document_id, r.language, "", plain_text(r.body)) for r in session.execute(stmt)]


def _row(kind: str, object_id: int, document_id: int, language: str | None, title: str, body: str) -> dict:
    """One entry's values, ready for the bulk upsert."""
    return {"kind": kind, "object_id": object_id, "document_id": document_id,
            "language": language_config(language), "title": title, "body": body, "updated_at": utcnow()}


def _apply(session: Session, kind: str, touched: Iterable[int], rows: list[dict]) -> None:
    """Upsert ``rows`` and delete the entries of ``touched`` objects that are no longer findable."""
    found = {row["object_id"] for row in rows}
    gone = sorted(set(touched) - found)
    if gone:
        session.execute(delete(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.object_id.in_(gone)))
    # In a fixed order, so that two transactions upserting overlapping rows lock them alike (no deadlock).
    rows.sort(key=lambda row: row["object_id"])
    for start in range(0, len(rows), CHUNK):
        session.execute(_upsert(session), rows[start:start + CHUNK])


def _upsert(session: Session):
    """INSERT ... ON CONFLICT (kind, object_id) DO UPDATE, only where the text or language changed."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SearchEntry)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[SearchEntry.kind, SearchEntry.object_id],
        set_={"document_id": new.document_id, "language": new.language, "title": new.title,
              "body": new.body, "updated_at": new.updated_at},
        where=or_(SearchEntry.title != new.title, SearchEntry.body != new.body,
                  SearchEntry.language != new.language, SearchEntry.document_id != new.document_id))


# -------------------------------------------------------------- rebuilding

@writes
def reindex() -> dict[str, int]:
    """Rebuild the whole index from the sections, amendments and comments: one transaction.

    For databases filled before search existed, and after a document's
    language changed (entries keep the language they were indexed in).
    Returns how many entries of each kind it wrote.
    """
    session = db.session()
    session.info.pop(_KEY, None)
    session.execute(delete(SearchEntry))
    if session.get_bind().dialect.name == "sqlite":
        # Empty the FTS5 index itself too, in case it ever drifted from its content table.
        session.execute(db.text("INSERT INTO search_fts(search_fts) VALUES ('delete-all')"))
    counts = {}
    for kind, rows in (("section", _section_rows(session)), ("amendment", _amendment_rows(session)),
                       ("comment", _comment_rows(session))):
        _apply(session, kind, (), rows)
        counts[kind] = len(rows)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(db.text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    else:
        # A table rewritten at once: fresh statistics, or the planner may
        # prefer the document's index to the GIN index until autovacuum runs.
        session.execute(db.text("ANALYZE search_entries"))
    log.info("search index rebuilt: %s", counts)
    return counts
