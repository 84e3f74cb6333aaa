"""Read one text (the live document or a release) into an :class:`ExportDocument`, in a fixed number of queries.

Every format renders what this module returns and never queries the
database itself. The number of queries does not grow with the document:
one for the sections (two for a release), one for the annex, one for the
contributors, and the redline's own bounded comparison, each only when
the options ask for it.

What is public and what is not: an export is the same file for everyone
who downloads it (it is cached and shared), so it holds only what anyone
may read. Drafts and hidden amendments never appear in the annex, and only
people who ticked "credit me in exports" on their account page are named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, union
from sqlalchemy.orm import aliased

from ..accounts.models import User
from ..amendments.citations import Numbering
from ..amendments.models import Amendment, Kind, Status, Support
from ..discussion.models import Comment
from ..documents import services as documents
from ..documents.contributions import page_figures
from ..documents.models import Document, Phase, Section, SectionVersion
from ..extensions import db
from ..releases import redline
from ..releases import services as releases
from ..services import NotFound, as_utc
from ..text.lines import format_line_range
from .document import AnnexEntry, ExportDocument, ExportSection, RedlineSection
from .options import ExportOptions, export_language

__all__ = ["annex_entries", "annex_votes", "build_export", "contributors", "labels_language", "resolve_release",
           "text_entries"]


def labels_language(document: Document, options: ExportOptions) -> str:
    """The one language of an export's headings and labels: the one asked for, else the document's own."""
    return export_language(options.language) or export_language(document.language) or "en"


@dataclass(frozen=True)
class _Entry:
    """A section of the exported text: what documents.services.SectionEntry and release entries share."""

    section_id: int
    version: SectionVersion
    number: int
    first_line: int


def resolve_release(document: Document, name_or_slug: str | None):
    """Return the release of ``document`` whose slug (or, failing that, name) is ``name_or_slug``; None for None.

    The web passes slugs; the command line accepts either, since people type names.

    :raises NotFound: when no release of this document has that slug or name.
    """
    if name_or_slug is None:
        return None
    wanted = name_or_slug.strip()
    try:
        return releases.get_release_or_404(document, wanted)
    except NotFound:
        for release in releases.list_releases(document):
            if release.name == wanted or release.name.casefold() == wanted.casefold():
                return release
    raise NotFound(_("There is no release “%(name)s” of this document.", name=wanted))


def text_entries(document: Document, release=None) -> list[_Entry]:
    """The sections of the live text (one query) or of a release (the releases area's own, bounded)."""
    if release is None:
        rows = documents.current_sections(document)
    else:
        rows = releases.release_entries(release)
    return [_Entry(entry.section.id if entry.section is not None else 0, entry.version, entry.number,
                   entry.first_line) for entry in rows]


def _text_date(document: Document, release, entries: list[_Entry]) -> datetime:
    """The release's date, or when the live text last changed (its newest section version)."""
    if release is not None:
        return as_utc(release.created_at)
    dates = [as_utc(entry.version.created_at) for entry in entries if entry.version.created_at is not None]
    return max(dates, default=as_utc(document.created_at))


def _person(name: str, organisation: str | None) -> str:
    """A person as credited: name, and organisation in brackets when they gave one."""
    return f"{name} ({organisation})" if organisation else name


# ----------------------------------------------------------------------- annex

def annex_statement(document: Document, release=None):
    """The SELECT of the annex's amendments: public ones only, in code order.

    Drafts and hidden amendments never appear. A release's annex lists the
    amendments submitted before the release was published.
    """
    base = aliased(SectionVersion)
    stmt = (select(Amendment, User.name, User.organisation, base.heading)
            .join(User, User.id == Amendment.author_id)
            .outerjoin(base, base.id == Amendment.base_version_id)
            .where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value,
                   Amendment.hidden_at.is_(None), Amendment.number.is_not(None))
            .order_by(Amendment.number))
    if release is not None:
        stmt = stmt.where(Amendment.submitted_at <= release.created_at)
    return stmt


def _status_then(amendment: Amendment, release) -> tuple[str, str]:
    """The amendment's status label and decision reason, as they stood when the release was published.

    A release never changes, so its annex shows the state of that day: an
    amendment decided (or withdrawn) later was still open then.
    """
    if release is not None and amendment.decided_at is not None \
            and as_utc(amendment.decided_at) > as_utc(release.created_at):
        return Status.SUBMITTED.label, ""
    return Status(amendment.status).label, amendment.decision_reason or ""


def _new_section(heading: str | None, title: str | None, *, at_start: bool, after) -> str:
    """Where an inserted section goes, in words (current locale): "New section “Water” after §3 Energy"."""
    if at_start:
        if heading:
            return _("New section “%(heading)s” at the start", heading=heading)
        return _("New section at the start")
    if after:
        if heading:
            return _("New section “%(heading)s” after §%(number)s %(after)s", heading=heading, number=after[0],
                     after=after[1])
        return _("New section after §%(number)s %(after)s", number=after[0], after=after[1])
    if title:
        if heading:
            return _("New section “%(heading)s” (%(title)s)", heading=heading, title=title)
        return _("New section (%(title)s)", title=title)
    return _("New section “%(heading)s”", heading=heading) if heading else _("New section")


def annex_entries(document: Document, entries: list[_Entry], release=None) -> list[AnnexEntry]:
    """Every public amendment of the document as the annex lists it (one query)."""
    numbers = {entry.section_id: (entry.number, entry.version.heading) for entry in entries}
    numbering = Numbering.of(entries)  # the exported text's lines: the live text's or the release's frozen ones
    result = []
    for amendment, name, organisation, base_heading in db.session.execute(annex_statement(document, release)):
        kind = Kind(amendment.kind)
        placed = numbers.get(amendment.section_id) if amendment.section_id else None
        if kind is Kind.INSERT:
            section = _new_section(amendment.proposed_heading, amendment.title,
                                   at_start=amendment.section_id is None, after=placed)
        elif placed:
            section = f"§{placed[0]} {placed[1]}"
        elif base_heading:
            section = _("%(heading)s (not in this text)", heading=base_heading)
        else:
            section = _("A section (not in this text)")
        lines = ""
        cited = amendment.cited_lines(numbering)
        if cited is not None and cited[1] >= cited[0]:
            lines = format_line_range(cited[0], cited[1], one=_("line {first}"), many=_("lines {first}–{last}"))
        status, reason = _status_then(amendment, release)
        result.append(AnnexEntry(code=amendment.code, section=section, lines=lines,
                                 author=_person(name, organisation), status=status,
                                 title=amendment.title_in(numbering) or "", reason=reason, kind=kind.label))
    return result


def annex_votes(document: Document, release=None) -> list:
    """The closed votes the annex lists (``AnnexVote``), as the plenary provides them: by then, for a release."""
    return page_figures(document, None, "export-annex", release=release).get("annex_votes", [])


# ---------------------------------------------------------------- contributors

def contributors(document: Document, release=None) -> list[str]:
    """The people credited in an export: contributors who agreed to it, by name (one query).

    A contributor wrote a section version, submitted an amendment or
    supported one, or commented, on this document (before the release, for a
    release). Only people who ticked the choice on their account page, and
    whose account is active, are named; hidden and deleted contributions do
    not count.
    """
    until = release.created_at if release is not None else None

    def before(column):
        """Limit a contribution to the release's date, when exporting a release."""
        return column <= until if until is not None else column.is_not(None)

    versions = (select(SectionVersion.author_id.label("user_id"))
                .join(Section, Section.id == SectionVersion.section_id)
                .where(Section.document_id == document.id, SectionVersion.author_id.is_not(None),
                       before(SectionVersion.created_at)))
    amendments = (select(Amendment.author_id.label("user_id"))
                  .where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value,
                         Amendment.hidden_at.is_(None), before(Amendment.submitted_at)))
    supports = (select(Support.user_id.label("user_id"))
                .join(Amendment, Amendment.id == Support.amendment_id)
                .where(Amendment.document_id == document.id, Amendment.status != Status.DRAFT.value,
                       Amendment.hidden_at.is_(None), before(Support.created_at)))
    comments = (select(Comment.author_id.label("user_id"))
                .where(Comment.document_id == document.id, Comment.deleted_at.is_(None),
                       Comment.hidden_at.is_(None), before(Comment.created_at)))
    ids = union(versions, amendments, supports, comments).subquery()
    rows = db.session.execute(
        select(User.name, User.organisation)
        .where(User.id.in_(select(ids.c.user_id)), User.credit_in_exports.is_(True), User.active.is_(True))
        .order_by(User.name, User.id)).all()
    people = [_person(name, organisation) for name, organisation in rows]
    return sorted(people, key=lambda person: (person.casefold(), person))


# --------------------------------------------------------------------- redline

def _redline(document: Document, against, release) -> list[RedlineSection]:
    """The redline of this text against an earlier release, from the releases area's comparison."""
    changes = redline.compare_texts(document, against, release)
    return [RedlineSection(change=change.change, number=change.number, old_number=change.old_number,
                           heading=change.heading, old_heading=change.old_heading,
                           diff_html=change.diff_html or "", amendments=list(change.amendments or []),
                           labels=list(getattr(change, "labels", None) or []))
            for change in changes]


# ----------------------------------------------------------------------- build

def build_export(document: Document, release=None, options: ExportOptions = ExportOptions()) -> ExportDocument:
    """Read the live text (``release`` None) or a release into an ExportDocument.

    A fixed number of queries whatever the size: the sections, then the
    annex, the contributors and the redline only when ``options`` ask.
    ``options.redline_against`` names an earlier release by slug (or name).

    :raises NotFound: when the release to compare against does not exist.
    """
    against = resolve_release(document, options.redline_against) if options.redline_against else None
    entries = text_entries(document, release)
    sections = [
        ExportSection(number=entry.number, heading=entry.version.heading, body=entry.version.body,
                      body_html=entry.version.body_html, first_line=entry.first_line,
                      lines=entry.version.numbered_lines(entry.first_line), section_id=entry.section_id,
                      version_number=entry.version.number)
        for entry in entries
    ]
    title = document.title
    if release is not None:
        title = getattr(release, "document_title", None) or title
    extra: dict[str, Any] = {}
    # The annex and redline hold words (statuses, places, kinds of change): in the export's one language.
    with force_locale(labels_language(document, options)):
        if options.annex:
            extra["annex"] = annex_entries(document, entries, release)
            extra["votes"] = annex_votes(document, release)
        if against is not None:
            extra["redline"] = _redline(document, against, release)
            extra["redline_base"] = against.name
    if options.contributors:
        extra["contributors"] = contributors(document, release)
    introduction, introduction_html = document.introduction or "", document.introduction_html or ""
    if release is not None:  # the introduction as it stood when the release was published
        introduction, introduction_html = release.introduction or "", release.introduction_html or ""
    return ExportDocument(
        slug=document.slug, title=title, introduction_html=introduction_html,
        language=document.language or "en", release_name=release.name if release is not None else None,
        date=_text_date(document, release, entries),
        is_final=bool(release.is_final) if release is not None else document.phase == Phase.FINAL,
        sections=sections, options=options, introduction=introduction,
        release_slug=release.slug if release is not None else None,
        line_length=documents.line_length(document), **extra)
