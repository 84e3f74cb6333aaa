"""Amendments: the list with the list page's filters, one amendment, proposing, editing, support, decisions.

Every operation calls the services the amendment pages call
(``amendments/views.py``), with the same arguments: the services decide who
may do what, the API adds only the token's scope. What a page hides from a
reader stays out of the answer: a hidden amendment's words (reason, text,
diff, excerpt) for everyone but its author and the moderators; drafts for
everyone but their author; emails always.

Proposals count in the same per-person bucket as the proposal form
(``RATELIMIT_PROPOSALS``, ``accounts/limits.py``): tested before the service,
counted after it succeeded, so the API is no way around the limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from flask import url_for
from flask_login import current_user
from pydantic import Field

from ...accounts.rules import is_member, is_moderator
from ...amendments import figures, services
from ...amendments.citations import placed_title
from ...amendments.models import DECIDED, Amendment, Kind, Status
from ...amendments.wording import ENGLISH
from ...discussion import comments as discussion
from ...discussion import moderation
from ...documents import services as documents
from ...documents.models import Document
from ...documents.services import LIMITS
from ...text.diff import word_diff
from ..spec import Count, Id, Input, Model, Reply, check_if_match, operation
from .blueprint import bp
from .common import DiffRun, ListOf, PageQuery, creating, document_validator, iso, list_of, runs

TAG = "Amendments"

KindName = Literal["modify", "delete", "insert"]
StatusName = Literal["draft", "submitted", "withdrawn", "accepted", "accepted_modified", "rejected", "obsolete",
                     "merged"]
# What the list's ``status`` filter takes: the page's three groups, or one status (drafts are never listed).
ListStatus = Literal["open", "decided", "all", "submitted", "withdrawn", "accepted", "accepted_modified",
                     "rejected", "obsolete", "merged"]
SortName = Literal["code", "date", "section", "support"]
DecisionName = Literal["accept", "accept_modified", "reject", "obsolete", "merged"]
Revision = Annotated[int, Field(ge=1, le=2**31 - 1, description="The amendment's revision you read (409 if stale).")]

assert set(SortName.__args__) == set(services.SORTS), "the API's sorts are the list page's"
assert set(DecisionName.__args__) == set(services.DECISIONS), "the API's decisions are the decision form's"


# ------------------------------------------------------------------ rate limits shared with the pages

# ------------------------------------------------------------------ answers

class SectionRef(Model):
    """The section an amendment changes (an insert: the section the new one follows; none: at the start)."""

    id: Id
    number: int | None = Field(ge=0, description="Its number in the document now (None: retired).")
    heading: str | None = Field(description="Its current heading (None when the amendment is hidden from you).")


class CollisionRef(Model):
    """An open amendment changing the same passage."""

    id: Id
    code: str


class AmendmentLinks(Model):
    """Where to read the amendment."""

    self: str = Field(description="This amendment in the API.")
    page: str = Field(description="Its page on the site.")


class AmendmentSummary(Model):
    """An amendment as a row of the list shows it."""

    id: Id
    code: str = Field(description="A-014; drafts have none (\"Draft\").")
    kind: KindName
    status: StatusName
    section: SectionRef | None
    title: str = Field(description="The title in English (\"§3, lines 12–14\"), numbered as the live text is now; "
                                   "``summary`` has its parts.")
    excerpt: str | None = Field(description="What it changes, as stored (English); None when hidden.")
    summary: dict[str, Any] | None = Field(description="Title and excerpt as data, to word them in any language.")
    author: str = Field(description="The author's display name.")
    supporters: Count
    comments: Count = Field(description="Visible comments on it.")
    conflicted: bool = Field(description="Written on an older text and waiting for its author to resolve it.")
    collides: bool = Field(description="It changes the same passage as another open amendment.")
    collisions: list[CollisionRef]
    hidden: bool = Field(description="Hidden by the moderators (its words show only to its author and them).")
    supported_by_me: bool
    first_line: int | None = Field(ge=0, description="The first line it changes, numbered as the live text is now.")
    last_line: int | None = Field(ge=0, description="The last line it changes, numbered as the live text is now.")
    created_at: datetime
    submitted_at: datetime | None
    updated_at: datetime
    revision: int = Field(ge=1, description="Send it back with a change (409 when someone changed it first).")
    links: AmendmentLinks


class StatusCounts(Model):
    """How many amendments are in each state (for a moderator, her queue leaves out her own)."""

    open: Count
    needs_decision: Count
    conflicted: Count
    decided: Count
    all: Count
    own_needs_decision: Count = Field(description="A moderator's own amendments waiting for another moderator.")


class AmendmentList(ListOf[AmendmentSummary]):
    """One page of a document's amendments, with the counts by state."""

    counts: StatusCounts


class Diff(Model):
    """What the amendment changes: runs of text, and the page's HTML (inline and side by side)."""

    runs: list[DiffRun]
    heading_html: str | None = Field(description="The heading's diff, when it renames the section.")
    inline_html: str | None
    side_html: str | None
    modification_html: str | None = Field(description="The moderators' changes to what was proposed "
                                                      "(accepted with modifications).")


class RevisionOut(Model):
    """One revision of the amendment's text: how it came about."""

    number: int = Field(ge=1)
    note: str = Field(description="How it came about, as stored (English).")
    note_data: dict[str, Any] | None = Field(description="The same as data, to word it in any language.")
    author: str | None
    base_version: int | None = Field(ge=1, description="The number of the section's version it was written on.")
    created_at: datetime


class ResultVersion(Model):
    """The section version an accepted amendment became."""

    section_id: Id
    number: int = Field(ge=1)


class DecisionOut(Model):
    """The decision (or the withdrawal) and its public reason."""

    status: StatusName
    decided_at: datetime | None
    decided_by: str | None = Field(description="The moderator's name (None for a withdrawal).")
    reason: str | None = Field(description="The public reason (None where the page keeps it from you).")
    merged_into: str | None = Field(description="The code of the amendment it was merged into.")
    final_heading: str | None = Field(description="The heading adopted (accepted amendments).")
    final_body: str | None = Field(description="The text adopted (accepted amendments).")
    result_version: ResultVersion | None


class Permissions(Model):
    """What the caller may do with it now (the services decide; this says what they would allow)."""

    edit: bool
    withdraw: bool
    support: bool
    decide: bool


class AmendmentDetail(AmendmentSummary):
    """One amendment: its text, reason, diff, supporters, collisions, history and decision."""

    reason: str | None = Field(description="The author's reason (None when hidden from you).")
    proposed_heading: str | None
    proposed_body: str | None = Field(description="The text as proposed (Markdown; None when hidden from you).")
    hidden_reason: str | None = Field(description="Why the moderators hid it (public).")
    base_version: int | None = Field(ge=1, description="The number of the section's version it is written on.")
    diff: Diff | None = Field(description="None when hidden from you.")
    supporter_names: list[str]
    revisions: list[RevisionOut]
    decision: DecisionOut | None
    may: Permissions


class SupportOut(Model):
    """An amendment's support after the call."""

    amendment_id: Id
    supporters: Count
    supported_by_me: bool


class ReportOut(Model):
    """A report sent to the moderators (only they see it)."""

    target: Literal["comment", "amendment"]
    target_id: Id
    status: Literal["open"]


# ------------------------------------------------------------------ inputs

class AmendmentQuery(PageQuery):
    """The list page's filters and sorts."""

    status: ListStatus = Field("open", description="open, decided, all, or one status.")
    section: Id | None = Field(None, description="Only amendments of this section (its id).")
    author: Id | None = Field(None, description="Only amendments by this person (their id).")
    needs_decision: bool = Field(False, description="Open, not conflicted, with enough supporters.")
    conflicted: bool = False
    supported_by_me: bool = Field(False, description="Only amendments you support (with a token).")
    sort: SortName = "code"
    desc: bool = False


class ProposalIn(Input):
    """A new amendment, as the proposal form sends it."""

    kind: KindName = "modify"
    section_id: Id | None = Field(None, description="The section changed; for an insert, the one it follows.")
    heading: str | None = Field(None, max_length=LIMITS["heading"])
    body: str | None = Field(None, max_length=LIMITS["body"], description="The section's text as you want it.")
    reason: str = Field(max_length=LIMITS["reason"])
    base_version_id: Id | None = Field(None, description="The version your text started from (rebased if old).")
    submit: bool = Field(True, description="False saves a draft only you see.")


class EditIn(Input):
    """A change to an undecided amendment (or the resolution of a conflict)."""

    heading: str | None = Field(None, max_length=LIMITS["heading"])
    body: str | None = Field(None, max_length=LIMITS["body"])
    reason: str = Field(max_length=LIMITS["reason"])
    revision: Revision
    submit: bool = Field(False, description="True submits a draft.")


class WithdrawIn(Input):
    """The author takes the amendment back."""

    revision: Revision
    reason: str | None = Field(None, max_length=LIMITS["reason"])


class DecisionIn(Input):
    """A moderator's decision, as the decision form sends it."""

    decision: DecisionName
    reason: str = Field(max_length=LIMITS["reason"], description="The public reason.")
    revision: Revision
    final_heading: str | None = Field(None, max_length=LIMITS["heading"], description="accept_modified only.")
    final_body: str | None = Field(None, max_length=LIMITS["body"], description="accept_modified only.")
    merged_into: str | None = Field(None, max_length=20, description="merged: the other amendment's code (A-007).")


class ReportIn(Input):
    """What is wrong, for the moderators."""

    reason: str = Field(max_length=2000)


# ------------------------------------------------------------------ building answers

def _links(document: Document, amendment: Amendment) -> AmendmentLinks:
    """The amendment's addresses in the API and on the site."""
    return AmendmentLinks(self=url_for("api.get_amendment", slug=document.slug, amendment_id=amendment.id),
                          page=url_for("amendments.show", slug=document.slug, amendment_id=amendment.id))


def _summary_fields(document: Document, amendment: Amendment, *, numbers: dict[int, int],
                    collisions: list[tuple[str, int]], supported: bool, comments: int,
                    heading: str | None, hidden_from_me: bool) -> dict[str, Any]:
    """What a row shows, as the list page shows it: a hidden amendment's words stay out (for everyone)."""
    data = amendment.summary
    if data and data.get("title"):  # its section's number and lines as the live text numbers them now
        data = {**data, "title": placed_title(data["title"])}
    if amendment.is_hidden and data:
        data = {key: value for key, value in data.items() if key != "excerpt"}
    cited = amendment.cited_lines()
    section = None
    if amendment.section_id is not None:
        section = SectionRef(id=amendment.section_id, number=numbers.get(amendment.section_id),
                             heading=None if hidden_from_me else heading)
    return dict(
        id=amendment.id, code=amendment.code if amendment.number else "Draft", kind=amendment.kind,
        status=amendment.status, section=section, title=amendment.title_in(words=ENGLISH),
        excerpt=None if amendment.is_hidden else amendment.excerpt, summary=data,
        author=amendment.author.name, supporters=amendment.support_count, comments=comments,
        conflicted=amendment.conflicted, collides=bool(collisions),
        collisions=[CollisionRef(code=code, id=other) for code, other in collisions],
        hidden=amendment.is_hidden, supported_by_me=supported, first_line=cited[0] if cited else None,
        last_line=cited[1] if cited else None, created_at=iso(amendment.created_at),
        submitted_at=iso(amendment.submitted_at),
        updated_at=iso(amendment.updated_at), revision=amendment.revision, links=_links(document, amendment))


def _section_numbers(document: Document) -> dict[int, int]:
    """Each live section's number now (one light query: the outline the list page's filter shows)."""
    return {entry.section_id: entry.number for entry in documents.outline(document)}


def _runs(amendment: Amendment) -> list[DiffRun]:
    """The diff as runs of text, as the amendment's kind has it (the preview's rule in the pages)."""
    if amendment.kind == Kind.DELETE:
        ops = [(-1, amendment.base_version.body if amendment.base_version else "")]
    elif amendment.kind == Kind.INSERT:
        ops = [(1, amendment.proposed_body or "")]
    else:
        ops = word_diff(amendment.base_version.body if amendment.base_version else "", amendment.proposed_body or "")
    return runs(ops)


def _decision(amendment: Amendment, merged_into: str | None, hidden_from_me: bool) -> DecisionOut | None:
    """The decision block of the page: a decision, or a withdrawal with the author's reason."""
    if amendment.decided_at is None or amendment.status not in {*DECIDED, Status.WITHDRAWN}:
        return None
    accepted = amendment.status in (Status.ACCEPTED, Status.ACCEPTED_MODIFIED)
    modified = amendment.status == Status.ACCEPTED_MODIFIED
    # A withdrawal's reason is the author's words: hidden with the amendment's other words.
    withdrawn = amendment.status == Status.WITHDRAWN
    result = amendment.result_version
    return DecisionOut(
        status=amendment.status, decided_at=iso(amendment.decided_at),
        decided_by=amendment.decided_by.name if amendment.decided_by is not None else None,
        reason=None if withdrawn and hidden_from_me else amendment.decision_reason, merged_into=merged_into,
        final_heading=(amendment.final_heading if modified else amendment.proposed_heading)
        if accepted and not hidden_from_me else None,
        final_body=(amendment.final_body if modified else amendment.proposed_body)
        if accepted and not hidden_from_me else None,
        result_version=ResultVersion(section_id=result.section_id, number=result.number) if result else None)


def amendment_detail(document: Document, amendment: Amendment) -> AmendmentDetail:
    """One amendment as its page shows it to the caller (the amendment loaded with its related rows)."""
    hidden_from_me = not services.can_see_hidden(current_user, amendment)
    member = is_member(current_user)
    supported = member and bool(services.supported_among(current_user, [amendment.id]))
    collisions = services.collisions_for([amendment.id]).get(amendment.id, [])
    outline = documents.outline(document) if amendment.section_id is not None else []
    numbers = {entry.section_id: entry.number for entry in outline}
    heading = next((entry.heading for entry in outline if entry.section_id == amendment.section_id), None)
    fields = _summary_fields(document, amendment, numbers=numbers, collisions=collisions, supported=supported,
                             comments=discussion.counts_by_amendment([amendment.id]).get(amendment.id, 0),
                             heading=heading, hidden_from_me=hidden_from_me)
    diff = None
    if not hidden_from_me:
        diff = Diff(runs=_runs(amendment), heading_html=amendment.heading_diff_html,
                    inline_html=amendment.inline_diff_html(), side_html=amendment.diff_side_html,
                    modification_html=amendment.modification_diff_html
                    if amendment.status == Status.ACCEPTED_MODIFIED else None)
    return AmendmentDetail(
        **fields,
        reason=None if hidden_from_me else amendment.reason,
        proposed_heading=None if hidden_from_me else amendment.proposed_heading,
        proposed_body=None if hidden_from_me else amendment.proposed_body,
        hidden_reason=amendment.hidden_reason if amendment.is_hidden else None,
        base_version=amendment.base_version.number if amendment.base_version is not None else None,
        diff=diff,
        supporter_names=[person.display for person in services.supporters(amendment)],
        revisions=[RevisionOut(number=r.number, note=r.note, note_data=r.note_data,
                               author=r.author.name if r.author is not None else None,
                               base_version=r.base_version.number if r.base_version is not None else None,
                               created_at=iso(r.created_at)) for r in services.revisions(amendment)],
        decision=_decision(amendment, services.merged_target_code(amendment), hidden_from_me),
        may=Permissions(edit=services.can_edit(current_user, amendment),
                        withdraw=services.can_withdraw(current_user, amendment),
                        support=services.can_support(current_user, amendment),
                        decide=services.can_decide(current_user, amendment)))


def amendment_etag(document: Document, amendment: Amendment) -> tuple:
    """What the amendment's answer depends on: the parts its page follows, the reader's role, and the reader.

    The same for the GET and for the writes' ``If-Match`` (keyed by the GET's endpoint, whichever asks).
    """
    parts = figures.page_scopes(amendment) or ()
    return document_validator(document, *parts, params=(amendment.id,), personal=True, endpoint="api.get_amendment")


def _load(document: Document, amendment_id: int) -> Amendment:
    """The amendment as the caller may see it, with its related rows (someone else's draft: 404)."""
    return services.get_amendment_or_404(document, amendment_id, current_user)


def _answer(document: Document, amendment_id: int, *, status: int | None = None,
            headers: dict[str, str] | None = None) -> Reply:
    """The amendment as it is now (after a write: loaded again, with its new validator)."""
    amendment = _load(document, amendment_id)
    return Reply(body=amendment_detail(document, amendment), status=status, headers=headers or {},
                 etag=amendment_etag(document, amendment))


# ------------------------------------------------------------------ the operations

@operation(bp, "GET", "/documents/<slug>/amendments", summary="List a document's amendments", tag=TAG,
           response=AmendmentList, query=AmendmentQuery, scope="read", conditional=True)
def list_amendments(slug: str, query: AmendmentQuery):
    """The amendments of a document, filtered, sorted and paginated as on the list page, with the counts by state.

    Drafts are never listed (their author reads them by id). For a moderator,
    "needs_decision" leaves out her own amendments, as her page does.
    """
    document = documents.get_document_or_404(slug)
    member = is_member(current_user)
    flt = services.ListFilter(
        status=query.status, section_id=query.section, author_id=query.author, needs_decision=query.needs_decision,
        conflicted=query.conflicted, sort=query.sort, descending=query.desc, page=query.page,
        per_page=query.size())
    if query.supported_by_me and member:
        flt.supported_by = current_user.id
    # A moderator's queue and counts leave out her own amendments, as on her page.
    moderator = current_user if is_moderator(current_user) else None
    params = (flt.status, flt.section_id, flt.author_id, flt.needs_decision, flt.conflicted, flt.supported_by,
              flt.sort, flt.descending, flt.page, flt.per_page, moderator.id if moderator else None)

    def body() -> AmendmentList:
        """The page of rows: a fixed number of queries whatever its size."""
        page = services.list_amendments(document, flt, moderator)
        items = page.pagination.items
        ids = [a.id for a in items]
        supported = services.supported_among(current_user, ids)
        counted = discussion.counts_by_amendment(ids)
        numbers = _section_numbers(document)
        rows = [AmendmentSummary(**_summary_fields(
            document, a, numbers=numbers, collisions=page.collisions.get(a.id, []), supported=a.id in supported,
            comments=counted.get(a.id, 0), heading=a.section_heading, hidden_from_me=a.is_hidden))
            for a in items]
        listed = list_of(_PlainList, page.pagination, rows)
        return AmendmentList(items=rows, page=listed.page, per_page=listed.per_page, total=listed.total,
                             pages=listed.pages, links=listed.links,
                             counts=StatusCounts(**services.status_counts(document, document.min_supporters,
                                                                          moderator)))

    return Reply(body=body, etag=document_validator(document, params=params, personal=member))


class _PlainList(ListOf[AmendmentSummary]):
    """The list's page without its counts (``list_of`` fills the page's fields)."""


@operation(bp, "POST", "/documents/<slug>/amendments", summary="Propose an amendment", tag=TAG,
           response=AmendmentDetail, status=201, body=ProposalIn, scope="propose", errors=(409,))
def propose_amendment(slug: str, body: ProposalIn):
    """Propose an amendment (or save a draft), as the proposal form does; counts against the proposal limit."""
    document = documents.get_document_or_404(slug)
    with creating("RATELIMIT_PROPOSALS"):
        amendment = services.propose_amendment(
            current_user, document.id, kind=body.kind, section_id=body.section_id, heading=body.heading,
            body=body.body, reason=body.reason, base_version_id=body.base_version_id, submit=body.submit)
    return _answer(document, amendment.id, status=201, headers={
        "Location": url_for("api.get_amendment", slug=slug, amendment_id=amendment.id)})


@operation(bp, "GET", "/documents/<slug>/amendments/<int:amendment_id>", summary="Read an amendment", tag=TAG,
           response=AmendmentDetail, scope="read", conditional=True)
def get_amendment(slug: str, amendment_id: int):
    """One amendment: its text and diff, reason, supporters, collisions, history and decision."""
    document = documents.get_document_or_404(slug)
    amendment = _load(document, amendment_id)
    return Reply(body=lambda: amendment_detail(document, amendment), etag=amendment_etag(document, amendment))


@operation(bp, "PATCH", "/documents/<slug>/amendments/<int:amendment_id>", summary="Edit an amendment", tag=TAG,
           response=AmendmentDetail, body=EditIn, scope="propose", errors=(409,), conditional=True)
def edit_amendment(slug: str, amendment_id: int, body: EditIn):
    """Change an undecided amendment (its author), or resolve its conflict (author or moderator).

    ``revision`` is required: a change made meanwhile is refused with 409 and
    the current revision; a stale ``If-Match`` with 412. Nothing is written then.
    """
    document = documents.get_document_or_404(slug)
    check_if_match(amendment_etag(document, _load(document, amendment_id)))
    services.edit_amendment(current_user, document.id, amendment_id, heading=body.heading, body=body.body,
                            reason=body.reason, revision=body.revision, submit=body.submit)
    return _answer(document, amendment_id)


@operation(bp, "POST", "/documents/<slug>/amendments/<int:amendment_id>/withdraw", summary="Withdraw an amendment",
           tag=TAG, response=AmendmentDetail, body=WithdrawIn, scope="propose", errors=(409,), conditional=True)
def withdraw_amendment(slug: str, amendment_id: int, body: WithdrawIn):
    """The author takes an undecided amendment back (409 when it changed since ``revision``)."""
    document = documents.get_document_or_404(slug)
    check_if_match(amendment_etag(document, _load(document, amendment_id)))
    services.withdraw_amendment(current_user, document.id, amendment_id, revision=body.revision,
                                reason=body.reason)
    return _answer(document, amendment_id)


def _support_answer(document: Document, amendment_id: int) -> SupportOut:
    """The amendment's supporters after the call, and whether the caller is one."""
    amendment = services.get_amendment_or_404(document, amendment_id, current_user, related=False)
    return SupportOut(amendment_id=amendment.id, supporters=amendment.support_count,
                      supported_by_me=bool(services.supported_among(current_user, [amendment.id])))


@operation(bp, "POST", "/documents/<slug>/amendments/<int:amendment_id>/supports", summary="Support an amendment",
           tag=TAG, response=SupportOut, scope="propose", errors=(422,))
def support_amendment(slug: str, amendment_id: int):
    """Co-sign someone else's open amendment (422 when you support it already)."""
    document = documents.get_document_or_404(slug)
    _load(document, amendment_id)
    services.support_amendment(current_user, document.id, amendment_id)
    return _support_answer(document, amendment_id)


@operation(bp, "DELETE", "/documents/<slug>/amendments/<int:amendment_id>/supports",
           summary="Withdraw your support", tag=TAG, response=SupportOut, scope="propose",
           errors=(422,))
def withdraw_support(slug: str, amendment_id: int):
    """Take your support back from an open amendment (422 when you did not support it)."""
    document = documents.get_document_or_404(slug)
    _load(document, amendment_id)
    services.withdraw_support(current_user, document.id, amendment_id)
    return _support_answer(document, amendment_id)


@operation(bp, "POST", "/documents/<slug>/amendments/<int:amendment_id>/decision", summary="Decide on an amendment",
           tag=TAG, response=AmendmentDetail, body=DecisionIn, scope="moderate", errors=(409,), conditional=True)
def decide_amendment(slug: str, amendment_id: int, body: DecisionIn):
    """A moderator accepts (as proposed or modified), rejects, or closes an amendment, with a public reason.

    Only moderators decide, never on their own amendments: a token's
    ``moderate`` scope does not make its owner a moderator (403).
    """
    document = documents.get_document_or_404(slug)
    check_if_match(amendment_etag(document, _load(document, amendment_id)))
    services.decide_amendment(current_user, document.id, amendment_id, decision=body.decision, reason=body.reason,
                              revision=body.revision, final_heading=body.final_heading, final_body=body.final_body,
                              merged_into=body.merged_into)
    return _answer(document, amendment_id)


@operation(bp, "POST", "/documents/<slug>/amendments/<int:amendment_id>/reports", summary="Report an amendment",
           tag=TAG, response=ReportOut, status=201, body=ReportIn, scope="comment")
def report_amendment(slug: str, amendment_id: int, body: ReportIn):
    """Tell the moderators what is wrong with an amendment (once per person; never your own)."""
    document = documents.get_document_or_404(slug)
    amendment = _load(document, amendment_id)
    with creating("RATELIMIT_REPORTS"):
        moderation.report_item(current_user, document.id, "amendment", amendment.id, reason=body.reason)
    return ReportOut(target="amendment", target_id=amendment_id, status="open")

