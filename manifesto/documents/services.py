"""Document services: reading, settings, and every change to sections.

A section's text only ever changes by adding a version. Each change names the
version the editor saw (``base_version``); if the section moved on meanwhile
the service refuses with a ConflictError instead of overwriting.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from ..accounts.rules import is_admin, is_moderator
from ..audit.services import record_event
from ..extensions import db
from ..locking import lock_row, lock_rows
from ..pagination import Page, paginate
from ..services import ConflictError, NotFound, PermissionDenied, ValidationError, as_utc, to_int, utcnow, writes
from ..text.diff import word_diff
from ..text.diff_html import render_inline, render_side_by_side
from ..text.lines import layout
from ..text.render import render_markdown
from .models import TEXT_LANGUAGES, Document, Phase, Section, SectionVersion
from .rules import require_text_changes
from .signals import section_retired, version_written

LIMITS = {"title": 300, "heading": 300, "body": 50_000, "introduction": 20_000, "reason": 2_000, "slug": 80}
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# ---------------------------------------------------------------- permissions

def can_edit_sections(user) -> bool:
    """Moderators and admins write sections directly."""
    return is_moderator(user)


def can_manage_document(user) -> bool:
    """Admins set titles, phases and deadlines."""
    return is_admin(user)


def _require(allowed: bool, message: str) -> None:
    """Raise PermissionDenied unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message)


# -------------------------------------------------------------------- loading

def get_document_or_404(slug: str) -> Document:
    """Return a document by slug.

    :raises NotFound:
    """
    document = db.session.scalar(select(Document).where(Document.slug == slug))
    if document is None:
        raise NotFound(_("There is no document at this address."))
    return document


def documents_page(page: int = 1, per_page: int = 25) -> Page[Document]:
    """Every document, oldest first, one page at a time (the API's list; the site shows one at a time)."""
    return paginate(select(Document).order_by(Document.id), page, per_page)


def first_document() -> Document | None:
    """Return the oldest document, the one the home page shows."""
    return db.session.scalar(select(Document).order_by(Document.id).limit(1))


def get_section_or_404(document: Document, section_id: int) -> Section:
    """Return a section of ``document``, with its current version.

    :raises NotFound:
    """
    section = db.session.scalar(select(Section).options(joinedload(Section.current_version))
                                .where(Section.id == section_id, Section.document_id == document.id))
    if section is None:
        raise NotFound(_("This section does not exist."))
    return section


def get_version_or_404(section: Section, number: int) -> SectionVersion:
    """Return version ``number`` of a section, with its author and approver.

    :raises NotFound:
    """
    version = db.session.scalar(
        select(SectionVersion)
        .options(joinedload(SectionVersion.author), joinedload(SectionVersion.approver))
        .where(SectionVersion.section_id == section.id, SectionVersion.number == number))
    if version is None:
        raise NotFound(_("This version does not exist."))
    return version


@dataclass
class SectionEntry:
    """A section as listed on the reading page: its number and where its lines start."""

    section: Section
    version: SectionVersion
    number: int
    first_line: int

    @property
    def last_line(self) -> int:
        """Number of the section's last line (first_line - 1 when it is empty)."""
        return self.first_line + self.version.line_count - 1


def current_sections(document: Document) -> list[SectionEntry]:
    """Return the document's live sections in order, numbered, with continuous line numbers.

    One query, whatever the number of sections or versions.
    """
    sections = db.session.scalars(
        select(Section)
        .options(joinedload(Section.current_version))
        .where(Section.document_id == document.id, Section.retired_at.is_(None))
        .order_by(Section.position)
    ).all()
    entries, next_line = [], 1
    for number, section in enumerate(sections, start=1):
        entries.append(SectionEntry(section, section.current_version, number, next_line))
        next_line += section.current_version.line_count
    return entries


@dataclass(frozen=True)
class OutlineEntry:
    """A live section as a menu shows it: id, number and heading, no text."""

    section_id: int
    number: int
    heading: str
    version_id: int


def outline(document: Document) -> list[OutlineEntry]:
    """Return the live sections' numbers and headings in one light query (no bodies loaded).

    For filters and pickers, which must stay cheap on a 300-section document.
    """
    rows = db.session.execute(
        select(Section.id, SectionVersion.heading, SectionVersion.id)
        .join(SectionVersion, SectionVersion.id == Section.current_version_id)
        .where(Section.document_id == document.id, Section.retired_at.is_(None))
        .order_by(Section.position)).all()
    return [OutlineEntry(section_id, number, heading, version_id)
            for number, (section_id, heading, version_id) in enumerate(rows, start=1)]


def section_entry(document: Document, section: Section) -> SectionEntry:
    """Number a single section and find its first line, in two aggregate queries."""
    if section.retired:
        return SectionEntry(section, section.current_version, 0, 1)
    earlier = (Section.document_id == document.id) & Section.retired_at.is_(None) & (Section.position < section.position)
    number = db.session.scalar(select(func.count()).select_from(Section).where(earlier)) + 1
    lines_before = db.session.scalar(
        select(func.coalesce(func.sum(SectionVersion.line_count), 0))
        .select_from(Section).join(SectionVersion, SectionVersion.id == Section.current_version_id)
        .where(earlier))
    return SectionEntry(section, section.current_version, number, int(lines_before) + 1)


def section_history(section: Section) -> list[SectionVersion]:
    """Return every version of a section, newest first, with authors and approvers."""
    return list(db.session.scalars(
        select(SectionVersion)
        .options(joinedload(SectionVersion.author), joinedload(SectionVersion.approver))
        .where(SectionVersion.section_id == section.id)
        .order_by(SectionVersion.number.desc())))


def compare_versions(old: SectionVersion, new: SectionVersion) -> tuple[str, str]:
    """Return the inline and side-by-side diff of two versions' bodies.

    Consecutive versions use the diff stored when the newer was written; any
    other pair is computed here (a rare, explicit request).
    """
    if new.parent_id == old.id and new.diff_inline_html is not None:
        return new.diff_inline_html, new.diff_side_html
    ops = word_diff(old.body, new.body)
    return render_inline(ops), render_side_by_side(ops)


# ------------------------------------------------------------------ validation

# What each checked text is called in its messages: whole sentences, so that
# each language words them its own way. (empty, too long, unstorable character)
_TEXT_MESSAGES = {
    "title": (_l("The title cannot be empty."),
              _l("The title is %(length)s characters long; the limit is %(limit)s."),
              _l("The title contains a character that cannot be stored.")),
    "heading": (_l("The heading cannot be empty."),
                _l("The heading is %(length)s characters long; the limit is %(limit)s."),
                _l("The heading contains a character that cannot be stored.")),
    "body": (_l("The text cannot be empty."),
             _l("The text is %(length)s characters long; the limit is %(limit)s."),
             _l("The text contains a character that cannot be stored.")),
    "introduction": (_l("The introduction cannot be empty."),
                     _l("The introduction is %(length)s characters long; the limit is %(limit)s."),
                     _l("The introduction contains a character that cannot be stored.")),
    "reason": (_l("The reason cannot be empty."),
               _l("The reason is %(length)s characters long; the limit is %(limit)s."),
               _l("The reason contains a character that cannot be stored.")),
}


def _clean_text(value: str | None, field: str, *, required: bool = True, label: str | None = None) -> str:
    """Normalise line ends, trim, and check the length limit of a text field.

    The messages name the text by its kind: ``label`` ("heading", "body",
    "title", "introduction" or "reason"), else ``field``'s, else a reason's.

    :raises ValidationError: naming ``field``.
    """
    kind = label if label in _TEXT_MESSAGES else field if field in _TEXT_MESSAGES else "reason"
    empty, too_long, unstorable = _TEXT_MESSAGES[kind]
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if required and not value:
        raise ValidationError(str(empty), field)
    limit = LIMITS[field if field in LIMITS else "reason"]
    if len(value) > limit:
        raise ValidationError(str(too_long) % {"length": format_number(len(value)), "limit": format_number(limit)},
                              field)
    if "\x00" in value:
        raise ValidationError(str(unstorable), field)
    return value


def clean_heading(value: str | None) -> str:
    """Validate a section heading (one line)."""
    value = _clean_text(value, "heading")
    if "\n" in value:
        raise ValidationError(_("The heading must fit on one line."), "heading")
    return value


def clean_body(value: str | None) -> str:
    """Validate a section body."""
    return _clean_text(value, "body")


def clean_reason(value: str | None, field: str = "reason") -> str:
    """Validate the reason given for a change."""
    return _clean_text(value, field, label="reason")


# ------------------------------------------------------------------- versions

def line_length(document: Document) -> int:
    """The document's line length (the app's default when unset)."""
    return document.line_length or current_app.config["LINE_LENGTH"]


def write_version(section: Section, document: Document, *, heading: str, body: str, reason: str,
                  author, approver=None, kind: str = "edit") -> SectionVersion:
    """Add the next version to a section: render, lay out and diff it once, now.

    The caller holds the section's row lock and has checked the base version.
    """
    parent = section.current_version if section.current_version_id else None
    lines = layout(body, line_length(document))
    version = SectionVersion(
        section=section, number=section.version_count + 1, heading=heading, body=body,
        body_html=render_markdown(body), layout_json=json.dumps(lines.to_json(), separators=(",", ":")), line_count=lines.line_count,
        reason=reason, kind=kind, author_id=author.id if author else None,
        approver_id=approver.id if approver else None, parent_id=parent.id if parent else None,
    )
    if parent is not None:
        ops = word_diff(parent.body, body)
        version.diff_inline_html = render_inline(ops)
        version.diff_side_html = render_side_by_side(ops)
    db.session.add(version)
    section.version_count = version.number
    db.session.flush()
    section.current_version_id = version.id
    section.current_version = version
    if parent is not None:
        version_written.send(section, document=document, version=version, actor=approver or author)
    return version


def _check_base(section: Section, base_version: int | None) -> None:
    """Refuse a change made on a version that is no longer current.

    :raises ConflictError: carrying the current version.
    """
    if base_version is not None and to_int(base_version) != section.version_count:
        current = db.session.get(SectionVersion, section.current_version_id)
        raise ConflictError(
            _("Someone saved version %(current)s of this section while you were working on version %(base)s. "
              "Your text is below; compare it with the current text and save again.",
              current=section.version_count, base=base_version), current=current)


def lock_document(document_id: int) -> Document:
    """Lock the document's row: numbering, structure and the text's versions change under it.

    :raises NotFound:
    """
    document = lock_row(Document, document_id)
    if document is None:
        raise NotFound(_("There is no such document."))
    return document


def lock_section(document: Document, section_id: int) -> Section:
    """Lock a section row for a change and load its current version.

    :raises NotFound: also for a section of another document.
    """
    section = lock_row(Section, section_id)
    if section is None or section.document_id != document.id:
        raise NotFound(_("This section does not exist."))
    if section.current_version_id is not None:
        section.current_version = db.session.get(SectionVersion, section.current_version_id)
    return section


# ------------------------------------------------------------------- services

@writes
def create_document(actor, *, title: str, slug: str, introduction: str = "",
                    phase: str = Phase.DRAFTING.value, line_length: int | None = None) -> Document:
    """Create a document.

    :raises PermissionDenied: unless the actor is an admin (None is the CLI).
    :raises ValidationError: on a bad or taken slug or a bad field.
    """
    if actor is not None:
        _require(can_manage_document(actor), _("Only an admin can create a document."))
    title = _clean_text(title, "title")
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or len(slug) > LIMITS["slug"]:
        raise ValidationError(_("Use lower-case letters, digits and single hyphens."), "slug")
    if db.session.scalar(select(Document.id).where(Document.slug == slug)) is not None:
        raise ValidationError(_("Another document already uses this address."), "slug")
    introduction = _clean_text(introduction, "introduction", required=False)
    document = Document(title=title, slug=slug, introduction=introduction,
                        introduction_html=render_markdown(introduction), phase=Phase(phase).value,
                        line_length=line_length or current_app.config["LINE_LENGTH"])
    db.session.add(document)
    db.session.flush()
    record_event(actor, "document.created", document, document_id=document.id, to_state=document.phase)
    return document


@writes
def update_document(actor, document_id: int, *, title: str, introduction: str, phase: str,
                    amendment_deadline: datetime | None, min_supporters: int,
                    language: str | None = None) -> Document:
    """Change a document's title, introduction, phase, deadline, supporter threshold and text language.

    ``amendment_deadline`` is aware, or naive in UTC. ``language`` (en, fr, es)
    is the language the text is written in; None keeps it.

    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationError: on a bad field.
    """
    _require(can_manage_document(actor), _("Only an admin can change the document's settings."))
    document = lock_document(document_id)
    try:
        phase = Phase(phase)
    except ValueError as exc:
        raise ValidationError(_("Choose one of the listed phases."), "phase") from exc
    if min_supporters is None or not 0 <= to_int(min_supporters, "min_supporters") <= 1000:
        raise ValidationError(_("Give a number from 0 to 1000."), "min_supporters")
    if language is not None and language not in TEXT_LANGUAGES:
        raise ValidationError(_("Choose one of the listed languages."), "language")
    before, before_language = document.phase, document.language
    document.title = _clean_text(title, "title")
    document.introduction = _clean_text(introduction, "introduction", required=False)
    document.introduction_html = render_markdown(document.introduction)
    document.phase = phase.value
    document.amendment_deadline = as_utc(amendment_deadline)
    document.min_supporters = int(min_supporters)
    if language is not None:
        document.language = language
    data = {"deadline": document.amendment_deadline.isoformat() if document.amendment_deadline else None,
            "min_supporters": document.min_supporters}
    if document.language != before_language:
        data["language"] = {"from": before_language, "to": document.language}  # search re-stems the document's entries
    record_event(actor, "document.updated", document, document_id=document.id,
                 from_state=before, to_state=document.phase, data=data)
    return document


def _check_structure(document: Document, structure_version: int | None) -> None:
    """Refuse a structural change made on an outdated view of the document.

    :raises ConflictError:
    """
    if structure_version is not None and to_int(structure_version) != document.structure_version:
        raise ConflictError(_("The order of the sections changed while you were looking. "
                              "Look at the new order and try again."))


@writes
def create_section(actor, document_id: int, *, heading: str, body: str, reason: str,
                   after_section_id: int | None = None, author=None, approver=None,
                   structure_version: int | None = None, audit_action: str = "section.created") -> Section:
    """Add a section after ``after_section_id`` (at the start when None) with its first version.

    ``author`` defaults to the actor; an accepted insert amendment credits its author.

    :raises PermissionDenied: unless the actor is a moderator or admin.
    :raises ValidationError: on a bad field.
    """
    _require(can_edit_sections(actor), _("Only moderators can add sections."))
    document = lock_document(document_id)
    require_text_changes(document)
    _check_structure(document, structure_version)
    heading, body, reason = clean_heading(heading), clean_body(body), clean_reason(reason)
    if after_section_id:
        after = get_section_or_404(document, to_int(after_section_id, "after"))
        position = after.position + 1
    else:
        position = 1
    db.session.execute(update(Section)
                       .where(Section.document_id == document.id, Section.position >= position)
                       .values(position=Section.position + 1))
    section = Section(document_id=document.id, position=position, version_count=0)
    db.session.add(section)
    db.session.flush()
    write_version(section, document, heading=heading, body=body, reason=reason,
                  author=author or actor, approver=approver, kind="created")
    document.structure_version += 1
    record_event(actor, audit_action, section, document_id=document.id, to_state="v1", reason=reason)
    return section


@writes
def edit_section(actor, document_id: int, section_id: int, *, heading: str, body: str, reason: str,
                 base_version: int | None) -> SectionVersion:
    """Save a new version of a section written on ``base_version``.

    :raises PermissionDenied: unless the actor is a moderator or admin.
    :raises ValidationError: on a bad or unchanged text.
    :raises ConflictError: when the section moved on since ``base_version``.
    """
    _require(can_edit_sections(actor), _("Only moderators can edit sections directly."))
    document = lock_document(document_id)  # versions shift the line numbers of the sections after
    section = lock_section(document, section_id)
    require_text_changes(document)
    if section.retired:
        raise ValidationError(_("This section is retired; restore it before editing."))
    heading, body, reason = clean_heading(heading), clean_body(body), clean_reason(reason)
    _check_base(section, base_version)
    current = section.current_version
    if current.heading == heading and current.body == body:
        raise ValidationError(_("Nothing changed: edit the heading or the text first."), "body")
    version = write_version(section, document, heading=heading, body=body, reason=reason, author=actor)
    record_event(actor, "section.edited", section, document_id=document.id,
                 from_state=f"v{version.number - 1}", to_state=f"v{version.number}", reason=reason)
    return version


@writes
def revert_section(actor, document_id: int, section_id: int, *, to_number: int, reason: str,
                   base_version: int | None) -> SectionVersion:
    """Make an earlier version's text current again, as a new version (history is never rewritten).

    :raises PermissionDenied: unless the actor is a moderator or admin.
    :raises ValidationError: when the target is the current text.
    :raises ConflictError: when the section moved on since ``base_version``.
    """
    _require(can_edit_sections(actor), _("Only moderators can revert sections."))
    document = lock_document(document_id)  # versions shift the line numbers of the sections after
    section = lock_section(document, section_id)
    require_text_changes(document)
    reason = clean_reason(reason)
    _check_base(section, base_version)
    target = get_version_or_404(section, to_int(to_number, "to_number"))
    current = section.current_version
    if target.body == current.body and target.heading == current.heading:
        raise ValidationError(_("That version's text is already the current text."), "to_number")
    version = write_version(section, document, heading=target.heading, body=target.body,
                            reason=reason, author=actor, approver=actor, kind="revert")
    record_event(actor, "section.reverted", section, document_id=document.id,
                 from_state=f"v{version.number - 1}", to_state=f"v{version.number}", reason=reason,
                 data={"restored": target.number})
    return version


@writes
def move_section(actor, document_id: int, section_id: int, *, direction: str,
                 structure_version: int | None) -> Section:
    """Swap a live section with its live neighbour above or below.

    :raises PermissionDenied: unless the actor is a moderator or admin.
    :raises ConflictError: when the structure changed meanwhile.
    """
    _require(can_edit_sections(actor), _("Only moderators can reorder sections."))
    document = lock_document(document_id)
    require_text_changes(document)
    _check_structure(document, structure_version)
    section = lock_section(document, section_id)
    if section.retired:
        raise ValidationError(_("A retired section has no place in the order."))
    live = (Section.document_id == document.id) & Section.retired_at.is_(None)
    if direction == "up":
        neighbour = db.session.scalar(select(Section).where(live, Section.position < section.position)
                                      .order_by(Section.position.desc()).limit(1))
    elif direction == "down":
        neighbour = db.session.scalar(select(Section).where(live, Section.position > section.position)
                                      .order_by(Section.position).limit(1))
    else:
        raise ValidationError(_("Move a section up or down."))
    if neighbour is None:
        return section
    lock_rows(Section, [neighbour.id])  # under the document's lock, so a second section lock is in order
    section.position, neighbour.position = neighbour.position, section.position
    document.structure_version += 1
    record_event(actor, "section.moved", section, document_id=document.id, data={"direction": direction})
    return section


@writes
def retire_section(actor, document_id: int, section_id: int, *, reason: str,
                   base_version: int | None = None, audit_action: str = "section.retired") -> Section:
    """Take a section out of the current text; its history stays readable.

    :raises PermissionDenied: unless the actor is a moderator or admin.
    :raises ConflictError: when the section moved on since ``base_version``.
    """
    _require(can_edit_sections(actor), _("Only moderators can retire sections."))
    document = lock_document(document_id)
    require_text_changes(document)
    section = lock_section(document, section_id)
    reason = clean_reason(reason)
    _check_base(section, base_version)
    if section.retired:
        raise ValidationError(_("This section is already retired."))
    section.retired_at = utcnow()
    document.structure_version += 1
    record_event(actor, audit_action, section, document_id=document.id,
                 from_state="live", to_state="retired", reason=reason)
    section_retired.send(section, document=document, actor=actor)
    return section


@writes
def restore_section(actor, document_id: int, section_id: int, *, reason: str) -> Section:
    """Bring a retired section back at its old place.

    :raises PermissionDenied: unless the actor is a moderator or admin.
    """
    _require(can_edit_sections(actor), _("Only moderators can restore sections."))
    document = lock_document(document_id)
    require_text_changes(document)
    section = lock_section(document, section_id)
    reason = clean_reason(reason)
    if not section.retired:
        raise ValidationError(_("This section is part of the text already."))
    section.retired_at = None
    document.structure_version += 1
    record_event(actor, "section.restored", section, document_id=document.id,
                 from_state="retired", to_state="live", reason=reason)
    return section
