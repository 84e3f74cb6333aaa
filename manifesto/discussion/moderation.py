"""Moderation: participants report comments and amendments; moderators hide, restore or dismiss.

Hiding is done in the open: the item's place shows that the moderators hid
it and why, its author still sees it (marked hidden), and its text stays in
the database and the audit trail. Hiding an item resolves its open reports
in the same transaction; dismissing them records ``report.dismissed`` for
each. Amendments are hidden by the amendments area's own services, which
these call.

Locks (see ``manifesto.locking``): hiding or restoring locks the item (a
comment, or an amendment), then its open reports; dismissing locks the
reports. Reporting locks nothing: the unique constraint on (reporter, item)
keeps one report per person and item, even when two arrive at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..amendments import services as amendments
from ..amendments.services.moderation import clean_reason
from ..accounts.rules import is_member, is_moderator, require_moderator
from ..amendments.models import Amendment, Status
from ..audit.services import record_event
from ..extensions import db
from ..locking import lock_rows
from ..pagination import Page, paginate
from ..services import NotFound, PermissionDenied, ValidationError, to_int, utcnow, writes
from .comments import _lock_comment
from .models import Comment, Report, ReportStatus, Target

REPORTS_PER_PAGE = 20  # reported items on one page of the queue
RECENTLY_HIDDEN = 50  # hidden items listed under the queue, for restoring

# What can be reported: codes, as stored in ``reports.target`` (pages word them in the reader's language).
TARGETS = {Target.COMMENT.value: "comment", Target.AMENDMENT.value: "amendment"}


def can_moderate(user) -> bool:
    """Moderators and admins work the queue."""
    return is_moderator(user)


def _target(target: str) -> str:
    """Check what is reported: a comment or an amendment.

    :raises NotFound:
    """
    if target not in TARGETS:
        raise NotFound(_("Only comments and amendments can be reported."))
    return target


def _item(document_id: int, target: str, target_id: int):
    """Load a reported comment or submitted amendment of the document.

    :raises NotFound: also for drafts.
    """
    model = Comment if target == Target.COMMENT else Amendment
    item = db.session.get(model, to_int(target_id))
    if item is None or item.document_id != document_id or (model is Amendment and item.status == Status.DRAFT):
        raise NotFound(_("There is no such comment.") if target == Target.COMMENT
                       else _("There is no such amendment."))
    return item


# ------------------------------------------------------------------ reporting

@writes
def report_item(actor, document_id: int, target: str, target_id: int, *, reason: str) -> Report:
    """Report a comment or an amendment to the moderators, with a reason; once per person and item.

    :raises PermissionDenied: for anonymous users and for one's own contributions.
    :raises NotFound: for an unknown item.
    :raises ValidationError: without a reason, for hidden or deleted items, or a second report.
    """
    if not is_member(actor):
        raise PermissionDenied(_("Log in to report something to the moderators."))
    document_id = to_int(document_id)
    target = _target(target)
    item = _item(document_id, target, target_id)
    is_comment = target == Target.COMMENT
    if item.author_id == actor.id:
        raise PermissionDenied(_("You cannot report your own comment. You can edit or delete it instead.")
                               if is_comment else _("You cannot report your own amendment."))
    if is_comment and item.is_deleted:
        raise ValidationError(_("This comment was deleted by its author already."), "reason")
    if item.is_hidden:
        raise ValidationError(_("The moderators have hidden this comment already.") if is_comment
                              else _("The moderators have hidden this amendment already."), "reason")
    reason = clean_reason(reason, required=True,
                          message=_("Tell the moderators what is wrong: the reason cannot be empty."))
    duplicate = ValidationError(
        _("You have already reported this comment; the moderators have your report. "
          "Each person reports an item once.") if is_comment
        else _("You have already reported this amendment; the moderators have your report. "
               "Each person reports an item once."), "reason")
    if db.session.scalar(select(Report.id).where(Report.reporter_id == actor.id, Report.target == target,
                                                 Report.target_id == item.id)) is not None:
        raise duplicate
    report = Report(document_id=document_id, target=target, target_id=item.id, reporter_id=actor.id,
                    reason=reason, status=ReportStatus.OPEN.value)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError as exc:  # reported twice at the same moment
        raise duplicate from exc
    record_event(actor, "report.created", report, document_id=document_id, reason=reason,
                 data={"target": target, "target_id": item.id})
    return report


def _open_reports(target: str, target_id: int) -> list[Report]:
    """Lock and return the open reports of an item (the item's lock, if any, is taken first)."""
    ids = db.session.scalars(select(Report.id).where(Report.target == target, Report.target_id == target_id,
                                                     Report.status == ReportStatus.OPEN.value)).all()
    return [r for r in lock_rows(Report, ids) if r.status == ReportStatus.OPEN]


def _close(reports: list[Report], actor, status: ReportStatus, reason: str | None) -> None:
    """Mark reports as handled."""
    now = utcnow()
    for report in reports:
        report.status, report.handled_by_id, report.handled_at, report.handled_reason = \
            status.value, actor.id, now, reason


# ------------------------------------------------------------------ hiding

def _require_moderator(actor) -> None:
    """Refuse anyone but a moderator or admin.

    :raises PermissionDenied:
    """
    require_moderator(actor, _("Only moderators can do this."))


@writes
def hide_item(actor, document_id: int, target: str, target_id: int, *, reason: str):
    """Hide a comment or an amendment with a public reason; its open reports are resolved.

    :raises PermissionDenied: unless the actor is a moderator.
    :raises ValidationError: without a reason, or when the item is hidden (or deleted) already.
    """
    _require_moderator(actor)
    document_id, target = to_int(document_id), _target(target)
    reason = clean_reason(reason, required=True,
                          message=_("Give the public reason: it is shown in place of the hidden text."))
    if target == Target.AMENDMENT:
        item = amendments.hide_amendment(actor, document_id, to_int(target_id), reason=reason)
    else:
        item = _lock_comment(document_id, target_id)
        if item.is_hidden:
            raise ValidationError(_("This comment is hidden already."))
        if item.is_deleted:
            raise ValidationError(_("This comment was deleted by its author; there is nothing left to hide."))
        item.hidden_at, item.hidden_by_id, item.hidden_reason = utcnow(), actor.id, reason
        item.revision += 1
        record_event(actor, "comment.hidden", item, document_id=document_id, reason=reason,
                     data={"target": item.target,
                           "target_id": item.section_id if item.target == Target.SECTION else item.amendment_id,
                           "parent_id": item.parent_id})
    _close(_open_reports(target, item.id), actor, ReportStatus.HIDDEN, reason)
    return item


@writes
def restore_item(actor, document_id: int, target: str, target_id: int, *, reason: str | None = None):
    """Show a hidden comment or amendment again.

    :raises PermissionDenied: unless the actor is a moderator.
    :raises ValidationError: when it is not hidden.
    """
    _require_moderator(actor)
    document_id, target = to_int(document_id), _target(target)
    reason = clean_reason(reason, required=False, message="")
    if target == Target.AMENDMENT:
        return amendments.restore_amendment(actor, document_id, to_int(target_id), reason=reason)
    item = _lock_comment(document_id, target_id)
    if not item.is_hidden:
        raise ValidationError(_("This comment is not hidden."))
    item.hidden_at = item.hidden_by_id = item.hidden_reason = None
    item.revision += 1
    record_event(actor, "comment.restored", item, document_id=document_id, reason=reason,
                 data={"target": item.target,
                       "target_id": item.section_id if item.target == Target.SECTION else item.amendment_id,
                       "parent_id": item.parent_id})
    return item


@writes
def dismiss_reports(actor, document_id: int, target: str, target_id: int, *, reason: str | None = None) -> int:
    """Dismiss every open report of an item (nothing wrong with it); return how many.

    :raises PermissionDenied: unless the actor is a moderator.
    :raises ValidationError: when the item has no open report.
    """
    _require_moderator(actor)
    document_id, target = to_int(document_id), _target(target)
    reason = clean_reason(reason, required=False, message="")
    item = _item(document_id, target, target_id)
    reports = _open_reports(target, item.id)
    if not reports:
        raise ValidationError(_("This comment has no open report (another moderator may have handled it).")
                              if target == Target.COMMENT
                              else _("This amendment has no open report (another moderator may have handled it)."))
    _close(reports, actor, ReportStatus.DISMISSED, reason)
    for report in reports:
        record_event(actor, "report.dismissed", report, document_id=document_id, reason=reason,
                     data={"target": target, "target_id": item.id})
    return len(reports)


# ------------------------------------------------------------------ the queue

@dataclass
class QueueItem:
    """A reported item in the moderators' queue, with its open reports."""

    target: str
    target_id: int
    item: Comment | Amendment | None
    reports: list[Report] = field(default_factory=list)

    @property
    def what(self) -> str:
        """"comment" or "amendment": a code; the page words it."""
        return TARGETS[self.target]


@dataclass
class Queue(Page):
    """One page of the queue (a :class:`Page` of reported items), and the items hidden lately."""

    hidden_comments: list[Comment] = field(default_factory=list)
    hidden_amendments: list[Amendment] = field(default_factory=list)


def queue(document, page: int = 1) -> Queue:
    """Items with open reports, oldest report first, one page of them, and the items hidden lately (seven queries)."""
    open_ = and_(Report.document_id == document.id, Report.status == ReportStatus.OPEN.value)
    found = paginate(select(Report.target, Report.target_id).where(open_).group_by(Report.target, Report.target_id)
                     .order_by(func.min(Report.id)), page, REPORTS_PER_PAGE, rows=True)
    rows = found.items
    comment_ids = [tid for target, tid in rows if target == Target.COMMENT]
    amendment_ids = [tid for target, tid in rows if target == Target.AMENDMENT]
    items = {(target, tid): QueueItem(target, tid, None) for target, tid in rows}
    if rows:
        for report in db.session.scalars(
                select(Report).options(joinedload(Report.reporter)).where(open_, or_(
                    and_(Report.target == Target.COMMENT.value, Report.target_id.in_(comment_ids)),
                    and_(Report.target == Target.AMENDMENT.value, Report.target_id.in_(amendment_ids))))
                .order_by(Report.id)):
            items[(report.target, report.target_id)].reports.append(report)
    if comment_ids:
        for comment in db.session.scalars(select(Comment).options(joinedload(Comment.author))
                                          .where(Comment.id.in_(comment_ids))):
            items[(Target.COMMENT.value, comment.id)].item = comment
    if amendment_ids:
        for amendment in db.session.scalars(select(Amendment).options(joinedload(Amendment.author))
                                            .where(Amendment.id.in_(amendment_ids))):
            items[(Target.AMENDMENT.value, amendment.id)].item = amendment
    hidden_comments = list(db.session.scalars(
        select(Comment).options(joinedload(Comment.author))
        .where(Comment.document_id == document.id, Comment.hidden_at.is_not(None))
        .order_by(Comment.hidden_at.desc(), Comment.id.desc()).limit(RECENTLY_HIDDEN)))
    hidden_amendments = list(db.session.scalars(
        select(Amendment).options(joinedload(Amendment.author))
        .where(Amendment.document_id == document.id, Amendment.hidden_at.is_not(None))
        .order_by(Amendment.hidden_at.desc(), Amendment.id.desc()).limit(RECENTLY_HIDDEN)))
    return Queue(list(items.values()), found.page, found.per_page, found.total,
                 hidden_comments=hidden_comments, hidden_amendments=hidden_amendments)


def open_report_count(document) -> int:
    """How many open reports wait in the queue (one query), for the moderators' link."""
    return db.session.scalar(select(func.count()).select_from(Report).where(
        Report.document_id == document.id, Report.status == ReportStatus.OPEN.value)) or 0
