"""Export jobs: long PDFs built by the background queue, with their progress

Revision ID: 0008_export_jobs
Revises: 0007_contributor_credit
Create Date: 2026-11-30 01:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


# revision identifiers, used by Alembic.
revision = "0008_export_jobs"
down_revision = "0007_contributor_credit"
branch_labels = None
depends_on = None


def upgrade():
    """Placeholder: filled in by the work on issue #8."""


def downgrade():
    """Placeholder: filled in by the work on issue #8."""
