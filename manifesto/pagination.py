"""Pages of a list: one :class:`Page` every list returns, one :func:`paginate` that reads it.

Every paged list in the house (amendments, comments, threads, the moderation
queue, search results, notifications, activity, releases, accounts, the
log) answers with a :class:`Page`, and every template draws its links with
the one ``pager`` macro of ``macros.html``.

The rule, the same for every list: a page number below 1 reads as 1, and a
number past the end (an old link, a hand-typed address) shows the last page,
never an empty "page 7 of 3". :func:`paginate` costs exactly two statements
whatever the size of the list: one COUNT, then one LIMIT/OFFSET read of the
page (run even when the list is empty, so that a page takes the same number
of queries with no rows as with many).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

from .extensions import db

T = TypeVar("T")


def last_page(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill, ``per_page`` at a time (an empty list still has page 1)."""
    return max(1, math.ceil(total / per_page))


def clamp_page(page: int | None, total: int, per_page: int) -> int:
    """The page actually shown for a requested number: 1 below the start, the last page past the end."""
    return min(max(1, int(page or 1)), last_page(total, per_page))


@dataclass
class Page(Generic[T]):
    """One page of a list: its items, its number (from 1), the page size and the whole list's length."""

    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the list fills (at least 1)."""
        return last_page(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """Whether there is a page after this one."""
        return self.page < self.pages

    @property
    def prev_num(self) -> int | None:
        """The previous page's number (None on the first)."""
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        """The next page's number (None on the last)."""
        return self.page + 1 if self.has_next else None

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.page - 1) * self.per_page

    @property
    def first(self) -> int:
        """The position of the page's first item in the whole list, from 1 (for numbered lists)."""
        return self.offset + 1


def count_of(stmt: Select) -> int:
    """How many rows ``stmt`` returns, in one COUNT over it (eager loads and ordering left out)."""
    inner = stmt.options(lazyload("*")).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


def paginate(stmt: Select, page: int | None, per_page: int, *, rows: bool = False,
             load: Callable[[int, int], Sequence[Any]] | None = None) -> Page:
    """Read one page of ``stmt``: one COUNT, then one LIMIT/OFFSET query; a page past the end shows the last.

    By default the page's items are the ORM objects (or first column) of
    ``stmt``; ``rows=True`` keeps whole rows. ``load(offset, limit)`` reads
    the page some other way (one query, for a page built around ``stmt``'s
    rows), called once with the clamped page's bounds.

    :raises ValueError: when ``per_page`` is below 1 (a programming error, never a reader's).
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    total = count_of(stmt)
    number = clamp_page(page, total, per_page)
    offset = (number - 1) * per_page
    if load is not None:
        items = list(load(offset, per_page))
    elif rows:
        items = list(db.session.execute(stmt.limit(per_page).offset(offset)).all())
    else:
        items = list(db.session.scalars(stmt.limit(per_page).offset(offset)))
    return Page(items, number, per_page, total)
