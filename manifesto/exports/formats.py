"""The export formats: each a function ``ExportDocument -> bytes``, and what they share.

``render(fmt, doc)`` picks the renderer. Markdown, HTML, plain text and
DOCX live in their own modules; the PDF (``pdf.render_pdf``) is imported
only when asked for, since WeasyPrint needs system libraries that may be
missing. The JSON archive is of the whole database, not of one text, so it
is not rendered from an ExportDocument (see ``archive.write_archive``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timezone
from html.parser import HTMLParser

from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from .model import FORMATS, ExportDocument, ExportOptions

__all__ = ["TEXT_FORMATS", "change_label", "change_name", "clean", "date_label", "day_label", "download_name",
           "edition_label", "escape", "html_segments", "html_to_text", "in_language", "number", "plain_paragraphs",
           "render", "squash", "unchanged_label"]

# Formats rendered from an ExportDocument (json is the archive of everything).
TEXT_FORMATS = ("pdf", "docx", "md", "html", "txt")

# Characters no XML 1.0 document may contain (DOCX breaks on them), plus the C1
# controls, which HTML forbids and no reader shows: stripped from every format.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")



def change_name(change: str) -> str:
    """A redline entry's kind of change in words, in the current locale."""
    names = {"added": _("Added"), "removed": _("Removed"), "retitled": _("Retitled"), "moved": _("Moved"),
             "changed": _("Changed"), "unchanged": _("Unchanged")}
    return names.get(change, change.capitalize())


@contextmanager
def in_language(doc: ExportDocument) -> Iterator[str]:
    """Write the fixed texts of ``doc``'s file in its one language (``doc.labels_language``)."""
    with force_locale(doc.labels_language):
        yield doc.labels_language


_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def squash(text: str) -> str:
    """Collapse runs of ASCII white space into one space and trim; no-break spaces stay (French typography)."""
    return _SPACES.sub(" ", text).strip(" ")


def clean(text: str | None) -> str:
    """Drop the characters that would make a file invalid (control characters, lone surrogates)."""
    return _INVALID.sub("", text or "")


def _utc(doc: ExportDocument):
    """The text's date in UTC (exports are one file for everyone, so they name no reader's zone)."""
    value = doc.date
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def day_label(doc: ExportDocument) -> str:
    """The text's day (UTC) in the export's language: "30 November 2026", "30 novembre 2026"."""
    language = doc.labels_language
    pattern = "d MMMM y" if language == "en" else "long"
    return babel_format_date(_utc(doc).date(), pattern, locale=language)


def date_label(doc: ExportDocument) -> str:
    """The text's date and time, saying UTC: "30 November 2026, 14:05 UTC", "30 novembre 2026 à 14:05 UTC"."""
    moment = _utc(doc)
    clock = babel_format_time(moment, "HH:mm", tzinfo=timezone.utc, locale=doc.labels_language)
    with force_locale(doc.labels_language):
        return _("%(date)s, %(time)s UTC", date=day_label(doc), time=clock)


def number(value: int, language: str) -> str:
    """A count as people of ``language`` write it: 1,234 / 1 234 / 1234."""
    return format_decimal(value, locale=language)


def edition_label(doc: ExportDocument) -> str:
    """What this text is and when: "Draft 2 · 30 November 2026, …" or "Live text as of 30 November 2026, …"."""
    with force_locale(doc.labels_language):
        if doc.release_name:
            return _("%(release)s · %(date)s", release=doc.release_name, date=date_label(doc))
        return _("Live text as of %(date)s", date=date_label(doc))


def unchanged_label(count: int, language: str) -> str:
    """"Unchanged: 3 sections." in the export's language."""
    with force_locale(language):
        return ngettext("Unchanged: %(num)s section.", "Unchanged: %(num)s sections.", count)


def change_label(change) -> str:
    """A redline entry's change in words (current locale), with the old number or heading when they matter."""
    label = ", ".join(change.labels) if getattr(change, "labels", None) else change_name(change.change)
    notes = []
    if change.old_number is not None and change.number is not None and change.old_number != change.number:
        notes.append(_("was §%(number)s", number=change.old_number))
    if change.old_heading and change.old_heading != change.heading:
        notes.append(_("was “%(heading)s”", heading=change.old_heading))
    if not notes:
        return label
    return _("%(change)s (%(notes)s)", change=label, notes="; ".join(notes))


def download_name(slug: str, release_slug: str | None, options: ExportOptions, fmt: str) -> str:
    """The file name a download gets: ``<slug>-<release or live>[-redline][-lines][-annex][-credits][-lang].<ext>``."""
    parts = [slug, release_slug or "live"]
    if options.redline_against:
        parts.append("redline")
    if options.line_numbers and fmt != "md":
        parts.append("lines")
    if options.annex:
        parts.append("annex")
    if options.contributors:
        parts.append("credits")
    if options.language:
        parts.append(options.language)  # headings in another language than the text's: another file
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-.") or "export"
    return f"{name[:150]}.{FORMATS[fmt][0]}"


Segment = tuple[str | None, str]  # (None, "ins" or "del"; text)


class _TextExtractor(HTMLParser):
    """Sanitised HTML to paragraphs of text segments; a segment is plain, inserted or deleted."""

    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "table", "ul", "ol", "div",
              "hr"}

    def __init__(self) -> None:
        """Start with no paragraph."""
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[list[Segment]] = []
        self.current: list[Segment] = []
        self.marks: list[str] = []
        self.in_pre = 0
        self.hidden = 0  # inside <span class="visually-hidden">: words for screen readers ("inserted: ")

    def _add(self, text: str) -> None:
        """Append text in the current mark."""
        mark = self.marks[-1] if self.marks else None
        if self.current and self.current[-1][0] == mark:
            self.current[-1] = (mark, self.current[-1][1] + text)
        else:
            self.current.append((mark, text))

    def _flush(self) -> None:
        """End the current paragraph, collapsing white space as a browser does (except in code)."""
        segments = []
        for mark, text in self.current:
            if not self.in_pre:
                text = re.sub(r"[ \t\r\n]+", " ", text)
            segments.append((mark, text))
        if segments and not self.in_pre:
            segments[0] = (segments[0][0], segments[0][1].lstrip(" "))
            segments[-1] = (segments[-1][0], segments[-1][1].rstrip(" "))
        segments = [(mark, text) for mark, text in segments if text]
        if segments:
            self.paragraphs.append(segments)
        self.current = []

    def handle_starttag(self, tag, attrs):
        """Open a block or a mark."""
        if tag == "span" and (self.hidden or "visually-hidden" in (dict(attrs).get("class") or "").split()):
            self.hidden += 1
            return
        if tag in self.BLOCKS:
            self._flush()
        if tag == "pre":
            self.in_pre += 1
        elif tag == "br":
            self._add("\n" if self.in_pre else " ")
        elif tag in ("td", "th") and self.current:
            self._add(" | ")
        elif tag in ("ins", "del"):
            self.marks.append(tag)

    def handle_endtag(self, tag):
        """Close a block or a mark."""
        if tag == "span" and self.hidden:
            self.hidden -= 1
            return
        if tag in ("ins", "del") and self.marks:
            self.marks.pop()
        if tag in self.BLOCKS:
            self._flush()
        if tag == "pre":
            self.in_pre = max(0, self.in_pre - 1)

    def handle_data(self, data):
        """Keep the text (not what only screen readers say)."""
        if not self.hidden:
            self._add(data)


def html_segments(fragment: str) -> list[list[Segment]]:
    """The paragraphs of a sanitised HTML fragment, each a list of (mark, text) with mark None, "ins" or "del"."""
    parser = _TextExtractor()
    parser.feed(clean(fragment))
    parser.close()
    parser._flush()
    return parser.paragraphs


def html_to_text(fragment: str, inserted: tuple[str, str] = ("", ""),
                 deleted: tuple[str, str] = ("", "")) -> list[str]:
    """The paragraphs of a sanitised HTML fragment as plain text, insertions and deletions between markers."""
    markers = {None: ("", ""), "ins": inserted, "del": deleted}
    return ["".join(markers[mark][0] + text + markers[mark][1] for mark, text in paragraph)
            for paragraph in html_segments(fragment)]


def plain_paragraphs(text: str) -> list[str]:
    """A plain text (a reason) split into its paragraphs, lines inside a paragraph joined."""
    return [squash(part) for part in re.split(r"\n[ \t\r\f\v]*\n", clean(text).strip()) if part.strip()]


def escape(text: str) -> str:
    """HTML-escape a plain string, dropping invalid characters."""
    return html.escape(clean(text), quote=True)


def _renderers() -> dict[str, Callable[[ExportDocument], bytes]]:
    """The renderer of each format, imported when first needed."""
    from . import docx as docx_format
    from . import html as html_format
    from . import markdown as markdown_format
    from . import text as text_format

    def pdf(doc: ExportDocument) -> bytes:
        """The PDF, typeset by WeasyPrint (imported only now)."""
        from .pdf import render_pdf

        return render_pdf(doc)

    return {"md": markdown_format.render, "html": html_format.render, "txt": text_format.render,
            "docx": docx_format.render, "pdf": pdf}


def render(fmt: str, doc: ExportDocument) -> bytes:
    """Render ``doc`` in ``fmt`` (one of TEXT_FORMATS), its fixed texts in ``doc.labels_language``.

    :raises KeyError: for json or an unknown format.
    """
    renderer = _renderers()[fmt]
    with in_language(doc):
        return renderer(doc)
