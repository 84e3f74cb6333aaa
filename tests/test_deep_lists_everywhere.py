"""A list nested deeper than the parser's limit keeps every word on the reading page, in its numbered lines and in
every export built from the stored HTML (the Markdown export keeps the text as typed)."""

from __future__ import annotations

import io
import re

import docx
import pytest

from tests.export_helpers import make_rich_document, numbered_lines_of, text_lines_of

DEEP = "\n".join("  " * level + f"- word{level}" for level in range(60)) + "\n\nafter the deep list"
WORDS = [f"word{level}" for level in range(60)] + ["after the deep list"]


@pytest.fixture
def deep(make_document, users):
    """A document whose second section holds a list 60 levels deep, then a paragraph."""
    return make_rich_document(make_document, users, bodies=[("Shallow", "Nothing deep here."), ("Deep", DEEP)],
                              slug="deep")


def _missing(text: str) -> list[str]:
    """The words of the deep section that ``text`` lacks."""
    return [word for word in WORDS if not re.search(rf"\b{word}\b", text)]


def test_the_reading_page_and_its_line_numbers_keep_every_word(client, deep):
    page = client.get("/d/deep/").get_data(as_text=True)
    assert _missing(page) == []
    page = client.get("/d/deep/?lines=1").get_data(as_text=True)
    assert _missing(page) == []
    assert _missing(" ".join(numbered_lines_of(page).values())) == []


@pytest.mark.parametrize("fmt", ["html", "txt", "md"])
def test_the_text_exports_keep_every_word(client, deep, fmt):
    text = client.get(f"/d/deep/export/{fmt}", query_string={"lines": "1"}).get_data(as_text=True)
    assert _missing(text) == []
    if fmt == "txt":
        assert _missing(" ".join(text_lines_of(text).values())) == []


def test_the_docx_export_keeps_every_word(client, deep):
    data = client.get("/d/deep/export/docx").get_data()
    assert _missing("\n".join(paragraph.text for paragraph in docx.Document(io.BytesIO(data)).paragraphs)) == []
