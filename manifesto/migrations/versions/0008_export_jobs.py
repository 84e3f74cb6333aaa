"""Export jobs: long PDFs built by the background queue, with their progress

A PDF of the whole convention text takes longer than a request should, so
the queue builds it: each job row says what was asked for (text, format,
options, and the text's fingerprint then), how far it got, why it failed,
and which cached file it produced.

Revision ID: 0008_export_jobs
Revises: 0007_contributor_credit
Create Date: 2026-11-30 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008_export_jobs"
down_revision = "0007_contributor_credit"
branch_labels = None
depends_on = None


def upgrade():
    """Create the export_jobs table."""
    op.create_table('export_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=True),
    sa.Column('fmt', sa.String(length=10), nullable=False),
    sa.Column('options_key', sa.String(length=200), nullable=False),
    sa.Column('options_json', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=400), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_export_jobs_document_id_documents')),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_export_jobs_release_id_releases')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_export_jobs_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs'))
    )
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_export_jobs_document_status', ['document_id', 'status'], unique=False)


def downgrade():
    """Drop the export_jobs table."""
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_export_jobs_document_status')
    op.drop_table('export_jobs')
