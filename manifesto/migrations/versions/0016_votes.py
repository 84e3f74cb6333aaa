"""Consultative votes: the vote, who has voted, and secret ballots that nothing joins to their voter

A vote on an amendment keeps its question, rule (majority, abstentions,
quorum) and, once closed, its result. "Has voted" rows are one per person
and vote (unique); a named vote keeps the choice there. A secret ballot has a
random key, the choice and the hash of its receipt code: no voter, no time.

Revision ID: 0016_votes
Revises: 0015_api
Create Date: 2026-12-07 10:05:06.182080

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_votes'
down_revision = '0015_api'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('amendment_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('majority', sa.String(length=20), nullable=False),
    sa.Column('abstentions_count', sa.Boolean(), nullable=False),
    sa.Column('eligible', sa.Integer(), nullable=True),
    sa.Column('quorum_votes', sa.Integer(), nullable=True),
    sa.Column('quorum_percent', sa.Integer(), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('yes_count', sa.Integer(), nullable=True),
    sa.Column('no_count', sa.Integer(), nullable=True),
    sa.Column('abstain_count', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('why', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['amendment_id'], ['amendments.id'], name=op.f('fk_votes_amendment_id_amendments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_votes_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_votes_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_votes_opened_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes'))
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_votes_amendment_id'), ['amendment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_votes_document_id'), ['document_id'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('receipt_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_ballots_vote_id_votes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('receipt_hash', name=op.f('uq_ballots_receipt_hash'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_vote_id'), ['vote_id'], unique=False)

    op.create_table('vote_participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['vote_id'], ['votes.id'], name=op.f('fk_vote_participations_vote_id_votes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['users.id'], name=op.f('fk_vote_participations_voter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_participations')),
    sa.UniqueConstraint('vote_id', 'voter_id', name=op.f('uq_vote_participations_vote_id'))
    )
    with op.batch_alter_table('vote_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_participations_voter_id'), ['voter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('vote_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_participations_voter_id'))

    op.drop_table('vote_participations')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_vote_id'))

    op.drop_table('ballots')
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_votes_document_id'))
        batch_op.drop_index(batch_op.f('ix_votes_amendment_id'))

    op.drop_table('votes')
