"""Let people choose to be credited as contributors in exports

Adds ``users.credit_in_exports``: off for everyone until they tick it on
their account page, so nobody is named in a published text without having
agreed to it.

Revision ID: 0007_contributor_credit
Revises: 0006_releases
Create Date: 2026-11-30 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_contributor_credit"
down_revision = "0006_releases"
branch_labels = None
depends_on = None


def upgrade():
    """Add the credit choice, off for every existing account."""
    # A plain ADD COLUMN: a batch (copy-and-drop) of users would fail on a
    # populated SQLite database, whose foreign keys point at users. A string
    # default keeps it a plain ALTER on SQLite; PostgreSQL reads '0' as false.
    op.add_column("users", sa.Column("credit_in_exports", sa.Boolean(), nullable=False, server_default="0"))


def downgrade():
    """Drop the credit choice."""
    op.drop_column("users", "credit_in_exports")  # SQLite 3.35+ drops a column in place
