"""What the search index adds to the schema outside the models, and how schema comparisons skip it.

The migration ``0003_discussion`` creates an FTS5 table with its triggers on
SQLite and a GIN expression index on PostgreSQL. The models cannot describe
either, so autogenerate and the drift test must leave them alone.
"""

from __future__ import annotations

# The text search configuration of an entry, one constant per language, so
# that the expression is immutable and PostgreSQL can index it; queries must
# use the very same expression to use the index.
TSVECTOR_SQL = (
    "to_tsvector(CASE language WHEN 'english' THEN 'english'::regconfig "
    "WHEN 'french' THEN 'french'::regconfig WHEN 'spanish' THEN 'spanish'::regconfig "
    "ELSE 'simple'::regconfig END, title || ' ' || body)"
)

# The configuration part of TSVECTOR_SQL, for expressions that only rank
# (weighting the title above the text) and need no index.
CONFIG_SQL = ("CASE language WHEN 'english' THEN 'english'::regconfig "
              "WHEN 'french' THEN 'french'::regconfig WHEN 'spanish' THEN 'spanish'::regconfig "
              "ELSE 'simple'::regconfig END")

# The PostgreSQL text search configuration for a document's language.
LANGUAGES = {"en": "english", "fr": "french", "es": "spanish"}

_OUTSIDE_MODELS = ("search_fts", "ix_search_entries_tsv")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic ``include_object`` hook: skip the FTS5 tables and the tsvector index."""
    return not (name or "").startswith(_OUTSIDE_MODELS)


def language_config(language: str | None) -> str:
    """The text search configuration for a document's language code (``simple`` for any other)."""
    return LANGUAGES.get((language or "").lower(), "simple")
