"""Line citations that stay true: stored relative to the section's version, numbered against the text shown.

Delegates say "line 412": the number an amendment cites must be the line of
the numbered text they are reading, after earlier sections grew, and in a
release's frozen numbering when they read a release.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, select

from manifesto.amendments import services as amendments
from manifesto.amendments.citations import Numbering, live_numbering
from manifesto.amendments.models import Amendment
from manifesto.amendments.wording import ENGLISH
from manifesto.documents import services as documents
from manifesto.documents.models import SectionVersion
from manifesto.exports.build import build_export
from manifesto.exports.options import ExportOptions
from manifesto.extensions import db
from manifesto.releases import services as releases

from harness import count_queries

GROWTH = ("\n\nA new paragraph about the common good, long enough to fill a numbered line of its own."
          "\n\n- a first new item\n- a second new item\n- a third new item")


@pytest.fixture
def document(make_document, users):
    """Five sections, open for amendments (no supporters needed)."""
    return make_document(n_sections=5, phase="amendments", editor=users["admin"])


def propose(document, author, n: int, old: str, new: str) -> Amendment:
    """Replace ``old`` with ``new`` in section ``n`` (1-based)."""
    entry = documents.current_sections(document)[n - 1]
    return amendments.propose_amendment(author, document.id, kind="modify", section_id=entry.section.id,
                                        heading=None, body=entry.version.body.replace(old, new, 1),
                                        reason="Better.")


def propose_deletion(document, author, n: int) -> Amendment:
    entry = documents.current_sections(document)[n - 1]
    return amendments.propose_amendment(author, document.id, kind="delete", section_id=entry.section.id,
                                        heading=None, body=None, reason="Not needed.")


def accept(amendment: Amendment, moderator) -> None:
    amendment = db.session.get(Amendment, amendment.id)
    amendments.decide_amendment(moderator, amendment.document_id, amendment.id, decision="accept",
                                reason="Agreed.", revision=amendment.revision)


def grow_first_section(document, users) -> None:
    """Accept an amendment that adds lines to section 1: every later line moves down."""
    entry = documents.current_sections(document)[0]
    growth = amendments.propose_amendment(users["admin"], document.id, kind="modify", section_id=entry.section.id,
                                          heading=None, body=entry.version.body + GROWTH, reason="More.")
    accept(growth, users["moderator"])
    db.session.expire_all()


@pytest.fixture
def cited(document, users):
    """Open amendments on sections 2 to 5: changed words on either line, and a deletion of section 4."""
    author = users["participant"]
    return [propose(document, author, 2, "democracy at work", "democracy at every workplace"),
            propose(document, author, 3, "cooperatives", "worker cooperatives"),
            propose(document, author, 3, "democracy at work", "democracy at work and at home"),
            propose_deletion(document, author, 4),
            propose(document, author, 5, "about democracy", "about real democracy")]


def numbered_view(document) -> tuple[dict[int, str], dict[int, tuple[int, int]]]:
    """The live text's numbered lines (number → visible text) and each section's line range, as the pages show."""
    lines, ranges = {}, {}
    for entry in documents.current_sections(document):
        ranges[entry.section.id] = (entry.first_line, entry.last_line)
        for line in entry.version.numbered_lines(entry.first_line):
            lines[line.number] = line.text
    return lines, ranges


def assert_cites_its_change(amendment: Amendment, lines: dict[int, str], ranges: dict[int, tuple[int, int]],
                            numbering: Numbering | None = None) -> tuple[int, int]:
    """The lines the citation names lie in its section and hold the words it changes."""
    first, last = amendment.cited_lines(numbering)
    section_first, section_last = ranges[amendment.section_id]
    assert section_first <= first <= last <= section_last, amendment.code
    cited_text = " ".join(lines[number] for number in range(first, last + 1))
    base = db.session.get(SectionVersion, amendment.base_version_id)
    if amendment.kind == "delete":
        assert (first, last) == (section_first, section_last), amendment.code
    words = set(re.findall(r"\w+", cited_text))
    for start, end, *_ in amendment.hunks:
        for word in re.findall(r"\w+", base.body[start:end]):
            assert word in words, f"{amendment.code}: “{word}” is not on lines {first}–{last}"
    return first, last


def line_range(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}\u2013{last}"


# ------------------------------------------------------------------ the test

def test_growing_an_early_section_keeps_every_open_citation_true(app, client, document, users, cited):
    lines, ranges = numbered_view(document)
    before = {a.id: assert_cites_its_change(a, lines, ranges) for a in cited}
    revisions = {a.id: a.revision for a in cited}
    # The pages are rendered (and kept by the page cache) before the text moves.
    for amendment in cited:
        assert client.get(f"/d/doc/amendments/{amendment.id}").status_code == 200
    assert client.get(f"/d/doc/sections/{cited[-1].section_id}?lines=1").status_code == 200

    grow_first_section(document, users)

    lines, ranges = numbered_view(document)
    moved = ranges[cited[0].section_id][0] - 3  # section 2 started on line 3: what section 1 grew by
    assert moved >= 4
    open_ = db.session.scalars(select(Amendment).where(Amendment.status == "submitted")).all()
    assert {a.id for a in open_} == {a.id for a in cited}
    for amendment in open_:
        first, last = assert_cites_its_change(amendment, lines, ranges)
        assert (first, last) == (before[amendment.id][0] + moved, before[amendment.id][1] + moved)
        assert amendment.revision == revisions[amendment.id]  # nothing was rewritten: right by construction
        page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
        assert line_range(first, last) in page, amendment.code
        # The numbered diff shows the lines of the text the room reads.
        assert re.search(rf'<div class="line [^"]*\bchanged"><span class="ln">{first}</span>', page), amendment.code
    # The section page of a later section numbers its lines anew too.
    section_page = client.get(f"/d/doc/sections/{cited[-1].section_id}?lines=1").get_data(as_text=True)
    first, last = ranges[cited[-1].section_id]
    assert f'<span class="ln">{first}</span>' in section_page and f'<span class="ln">{last}</span>' in section_page


def test_the_title_names_the_section_and_lines_of_the_text_shown(app, client, document, users, cited):
    amendment = cited[1]  # §3, its first line
    first, _ = amendment.cited_lines()
    assert amendment.display_title == f"§3, line {first}"
    grow_first_section(document, users)
    amendment = db.session.get(Amendment, amendment.id)
    moved_first, _ = amendment.cited_lines()
    assert moved_first > first
    assert amendment.display_title == f"§3, line {moved_first}"
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert re.search(rf"<h1>.*§3, line {moved_first}</h1>", page)


def test_inserting_a_section_before_renumbers_sections_and_lines(app, client, document, users, cited):
    amendment = cited[-1]  # §5
    first, last = amendment.cited_lines()
    entry = documents.current_sections(document)[0]
    insert = amendments.propose_amendment(users["admin"], document.id, kind="insert", section_id=entry.section.id,
                                          heading="Water", body="Water is a common good.\n\nIt stays public.",
                                          reason="Missing.")
    accept(insert, users["moderator"])
    db.session.expire_all()
    amendment = db.session.get(Amendment, amendment.id)
    lines, ranges = numbered_view(document)
    assert assert_cites_its_change(amendment, lines, ranges) == (first + 2, last + 2)
    assert amendment.display_title.startswith("§6, ")
    page = client.get(f"/d/doc/amendments/{amendment.id}").get_data(as_text=True)
    assert "§6, " in page and line_range(first + 2, last + 2) in page


# ------------------------------------------------------------------ a release's numbering

def test_citations_against_a_release_keep_the_releases_numbering(app, document, users, cited):
    release = releases.publish_release(users["moderator"], document.id, name="Draft 1")
    frozen_lines, frozen_ranges = numbered_view(document)  # the release is today's text
    frozen = {a.id: a.cited_lines() for a in cited}
    grow_first_section(document, users)
    numbering = Numbering.of(releases.release_entries(db.session.merge(release)))
    live_lines, live_ranges = numbered_view(document)
    for amendment in db.session.scalars(select(Amendment).where(Amendment.status == "submitted")):
        assert assert_cites_its_change(amendment, frozen_lines, frozen_ranges, numbering) == frozen[amendment.id]
        live = assert_cites_its_change(amendment, live_lines, live_ranges)
        assert live[0] > frozen[amendment.id][0]
    # The export of the release cites the release's lines in its annex; the live text's export today's.
    with app.test_request_context():
        release = db.session.merge(release)
        annex = {e.code: e for e in build_export(document, release, ExportOptions(annex=True)).annex}
        live_annex = {e.code: e for e in build_export(document, None, ExportOptions(annex=True)).annex}
    for amendment in cited:
        first, last = frozen[amendment.id]
        assert annex[amendment.code].lines == line_range(first, last)
        if amendment.kind == "modify":
            assert annex[amendment.code].title.endswith(line_range(first, last))
        first, last = db.session.get(Amendment, amendment.id).cited_lines()
        assert live_annex[amendment.code].lines == line_range(first, last)


# ------------------------------------------------------------------ lists and API

def test_the_list_page_and_the_api_show_computed_numbers(app, client, document, users, cited, make_token):
    grow_first_section(document, users)
    page = client.get("/d/doc/amendments/?status=open").get_data(as_text=True)
    secret = make_token(users["participant"], scopes=("read",))
    for amendment in cited:
        amendment = db.session.get(Amendment, amendment.id)
        first, last = amendment.cited_lines()
        assert html.escape(amendment.display_title) in page
        if amendment.kind == "modify":
            assert line_range(first, last) in amendment.display_title
        data = client.get(f"/api/v1/documents/doc/amendments/{amendment.id}",
                          headers={"Authorization": f"Bearer {secret}"}).get_json()
        assert (data["first_line"], data["last_line"]) == (first, last)
        assert data["title"] == amendment.display_title
        assert "in" not in data["summary"]["title"]  # the parts, numbered as the title: no stored internals
        if amendment.kind == "modify":
            assert (data["summary"]["title"]["first"], data["summary"]["title"]["last"]) == (first, last)
            assert f'<span class="ln">{first}</span>' in data["diff"]["inline_html"]


def test_sorting_by_section_follows_sections_then_lines(app, client, document, users, cited):
    author = users["participant"]
    # On section 2, an amendment on its first line, written after one on its second.
    early = propose(document, author, 2, "cooperatives", "housing cooperatives")
    grow_first_section(document, users)
    page = client.get("/d/doc/amendments/?status=open&sort=section").get_data(as_text=True)
    codes = re.findall(r"<strong>(A-\d{3})</strong>", page)
    expected = sorted((db.session.get(Amendment, a.id) for a in [*cited, early]),
                      key=lambda a: (a.cited_lines()[0], a.number))
    assert codes == [a.code for a in expected]
    assert codes.index(early.code) < codes.index(cited[0].code)


def test_the_list_page_reads_the_numbering_once(app, client, document, users):
    """Query count of the list page does not grow with the amendments it shows."""
    author = users["participant"]
    numbering_reads = []

    def render() -> int:
        with count_queries() as counted:
            page = client.get("/d/doc/amendments/?status=all&sort=section").get_data(as_text=True)
        numbering_reads.append(sum("line_count" in statement for statement in counted.statements))
        return counted.count, page

    propose(document, author, 2, "cooperatives", "worker cooperatives")
    render()  # warm: the first request's one-off work, and the address's first answer
    propose(document, author, 3, "cooperatives", "worker cooperatives")
    few, _ = render()
    for n in (2, 3, 4, 5, 2, 3, 4, 5):
        propose(document, author, n, "democracy", "real democracy")
    many, page = render()
    assert page.count('class="a-title"') == 10
    assert many == few
    assert numbering_reads[1:] == [1, 1]  # the live numbering, once per page whatever the number of rows


def test_the_live_numbering_follows_a_change_of_the_text(app, document, users):
    numbering = live_numbering(document.id)
    assert live_numbering(document.id) is numbering  # read once
    entries = documents.current_sections(document)
    entries[0].version.line_count += 4  # as a new version would, within the same transaction
    db.session.flush()
    moved = live_numbering(document.id)
    assert moved is not numbering
    assert moved.place(entries[1].section.id).offset == numbering.place(entries[1].section.id).offset + 4
    db.session.rollback()
    assert live_numbering(document.id).place(entries[1].section.id) == numbering.place(entries[1].section.id)


# ------------------------------------------------------------------ archives

def test_an_archive_from_before_relative_citations_imports_with_them(app, document, users, cited):
    from manifesto.amendments.citations import placed_title
    from manifesto.exports.archive.reader import import_archive
    from manifesto.exports.archive.writer import write_archive

    from harness import empty_tables

    grow_first_section(document, users)
    archive = write_archive()
    parsed = json.loads(archive)
    shown = {a.id: (a.cited_lines(), a.inline_diff_html()) for a in db.session.scalars(select(Amendment))}
    for row in parsed["tables"]["amendments"]:  # as an archive written before 0019 holds them
        lines, diff = shown[row["id"]]
        row.pop("first_rel_line"), row.pop("last_rel_line")
        row["first_line"], row["last_line"] = lines if lines else (None, None)
        row["diff_inline_html"] = diff
        if row["summary"]:
            row["summary"]["title"] = placed_title(row["summary"]["title"])
    assert any(row["first_line"] and row["first_line"] > 10 for row in parsed["tables"]["amendments"])
    empty_tables()
    import_archive(json.dumps(parsed))
    assert json.loads(write_archive())["tables"]["amendments"] == json.loads(archive)["tables"]["amendments"]
    lines, ranges = numbered_view(db.session.merge(document))
    for amendment in db.session.scalars(select(Amendment).where(Amendment.status == "submitted")):
        assert amendment.cited_lines() == shown[amendment.id][0]
        assert_cites_its_change(amendment, lines, ranges)


# ------------------------------------------------------------------ at scale

def test_every_open_citation_of_a_scale_seed_names_the_words_it_changes(app):
    """The seed decides amendments as it goes (sections grow and shrink): no open citation is left behind."""
    from manifesto.seed.scale import seed_scale

    document = seed_scale(sections=12, chars=24_000, participants=12, amendments=120, versioned_sections=4,
                          versions=3, comments=0, slug="scale", echo=lambda _: None)
    db.session.commit()
    lines, ranges = numbered_view(document)
    current = {entry.section.id: entry.version.id for entry in documents.current_sections(document)}
    checked = stale = 0
    for amendment in db.session.scalars(select(Amendment).where(
            Amendment.document_id == document.id, Amendment.status == "submitted",
            Amendment.kind.in_(["modify", "delete"]), Amendment.first_rel_line.is_not(None))):
        assert amendment.base_version_id == current[amendment.section_id] or amendment.conflicted
        if not amendment.conflicted:
            assert_cites_its_change(amendment, lines, ranges)
            checked += 1
            # The English title keeps the lines as they were when written: what a stored citation would say.
            stale += amendment.title != amendment.title_in(words=ENGLISH)
    assert checked > 30
    assert stale > 5  # a document-wide number stored when written would be wrong for these
    accepted = db.session.scalar(select(func.count()).select_from(Amendment).where(
        Amendment.document_id == document.id, Amendment.status.in_(["accepted", "accepted_modified"])))
    assert accepted > 5  # the text moved under them
