"""Number the lines of the text people read, not of its Markdown source

Until now a version's stored layout counted the Markdown source (``**``,
list markers, link addresses and the source's own line breaks). Every
stored layout, line count, amendment line range, amendment title and
numbered amendment diff is recomputed over the visible text, so the lines
cited in existing amendments follow the new numbering.

This is a recomputation of stored derived data by the text engine (pure
Python, no app code), so it always matches what the engine computes when a
version or an amendment is written. Downgrading numbers the Markdown source
again (the old rule, kept in ``layout_text``); the numbered diffs keep
their visible-text form, which reads the same.

Revision ID: 0005_visible_lines
Revises: 0004_search_vector
Create Date: 2026-11-30 01:00:00

"""
import json
import re

import sqlalchemy as sa
from alembic import op

from manifesto.text.lines import Layout, format_line_range, layout, layout_text
from manifesto.text.numbered_diff import amended_lines


# revision identifiers, used by Alembic.
revision = "0005_visible_lines"
down_revision = "0004_search_vector"
branch_labels = None
depends_on = None

_BATCH = 500
_LINE_RANGE = re.compile(r"lines? \d+(?:\u2013\d+)?$")


def _relayout(conn, number_lines) -> dict[int, Layout]:
    """Store a new layout for every section version; return them by version id."""
    widths = dict(conn.execute(sa.text("SELECT id, line_length FROM documents")).all())
    rows = conn.execute(sa.text(
        "SELECT v.id, v.body, s.document_id FROM section_versions v JOIN sections s ON s.id = v.section_id"
    )).all()
    layouts, updates = {}, []
    for version_id, body, document_id in rows:
        laid_out = number_lines(body, widths.get(document_id) or 80)
        layouts[version_id] = laid_out
        updates.append({"id": version_id, "layout": json.dumps(laid_out.to_json(), separators=(",", ":")),
                        "count": laid_out.line_count})
    statement = sa.text("UPDATE section_versions SET layout_json = :layout, line_count = :count WHERE id = :id")
    for start in range(0, len(updates), _BATCH):
        conn.execute(statement, updates[start:start + _BATCH])
    return layouts


def _entries(conn, layouts: dict[int, Layout]) -> dict[int, tuple[int, int]]:
    """Each live section's number and first line, counted with the new layouts."""
    rows = conn.execute(sa.text(
        "SELECT id, document_id, current_version_id FROM sections "
        "WHERE retired_at IS NULL ORDER BY document_id, position"
    )).all()
    entries, document, number, next_line = {}, None, 0, 1
    for section_id, document_id, version_id in rows:
        if document_id != document:
            document, number, next_line = document_id, 0, 1
        number += 1
        entries[section_id] = (number, next_line)
        laid_out = layouts.get(version_id)
        next_line += laid_out.line_count if laid_out else 0
    return entries


def _renumber_amendments(conn, layouts: dict[int, Layout], *, diffs: bool) -> None:
    """Recompute every amendment's lines and title (and, going up, its numbered diff)."""
    entries = _entries(conn, layouts)
    rows = conn.execute(sa.text(
        "SELECT a.id, a.kind, a.section_id, a.base_version_id, a.proposed_body, a.hunks, a.title, v.body "
        "FROM amendments a JOIN section_versions v ON v.id = a.base_version_id "
        "WHERE a.kind IN ('modify', 'delete')"
    )).all()
    updates = []
    for amendment_id, kind, section_id, version_id, proposed, hunks, title, base in rows:
        if isinstance(hunks, str):
            hunks = json.loads(hunks)
        number, first_line = entries.get(section_id, (0, 1))
        offset = first_line - 1 if number else 0
        base_layout = layouts[version_id]
        if diffs:
            lines = amended_lines(base, base_layout, None if kind == "delete" else proposed, hunks or [],
                                  offset=offset)
            first, last, line_range, diff_html = lines.first_line, lines.last_line, lines.line_range, lines.diff_html
        else:  # the Markdown source's lines, as 0004 computed them
            diff_html = None
            if kind == "delete":
                first, last = 1 + offset, max(base_layout.line_count, 1) + offset
            elif hunks and base_layout.line_count:
                first = base_layout.lines_for_span(*hunks[0][:2])[0] + offset
                last = base_layout.lines_for_span(*hunks[-1][:2])[1] + offset
            else:
                first = last = None
            line_range = format_line_range(first, last) if first is not None and kind != "delete" else None
        if line_range and _LINE_RANGE.search(title or ""):
            title = _LINE_RANGE.sub(line_range, title)
        update = {"id": amendment_id, "first": first, "last": last, "title": title}
        if diffs:
            update["diff"] = diff_html
        updates.append(update)
    if diffs:
        statement = sa.text("UPDATE amendments SET first_line = :first, last_line = :last, title = :title, "
                            "diff_inline_html = :diff WHERE id = :id")
    else:
        statement = sa.text("UPDATE amendments SET first_line = :first, last_line = :last, title = :title "
                            "WHERE id = :id")
    for start in range(0, len(updates), _BATCH):
        conn.execute(statement, updates[start:start + _BATCH])


def upgrade():
    """Lay out every version over its visible text and renumber the amendments."""
    conn = op.get_bind()
    layouts = _relayout(conn, lambda body, width: layout(body, width))
    _renumber_amendments(conn, layouts, diffs=True)


def downgrade():
    """Number the Markdown source again."""
    conn = op.get_bind()
    layouts = _relayout(conn, lambda body, width: layout_text(body, width))
    _renumber_amendments(conn, layouts, diffs=False)
