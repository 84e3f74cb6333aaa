"""Let people choose to be credited as contributors in exports

Revision ID: 0007_contributor_credit
Revises: 0006_releases
Create Date: 2026-11-30 01:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = "0007_contributor_credit"
down_revision = "0006_releases"
branch_labels = None
depends_on = None


def upgrade():
    """Placeholder: filled in by the work on issue #8."""


def downgrade():
    """Placeholder: filled in by the work on issue #8."""
