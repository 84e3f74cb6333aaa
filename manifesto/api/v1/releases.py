"""A document's releases: the list, one release's frozen text, and publishing one (moderators).

The same services as the release pages (``releases/views.py``): every
reader sees every release, as on the pages; ``publish_release`` decides who
may publish (moderators; a final release, admins), the token adds only its
``moderate`` scope.
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from pydantic import Field

from ...audit import states
from ...documents import services as documents
from ...documents.models import Document
from ...releases import services as releases
from ...releases.models import Release
from .. import auth
from ..spec import Count, Id, Input, Model, Reply, operation
from .blueprint import bp
from .common import ListOf, PageQuery, document_validator, iso, list_of
from .documents import LineNumber, VersionNumber, asked

TAG = "Releases"


class ReleaseSummary(Model):
    """A release: a named, dated, immutable state of the whole text."""

    slug: str = Field(description="The release's address within its document.")
    name: str
    final: bool = Field(description="Whether this release is the document's final text.")
    published_at: datetime
    published_by: str | None = Field(description="Who published it, by public display name (null when unknown).")
    section_count: Count
    line_count: Count
    description: str = Field(description="The description as written (Markdown).")
    description_html: str = Field(description="The description rendered and sanitised.")
    url: str = Field(description="The release's page on the site.")


class ReleaseSectionOut(Model):
    """A section as the release froze it: its number, exact version and lines then."""

    section_id: Id
    number: Id = Field(description="The section's number in the release (§1, §2...).")
    heading: str
    version: VersionNumber = Field(description="The number of the section's version the release holds.")
    first_line: Id = Field(description="The document-wide number of its first line in the release.")
    last_line: LineNumber = Field(description="Its last line (first_line - 1 when empty).")
    body: str = Field(description="The text as written (Markdown).")
    body_html: str = Field(description="The text rendered and sanitised.")


class ReleaseOut(ReleaseSummary):
    """One release with its whole frozen text."""

    document_title: str = Field(description="The document's title when the release was published.")
    introduction: str = Field(description="The introduction then (Markdown).")
    introduction_html: str
    sections: list[ReleaseSectionOut]


class ReleaseList(ListOf[ReleaseSummary]):
    """One page of a document's releases, newest first."""


class PublishRelease(Input):
    """A release to publish: the live text as it stands now, under a name."""

    name: str = Field(description="The release's name, one line, unique within the document "
                                  "(its address is made from it).")
    description: str = Field("", description="What the release is for (Markdown), optional.")
    final: bool = Field(False, description="Make it the final text: the document moves to its final phase "
                                           "(admins only).")


def _summary_fields(document: Document, release: Release) -> dict:
    """What a release's summary shows; who published it by display name only."""
    return dict(slug=release.slug, name=release.name, final=release.is_final, published_at=iso(release.created_at),
                published_by=release.created_by.name if release.created_by is not None else None,
                section_count=release.section_count, line_count=release.line_count,
                description=release.description, description_html=release.description_html,
                url=url_for("releases.show", slug=document.slug, release_slug=release.slug))


def release_out(document: Document, release: Release) -> ReleaseOut:
    """A release with its sections, as its page shows it (one query for the sections)."""
    return ReleaseOut(
        **_summary_fields(document, release), document_title=release.document_title,
        introduction=release.introduction, introduction_html=release.introduction_html,
        sections=[ReleaseSectionOut(section_id=entry.section.id, number=entry.number, heading=entry.version.heading,
                                    version=entry.version.number, first_line=entry.first_line,
                                    last_line=entry.last_line, body=entry.version.body,
                                    body_html=entry.version.body_html)
                  for entry in releases.release_entries(release)])


def _validator(document: Document, params: tuple = ()) -> tuple:
    """Releases follow the document's frame: publishing and marking final are events no area narrows.

    A release's text never changes; the names of who published follow the site's state, which every
    validator reads.
    """
    return document_validator(document, states.frame_scope(document.id), params=params)


@operation(bp, "GET", "/documents/<slug>/releases", summary="List a document's releases", tag=TAG,
           response=ReleaseList, query=PageQuery, scope="read", conditional=True)
def list_releases(slug: str, query: PageQuery):
    """A document's releases, newest first."""
    document = documents.get_document_or_404(slug)

    def body() -> ReleaseList:
        page = releases.releases_page(document, query.page, query.size())
        return list_of(ReleaseList, page, [ReleaseSummary(**_summary_fields(document, release))
                                           for release in page.items])

    return Reply(body=body, etag=_validator(document, params=asked()))


@operation(bp, "GET", "/documents/<slug>/releases/<release_slug>", summary="Read a release", tag=TAG,
           response=ReleaseOut, scope="read", conditional=True)
def get_release(slug: str, release_slug: str):
    """One release's frozen text: every section with the exact version it had then."""
    document = documents.get_document_or_404(slug)
    release = releases.get_release_or_404(document, release_slug)
    return Reply(body=lambda: release_out(document, release), etag=_validator(document, params=(release.id,)))


@operation(bp, "POST", "/documents/<slug>/releases", summary="Publish a release", tag=TAG, response=ReleaseOut,
           status=201, body=PublishRelease, scope="moderate")
def publish_release(slug: str, body: PublishRelease):
    """Freeze the live text as a named release (moderators; a final release, admins). Answers with its address."""
    document = documents.get_document_or_404(slug)
    release = releases.publish_release(auth.token_user(), document.id, name=body.name, description=body.description,
                                       final=body.final)
    # Read back as the page reads it, with who published it.
    release = releases.get_release_or_404(document, release.slug)
    return Reply(body=release_out(document, release), status=201,
                 headers={"Location": url_for("api.get_release", slug=document.slug, release_slug=release.slug)})
