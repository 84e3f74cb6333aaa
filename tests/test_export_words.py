"""Every format shows the words the reading page shows, at every inline boundary: text, emphasis, strong, code,
links and line breaks, next to each other with or without a space between them.

The screen's words are read from the reading page's own rendering of the Markdown (``render_markdown``) by a
parser of this file, not by the exports' own; each format's file is taken apart the way a person reads it
(python-docx, the text file's lines, the HTML file's section, the PDF's extracted text).
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import docx
import pytest
from docx.text.run import Run
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from manifesto import create_app
from manifesto.documents.models import NumberedLine
from manifesto.exports import formats
from manifesto.exports.document import ExportDocument, ExportSection
from manifesto.exports.fragments import html_to_text
from manifesto.exports.options import ExportOptions
from manifesto.text.lines import layout
from manifesto.text.render import render_markdown

from harness import _config, require_pdf

HEADING = "Words"
# A list item's bullet or number, which the numbered formats print as text and the reading page draws.
BULLET = re.compile(r"^(?:[\u2022\u25e6\u25aa]|\d+[.)])$")

# Each inline boundary the issue names, in a list item and in a paragraph, the words on both sides.
BOUNDARIES = {
    "link after text": "- *Soberanía* alimentaria con [pequeños productores](https://example.org/p)",
    "text after link": "[Pequeños productores](https://example.org/p) y consumidores",
    "emphasis": "Before *in italics* after, and *end*",
    "strong": "Before **in bold** after, and **end**",
    "code": "Before `some code` after, and `end`",
    "line break": "First line\\\nsecond line  \nthird line",
    "break after a link": "A [link](https://example.org/l)\\\nnext line",
    "glued": "no*space*around**bold**`code`[link](https://example.org/g)end",
    "everything": ("- one *two* **three** `four` [five](https://example.org/5)\\\nsix *seven*\n"
                   "- eight [nine](https://x.org) ten"),
}


@pytest.fixture(scope="module")
def app(instance_path):
    """One app for the whole module: exports read no database, they need the app only for their language."""
    app = create_app(_config("sqlite://"))
    with app.app_context():
        yield app


class _ScreenBlocks(HTMLParser):
    """The words of each block (paragraph, list item, heading) of an HTML fragment, as a browser shows them."""

    BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "div", "table", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = []
        self.text: list[str] = []

    def flush(self) -> None:
        words = "".join(self.text).split()
        if words:
            self.blocks.append(words)
        self.text = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.flush()
        elif tag == "br":
            self.text.append(" ")

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.flush()

    def handle_data(self, data):
        self.text.append(data)


def screen_words(fragment: str) -> list[list[str]]:
    """The words of each block of ``fragment`` (sanitised HTML, as on the reading page)."""
    parser = _ScreenBlocks()
    parser.feed(fragment)
    parser.close()
    parser.flush()
    return parser.blocks


def _without_bullets(blocks: list[list[str]]) -> list[list[str]]:
    """Blocks without the bullet or number a list item starts with (drawn, not typed)."""
    return [block[1:] if block and BULLET.match(block[0]) else block for block in blocks]


def export_of(body: str, line_numbers: bool = False) -> ExportDocument:
    """An export of one section whose body is ``body``, laid out by the text engine as the site lays it out."""
    stored = layout(body)
    lines = [NumberedLine(line.number, view.text, view.starts_block, view.html, view.block, view.depth)
             for line, view in zip(stored.lines, stored.views, strict=True)]
    section = ExportSection(number=1, heading=HEADING, body=body, body_html=render_markdown(body), first_line=1,
                            lines=lines, section_id=1, version_number=1)
    return ExportDocument(slug="words", title="Words", introduction_html="", language="en", release_name=None,
                          date=datetime(2026, 11, 30, tzinfo=timezone.utc), is_final=False, sections=[section],
                          options=ExportOptions(line_numbers=line_numbers))


# --------------------------------------------------------------- each format's words

def _docx_words(data: bytes) -> list[list[str]]:
    """The words of each paragraph of the section, without the line numbers Word shows in their own style."""
    word = docx.Document(io.BytesIO(data))
    paragraphs = word.paragraphs
    start = next(index for index, p in enumerate(paragraphs) if p.style.name == "Heading 1") + 1
    blocks = []
    for paragraph in paragraphs[start:]:
        if paragraph.style.name == "Caption":
            continue  # "Lines 1–3"
        text = []
        for item in paragraph.iter_inner_content():
            runs = [item] if isinstance(item, Run) else item.runs
            text += [run.text for run in runs if run.style is None or run.style.name != "Line Number"]
        words = "".join(text).split()
        if words:
            blocks.append(words)
    return _without_bullets(blocks)


def _text_words(data: bytes, line_numbers: bool) -> list[list[str]]:
    """The words of each block of the section in the text file: blocks are separated by blank lines."""
    lines = data.decode().split("\n")
    start = lines.index("-" * len(f"1. {HEADING}")) + 1
    blocks, current = [], []
    for line in lines[start:]:
        if line.startswith("Lines "):
            continue
        if not line.strip():
            if current:
                blocks.append(current)
            current = []
            continue
        words = line.split()
        current += words[1:] if line_numbers else words
    if current:
        blocks.append(current)
    return _without_bullets(blocks)


def _html_words(data: bytes, line_numbers: bool) -> list[list[str]]:
    """The words of each block of the section in the HTML file (numbered lines grouped by their blocks)."""
    page = data.decode()
    section = page[page.index('<section id="section-1"'):]
    section = section[:section.index("</section>")]
    if not line_numbers:
        return screen_words(section)[1:]  # after the heading
    blocks = []
    line = re.compile(r'<div class="line ([^"]*)"><span class="ln">\d+</span> <span class="lt">(.*?)</span></div>')
    for match in line.finditer(section):
        words = [word for block in screen_words(match.group(2)) for word in block]
        if "starts" in match.group(1).split() or not blocks:
            blocks.append(words)
        else:
            blocks[-1] += words
    return _without_bullets([block for block in blocks if block])


def _markdown_words(data: bytes) -> list[list[str]]:
    """The words of the section's body in the Markdown file, as any Markdown reader would show them."""
    text = data.decode()
    body = text[text.index(f"## 1. {HEADING}") + len(f"## 1. {HEADING}"):]
    return screen_words(render_markdown(body))


def words_of(fmt: str, doc: ExportDocument) -> list[list[str]]:
    """The words of each block of the section's body in ``doc`` rendered as ``fmt``."""
    data = formats.render(fmt, doc)
    numbers = doc.options.line_numbers
    if fmt == "docx":
        return _docx_words(data)
    if fmt == "txt":
        return _text_words(data, numbers)
    if fmt == "html":
        return _html_words(data, numbers)
    return _markdown_words(data)


FORMATS = [(fmt, numbers) for fmt in ("docx", "txt", "html") for numbers in (False, True)] + [("md", False)]


@pytest.mark.parametrize("fmt,line_numbers", FORMATS, ids=[f"{f}{'-lines' if n else ''}" for f, n in FORMATS])
@pytest.mark.parametrize("body", list(BOUNDARIES.values()), ids=list(BOUNDARIES))
def test_every_boundary_keeps_the_words_of_the_screen(app, body, fmt, line_numbers):
    doc = export_of(body, line_numbers)
    assert words_of(fmt, doc) == screen_words(doc.sections[0].body_html)


def test_the_pdf_keeps_the_words_of_the_screen_at_every_boundary(app):
    """Text extraction joins the PDF's lines, so each block's words are looked for in the whole text, in order."""
    require_pdf()
    for line_numbers in (False, True):
        docs = [export_of(body, line_numbers) for body in BOUNDARIES.values()]
        for doc in docs:
            data = formats.render("pdf", doc)
            shown = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
            if line_numbers:  # the margin's numbers stand between lines
                shown = re.sub(r"(?m)^\s*\d+\s+", " ", shown)
            shown = re.sub("[\u2022\u25e6\u25aa]", " ", shown)  # bullets, drawn where the extractor likes
            shown = " " + " ".join(shown.split()) + " "
            for block in screen_words(doc.sections[0].body_html):
                assert " " + " ".join(block) + " " in shown, (block, shown)


def test_the_reported_list_item_keeps_its_space_before_the_link_in_word(app):
    """The list item of the report: Word showed "conpequeños"; the space now stays in the run before the link."""
    data = formats.render("docx", export_of(BOUNDARIES["link after text"]))
    word = docx.Document(io.BytesIO(data))
    item = next(p for p in word.paragraphs if p.style.name == "List Bullet")
    assert item.text == "Soberanía alimentaria con pequeños productores"
    plain = [run.text for run in item.runs]
    assert plain == ["Soberanía", " alimentaria con "]
    assert [run.text for run in item.hyperlinks[0].runs] == ["pequeños productores"]


def test_a_table_cell_keeps_its_spaces_around_formatting_in_word(app):
    """Cells were squashed piece by piece: "*a* b" came out as "ab"."""
    body = "| *a* b | c `d` e |\n|---|---|\n| x [y](https://example.org/y) z | **w** |"
    data = formats.render("docx", export_of(body))
    table = docx.Document(io.BytesIO(data)).tables[0]
    assert [[cell.text for cell in row.cells] for row in table.rows] == [["a b", "c d e"], ["x y z", "w"]]


def test_text_shows_one_space_where_a_browser_shows_one_across_marks():
    """A space that ends one segment and another that starts the next are one space on the screen."""
    assert html_to_text("<p>kept <ins> added</ins> end</p>", ("[+", "+]")) == ["kept [+added+] end"]
    assert html_to_text("<p><del> </del> starts</p>") == ["starts"]


# --------------------------------------------------------------------- the property

_WORD = st.text(alphabet="abcdefghijklmnñopqrstuvwxyzáéíóúüçÀÉ", min_size=1, max_size=7)
_WORDS = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
_PIECE = st.one_of(
    _WORDS,
    _WORDS.map(lambda words: f"*{words}*"),
    _WORDS.map(lambda words: f"**{words}**"),
    _WORDS.map(lambda words: f"`{words}`"),
    _WORDS.map(lambda words: f"[{words}](https://example.org/{len(words)})"),
)


@st.composite
def _inline(draw) -> str:
    """A run of inline pieces, a space or nothing between each two, a line break now and then (never first or last)."""
    pieces = draw(st.lists(_PIECE, min_size=2, max_size=5))
    out = pieces[0]
    for piece in pieces[1:]:
        out += draw(st.sampled_from([" ", " ", "", "\\\n", "  \n"])) + piece
    return out


@st.composite
def bodies(draw) -> str:
    """A body of paragraphs and list items made of inline pieces."""
    blocks = draw(st.lists(st.tuples(st.sampled_from(["p", "li"]), _inline()), min_size=1, max_size=3))
    out = ""
    for index, (kind, inline) in enumerate(blocks):
        if index:
            out += "\n" if kind == "li" and blocks[index - 1][0] == "li" else "\n\n"
        out += f"- {inline}" if kind == "li" else inline
    return out


@settings(max_examples=40, deadline=None)
@given(body=bodies())
def test_every_format_shows_the_words_on_the_screen(app, body):
    screen = screen_words(render_markdown(body))
    for line_numbers in (False, True):
        doc = export_of(body, line_numbers)
        for fmt in ("docx", "txt", "html", "md"):
            if fmt == "md" and line_numbers:
                continue  # Markdown has no line numbers: the same file
            assert words_of(fmt, doc) == screen, (fmt, line_numbers)
