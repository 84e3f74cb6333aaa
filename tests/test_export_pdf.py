"""The PDF export, read back with real readers: pypdf, and pdftotext (poppler-utils) where installed.

Every test here needs WeasyPrint's system libraries (Pango, HarfBuzz); where
they are missing the tests skip and say what to install, so the README's
test command passes on any machine and CI (which installs them) runs them all.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from manifesto.documents import services as documents
from manifesto.documents.models import NumberedLine
from manifesto.exports import pdf
from manifesto.exports.build import build_export
from manifesto.exports.document import AnnexEntry, ExportDocument, ExportSection, RedlineSection
from manifesto.exports.options import ExportOptions

from harness import require_pdf, skip_without

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(autouse=True)
def _needs_weasyprint():
    """Skip, saying what to install, where WeasyPrint cannot run."""
    require_pdf()


def pdftotext(data: bytes, tmp_path, layout: bool = True) -> str:
    """The PDF's text as poppler's pdftotext reads it (the test skips where poppler-utils is missing)."""
    if shutil.which("pdftotext") is None:
        skip_without("pdftotext is missing: apt install poppler-utils")
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    command = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(command, capture_output=True, check=True, timeout=120).stdout.decode("utf-8")


def read(data: bytes):
    """Open a PDF with pypdf, strictly: a damaged file fails here."""
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
    assert len(reader.pages) >= 1
    return reader


def page_texts(reader) -> list[str]:
    """The text of every page, as pypdf extracts it."""
    return [page.extract_text() or "" for page in reader.pages]


def squash(text: str) -> str:
    """Collapse whitespace (no-break spaces included), for comparing extracted text."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " ")).strip()


def numbered_lines_in(text: str) -> dict[int, str]:
    """The numbered lines pdftotext -layout reads after the title page and contents: number -> the words after it."""
    found: dict[int, str] = {}
    for row in "\n".join(text.split("\f")[2:]).splitlines():
        match = re.match(r"^\s*(\d+)\s+(\S.*)$", row)
        if match and not row.lstrip().startswith("Page "):
            found.setdefault(int(match.group(1)), squash(match.group(2)))
    return found


@pytest.fixture
def manifesto_doc(make_document, users):
    """A document whose sections read like the real text: accents, quotes, lists, long paragraphs."""
    document = make_document(n_sections=3)
    editor = users["admin"]
    entries = documents.current_sections(document)
    long_paragraph = " ".join(
        f"L’économie sociale et solidaire « n°{i} » finance l’énergie coopérative d’après l’accord de Genève, "
        f"año {2000 + i}, niño y señal — “quoted” and ‘single’ words;" for i in range(12))
    bodies = [
        long_paragraph,
        "Intro paragraph with **bold** and *italic* words and `code`.\n\n### A heading in the section\n\n"
        "- first item of a list\n- second item, quite a bit longer than the first so that it wraps onto a "
        "second numbered line of its own\n  - a nested item, also long enough to wrap onto a numbered line of "
        "its own\n\n1. numbered\n2. list\n\n> A quotation from the 2026 Mont Blanc Meetings, long enough to "
        "wrap onto a second line.\n\n```\nprint('a code block')\n```\n\n" + "W" * 80 + "\n\n"
        "A closing sentence\u00a0: with a no-break space.",
        "Une section en français : « Nous voulons une économie au service des personnes » ; "
        "l’été dernier, à Genève, les coopératives ont présenté leurs propositions.",
    ]
    for entry, body in zip(entries, bodies, strict=True):
        documents.edit_section(editor, document.id, entry.section.id, heading=f"{entry.version.heading} — àéîõü",
                               body=body, reason="Realistic text.", base_version=entry.version.number)
    return document


def test_title_page_contents_headings_and_page_numbers(manifesto_doc, tmp_path):
    data = pdf.render_pdf(build_export(manifesto_doc))
    reader = read(data)
    pages = page_texts(reader)
    assert "Test manifesto" in pages[0] and "Live text" in pages[0]
    body = squash(" ".join(pages[2:]))
    for entry in documents.current_sections(manifesto_doc):
        assert squash(f"§{entry.number} {entry.version.heading}") in body
    # Every page after the title page carries its number and the total.
    total = len(reader.pages)
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in text
    # The running header names the document.
    assert "Test manifesto" in pages[-1]


def test_contents_give_the_page_each_section_starts_on(manifesto_doc, tmp_path):
    data = pdf.render_pdf(build_export(manifesto_doc, options=ExportOptions(line_numbers=True)))
    reader = read(data)
    pages = page_texts(reader)
    contents = pages[1]
    assert "Contents" in contents
    for entry in documents.current_sections(manifesto_doc):
        heading = f"§{entry.number} {entry.version.heading}"
        match = re.search(re.escape(heading) + r"\s*\.*\s*(\d+)", contents)
        assert match, f"{heading!r} not listed in the contents"
        page = int(match.group(1))
        assert heading in pages[page - 1], f"{heading!r} is not on page {page}"


def test_release_name_and_date_on_the_title_page(tmp_path):
    doc = ExportDocument(slug="doc", title="Manifeste pour un avenir durable", introduction_html="",
                         language="fr", release_name="Draft 2 — for the regional consultations",
                         date=datetime(2026, 11, 30, 12, tzinfo=timezone.utc), is_final=True, sections=[],
                         options=ExportOptions(language="en"))  # a French text, its headings asked in English
    text = pdftotext(pdf.render_pdf(doc), tmp_path)
    title_page = text.split("\f")[0]
    assert "Manifeste pour un avenir durable" in title_page
    assert "Draft 2 — for the regional consultations" in title_page
    assert "30 November 2026, 12:00 UTC" in title_page
    assert "Final text" in title_page


def test_line_numbers_print_the_same_words_on_the_same_lines_as_the_screen(manifesto_doc, tmp_path):
    data = pdf.render_pdf(build_export(manifesto_doc, options=ExportOptions(line_numbers=True)))
    printed = numbered_lines_in(pdftotext(data, tmp_path))
    checked = 0
    for entry in documents.current_sections(manifesto_doc):
        for line in entry.version.numbered_lines(entry.first_line):  # what the screen shows
            assert line.number in printed, f"line {line.number} is not printed"
            assert printed[line.number].split() == squash(line.text).split(), f"line {line.number} differs"
            checked += 1
    assert checked >= 10
    # The long paragraph really was broken into several numbered lines, as on screen.
    assert max(printed) == checked


def test_the_running_header_names_the_section_a_page_continues(make_document, users, tmp_path):
    document = make_document(n_sections=2)
    entry = documents.current_sections(document)[0]
    body = "\n\n".join(f"Paragraph {i} of a long section, which goes on for several pages of the printed copy."
                         for i in range(150))
    documents.edit_section(users["admin"], document.id, entry.section.id, heading="A long section", body=body,
                           reason="Long.", base_version=entry.version.number)
    pages = pdftotext(pdf.render_pdf(build_export(document, options=ExportOptions(line_numbers=True))),
                      tmp_path).split("\f")
    continued = [page for page in pages[3:] if "§2 Section 2" not in page and page.strip()]
    assert continued, "the long section should fill whole pages"
    for page in continued:
        header = page.strip().splitlines()[0]
        assert "Test manifesto" in header and "§1 A long section" in header


def test_without_line_numbers_no_line_is_numbered(manifesto_doc, tmp_path):
    text = pdftotext(pdf.render_pdf(build_export(manifesto_doc)), tmp_path)
    assert not numbered_lines_in(text)
    assert "L’économie sociale et solidaire" in text


def test_accents_quotes_and_no_break_spaces_survive(manifesto_doc, tmp_path):
    text = squash(pdftotext(pdf.render_pdf(build_export(manifesto_doc)), tmp_path, layout=False))
    for words in ("L’économie sociale et solidaire « n°3 »", "año 2003, niño y señal", "“quoted” and ‘single’",
                  "« Nous voulons une économie au service des personnes »", "l’été dernier, à Genève",
                  "àéîõü"):
        assert words in text


def test_every_font_is_embedded(manifesto_doc):
    reader = read(pdf.render_pdf(build_export(manifesto_doc, options=ExportOptions(line_numbers=True))))
    fonts = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for name, ref in (resources.get("/Font") or {}).items():
            fonts[ref.get_object().get("/BaseFont")] = ref.get_object()
        # Margin boxes and titles use other faces: collect them from every page.
    assert fonts
    for base_font, font in fonts.items():
        descriptor = font.get("/FontDescriptor")
        if descriptor is None:  # a composite (Type0) font: its descendant has the descriptor
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        descriptor = descriptor.get_object()
        assert any(key in descriptor for key in ("/FontFile2", "/FontFile3", "/FontFile")), base_font
    assert any("DejaVu" in str(name) for name in fonts)


HOSTILE = {
    "A long word": "x" * 500,
    "A huge table": "| " + " | ".join(f"col {c}" for c in range(14)) + " |\n" + "|" + "---|" * 14 + "\n" + "\n".join(
        "| " + " | ".join(f"r{r}c{c} wordwordword" for c in range(14)) + " |" for r in range(120)),
    "Emoji": "Emoji 🎉🌍👩🏽‍🌾 and flags 🇨🇭 in a sentence.",
    "Right to left": "Right to left: مرحبا بالعالم and עברית mixed with English.",
    "Outside the font": "Outside the font: 漢字かな 한국어 \ue000 \U0010fffd \ufdd0 and ∰ ⨀.",
    "Markup and controls": "Controls \x07 \x1b, a zero-width \u200b space, ]]> </style> <script>alert(1)</script>",
    "Code": "```\n" + "code " * 40 + "\n```",
    "Lists ten deep": "\n".join("  " * depth + f"- level {depth + 1}" for depth in range(10)),
}


@pytest.mark.parametrize("line_numbers", [False, True])
def test_hostile_text_still_gives_a_valid_pdf(make_document, users, tmp_path, line_numbers):
    document = make_document(n_sections=len(HOSTILE))
    for entry, (heading, body) in zip(documents.current_sections(document), HOSTILE.items(), strict=True):
        documents.edit_section(users["admin"], document.id, entry.section.id, heading=f"{heading} 🎉 عنوان",
                               body=body, reason="Stress.", base_version=entry.version.number)
    data = pdf.render_pdf(build_export(document, options=ExportOptions(line_numbers=line_numbers, annex=True)))
    reader = read(data)
    page_texts(reader)  # every page's text can be read
    text = pdftotext(data, tmp_path)
    for heading in HOSTILE:
        assert f"{heading} 🎉" in text
    for words in ("xxxxxxxx", "r119c", "مرحبا", "alert(1)", "level 9", "code code"):  # shown as text, never run
        assert words in text
    if line_numbers:
        printed = numbered_lines_in(text)
        last = documents.current_sections(document)[-1]
        assert max(printed) == last.last_line


def _export(**fields) -> ExportDocument:
    """A small export with two sections, for the parts that do not come from the text."""
    lines = [NumberedLine(1, "First line of the first section.", True, "First line of the <strong>first</strong>"
                                                                        " section.", "p", 0)]
    sections = [ExportSection(number=1, heading="Energy", body="First line of the first section.",
                              body_html="<p>First line of the <strong>first</strong> section.</p>", first_line=1,
                              lines=lines, section_id=1, version_number=1),
                ExportSection(number=2, heading="Housing", body="", body_html="", first_line=2, lines=[],
                              section_id=2, version_number=1)]
    base = dict(slug="doc", title="Manifesto", introduction_html="<p>The <em>introduction</em>.</p>", language="en",
                release_name="Final", date=datetime(2026, 12, 1, tzinfo=timezone.utc), is_final=True,
                sections=sections)
    base.update(fields)
    return ExportDocument(**base)


def test_annex_contributors_and_redline_are_printed_when_present(tmp_path):
    doc = _export(
        options=ExportOptions(annex=True, contributors=True, redline_against="draft-1"),
        annex=[AnnexEntry(code="A-014", section="§1 Energy", lines="lines 12–14", author="Amina Diallo (Coop)",
                          status="Rejected", title="Say “renewable”", reason="Already in §2, line 4."),
               AnnexEntry(code="A-015", section="New section after §1 Energy", lines="", author="Lucas",
                          status="Accepted", title="Add housing", reason="")],
        contributors=["Amina Diallo (Coop)", "Lucas Martín", "Sofia Ñúñez"],
        redline=[RedlineSection(change="changed", number=1, old_number=1, heading="Energy", old_heading="Energy",
                                diff_html="Coal <del>stays</del> <ins>goes</ins> away.", amendments=["A-015"]),
                 RedlineSection(change="added", number=2, old_number=None, heading="Housing", old_heading=None,
                                diff_html="<ins>All new.</ins>"),
                 RedlineSection(change="moved", number=3, old_number=4, heading="Water", old_heading="Rivers",
                                diff_html="", labels=["Moved", "Retitled"]),
                 RedlineSection(change="removed", number=None, old_number=3, heading="Coal", old_heading=None,
                                diff_html="<del>Gone.</del>")],
        redline_base="Draft 1")
    text = squash(pdftotext(pdf.render_pdf(doc), tmp_path, layout=False))
    assert "Changes since Draft 1" in text
    assert "Changed §1 Energy" in text and "Amendments adopted: A-015" in text
    assert "Added §2 Housing" in text and "Removed former §3 Coal" in text
    assert "Moved, Retitled §3 Water" in text and "Heading was: Rivers" in text and "Was §4." in text
    assert "Annex: amendments" in text
    assert "A-014 · §1 Energy, lines 12–14 · Rejected" in text
    assert "Reason: Already in §2, line 4." in text
    assert "Proposed by Lucas" in text
    assert "Contributors" in text and "Sofia Ñúñez" in text
    contents = text.split("Contents", 1)[1]
    assert "Annex: amendments" in contents.split("The introduction")[0]


def test_progress_is_reported_page_by_page(manifesto_doc):
    calls: list[tuple[str, int, int]] = []
    pdf.render_pdf(build_export(manifesto_doc, options=ExportOptions(line_numbers=True)),
                   progress=lambda stage, done, total: calls.append((stage, done, total)))
    assert calls[0][0] == "Preparing the text"
    assert any(stage.startswith("Laying out page") for stage, _, _ in calls)
    assert calls[-1][0] == "Done" and calls[-1][1] == calls[-1][2]
    done = [d for _, d, _ in calls]
    assert done == sorted(done)
    assert all(d <= t for _, d, t in calls)


def test_nothing_is_fetched_from_the_network_or_the_disk(monkeypatch):
    doc = _export(introduction_html='<p><a href="http://example.org/x">a link</a></p>'
                                    '<img src="http://127.0.0.1:9/tracker.png"><img src="file:///etc/passwd">')

    def refuse(*args, **kwargs):
        raise AssertionError("the PDF renderer tried to fetch a URL")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    monkeypatch.setattr("urllib.request.OpenerDirector.open", refuse)
    read(pdf.render_pdf(doc))


def test_what_to_install_when_pango_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint now raises ImportError
    assert pdf._weasyprint_missing.__wrapped__() is True  # the cached check, run afresh
    monkeypatch.setattr(pdf, "_weasyprint_missing", lambda: True)
    reason = pdf.pdf_unavailable_reason()
    assert "Pango" in reason and "apt install" in reason and "libpango-1.0-0" in reason
    monkeypatch.setattr(pdf, "pdf_unavailable_reason", lambda: reason)
    with pytest.raises(pdf.PdfUnavailable, match="libharfbuzz0b"):
        pdf.render_pdf(_export())


def test_a_release_with_its_redline_annex_and_credits_from_the_database(make_document, users, tmp_path):
    from manifesto.releases import services as releases

    document = make_document(n_sections=2)
    first = releases.publish_release(users["moderator"], document.id, name="Draft 1")
    entry = documents.current_sections(document)[1]
    documents.edit_section(users["admin"], document.id, entry.section.id, heading="Section 2, renamed",
                           body="Paragraph one of section 2, about cooperatives and solar energy.",
                           reason="Sharper.", base_version=entry.version.number)
    second = releases.publish_release(users["moderator"], document.id, name="Draft 2 — for the regions")
    options = ExportOptions(line_numbers=True, annex=True, contributors=True, redline_against=first.slug)
    text = squash(pdftotext(pdf.render_pdf(build_export(document, second, options)), tmp_path, layout=False))
    assert "Draft 2 — for the regions" in text.split("Contents")[0]
    assert "Changes since Draft 1" in text and "§2 Section 2, renamed" in text and "solar" in text
    assert "Annex: amendments" in text and "Contributors" in text


def test_the_pdf_is_tagged_in_the_text_s_language_with_its_title():
    reader = read(pdf.render_pdf(_export(language="fr", title="Manifeste pour l’économie sociale")))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr"
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root  # headings and reading order
    assert reader.metadata.title == "Manifeste pour l’économie sociale"
