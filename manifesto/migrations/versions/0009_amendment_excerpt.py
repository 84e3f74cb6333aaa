"""Store what each amendment changes in a few plain words, for the rows of the lists

A moderator working through hundreds of amendments needs each row to say
what it changes, not only where ("§5, line 96"). The excerpt is computed
when the amendment's text is written (``describe``), never per row on a
page view; this migration fills it for the amendments written before, with
the same pure text function.

Revision ID: 0009_amendment_excerpt
Revises: 0008_export_jobs
Create Date: 2026-11-30 02:00:00

"""
import sqlalchemy as sa
from alembic import op

from manifesto.amendments.excerpt import change_excerpt


# revision identifiers, used by Alembic.
revision = "0009_amendment_excerpt"
down_revision = "0008_export_jobs"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade():
    """Add amendments.excerpt and fill it for every amendment with a text."""
    op.add_column("amendments", sa.Column("excerpt", sa.String(length=200), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT a.id, a.kind, a.proposed_body, a.proposed_heading, v.body, v.heading "
        "FROM amendments a LEFT JOIN section_versions v ON v.id = a.base_version_id"
    )).all()
    updates = []
    for amendment_id, kind, proposed_body, proposed_heading, base_body, base_heading in rows:
        if kind != "insert" and base_body is None:
            continue  # nothing to compare with: the row keeps no excerpt
        updates.append({"id": amendment_id, "excerpt": change_excerpt(
            kind, base_body, proposed_body, base_heading, proposed_heading)})
    statement = sa.text("UPDATE amendments SET excerpt = :excerpt WHERE id = :id")
    for start in range(0, len(updates), _BATCH):
        conn.execute(statement, updates[start:start + _BATCH])


def downgrade():
    """Drop amendments.excerpt (SQLite 3.35+ drops a column in place, keeping the foreign keys)."""
    op.drop_column("amendments", "excerpt")
