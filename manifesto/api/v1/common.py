"""What the v1 modules share: list pages with their links, validators from the content states, the caller.

Every list answers ``{"items": [...], "page": 2, "per_page": 25, "total": 130,
"pages": 6, "links": {"self": ..., "first": ..., "last": ..., "next": ...,
"prev": ...}}``; its query takes ``page`` and ``per_page`` (at most
``API_MAX_PAGE_SIZE``), and a page past the end answers the last page, as
every list of the pages does (``pagination.py``).

Validators: an answer's ``ETag`` is made of the content states it shows
(``audit/states.py``, the same counters as the pages' validators), the
caller's variant (what their role lets them see: ``documents.serving.variant``)
and, where the answer shows something of the caller (their own support),
their id; nothing else a body depends on may be left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from flask import current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import Field

from ...accounts import limits
from ...audit import states
from ...documents.models import Document
from ...documents.serving import variant
from ...pagination import Page
from ...services import as_utc
from ...text.diff import DIFF_DELETE, DIFF_INSERT
from .. import problems
from ..spec import Model, PageNumber, Query

T = TypeVar("T")


class PageQuery(Query):
    """A list's page: ``page`` from 1, ``per_page`` from 1 to the site's maximum (100 by default)."""

    page: PageNumber = 1
    per_page: Annotated[int, Field(ge=1, le=100, description="Items per page, at most 100.")] = 25

    def size(self) -> int:
        """The page size asked for, within the site's maximum."""
        return min(self.per_page, int(current_app.config["API_MAX_PAGE_SIZE"]))


class Links(Model):
    """Addresses of this list's pages (absent: no such page)."""

    self: str
    first: str
    last: str
    next: str | None = None
    prev: str | None = None


class ListOf(Model, Generic[T]):
    """One page of a list."""

    items: list[T]
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)
    total: int = Field(ge=0)
    pages: int = Field(ge=1)
    links: Links


def page_links(page: Page, **args) -> Links:
    """The links of a list's pages: the request's own address and query, with ``page`` changed."""
    query = {key: value for key, value in request.args.items() if key != "page"}
    query.update(args)

    def at(number: int) -> str:
        return url_for(request.endpoint, **(request.view_args or {}), **query, page=number)

    return Links(self=at(page.page), first=at(1), last=at(page.pages),
                 next=at(page.page + 1) if page.page < page.pages else None,
                 prev=at(page.page - 1) if page.page > 1 else None)


def list_of(model: type[ListOf], page: Page, items: Sequence) -> ListOf:
    """A list answer of ``page``, its items already turned into their models."""
    return model(items=list(items), page=page.page, per_page=page.per_page, total=page.total, pages=page.pages,
                 links=page_links(page))


def validator(*scopes: str, params: tuple = (), personal: bool = False, endpoint: str | None = None) -> tuple:
    """What an answer showing ``scopes`` depends on: their states, the caller's variant, ``params``.

    ``personal``: the answer shows something of the caller themself (their support), so their id too.
    ``endpoint``: the GET whose answer this validates (by default the request's own): a write's
    ``If-Match`` is compared with what that GET sent.
    """
    state = states.read(states.SITE, *scopes)
    who = (variant(current_user),) + ((current_user.id,) if personal and current_user.is_authenticated else ())
    return (endpoint or request.endpoint, state.token, who, params)


def document_validator(document: Document, *parts: str, params: tuple = (), personal: bool = False,
                       endpoint: str | None = None) -> tuple:
    """:func:`validator` for an answer about one document: its frame and the finer ``parts`` it shows.

    Without ``parts``, the whole document's scope (any write on it).
    """
    scopes = (states.frame_scope(document.id), *parts) if parts else (states.document_scope(document.id),)
    return validator(*scopes, params=(document.id, document.amendments_open(), *params), personal=personal,
                     endpoint=endpoint)


# ------------------------------------------------------------------ diffs

class DiffOperation(StrEnum):
    """What a run of a diff does."""

    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


class DiffRun(Model):
    """A run of text: kept, inserted (only in the newer text) or deleted (only in the older)."""

    op: DiffOperation
    text: str


_OPS = {DIFF_INSERT: DiffOperation.INSERT, DIFF_DELETE: DiffOperation.DELETE}


def runs(ops) -> list[DiffRun]:
    """Diff operations (``(-1|0|1, text)``, as the text engine gives them) as runs."""
    return [DiffRun(op=_OPS.get(op, DiffOperation.EQUAL), text=text) for op, text in ops]


# ------------------------------------------------------------------ what a person creates

@contextmanager
def creating(setting: str) -> Iterator[None]:
    """Count what the block creates against the caller's per-person limit (``RATELIMIT_PROPOSALS``...).

    Tested before the block (nothing is created past the limit), counted only when the block succeeded,
    in the bucket the pages count in.

    :raises problems.Problem: 429 with ``Retry-After`` past the limit.
    """
    user_id = current_user.id
    allowance = limits.creation_allowance(setting, user_id, count=False)
    if allowance is not None and not allowance.allowed:
        why = next((rule.why for rule in limits.RULES if rule.setting == setting), "")
        raise problems.Problem(
            429, "rate-limited",
            detail=f"{why} " + _("Too many requests: wait %(seconds)d seconds before the next one.",
                                 seconds=allowance.reset),
            headers={"Retry-After": str(allowance.reset)})
    yield
    limits.creation_allowance(setting, user_id, count=True)


def iso(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite drops the zone), for the answer's models."""
    return as_utc(value)
