"""The Word export, opened with python-docx: real styles for structure, every section, lists in list styles,
numbered lists restarting, and the screen's line numbers when asked."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from lxml import etree

from manifesto.documents import services as documents
from tests.export_helpers import HOSTILE_BODIES, collapse, make_rich_document, numbered_lines_of

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def rich(make_document, users):
    """A document with lists, quotes, links, a table and accents."""
    return make_rich_document(make_document, users)


def download(client, slug="doc", **args) -> docx.document.Document:
    """Download the DOCX export and open it as Word would."""
    response = client.get(f"/d/{slug}/export/docx", query_string=args)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(response.data)) as package:
        for name in package.namelist():
            if name.endswith(".xml"):
                etree.fromstring(package.read(name))  # every part is well-formed XML
    return docx.Document(io.BytesIO(response.data))


def by_style(word, prefix: str) -> list[str]:
    """Texts of the paragraphs whose style name starts with ``prefix``."""
    return [p.text for p in word.paragraphs if p.style.name.startswith(prefix)]


def test_structure_is_carried_by_styles(client, rich):
    word = download(client)
    assert by_style(word, "Title") == ["Test manifesto"]
    assert by_style(word, "Subtitle")[0].startswith("Live text as of ")
    entries = documents.current_sections(rich)
    assert by_style(word, "Heading 1") == [f"§{e.number} {e.version.heading}" for e in entries]
    assert "What we ask" in by_style(word, "Heading 4")  # "###" in a body: h5 on the site, Heading 4 here
    bullets = by_style(word, "List Bullet")
    assert "Public procurement that favours cooperatives;" in bullets
    assert "including guarantee funds;" in by_style(word, "List Bullet 2")
    assert by_style(word, "List Number")[:2] == ["First, recognise the sector.", "Second, fund it."]
    assert by_style(word, "Quote") == ["Nothing about us without us."]
    assert any("10\u00a0000" in p and "« citoyennes »" in p for p in by_style(word, "Normal"))
    # Inline formatting is character styles, structure never direct formatting.
    strong = [run.text for p in word.paragraphs for run in p.runs if run.style.name == "Strong"]
    assert "social and solidarity economy" in strong
    for paragraph in word.paragraphs:
        for run in paragraph.runs:
            assert run.font.size is None and run.bold is None, (paragraph.text, run.text)
    # Tables are Word tables in a table style.
    table = word.tables[0]
    assert table.style.name == "Table Grid"
    assert [cell.text for cell in table.rows[1].cells] == ["France", "22,000"]
    # The link is a real hyperlink.
    rels = [rel.target_ref for rel in word.part.rels.values() if rel.reltype.endswith("/hyperlink")]
    assert "https://www.ilo.org/" in rels
    assert word.core_properties.title == "Test manifesto" and word.core_properties.language == "en"


def test_each_numbered_list_starts_at_its_own_number(client, rich):
    word = download(client)
    numbered = [p for p in word.paragraphs if p.style.name == "List Number"]
    starts = {}
    numbering = word.part.numbering_part.element
    for paragraph in numbered:
        num_id = paragraph._p.pPr.numPr.numId.val
        override = numbering.num_having_numId(num_id).find(f"{W}lvlOverride/{W}startOverride")
        starts.setdefault(num_id, int(override.get(f"{W}val")))
    assert sorted(starts.values()) == [1, 6]  # "1. First" and "6. Sixth point": two lists, two starts


def test_line_numbers_are_the_screens(client, rich):
    screen = numbered_lines_of(client.get("/d/doc/?lines=1").get_data(as_text=True))
    word = download(client, lines=1)
    found = {}
    for paragraph in word.paragraphs:
        runs = paragraph.runs
        for index, run in enumerate(runs):
            if run.style.name == "Line Number":
                number = int(run.text)
                words = []
                for later in runs[index + 1:]:
                    if later.style.name == "Line Number" or later._r.find(f"{W}br") is not None:
                        break
                    words.append(later.text)
                found[number] = collapse("".join(words))
    # Links are runs inside a w:hyperlink element: python-docx's paragraph.runs skips them, so compare words present.
    assert set(found) == set(screen)
    for number, words in screen.items():
        assert all(word_ in words for word_ in found[number].split()), (number, found[number], words)
    paragraph_text = "\n".join(p.text for p in word.paragraphs)
    assert "ILO" in paragraph_text or any("ILO" in etree.tostring(p._p, encoding=str) for p in word.paragraphs)
    # Headings stay headings; list items keep their bullet as text, without a second automatic bullet.
    assert any(p.style.name == "Heading 4" and "What we ask" in p.text for p in word.paragraphs)
    assert any(p.style.name.startswith("List Continue") and "• Public procurement" in p.text
               for p in word.paragraphs)
    assert not by_style(word, "List Bullet")


def test_hostile_text_opens_in_word(client, make_document, users):
    make_rich_document(make_document, users, bodies=HOSTILE_BODIES, slug="hostile")
    for lines in (None, 1):
        word = download(client, "hostile", lines=lines, annex=1, credits=1)
        text = "\n".join(p.text for p in word.paragraphs)
        assert "Title with  control *and* #markup# | pipes" in text.replace("\x01", "")
        assert "مرحبا بالعالم" in text and "🌍👩🏽‍🌾" in text and "]]>" in text
        assert "</style></script><script>alert(1)</script>" in text  # words, not markup
        assert "\x01" not in text and "\x0b" not in text
        headings = by_style(word, "Heading 1")
        assert len([h for h in headings if h.startswith("§")]) == len(HOSTILE_BODIES)
        if not lines:
            assert len(word.tables[0].columns) == 24 and len(word.tables[0].rows) == 121
            assert by_style(word, "List Bullet 3")  # ten levels deep, capped at Word's third list level
