"""Reading amendments: lists, filters, counts, supporters and revisions, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased, defer, joinedload, with_expression

from ...accounts.rules import is_member, is_moderator
from ...documents.models import Document, Section, SectionVersion
from ...extensions import db
from ...pagination import Page, paginate
from ..models import DECIDED, Amendment, AmendmentRevision, Kind, Status, Support
from .collisions import collisions_for


SORTS = {
    "code": (Amendment.number,),
    "date": (Amendment.submitted_at, Amendment.id),
    "section": (Section.position, Amendment.first_rel_line, Amendment.number),  # lines within the section
    "support": (Amendment.support_count, Amendment.number),
}


@dataclass
class ListFilter:
    """What an amendment list shows."""

    status: str = "open"  # open | decided | all | a Status value
    section_id: int | None = None
    author_id: int | None = None
    needs_decision: bool = False
    conflicted: bool = False
    supported_by: int | None = None
    sort: str = "code"
    descending: bool = False
    page: int = 1
    per_page: int = 50

    def query_args(self) -> dict[str, Any]:
        """The filter as URL query arguments (defaults left out)."""
        args = {"status": self.status, "section": self.section_id, "author": self.author_id,
                "needs_decision": 1 if self.needs_decision else None, "conflicted": 1 if self.conflicted else None,
                "mine_supported": 1 if self.supported_by else None, "sort": self.sort,
                "desc": 1 if self.descending else None}
        return {key: value for key, value in args.items() if value not in (None, "")}


@dataclass
class AmendmentPage:
    """One page of a list, with what each row shows, loaded in a fixed number of queries."""

    pagination: Page[Amendment]
    collisions: dict[int, list[str]] = field(default_factory=dict)
    excluded_own: bool = False  # the viewer's own amendments were left out: someone else decides them


def _filtered(document: Document, flt: ListFilter):
    """The SELECT for a filtered list (drafts never appear)."""
    stmt = select(Amendment).where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value)
    if flt.status == "open":
        stmt = stmt.where(Amendment.status == Status.SUBMITTED.value)
    elif flt.status == "decided":
        stmt = stmt.where(Amendment.status.in_([s.value for s in DECIDED]))
    elif flt.status in {s.value for s in Status}:
        stmt = stmt.where(Amendment.status == flt.status)
    if flt.section_id:
        stmt = stmt.where(Amendment.section_id == flt.section_id)
    if flt.author_id:
        stmt = stmt.where(Amendment.author_id == flt.author_id)
    if flt.needs_decision:
        stmt = stmt.where(Amendment.status == Status.SUBMITTED.value, Amendment.conflicted.is_(False),
                          Amendment.support_count >= document.min_supporters)
    if flt.conflicted:
        stmt = stmt.where(Amendment.conflicted.is_(True), Amendment.status == Status.SUBMITTED.value)
    if flt.supported_by:
        stmt = stmt.where(Amendment.id.in_(select(Support.amendment_id).where(Support.user_id == flt.supported_by)))
    return stmt


def _current_heading():
    """The current heading of an amendment's section, as a column of the list's own query."""
    section, version = aliased(Section), aliased(SectionVersion)
    return (select(version.heading).join(section, section.current_version_id == version.id)
            .where(section.id == Amendment.section_id).correlate(Amendment).scalar_subquery())


# What a list row never shows: the texts and their stored diffs (most of a row's bytes). Left unread, so that
# sorting a deep page moves ids and short columns only; reading one of them from a row is a bug, and raises.
_LIST_DEFERRED = tuple(defer(column, raiseload=True) for column in (
    Amendment.proposed_body, Amendment.diff_inline_html, Amendment.diff_side_html, Amendment.heading_diff_html,
    Amendment.final_body, Amendment.modification_diff_html))


def list_amendments(document: Document, flt: ListFilter, user=None) -> AmendmentPage:
    """Return one page of a document's amendments, filtered and sorted, in three queries.

    The same for every reader but a moderator (below): which rows the reader supports is
    :func:`supported_among`'s, asked where the page is composed, so the list can be cached.

    A moderator's "needs a decision" leaves out her own amendments: another
    moderator decides them (``excluded_own`` tells the page to say so).
    """
    stmt = _filtered(document, flt).options(joinedload(Amendment.author),
                                            with_expression(Amendment.section_heading, _current_heading()),
                                            *_LIST_DEFERRED)
    decides_elsewhere = flt.needs_decision and is_moderator(user)
    if decides_elsewhere:
        stmt = stmt.where(Amendment.author_id != user.id)
    columns = SORTS.get(flt.sort, SORTS["code"])
    if flt.sort == "section":
        stmt = stmt.outerjoin(Section, Section.id == Amendment.section_id)
    order = [c.desc() if flt.descending else c.asc() for c in columns]
    stmt = stmt.order_by(*order, Amendment.id)
    pagination = paginate(stmt, flt.page, flt.per_page)
    ids = [a.id for a in pagination.items]
    page = AmendmentPage(pagination, excluded_own=decides_elsewhere)
    if ids:
        page.collisions = collisions_for(ids)
    return page


def supported_among(user, amendment_ids: list[int]) -> set[int]:
    """Which of these amendments ``user`` supports (one query; none for visitors or without ids)."""
    if not is_member(user) or not amendment_ids:
        return set()
    return set(db.session.scalars(select(Support.amendment_id).where(
        Support.user_id == user.id, Support.amendment_id.in_(amendment_ids))))


def open_counts_by_section(document: Document) -> dict[int, int]:
    """Open amendments per section, for the reading page (one query)."""
    rows = db.session.execute(
        select(Amendment.section_id, func.count())
        .where(Amendment.document_id == document.id, Amendment.status == Status.SUBMITTED.value,
               Amendment.kind != Kind.INSERT.value)
        .group_by(Amendment.section_id)).all()
    return {section_id: count for section_id, count in rows}


def status_counts(document: Document, min_supporters: int, user=None) -> dict[str, int]:
    """How many amendments are in each state, plus the moderators' queues (one query).

    For a moderator, "needs_decision" counts only what she may decide;
    "own_needs_decision" counts her own amendments that wait for another moderator.
    """
    open_ = Amendment.status == Status.SUBMITTED.value
    waiting = and_(open_, Amendment.conflicted.is_(False), Amendment.support_count >= min_supporters)
    own_id = user.id if is_moderator(user) else -1
    row = db.session.execute(
        select(
            func.count().filter(open_),
            func.count().filter(and_(waiting, Amendment.author_id != own_id)),
            func.count().filter(and_(open_, Amendment.conflicted.is_(True))),
            func.count().filter(Amendment.status.in_([s.value for s in DECIDED])),
            func.count(),
            func.count().filter(and_(waiting, Amendment.author_id == own_id)),
        ).where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value)).one()
    return {"open": row[0], "needs_decision": row[1], "conflicted": row[2], "decided": row[3], "all": row[4],
            "own_needs_decision": row[5]}


def my_drafts(document: Document, user) -> list[Amendment]:
    """The user's own drafts (only they can see them)."""
    if not is_member(user):
        return []
    return list(db.session.scalars(select(Amendment).where(
        Amendment.document_id == document.id, Amendment.author_id == user.id,
        Amendment.status == Status.DRAFT.value).order_by(Amendment.id.desc()).limit(50)))


def supporters(amendment: Amendment) -> list:
    """The people who support an amendment, in the order they signed (one query)."""
    return [s.user for s in db.session.scalars(
        select(Support).options(joinedload(Support.user)).where(Support.amendment_id == amendment.id)
        .order_by(Support.id))]


def revisions(amendment: Amendment) -> list[AmendmentRevision]:
    """Every revision of an amendment, newest first, with editors and base versions (one query)."""
    return list(db.session.scalars(
        select(AmendmentRevision)
        .options(joinedload(AmendmentRevision.author), joinedload(AmendmentRevision.base_version))
        .where(AmendmentRevision.amendment_id == amendment.id)
        .order_by(AmendmentRevision.number.desc())))


def merged_target_code(amendment: Amendment) -> str | None:
    """The code of the amendment this one was merged into."""
    if not amendment.merged_into_id:
        return None
    number = db.session.scalar(select(Amendment.number).where(Amendment.id == amendment.merged_into_id))
    return f"A-{number:03d}" if number else None


def private_reasons(events, user) -> set[int]:
    """Ids of the audit events on amendments whose reason ``user`` may not read (one query).

    A reason written on a draft belongs to its author until it is submitted,
    and a hidden amendment's texts only to its author and the moderators.
    """
    ids = {event.object_id for event in events if event.object_type == "amendments" and event.reason}
    if not ids:
        return set()
    rows = db.session.execute(select(Amendment.id, Amendment.author_id, Amendment.number, Amendment.hidden_at)
                              .where(Amendment.id.in_(ids))).all()
    member, moderator = is_member(user), is_moderator(user)
    private = {row.id for row in rows
               if not (member and (user.id == row.author_id or (row.hidden_at is not None and moderator)))
               and (row.number is None or row.hidden_at is not None)}
    # What the amendment's own events say in public stays public: decisions and moderators' reasons.
    public_actions = ("amendment.accepted", "amendment.accepted_modified", "amendment.rejected", "amendment.obsolete",
                      "amendment.merged", "amendment.hidden", "amendment.restored", "amendment.conflicted")
    return {event.id for event in events if event.object_type == "amendments" and event.object_id in private
            and event.action not in public_actions}
