"""Collision spans keep their text: warnings stored before follow the rebase's rule

Since #18 an amendment's changed spans keep the text they put in
(``[start, end, text]``), so the collision warnings leave out touching
changes the rebase merges (``text.merge.changes_collide``). Spans stored before
(``[start, end]``) still flagged such pairs until the amendment was edited or
rebased. Every modifying amendment with such spans gets them again from its
text over its base version (the text engine, pure Python, as the service
computes them), and the collisions of the open amendments of their sections
are computed again by the service's rule (the rebase's own, as it stands
when the migration runs). Downgrading keeps the spans (older
code reads their first two fields).

Revision ID: 0022_collision_spans
Revises: 0021_projector_vote
Create Date: 2026-12-07 16:00:00

"""
import json

import sqlalchemy as sa
from alembic import op

from manifesto.text.diff import Hunk, changed_ranges, word_diff
from manifesto.text.merge import changes_collide


# revision identifiers, used by Alembic.
revision = '0022_collision_spans'
down_revision = '0021_projector_vote'
branch_labels = None
depends_on = None

_BATCH = 200

_amendments = sa.table("amendments", sa.column("id", sa.Integer), sa.column("hunks", sa.JSON))
_collisions = sa.table("collisions", sa.column("amendment_id", sa.Integer), sa.column("other_id", sa.Integer))


def _json(value):
    """A JSON column's value as read by a plain statement (text on SQLite, decoded on PostgreSQL)."""
    return json.loads(value) if isinstance(value, str) else value


def _respan(conn) -> set[int]:
    """Give every modifying amendment's text-less spans their text again; the sections concerned."""
    statement = _amendments.update().where(_amendments.c.id == sa.bindparam("key")).values(
        hunks=sa.bindparam("spans", type_=sa.JSON))
    sections, after = set(), 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT a.id, a.section_id, a.proposed_body, a.hunks, v.body FROM amendments a "
            "JOIN section_versions v ON v.id = a.base_version_id "
            "WHERE a.kind = 'modify' AND a.hunks IS NOT NULL AND a.id > :after ORDER BY a.id LIMIT :limit"),
            {"after": after, "limit": _BATCH}).all()
        if not rows:
            return sections
        after = rows[-1][0]
        updates = []
        for amendment_id, section_id, proposed, hunks, base in rows:
            spans = _json(hunks) or []
            if proposed is None or all(len(span) > 2 for span in spans):
                continue
            updates.append({"key": amendment_id, "spans": [[h.start, h.end, h.text]
                                                             for h in changed_ranges(word_diff(base, proposed))]})
            if section_id is not None:
                sections.add(section_id)
        if updates:
            conn.execute(statement, updates)


def _collide(conn, section_id: int) -> None:
    """The service's rule (``amendments/services/collisions.py``) for the open amendments of one section."""
    rows = conn.execute(sa.text(
        "SELECT a.id, a.kind, a.base_version_id, a.hunks, v.body FROM amendments a "
        "JOIN section_versions v ON v.id = a.base_version_id WHERE a.section_id = :section "
        "AND a.status = 'submitted' AND a.kind != 'insert' AND a.conflicted = :no ORDER BY a.id"),
        {"section": section_id, "no": False}).all()
    conn.execute(sa.text(
        "DELETE FROM collisions WHERE amendment_id IN (SELECT id FROM amendments WHERE section_id = :section) "
        "OR other_id IN (SELECT id FROM amendments WHERE section_id = :section)"), {"section": section_id})
    spans = {row[0]: [Hunk(s[0], s[1], s[2] if len(s) > 2 else "") for s in _json(row[3]) or []] for row in rows}
    pairs = []
    for i, (a_id, a_kind, a_base, _, base) in enumerate(rows):
        for b_id, b_kind, b_base, _, _ in rows[i + 1:]:
            if a_base != b_base:
                continue
            if a_kind == "delete" or b_kind == "delete" or changes_collide(spans[a_id], spans[b_id], base):
                pairs.append({"amendment_id": a_id, "other_id": b_id})
    if pairs:
        conn.execute(_collisions.insert(), pairs)


def upgrade():
    conn = op.get_bind()
    for section_id in sorted(_respan(conn)):
        _collide(conn, section_id)


def downgrade():
    pass  # the spans keep a third field older code does not read; the collisions stay as computed
