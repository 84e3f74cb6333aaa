"""Sealed ballots for open secret votes

A secret vote's ballots are kept sealed (encrypted with a key derived from
the app's secret key) while the vote is open; the close opens them and
writes them as ballots in a random order. Random keys, no voter, no time.

Revision ID: 0020_vote_subjects
Revises: 0019_citations
Create Date: 2026-12-07 12:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_vote_subjects'
down_revision = '0019_citations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sealed_ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('sealed', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_sealed_ballots_vote_id_votes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_ballots'))
    )
    with op.batch_alter_table('sealed_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sealed_ballots_vote_id'), ['vote_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sealed_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sealed_ballots_vote_id'))

    op.drop_table('sealed_ballots')
