"""What the search index adds to the schema outside the models, and how schema comparisons skip it.

On SQLite the migration ``0003_discussion`` creates an FTS5 table kept by
triggers. On PostgreSQL, ``0004_search_vector`` stores each entry's weighted
tsvector in a generated column, ``search_vector``, with a GIN index (it
replaced 0003's expression index, which made ranking recompute every
match's vector). The models cannot describe either engine's part, so
autogenerate and the drift test leave them alone.
"""

from __future__ import annotations

# The text search configuration of an entry, one constant per language, so
# that the expression is immutable and PostgreSQL can store and index it.
CONFIG_SQL = ("CASE language WHEN 'english' THEN 'english'::regconfig "
              "WHEN 'french' THEN 'french'::regconfig WHEN 'spanish' THEN 'spanish'::regconfig "
              "ELSE 'simple'::regconfig END")

# The generated column ``search_vector`` (migration 0004): the title weighs
# more (A) than the text (D) when ts_rank orders the matches.
VECTOR_SQL = (f"setweight(to_tsvector({CONFIG_SQL}, title), 'A') || "
              f"setweight(to_tsvector({CONFIG_SQL}, body), 'D')")
VECTOR_COLUMN = "search_vector"

# 0003's expression index, replaced by 0004 (kept for the record and its test).
TSVECTOR_SQL = f"to_tsvector({CONFIG_SQL}, title || ' ' || body)"

# The PostgreSQL text search configuration for a document's language.
LANGUAGES = {"en": "english", "fr": "french", "es": "spanish"}

_OUTSIDE_MODELS = ("search_fts", "ix_search_entries_tsv", "ix_search_entries_vector", VECTOR_COLUMN)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object`` hook: skip the FTS5 tables, the tsvector column and its index."""
    return not (name or "").startswith(_OUTSIDE_MODELS)


def language_config(language: str | None) -> str:
    """The text search configuration for a document's language code (``simple`` for any other)."""
    return LANGUAGES.get((language or "").lower(), "simple")
