"""Each account's interface language and time zone

The interface speaks English, French and Spanish. ``users.locale`` keeps the
language a person chose (None: follow the browser's Accept-Language), and
mail is written in it; ``users.timezone`` keeps the IANA zone their times are
shown in (None: UTC). Existing accounts keep both empty, so nothing they see
changes until they choose.

Revision ID: 0010_user_language
Revises: 0009_amendment_excerpt
Create Date: 2026-11-30 04:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0010_user_language"
down_revision = "0009_amendment_excerpt"
branch_labels = None
depends_on = None


def upgrade():
    """Add users.locale and users.timezone, both empty."""
    op.add_column("users", sa.Column("locale", sa.String(length=8), nullable=True))
    op.add_column("users", sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade():
    """Drop them again."""
    op.drop_column("users", "timezone")
    op.drop_column("users", "locale")
