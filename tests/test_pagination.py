"""The one pagination helper: pages past either end, empty lists, one COUNT per page, and the one pager macro."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from manifesto.accounts.models import User
from manifesto.extensions import db
from manifesto.pagination import Page, clamp_page, last_page, paginate
from manifesto.releases import services as releases
from manifesto.releases.models import Release


def _users():
    """Every account, in a stable order."""
    return select(User).order_by(User.id)


@pytest.fixture
def seven(make_user):
    """Seven accounts, oldest first."""
    return [make_user() for _ in range(7)]


# ------------------------------------------------------------------ the arithmetic

@pytest.mark.parametrize("total,per_page,pages", [(0, 10, 1), (1, 10, 1), (10, 10, 1), (11, 10, 2), (30, 3, 10)])
def test_last_page_counts_an_empty_list_as_one_page(total, per_page, pages):
    assert last_page(total, per_page) == pages


@pytest.mark.parametrize("asked,shown", [(None, 1), (0, 1), (-4, 1), (1, 1), (3, 3), (4, 3), (10**6, 3)])
def test_a_page_number_is_clamped_to_the_list(asked, shown):
    assert clamp_page(asked, 7, 3) == shown


def test_a_page_knows_its_neighbours():
    middle = Page(["d", "e", "f"], 2, 3, 7)
    assert (middle.pages, middle.has_prev, middle.has_next, middle.prev_num, middle.next_num) == (3, True, True, 1, 3)
    assert (middle.offset, middle.first) == (3, 4)
    first, last = Page(["a"], 1, 3, 7), Page(["g"], 3, 3, 7)
    assert not first.has_prev and first.prev_num is None and first.next_num == 2
    assert not last.has_next and last.next_num is None and last.prev_num == 2


def test_an_empty_page_is_page_one_of_one():
    empty = Page([], 1, 20, 0)
    assert (empty.pages, empty.has_prev, empty.has_next, empty.prev_num, empty.next_num) == (1, False, False, None, None)


# ------------------------------------------------------------------ paginate

def test_pages_hold_the_list_in_order(seven):
    ids = [user.id for user in db.session.scalars(_users())]
    pages = [paginate(_users(), n, 3) for n in (1, 2, 3)]
    assert [[user.id for user in page.items] for page in pages] == [ids[0:3], ids[3:6], ids[6:]]
    assert all(page.total == len(ids) and page.pages == 3 for page in pages)


def test_a_page_past_the_end_shows_the_last(seven):
    past = paginate(_users(), 99, 3)
    assert past.page == 3 and past.has_prev and not past.has_next
    assert [u.id for u in past.items] == [u.id for u in paginate(_users(), 3, 3).items]


@pytest.mark.parametrize("asked", [0, -1, None])
def test_a_page_before_the_start_shows_the_first(seven, asked):
    assert paginate(_users(), asked, 3).page == 1


def test_an_empty_list_is_one_empty_page(app, queries):
    with queries() as counted:
        page = paginate(_users().where(User.id < 0), 5, 10)
    assert (page.items, page.page, page.pages, page.total) == ([], 1, 1, 0)
    assert counted.count == 2  # the same two statements as a full list


def test_one_count_and_one_limited_query_per_page(seven, queries):
    for number in (1, 2, 3, 50):
        with queries() as counted:
            paginate(_users(), number, 3)
        assert counted.count == 2, counted.statements
        assert len([s for s in counted.statements if re.search(r"\bcount\(", s, re.I)]) == 1, counted.statements
        assert len([s for s in counted.statements if re.search(r"\bLIMIT\b", s, re.I)]) == 1, counted.statements


def test_the_count_leaves_eager_loads_and_order_out(make_document, users, queries):
    document = make_document(editor=users["admin"])
    for name in ("First", "Second"):
        releases.publish_release(users["admin"], document.id, name=name, description="")
    stmt = (select(Release).options(joinedload(Release.created_by)).where(Release.document_id == document.id)
            .order_by(Release.id.desc()))
    with queries() as counted:
        page = paginate(stmt, 1, 1)
    count = next(s for s in counted.statements if re.search(r"\bcount\(", s, re.I))
    assert "ORDER BY" not in count.upper() and "JOIN" not in count.upper()
    assert page.total == 2 and page.items[0].created_by.id == users["admin"].id


def test_rows_and_grouped_selects_are_counted_by_group(seven):
    by_role = select(User.role, func.count()).group_by(User.role).order_by(User.role)
    page = paginate(by_role, 1, 10, rows=True)
    assert page.total == len(page.items) == 1 and page.items[0][1] == 7


def test_a_custom_loader_is_called_once_with_the_clamped_bounds(seven):
    calls = []

    def load(offset, limit):
        calls.append((offset, limit))
        return ["whatever"]

    page = paginate(_users(), 10, 3, load=load)
    assert calls == [(6, 3)] and page.items == ["whatever"] and page.page == 3


def test_a_page_size_below_one_is_a_programming_error(app):
    with pytest.raises(ValueError):
        paginate(_users(), 1, 0)


# ------------------------------------------------------------------ the pager macro

def _pager(page: Page, **kwargs) -> str:
    """The pager macro's markup for a page, with url_for's arguments and the macro's options."""
    return render_template_string('{% from "macros.html" import pager %}{{ pager(page, endpoint, **kwargs) }}',
                                  page=page, endpoint="notifications.index", kwargs=kwargs)


def test_the_pager_draws_nothing_for_one_page(app):
    with app.test_request_context():
        assert _pager(Page(["a"], 1, 10, 1)).strip() == ""


def test_the_pager_links_its_neighbours_with_the_default_words(app):
    with app.test_request_context():
        html = _pager(Page(["d"], 2, 3, 7))
    assert 'aria-label="Pages"' in html
    assert 'rel="prev" href="/notifications/?page=1"' in html and 'rel="next" href="/notifications/?page=3"' in html
    assert "← Previous" in html and "Next →" in html and "Page 2 of 3 (7 in all)" in html


def test_the_pager_takes_its_argument_anchor_and_words_from_the_list(app):
    with app.test_request_context():
        html = _pager(Page(["a"], 1, 3, 7), page_arg="comments", anchor="#comments", label="Pages of comments",
                      prev_label="Earlier", next_label="Later", status="Page one", extra="x")
    assert 'rel="prev"' not in html and 'aria-label="Pages of comments"' in html
    assert 'href="/notifications/?comments=2&amp;extra=x#comments">Later</a>' in html
    assert "<span>Page one</span>" in html
