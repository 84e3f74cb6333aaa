"""Releases: named, dated, immutable states of the whole document

Revision ID: 0006_releases
Revises: 0005_visible_lines
Create Date: 2026-11-30 01:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = "0006_releases"
down_revision = "0005_visible_lines"
branch_labels = None
depends_on = None


def upgrade():
    """Placeholder: filled in by the work on issue #8."""


def downgrade():
    """Placeholder: filled in by the work on issue #8."""
