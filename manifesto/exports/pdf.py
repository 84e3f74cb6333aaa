"""The PDF export, typeset with WeasyPrint from an :class:`~manifesto.exports.document.ExportDocument`.

What the printed copy holds: a title page (title, release and date), a
table of contents with page numbers (CSS ``target-counter``), the numbered
sections with running headers (document title, current section) and page
numbers, and, when the document carries them, the redline, the annex of
amendments and the contributors.

Line numbers: with ``options.line_numbers`` the body is printed stored line
by stored line (:class:`~manifesto.documents.models.NumberedLine`), each
line one block that never wraps, its number in the left margin, so a
printed copy and the screen agree line for line. The measure holds 80
characters of DejaVu Serif at 10pt; the rare line that would still overflow
(wide capitals, bold, code) is printed a little smaller, measured here with
the font's own advance widths.

WeasyPrint needs Pango and HarfBuzz from the system. It is imported only
when a PDF is made, so the app starts and every other format works without
them; :func:`pdf_unavailable_reason` says what to install. Nothing here
reads the database or the network: remote resources are refused.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import shutil
import subprocess
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from ..documents.models import NumberedLine
from .document import ExportDocument, ExportSection
from .formats import Progress, register
from .labels import change_name, date_label, in_language

__all__ = ["INSTALL_HINT", "PdfUnavailable", "Progress", "build_html", "pdf_unavailable_reason", "render_pdf"]

log = logging.getLogger(__name__)

INSTALL_HINT = _l("PDF export needs Pango and HarfBuzz on the server: apt install %(packages)s",
                  packages="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core")

STYLESHEET = Path(__file__).with_name("pdf.css")

# The text block: A4 (210mm) less the 28mm and 18mm side margins of pdf.css, in points.
MEASURE_PT = (210 - 28 - 18) * 72 / 25.4
INDENT_PT = 15.0  # one level of list or quote nesting: three en spaces at 10pt
MAX_DEPTH = 4
BODY_PT = 10.0
CODE_PT = 9.0
# A laid-out page holds about this many numbered lines (for the progress estimate only).
LINES_PER_PAGE = 50

# Characters no PDF text may hold: C0 controls (but tab and newlines), DEL, lone surrogates.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<[^>]*>")


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot run here (Pango or HarfBuzz missing); the message says what to install."""


@functools.cache
def _weasyprint_missing() -> bool:
    """Whether WeasyPrint fails to load here (imported once per process, never at start-up).

    WeasyPrint raises OSError on import when Pango is missing.
    """
    try:
        with warnings.catch_warnings():
            # Without libharfbuzz-subset0 it warns that a future version will need it; this one works.
            warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
            import weasyprint  # noqa: F401
    except (OSError, ImportError) as error:
        log.warning("PDF export unavailable: %s", error)
        return True
    return False


def pdf_unavailable_reason() -> str | None:
    """None when PDFs can be made here, else a sentence (in the current locale) saying what the server lacks."""
    return str(INSTALL_HINT) if _weasyprint_missing() else None


# ------------------------------------------------------------------ measuring lines

_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FILES = {
    "serif": ("DejaVuSerif.ttf", "DejaVu Serif"),
    "bold": ("DejaVuSerif-Bold.ttf", "DejaVu Serif:bold"),
    "italic": ("DejaVuSerif-Italic.ttf", "DejaVu Serif:italic"),
    "mono": ("DejaVuSansMono.ttf", "DejaVu Sans Mono"),
}


def _font_path(kind: str) -> Path | None:
    """Where the DejaVu face of ``kind`` lives: Debian's place, else wherever fontconfig says."""
    filename, pattern = _FONT_FILES[kind]
    path = _FONT_DIR / filename
    if path.exists():
        return path
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True,
                                   timeout=5, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        if found.endswith(filename):
            return Path(found)
    return None


@functools.cache
def _advances(kind: str) -> dict[int, float] | None:
    """Advance width in em of every character of a DejaVu face, or None when the face is missing."""
    path = _font_path(kind)
    if path is None:
        return None
    try:
        from fontTools.ttLib import TTFont

        with TTFont(str(path), lazy=True) as font:
            per_em = font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            return {code: metrics[glyph][0] / per_em for code, glyph in font.getBestCmap().items()}
    except Exception:  # a damaged font file only costs the fitting, never the PDF
        log.exception("cannot read the metrics of %s", path)
        return None


def _line_font(line: NumberedLine) -> tuple[str, float]:
    """The face and size a line prints in (a conservative choice when it mixes styles)."""
    if line.block == "code":
        return "mono", CODE_PT
    if line.block.startswith("h") or "<strong" in line.html:
        return "bold", BODY_PT
    if "<code" in line.html:
        return "mono", BODY_PT
    if line.block == "quote" or "<em" in line.html:
        return "italic", BODY_PT
    return "serif", BODY_PT


def _fitting_size(line: NumberedLine, text: str) -> float | None:
    """The font size in pt at which the line fits the measure, or None when its normal size does."""
    kind, size = _line_font(line)
    advances = _advances(kind)
    if advances is None:
        return None
    width = sum(advances.get(ord(char), 1.0) for char in text) * size
    room = MEASURE_PT - min(max(line.depth, 0), MAX_DEPTH) * INDENT_PT
    if width <= room:
        return None
    return max(4.0, math.floor(size * room / width * 10) / 10)


# ------------------------------------------------------------------ the HTML

def _clean(html: str) -> str:
    """Drop characters no PDF text can hold."""
    return _INVALID_CHARS.sub("", html)


_FIGURE_SPACE = "\u2007"  # as wide as a digit: right-aligns the numbers without a box of their own
_EN_SPACE = "\u2002"
NUMBER_DIGITS = 5  # numbers up to 99,999 line up; longer ones reach further into the margin
# What a line's number and the two spaces after it take, at 10pt DejaVu Serif (digit .636em, space .318em):
# pdf.css pulls each line left by exactly this much, so the text starts at the margin and the number sits in it.


def _line_html(line: NumberedLine, first_in_section: bool) -> str:
    """One stored line as one printed block, its number in the left margin.

    The number is plain text at the start of the line, padded with figure
    spaces, so most lines are a single run of text: no box of their own for
    the number (which halves the layout work of a long document). Lines in
    another style (headings, quotes, code) or set smaller to fit keep their
    number in the body's style with a span of its own.
    """
    content = line.html or str(escape(line.text))
    visible = line.text if line.html == "" or "<" not in line.html else _TAG.sub("", line.html)
    classes = ["l"]
    if line.starts_block and not first_in_section:
        classes.append("gap")
    block = line.block or "p"
    styled = block.startswith("h") or block in ("quote", "code", "hr")
    if styled:
        classes.append("b-h" if block.startswith("h") else f"b-{block}")
    depth = min(max(line.depth, 0), MAX_DEPTH)
    indent = _EN_SPACE * (3 * depth)  # 1.5em a level of nesting, inside the text so the number stays put
    size = _fitting_size(line, visible)
    number = str(line.number).rjust(NUMBER_DIGITS, _FIGURE_SPACE) + "  "
    if not styled and size is None:
        return f'<p class="{" ".join(classes)}">{number}{indent}{content}</p>'
    style = f' style="font-size:{size}pt"' if size else ""
    return f'<p class="{" ".join(classes)}"{style}><span class="n">{number}</span>{indent}{content}</p>'


def _section_html(section: ExportSection, line_numbers: bool, lang: str = "en") -> Iterator[str]:
    """A numbered section (in the text's language ``lang``): its heading, then its body as prose or numbered lines."""
    yield (f'<section class="sec" id="s-{section.number}" lang="{lang}"><h2 class="sec-h">'
           f'<span class="secno">§{section.number}</span> {escape(section.heading)}</h2>')
    if line_numbers:
        yield '<div class="ln-text">'
        for index, line in enumerate(section.lines):
            yield _line_html(line, index == 0)
        yield "</div>"
    else:
        yield f'<div class="prose">{section.body_html}</div>'
    yield "</section>"


def _changes_since(doc: ExportDocument) -> str:
    """The redline's heading: "Changes since Draft 1"."""
    if doc.redline_base:
        return _("Changes since %(release)s", release=doc.redline_base)
    return _("Changes since the earlier release")


def _redline_html(doc: ExportDocument) -> Iterator[str]:
    """The document-level redline: every section that changed, with its word diff and adopted amendments."""
    yield f'<section class="part" id="redline"><h2 class="part-h">{escape(_changes_since(doc))}</h2>'
    changed = [entry for entry in doc.redline if entry.change != "unchanged"]
    if not changed:
        nothing = _("No section changed.")
        yield f"<p>{escape(nothing)}</p>"
    for entry in changed:
        number = f"§{entry.number}" if entry.number is not None else _("former §%(number)s", number=entry.old_number)
        label = ", ".join(entry.labels) if entry.labels else change_name(entry.change)
        yield (f'<div class="redline-sec"><h3><span class="change">{escape(label)}</span> {escape(number)} '
               f'<span lang="{escape(doc.language)}">{escape(entry.heading)}</span></h3>')
        if entry.old_heading and entry.old_heading != entry.heading:
            was = _("Heading was:")
            yield f'<p>{escape(was)} <del lang="{escape(doc.language)}">{escape(entry.old_heading)}</del></p>'
        if entry.old_number is not None and entry.number is not None and entry.old_number != entry.number:
            was = _("Was §%(number)s.", number=entry.old_number)
            yield f"<p>{escape(was)}</p>"
        if entry.diff_html:
            yield f'<div class="redline-diff" lang="{escape(doc.language)}">{entry.diff_html}</div>'
        if entry.amendments:
            adopted = _("Amendments adopted: %(codes)s", codes=", ".join(entry.amendments))
            yield f'<p class="redline-amendments">{escape(adopted)}</p>'
        yield "</div>"
    yield "</section>"


def _annex_html(doc: ExportDocument) -> Iterator[str]:
    """The annex: every amendment with its place, author, status and the moderators' reason."""
    heading, nothing = _("Annex: amendments"), _("No amendments.")
    yield f'<section class="part" id="annex"><h2 class="part-h">{escape(heading)}</h2>'
    if not doc.annex:
        yield f"<p>{escape(nothing)}</p>"
    reason_label = Markup("\n") + escape(_("Reason:")) + Markup(" ")
    for entry in doc.annex:
        # One block of plain lines (white-space: pre-line) per amendment: 3,600 of them must stay cheap.
        where = escape(entry.section) + (Markup(", ") + escape(entry.lines) if entry.lines else "")
        reason = reason_label + escape(entry.reason) if entry.reason else ""
        proposed = escape(_("Proposed by %(name)s", name=entry.author))
        yield (f'<p class="am"><b>{escape(entry.code)}</b> · {where} · {escape(entry.status)}\n'
               f"{escape(entry.title)}\n{proposed}{reason}</p>")
    yield "</section>"
    if doc.votes:
        yield f'<section class="part" id="votes"><h2 class="part-h">{escape(_("Annex: votes"))}</h2>'
    for vote in doc.votes:
        lines = [(_("Vote on:"), vote.subject), (_("Kind of vote:"), vote.kind), (_("Counted:"), vote.rule),
                 (_("Votes:"), _("%(yes)s yes, %(no)s no, %(abstain)s abstain", yes=vote.yes, no=vote.no,
                                 abstain=vote.abstain)),
                 (_("Result:"), f"{vote.result} {vote.why}")]
        if vote.roll:
            lines.append((_("Who voted how:"), "; ".join(f"{name}: {choice}" for name, choice in vote.roll)))
        body = Markup("\n").join(escape(label) + Markup(" ") + escape(value) for label, value in lines)
        yield f'<p class="am"><b>{escape(vote.question)}</b>\n{body}</p>'
    if doc.votes:
        yield "</section>"


def _contributors_html(doc: ExportDocument) -> Iterator[str]:
    """The people who agreed to be credited."""
    heading, nobody = _("Contributors"), _("Nobody has asked to be credited.")
    yield f'<section class="part" id="contributors"><h2 class="part-h">{escape(heading)}</h2>'
    if doc.contributors:
        yield '<ul class="credits">' + "".join(f"<li>{escape(name)}</li>" for name in doc.contributors) + "</ul>"
    else:
        yield f"<p>{escape(nobody)}</p>"
    yield "</section>"


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def page_css() -> str:
    """The page footer, "Page 3 of 12", in the current locale (CSS counters in the sentence's word order)."""
    sentence = _("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
    parts = []
    for piece in re.split(r"(\x00pages?\x00)", sentence):
        if piece == "\x00page\x00":
            parts.append("counter(page)")
        elif piece == "\x00pages\x00":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    return "@page { @bottom-center { content: %s; } }\n@page :first { @bottom-center { content: none; } }" % (
        " ".join(parts) or "none")


def build_html(doc: ExportDocument) -> str:
    """The whole printed document as one HTML string (WeasyPrint's input), fixed texts in its labels language.

    The page is in the labels language (``<html lang>``); the document's own
    text (title, headings, bodies) carries its own ``lang`` when that differs.
    """
    with in_language(doc) as language:
        return _build_html(doc, language)


def _build_html(doc: ExportDocument, language: str) -> str:
    """:func:`build_html`, inside the export's locale."""
    options = doc.options
    text_lang = escape(doc.language or "en")
    kicker = _("Final text") if doc.is_final else _("Release") if doc.release_name else _("Working text")
    edition = doc.release_name or _("Live text")
    contents = _("Contents")
    parts: list[str] = [
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">',
        f"<title>{escape(doc.title)}</title>",
        f'<meta name="description" content="{escape(doc.label)}">',
        f'<meta name="dcterms.created" content="{doc.date.isoformat()}">',
        f'<meta name="dcterms.modified" content="{doc.date.isoformat()}"></head><body>',
        '<section class="title-page">',
        f'<p class="kicker">{escape(kicker)}</p>',
        f'<h1 lang="{text_lang}">{escape(doc.title)}</h1>',
        f'<p class="release">{escape(edition)}</p>',
        f'<p class="date">{escape(date_label(doc))}</p>',
    ]
    if options.line_numbers:
        colophon = _("Line numbers are those of the text on the platform.")
        parts.append(f'<p class="colophon">{escape(colophon)}</p>')
    parts.append("</section>")

    toc = [(f"#s-{s.number}", Markup(f'<span class="secno">§{s.number}</span> <span lang="{text_lang}">')
            + escape(s.heading) + Markup("</span>")) for s in doc.sections]
    if doc.redline_base is not None or doc.redline:
        toc.append(("#redline", escape(_changes_since(doc))))
    if options.annex:
        toc.append(("#annex", escape(_("Annex: amendments"))))
        if doc.votes:
            toc.append(("#votes", escape(_("Annex: votes"))))
    if options.contributors:
        toc.append(("#contributors", escape(_("Contributors"))))
    parts.append(f'<nav class="toc"><h2>{escape(contents)}</h2><ol>')
    parts.extend(f'<li><a href="{href}">{label}</a></li>' for href, label in toc)
    parts.append("</ol></nav>")

    if doc.introduction_html:
        parts.append(f'<section class="intro prose" lang="{text_lang}">{doc.introduction_html}</section>')
    for section in doc.sections:
        parts.extend(_section_html(section, options.line_numbers, text_lang))
    if not doc.sections:
        empty = _("This document has no sections yet.")
        parts.append(f"<p>{escape(empty)}</p>")
    if doc.redline_base is not None or doc.redline:
        parts.extend(_redline_html(doc))
    if options.annex:
        parts.extend(_annex_html(doc))
    if options.contributors:
        parts.extend(_contributors_html(doc))
    parts.append("</body></html>")
    return _clean("".join(parts))


# ------------------------------------------------------------------ rendering

def _refuse_fetch(url: str, *args, **kwargs):
    """Fetch nothing: the PDF is made from the export alone, never from the network or the disk."""
    raise ValueError(f"PDF export fetches no resources ({url[:80]})")


def _url_fetcher():
    """WeasyPrint's fetcher, refusing every URL (a URLFetcher subclass where the version has that class)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint before 68 takes a plain function
        return _refuse_fetch

    class RefusingFetcher(URLFetcher):
        """Fetches nothing at all."""

        def fetch(self, url, headers=None):
            """Refuse: nothing outside the export goes into the PDF."""
            return _refuse_fetch(url)

    return RefusingFetcher()


def estimate_pages(doc: ExportDocument) -> int:
    """Roughly how many pages the PDF will have (for progress bars; the real count replaces it)."""
    lines = sum(max(1, len(section.lines)) + 3 for section in doc.sections)
    annex = len(doc.annex) // 12 if doc.options.annex else 0
    redline = sum(len(entry.diff_html) for entry in doc.redline) // 4000
    return 2 + lines // LINES_PER_PAGE + annex + redline + (1 if doc.options.contributors else 0)


_PAGE_MESSAGE = re.compile(r"Step 5 - Creating layout - Page (\d+)")
_progress_lock = threading.Lock()


class _ProgressHandler(logging.Handler):
    """Turns WeasyPrint's progress log of one thread into calls of a progress callback."""

    def __init__(self, progress: Progress, total: int):
        super().__init__(logging.INFO)
        self.progress, self.total, self.done = progress, total, 0
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        """Report each page as it is laid out (only this render's, not another thread's)."""
        if record.thread != self.thread:
            return
        match = _PAGE_MESSAGE.match(record.getMessage())
        if match:
            page = int(match.group(1))
            self.done = max(self.done, page)
            self.total = max(self.total, self.done + 1)
            self.progress(f"Laying out page {page}", self.done, self.total)


@contextmanager
def _listening(progress: Progress | None, total: int) -> Iterator[_ProgressHandler | None]:
    """Listen to WeasyPrint's page-by-page log while the block runs."""
    if progress is None:
        yield None
        return
    from weasyprint import PROGRESS_LOGGER

    handler = _ProgressHandler(progress, total)
    with _progress_lock:
        # Its progress messages are for us; nobody else's log needs a line per page.
        PROGRESS_LOGGER.setLevel(logging.INFO)
        PROGRESS_LOGGER.propagate = False
        PROGRESS_LOGGER.addHandler(handler)
    try:
        yield handler
    finally:
        with _progress_lock:
            PROGRESS_LOGGER.removeHandler(handler)


@register("pdf", reports_progress=True)
def render_pdf(doc: ExportDocument, progress: Progress | None = None) -> bytes:
    """Typeset the export as a PDF; ``progress(stage, done, total)`` hears how far it got.

    :raises PdfUnavailable: when WeasyPrint cannot run here (missing system libraries).
    """
    if pdf_unavailable_reason() is not None:
        # Lazy: worded where it is read (a job row stores it in English; a page shows it in its reader's language).
        raise PdfUnavailable(INSTALL_HINT)
    import weasyprint
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    total = estimate_pages(doc)
    if progress:
        progress("Preparing the text", 0, total)
    html = build_html(doc)
    with in_language(doc):
        footer = page_css()
    fonts = FontConfiguration()
    fetcher = _url_fetcher()
    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8") + "\n" + footer, font_config=fonts,
                     url_fetcher=fetcher)
    with _listening(progress, total):
        rendered = HTML(string=html, url_fetcher=fetcher).render(stylesheets=[stylesheet], font_config=fonts)
    pages = len(rendered.pages)
    if progress:
        progress("Writing the PDF", pages, pages + 1)
    # A tagged PDF: screen readers get headings, paragraphs and reading order (about 10% more time).
    options = {"pdf_tags": True} if "pdf_tags" in getattr(weasyprint, "DEFAULT_OPTIONS", {}) else {}
    data = rendered.write_pdf(**options)
    if progress:
        progress("Done", pages + 1, pages + 1)
    return data
