"""Number the lines of the text people read, not of its Markdown source

Revision ID: 0005_visible_lines
Revises: 0004_search_vector
Create Date: 2026-11-30 01:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = "0005_visible_lines"
down_revision = "0004_search_vector"
branch_labels = None
depends_on = None


def upgrade():
    """Placeholder: filled in by the work on issue #8."""


def downgrade():
    """Placeholder: filled in by the work on issue #8."""
