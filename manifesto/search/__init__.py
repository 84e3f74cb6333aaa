"""Full-text search over sections, amendments and comments, on SQLite (FTS5) and PostgreSQL."""
