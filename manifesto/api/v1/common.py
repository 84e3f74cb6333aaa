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

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from flask import current_app, request, url_for
from flask_login import current_user
from pydantic import Field

from ...audit import states
from ...documents.models import Document
from ...documents.serving import variant
from ...pagination import Page
from ...services import as_utc
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


def validator(*scopes: str, params: tuple = (), personal: bool = False) -> tuple:
    """What an answer showing ``scopes`` depends on: their states, the caller's variant, ``params``.

    ``personal``: the answer shows something of the caller themself (their support), so their id too.
    """
    state = states.read(states.SITE, *scopes)
    who = (variant(current_user),) + ((current_user.id,) if personal and current_user.is_authenticated else ())
    return (request.endpoint, state.token, who, params)


def document_validator(document: Document, *parts: str, params: tuple = (), personal: bool = False) -> tuple:
    """:func:`validator` for an answer about one document: its frame and the finer ``parts`` it shows.

    Without ``parts``, the whole document's scope (any write on it).
    """
    scopes = (states.frame_scope(document.id), *parts) if parts else (states.document_scope(document.id),)
    return validator(*scopes, params=(document.id, document.amendments_open(), *params), personal=personal)


def iso(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite drops the zone), for the answer's models."""
    return as_utc(value)
