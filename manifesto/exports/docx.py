"""Word export (python-docx): structure carried by real styles, so the secretariat restyles it in one place.

The title is in ``Title``, the edition in ``Subtitle``, each section's
heading in ``Heading 1`` and a body's own headings in ``Heading 2`` and
below; list items use ``List Bullet`` / ``List Number`` (``2`` and ``3``
for nested lists; every numbered list restarts at its own first number),
quotes ``Quote``, code ``macro`` (Word's "Macro Text"), tables ``Table
Grid``. Bold, italics, links and struck-through words inside a paragraph
are character styles (``Strong``, ``Emphasis``, ``Hyperlink``) or run
properties; nothing structural is direct formatting. A table of contents
field lists the sections (Word fills in page numbers when it updates
fields on opening).

Line numbers, when asked, are the screen's numbers, not Word's own line
numbering: Word counts the lines it lays out itself, with its own fonts
and margins, so its numbers drift from the ones amendments cite. Each
block (paragraph, list item, heading) stays one paragraph in its style;
each stored line inside it starts with its number in the character style
``Line Number`` and a tab, and ends with a line break, so "line 12" holds
the same words in Word as on the screen even if Word has to wrap a long
line. List items keep their bullet or number as text there (it is part of
the numbered line), in ``List Continue`` styles that indent without
adding a second bullet.

Characters XML cannot hold (control characters) are dropped: they would
make the file unreadable.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from flask_babel import gettext as _

from ..documents.models import NumberedLine
from .document import ExportDocument
from .formats import Progress, register
from .fragments import clean, collapse, html_segments, plain_paragraphs
from .labels import change_label, edition_label, in_language, unchanged_label

__all__ = ["render"]

_HEADING_STYLES = {"h1": "Heading 2", "h2": "Heading 2", "h3": "Heading 2", "h4": "Heading 3", "h5": "Heading 4",
                   "h6": "Heading 5"}
_INLINE = {"strong", "b", "em", "i", "del", "s", "code", "ins", "a"}


def _after(previous: Run | None, words: str) -> str:
    """``words`` (white space collapsed) as they go on after the run ``previous`` (None: at a line's start).

    A browser shows no space at the start of a line nor after another
    space, whichever inline element holds it; the space itself stays in
    the run it was typed in, outside a link or a bold word that follows.
    """
    if words.startswith(" ") and (previous is None or previous.text.endswith(" ")):
        return words[1:]
    return words


def _end_line(last: Run | None) -> None:
    """Drop the space a line ends with, from the run that holds it (a browser does not show it)."""
    if last is not None and last.text.endswith(" "):
        last.text = last.text.rstrip(" ")


def _list_style(kind: str, depth: int) -> str:
    """The Word list style of a list item at ``depth`` (1 = top level; Word's template goes to 3)."""
    base = "List Number" if kind == "ol" else "List Bullet"
    level = min(max(depth, 1), 3)
    return base if level == 1 else f"{base} {level}"


def _continue_style(depth: int) -> str:
    """The style of a list item's further paragraphs (no second bullet)."""
    level = min(max(depth, 1), 3)
    return "List Continue" if level == 1 else f"List Continue {level}"


class _Writer:
    """Builds one Word document from an ExportDocument."""

    def __init__(self, doc: ExportDocument) -> None:
        """Start from python-docx's default template, with the few styles it lacks."""
        self.doc = doc
        self.word = docx.Document()
        self._style_ids: dict[str, str] = {}
        self._end = self.word.element.body.sectPr  # new paragraphs go right before it
        self._abstract_nums: dict[str, int] = {}
        self._prepare()

    # ------------------------------------------------------------------ setup
    def _prepare(self) -> None:
        """Page, language, metadata and the extra styles (line numbers, links, inserted text, contents)."""
        section = self.word.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin = section.bottom_margin = Cm(2.2)
        properties = self.word.core_properties
        properties.title = clean(self.doc.title)[:250]
        properties.subject = clean(edition_label(self.doc))[:250]
        properties.language = self.doc.language
        properties.author = "Manifesto"
        properties.comments = ""
        # The text's language, for spelling and hyphenation: on the default run properties (a style, not a run).
        defaults = self.word.styles.element.find(qn("w:docDefaults"))
        if defaults is not None:
            run_defaults = defaults.find(qn("w:rPrDefault"))
            rpr = run_defaults.find(qn("w:rPr")) if run_defaults is not None else None
            if rpr is not None:
                lang = rpr.find(qn("w:lang"))
                if lang is None:
                    lang = OxmlElement("w:lang")
                    rpr.append(lang)
                lang.set(qn("w:val"), self.doc.language)
        styles = self.word.styles
        number = styles.add_style("Line Number", WD_STYLE_TYPE.CHARACTER)
        number.base_style = styles["Default Paragraph Font"]
        number.font.size = Pt(8)
        number.font.bold = False
        number.font.italic = False
        number.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
        link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
        link.font.underline = True
        link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
        inserted = styles.add_style("Inserted Text", WD_STYLE_TYPE.CHARACTER)
        inserted.font.underline = True
        deleted = styles.add_style("Deleted Text", WD_STYLE_TYPE.CHARACTER)
        deleted.font.strike = True
        toc = styles.add_style("TOC 1", WD_STYLE_TYPE.PARAGRAPH)
        toc.base_style = styles["Normal"]
        toc.paragraph_format.space_after = Pt(2)

    def save(self) -> bytes:
        """The .docx file's bytes."""
        out = io.BytesIO()
        self.word.save(out)
        return out.getvalue()

    # ---------------------------------------------------------------- helpers
    def style_id(self, name: str | None) -> str | None:
        """The id of a style by name, looked up once (python-docx scans every style on each lookup)."""
        if name is None or name == "Normal":
            return None
        if name not in self._style_ids:
            self._style_ids[name] = self.word.styles[name].style_id
        return self._style_ids[name]

    def new_paragraph(self, style: str = "Normal", text: str = ""):
        """Add an empty (or plain) paragraph in ``style``, at the end of the body.

        Inserted right before the body's closing section properties, which
        python-docx would look for among every paragraph each time (quadratic
        on a 3,600-amendment annex).
        """
        element = OxmlElement("w:p")
        self._end.addprevious(element)
        paragraph = Paragraph(element, self.word._body)
        if text:
            self.run(paragraph, text)
        style_id = self.style_id(style)
        if style_id:
            paragraph._p.style = style_id
        return paragraph

    def run(self, paragraph, text: str = "", style: str | None = None):
        """Add a run of ``text`` to ``paragraph`` in the character style ``style``.

        Built with lxml directly: python-docx's own run API costs several times
        more, which tells on a 450,000-character text.
        """
        text = clean(text)
        style_id = self.style_id(style)
        if "\t" in text or "\n" in text:  # tabs and breaks are elements of their own: python-docx makes them
            run = paragraph.add_run(text)
            if style_id:
                run._r.style = style_id
            return run
        element = OxmlElement("w:r")
        if style_id:
            properties = OxmlElement("w:rPr")
            style_element = OxmlElement("w:rStyle")
            style_element.set(qn("w:val"), style_id)
            properties.append(style_element)
            element.append(properties)
        if text:
            text_element = OxmlElement("w:t")
            text_element.text = text
            if text[:1].isspace() or text[-1:].isspace():
                text_element.set(qn("xml:space"), "preserve")
            element.append(text_element)
        paragraph._p.append(element)
        return Run(element, paragraph)

    def paragraph(self, text: str = "", style: str = "Normal"):
        """Add a paragraph of plain text in ``style``."""
        return self.new_paragraph(style, text)

    def labelled(self, label: str, value: str) -> None:
        """A "Label: value" paragraph (``label`` ends with its colon), the label in Strong; more paragraphs follow."""
        paragraphs = plain_paragraphs(value)
        if not paragraphs:
            return
        paragraph = self.new_paragraph()
        self.run(paragraph, f"{label} ", "Strong")
        self.run(paragraph, paragraphs[0])
        for more in paragraphs[1:]:
            self.paragraph(more)

    def restart_numbering(self, paragraph, style: str, start: int) -> None:
        """Make an ordered list start again at ``start`` (Word would otherwise continue the previous list)."""
        numbering = self.word.part.numbering_part.element
        if style not in self._abstract_nums:
            style_num = self.word.styles[style].element.pPr.numPr.numId.val
            self._abstract_nums[style] = numbering.num_having_numId(style_num).abstractNumId.val
        num = numbering.add_num(self._abstract_nums[style])
        num.add_lvlOverride(ilvl=0).add_startOverride(start)
        numbers = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numbers.get_or_add_ilvl().val = 0
        numbers.get_or_add_numId().val = num.numId
        return num.numId

    def add_hyperlink(self, paragraph, href: str):
        """A w:hyperlink element in ``paragraph`` pointing at ``href``; runs are moved into it."""
        rel = paragraph.part.relate_to(clean(href), RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
        element = OxmlElement("w:hyperlink")
        element.set(qn("r:id"), rel)
        paragraph._p.append(element)
        return element

    def contents(self) -> None:
        """A table of contents field whose shown result already lists the sections."""
        self.paragraph(_("Contents"), "TOC Heading")
        entries = [f"§{section.number} {section.heading}" for section in self.doc.sections] or [_("(no sections)")]
        for index, entry in enumerate(entries):
            paragraph = self.new_paragraph("TOC 1")
            if index == 0:
                for kind, text in (("begin", None), (None, ' TOC \\o "1-1" \\h \\z \\u '), ("separate", None)):
                    run = paragraph.add_run()
                    if kind:
                        field = OxmlElement("w:fldChar")
                        field.set(qn("w:fldCharType"), kind)
                        run._r.append(field)
                    else:
                        instruction = OxmlElement("w:instrText")
                        instruction.set(qn("xml:space"), "preserve")
                        instruction.text = text
                        run._r.append(instruction)
            self.run(paragraph, entry)
            if index == len(entries) - 1:
                field = OxmlElement("w:fldChar")
                field.set(qn("w:fldCharType"), "end")
                paragraph.add_run()._r.append(field)

    # ------------------------------------------------------------------- text
    def html(self, fragment: str, base_style: str = "Normal") -> None:
        """Add a sanitised HTML fragment (a body, the introduction, a diff) as styled paragraphs."""
        converter = _HtmlToDocx(self, base_style)
        converter.feed(clean(fragment))
        converter.close()
        converter.finish()

    def numbered(self, lines: list[NumberedLine]) -> None:
        """Add a section's numbered lines: a paragraph per block in its style, each line prefixed by its number."""
        paragraph = None
        for index, line in enumerate(lines):
            if paragraph is None or line.starts_block:
                paragraph = self.new_paragraph(self._line_style(line))
            elif index:
                paragraph.add_run().add_break(WD_BREAK.LINE)
            self.run(paragraph, str(line.number), "Line Number")
            self.run(paragraph, "\t")
            inline = _InlineToDocx(self, paragraph)
            inline.feed(clean(line.html) if line.html else "")
            inline.close()
            if not line.html:
                self.run(paragraph, clean(line.text).replace("\n", " "))

    @staticmethod
    def _line_style(line: NumberedLine) -> str:
        """The paragraph style of a numbered block."""
        if line.block in _HEADING_STYLES:
            return _HEADING_STYLES[line.block]
        if line.block == "li":
            return _continue_style(line.depth)
        if line.block == "quote":
            return "Quote"
        if line.block == "code":
            return "macro"
        return "Normal"

    # ------------------------------------------------------------------ parts
    def write(self, progress: Progress | None = None) -> None:
        """Write the whole document, reporting progress section by section."""
        doc = self.doc
        total = len(doc.sections) + (1 if doc.redline else 0) + (1 if doc.options.annex else 0)
        self.paragraph(doc.title, "Title")
        self.paragraph(edition_label(doc), "Subtitle")
        if doc.is_final:
            self.paragraph(_("Final text"), "Subtitle")
        if doc.introduction_html:
            self.html(doc.introduction_html)
        self.contents()
        for done, section in enumerate(doc.sections, start=1):
            self.paragraph(f"§{section.number} {section.heading}", "Heading 1")
            if doc.options.line_numbers:
                if section.lines:
                    self.paragraph(_("Lines %(first)s–%(last)s", first=section.lines[0].number,
                                     last=section.lines[-1].number), "Caption")
                self.numbered(section.lines)
            else:
                self.html(section.body_html)
            if progress:
                progress("sections", done, total)
        if doc.redline:
            self.redline()
            if progress:
                progress("redline", len(doc.sections) + 1, total)
        if doc.options.annex:
            self.annex()
            if progress:
                progress("annex", total, total)
        if doc.options.contributors:
            self.contributors()

    def redline(self) -> None:
        """The changes since the earlier release: each changed section's word diff and adopted amendments."""
        doc = self.doc
        if doc.redline_base:
            self.paragraph(_("Changes since %(release)s", release=doc.redline_base), "Heading 1")
        else:
            self.paragraph(_("Changes since the earlier release"), "Heading 1")
        self.paragraph(_("Inserted words are underlined, deleted words struck through."))
        unchanged = 0
        for change in doc.redline:
            if change.change == "unchanged":
                unchanged += 1
                continue
            number = change.number if change.number is not None else change.old_number
            self.paragraph(f"§{number} {change.heading}", "Heading 2")
            paragraph = self.new_paragraph()
            self.run(paragraph, change_label(change), "Strong")
            for segments in html_segments(change.diff_html):
                paragraph = self.new_paragraph()
                for mark, text in segments:
                    self.run(paragraph, text, {"ins": "Inserted Text", "del": "Deleted Text"}.get(mark))
            if change.amendments:
                self.labelled(_("Amendments adopted:"), ", ".join(change.amendments))
        if unchanged:
            self.paragraph(unchanged_label(unchanged, doc.labels_language))

    def annex(self) -> None:
        """The annex: every public amendment with its section, lines, author, status and reason."""
        self.paragraph(_("Annex: amendments"), "Heading 1")
        if not self.doc.annex:
            self.paragraph(_("No amendments were submitted."))
        for entry in self.doc.annex:
            self.paragraph(f"{entry.code}: {entry.kind}" if entry.kind else entry.code, "Heading 2")
            self.labelled(_("Section:"), entry.section)
            self.labelled(_("Lines:"), entry.lines)
            self.labelled(_("Author:"), entry.author)
            self.labelled(_("Status:"), entry.status)
            self.labelled(_("Reason:"), entry.reason)
        if self.doc.votes:
            self.paragraph(_("Annex: votes"), "Heading 1")
        for vote in self.doc.votes:
            self.paragraph(vote.question, "Heading 2")
            self.labelled(_("Vote on:"), vote.subject)
            self.labelled(_("Kind of vote:"), vote.kind)
            self.labelled(_("Counted:"), vote.rule)
            self.labelled(_("Votes:"), _("%(yes)s yes, %(no)s no, %(abstain)s abstain", yes=vote.yes, no=vote.no,
                                         abstain=vote.abstain))
            self.labelled(_("Result:"), f"{vote.result} {vote.why}")
            if vote.roll:
                self.labelled(_("Who voted how:"), "; ".join(f"{name}: {choice}" for name, choice in vote.roll))

    def contributors(self) -> None:
        """The people who agreed to be named."""
        self.paragraph(_("Contributors"), "Heading 1")
        if not self.doc.contributors:
            self.paragraph(_("Nobody has asked to be named yet."))
            return
        self.paragraph(_("These people took part and agreed to be named:"))
        for person in self.doc.contributors:
            self.paragraph(person, "List Bullet")


class _InlineToDocx(HTMLParser):
    """Inline HTML (a numbered line's formatting) as runs of one paragraph."""

    def __init__(self, writer: _Writer, paragraph) -> None:
        """Add runs to ``paragraph``."""
        super().__init__(convert_charrefs=True)
        self.writer = writer
        self.paragraph = paragraph
        self.marks: list[str] = []
        self.link = None  # the open w:hyperlink element
        self.hidden = 0
        self.last: Run | None = None  # the last run of text on the current line (None at its start)

    def handle_starttag(self, tag, attrs):
        """Open a mark, a link or a line break."""
        attributes = dict(attrs)
        if tag == "span" and (self.hidden or "visually-hidden" in (attributes.get("class") or "").split()):
            self.hidden += 1
        elif tag == "br":
            self.line_break()
        elif tag in _INLINE:
            self.marks.append(tag)
            if tag == "a" and attributes.get("href") and self.link is None:
                self.link = self.writer.add_hyperlink(self.paragraph, attributes["href"])

    def handle_endtag(self, tag):
        """Close a mark or a link."""
        if tag == "span" and self.hidden:
            self.hidden -= 1
        elif tag in _INLINE and tag in self.marks:
            index = len(self.marks) - 1 - self.marks[::-1].index(tag)
            del self.marks[index]
            if tag == "a" and "a" not in self.marks:
                self.link = None

    def handle_data(self, data):
        """Add a run with the open marks."""
        if self.hidden or not data:
            return
        self.add_text(data)

    def line_break(self) -> None:
        """End the line here: without the space it ended with, the next words at the start of a new line."""
        _end_line(self.last)
        self.paragraph.add_run().add_break(WD_BREAK.LINE)
        self.last = None

    def add_words(self, words: str) -> None:
        """Words whose white space is collapsed (a space at either end at most), spaced as a browser spaces them."""
        words = _after(self.last, words)
        if words:
            self.add_text(words)

    def end(self) -> None:
        """End the paragraph without the space it ended with."""
        _end_line(self.last)
        self.last = None

    def add_text(self, text: str) -> None:
        """One run of ``text`` in the current marks, as it is (code keeps its spaces)."""
        marks = set(self.marks)
        style = None
        if "a" in marks and self.link is not None:
            style = "Hyperlink"
        elif "code" in marks:
            style = "Macro Text Char"
        elif "strong" in marks or "b" in marks:
            style = "Strong"
        elif "em" in marks or "i" in marks:
            style = "Emphasis"
        elif "ins" in marks:
            style = "Inserted Text"
        run = self.writer.run(self.paragraph, text, style)
        if ("strong" in marks or "b" in marks) and style not in (None, "Strong"):
            run.bold = True
        if ("em" in marks or "i" in marks) and style not in (None, "Emphasis"):
            run.italic = True
        if "del" in marks or "s" in marks:
            run.font.strike = True
        if style == "Hyperlink" and self.link is not None:
            self.link.append(run._r)
        if text:
            self.last = run


class _HtmlToDocx(HTMLParser):
    """Block HTML (a sanitised body) as paragraphs in Word styles, tables as Word tables."""

    def __init__(self, writer: _Writer, base_style: str) -> None:
        """Add paragraphs to ``writer``'s document; plain paragraphs get ``base_style``."""
        super().__init__(convert_charrefs=True)
        self.writer = writer
        self.base_style = base_style
        self.inline: _InlineToDocx | None = None  # the open paragraph's run writer
        self.lists: list[list] = []  # [kind, start, numId or None, depth]
        self.items: list[dict] = []  # open <li>: {"paragraphs": n, "kind": ..., "depth": ...}
        self.quote = 0
        self.pre = 0
        self.heading: str | None = None
        self.table: list[list[list[tuple[frozenset, str]]]] | None = None  # rows of cells of (marks, text)
        self.header_rows: set[int] = set()
        self.cell: list[tuple[frozenset, str]] | None = None
        self.cell_marks: list[str] = []
        self.hidden = 0

    # ------------------------------------------------------------ paragraphs
    def _close(self) -> None:
        """End the open paragraph, without the space that ended its last run (in a link or not)."""
        if self.inline is not None and not self.pre:
            self.inline.end()
        self.inline = None

    def _style(self) -> tuple[str, bool]:
        """The style of a new paragraph here, and whether it starts a list item (gets the bullet)."""
        if self.heading:
            return _HEADING_STYLES[self.heading], False
        if self.pre:
            return "macro", False
        if self.items:
            item = self.items[-1]
            if item["paragraphs"] == 0:
                return _list_style(item["kind"], item["depth"]), True
            return _continue_style(item["depth"]), False
        if self.quote:
            return "Quote", False
        return self.base_style, False

    def _open(self) -> _InlineToDocx:
        """The open paragraph's run writer, starting a paragraph when none is open."""
        if self.inline is None:
            style, first_of_item = self._style()
            paragraph = self.writer.new_paragraph(style)
            if first_of_item:
                item = self.items[-1]
                item["paragraphs"] += 1
                current = self.lists[-1] if self.lists else None
                if current is not None and current[0] == "ol":
                    if current[2] is None:
                        current[2] = self.writer.restart_numbering(paragraph, style, current[1])
                    else:
                        numbers = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                        numbers.get_or_add_ilvl().val = 0
                        numbers.get_or_add_numId().val = current[2]
            elif self.items:
                self.items[-1]["paragraphs"] += 1
            self.inline = _InlineToDocx(self.writer, paragraph)
        return self.inline

    # ------------------------------------------------------------------ tags
    def handle_starttag(self, tag, attrs):
        """Open blocks, lists, tables and inline marks."""
        if self.hidden or (tag == "span" and "visually-hidden" in (dict(attrs).get("class") or "").split()):
            if tag == "span":
                self.hidden += 1
            return
        if self.table is not None:
            self._table_start(tag, attrs)
            return
        if tag in ("p", "div"):
            self._close()
        elif tag in _HEADING_STYLES:
            self._close()
            self.heading = tag
        elif tag in ("ul", "ol"):
            self._close()
            start = dict(attrs).get("start") or "1"
            self.lists.append([tag, int(start) if start.isdigit() and int(start) < 10**6 else 1, None,
                               len(self.lists) + 1])
        elif tag == "li":
            self._close()
            kind, _, _, depth = self.lists[-1] if self.lists else ("ul", 1, None, 1)
            self.items.append({"paragraphs": 0, "kind": kind, "depth": depth})
        elif tag == "blockquote":
            self._close()
            self.quote += 1
        elif tag == "pre":
            self._close()
            self.pre += 1
        elif tag == "hr":
            self._close()
            self.writer.new_paragraph(self.base_style, "* * *")
        elif tag == "table":
            self._close()
            self.table, self.header_rows = [], set()
        elif tag == "br":
            self._open().handle_starttag(tag, attrs)
        elif tag in _INLINE:
            self._open().handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        """Close blocks, lists, tables and inline marks."""
        if self.hidden:
            if tag == "span":
                self.hidden -= 1
            return
        if self.table is not None:
            self._table_end(tag)
            return
        if tag in ("p", "div"):
            self._close()
        elif tag in _HEADING_STYLES:
            self._close()
            self.heading = None
        elif tag in ("ul", "ol"):
            self._close()
            if self.lists:
                self.lists.pop()
        elif tag == "li":
            self._close()
            if self.items:
                self.items.pop()
        elif tag == "blockquote":
            self._close()
            self.quote = max(0, self.quote - 1)
        elif tag == "pre":
            self._close()
            self.pre = max(0, self.pre - 1)
        elif tag in _INLINE and self.inline is not None:
            self.inline.handle_endtag(tag)

    def handle_data(self, data):
        """Add text to the open paragraph (or table cell); white space between blocks is dropped."""
        if self.hidden:
            return
        if self.table is not None:
            if self.cell is not None:
                self.cell.append((frozenset(self.cell_marks), data))
            return
        if self.pre:
            lines = data.rstrip("\n").split("\n") if self.inline is None else data.split("\n")
            inline = self._open()
            for index, line in enumerate(lines):
                if index:
                    inline.paragraph.add_run().add_break(WD_BREAK.LINE)
                if line:
                    inline.add_text(line)
            return
        words = collapse(data)
        if words == " " and self.inline is None:
            return  # white space between blocks
        if words:
            self._open().add_words(words)

    # ----------------------------------------------------------------- tables
    def _table_start(self, tag, attrs):
        """Rows and cells of a table; marks inside cells."""
        if tag == "tr":
            self.table.append([])
        elif tag in ("td", "th"):
            if not self.table:
                self.table.append([])
            self.cell, self.cell_marks = [], (["strong"] if tag == "th" else [])
            if tag == "th":
                self.header_rows.add(len(self.table) - 1)
        elif tag in _INLINE:
            self.cell_marks.append(tag)
        elif tag == "br" and self.cell is not None:
            self.cell.append((frozenset(self.cell_marks), " "))

    def _table_end(self, tag):
        """End a cell, or the table (then write it)."""
        if tag in ("td", "th"):
            if self.cell is not None and self.table:
                self.table[-1].append(self.cell)
            self.cell = None
            self.cell_marks = []
        elif tag in _INLINE and tag in self.cell_marks:
            self.cell_marks.remove(tag)
        elif tag == "table":
            rows, header_rows = self.table, self.header_rows
            self.table, self.cell = None, None
            self._write_table(rows, header_rows)

    def _write_table(self, rows, header_rows) -> None:
        """A Word table in "Table Grid", header cells in Strong."""
        rows = [row for row in rows if row]
        if not rows:
            return
        columns = max(len(row) for row in rows)
        table = self.writer.word.add_table(rows=0, cols=columns)
        table.style = self.writer.word.styles["Table Grid"]
        for index, row in enumerate(rows):
            added = table.add_row()
            cells = added.cells
            for cell, content in zip(cells, row):
                paragraph = cell.paragraphs[0]
                last = None
                for marks, text in content:
                    words = _after(last, collapse(clean(text)))
                    if not words:
                        continue
                    style = "Strong" if "strong" in marks or "b" in marks else \
                        "Emphasis" if "em" in marks or "i" in marks else None
                    last = self.writer.run(paragraph, words, style)
                    if "del" in marks or "s" in marks:
                        last.font.strike = True
                _end_line(last)
            if index in header_rows:
                trPr = added._tr.get_or_add_trPr()
                header = OxmlElement("w:tblHeader")
                trPr.append(header)

    def finish(self) -> None:
        """Write a table left open by malformed input."""
        if self.table is not None:
            rows, header_rows = self.table, self.header_rows
            self.table = None
            self._write_table(rows, header_rows)


@register("docx", reports_progress=True)
def render(doc: ExportDocument, progress: Progress | None = None) -> bytes:
    """The .docx file of ``doc``; ``progress(stage, done, total)`` is called as sections are written."""
    with in_language(doc):
        writer = _Writer(doc)
        writer.write(progress)
        return writer.save()
