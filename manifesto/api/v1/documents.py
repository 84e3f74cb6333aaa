"""Documents, their outline, sections, versions and the diff between two versions."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from pydantic import Field

from ...documents import services as documents
from ...documents.models import Document, Phase
from ..spec import Model, Reply, operation
from .blueprint import bp
from .common import ListOf, PageQuery, document_validator, iso, list_of

TAG = "Documents"


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
