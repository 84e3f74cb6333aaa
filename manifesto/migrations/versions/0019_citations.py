"""Line citations relative to the section version, numbered where shown

An amendment stored the document-wide lines it changes (``first_line``,
``last_line``), its numbered diff and its title's lines as the document was
numbered when it was written or rebased: when an earlier section grew, open
amendments' citations went stale. They are now stored relative to the
amendment's base version (``first_rel_line``, ``last_rel_line``; the numbered
diff counted from 1; the title's data naming its document and section, with
relative lines) and numbered against the text shown (the live text, or a
release's frozen numbering) wherever they are shown. The document-wide
columns are dropped: nothing stored can drift.

Every modifying and deleting amendment is numbered again over its base
version with the text engine (pure Python, no app code: what the service
computes when it describes an amendment), in batches; the English ``title``
keeps its words. Downgrading puts the document-wide numbers back, counted
with today's live numbering.

Revision ID: 0019_citations
Revises: 0018_merge_drafts
Create Date: 2026-12-07 12:20:00

"""
import json
import re

import sqlalchemy as sa
from alembic import op

from manifesto.text.lines import Layout
from manifesto.text.numbered_diff import amended_lines


# revision identifiers, used by Alembic.
revision = '0019_citations'
down_revision = '0018_merge_drafts'
branch_labels = None
depends_on = None

_BATCH = 200
_NUMBER = re.compile(r'<span class="ln">(\d+)</span>')

_amendments = sa.table("amendments", sa.column("id", sa.Integer), sa.column("summary", sa.JSON),
                       sa.column("diff_inline_html", sa.Text), sa.column("first_rel_line", sa.Integer),
                       sa.column("last_rel_line", sa.Integer), sa.column("first_line", sa.Integer),
                       sa.column("last_line", sa.Integer))


def _json(value):
    """A JSON column's value as read by a plain statement (text on SQLite, decoded on PostgreSQL)."""
    return json.loads(value) if isinstance(value, str) else value


def _live_places(conn) -> dict[int, tuple[int, int]]:
    """Each live section's number and the line before its first, in today's text (one query)."""
    rows = conn.execute(sa.text(
        "SELECT s.id, s.document_id, v.line_count FROM sections s "
        "JOIN section_versions v ON v.id = s.current_version_id "
        "WHERE s.retired_at IS NULL ORDER BY s.document_id, s.position")).all()
    places, document, number, next_line = {}, None, 0, 1
    for section_id, document_id, line_count in rows:
        if document_id != document:
            document, number, next_line = document_id, 0, 1
        number += 1
        places[section_id] = (number, next_line - 1)
        next_line += line_count or 0
    return places


def _batches(conn, after_id: int):
    """The next batch of amendments, with their base versions' texts and layouts (keyset, by id)."""
    return conn.execute(sa.text(
        "SELECT a.id, a.document_id, a.kind, a.section_id, a.proposed_body, a.hunks, a.summary, "
        "v.body, v.layout_json FROM amendments a LEFT JOIN section_versions v ON v.id = a.base_version_id "
        "WHERE a.id > :after ORDER BY a.id LIMIT :limit"), {"after": after_id, "limit": _BATCH}).all()


def _each_batch(conn):
    """Every amendment, batch by batch."""
    after = 0
    while True:
        rows = _batches(conn, after)
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def upgrade():
    """Add the relative columns, number every amendment over its base version, drop the document-wide columns."""
    op.add_column("amendments", sa.Column("first_rel_line", sa.Integer(), nullable=True))
    op.add_column("amendments", sa.Column("last_rel_line", sa.Integer(), nullable=True))
    conn = op.get_bind()
    statement = _amendments.update().where(_amendments.c.id == sa.bindparam("key")).values(
        first_rel_line=sa.bindparam("first"), last_rel_line=sa.bindparam("last"),
        diff_inline_html=sa.bindparam("diff"), summary=sa.bindparam("summary", type_=sa.JSON))
    titles = _amendments.update().where(_amendments.c.id == sa.bindparam("key")).values(
        summary=sa.bindparam("summary", type_=sa.JSON))
    for rows in _each_batch(conn):
        updates, placed = [], []
        for amendment_id, document_id, kind, section_id, proposed, hunks, summary, base, layout_json in rows:
            summary = _json(summary)
            title = dict((summary or {}).get("title") or {})
            if title:
                title["in"] = [document_id, section_id]
            if kind == "insert" or base is None:
                if title:
                    placed.append({"key": amendment_id, "summary": {**summary, "title": title}})
                continue
            hunks = _json(hunks) or []
            base_layout = Layout.from_json(base, json.loads(layout_json))
            lines = amended_lines(base, base_layout, None if kind == "delete" else proposed, hunks)
            if title and kind == "modify":  # as the service words it: lines only when some changed
                title.pop("first", None), title.pop("last", None)
                if lines.line_range:
                    title["first"], title["last"] = lines.first_line, lines.last_line
            updates.append({"key": amendment_id, "first": lines.first_line, "last": lines.last_line,
                            "diff": lines.diff_html, "summary": {**summary, "title": title} if title else summary})
        if updates:
            conn.execute(statement, updates)
        if placed:
            conn.execute(titles, placed)
    op.drop_column("amendments", "first_line")
    op.drop_column("amendments", "last_line")


def downgrade():
    """Store document-wide lines again, as today's live text numbers them."""
    op.add_column("amendments", sa.Column("first_line", sa.Integer(), nullable=True))
    op.add_column("amendments", sa.Column("last_line", sa.Integer(), nullable=True))
    conn = op.get_bind()
    places = _live_places(conn)
    statement = _amendments.update().where(_amendments.c.id == sa.bindparam("key")).values(
        first_line=sa.bindparam("first"), last_line=sa.bindparam("last"), diff_inline_html=sa.bindparam("diff"),
        summary=sa.bindparam("summary", type_=sa.JSON))
    after = 0
    while True:
        rows = conn.execute(sa.text(
            "SELECT id, kind, section_id, first_rel_line, last_rel_line, diff_inline_html, summary FROM amendments "
            "WHERE id > :after ORDER BY id LIMIT :limit"), {"after": after, "limit": _BATCH}).all()
        if not rows:
            break
        after = rows[-1][0]
        updates = []
        for amendment_id, kind, section_id, first, last, diff, summary in rows:
            number, offset = places.get(section_id, (None, 0))
            summary = _json(summary)
            title = dict((summary or {}).get("title") or {})
            if title.pop("in", None) is not None:
                if kind == "insert":
                    if number is not None:
                        title["after"] = number
                else:
                    title["section"] = number
                    if title.get("first") is not None:
                        first_title = title["first"]
                        title["first"] = first_title + offset
                        title["last"] = (title.get("last") or first_title) + offset
            if kind != "insert" and diff and offset:
                diff = _NUMBER.sub(lambda m: f'<span class="ln">{int(m[1]) + offset}</span>', diff)
            updates.append({"key": amendment_id, "first": first + offset if first is not None else None,
                            "last": last + offset if last is not None else None, "diff": diff,
                            "summary": {**summary, "title": title} if title else summary})
        conn.execute(statement, updates)
    op.drop_column("amendments", "first_rel_line")
    op.drop_column("amendments", "last_rel_line")
