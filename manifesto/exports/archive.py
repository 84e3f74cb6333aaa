"""The JSON archive: the whole database's content, for the record, for backups and for moving instances.

An archive holds every table of the SQLAlchemy metadata except the ones
listed in :data:`EXCLUDED_TABLES` (derived data that is rebuilt, and private
delivery state), so a table added later is archived without a change here;
``tests/test_archive.py`` fails when a table is neither archived with data
nor excluded with a reason. It covers **every document** of the instance, not
one slug. Of each archived table it keeps every column except those in
:data:`PRIVATE_COLUMNS` (password hashes and session tokens never leave
the database); users' email addresses only when ``include_emails=True``,
which only an admin may ask for: the web and command-line layers enforce
that, this module does not know who asks.

The file is UTF-8 JSON, deterministic so that an archive restored with
:func:`import_archive` and exported again is byte-identical::

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
values, no export timestamp. Rows are read table by table in one
consistent snapshot and streamed: memory holds one batch of rows, plus the
output when the caller asks for bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, String, Table, select

from ..extensions import db
from ..services import ServiceError

FORMAT = "manifesto-archive"
# Bump when the archive's layout changes in a way older code cannot read;
# adding a table or a column does not need it (see archive_import).
SCHEMA_VERSION = 1

# Tables deliberately left out, with the reason. Everything else in the
# metadata is archived.
EXCLUDED_TABLES: dict[str, str] = {
    "search_entries": "derived: rebuilt from sections, amendments and comments after an import",
    "visits": "private reading position of each person; 'new since your last visit' simply starts over",
    "notifications": "derived from audit events and follows, and the mail outbox: restoring it would resend mail",
    "digests": "delivery records of digest emails already sent",
    "export_jobs": "derived: background builds of export files, made again on request",
}

# Columns that never leave the database: what import_archive writes in their place.
PRIVATE_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"password_hash", "session_token"}),
}
# Columns written only when the archive is made with include_emails=True.
EMAIL_COLUMNS: dict[str, frozenset[str]] = {
    "users": frozenset({"email"}),
}

BATCH = 2000  # rows fetched at a time


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


def format_datetime(value: datetime) -> str:
    """A stored datetime as ISO 8601 UTC with microseconds (SQLite returns naive UTC values)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _writer(kind: str):
    """The function that turns a stored value of this kind into a JSON value."""
    if kind == "datetime":
        return lambda value: None if value is None else format_datetime(value)
    if kind == "date":
        return lambda value: None if value is None else value.isoformat()
    if kind == "bool":
        return lambda value: None if value is None else bool(value)
    return lambda value: value


def _dump(value: Any) -> str:
    """One JSON value, keys sorted, non-ASCII kept as is, on one line.

    The Unicode line and paragraph separators are escaped, so that no tool
    that splits lines on them cuts a row in two.
    """
    dumped = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)
    return dumped.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def iter_archive(*, include_emails: bool = False) -> Iterator[str]:
    """Yield the archive of the whole database (every document) as pieces of text, table by table.

    Reads every table in one snapshot (REPEATABLE READ on PostgreSQL; one
    read transaction on SQLite), one query per table, rows streamed in batches.
    """
    yield "{\n"
    yield f'  "format": {_dump(FORMAT)},\n  "includes_emails": {_dump(bool(include_emails))},\n'
    yield f'  "schema_version": {SCHEMA_VERSION},\n  "tables": {{'
    engine = db.engine
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with engine.connect() as connection:
        connection = connection.execution_options(**options)
        with connection.begin():
            for index, table in enumerate(archived_tables()):
                yield ",\n" if index else "\n"
                yield from _iter_table(connection, table, include_emails)
    yield "\n  }\n}\n"


def _iter_table(connection, table: Table, include_emails: bool) -> Iterator[str]:
    """Yield one table's entry: its name and its rows by primary key, one a line."""
    columns = archived_columns(table, include_emails)
    writers = [(column.name, _writer(column_kind(column))) for column in columns]
    query = select(*columns).order_by(*table.primary_key.columns)
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(query)
    yield f"    {_dump(table.name)}: ["
    first = True
    for row in result:
        values = {name: write(value) for (name, write), value in zip(writers, row, strict=True)}
        yield ("\n      " if first else ",\n      ") + _dump(values)
        first = False
    yield "]" if first else "\n    ]"


def write_archive(*, include_emails: bool = False) -> bytes:
    """The archive of the whole database (every document, not one slug) as UTF-8 JSON bytes.

    ``include_emails`` adds users' email addresses: only an admin may ask for
    it, and the caller checks that. Password hashes and session tokens are
    never written. The same data gives the same bytes, on either engine.
    """
    buffer = io.BytesIO()
    write_archive_to(buffer, include_emails=include_emails)
    return buffer.getvalue()


def write_archive_to(stream: IO[bytes], *, include_emails: bool = False) -> int:
    """Write the archive to a binary file as it is read, without holding it all; returns the bytes written."""
    written = 0
    for piece in iter_archive(include_emails=include_emails):
        data = piece.encode("utf-8")
        stream.write(data)
        written += len(data)
    return written


def import_archive(data: bytes | str):
    """Restore an archive into an empty database in one transaction (see :mod:`.archive_import`)."""
    from .archive_import import import_archive as restore

    return restore(data)
