"""Migration 0005 renumbers stored layouts and amendments over the visible text, and the cited lines follow."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from manifesto.amendments.models import Amendment
from manifesto.amendments.services.core import describe
from manifesto.documents.models import Document, SectionVersion
from manifesto.documents.services import current_sections
from manifesto.extensions import db
from manifesto.seed.scale import seed_scale

from harness import migrated_demo_app


def _stored(session) -> tuple[dict, dict]:
    """Every version's layout and line count, and every amendment's lines, title and numbered diff."""
    versions = {v.id: (v.layout_json, v.line_count) for v in session.scalars(select(SectionVersion))}
    # Named columns, not the whole model: columns added by later migrations are gone after a downgrade
    # (and 0019 stores lines relative to the section's version: first_rel_line, last_rel_line).
    columns = {c["name"] for c in inspect(session.connection()).get_columns("amendments")}
    first, last = ("first_rel_line", "last_rel_line") if "first_rel_line" in columns else ("first_line", "last_line")
    amendments = {a[0]: tuple(a[1:]) for a in session.execute(
        text(f"SELECT id, {first}, {last}, title, diff_inline_html FROM amendments"))}
    return versions, amendments


@pytest.fixture
def migrated_app(tmp_path, instance_path):
    """An app on a database of its own (SQLite), built by the migrations and holding the demo and a small scale seed."""
    def small_scale_seed():
        seed_scale(sections=12, chars=24_000, participants=12, amendments=80, versioned_sections=3, versions=3,
                   comments=0, slug="scale", echo=lambda _: None)

    with migrated_demo_app(tmp_path / "migrate.sqlite", also=small_scale_seed) as app:
        yield app


def _described_now(session) -> dict:
    """What the amendments service computes for every amendment against today's text (then rolled back)."""
    result = {}
    for amendment in session.scalars(select(Amendment).where(Amendment.kind.in_(["modify", "delete"]))):
        document = session.get(Document, amendment.document_id)
        describe(amendment, document, session.get(SectionVersion, amendment.base_version_id))
        result[amendment.id] = (amendment.first_rel_line, amendment.last_rel_line, amendment.title,
                                amendment.diff_inline_html)
    session.rollback()
    return result


def test_down_and_up_again_gives_what_the_services_compute(migrated_app):
    """Downgrading numbers the Markdown again; upgrading restores the layouts exactly and cites today's lines.

    An amendment cites document-wide lines as they were when it was written;
    the migration cannot know the earlier sections' lengths back then, so it
    cites the lines of today's text, as describing the amendment now would.
    """
    written_versions, written_amendments = _stored(db.session)
    db.session.commit()
    downgrade(revision="0004_search_vector")
    source_versions, source_amendments = _stored(db.session)
    db.session.commit()
    assert source_versions != written_versions  # the source's lines differ from the visible ones
    assert any(source_amendments[key][:2] != written_amendments[key][:2] for key in written_amendments)
    upgrade()
    migrated_versions, migrated_amendments = _stored(db.session)
    db.session.commit()
    assert migrated_versions == written_versions
    expected = _described_now(db.session)
    assert len(expected) > 20
    assert {key: migrated_amendments[key] for key in expected} == expected


def test_cited_lines_show_the_words_the_amendment_changes(migrated_app):
    """After the migration an amendment's first cited line is the live line whose words its diff shows changed."""
    downgrade(revision="0004_search_vector")
    upgrade()
    amendments = db.session.scalars(select(Amendment).where(
        Amendment.kind == "modify", Amendment.first_rel_line.is_not(None), Amendment.status == "submitted")).all()
    assert len(amendments) > 10
    for amendment in amendments:
        document = db.session.get(Document, amendment.document_id)
        entry = {e.section.id: e for e in current_sections(document)}[amendment.section_id]
        version = db.session.get(SectionVersion, amendment.base_version_id)
        assert len(json.loads(version.layout_json)["views"]) == version.line_count
        numbered = {line.number: line for line in version.numbered_lines(entry.first_line)}
        first_line = amendment.cited_lines()[0]  # document-wide, as the live text numbers it (0019)
        row = re.search(rf'<div class="line [^"]*changed"><span class="ln">{first_line}</span> '
                        rf'<span class="lt">(.*?)</span></div>', amendment.inline_diff_html())
        assert row, f"{amendment.code}: no changed row numbered {first_line}"
        old_text = html.unescape(re.sub(r'<span class="diff-sep">.*?</span>|<ins>.*?</ins>|<[^>]+>|deleted: ', "", row.group(1)))
        assert old_text.split() == numbered[first_line].text.split(), amendment.code
