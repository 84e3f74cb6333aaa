"""Content states: one counter per document (and for the site, and per person) that every visible write bumps

Pages are cached and answered with 304 by these counters: a write bumps its
scope's counter in its own transaction, so a page's validator changes exactly
when its content may have. Rows are created on first write; a missing row
reads as state 0.

Revision ID: 0013_content_states
Revises: 0012_side_by_side_labels
Create Date: 2026-12-06 23:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_content_states"
down_revision = "0012_side_by_side_labels"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "content_states",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("state", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_content_states")),
    )


def downgrade():
    op.drop_table("content_states")
