"""Release services: publish a release, mark one final, and read releases back.

A release freezes the whole document: the exact version of every live
section at that moment, in order, with its first line number. It is written
under the document's row lock, which every change to the text also takes
(see ``manifesto.locking``), so the snapshot is one consistent state of the
text, never half of a concurrent edit. Releases are never edited or deleted;
only their "final" flag can be set, once.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from ..audit.services import record_event
from ..documents.models import Document, Phase, SectionVersion
from ..documents.services import (SectionEntry, can_edit_sections, can_manage_document, current_sections,
                                  lock_document)
from ..extensions import db
from ..pagination import Page, paginate
from ..services import NotFound, PermissionDenied, ValidationError, to_int, writes
from ..text.render import render_markdown
from .models import NAME_MAX, SLUG_MAX, Release, ReleaseSection

DESCRIPTION_MAX = 20_000
# Addresses that mean something else next to release slugs: the publish form, and the live text in comparisons.
RESERVED_SLUGS = frozenset({"new", "live"})

__all__ = [
    "DESCRIPTION_MAX", "can_mark_final", "can_publish", "get_release_or_404", "latest_release", "list_releases",
    "mark_release_final", "publish_release", "release_entries", "releases_page", "slugify",
]


# ---------------------------------------------------------------- permissions

def can_publish(user) -> bool:
    """Moderators and admins publish releases (the drafting committee's job)."""
    return can_edit_sections(user)


def can_mark_final(user) -> bool:
    """Only admins make a release final: it moves the document to the final phase, which only they can undo."""
    return can_manage_document(user)


# -------------------------------------------------------------------- reading

def list_releases(document: Document) -> list[Release]:
    """Every release of a document, newest first, with who published it (one query)."""
    return list(db.session.scalars(
        select(Release).options(joinedload(Release.created_by))
        .where(Release.document_id == document.id)
        .order_by(Release.created_at.desc(), Release.id.desc())))


def releases_page(document: Document, page: int = 1, per_page: int = 50) -> Page[Release]:
    """One page of a document's releases, newest first, with who published them (two queries)."""
    return paginate(
        select(Release).options(joinedload(Release.created_by))
        .where(Release.document_id == document.id)
        .order_by(Release.created_at.desc(), Release.id.desc()),
        page, per_page)


def latest_release(document: Document) -> Release | None:
    """The document's newest release, or None (one query)."""
    return db.session.scalar(select(Release).where(Release.document_id == document.id)
                             .order_by(Release.created_at.desc(), Release.id.desc()).limit(1))


def get_release_or_404(document: Document, release_slug: str) -> Release:
    """Return a release of ``document`` by its slug, with who published it.

    :raises NotFound:
    """
    release = None
    if isinstance(release_slug, str) and 0 < len(release_slug) <= SLUG_MAX:
        release = db.session.scalar(
            select(Release).options(joinedload(Release.created_by))
            .where(Release.document_id == document.id, Release.slug == release_slug))
    if release is None:
        raise NotFound(_("This document has no release at this address. The list of its releases is one click away."))
    return release


def release_entries(release: Release) -> list[SectionEntry]:
    """The release's sections in order, each with its exact version, number and first line (one query).

    The same objects as ``documents.services.current_sections`` gives for the
    live text (``.section``, ``.version``, ``.number``, ``.first_line``,
    ``.last_line``), so pages and exports treat both alike.
    """
    rows = db.session.scalars(
        select(ReleaseSection)
        .options(joinedload(ReleaseSection.section), joinedload(ReleaseSection.version))
        .where(ReleaseSection.release_id == release.id)
        .order_by(ReleaseSection.position)).all()
    return [SectionEntry(row.section, row.version, row.position, row.first_line) for row in rows]


def matches_live_text(document: Document, release: Release) -> bool:
    """Whether the live text is still exactly the release's (same versions in the same order); two light queries."""
    frozen = db.session.execute(
        select(ReleaseSection.section_id, ReleaseSection.version_id)
        .where(ReleaseSection.release_id == release.id).order_by(ReleaseSection.position)).all()
    live = [(entry.section.id, entry.version.id) for entry in current_sections(document)]
    return [tuple(row) for row in frozen] == live


# ------------------------------------------------------------------ validation

def slugify(name: str) -> str:
    """An ASCII address derived from a name: "Draft 2 — for the regions" gives ``draft-2-for-the-regions``.

    Accents are dropped (é → e), anything else that is not a letter or digit
    becomes a hyphen; long names are cut at a word boundary. Empty when the
    name has no Latin letter or digit at all.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) > SLUG_MAX - 4:  # room for a "-99" suffix
        slug = slug[:SLUG_MAX - 4].rsplit("-", 1)[0] if "-" in slug[:SLUG_MAX - 4] else slug[:SLUG_MAX - 4]
    return slug


def _unique_slug(base: str, taken: set[str], fallback_number: int) -> str:
    """``base``, or ``base-2``, ``base-3``... the first that no release of the document uses."""
    base = base or f"release-{fallback_number}"
    if base in RESERVED_SLUGS:
        base = f"{base}-release"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def clean_name(value: str | None) -> str:
    """Validate a release name: required, one line, at most 200 characters.

    :raises ValidationError: on the ``name`` field.
    """
    value = " ".join((value or "").split())  # one line, single spaces
    if not value:
        raise ValidationError(_("Give the release a name, e.g. “Draft 2 — for the regional consultations”."), "name")
    if len(value) > NAME_MAX:
        raise ValidationError(_("The name is %(length)s characters long; the limit is %(limit)s.",
                                length=format_number(len(value)), limit=format_number(NAME_MAX)), "name")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(_("The name contains a character that cannot be stored."), "name")
    return value


def clean_description(value: str | None) -> str:
    """Validate the optional description (Markdown).

    :raises ValidationError: on the ``description`` field.
    """
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > DESCRIPTION_MAX:
        raise ValidationError(_("The description is %(length)s characters long; the limit is %(limit)s.",
                                length=format_number(len(value)), limit=format_number(DESCRIPTION_MAX)),
                              "description")
    if "\x00" in value:
        raise ValidationError(_("The description contains a character that cannot be stored."), "description")
    return value


def _finalise_document(actor, document: Document, release: Release) -> None:
    """Move the document to the final phase (amendments close, the text stops changing) and record it."""
    release.is_final = True
    if document.phase != Phase.FINAL:
        before = document.phase
        document.phase = Phase.FINAL.value
        record_event(actor, "document.updated", document, document_id=document.id,
                     from_state=before, to_state=document.phase,
                     data={"release": release.slug, "release_name": release.name})


# ------------------------------------------------------------------- services

@writes
def publish_release(actor, document_id: int, *, name: str, description: str = "", final: bool = False) -> Release:
    """Freeze the whole live text as a named, dated, immutable release; ``final`` also ends the document's process.

    Holds the document's row lock, which every new version, move, insert and
    retirement takes too, so the snapshot is one consistent state of the text.

    :raises PermissionDenied: unless the actor is a moderator or admin (an admin for a final release).
    :raises ValidationError: on a missing, too long or already used name, or an empty document.
    :raises NotFound: for an unknown document.
    """
    if not can_publish(actor):
        raise PermissionDenied(_("Only moderators can publish a release."))
    if final and not can_mark_final(actor):
        raise PermissionDenied(_("Only an admin can publish a final release: it closes the document for good."))
    document = lock_document(to_int(document_id))
    name = clean_name(name)
    description = clean_description(description)
    existing = db.session.execute(select(Release.name, Release.slug).where(Release.document_id == document.id)).all()
    if any(other.casefold() == name.casefold() for other, _ in existing):
        raise ValidationError(_("This document already has a release with this name. Choose another name."), "name")
    entries = current_sections(document)
    if not entries:
        raise ValidationError(_("The document has no sections yet: there is nothing to release."))
    release = Release(
        document_id=document.id, name=name,
        slug=_unique_slug(slugify(name), {slug for _, slug in existing}, len(existing) + 1),
        description=description, description_html=render_markdown(description) if description else "",
        document_title=document.title, introduction=document.introduction or "",
        introduction_html=document.introduction_html or "",
        section_count=len(entries), line_count=sum(entry.version.line_count for entry in entries),
        is_final=False, created_by_id=actor.id if actor is not None else None)
    db.session.add(release)
    db.session.flush()
    # One multi-row statement, not one INSERT per section: a convention text has hundreds.
    db.session.execute(insert(ReleaseSection), [
        {"release_id": release.id, "position": entry.number, "section_id": entry.section.id,
         "version_id": entry.version.id, "first_line": entry.first_line} for entry in entries])
    record_event(actor, "release.published", release, document_id=document.id,
                 to_state="final" if final else "published",
                 data={"name": release.name, "slug": release.slug, "sections": release.section_count})
    if final:
        _finalise_document(actor, document, release)
    db.session.flush()
    return release


@writes
def mark_release_final(actor, document_id: int, release_id: int) -> Release:
    """Make an existing release the final text, and move the document to the final phase.

    Only the release that still is the live text can become final: a final
    text that differs from what readers see would be a contradiction.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: when the release is final already or the text has changed since.
    :raises NotFound: for an unknown document or a release of another document.
    """
    if not can_mark_final(actor):
        raise PermissionDenied(_("Only an admin can mark a release final: it closes the document for good."))
    document = lock_document(to_int(document_id))
    release = db.session.get(Release, to_int(release_id))
    if release is None or release.document_id != document.id:
        raise NotFound(_("This document has no such release."))
    if release.is_final:
        raise ValidationError(_("This release is final already."))
    if not matches_live_text(document, release):
        raise ValidationError(_("The text has changed since this release was published, so it cannot become the "
                                "final text. Publish a new release and mark that one final."))
    record_event(actor, "release.marked_final", release, document_id=document.id,
                 from_state="published", to_state="final", data={"name": release.name, "slug": release.slug})
    _finalise_document(actor, document, release)
    return release


def versions_by_id(ids) -> dict[int, SectionVersion]:
    """Load section versions by id in one query (for comparisons)."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return {}
    return {version.id: version for version in db.session.scalars(
        select(SectionVersion).where(SectionVersion.id.in_(ids)))}
