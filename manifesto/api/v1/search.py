"""Search a document, and read its activity feed: the search and activity pages as data.

The same services as the pages (``search/views.py``): ``search.services.search``
finds only what its index holds (never drafts, hidden amendments, hidden or
deleted comments), and ``search.activity.feed`` tells only what the activity
page tells (no reports, nothing about drafts, no hidden amendment's words).
Neither depends on who asks, so every reader gets the same answer.

Unlike the page, reading the feed here does not move the reader's "last
visit": a GET changes nothing. A client passes the last event id it has
seen as ``since`` and gets the later ones marked new.

The labels and sentences are the pages' own, in the reader's language
(``Accept-Language``); the codes beside them (kind, action, object type)
are what a program should read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask import url_for
from flask_babel import get_locale
from markupsafe import Markup
from pydantic import Field

from ...documents import services as documents
from ...search import activity
from ...search import services as search_services
from ..spec import Count, Id, Model, Reply, operation
from .blueprint import bp
from .common import ListOf, PageQuery, document_validator, iso, page_links
from .documents import asked

TAG = "Search and activity"


def _language() -> str:
    """The reader's language, which the labels and sentences are in (part of the validator)."""
    return str(get_locale())


def _plain(html: Markup | str) -> str:
    """The text of a snippet of our own markup, without its tags (entities read back as characters)."""
    return Markup(html).striptags()


# ------------------------------------------------------------------ search

class SearchKind(StrEnum):
    """The kinds of text a search looks in."""

    SECTION = "section"
    AMENDMENT = "amendment"
    COMMENT = "comment"


class SearchQuery(PageQuery):
    """What to look for: the words (every one must appear) and, optionally, one kind of text."""

    q: str = Field(min_length=1, max_length=search_services.MAX_QUERY_CHARS,
                   description="The words to find; quotes, operators and other symbols are ignored, and only the "
                               f"first {search_services.MAX_WORDS} words are used.")
    kind: SearchKind | None = Field(None, description="Look only in this kind of text.")
    per_page: int = Field(search_services.PER_PAGE, ge=1, le=100, description="Results per page, at most 100.")


class SearchResultOut(Model):
    """One match, best first: where it is, its text with the matched words marked, and its page."""

    kind: SearchKind
    id: Id = Field(description="The section's, amendment's or comment's id.")
    title: str = Field(description="Its title (a heading, an amendment's code and heading) as plain text; "
                                   "empty for a comment.")
    title_html: str = Field(description="The title with the matched words in <mark>, everything else escaped.")
    snippet: str = Field(description="The matching part of its text, as plain text.")
    snippet_html: str = Field(description="The snippet with the matched words in <mark>, everything else escaped.")
    label: str = Field(description="What the results page says it is (\"§3\", an amendment's title, "
                                   "\"Comment by … on …\"), in the reader's language.")
    url: str = Field(description="Its place on the site.")


class SearchCounts(Model):
    """How many matches each kind of text has, whatever kind the page shows."""

    section: Count = 0
    amendment: Count = 0
    comment: Count = 0


class SearchResults(ListOf[SearchResultOut]):
    """One page of a document's search results, best first."""

    words: list[str] = Field(description="The words searched for, as read from the query.")
    truncated: bool = Field(description="Whether words past the limit were left out of the search.")
    counts: SearchCounts


def result_out(result: search_services.Result) -> SearchResultOut:
    """A search result as the API shows it."""
    return SearchResultOut(kind=SearchKind(result.kind), id=result.object_id, title=_plain(result.title),
                           title_html=str(result.title), snippet=_plain(result.snippet),
                           snippet_html=str(result.snippet), label=str(result.label),
                           url=url_for(result.endpoint, _anchor=result.anchor, **result.args))


@operation(bp, "GET", "/documents/<slug>/search", summary="Search a document", tag=TAG, response=SearchResults,
           query=SearchQuery, scope="read", conditional=True)
def search_document(slug: str, query: SearchQuery):
    """Search the document's sections, amendments and comments; the best matches first, the words marked."""
    document = documents.get_document_or_404(slug)

    def body() -> SearchResults:
        page = search_services.search(document, query.q, kind=query.kind.value if query.kind else None,
                                      page=query.page, per_page=query.size())
        return SearchResults(items=[result_out(result) for result in page.results], page=page.page,
                             per_page=page.per_page, total=page.total, pages=page.pages, links=page_links(page),
                             words=list(page.query.words), truncated=page.query.truncated,
                             counts=SearchCounts(**{kind: count for kind, count in page.counts.items()
                                                    if kind in SearchKind.__members__.values()}))

    # The index follows every write on the document (comments too): its whole scope.
    return Reply(body=body, etag=document_validator(document, params=(_language(), *asked())))


# ------------------------------------------------------------------ activity

ActivityAction = StrEnum("ActivityAction", [(action.upper().replace(".", "_"), action) for action in activity.PHRASES])
ActivityAction.__doc__ = "What happened: the audit trail's action code."

ActivityFilter = StrEnum("ActivityFilter", [(name.upper(), name) for name in activity.FILTERS])
ActivityFilter.__doc__ = "The kinds of events the feed can be narrowed to, as on the activity page."


class ObjectType(StrEnum):
    """The kind of thing an event changed."""

    AMENDMENT = "amendment"
    SECTION = "section"
    COMMENT = "comment"
    RELEASE = "release"
    DOCUMENT = "document"
    OTHER = "other"


_OBJECT_TYPES = {"amendments": ObjectType.AMENDMENT, "sections": ObjectType.SECTION, "comments": ObjectType.COMMENT,
                 "releases": ObjectType.RELEASE, "documents": ObjectType.DOCUMENT}


class ActivityQuery(PageQuery):
    """A page of the feed, what to narrow it to, and the last event already seen."""

    since: Count | None = Field(None, description="The id of the last event you have seen: later ones are "
                                                  "marked new and counted.")
    what: ActivityFilter | None = Field(None, description="Only this kind of event.")
    per_page: int = Field(activity.PER_PAGE, ge=1, le=100, description="Events per page, at most 100.")


class ActivityObject(Model):
    """What an event changed, and where it is on the site."""

    type: ObjectType
    id: Id | None = Field(description="Its id (a release's is internal: its slug is its address).")
    slug: str | None = Field(None, description="A release's slug.")
    label: str = Field(description="How the activity page names it (\"§3 Heading\", \"A-014 (…)\"), in the reader's "
                                   "language.")
    url: str | None = Field(description="Its page on the site (null when it no longer has one).")


class ActivityItemOut(Model):
    """One event of the feed, newest first, told as the activity page tells it."""

    id: Id = Field(description="The event's id: pass the newest you have seen as since.")
    action: ActivityAction
    at: datetime = Field(description="When it happened.")
    actor: str | None = Field(description="Who did it, by public display name; null when the system did.")
    object: ActivityObject
    new: bool = Field(description="Later than since.")
    text: str = Field(description="The page's sentence as plain text, in the reader's language.")
    text_html: str = Field(description="The same sentence with its links, as the page shows it.")
    reason: str | None = Field(description="The reason given, when the page shows it (cut at "
                                           f"{activity.REASON_CHARS} characters).")
    note: str | None = Field(description="The page's note, such as that an amendment is hidden, in the reader's "
                                         "language.")


class ActivityFeed(ListOf[ActivityItemOut]):
    """One page of a document's activity, newest first."""

    since: Count | None = Field(description="The since asked for.")
    new_count: Count = Field(description="How many events (of the kind asked for) are later than since.")


def item_out(item: activity.Item) -> ActivityItemOut:
    """An event of the feed as the API shows it."""
    event = item.event
    data = event.data or {}
    kind = _OBJECT_TYPES.get(event.object_type, ObjectType.OTHER)
    return ActivityItemOut(
        id=event.id, action=ActivityAction(event.action), at=iso(event.at),
        actor=event.actor.name if event.actor is not None else None,
        object=ActivityObject(type=kind, id=event.object_id or None,
                              slug=data.get("slug") if kind is ObjectType.RELEASE else None, label=str(item.label),
                              url=url_for(item.endpoint, _anchor=item.anchor, **item.args) if item.endpoint else None),
        new=item.new, text=_plain(item.text), text_html=str(item.text), reason=item.reason,
        note=str(item.note) if item.note is not None else None)


@operation(bp, "GET", "/documents/<slug>/activity", summary="Read a document's activity", tag=TAG,
           response=ActivityFeed, query=ActivityQuery, scope="read", conditional=True)
def get_activity(slug: str, query: ActivityQuery):
    """What happened to the document, newest first, as the activity page tells it (reading it marks no visit)."""
    document = documents.get_document_or_404(slug)

    def body() -> ActivityFeed:
        feed = activity.feed(document, since=query.since, what=query.what.value if query.what else None,
                             page=query.page, per_page=query.size())
        page = feed.pagination
        return ActivityFeed(items=[item_out(item) for item in feed.items], page=page.page, per_page=page.per_page,
                            total=page.total, pages=page.pages, links=page_links(page), since=feed.since,
                            new_count=feed.new_count)

    # Every write on the document may add an event: its whole scope.
    return Reply(body=body, etag=document_validator(document, params=(_language(), *asked())))
