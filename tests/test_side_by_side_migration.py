"""Migration 0012 labels the cells of side-by-side diffs stored before the labels, and leaves labelled ones alone."""

from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, update

from manifesto.amendments.models import Amendment
from manifesto.amendments.services.core import describe
from manifesto.documents.models import Document, SectionVersion
from manifesto.extensions import db
from manifesto.text.diff import word_diff
from manifesto.text.diff_html import render_side_by_side

from harness import migrated_demo_app

_LABEL = re.compile(r' data-label="[^"]*"')
_KEPT = "<!-- labelled already: the migration must not touch this row -->"


@pytest.fixture
def demo_app(tmp_path, instance_path):
    """An app on a SQLite file of its own, built by the migrations and holding the demo."""
    with migrated_demo_app(tmp_path / "labels.sqlite") as app:
        yield app


def _side_by_side(model) -> dict[int, str | None]:
    """Every stored side-by-side diff of ``model``'s table, by id."""
    return dict(db.session.execute(select(model.id, model.diff_side_html)).all())


def _rendered_now() -> tuple[dict[int, str], dict[int, str]]:
    """The side-by-side diffs the services would store today, for every version with a parent and every amendment."""
    versions = {version.id: render_side_by_side(word_diff(db.session.get(SectionVersion, version.parent_id).body,
                                                          version.body))
                for version in db.session.scalars(select(SectionVersion).where(SectionVersion.parent_id.is_not(None)))}
    amendments = {}
    for amendment in db.session.scalars(select(Amendment)):
        base = db.session.get(SectionVersion, amendment.base_version_id) if amendment.base_version_id else None
        describe(amendment, db.session.get(Document, amendment.document_id), base)
        amendments[amendment.id] = amendment.diff_side_html
    db.session.rollback()
    return versions, amendments


def _make_old(model, ids) -> None:
    """Store the rows ``ids`` of ``model`` as they were before the labels: the same HTML without data-label."""
    for key, html in _side_by_side(model).items():
        if key in ids:
            db.session.execute(update(model).where(model.id == key).values(diff_side_html=_LABEL.sub("", html)))


def test_migration_0012_labels_old_side_by_side_diffs(demo_app):
    versions_now, amendments_now = _rendered_now()
    assert len(versions_now) >= 3 and len(amendments_now) >= 5
    assert {a.kind for a in db.session.scalars(select(Amendment))} >= {"modify", "insert", "delete"}
    old_versions, old_amendments = sorted(versions_now)[::2], sorted(amendments_now)[::2]
    kept_version, kept_amendment = sorted(versions_now)[1], sorted(amendments_now)[1]
    _make_old(SectionVersion, old_versions)
    _make_old(Amendment, old_amendments)
    for model, key in ((SectionVersion, kept_version), (Amendment, kept_amendment)):
        db.session.execute(update(model).where(model.id == key).values(diff_side_html=model.diff_side_html + _KEPT))
    db.session.commit()
    before_versions, before_amendments = _side_by_side(SectionVersion), _side_by_side(Amendment)
    assert all("data-label" not in before_versions[key] for key in old_versions)

    downgrade(revision="0011_amendment_wording_data")
    assert (_side_by_side(SectionVersion), _side_by_side(Amendment)) == (before_versions, before_amendments)
    db.session.commit()
    upgrade()

    after_versions, after_amendments = _side_by_side(SectionVersion), _side_by_side(Amendment)
    assert {key: after_versions[key] for key in old_versions} == {key: versions_now[key] for key in old_versions}
    assert {key: after_amendments[key] for key in old_amendments} == \
        {key: amendments_now[key] for key in old_amendments}
    assert all('data-label="Before"' in after_versions[key] for key in old_versions if "<td" in versions_now[key])
    untouched = set(before_versions) - set(old_versions)
    assert {key: after_versions[key] for key in untouched} == {key: before_versions[key] for key in untouched}
    untouched = set(before_amendments) - set(old_amendments)
    assert {key: after_amendments[key] for key in untouched} == {key: before_amendments[key] for key in untouched}
    assert after_versions[kept_version].endswith(_KEPT) and after_amendments[kept_amendment].endswith(_KEPT)
