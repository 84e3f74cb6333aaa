"""Exports read back with real readers: Markdown rebuilds the text, HTML parses and stands alone, plain text and
HTML number the lines as the screen does, hostile text still gives valid files; the cache, the pages and the 404s."""

from __future__ import annotations

import io
import re

import docx
import pytest
from markdown_it import MarkdownIt

from manifesto.documents import services as documents
from manifesto.exports import cache, formats
from manifesto.exports.build import build_export
from manifesto.exports.options import ExportOptions
from manifesto.extensions import db
from tests.export_helpers import (HOSTILE_BODIES, RICH_BODIES, collapse, make_rich_document, numbered_lines_of,
                                  structure_of, text_lines_of)

REMOTE = re.compile(r"^\s*(https?:)?//", re.I)


@pytest.fixture
def rich(make_document, users):
    """A document with lists, quotes, links, a table and accents."""
    return make_rich_document(make_document, users)


@pytest.fixture
def hostile(make_document, users):
    """A document whose sections try to break every format."""
    return make_rich_document(make_document, users, bodies=HOSTILE_BODIES, slug="hostile")


def get(client, slug, fmt, **args):
    """Download one export; the response must be an attachment."""
    response = client.get(f"/d/{slug}/export/{fmt}", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response


# ------------------------------------------------------------------- Markdown

def _markdown_sections(text: str) -> list[tuple[str, str]]:
    """Split a Markdown export into (section heading line, body) pairs, by its ``## n. Heading`` lines."""
    parts = re.split(r"^## (\d+\. .*)$", text, flags=re.M)
    return [(parts[i], parts[i + 1].strip("\n")) for i in range(1, len(parts), 2)]


def test_markdown_rebuilds_the_text(client, rich):
    response = get(client, "doc", "md")
    assert response.mimetype == "text/markdown"
    assert re.search(r'filename="?doc-live\.md', response.headers["Content-Disposition"])
    text = response.get_data(as_text=True)
    assert text.startswith("# Test manifesto\n")
    entries = documents.current_sections(rich)
    sections = _markdown_sections(text)
    assert len(sections) == len(entries)
    md = MarkdownIt("commonmark")
    for (heading_line, body), entry in zip(sections, entries):
        # The heading, rendered by a Markdown reader, is the section's heading, number first.
        rendered = md.render("## " + heading_line)
        assert re.sub("<[^>]+>", "", rendered).strip() == f"{entry.number}. {entry.version.heading}"
        assert body == entry.version.body  # the stored Markdown, unchanged
    assert "An *introduction*." in text


def test_markdown_keeps_raw_html_and_open_fences_harmless(client, hostile):
    text = get(client, "hostile", "md").get_data(as_text=True)
    # A renderer that lets raw HTML through still shows the script as text, as the site does.
    # (maxNesting raised: markdown-it's default of 20 drops what follows a list nested ten deep.)
    rendered = MarkdownIt("commonmark", {"html": True, "maxNesting": 100}).enable("table").render(text)
    assert not any(tag == "script" for tag, _ in structure_of(rendered).tags)
    assert "onclick" not in str(structure_of(rendered).tags)
    # The unclosed fence of one section does not swallow the next section's heading.
    assert "<h2>5. Title with" in rendered
    assert "\x01" not in text and "\x7f" not in text
    assert "مرحبا بالعالم" in text and "🌍👩🏽‍🌾" in text


# ----------------------------------------------------------------------- HTML

def _assert_self_contained(page: str) -> None:
    """No script, nothing fetched: the only addresses are links people click."""
    structure = structure_of(page)
    tags = [tag for tag, _ in structure.tags]
    for forbidden in ("script", "img", "iframe", "object", "embed", "link", "audio", "video", "source", "base",
                      "form", "svg"):
        assert forbidden not in tags, forbidden
    for tag, attrs in structure.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("src", "srcset", "data", "poster", "background"):
            assert name not in attrs, (tag, attrs)
        if "href" in attrs:
            assert tag == "a"
            assert not attrs["href"].lower().lstrip().startswith(("javascript:", "data:", "vbscript:"))
    style = "".join(re.findall(r"<style>(.*?)</style>", page, flags=re.S))
    assert "url(" not in style and "@import" not in style


def test_html_stands_alone_with_contents_and_language(client, rich):
    response = get(client, "doc", "html")
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert '<html lang="en">' in page
    _assert_self_contained(page)
    structure = structure_of(page)
    headings = [text for tag, text in structure.headings if tag == "h2"]
    entries = documents.current_sections(rich)
    for entry in entries:
        assert f"§{entry.number} {entry.version.heading}" in headings
        assert f'href="#section-{entry.number}"' in page and f'id="section-{entry.number}"' in page
    assert '<a href="https://www.ilo.org/" rel="nofollow noopener noreferrer">ILO</a>' in page  # user links stay links
    assert "@media print" in page


def test_html_line_numbers_are_the_screens(client, rich):
    screen = numbered_lines_of(client.get("/d/doc/?lines=1").get_data(as_text=True))
    assert len(screen) > 10
    exported = numbered_lines_of(get(client, "doc", "html", lines=1).get_data(as_text=True))
    assert exported == screen
    plain = get(client, "doc", "html").get_data(as_text=True)
    assert 'class="ln"' not in plain


def test_hostile_text_gives_valid_html(client, hostile):
    for lines in (None, 1):
        page = get(client, "hostile", "html", lines=lines).get_data(as_text=True)
        _assert_self_contained(page)
        assert "<script>alert(1)" not in page and "</style></script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the words are shown, not run
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", page)
        assert "مرحبا بالعالم" in page and "🌍👩🏽‍🌾" in page and "𓀀" in page
        headings = [text for tag, text in structure_of(page).headings if tag == "h2"]
        assert any("Scripts </style> ]]> <script>alert(1)</script>" in heading for heading in headings)


# ----------------------------------------------------------------- plain text

def test_plain_text_has_the_same_words_on_the_same_numbered_lines(client, rich):
    screen = numbered_lines_of(client.get("/d/doc/?lines=1").get_data(as_text=True))
    response = get(client, "doc", "txt", lines=1)
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert text_lines_of(text) == screen
    assert "  1  The social and solidarity economy puts people before capital." in text.replace("\u00a0", " ")


def test_plain_text_without_numbers_breaks_at_the_same_lines(client, rich):
    screen = numbered_lines_of(client.get("/d/doc/?lines=1").get_data(as_text=True))
    lines = [collapse(line) for line in get(client, "doc", "txt").get_data(as_text=True).splitlines()]
    for words in screen.values():
        assert words in lines


def test_hostile_text_gives_valid_plain_text(client, hostile):
    text = get(client, "hostile", "txt", lines=1).get_data(as_text=True)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text)
    screen = numbered_lines_of(client.get("/d/hostile/?lines=1").get_data(as_text=True))
    exported = text_lines_of(text)
    assert set(exported) == set(screen)
    for number, words in screen.items():
        assert exported[number] == collapse(re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", words))


# ------------------------------------------------------------- every format

@pytest.mark.parametrize("fmt", ["md", "html", "txt", "docx"])
@pytest.mark.parametrize("lines", [None, 1])
def test_every_format_reads_back_hostile_text(client, hostile, fmt, lines):
    data = get(client, "hostile", fmt, lines=lines, annex=1, credits=1).data
    if fmt == "docx":
        word = docx.Document(io.BytesIO(data))
        text = "\n".join(p.text for p in word.paragraphs)
        cells = "\n".join(cell.text for table in word.tables for row in table.rows for cell in row.cells)
        # A Word table, or (numbered) the table's numbered lines, "cell | cell" as on the screen.
        assert "r119c23" in (text if lines else cells)
    else:
        text = data.decode("utf-8")
    for heading, _ in HOSTILE_BODIES:
        assert collapse(re.sub("[\x00-\x1f\x7f]", "", heading)).split()[0] in text
    assert "x" * 80 in text
    assert "ꙮ" in text and "שלום" in text


# ---------------------------------------------------------------------- cache

def test_second_download_comes_from_the_cache_until_a_section_changes(app, client, rich, users, queries):
    first = get(client, "doc", "txt", lines=1, annex=1).data
    key = cache.cache_key(rich, None, "txt", ExportOptions(line_numbers=True, annex=True))
    path = cache.lookup(key)
    assert path is not None and path.read_bytes() == first
    built_at = path.stat().st_mtime_ns
    with queries() as counted:
        again = get(client, "doc", "txt", lines=1, annex=1).data
    assert again == first and path.stat().st_mtime_ns == built_at
    assert not any("section_versions.body" in statement for statement in counted.statements)  # no text read

    entry = documents.current_sections(rich)[1]
    documents.edit_section(users["moderator"], rich.id, entry.section.id, heading=entry.version.heading,
                           body="A new text for the second section.", reason="Shorter.",
                           base_version=entry.section.version_count)
    changed = get(client, "doc", "txt", lines=1, annex=1).get_data(as_text=True)
    assert "A new text for the second section." in changed
    assert not path.exists()  # the stale file is gone
    assert len(list(path.parent.glob("live--ln-annex--*"))) == 1


def test_cache_follows_structure_document_fields_and_the_annex(app, rich, users):
    options = ExportOptions(annex=True)
    before = cache.cache_key(rich, None, "md", options)
    entry = documents.current_sections(rich)[0]
    documents.move_section(users["moderator"], rich.id, entry.section.id, direction="down",
                           structure_version=None)
    moved = cache.cache_key(rich, None, "md", options)
    assert moved.fingerprint != before.fingerprint
    documents.update_document(users["admin"], rich.id, title="A new title", introduction=rich.introduction,
                              phase=rich.phase, amendment_deadline=None, min_supporters=0)
    retitled = cache.cache_key(rich, None, "md", options)
    assert retitled.fingerprint != moved.fingerprint
    from manifesto.amendments import services as amendments

    amendments.propose_amendment(users["participant"], rich.id, kind="modify", section_id=entry.section.id,
                                 heading=None, body=entry.version.body + " More.", reason="Why not.")
    assert cache.cache_key(rich, None, "md", options).fingerprint != retitled.fingerprint
    # Without an annex, an amendment changes nothing in the file.
    assert cache.cache_key(rich, None, "md", ExportOptions()) == cache.cache_key(rich, None, "md", ExportOptions())


def test_store_is_atomic_and_keeps_one_file_per_text_and_options(app, rich):
    key = cache.cache_key(rich, None, "md", ExportOptions())
    path = cache.store(key, b"first")
    older = cache.CacheKey(key.slug, key.text, key.fmt, key.options_key, "0" * 32)
    cache.store(older, b"older")
    assert not path.exists() and cache.lookup(older).read_bytes() == b"older"
    assert not list(path.parent.glob(".building-*"))


# ------------------------------------------------------------------ building

def test_building_an_export_takes_the_same_queries_whatever_the_size(app, make_document, users, queries):
    small = make_document(n_sections=2, slug="small", editor=users["admin"])
    large = make_document(n_sections=14, slug="large", editor=users["admin"])
    options = ExportOptions(line_numbers=True, annex=True, contributors=True)
    counts = []
    for document in (small, large):
        db.session.commit()
        document = documents.get_document_or_404(document.slug)
        with queries() as counted:
            built = build_export(document, None, options)
            cache.cache_key(document, None, "pdf", options)
        counts.append(counted.count)
        assert len(built.sections) in (2, 14)
    assert counts[0] == counts[1] <= 8  # 6, and the annex's closed votes for the file and for its key


# --------------------------------------------------------------- pages, 404s

def test_export_page_offers_the_options_with_labels(client, rich):
    page = client.get("/d/doc/export").get_data(as_text=True)
    for label in ("Text", "With line numbers", "With an annex", "With the contributors", "Show the changes since"):
        assert f">{label}" in page
    for fmt in ("pdf", "docx", "html", "md", "txt"):
        assert f'formaction="/d/doc/export/{fmt}"' in page
    assert 'method="get"' in page
    assert "JSON archive" not in page  # admins only


@pytest.mark.parametrize("address, words", [
    ("/d/doc/export/odt", "no export format"),
    ("/d/nowhere/export/pdf", "no document"),
    ("/d/nowhere/export", "no document"),
    ("/d/doc/export/md?release=no-such-release", "no release"),
    ("/d/doc/export/pdf?release=no-such-release", "no release"),
    ("/d/doc/export/pdf?against=no-such-release", "no release"),
    ("/d/doc/export/html?against=no-such-release", "no release"),
    ("/d/doc/export?release=no-such-release", "no release"),
])
def test_unknown_format_release_or_slug_is_a_readable_404(client, rich, address, words):
    response = client.get(address)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "<h1>Page not found</h1>" in page and words in page.lower()


@pytest.mark.parametrize("who, status", [(None, 403), ("participant", 403), ("moderator", 403), ("admin", 200)])
def test_only_admins_download_the_archive(client, rich, users, login, who, status):
    if who:
        login(users[who])
    response = client.get("/d/doc/export/json")
    assert response.status_code == status
    if status == 200:
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert b'"manifesto-archive"' in response.data[:200]
        assert b"@example.org" not in response.data
        with_emails = client.get("/d/doc/export/json?emails=1")
        assert users["participant"].email.encode() in with_emails.data


def test_reading_page_offers_the_downloads(app, client, rich, queries):
    page = client.get("/d/doc/").get_data(as_text=True)
    for fmt in ("docx", "html", "md", "txt"):
        assert f'href="/d/doc/export/{fmt}"' in page
    assert 'href="/d/doc/export"' in page  # the options page
    from flask import render_template

    assert rich.slug == "doc"  # loaded before counting
    with app.test_request_context("/d/doc/"), queries() as counted:
        links = render_template("exports/_download.html", document=rich)
    assert 'href="/d/doc/export/docx"' in links and counted.count == 0  # the buttons cost no query


def test_without_pango_the_pdf_button_says_what_to_install(client, rich, monkeypatch):
    from manifesto.exports import pdf

    monkeypatch.setattr(pdf, "pdf_unavailable_reason", lambda: "PDF export needs Pango: apt install libpango-1.0-0")
    page = client.get("/d/doc/").get_data(as_text=True)
    assert "PDF: unavailable." in page and "apt install libpango-1.0-0" in page
    assert 'href="/d/doc/export/pdf"' not in page
    assert 'href="/d/doc/export/docx"' in page  # every other format still works
    assert client.get("/d/doc/export/docx").status_code == 200


def test_store_clears_temporary_files_left_by_a_killed_process(app, rich):
    import os
    import time

    key = cache.cache_key(rich, None, "txt", ExportOptions())
    folder = cache.cached_path(key).parent
    folder.mkdir(parents=True, exist_ok=True)
    abandoned, fresh = folder / ".building-abandoned.txt", folder / ".building-writing-now.txt"
    abandoned.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - 2 * cache.ABANDONED_AFTER
    os.utime(abandoned, (old, old))
    cache.store(key, b"whole")
    assert not abandoned.exists() and fresh.exists()


def test_every_text_format_has_registered_its_renderer():
    """The registry imports no format: each registers itself, and importing manifesto.exports loads them all."""
    assert formats.registered() == formats.TEXT_FORMATS
    with pytest.raises(KeyError):
        formats.render("json", None)
    with pytest.raises(ValueError):
        formats.register("json")
    with pytest.raises(ValueError):
        formats.register("md")(lambda doc: b"")  # a second Markdown renderer would silently replace the first
