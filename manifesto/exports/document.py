"""What every export format renders: one plain, database-free description of the text.

:func:`manifesto.exports.build.build_export` fills it from the live text or
from a release, in a fixed number of queries; each format (``markdown``,
``html``, ``text``, ``docx``, ``pdf``) is a function of an
:class:`ExportDocument` alone, so formats never query the database and a
long PDF can be built by a background worker from the same object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from ..documents.models import NumberedLine
from .options import ExportOptions, export_language

__all__ = ["AnnexEntry", "AnnexVote", "ExportDocument", "ExportSection", "RedlineSection"]


@dataclass(frozen=True)
class ExportSection:
    """One section as exported: its number, heading, Markdown body, rendered HTML and numbered lines."""

    number: int  # 1, 2, 3 ... in document order
    heading: str
    body: str  # Markdown source
    body_html: str  # sanitised HTML, as on the reading page
    first_line: int  # document-wide number of its first line
    lines: list[NumberedLine]  # the body's numbered lines, exactly as on screen
    section_id: int
    version_number: int


@dataclass(frozen=True)
class AnnexEntry:
    """One amendment in the annex."""

    code: str
    section: str  # "§3 Title" or "new section after §3"
    lines: str  # "lines 12–14" or ""
    author: str
    status: str  # human label, in the export's language: Accepted, Rejected...
    title: str
    reason: str  # the moderators' public reason ("" when undecided)
    kind: str = ""  # what it does, in words: "Change a section", "Delete a section", "Insert a new section"


@dataclass(frozen=True)
class AnnexVote:
    """One closed consultative vote in the annex, its words in the export's language (made by the plenary)."""

    vote_id: int
    closed_at: datetime
    question: str
    subject: str  # "A-014" or "The whole text"
    kind: str  # "Secret vote" or "Named vote"
    rule: str  # how it was counted, in sentences
    yes: int
    no: int
    abstain: int
    passed: bool
    result: str  # "Passed." or "Not passed."
    why: str  # why, with the numbers
    roll: list[tuple[str, str]] = field(default_factory=list)  # a named vote's voters: (name, choice in words)


@dataclass(frozen=True)
class RedlineSection:
    """How one section changed between the compared text and this one."""

    change: str  # added, removed, retitled, moved, changed, unchanged
    number: int | None  # its number now (None when removed)
    old_number: int | None  # its number before (None when added)
    heading: str
    old_heading: str | None
    diff_html: str  # word-level diff with <ins>/<del>, sanitised ("" when the text is unchanged)
    amendments: list[str] = field(default_factory=list)  # codes adopted in between
    labels: list[str] = field(default_factory=list)  # every kind of change in words: "Moved", "Text changed"


@dataclass(frozen=True)
class ExportDocument:
    """Everything a format needs, already read from the database."""

    slug: str
    title: str
    introduction_html: str
    language: str  # the text's language: en, fr, es
    release_name: str | None  # None for the live text
    date: datetime  # the release's date, or when the live text last changed
    is_final: bool
    sections: list[ExportSection]
    options: ExportOptions = ExportOptions()
    annex: list[AnnexEntry] = field(default_factory=list)
    votes: list[AnnexVote] = field(default_factory=list)  # closed votes, with the annex (plenary's provider)
    contributors: list[str] = field(default_factory=list)
    redline: list[RedlineSection] = field(default_factory=list)
    redline_base: str | None = None  # name of the release compared against
    introduction: str = ""  # the document's introduction, Markdown source (introduction_html rendered)
    release_slug: str | None = None  # the release's address, for file names (None for the live text)
    line_length: int = 80  # characters per numbered line, as laid out

    @property
    def labels_language(self) -> str:
        """The language the file's fixed texts are written in: the one asked for, else the text's own."""
        return export_language(self.options.language) or export_language(self.language) or "en"

    @property
    def label(self) -> str:
        """What this text is: the release's name, or "Live text" (in the current locale)."""
        return self.release_name or _("Live text")
