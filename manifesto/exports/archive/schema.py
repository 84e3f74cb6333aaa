"""What a JSON archive holds and how it is laid out: the format both the writer and the reader follow.

An archive holds every table of the SQLAlchemy metadata except the ones
listed in :data:`EXCLUDED_TABLES` (derived data that is rebuilt, and private
delivery state), so a table added later is archived without a change here;
``tests/test_archive.py`` fails when a table is neither archived with data
nor excluded with a reason. It covers **every document** of the instance, not
one slug. Of each archived table it keeps every column except those in
:data:`PRIVATE_COLUMNS` (password hashes, session tokens and two-factor
secrets never leave the database); users' email addresses only when ``include_emails=True``,
which only an admin may ask for: the web and command-line layers enforce
that, this module does not know who asks.

The file is UTF-8 JSON, deterministic so that an archive restored with
:func:`.reader.import_archive` and exported again is byte-identical::

    {
      "format": "manifesto-archive",
      "includes_emails": false,
      "schema_version": 1,
      "tables": {
        "amendment_revisions": [
          {"amendment_id": 1, "author_id": 2, ...},
          ...
        ],
        ...
      }
    }

Tables in name order, rows by primary key, one row a line with its keys
sorted (so two archives compare with ``diff``), datetimes as ISO 8601 UTC
with microseconds (``2026-11-30T01:02:03.000456Z``), JSON columns as JSON
values, no export timestamp (:mod:`.writer` writes it, :mod:`.reader` reads it back).
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, String, Table

from ...extensions import db
from ...services import ServiceError

__all__ = ["EMAIL_COLUMNS", "EXCLUDED_TABLES", "FORMAT", "PRIVATE_COLUMNS", "SCHEMA_VERSION", "ArchiveError",
           "archived_columns", "archived_tables", "column_kind"]

FORMAT = "manifesto-archive"
# Bump when the archive's layout changes in a way older code cannot read;
# adding a table or a column does not need it (see .reader).
SCHEMA_VERSION = 1

# Tables deliberately left out, with the reason. Everything else in the
# metadata is archived.
EXCLUDED_TABLES: dict[str, str] = {
    "search_entries": "derived: rebuilt from sections, amendments and comments after an import",
    "visits": "private reading position of each person; 'new since your last visit' simply starts over",
    "notifications": "derived from audit events and follows, and the mail outbox: restoring it would resend mail",
    "digests": "delivery records of digest emails already sent",
    "export_jobs": "derived: background builds of export files, made again on request",
    "content_states": "derived: the counters that key cached pages; an import starts them afresh",
    "login_sessions": "credentials: a restored instance starts with everyone logged out",
    "recovery_codes": "credentials: two-factor recovery codes never leave the database",
    "external_identities": "links to a sign-on provider's accounts: people are linked again by verified email "
                           "at their next single sign-on",
    "api_tokens": "credentials: a restored instance starts with no API token; people make new ones",
    "webhooks": "signing secrets and addresses of receivers: an admin registers them again on the new instance",
    "webhook_deliveries": "the delivery log of webhooks that are not carried over",
    "projections": "what a projector showed at the moment of the export: a restored instance starts with a blank "
                   "screen (the audit trail keeps what was shown)",
    "merge_drafts": "one moderator's merge in progress, tied to the live version: a restored instance starts with "
                    "none (the audit trail keeps what was merged)",
}

# Columns that never leave the database: what import_archive writes in their place.
PRIVATE_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"password_hash", "session_token", "totp_secret", "totp_enabled_at", "totp_last_step",
                        "totp_failures", "totp_locked_until"}),
}
# Columns written only when the archive is made with include_emails=True.
EMAIL_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"email"}),
}


class ArchiveError(ServiceError):
    """The archive cannot be imported; the message says why. Nothing was written."""


def archived_tables() -> list[Table]:
    """The tables an archive holds, in name order."""
    return sorted((table for table in db.metadata.tables.values() if table.name not in EXCLUDED_TABLES),
                  key=lambda table: table.name)


def column_kind(column: Column) -> str:
    """How a column's values are written: "bool", "int", "str", "datetime", "date" or "json".

    :raises TypeError: for a column type the archive does not know yet (a
        test runs this over every column, so a new type is noticed at once).
    """
    kind = column.type
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, String):
        return "str"
    if isinstance(kind, DateTime):
        return "datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, JSON):
        return "json"
    raise TypeError(f"the archive does not know how to write {column.table.name}.{column.name} ({kind!r})")


def archived_columns(table: Table, include_emails: bool) -> list[Column]:
    """The columns of ``table`` an archive holds."""
    hidden = PRIVATE_COLUMNS.get(table.name, frozenset())
    if not include_emails:
        hidden = hidden | EMAIL_COLUMNS.get(table.name, frozenset())
    return [column for column in table.columns if column.name not in hidden]
