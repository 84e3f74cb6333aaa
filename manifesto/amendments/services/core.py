"""What the amendment services share: loading, locking, checks, validation, and the stored diffs."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ...documents import services as documents
from ...documents.models import Document, Section, SectionVersion
from ...extensions import db
from ...locking import lock_row
from ...services import ConflictError, NotFound, ValidationError, to_int, utcnow
from ...text.diff import changed_ranges, word_diff
from ...text.diff_html import render_inline, render_side_by_side
from ...text.numbered_diff import amended_lines
from ..citations import Numbering, live_numbering, placed_title
from ..excerpt import change_summary
from ..models import DECIDED, Amendment, AmendmentRevision, Kind, Status
from ..wording import ENGLISH, render_excerpt, render_note, render_title, title_data
from .permissions import can_view


def get_amendment_or_404(document: Document, amendment_id: int, user=None, *, related: bool = True) -> Amendment:
    """Return an amendment of ``document`` that ``user`` may see, with author, section and versions.

    ``related=False`` loads the row alone (a fifth of the time: the versions hold whole texts), for a
    page served from the cache; asking again with ``related=True`` completes the same object.

    :raises NotFound: also for someone else's draft, which must not be seen to exist.
    """
    options = (joinedload(Amendment.author), joinedload(Amendment.section), joinedload(Amendment.base_version),
               joinedload(Amendment.decided_by), joinedload(Amendment.result_version)) if related else ()
    amendment = db.session.scalar(
        select(Amendment).options(*options)
        .where(Amendment.id == amendment_id, Amendment.document_id == document.id))
    if amendment is None or not can_view(user, amendment):
        raise NotFound(_("There is no such amendment."))
    return amendment


def lock_for_change(document_id: int, amendment_id: int, *,
          alone: bool = False) -> tuple[Document | None, Section | None, Amendment]:
    """Lock the document, the amendment's section and the amendment, in protocol order; return them fresh.

    ``alone`` locks only the amendment, for changes that touch nothing else
    (supports). An amendment's section never changes, so reading which one it
    is before the locks is safe.

    :raises NotFound: for an amendment of another document.
    """
    document = section = None
    if not alone:
        section_id = db.session.scalar(select(Amendment.section_id).where(Amendment.id == amendment_id,
                                                                           Amendment.document_id == document_id))
        document = documents.lock_document(document_id)
        if section_id is not None:
            section = documents.lock_section(document, section_id)
    amendment = lock_row(Amendment, amendment_id)
    if amendment is None or amendment.document_id != document_id:
        raise NotFound(_("There is no such amendment."))
    return document, section, amendment


def check_revision(amendment: Amendment, revision: int | None, what: str) -> None:
    """Refuse to act on an amendment that changed since the form was shown.

    ``what`` the person was doing: "editing", "withdrawing" or "deciding".

    :raises ConflictError:
    """
    if revision is not None and to_int(revision) != amendment.revision:
        if amendment.status in DECIDED:
            message = {
                "editing": _("%(code)s was decided (%(status)s) while you were editing it. Nothing was changed; "
                             "your text is kept below."),
                "withdrawing": _("%(code)s was decided (%(status)s) while you were withdrawing it. Nothing was "
                                 "changed; your text is kept below."),
                "deciding": _("%(code)s was decided (%(status)s) while you were deciding. Nothing was changed; "
                              "your text is kept below."),
            }[what]
        else:
            message = {
                "editing": _("%(code)s changed while you were editing it (it is now at revision %(revision)s). "
                             "Nothing was changed; review it and try again — your text is kept below."),
                "withdrawing": _("%(code)s changed while you were withdrawing it (it is now at revision "
                                 "%(revision)s). Nothing was changed; review it and try again — your text is kept "
                                 "below."),
                "deciding": _("%(code)s changed while you were deciding (it is now at revision %(revision)s). "
                              "Nothing was changed; review it and try again — your text is kept below."),
            }[what]
        message = message % {"code": amendment.code, "status": Status(amendment.status).label.lower(),
                             "revision": amendment.revision}
        raise ConflictError(message, current=amendment)


def clean_kind(kind: str) -> Kind:
    """Parse the kind of amendment."""
    try:
        return Kind(kind)
    except ValueError as exc:
        raise ValidationError(_("Choose what the amendment does."), "kind") from exc


def clean_proposal(kind: Kind, base: SectionVersion | None, heading: str | None, body: str | None):
    """Validate the proposed heading and text for the amendment's kind.

    :raises ValidationError: on an empty, oversized or unchanged proposal.
    """
    if kind is Kind.DELETE:
        return None, None
    if kind is Kind.INSERT:
        return documents.clean_heading(heading), documents.clean_body(body)
    body = documents.clean_body(body)
    heading = (heading or "").strip() or None
    if heading is not None:
        heading = documents.clean_heading(heading)
        if heading == base.heading:
            heading = None
    if body == base.body and heading is None:
        raise ValidationError(_("The proposal is the same as the current text: change something first."), "body")
    return heading, body


def next_number(document_id: int) -> int:
    """The next amendment number of a document (the caller holds the document lock)."""
    return (db.session.scalar(select(func.max(Amendment.number)).where(Amendment.document_id == document_id)) or 0) + 1


def describe(amendment: Amendment, document: Document, base: SectionVersion | None,
              after_number: int | None = None, entry: documents.SectionEntry | None = None) -> None:
    """Compute and store the diffs, changed spans, line numbers, title and excerpt of an amendment.

    The title and excerpt are stored as data (``summary``, shown in the
    reader's language) and in English (``title``, ``excerpt``); an insert
    names the number of the section it follows (``after_number``).

    Lines are stored as numbered within ``base`` (``first_rel_line``,
    ``last_rel_line``, the numbered diff counted from 1, the title's data
    naming its section): pages number them against the text they show
    (``citations``), so they stay true when another section changes. The
    English ``title`` keeps how the title read when written (archives).

    Runs whenever the text or its base changes, never on a page view.
    ``entry`` is accepted for callers that have it; the numbering is the
    live text's, read once per transaction (``citations.live_numbering``).
    """
    kind = Kind(amendment.kind)
    amendment.heading_diff_html = None
    amendment.hunks = None
    amendment.first_rel_line = amendment.last_rel_line = None
    numbering = live_numbering(document.id)
    place = (document.id, amendment.section_id)
    if kind is Kind.INSERT:
        ops = [(1, amendment.proposed_body)]
        amendment.diff_inline_html, amendment.diff_side_html = render_inline(ops), render_side_by_side(ops)
        _store_summary(amendment, title_data("insert", after=after_number, place=place),
                       change_summary(kind.value, None, amendment.proposed_body,
                                      proposed_heading=amendment.proposed_heading), numbering)
        return
    number = numbering.place(amendment.section_id).number  # None: a retired section
    if kind is Kind.DELETE:
        ops = [(-1, base.body)]
        amendment.hunks = [[0, len(base.body)]]
        title = title_data("delete", section=number, place=place)
        lines = amended_lines(base.body, base.layout, None, amendment.hunks)
    else:
        ops = word_diff(base.body, amendment.proposed_body)
        # Each span keeps the text put there, so collisions can tell which touching changes still merge.
        amendment.hunks = [[h.start, h.end, h.text] for h in changed_ranges(ops)]
        if amendment.proposed_heading and amendment.proposed_heading != base.heading:
            amendment.heading_diff_html = render_inline(word_diff(base.heading, amendment.proposed_heading))
        # Line numbers are those of the visible text, as the numbered diff shows them.
        lines = amended_lines(base.body, base.layout, amendment.proposed_body, amendment.hunks)
        title = title_data("modify", section=number, first=lines.first_line if lines.line_range else None,
                           last=lines.last_line, place=place)
    _store_summary(amendment, title, change_summary(kind.value, base.body, amendment.proposed_body,
                                                    base.heading, amendment.proposed_heading, ops=ops), numbering)
    amendment.first_rel_line, amendment.last_rel_line = lines.first_line, lines.last_line
    amendment.diff_inline_html = lines.diff_html
    amendment.diff_side_html = render_side_by_side(ops)


def _store_summary(amendment: Amendment, title: dict[str, Any], excerpt: dict[str, Any],
                   numbering: Numbering) -> None:
    """Keep the title and excerpt as data, and their English words (the title as numbered now) for archives."""
    amendment.summary = {"title": title, "excerpt": excerpt}
    amendment.title = render_title(placed_title(title, numbering), ENGLISH)
    amendment.excerpt = render_excerpt(excerpt, ENGLISH)


def record_revision(amendment: Amendment, actor, note: dict[str, Any]) -> None:
    """Keep the amendment's current text as a numbered revision; ``note`` is ``wording.note_data(...)``."""
    db.session.add(AmendmentRevision(**revision_values(amendment, actor, note)))


def revision_values(amendment: Amendment, actor, note: dict[str, Any]) -> dict[str, Any]:
    """The columns of the revision that keeps the amendment's current text (see :func:`record_revision`)."""
    return {"amendment_id": amendment.id, "number": amendment.revision, "base_version_id": amendment.base_version_id,
            "proposed_heading": amendment.proposed_heading, "proposed_body": amendment.proposed_body,
            "reason": amendment.reason, "note": render_note(note, ENGLISH)[:200], "note_data": note,
            "author_id": actor.id if actor else None}


def touch(amendment: Amendment, actor, note: dict[str, Any], *, revisions: list[dict[str, Any]] | None = None) -> None:
    """Bump the revision after a change and keep it in the history.

    Nothing is flushed here: the amendment's UPDATE and its revision's INSERT
    go out with the caller's next flush (recording the audit event flushes),
    so that many amendments changed together are written together. Only a new
    amendment is flushed first, for the id its revision refers to.

    ``revisions`` collects the revision's columns instead, for a caller that
    changes many amendments and inserts all their revisions in one statement
    (the ORM inserts them one by one on SQLite, to learn ids nobody reads).
    """
    amendment.revision += 1
    amendment.updated_at = utcnow()
    if amendment.id is None:
        db.session.flush()
    if revisions is None:
        record_revision(amendment, actor, note)
    else:
        revisions.append(revision_values(amendment, actor, note))
