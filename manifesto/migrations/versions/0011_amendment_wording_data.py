"""Keep what is generated about an amendment as data, so each reader sees it in their language

An amendment's title ("§3, lines 12–14"), its excerpt ("replaces “x” with
“y”") and its revisions' notes ("rebased onto version 3") were stored as
English sentences, so a French or Spanish reader saw English. They are now
also stored as language-neutral data (``amendments.summary``,
``amendment_revisions.note_data``) and put into words when shown; the English
columns stay, for search and archives. This migration fills the data for the
rows written before, from their English words and their texts, with the same
pure functions the services use; a row it cannot read keeps its English.

Revision ID: 0011_amendment_wording_data
Revises: 0010_user_language
Create Date: 2026-11-30 05:00:00

"""
import sqlalchemy as sa
from alembic import op

from manifesto.amendments.excerpt import change_summary
from manifesto.amendments.wording import parse_note, parse_title


# revision identifiers, used by Alembic.
revision = "0011_amendment_wording_data"
down_revision = "0010_user_language"
branch_labels = None
depends_on = None

_BATCH = 500


def upgrade():
    """Add amendments.summary and amendment_revisions.note_data, and fill them for the rows written before."""
    op.add_column("amendments", sa.Column("summary", sa.JSON(), nullable=True))
    op.add_column("amendment_revisions", sa.Column("note_data", sa.JSON(), nullable=True))
    conn = op.get_bind()
    amendments = sa.table("amendments", sa.column("id", sa.Integer), sa.column("summary", sa.JSON))
    rows = conn.execute(sa.text(
        "SELECT a.id, a.kind, a.title, a.proposed_body, a.proposed_heading, v.body, v.heading "
        "FROM amendments a LEFT JOIN section_versions v ON v.id = a.base_version_id"
    )).all()
    updates = []
    for amendment_id, kind, title, proposed_body, proposed_heading, base_body, base_heading in rows:
        title_data = parse_title(title)
        if title_data is None or (kind != "insert" and base_body is None):
            continue  # the row keeps its English words
        updates.append({"key": amendment_id, "summary": {
            "title": title_data,
            "excerpt": change_summary(kind, base_body, proposed_body, base_heading, proposed_heading)}})
    statement = amendments.update().where(amendments.c.id == sa.bindparam("key")).values(
        summary=sa.bindparam("summary", type_=sa.JSON))
    for start in range(0, len(updates), _BATCH):
        conn.execute(statement, updates[start:start + _BATCH])
    revisions = sa.table("amendment_revisions", sa.column("id", sa.Integer), sa.column("note_data", sa.JSON))
    notes = []
    for revision_id, note in conn.execute(sa.text("SELECT id, note FROM amendment_revisions")).all():
        data = parse_note(note)
        if data is not None:
            notes.append({"key": revision_id, "note_data": data})
    statement = revisions.update().where(revisions.c.id == sa.bindparam("key")).values(
        note_data=sa.bindparam("note_data", type_=sa.JSON))
    for start in range(0, len(notes), _BATCH):
        conn.execute(statement, notes[start:start + _BATCH])


def downgrade():
    """Drop the data again (the English columns still hold every title, excerpt and note)."""
    op.drop_column("amendment_revisions", "note_data")
    op.drop_column("amendments", "summary")
