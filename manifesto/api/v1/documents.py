"""Documents, their outline, sections, versions and the diff between two versions.

Each operation calls what the document pages call (``documents/views.py``):
``current_sections`` for the reading page's numbering and lines,
``section_entry`` for one section, ``section_history`` and
``get_version_or_404`` for its versions, ``compare_versions`` and
``word_diff`` for a comparison. Retired sections leave the outline and the
list, as they leave the reading page; their own address still answers, as
their page does, marked retired.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, TypeVar

from flask import request, url_for
from pydantic import Field, create_model

from ...audit import states
from ...documents import services as documents
from ...documents.models import Document, Phase, Section, SectionVersion
from ...pagination import Page, clamp_page
from ...services import MAX_ID
from ...text.diff import word_diff
from ..spec import Count, Id, Model, Query, Reply, operation
from .blueprint import bp
from .common import DiffRun, ListOf, PageQuery, document_validator, iso, list_of, runs

TAG = "Documents"
T = TypeVar("T")

# A line number: a section's last line is its first minus one when it is empty (so 0 for an empty first section).
LineNumber = Annotated[int, Field(ge=0, le=MAX_ID)]
VersionNumber = Annotated[int, Field(ge=1, le=MAX_ID, description="A version's number within its section, from 1.")]


class DocumentOut(Model):
    """A document: what it is called, where it stands, and whether amendments may be proposed now."""

    slug: str
    title: str
    language: str = Field(description="The language of the text (en, fr, es).")
    phase: Phase
    amendments_open: bool
    amendment_deadline: datetime | None
    min_supporters: int = Field(ge=0)
    line_length: int = Field(ge=1)
    introduction: str = Field(description="The introduction as written (Markdown).")
    introduction_html: str = Field(description="The introduction rendered and sanitised.")
    created_at: datetime
    url: str = Field(description="The document's page on the site.")


class DocumentList(ListOf[DocumentOut]):
    """One page of documents."""


def document_out(document: Document) -> DocumentOut:
    """A document as the API shows it."""
    return DocumentOut(slug=document.slug, title=document.title, language=document.language,
                       phase=Phase(document.phase), amendments_open=document.amendments_open(),
                       amendment_deadline=iso(document.amendment_deadline),
                       min_supporters=document.min_supporters, line_length=document.line_length,
                       introduction=document.introduction, introduction_html=document.introduction_html,
                       created_at=iso(document.created_at),
                       url=url_for("documents.read", slug=document.slug, _external=False))


@operation(bp, "GET", "/documents", summary="List the documents", tag=TAG, response=DocumentList,
           query=PageQuery, scope="read")
def list_documents(query: PageQuery):
    """Every document of the site, oldest first."""
    page = documents.documents_page(query.page, query.size())
    return list_of(DocumentList, page, [document_out(document) for document in page.items])


@operation(bp, "GET", "/documents/<slug>", summary="Read a document", tag=TAG, response=DocumentOut,
           scope="read", conditional=True)
def get_document(slug: str):
    """One document, by the slug of its address."""
    document = documents.get_document_or_404(slug)
    return Reply(body=lambda: document_out(document), etag=document_validator(document))


# ------------------------------------------------------------------ shared by the lists

def asked() -> tuple:
    """The request's query arguments, for a list's validator: its links repeat them."""
    return tuple(sorted(request.args.items(multi=True)))


def page_of(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """One page of a list already read whole (the outline's numbering needs every section); past the end, the last."""
    number = clamp_page(page, len(items), per_page)
    start = (number - 1) * per_page
    return Page(list(items[start:start + per_page]), number, per_page, len(items))


# ------------------------------------------------------------------ outline

class OutlineEntryOut(Model):
    """A live section in the outline: its number, heading, current version and lines."""

    section_id: Id
    number: Id = Field(description="The section's number in the live text (§1, §2...).")
    heading: str
    version: VersionNumber = Field(description="The number of the section's current version.")
    first_line: Id = Field(description="The document-wide number of the section's first line.")
    last_line: LineNumber = Field(description="Its last line (first_line - 1 when the section is empty).")
    url: str = Field(description="The section's page on the site.")


class Outline(Model):
    """The live text's table of contents: every live section in order, none retired."""

    sections: list[OutlineEntryOut]
    line_count: Count = Field(description="How many numbered lines the live text has.")


@operation(bp, "GET", "/documents/<slug>/outline", summary="Read a document's outline", tag=TAG,
           response=Outline, scope="read", conditional=True)
def get_outline(slug: str):
    """The live sections' numbers, headings, current versions and line numbers, in order (retired ones left out)."""
    document = documents.get_document_or_404(slug)

    def body() -> Outline:
        entries = documents.current_sections(document)
        return Outline(sections=[
            OutlineEntryOut(section_id=entry.section.id, number=entry.number, heading=entry.version.heading,
                            version=entry.version.number, first_line=entry.first_line, last_line=entry.last_line,
                            url=url_for("documents.section", slug=document.slug, section_id=entry.section.id))
            for entry in entries], line_count=entries[-1].last_line if entries else 0)

    # Numbers and lines follow every text change: the frame (sections' events) and the reading text (amendments).
    return Reply(body=body, etag=document_validator(document, states.reading_scope(document.id)))


# ------------------------------------------------------------------ sections

class VersionKind(StrEnum):
    """How a version came to be."""

    CREATED = "created"
    EDIT = "edit"
    REVERT = "revert"
    AMENDMENT = "amendment"


class CurrentVersionOut(Model):
    """A section's current text."""

    number: VersionNumber
    kind: VersionKind
    heading: str
    body: str = Field(description="The text as written (Markdown).")
    body_html: str = Field(description="The text rendered and sanitised.")
    line_count: Count = Field(description="How many numbered lines the text has.")
    created_at: datetime = Field(description="When this version was written.")


class SectionOut(Model):
    """A section with its current version, numbered and placed in the live text."""

    id: Id
    number: Id | None = Field(description="The section's number in the live text; null once retired.")
    retired: bool = Field(description="Retired sections are no longer part of the live text; their history stays.")
    retired_at: datetime | None
    first_line: Id | None = Field(description="Its first line's document-wide number; null once retired.")
    last_line: LineNumber | None = Field(description="Its last line (first_line - 1 when empty); null once retired.")
    version_count: Id = Field(description="How many versions the section has (the current one is the newest).")
    current: CurrentVersionOut
    url: str = Field(description="The section's page on the site.")


class SectionList(ListOf[SectionOut]):
    """One page of the live text's sections, in order, each with its current version."""


def section_out(document: Document, entry: documents.SectionEntry) -> SectionOut:
    """A section as the API shows it, from the entry the reading or section page numbers it with."""
    section, version = entry.section, entry.version
    live = not section.retired
    return SectionOut(
        id=section.id, number=entry.number if live else None, retired=not live, retired_at=iso(section.retired_at),
        first_line=entry.first_line if live else None, last_line=entry.last_line if live else None,
        version_count=section.version_count,
        current=CurrentVersionOut(number=version.number, kind=VersionKind(version.kind), heading=version.heading,
                                  body=version.body, body_html=version.body_html, line_count=version.line_count,
                                  created_at=iso(version.created_at)),
        url=url_for("documents.section", slug=document.slug, section_id=section.id))


@operation(bp, "GET", "/documents/<slug>/sections", summary="List a document's sections", tag=TAG,
           response=SectionList, query=PageQuery, scope="read", conditional=True)
def list_sections(slug: str, query: PageQuery):
    """The live text's sections in order, each with its current version (retired sections are not listed)."""
    document = documents.get_document_or_404(slug)

    def body() -> SectionList:
        page = page_of(documents.current_sections(document), query.page, query.size())
        return list_of(SectionList, page, [section_out(document, entry) for entry in page.items])

    return Reply(body=body, etag=document_validator(document, states.reading_scope(document.id), params=asked()))


@operation(bp, "GET", "/documents/<slug>/sections/<int:section_id>", summary="Read a section", tag=TAG,
           response=SectionOut, scope="read", conditional=True)
def get_section(slug: str, section_id: int):
    """One section with its current version; a retired section answers too, marked retired, as its page does."""
    document = documents.get_document_or_404(slug)
    section = documents.get_section_or_404(document, section_id)
    # Its lines follow the text of the sections before it: the reading text's scope, besides its own.
    return Reply(body=lambda: section_out(document, documents.section_entry(document, section)),
                 etag=document_validator(document, states.reading_scope(document.id),
                                         states.section_text_scope(section.id)))


# ------------------------------------------------------------------ versions

class VersionSummary(Model):
    """A version in a section's history: who wrote it, when, and why (the text is one address away)."""

    number: VersionNumber
    kind: VersionKind
    heading: str
    reason: str = Field(description="Why the version was written, as its author gave it.")
    author: str | None = Field(description="The author's public display name (null when unknown).")
    approver: str | None = Field(description="Who approved it (the moderator who accepted an amendment), "
                                             "by display name.")
    current: bool = Field(description="Whether this is the section's current version.")
    created_at: datetime
    url: str = Field(description="The version's page on the site.")


class VersionOut(VersionSummary):
    """One version of a section in full."""

    body: str = Field(description="The text as written (Markdown).")
    body_html: str = Field(description="The text rendered and sanitised.")
    line_count: Count


class VersionList(ListOf[VersionSummary]):
    """One page of a section's versions, newest first."""


def _summary_fields(document: Document, section: Section, version: SectionVersion) -> dict:
    """What a version's summary shows; authors by their display name only (never an address)."""
    return dict(number=version.number, kind=VersionKind(version.kind), heading=version.heading, reason=version.reason,
                author=version.author.name if version.author is not None else None,
                approver=version.approver.name if version.approver is not None else None,
                current=version.id == section.current_version_id, created_at=iso(version.created_at),
                url=url_for("documents.version", slug=document.slug, section_id=section.id, number=version.number))


def version_out(document: Document, section: Section, version: SectionVersion) -> VersionOut:
    """A version in full as the API shows it."""
    return VersionOut(**_summary_fields(document, section, version), body=version.body,
                      body_html=version.body_html, line_count=version.line_count)


def _versions_validator(document: Document, section: Section, params: tuple = ()) -> tuple:
    """What a section's versions depend on: its own text's scope (edits bump the frame, amendments this scope)."""
    return document_validator(document, states.section_text_scope(section.id), params=params)


@operation(bp, "GET", "/documents/<slug>/sections/<int:section_id>/versions", summary="List a section's versions",
           tag=TAG, response=VersionList, query=PageQuery, scope="read", conditional=True)
def list_versions(slug: str, section_id: int, query: PageQuery):
    """Every version of a section, newest first, as its history shows them."""
    document = documents.get_document_or_404(slug)
    section = documents.get_section_or_404(document, section_id)

    def body() -> VersionList:
        page = page_of(documents.section_history(section), query.page, query.size())
        return list_of(VersionList, page, [VersionSummary(**_summary_fields(document, section, version))
                                           for version in page.items])

    return Reply(body=body, etag=_versions_validator(document, section, params=asked()))


@operation(bp, "GET", "/documents/<slug>/sections/<int:section_id>/versions/<int:number>",
           summary="Read one version of a section", tag=TAG, response=VersionOut, scope="read", conditional=True)
def get_version(slug: str, section_id: int, number: int):
    """One version of a section as it was, with its text."""
    document = documents.get_document_or_404(slug)
    section = documents.get_section_or_404(document, section_id)
    version = documents.get_version_or_404(section, number)
    return Reply(body=lambda: version_out(document, section, version), etag=_versions_validator(document, section))


# ------------------------------------------------------------------ diff

class DiffOut(Model):
    """The word diff between two versions of a section: runs to apply in order, and the same change rendered."""

    old: VersionSummary = Field(description="The version compared from.")
    new: VersionSummary = Field(description="The version compared to.")
    changes: list[DiffRun] = Field(description="The bodies' word diff: the equal and deleted runs joined give the "
                                               "older text, the equal and inserted runs the newer.")
    heading_changes: list[DiffRun] = Field(description="The headings' word diff; empty when they are the same.")
    inline_html: str = Field(description="The body's diff rendered inline (<ins>/<del>; their screen-reader labels "
                                         "in English, as stored).")
    side_by_side_html: str = Field(description="The body's diff rendered as a two-column table.")


# "from" is a Python keyword: the query's field is named in a mapping, so that the address reads ?from=2&to=5.
DiffQuery = create_model(
    "DiffQuery", __base__=Query, __doc__="The two versions to compare, by number (either order).",
    **{"from": (VersionNumber, Field(description="The version to compare from.")),
       "to": (VersionNumber, Field(description="The version to compare to."))})


@operation(bp, "GET", "/documents/<slug>/sections/<int:section_id>/diff", summary="Compare two versions",
           tag=TAG, response=DiffOut, query=DiffQuery, scope="read", conditional=True)
def get_diff(slug: str, section_id: int, query):
    """The word diff between two versions of a section, as runs and rendered, as the comparison page shows it."""
    document = documents.get_document_or_404(slug)
    section = documents.get_section_or_404(document, section_id)
    old = documents.get_version_or_404(section, getattr(query, "from"))
    new = documents.get_version_or_404(section, query.to)

    def body() -> DiffOut:
        inline_html, side_html = documents.compare_versions(old, new)
        return DiffOut(old=VersionSummary(**_summary_fields(document, section, old)),
                       new=VersionSummary(**_summary_fields(document, section, new)),
                       changes=runs(word_diff(old.body, new.body)),
                       heading_changes=runs(word_diff(old.heading, new.heading)) if old.heading != new.heading else [],
                       inline_html=inline_html, side_by_side_html=side_html)

    return Reply(body=body, etag=_versions_validator(document, section, params=(old.number, new.number)))
