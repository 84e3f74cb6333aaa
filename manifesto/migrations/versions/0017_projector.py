"""The projector: what each document's screen in the room shows (nothing, a section or an amendment)

One row per document (unique), changed by the moderators' console: the
section or amendment shown, a short message for the room, who changed it
and when, and a revision that refuses a console acting on an older state.

Revision ID: 0017_projector
Revises: 0016_votes
Create Date: 2026-12-07 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_projector'
down_revision = '0016_votes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('projections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('amendment_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendments.id'], name=op.f('fk_projections_amendment_id_amendments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_projections_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_projections_section_id_sections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_projections_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projections')),
    sa.UniqueConstraint('document_id', name=op.f('uq_projections_document_id'))
    )


def downgrade():
    op.drop_table('projections')
