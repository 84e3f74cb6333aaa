"""Backups while the app runs (``flask --app manifesto backup DEST``) and restoring one (``restore SRC``).

A backup is one folder::

    manifesto.sqlite   SQLite: a copy by SQLite's online backup API, made in one read transaction, so it is
                       one committed state of the database even while writers go on (WAL lets them)
    manifesto.pgdump   PostgreSQL: ``pg_dump --format=custom``, reading a snapshot our own transaction
                       exported, so the row counts in the manifest are the dump's
    archive.json       the JSON archive of the whole database (every document, email addresses included),
                       which ``import-archive`` restores on either engine; its own snapshot, taken just after
    MANIFEST.json      written last: time, engine, migration, app version, the copy's row counts, and each
                       file's size and sha256

Each file is written under a temporary name and renamed once complete, and a
backup that fails removes what it wrote: a folder holding MANIFEST.json is a
complete backup. When pg_dump is missing or too old for the server, the
archive and the manifest are still written and the command says what to
install (and exits non-zero, so cron reports it).

``restore SRC`` checks every file against the manifest, then puts the
database copy into the database the app is configured with, which must hold
no data: SQLite through the same backup API (refused while another process
has the file open), PostgreSQL with ``pg_restore`` in one transaction into a
database without tables. It then counts the rows as the app sees them and
compares them with the manifest.

pg_dump and pg_restore get the connection as a libpq connection string
without the password, which travels in ``PGPASSWORD``: a command line is
visible to every user of the machine, a process's environment is not.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from psycopg import ProgrammingError
from psycopg.conninfo import make_conninfo
from sqlalchemy import inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from .accounts.models import User
from .amendments.models import Amendment
from .database import is_database_failure
from .discussion.models import Comment
from .documents.models import Document, Section
from .exports.archive.writer import write_archive_to
from .extensions import db

__all__ = ["ARCHIVE_FILE", "MANIFEST_FILE", "PGDUMP_FILE", "SQLITE_FILE", "BackupError", "make_backup",
           "read_manifest", "register", "restore_backup"]

FORMAT = "manifesto-backup"
FORMAT_VERSION = 1
MANIFEST_FILE = "MANIFEST.json"
SQLITE_FILE = "manifesto.sqlite"
PGDUMP_FILE = "manifesto.pgdump"
ARCHIVE_FILE = "archive.json"
OUR_FILES = (MANIFEST_FILE, SQLITE_FILE, PGDUMP_FILE, ARCHIVE_FILE)
# The tables whose row counts a restore must find again: what people see first.
COUNTED = tuple(model.__tablename__ for model in (Document, Section, Amendment, Comment, User))
CHUNK = 1 << 20
# Why the database itself is missing from a backup, as codes (the sentence is made when shown).
PG_DUMP_NOT_FOUND = "pg_dump_not_found"
PG_DUMP_TOO_OLD = "pg_dump_too_old"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line, and what to do."""

    def __init__(self, message: str):
        """Keep the message for the command line."""
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    """A written backup: its folder and manifest, and why the database copy is missing, if it is."""

    folder: Path
    manifest: dict[str, Any]
    missing: str | None = None  # the sentence to show; the manifest has its code

    def describe(self) -> str:
        """Two lines for the command line: the files, then the rows."""
        files = ", ".join(_("%(name)s (%(size)s MiB)", name=entry["name"],
                            size=format_decimal(entry["bytes"] / 2**20, format="#,##0.0"))
                          for entry in self.manifest["files"])
        return "\n".join([_("Backup written to %(folder)s: %(files)s, %(manifest)s.", folder=self.folder,
                            files=files, manifest=MANIFEST_FILE),
                          _describe_counts(self.manifest["counts"], self.manifest.get("migration"))])


@dataclass(frozen=True)
class RestoreResult:
    """A restored database: the rows found in it, and its migration against the code's."""

    counts: dict[str, int]
    migration: str | None
    head: str | None

    def describe(self) -> str:
        """What was restored, and the migration step when the code is newer than the backup."""
        lines = [_("Restored. %(details)s", details=_describe_counts(self.counts, self.migration))]
        if self.migration != self.head:
            lines.append(_("The code is at migration %(head)s: run flask --app manifesto db upgrade before "
                           "starting the app.", head=self.head))
        return "\n".join(lines)


def _describe_counts(counts: dict[str, int], migration: str | None) -> str:
    """One line of row counts (table names, as the operator sees them in the database) and the migration."""
    listed = ", ".join(f"{name} {format_decimal(count)}" for name, count in counts.items())
    return _("Rows: %(counts)s; migration %(migration)s.", counts=listed, migration=migration or "-")


# ------------------------------------------------------------------ files


class _Folder:
    """The backup folder being filled: temporary names until a file is complete, and all of it gone on failure."""

    def __init__(self, path: Path):
        """Start with nothing written."""
        self.path = path
        self.written: list[Path] = []

    def temporary(self, name: str) -> Path:
        """Where ``name`` is written until it is complete (a leftover of a killed run is replaced)."""
        path = self.path / f".{name}.partial"
        _remove(path)
        self.written.append(path)
        # Made here, readable by its owner only: a backup holds password hashes and email addresses, and
        # the tools that fill it (SQLite, pg_dump) keep the mode of a file that exists.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        return path

    def finish(self, name: str, temporary: Path) -> dict[str, Any]:
        """Put a complete file in place; return its manifest entry."""
        final = self.path / name
        _fsync(temporary)
        os.replace(temporary, final)
        self.written.append(final)
        return {"name": name, "bytes": final.stat().st_size, "sha256": file_sha256(final)}

    def discard(self) -> None:
        """Remove everything this run wrote: a backup is complete or absent."""
        for path in self.written:
            _remove(path)


def _remove(path: Path) -> None:
    """Delete a file if it is there."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _fsync(path: Path) -> None:
    """Make a file's bytes (or a folder's entries) durable before we say the backup is written."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    """A file's sha256, read in chunks (a database copy may be larger than memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _os_reason(error: OSError) -> str:
    """An operating system error in words, the full disk named plainly."""
    if error.errno == errno.ENOSPC:
        return _("the disk is full")
    return error.strerror or str(error)


def _prepare(folder: Path, force: bool) -> _Folder:
    """Create the folder, and refuse to replace a backup in it unless ``force``.

    :raises BackupError: when the folder cannot be made or already holds a backup.
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(_("Cannot create the backup folder %(folder)s: %(reason)s.", folder=folder,
                            reason=_os_reason(error))) from error
    if not folder.is_dir():
        raise BackupError(_("%(folder)s is not a folder.", folder=folder))
    found = [name for name in OUR_FILES if (folder / name).exists()]
    if found and not force:
        raise BackupError(_("%(folder)s already holds a backup (%(files)s): choose another folder, or add --force "
                            "to replace it.", folder=folder, files=", ".join(found)))
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BackupError(_("Cannot write in the backup folder %(folder)s: permission denied.", folder=folder))
    # The old manifest goes first: a replacement that fails halfway must not be taken for the old backup.
    _remove(folder / MANIFEST_FILE)
    return _Folder(folder)


# ------------------------------------------------------------------ what the database says


def _counts(execute) -> dict[str, int]:
    """Rows of the counted tables, through ``execute(sql) -> scalar`` (a table not there counts 0)."""
    return {name: int(execute(f'SELECT count(*) FROM "{name}"') or 0) for name in COUNTED}


def migration_head() -> str | None:
    """The newest migration the code has (several heads are listed together)."""
    directory = current_app.extensions["migrate"].directory
    heads = ScriptDirectory(directory).get_heads()
    return ",".join(sorted(heads)) or None


def _app_version() -> str:
    """The installed version of Manifesto, as pip knows it."""
    try:
        return metadata.version("manifesto")
    except metadata.PackageNotFoundError:
        return "unknown"


def _now() -> str:
    """The current time in UTC, ISO 8601."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ SQLite


def _sqlite_path() -> str:
    """The live SQLite file of the app.

    :raises BackupError: for an in-memory database or a file that is not there.
    """
    path = db.engine.url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        raise BackupError(_("This SQLite database is not a plain file (%(database)s): there is nothing to copy.",
                            database=path or ":memory:"))
    return path


def _sqlite_scalar(connection: sqlite3.Connection):
    """``execute(sql) -> scalar`` on a sqlite3 connection, None when the table is not there."""

    def execute(sql: str):
        """Run one query and return its single value."""
        try:
            row = connection.execute(sql).fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        return row[0] if row else None

    return execute


def _busy_timeout() -> float:
    """Seconds a SQLite connection of ours waits for a lock, as the app's own."""
    return current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000) / 1000


def _copy_sqlite(folder: _Folder) -> dict[str, Any]:
    """Copy the live SQLite file with the online backup API; return what the manifest says of the copy.

    :raises BackupError: when the file is missing, the copy fails (disk full) or is damaged.
    """
    source_path = _sqlite_path()
    if not os.path.isfile(source_path):
        raise BackupError(_("The SQLite database %(path)s does not exist: there is nothing to back up.",
                            path=source_path))
    temporary = folder.temporary(SQLITE_FILE)
    try:
        source = sqlite3.connect(source_path, timeout=_busy_timeout())
        try:
            copy = sqlite3.connect(temporary)
            try:
                # All pages in one step: one read transaction of the source, so one committed state,
                # while WAL lets writers commit meanwhile (a copy made in steps restarts on every write).
                source.backup(copy, pages=-1)
                # One self-contained file, readable without a -wal beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
                check = copy.execute("PRAGMA quick_check").fetchone()[0]
                scalar = _sqlite_scalar(copy)
                info = {"counts": _counts(scalar), "migration": scalar("SELECT version_num FROM alembic_version"),
                        "server_version": sqlite3.sqlite_version}
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(_("The SQLite copy failed: %(reason)s.", reason=error)) from error
    if check != "ok":
        raise BackupError(_("The SQLite copy is damaged (%(reason)s); nothing was kept. Check the live database "
                            "with sqlite3 and PRAGMA integrity_check.", reason=check))
    info["file"] = folder.finish(SQLITE_FILE, temporary)
    return info


def _restore_sqlite(copy: Path) -> None:
    """Copy a backup's SQLite file into the app's database file, which must hold no data.

    :raises BackupError: when the target holds data, is open in another process, or the copy fails.
    """
    target = _sqlite_path()
    db.session.remove()
    db.engine.dispose()  # our own pooled connections would count as "another process"
    try:
        connection = sqlite3.connect(target, timeout=_busy_timeout())
        try:
            found = {name: count for name, count in _counts(_sqlite_scalar(connection)).items() if count}
            if found:
                raise BackupError(_("The database %(path)s is not empty (%(rows)s): restore into a new instance, "
                                    "or move this file away first.", path=target,
                                    rows=", ".join(f"{name} {count}" for name, count in found.items())))
            # Leaving WAL needs the only connection to the file: anything else still has it open.
            mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            if str(mode).lower() != "delete":
                raise BackupError(_("The database %(path)s is open in another process: stop the app and its "
                                    "worker, then restore.", path=target))
            source = sqlite3.connect(copy.resolve().as_uri() + "?mode=ro", uri=True)
            try:
                source.backup(connection, pages=-1)
            finally:
                source.close()
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as error:
        if "locked" in str(error) or "busy" in str(error):
            raise BackupError(_("The database %(path)s is open in another process: stop the app and its "
                                "worker, then restore.", path=target)) from error
        raise BackupError(_("The restore failed: %(reason)s.", reason=error)) from error
    if check != "ok":
        raise BackupError(_("The restored database is damaged (%(reason)s).", reason=check))


# ------------------------------------------------------------------ PostgreSQL


def _libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection string without the password, and the environment that carries the password.

    The rest of the environment is inherited, as the app's own connections
    inherit it (PGSSLMODE and the like apply to both).

    :raises BackupError: when DATABASE_URL holds a parameter libpq does not know.
    """
    params: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    params.update({key: value[-1] if isinstance(value, tuple) else value for key, value in url.query.items()})
    password = params.pop("password", None) or url.password
    params.setdefault("application_name", "manifesto-backup")
    timeout = current_app.config.get("DATABASE_CONNECT_TIMEOUT")
    if timeout:
        params.setdefault("connect_timeout", max(2, int(timeout)))
    try:
        conninfo = make_conninfo(**{key: value for key, value in params.items() if value is not None})
    except ProgrammingError as error:
        raise BackupError(_("DATABASE_URL cannot be given to the PostgreSQL tools: %(reason)s.",
                            reason=error)) from error
    environment = dict(os.environ)
    if password:
        environment["PGPASSWORD"] = str(password)
    return conninfo, environment


def _program(name: str) -> str | None:
    """Where a PostgreSQL client program is: in ``PG_BIN_DIR`` when set, else on PATH."""
    folder = current_app.config.get("PG_BIN_DIR")
    if folder:
        return shutil.which(name, path=str(folder))
    return shutil.which(name)


def client_version(program: str) -> tuple[int, ...] | None:
    """The major version of a PostgreSQL client program (``(15,)``, ``(9, 6)``), from its ``--version``."""
    try:
        output = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)(?:\.(\d+))?", output)
    if match is None:
        return None
    major = int(match.group(1))
    return (major,) if major >= 10 else (major, int(match.group(2) or 0))


def _server_major(number: int) -> tuple[int, ...]:
    """The major version from ``server_version_num`` (150020 -> (15,), 90624 -> (9, 6))."""
    return (number // 10000,) if number >= 100000 else (number // 10000, number // 100 % 100)


def _shown(version: tuple[int, ...]) -> str:
    """A major version as people write it."""
    return ".".join(map(str, version))


def _database_reason(error: SQLAlchemyError) -> str:
    """The driver's first line about a failed connection or query (libpq never repeats the password)."""
    original = getattr(error, "orig", None)
    lines = str(original if original is not None else error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _last_line(stderr: str) -> str:
    """The last thing a client program said, on one line."""
    lines = [line.strip() for line in (stderr or "").splitlines() if line.strip()]
    return lines[-1] if lines else _("no message")


def _dump_postgresql(folder: _Folder) -> tuple[dict[str, Any], str | None]:
    """Dump the database with pg_dump in a snapshot of our own; return the manifest's part and a missing-code.

    :raises BackupError: when pg_dump fails (its partial file removed).
    """
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            # The dump may take longer than the server lets a transaction sit idle; ours must stay open
            # until pg_dump has taken its snapshot.
            connection.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = 0")
            server = _server_major(int(connection.exec_driver_sql("SHOW server_version_num").scalar()))
            info: dict[str, Any] = {
                "server_version": connection.exec_driver_sql("SHOW server_version").scalar(),
                "counts": _counts(lambda sql: connection.exec_driver_sql(sql).scalar()),
                "migration": connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()}
            program = _program("pg_dump")
            if program is None:
                info["missing"] = PG_DUMP_NOT_FOUND
                return info, _("pg_dump was not found, so the database itself was not copied: install the "
                               "PostgreSQL client tools, version %(server)s or newer (Debian and Ubuntu: apt install "
                               "postgresql-client-%(server)s), or set PG_BIN_DIR to their folder.",
                               server=_shown(server))
            client = client_version(program)
            if client is None or client < server:
                info["missing"] = PG_DUMP_TOO_OLD
                return info, _("%(program)s (version %(client)s) cannot dump this PostgreSQL %(server)s server, so "
                               "the database itself was not copied: install the client tools of version %(server)s or "
                               "newer (Debian and Ubuntu: apt install postgresql-client-%(server)s), or set "
                               "PG_BIN_DIR to their folder.", program=program,
                               client=_shown(client) if client else "?", server=_shown(server))
            info["pg_dump_version"] = _shown(client)
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
            conninfo, environment = _libpq_target(db.engine.url)
            temporary = folder.temporary(PGDUMP_FILE)
            try:
                done = subprocess.run([program, "--format=custom", f"--file={temporary}", "--no-password",
                                       f"--snapshot={snapshot}", f"--dbname={conninfo}"],
                                      env=environment, capture_output=True, text=True)
            except OSError as error:
                raise BackupError(_("pg_dump could not be run: %(reason)s.", reason=_os_reason(error))) from error
    if done.returncode != 0:
        _remove(temporary)
        raise BackupError(_("pg_dump failed (exit status %(code)s): %(reason)s", code=done.returncode,
                            reason=_last_line(done.stderr)))
    info["file"] = folder.finish(PGDUMP_FILE, temporary)
    return info, None


def _restore_postgresql(dump: Path, manifest: dict[str, Any]) -> None:
    """Load a custom-format dump with pg_restore, in one transaction, into the app's database (no tables yet).

    :raises BackupError: when the database has tables, pg_restore is missing or too old, or it fails.
    """
    tables = inspect(db.engine).get_table_names()
    if tables:
        raise BackupError(_("The database %(name)s is not empty (%(num)s tables): create a new one (createdb NAME), "
                            "point DATABASE_URL at it, and restore again.", name=db.engine.url.database,
                            num=len(tables)))
    db.session.remove()
    db.engine.dispose()
    program = _program("pg_restore")
    needed = tuple(int(part) for part in str(manifest.get("pg_dump_version") or "0").split(".")[:2])
    needed = needed[:1] if needed and needed[0] >= 10 else needed
    client = client_version(program) if program else None
    if program is None or client is None or client < needed:
        raise BackupError(_("This dump needs pg_restore %(version)s or newer: install the PostgreSQL client tools "
                            "(Debian and Ubuntu: apt install postgresql-client-%(version)s), or set PG_BIN_DIR to "
                            "their folder.", version=_shown(needed)))
    conninfo, environment = _libpq_target(db.engine.url)
    try:
        done = subprocess.run([program, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                               "--no-password", f"--dbname={conninfo}", str(dump)],
                              env=environment, capture_output=True, text=True)
    except OSError as error:
        raise BackupError(_("pg_restore could not be run: %(reason)s.", reason=_os_reason(error))) from error
    if done.returncode != 0:
        raise BackupError(_("pg_restore failed (exit status %(code)s), nothing was restored: %(reason)s",
                            code=done.returncode, reason=_last_line(done.stderr)))


# ------------------------------------------------------------------ the backup


def make_backup(destination: Path, *, force: bool = False) -> BackupResult:
    """Write a backup of the running app's database into ``destination`` (created if needed).

    The database copy first (the part that matters most), then the archive,
    then the manifest. When pg_dump is missing or too old the result says
    so (``missing``) and the rest is written all the same.

    :raises BackupError: when the folder cannot be written, already holds a
        backup (without ``force``), the disk fills up, the database does
        not answer or a copy fails; nothing of this run is left behind.
    """
    folder = _prepare(Path(destination), force)
    try:
        engine = db.engine.dialect.name
        missing = None
        if engine == "sqlite":
            info = _copy_sqlite(folder)
        elif engine == "postgresql":
            info, missing = _dump_postgresql(folder)
        else:
            raise BackupError(_("A %(engine)s database cannot be backed up by this command; use its own tools and "
                                "the JSON archive (export SLUG --format json).", engine=engine))
        database_entry = info.pop("file", None)
        files = [database_entry] if database_entry else []
        temporary = folder.temporary(ARCHIVE_FILE)
        with open(temporary, "wb") as stream:
            # The backup is as private as the database it copies, so the addresses go in too.
            write_archive_to(stream, include_emails=True)
        files.append(folder.finish(ARCHIVE_FILE, temporary))
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "created_at": _now(), "app_version": _app_version(),
            "engine": engine, "server_version": info["server_version"], "migration": info["migration"],
            "migration_head": migration_head(), "counts": info["counts"],
            "database_file": database_entry["name"] if database_entry else None,
            "database_missing": info.get("missing"), "pg_dump_version": info.get("pg_dump_version"),
            "archive_includes_emails": True, "files": files,
        }
        temporary = folder.temporary(MANIFEST_FILE)
        temporary.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _fsync(temporary)
        os.replace(temporary, folder.path / MANIFEST_FILE)
        # A file of an earlier backup this one does not list (the other engine's copy) would mislead.
        for name in (SQLITE_FILE, PGDUMP_FILE):
            if name not in {entry["name"] for entry in files}:
                _remove(folder.path / name)
        _fsync(folder.path)
    except BackupError:
        folder.discard()
        raise
    except OSError as error:
        folder.discard()
        raise BackupError(_("The backup could not be written to %(folder)s: %(reason)s. Nothing of it was kept.",
                            folder=folder.path, reason=_os_reason(error))) from error
    except SQLAlchemyError as error:
        folder.discard()
        if not is_database_failure(error):
            raise
        raise BackupError(_("The database did not answer (%(reason)s); nothing was kept. Try again when it "
                            "answers.", reason=_database_reason(error))) from error
    except BaseException:  # interrupted, or a bug: still no half backup left behind
        folder.discard()
        raise
    return BackupResult(folder.path, manifest, missing)


# ------------------------------------------------------------------ the restore


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of a backup folder.

    :raises BackupError: when there is none, or it is not a Manifesto backup's.
    """
    path = Path(source) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupError(_("%(folder)s holds no %(manifest)s: it is not a complete backup.", folder=source,
                            manifest=MANIFEST_FILE)) from error
    except (OSError, ValueError) as error:
        raise BackupError(_("%(path)s cannot be read: %(reason)s.", path=path, reason=error)) from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("%(path)s is not the manifest of a Manifesto backup.", path=path))
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(_("This backup was written by another version of Manifesto (backup format %(found)s); "
                            "restore its JSON archive with import-archive instead.",
                            found=manifest.get("format_version")))
    return manifest


def verify_files(source: Path, manifest: dict[str, Any]) -> None:
    """Check every file the manifest lists: there, of its size, with its sha256.

    :raises BackupError: naming the first file that is missing or damaged.
    """
    for entry in manifest["files"]:
        path = Path(source) / entry["name"]
        if not path.is_file():
            raise BackupError(_("The backup is incomplete: %(file)s is missing.", file=path))
        if path.stat().st_size != entry["bytes"] or file_sha256(path) != entry["sha256"]:
            raise BackupError(_("The backup is damaged: %(file)s is not the file that was written (its size or "
                                "sha256 differs from the manifest's).", file=path))


def _archive_instead(source: Path) -> str:
    """The way to restore the archive instead, in commands."""
    return _("restore its JSON archive instead: flask --app manifesto db upgrade, then flask --app manifesto "
             "import-archive %(archive)s", archive=Path(source) / ARCHIVE_FILE)


def restore_backup(source: Path) -> RestoreResult:
    """Restore a backup's database copy into the app's database, which must hold no data; check the counts.

    :raises BackupError: when the folder is no complete backup, a file is damaged, the engines differ, the
        copy is missing (pg_dump was), the target holds data or is in use, a tool fails, or the restored
        rows are not the manifest's.
    """
    source = Path(source)
    manifest = read_manifest(source)
    verify_files(source, manifest)
    engine = db.engine.dialect.name
    if manifest["engine"] != engine:
        raise BackupError(_("This backup holds a %(backup)s database and the app uses %(engine)s: %(how)s.",
                            backup=manifest["engine"], engine=engine, how=_archive_instead(source)))
    name = manifest.get("database_file")
    if not name:
        raise BackupError(_("This backup holds no copy of the database (pg_dump was missing or too old when it "
                            "was made): %(how)s.", how=_archive_instead(source)))
    try:
        if engine == "sqlite":
            _restore_sqlite(source / name)
        else:
            _restore_postgresql(source / name, manifest)
        counts = _counts(lambda sql: db.session.connection().exec_driver_sql(sql).scalar())
        migration = db.session.connection().exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        db.session.commit()
    except SQLAlchemyError as error:
        if not is_database_failure(error):
            raise
        raise BackupError(_("The database did not answer (%(reason)s).", reason=_database_reason(error))) from error
    if counts != manifest["counts"]:
        raise BackupError(_("The restored database does not hold the rows the backup counted (%(found)s instead of "
                            "%(expected)s).", found=counts, expected=manifest["counts"]))
    return RestoreResult(counts, migration, migration_head())


# ------------------------------------------------------------------ the commands


def register(app: Flask) -> None:
    """Add the ``backup`` and ``restore`` commands."""

    @app.cli.command("backup")
    @click.argument("destination", type=click.Path(path_type=Path))
    @click.option("--force", is_flag=True, help="Replace the backup DESTINATION already holds (it is lost if this "
                                                "one fails).")
    def backup_command(destination: Path, force: bool) -> None:
        """Back up the database while the app runs, into the folder DESTINATION (created if needed).

        SQLite: a copy by SQLite's online backup API. PostgreSQL: pg_dump in
        custom format (install the PostgreSQL client tools). Plus the JSON
        archive of every document and a MANIFEST.json with each file's sha256.
        Exits non-zero when anything is missing, so cron tells you.
        """
        try:
            result = make_backup(destination, force=force)
        except BackupError as error:
            raise click.ClickException(error.message) from error
        click.echo(result.describe())
        if result.missing:
            raise click.ClickException(_("%(problem)s The JSON archive was still written: %(archive)s.",
                                         problem=result.missing, archive=result.folder / ARCHIVE_FILE))

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(path_type=Path))
    def restore_command(source: Path) -> None:
        """Restore the backup folder SOURCE into the database the app is configured with, which must be empty.

        Stop the app and its worker first. SQLite: the instance's database
        file must hold no data. PostgreSQL: a new database without tables
        (createdb NAME, then DATABASE_URL pointing at it); pg_restore runs in
        one transaction. Every file is checked against the manifest first,
        and the restored rows are counted against it afterwards.
        """
        try:
            result = restore_backup(source)
        except BackupError as error:
            raise click.ClickException(error.message) from error
        click.echo(result.describe())
