"""Restoring a JSON archive into an empty database, in one transaction, ids preserved.

:func:`import_archive` first reads the whole archive and checks it without
touching the database (:func:`read_archive`): JSON, format, schema version,
every table and field, every value's type, and every reference to another
row. Only then does it open one write transaction, which

1. refuses a database that holds anything at all;
2. inserts the tables in dependency order (``metadata.sorted_tables``).
   A reference to a row of the same table or of a table inserted later (a
   section's current version, a version's parent, an amendment merged into
   a later one, a reply) is inserted empty and set once every row is in;
3. on PostgreSQL moves every id sequence past the highest restored id, so
   the next account or amendment does not collide with a restored one;
4. rebuilds the search index from the restored rows.

Any failure rolls all of it back: an import never leaves half an archive.
The import records no audit event: the restored audit trail is the record,
and an event of its own would make the next archive differ from the one
restored (the import is logged instead).

People come back with a password that matches nothing (they need a new one
from an admin, or a new account is made with ``create-user``) and fresh
session tokens. Without email addresses in the archive each gets a
placeholder, ``user-<id>@archive.invalid``: the ``.invalid`` top-level domain
is reserved (RFC 2606) and never receives mail.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from babel.lists import format_list
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import JSON, Integer, Table, bindparam, func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from ...amendments.citations import renumber_rows
from ...extensions import db
from ...i18n import current_language
from ...search.indexing import reindex
from ...services import writes
from ...audit import states
from .schema import (EMAIL_COLUMNS, EXCLUDED_TABLES, FORMAT, PRIVATE_COLUMNS, SCHEMA_VERSION, ArchiveError,
                     archived_columns, archived_tables, column_kind)

log = logging.getLogger(__name__)

# A password hash no password matches: werkzeug never makes one without "$".
UNUSABLE_PASSWORD = "!restored-from-archive"
PLACEHOLDER_EMAIL = "user-{id}@archive.invalid"
# What is written in place of a private column; a private column missing here takes its model default.
PRIVATE_VALUES: dict[tuple[str, str], str] = {("users", "password_hash"): UNUSABLE_PASSWORD}

MAX_PROBLEMS = 20  # problems listed in one refusal
CHUNK = 1000  # rows per INSERT: the copies made for the database stay small
IMPORT_LOCK = 0x4D414E49  # PostgreSQL advisory lock key held by a running import ("MANI")
# Fields of older archives that hold derived data now worked out otherwise: read, dropped, and computed again.
# Amendments cited document-wide lines before migration 0019; they cite lines of their base version now.
LEGACY_FIELDS = {"amendments": {"first_line", "last_line"}}
INT32 = 2**31 - 1
INT64 = 2**63 - 1


@dataclass
class ArchivePlan:
    """A checked archive, ready to insert: rows by table name, values converted for the database."""

    includes_emails: bool
    rows: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class ArchiveSummary:
    """What an import restored."""

    counts: dict[str, int]  # rows restored, by table
    includes_emails: bool
    indexed: dict[str, int] = field(default_factory=dict)  # search entries rebuilt, by kind

    @property
    def users(self) -> int:
        """Accounts restored."""
        return self.counts.get("users", 0)

    @property
    def documents(self) -> int:
        """Documents restored."""
        return self.counts.get("documents", 0)

    def describe(self) -> str:
        """A few lines for the command line."""
        rows = sum(self.counts.values())
        tables = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()) if count)
        documents = ngettext("%(num)s document", "%(num)s documents", self.documents)
        users = ngettext("%(num)s user", "%(num)s users", self.users)
        lines = [_("Imported %(documents)s and %(users)s: %(rows)s rows in %(tables)s tables (%(list)s).",
                   documents=documents, users=users, rows=rows, tables=len(self.counts), list=tables),
                 _("Search index rebuilt: %(counts)s.",
                   counts=", ".join(f"{kind} {count}" for kind, count in self.indexed.items()))]
        lines.append(_("Nobody can log in with an old password: passwords never leave the database."))
        if not self.includes_emails:
            lines.append(_("The archive held no email addresses: every account has a placeholder address "
                           "(user-<id>@archive.invalid) that receives no mail."))
        return "\n".join(lines)


class _Problems:
    """The reasons an archive is refused, collected so that one refusal lists many."""

    def __init__(self) -> None:
        """Start with nothing found."""
        self.items: list[str] = []
        self.total = 0

    def add(self, message: str) -> None:
        """Note one problem."""
        self.total += 1
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(message)

    def raise_any(self) -> None:
        """Refuse the archive if anything was found."""
        if not self.total:
            return
        if self.total == 1:
            raise ArchiveError(_("This archive cannot be imported: %(problem)s", problem=self.items[0]))
        listed = "\n- ".join(self.items)
        if self.total > len(self.items):
            listed += "\n- " + _("and %(num)s more", num=self.total - len(self.items))
        raise ArchiveError(_("This archive cannot be imported (%(num)s problems):", num=self.total) + "\n- " + listed)


# ------------------------------------------------------------------ reading

def _decode(data: bytes | str) -> str:
    """The archive's text: gunzipped if compressed, UTF-8 (a byte order mark is allowed)."""
    if isinstance(data, str):
        return data
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise ArchiveError(_("This archive is compressed with gzip, but the compressed file is damaged or "
                                 "truncated: copy it again from its source.")) from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data":
            raise ArchiveError(_truncated(error.start)) from error
        raise ArchiveError(_("This file is not a Manifesto archive: it is not UTF-8 text "
                             "(byte %(byte)s cannot be read).", byte=error.start)) from error


def _truncated(position: int) -> str:
    """The refusal for a file that stops in the middle."""
    return _("This archive is truncated: it stops in the middle (after %(num)s characters). "
             "Nothing was imported; copy the complete file again from its source.", num=position)


def _cut_short(rest: str, message: str) -> bool:
    """Whether a JSON error means the text stopped early: it fails where the text ends, or in its last token."""
    if not rest or message.startswith("Unterminated string"):
        return True
    if message.startswith("Invalid \\uXXXX escape") and len(rest) <= 6:
        return True
    return any(word.startswith(rest) for word in ("true", "false", "null")) or bool(re.fullmatch(r"[-+.eE\d]+", rest))


def _parse(text_: str) -> Any:
    """The archive's JSON value."""
    if not text_.strip():
        raise ArchiveError(_("This file is empty: it is not a Manifesto archive."))
    try:
        return json.loads(text_)
    except json.JSONDecodeError as error:
        end = len(text_.rstrip())
        if _cut_short(text_[error.pos:end], error.msg):
            raise ArchiveError(_truncated(end)) from error
        raise ArchiveError(_("This file is not a Manifesto archive: it is not valid JSON (line %(line)s, "
                             "column %(column)s: %(error)s).", line=error.lineno, column=error.colno,
                             error=error.msg)) from error
    except RecursionError as error:
        raise ArchiveError(_("This file is not a Manifesto archive: its JSON is nested too deeply.")) from error


def read_archive(data: bytes | str) -> ArchivePlan:
    """Parse and check an archive without touching the database.

    :raises ArchiveError: listing what is wrong: not JSON, truncated, another
        format, a newer schema, missing or unknown tables and fields, values
        of the wrong type, references to rows the archive does not hold.
    """
    archive = _parse(_decode(data))
    if not isinstance(archive, dict) or "format" not in archive:
        raise ArchiveError(_('This file is not a Manifesto archive: it is JSON, but has no "format": "%(format)s".',
                             format=FORMAT))
    if archive["format"] != FORMAT:
        raise ArchiveError(_('This file is not a Manifesto archive: its format is %(found)s, not "%(format)s".',
                             found=json.dumps(archive["format"]), format=FORMAT))
    version = archive.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError(_('This archive is damaged: its "schema_version" is missing or not a positive number.'))
    if version > SCHEMA_VERSION:
        raise ArchiveError(_("This archive was written by a newer version of Manifesto (archive schema %(found)s; "
                             "this version reads up to %(supported)s). Upgrade Manifesto, then import it.",
                             found=version, supported=SCHEMA_VERSION))
    includes_emails = archive.get("includes_emails", False)
    tables = archive.get("tables")
    if not isinstance(includes_emails, bool) or not isinstance(tables, dict):
        raise ArchiveError(_('This archive is damaged: "includes_emails" must be true or false, and "tables" '
                             "an object of tables."))

    problems = _Problems()
    known = {table.name: table for table in archived_tables()}
    for name in sorted(set(tables) - set(known)):
        if name in EXCLUDED_TABLES:
            problems.add(_('it holds a table "%(name)s" that cannot be imported (it is never archived).', name=name))
        else:
            problems.add(_('it holds a table "%(name)s" that cannot be imported (this version of Manifesto has no '
                           "such table).", name=name))
    for name in sorted(set(known) - set(tables)):
        problems.add(_('the table "%(name)s" is missing.', name=name))
    plan = ArchivePlan(includes_emails, {})
    for name, table in known.items():
        if name in tables:
            plan.rows[name] = _read_table(table, tables[name], includes_emails, problems)
    problems.raise_any()
    _check_references(plan, problems)
    problems.raise_any()
    return plan


def _fillable(column) -> bool:
    """Whether the database can do without a value for the column (nullable, or a default)."""
    return column.nullable or column.default is not None or column.server_default is not None


def _read_table(table: Table, rows: Any, includes_emails: bool, problems: _Problems) -> list[dict[str, Any]]:
    """Check one table's rows and convert their values in place; returns the rows."""
    name = table.name
    if not isinstance(rows, list):
        problems.add(_('the table "%(name)s" is not a list of rows.', name=name))
        return []
    columns = {column.name: column for column in archived_columns(table, includes_emails)}
    readers = {column_name: _reader(column) for column_name, column in columns.items()}
    present = set().union(*(row.keys() for row in rows if isinstance(row, dict))) if rows else set(columns)
    # A column no row has (an archive from before it existed) takes its default, if it may.
    absent = {column_name for column_name in columns if column_name not in present}
    for column_name in sorted(absent):
        if not _fillable(columns[column_name]):
            problems.add(_('the table "%(name)s" has no field "%(field)s", which every row needs.', name=name,
                           field=column_name))
    expected = set(columns) - absent
    fillers = _private_fillers(table, includes_emails)
    primary = [column.name for column in table.primary_key.columns]
    seen: set[tuple] = set()
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            problems.add(_("%(table)s, row %(row)s: a row must be an object of fields.", table=name, row=index))
            continue
        where = _where(name, index, row, primary)
        for key in sorted(row.keys() - columns.keys() - LEGACY_FIELDS.get(name, set())):
            problems.add(_('%(where)s: unknown field "%(field)s".', where=where, field=key))
        for key in sorted(expected - row.keys()):
            problems.add(_('%(where)s: the field "%(field)s" is missing.', where=where, field=key))
        for key in sorted(expected & row.keys()):
            value = row[key]
            if value is None:
                if not columns[key].nullable:
                    problems.add(_('%(where)s: the field "%(field)s" must not be null.', where=where, field=key))
                continue
            try:
                row[key] = readers[key](value)
            except (TypeError, ValueError) as error:
                problems.add(_('%(where)s: the field "%(field)s" %(error)s.', where=where, field=key, error=error))
        identity = tuple(row.get(key) for key in primary)
        if identity in seen:
            problems.add(_("%(where)s: the same id appears twice.", where=where))
        seen.add(identity)
        for key, fill in fillers.items():
            row[key] = fill(row)
    return rows


def _where(name: str, index: int, row: dict, primary: list[str]) -> str:
    """Where a problem is, for the message: ``comments, row 5 (id 12)``."""
    ids = ", ".join(f"{key} {row[key]!r}" for key in primary if key in row)
    return f"{name}, row {index}" + (f" ({ids})" if ids else "")


def _private_fillers(table: Table, includes_emails: bool) -> dict[str, Any]:
    """What to write, row by row, in the columns an archive never holds (missing ones take their default)."""
    fillers = {}
    for column_name in PRIVATE_COLUMNS.get(table.name, frozenset()):
        value = PRIVATE_VALUES.get((table.name, column_name))
        if value is not None:
            fillers[column_name] = lambda row, value=value: value
    if not includes_emails:
        for column_name in EMAIL_COLUMNS.get(table.name, frozenset()):
            fillers[column_name] = lambda row: PLACEHOLDER_EMAIL.format(id=row.get("id"))
    return fillers


def _reader(column):
    """The function that checks one JSON value for ``column`` and converts it; raises ValueError/TypeError."""
    kind = column_kind(column)
    if kind == "int":
        limit = INT32 if type(column.type) is Integer else INT64

        def read_int(value):
            """A whole number in the column's range."""
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"must be a whole number, not {_shown(value)}")
            if not -limit - 1 <= value <= limit:
                raise ValueError(f"is out of range ({value})")
            return value

        return read_int
    if kind == "str":
        length = getattr(column.type, "length", None)

        def read_str(value):
            """A string that fits the column."""
            if not isinstance(value, str):
                raise TypeError(f"must be text, not {_shown(value)}")
            if length is not None and len(value) > length:
                raise ValueError(f"is longer than {length} characters")
            if "\x00" in value:
                raise ValueError("contains a NUL character")
            return value

        return read_str
    if kind == "bool":

        def read_bool(value):
            """true or false."""
            if not isinstance(value, bool):
                raise TypeError(f"must be true or false, not {_shown(value)}")
            return value

        return read_bool
    if kind == "datetime":
        return _read_datetime
    if kind == "date":

        def read_date(value):
            """An ISO 8601 date."""
            if not isinstance(value, str):
                raise TypeError(f"must be a date, not {_shown(value)}")
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"is not a date ({_shown(value)})") from None

        return read_date
    return lambda value: value  # json: any JSON value


def _read_datetime(value: Any) -> datetime:
    """An ISO 8601 timestamp, as aware UTC (one without a zone is taken as UTC)."""
    if not isinstance(value, str):
        raise TypeError(f"must be an ISO 8601 date and time, not {_shown(value)}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"is not an ISO 8601 date and time ({_shown(value)})") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _shown(value: Any) -> str:
    """A short display of a wrong value."""
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _check_references(plan: ArchivePlan, problems: _Problems) -> None:
    """Every reference to another row must name a row the archive holds."""
    keys: dict[tuple[str, str], set] = {}
    for name, rows in plan.rows.items():
        table = db.metadata.tables[name]
        for foreign_key in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
            target = foreign_key.column
            column_name = foreign_key.parent.name
            if target.table.name not in plan.rows:
                problems.add(_('%(column)s refers to "%(table)s", which archives do not hold.',
                               column=name + "." + column_name, table=target.table.name))
                continue
            key = (target.table.name, target.name)
            if key not in keys:
                keys[key] = {row.get(target.name) for row in plan.rows[target.table.name]}
            known = keys[key]
            primary = [column.name for column in table.primary_key.columns]
            for index, row in enumerate(rows, start=1):
                value = row.get(column_name)
                if value is not None and value not in known:
                    problems.add(_("%(where)s: %(field)s %(value)s refers to a row of %(table)s that the archive "
                                   "does not hold.", where=_where(name, index, row, primary), field=column_name,
                                   value=repr(value), table=target.table.name))


# ------------------------------------------------------------------ writing

def import_archive(data: bytes | str) -> ArchiveSummary:
    """Restore an archive into an empty database, in one transaction, with the archive's ids.

    The schema must exist (``flask --app manifesto db upgrade``). A second
    archive of the restored database is byte-identical to the one imported.

    :raises ArchiveError: when the archive is refused or the database is not
        empty or refuses a row; nothing is written then.
    """
    plan = read_archive(data)
    _check_schema()
    try:
        summary = _restore(plan)
        # Pages cached from another database with the same ids must never be served for this one.
        states.bump_all()
    except DBAPIError as error:
        if error.connection_invalidated:
            raise
        raise ArchiveError(_("The database refused the archive, so nothing was imported: %(error)s",
                             error=_database_message(error))) from error
    log.info("archive imported: %s rows in %s tables", sum(summary.counts.values()), len(summary.counts))
    return summary


def _check_schema() -> None:
    """The database must have every table and column of this version (made by ``db upgrade``)."""
    inspector = inspect(db.engine)
    existing = set(inspector.get_table_names())
    for table in db.metadata.sorted_tables:
        if table.name not in existing:
            raise ArchiveError(_('The database has no table "%(name)s": create the schema with '
                                 "`flask --app manifesto db upgrade` first, then import.", name=table.name))
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in columns]
        if missing:
            raise ArchiveError(_('The database\'s table "%(name)s" lacks %(columns)s: bring the schema up to date '
                                 "with `flask --app manifesto db upgrade` first, then import.", name=table.name,
                                 columns=", ".join(missing)))


def _database_message(error: DBAPIError) -> str:
    """The database's own words, with the table it refused a row of."""
    words = " ".join(str(error.orig).split())
    match = re.match(r"\s*(?:INSERT INTO|UPDATE)\s+\"?(\w+)", error.statement or "", re.I)
    where = f" (while writing {match.group(1)})" if match else ""
    return (words[:500] + ("..." if len(words) > 500 else "")) + where + "."


def _refuse_non_empty(connection) -> None:
    """Refuse a database that already holds anything, naming what."""
    tables = db.metadata.sorted_tables
    counts = connection.execute(select(*[
        select(func.count()).select_from(table).scalar_subquery().label(table.name) for table in tables])).one()
    held = {table.name: count for table, count in zip(tables, counts, strict=True) if count}
    if not held:
        return
    parts = []
    if "documents" in held:
        count = held.pop("documents")
        parts.append(ngettext("%(num)s document", "%(num)s documents", count))
    if "users" in held:
        count = held.pop("users")
        parts.append(ngettext("%(num)s user", "%(num)s users", count))
    if not parts:
        parts = [ngettext("%(num)s row in %(table)s", "%(num)s rows in %(table)s", count, table=name)
                 for name, count in sorted(held.items())]
    raise ArchiveError(_("The database already holds %(what)s: import only into an empty database "
                         "(a new one, with its schema made by `flask --app manifesto db upgrade`). "
                         "Nothing was imported.", what=format_list(parts, locale=current_language())))


def _insert_statement(table: Table):
    """An INSERT for ``table`` that writes None as SQL NULL in JSON columns (not the JSON value null)."""
    values = {column.name: bindparam(f"{column.name}__json", type_=JSON(none_as_null=True))
              for column in table.columns if column_kind(column) == "json"}
    return insert(table).values(values) if values else insert(table)


@writes
def _restore(plan: ArchivePlan) -> ArchiveSummary:
    """Insert every row of a checked archive, set forward references, reset sequences, rebuild the index."""
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        # A large archive writes big statements; this transaction only.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        # Two imports at once: the second waits here, then finds the database full and says so.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": IMPORT_LOCK})
    _refuse_non_empty(connection)

    order = [table for table in db.metadata.sorted_tables if table.name in plan.rows]
    position = {table.name: index for index, table in enumerate(order)}
    later: list[tuple[Table, list[str], list[dict[str, Any]]]] = []
    renumber: list[int] = []  # amendments of an archive from before citations were relative
    for table in order:
        rows = plan.rows[table.name]
        forward = sorted(fk.parent.name for fk in table.foreign_keys
                         if fk.parent.nullable and position[fk.column.table.name] >= position[table.name])
        json_columns = [column.name for column in table.columns if column_kind(column) == "json"]
        statement = _insert_statement(table)
        for start in range(0, len(rows), CHUNK):
            params = []
            for row in rows[start:start + CHUNK]:
                values = dict(row)
                if LEGACY_FIELDS.get(table.name, set()) & values.keys():
                    renumber.append(values["id"])
                    for name in LEGACY_FIELDS[table.name]:
                        values.pop(name, None)
                for name in forward:
                    values[name] = None
                for name in json_columns:
                    if name in values:
                        values[f"{name}__json"] = values.pop(name)
                params.append(values)
            connection.execute(statement, params)
        if forward and rows:
            later.append((table, forward, rows))

    for table, forward, rows in later:
        (primary,) = table.primary_key.columns
        for name in forward:
            params = [{"b_id": row[primary.name], "b_value": row[name]} for row in rows if row.get(name) is not None]
            if params:
                connection.execute(update(table).where(primary == bindparam("b_id"))
                                   .values({name: bindparam("b_value")}), params)

    if renumber:
        renumber_rows(connection, renumber)
    if postgresql:
        _reset_sequences(connection, order)
    indexed = reindex()
    return ArchiveSummary({name: len(rows) for name, rows in sorted(plan.rows.items())}, plan.includes_emails,
                          indexed)


def _reset_sequences(connection, tables: list[Table]) -> None:
    """PostgreSQL: make each table's id sequence continue after the highest restored id (one statement)."""
    calls = []
    for table in tables:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or column_kind(columns[0]) != "int":
            continue
        name, column = table.name, columns[0].name
        calls.append(f"setval(pg_get_serial_sequence('\"{name}\"', '{column}'), "
                     f"COALESCE((SELECT MAX(\"{column}\") FROM \"{name}\"), 0) + 1, false)")
    if calls:
        connection.execute(text("SELECT " + ", ".join(calls)))
