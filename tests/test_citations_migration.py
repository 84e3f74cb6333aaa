"""Migration 0019 stores every amendment's citation relative to its base version, from a database with data."""

from __future__ import annotations

import json

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from manifesto.amendments.models import Amendment
from manifesto.amendments.services.core import describe
from manifesto.amendments.wording import ENGLISH
from manifesto.documents.models import Document, SectionVersion
from manifesto.extensions import db
from manifesto.seed.scale import seed_scale

from harness import migrated_demo_app


@pytest.fixture
def migrated_app(tmp_path, instance_path):
    """An app on a SQLite file of its own, built by the migrations, with the demo and a small scale seed."""
    def small_scale_seed():
        seed_scale(sections=10, chars=20_000, participants=10, amendments=60, versioned_sections=3, versions=2,
                   comments=0, slug="scale", echo=lambda _: None)

    with migrated_demo_app(tmp_path / "citations.sqlite", also=small_scale_seed) as app:
        yield app


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _relative(session) -> dict:
    """What 0019 stores: relative lines, the numbered diff counted from 1, the title's data."""
    return {row.id: (row.first_rel_line, row.last_rel_line, row.diff_inline_html, _json(row.summary))
            for row in session.execute(text(
                "SELECT id, first_rel_line, last_rel_line, diff_inline_html, summary FROM amendments"))}


def _shown(session) -> dict:
    """What the pages show today: document-wide lines, the numbered diff and the English title."""
    return {a.id: (a.cited_lines(), a.inline_diff_html(), a.title_in(words=ENGLISH))
            for a in session.scalars(select(Amendment))}


def test_backfill_from_document_wide_lines_gives_what_the_service_stores(migrated_app):
    stored, shown = _relative(db.session), _shown(db.session)
    assert sum(1 for first, *_ in stored.values() if first is not None) > 30
    db.session.commit()

    downgrade(revision="0018_merge_drafts")
    legacy = {row.id: row for row in db.session.execute(text(
        "SELECT id, kind, first_line, last_line, diff_inline_html, summary FROM amendments"))}
    db.session.commit()
    # Before 0019: document-wide numbers everywhere, as the live text numbers them.
    for amendment_id, row in legacy.items():
        lines, diff, _title = shown[amendment_id]
        assert ((row.first_line, row.last_line) if row.first_line is not None else None) == lines
        assert row.diff_inline_html == diff
        assert "in" not in (_json(row.summary) or {}).get("title", {})
    # Stored numbers gone stale, as they went before: the migration does not trust them.
    db.session.execute(text("UPDATE amendments SET first_line = first_line + 100, last_line = last_line + 100"))
    db.session.commit()

    upgrade()
    assert _relative(db.session) == stored
    assert _shown(db.session) == shown
    # And it is what describing each amendment now stores (then rolled back).
    migrated = _relative(db.session)
    for amendment in db.session.scalars(select(Amendment).where(Amendment.kind.in_(["modify", "delete"]))):
        describe(amendment, db.session.get(Document, amendment.document_id),
                 db.session.get(SectionVersion, amendment.base_version_id))
        assert (amendment.first_rel_line, amendment.last_rel_line, amendment.diff_inline_html,
                amendment.summary) == migrated[amendment.id], amendment.code
    db.session.rollback()
