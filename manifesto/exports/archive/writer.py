"""Writing the JSON archive of the whole database, streamed table by table (its layout: :mod:`.schema`).

Rows are read table by table in one consistent snapshot and streamed:
memory holds one batch of rows, plus the output when the caller asks for
bytes. The same data gives the same bytes, on either engine.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any

from sqlalchemy import Table, select

from ...extensions import db
from .schema import FORMAT, SCHEMA_VERSION, archived_columns, archived_tables, column_kind

__all__ = ["format_datetime", "iter_archive", "write_archive", "write_archive_to"]

BATCH = 2000  # rows fetched at a time


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
