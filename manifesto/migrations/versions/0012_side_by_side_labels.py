"""Label the cells of side-by-side diffs stored before the labels existed, so phones show "Before" and "After"

On a phone the side-by-side tables stack and hide their headings; each cell
then shows its ``data-label``. Diffs rendered before the labels were added
(commit a606987) were stored without them and kept showing unlabelled boxes.
This migration renders those again, with the same pure functions the services
use, where the stored HTML has cells but no ``data-label``: the side-by-side
diff of each section version against its parent and of each amendment against
its base. Rows already labelled are left as they are.

Revision ID: 0012_side_by_side_labels
Revises: 0011_amendment_wording_data
Create Date: 2026-12-06 21:00:00

"""
import sqlalchemy as sa
from alembic import op

from manifesto.text.diff import DIFF_DELETE, DIFF_INSERT, word_diff
from manifesto.text.diff_html import render_side_by_side


# revision identifiers, used by Alembic.
revision = "0012_side_by_side_labels"
down_revision = "0011_amendment_wording_data"
branch_labels = None
depends_on = None

_BATCH = 500
# Stored HTML with table cells but no label: rendered before the labels.
_UNLABELLED = "{column} LIKE '%<td%' AND {column} NOT LIKE '%data-label%'"


def _amendment_ops(kind, base_body, proposed_body):
    """The diff an amendment shows, as the amendments service computes it, or None when its base is gone."""
    if kind == "insert":
        return [(DIFF_INSERT, proposed_body or "")]
    if base_body is None:
        return None
    if kind == "delete":
        return [(DIFF_DELETE, base_body)]
    return word_diff(base_body, proposed_body or "")


def _rerender(conn, table, select_sql, ops_of):
    """Render again, batch by batch in id order, every unlabelled row ``select_sql`` finds after ``:after``."""
    target = sa.table(table, sa.column("id", sa.Integer), sa.column("diff_side_html", sa.Text))
    statement = target.update().where(target.c.id == sa.bindparam("key")).values(
        diff_side_html=sa.bindparam("html"))
    after = 0
    while True:
        rows = conn.execute(sa.text(select_sql), {"after": after, "batch": _BATCH}).all()
        if not rows:
            return
        updates = []
        for row in rows:
            ops = ops_of(row)
            if ops is not None:
                updates.append({"key": row[0], "html": render_side_by_side(ops)})
        if updates:
            conn.execute(statement, updates)
        after = rows[-1][0]


def upgrade():
    """Render the unlabelled side-by-side diffs of section versions and amendments again, with their labels."""
    conn = op.get_bind()
    _rerender(conn, "section_versions",
              "SELECT v.id, p.body, v.body FROM section_versions v JOIN section_versions p ON p.id = v.parent_id "
              f"WHERE v.id > :after AND {_UNLABELLED.format(column='v.diff_side_html')} ORDER BY v.id LIMIT :batch",
              lambda row: word_diff(row[1], row[2]))
    _rerender(conn, "amendments",
              "SELECT a.id, a.kind, v.body, a.proposed_body FROM amendments a "
              "LEFT JOIN section_versions v ON v.id = a.base_version_id "
              f"WHERE a.id > :after AND {_UNLABELLED.format(column='a.diff_side_html')} ORDER BY a.id LIMIT :batch",
              lambda row: _amendment_ops(row[1], row[2], row[3]))


def downgrade():
    """Nothing to undo: the labels are only added markup, which the code before this migration reads just as well.

    Stripping them again would bring back the unlabelled boxes and gain nothing.
    """
