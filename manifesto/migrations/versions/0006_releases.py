"""Releases: named, dated, immutable states of the whole document

A release keeps the exact version of every live section at the moment it was
published, in order, with the number of each section's first line.

Revision ID: 0006_releases
Revises: 0005_visible_lines
Create Date: 2026-11-30 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006_releases"
down_revision = "0005_visible_lines"
branch_labels = None
depends_on = None


def upgrade():
    """Create the releases and release_sections tables."""
    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('document_title', sa.String(length=300), nullable=False),
    sa.Column('introduction', sa.Text(), nullable=False),
    sa.Column('introduction_html', sa.Text(), nullable=False),
    sa.Column('section_count', sa.Integer(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('is_final', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_releases_created_by_id_users')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_releases_document_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases')),
    sa.UniqueConstraint('document_id', 'name', name='uq_releases_document_name'),
    sa.UniqueConstraint('document_id', 'slug', name='uq_releases_document_slug')
    )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_releases_document_id'), ['document_id'], unique=False)

    op.create_table('release_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('first_line', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_release_sections_release_id_releases')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_release_sections_section_id_sections')),
    sa.ForeignKeyConstraint(['version_id'], ['section_versions.id'],
                            name=op.f('fk_release_sections_version_id_section_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release_sections')),
    sa.UniqueConstraint('release_id', 'position', name='uq_release_sections_release_position'),
    sa.UniqueConstraint('release_id', 'section_id', name='uq_release_sections_release_section')
    )
    with op.batch_alter_table('release_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_sections_section_id'), ['section_id'], unique=False)


def downgrade():
    """Drop the releases and their sections."""
    with op.batch_alter_table('release_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_sections_section_id'))
    op.drop_table('release_sections')
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_releases_document_id'))
    op.drop_table('releases')
