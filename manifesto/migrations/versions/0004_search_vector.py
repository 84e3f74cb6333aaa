"""Store each search entry's weighted tsvector on PostgreSQL, so ranking reads it instead of recomputing it

0003 indexed an expression: finding matches was fast, but ranking them ran
to_tsvector again over the text of every match (1.3 s for a common word on
the convention-sized seed). A stored generated column, its title weighted
above its text, is computed once per write; a GIN index on it replaces the
expression index. SQLite (FTS5) is unchanged.

Revision ID: 0004_search_vector
Revises: 0003_discussion
Create Date: 2026-11-29 23:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0004_search_vector"
down_revision = "0003_discussion"
branch_labels = None
depends_on = None

# Copied, not imported: a migration must not change when the app's code does.
# manifesto/search/schema.py holds the same expression (VECTOR_SQL).
CONFIG_SQL = ("CASE language WHEN 'english' THEN 'english'::regconfig "
              "WHEN 'french' THEN 'french'::regconfig WHEN 'spanish' THEN 'spanish'::regconfig "
              "ELSE 'simple'::regconfig END")
VECTOR_SQL = (f"setweight(to_tsvector({CONFIG_SQL}, title), 'A') || "
              f"setweight(to_tsvector({CONFIG_SQL}, body), 'D')")
TSVECTOR_SQL = f"to_tsvector({CONFIG_SQL}, title || ' ' || body)"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE search_entries ADD COLUMN search_vector tsvector "
               f"GENERATED ALWAYS AS ({VECTOR_SQL}) STORED")
    op.execute("CREATE INDEX ix_search_entries_vector ON search_entries USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_search_entries_tsv")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_search_entries_tsv ON search_entries USING gin ({TSVECTOR_SQL})")
    op.execute("DROP INDEX IF EXISTS ix_search_entries_vector")
    op.execute("ALTER TABLE search_entries DROP COLUMN search_vector")
