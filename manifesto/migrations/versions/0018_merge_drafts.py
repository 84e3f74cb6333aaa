"""Merge workspace drafts: one moderator's merge of a section in progress

At most one per section (unique): its moderator, the version it was started
on, the choices, the hand-edited text, the reasons per amendment and a
revision counter for saves.

Revision ID: 0018_merge_drafts
Revises: 0017_projector
Create Date: 2026-12-07 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_merge_drafts'
down_revision = '0017_projector'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('merge_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('amendment_revisions', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['base_version_id'], ['section_versions.id'], name=op.f('fk_merge_drafts_base_version_id_section_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_merge_drafts_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderator_id'], ['users.id'], name=op.f('fk_merge_drafts_moderator_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_merge_drafts_section_id_sections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merge_drafts')),
    sa.UniqueConstraint('section_id', name=op.f('uq_merge_drafts_section_id'))
    )
    with op.batch_alter_table('merge_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merge_drafts_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_merge_drafts_moderator_id'), ['moderator_id'], unique=False)


def downgrade():
    with op.batch_alter_table('merge_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merge_drafts_moderator_id'))
        batch_op.drop_index(batch_op.f('ix_merge_drafts_document_id'))

    op.drop_table('merge_drafts')
