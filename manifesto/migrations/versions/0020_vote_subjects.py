"""Votes on the whole text, and sealed ballots for open secret votes

A vote is on an amendment or on the document's whole text (``subject``;
``amendment_id`` is NULL for the text). A secret vote's ballots are kept sealed (encrypted with a key derived from
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


def _foreign_keys(on):
    """SQLite: turn foreign key enforcement on or off around a table rebuild.

    SQLite changes a column's NULL rule only by building the table again; with
    foreign keys on, dropping the old ``votes`` would delete every
    participation and ballot by their ON DELETE CASCADE. The pragma is ignored
    inside a transaction, so the running one is ended and another begun (the
    procedure of SQLite's "Making Other Kinds Of Table Schema Changes").
    """
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    bind.exec_driver_sql('COMMIT')
    bind.exec_driver_sql('PRAGMA foreign_keys=%s' % ('ON' if on else 'OFF'))
    bind.exec_driver_sql('BEGIN')


def _rebuild_votes(change):
    """Alter ``votes`` (``change(batch_op)``) without losing the rows that refer to it."""
    _foreign_keys(False)
    try:
        with op.batch_alter_table('votes', schema=None) as batch_op:
            change(batch_op)
        if op.get_bind().dialect.name == 'sqlite':
            broken = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').fetchall()
            if broken:
                raise RuntimeError('foreign keys broken by the rebuild of votes: %r' % broken[:5])
    finally:
        _foreign_keys(True)


def upgrade():
    def change(batch_op):
        batch_op.add_column(sa.Column('subject', sa.String(length=20), server_default='amendment', nullable=False))
        batch_op.alter_column('amendment_id', existing_type=sa.Integer(), nullable=True)
    _rebuild_votes(change)

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
    op.execute("DELETE FROM votes WHERE amendment_id IS NULL")  # votes on the whole text cannot go back

    def change(batch_op):
        batch_op.alter_column('amendment_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('subject')
    _rebuild_votes(change)
