"""The projector shows a vote on the whole text

A projection may show a vote on the document's whole text (``vote_id``):
its question, the turnout while it is open, the result once closed. A vote
on an amendment is shown with its amendment, as before.

Revision ID: 0021_projector_vote
Revises: 0020_vote_subjects
Create Date: 2026-12-07 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_projector_vote'
down_revision = '0020_vote_subjects'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_projections_vote_id_votes'), 'votes', ['vote_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('projections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projections_vote_id_votes'), type_='foreignkey')
        batch_op.drop_column('vote_id')
