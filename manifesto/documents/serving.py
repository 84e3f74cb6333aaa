"""A document's heavy pages, served from what was already rendered and answered with 304 when unchanged.

A view hands :func:`serve` two functions: ``body`` renders the expensive part
(the text, the lists, the diffs: everything that is the same for every
reader of one *variant*), and ``shell`` wraps it in the page with what is
personal (header, unread count, CSRF tokens, one's own forms). ``body`` runs
only when no cache tier holds the part for this state; ``shell`` runs on
every full answer; neither runs for a 304.

What the cached part may depend on, and so what its key holds:

- the content states of the site and of the document (``audit/states.py``);
- the language and the time zone of the page;
- the reader's variant: ``visitor``, ``inactive`` (logged in, suspended),
  ``member``, ``moderator`` or ``admin``; a part must show nothing that
  differs between two readers of one variant;
- the page's own options (``params``), and whether amendments are open now
  (a deadline passes without any write).

The validator (weak ``ETag``) holds the same, and for a logged-in reader
also what the shell shows of them: their id, their own content state, their
CSRF token and every area's personal figures (:func:`register_personal`,
such as the unread count). A page that carries a flashed message gets no
validator, so it is never answered with 304 later.

**A visitor's whole page.** For a visitor without a session the shell holds
nothing of theirs either, so the whole page (shell included) is cached under
its validator and address, and a hit costs the counters' query and a lookup:
no template runs. Should the shell print something of the visitor's after
all (a form's CSRF token puts it in their new session), that page is theirs
alone and is not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

from .. import pagecache
from ..accounts.rules import is_admin, is_member, is_moderator
from ..audit import states
from ..i18n import current_zone
from ..services import as_utc
from . import replay
from .models import Document

# Each area's part of what a logged-in reader's shell shows of them, by name: provider(user) -> hashable.
_personal: dict[str, Callable[[Any], Any]] = {}


def register_personal(name: str, provider: Callable[[Any], Any]) -> None:
    """Register ``provider(user)``: a value that changes whenever the area's personal part of a page does."""
    _personal[name] = provider


def variant(user) -> str:
    """What the reader's role lets them see: the one thing about them a cached part may depend on."""
    if user is None or not user.is_authenticated:
        return "visitor"
    if is_admin(user):
        return "admin"
    if is_moderator(user):
        return "moderator"
    return "member" if is_member(user) else "inactive"


def serve(document: Document, page: str, *, body: Callable[[], str], shell: Callable[[Markup], Any],
          params: tuple = (), parts: Sequence[str] | None = None) -> Any:
    """Answer a page of ``document``: 304 when the reader has it, else the shell around the cached body.

    ``parts``: the finer scopes the page shows (``audit/states.py``), read with the document's frame;
    by default the page follows every write on the document.
    """
    user = current_user
    logged_in = bool(user.is_authenticated)
    whole = states.document_scope(document.id)
    content = [states.SITE, *([states.frame_scope(document.id), *parts] if parts is not None else [whole])]
    scopes = list(content)
    if logged_in:
        # What the shell shows of the reader (their drafts, marks, own threads) may follow any of their
        # writes on the document: their validator follows the whole document, the cached part only its parts.
        scopes += [whole, states.user_scope(user.id)] if whole not in scopes else [states.user_scope(user.id)]
    state = states.read(*scopes)
    marks = state.marks
    shared_part = (page, document.id, *marks[:len(content)], str(get_locale()), current_zone(),
                   variant(user), document.amendments_open(), params)
    personal = ()
    if logged_in:
        personal = (user.id, *marks[len(content):], session.get("csrf_token"),
                    tuple(provider(user) for provider in _personal.values()))
    flashed = bool(session.get("_flashes"))
    shared = not logged_in and not session  # a visitor without a session: the whole page is everyone's
    tag = pagecache.etag(*shared_part, personal)
    if not flashed:
        fresh = pagecache.answer_if_fresh(tag, state.changed_at, shared=shared)
        if fresh is not None:
            g.page_cache = "not-modified"
            return fresh
    body_key = ":".join(map(str, shared_part))
    if shared and not flashed:
        page = _whole_page(f"whole:{tag}:{request.full_path}", body_key, body, shell)
    else:
        page = shell(Markup(pagecache.cached(body_key, body)))
    response = make_response(page)
    shared = shared and not session  # a page that printed a token gave its visitor a session: theirs alone
    if flashed:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        pagecache.set_validators(response, tag, state.changed_at, shared=shared)
        if shared:
            g.compress_key = f"{tag}:{request.full_path}"  # the whole body, for the compressed copy
            request.environ[replay.NOTE] = replay.Mark(
                scopes=tuple(content), marks=marks[:len(content)], etag=tag, route=request.url_rule.rule,
                valid_until=_open_until(document))
    return response


def _open_until(document: Document) -> float | None:
    """When the document's pages change without a write: the moment its amendment deadline passes."""
    if document.amendments_open() and document.deadline is not None:
        return as_utc(document.deadline).timestamp()
    return None


def cached_part(document: Document, name: str, parts: Sequence[str], render: Callable[[], str],
                params: tuple = ()) -> str:
    """A part of a page's body that follows fewer scopes than the page: kept under those (and the frame) alone.

    For a body that joins a big part that rarely changes with a small one that changes often; called
    while rendering the body, for the reader's variant, language and time zone as :func:`serve` keys it.
    """
    state = states.read(states.SITE, states.frame_scope(document.id), *parts)
    key = ("part", name, document.id, *state.marks, str(get_locale()), current_zone(), variant(current_user),
           document.amendments_open(), params)
    return pagecache.cached(":".join(map(str, key)), render, count=False)


class _NotShared(Exception):
    """A visitor's page that turned out to be theirs alone (it gave them a session): served, never kept."""

    def __init__(self, page: Any) -> None:
        super().__init__("page not shared")
        self.page = page


def _whole_page(key: str, body_key: str, body: Callable[[], str], shell: Callable[[Markup], Any]) -> Any:
    """A session-less visitor's page, shell and all, rendered once per validator and address."""
    def render() -> str:
        page = shell(Markup(pagecache.cached(body_key, body)))
        if session or not isinstance(page, str):
            raise _NotShared(page)  # a printed token (now in their session), or not plain HTML
        return page

    try:
        return pagecache.cached(key, render, count=False)
    except _NotShared as refused:
        return refused.page
