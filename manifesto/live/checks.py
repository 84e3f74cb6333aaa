"""Who may follow the topics of the areas beneath live: the same rules as their pages (``topics.register_topic``).

Documents and sections are public (every reader reads every page of them);
an amendment is followed by whoever may see its page (a draft by its author
alone: ``amendments.services.can_view``); ``user:<id>`` by that person alone.
The plenary's ``projector`` (a document's) and ``merge`` (a section's) are
public views and follow the same rule until the plenary registers its own.
"""

from __future__ import annotations

from sqlalchemy import select

from ..amendments.models import Amendment
from ..amendments.services import can_view
from ..documents.models import Document, Section
from ..extensions import db
from .topics import register_topic

DOCUMENT_KINDS = ("document", "frame", "reading", "reading-comments", "projector")
SECTION_KINDS = ("section", "section-text", "merge")


def documents_exist(user, ids: set[int]) -> set[int]:
    """The documents among ``ids`` (every document is public)."""
    return set(db.session.scalars(select(Document.id).where(Document.id.in_(ids))))


def sections_exist(user, ids: set[int]) -> set[int]:
    """The sections among ``ids`` (retired ones too: their pages stay)."""
    return set(db.session.scalars(select(Section.id).where(Section.id.in_(ids))))


def amendments_visible(user, ids: set[int]) -> set[int]:
    """The amendments among ``ids`` whose page ``user`` may see."""
    rows = db.session.execute(select(Amendment.id, Amendment.status, Amendment.author_id)
                              .where(Amendment.id.in_(ids)))
    return {row.id for row in rows if can_view(user, row)}


def own_account(user, ids: set[int]) -> set[int]:
    """Only one's own ``user:<id>``."""
    return {user.id} & ids if user is not None and user.is_authenticated else set()


def register() -> None:
    """Register the checks of the kinds named by ``audit/states.py`` and the plenary's public views."""
    for kind in DOCUMENT_KINDS:
        register_topic(kind, documents_exist)
    for kind in SECTION_KINDS:
        register_topic(kind, sections_exist)
    register_topic("amendment", amendments_visible)
    register_topic("user", own_account)
