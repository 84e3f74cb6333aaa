"""Backups while the app runs, and restoring them, on both engines.

SQLite: the online backup API copies one committed state while a writer
goes on; PostgreSQL: pg_dump in a snapshot of our own, with the password
never on its command line. A restore into an empty database shows the same
rows to the app, and the JSON archive in the backup imports to the same
texts. What an operator meets when it goes wrong is one line and a non-zero
exit: a folder that cannot be made, a full disk, pg_dump missing or too old.
"""

from __future__ import annotations

import errno
import json
from importlib import metadata
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from manifesto import backup
from manifesto.accounts.models import User
from manifesto.amendments.models import Amendment
from manifesto.backup import ARCHIVE_FILE, COUNTED, MANIFEST_FILE, PGDUMP_FILE, SQLITE_FILE, file_sha256
from manifesto.discussion.models import Comment
from manifesto.documents.models import Section, SectionVersion
from manifesto.exports.archive.reader import import_archive
from manifesto.exports.archive.writer import write_archive
from manifesto.extensions import db

from harness import PASSWORD, empty_tables

SCRATCH_DATABASE = "manifesto_restore_test"


# ------------------------------------------------------------------ helpers

def _sqlite_only() -> None:
    """These tests copy the SQLite file; the PostgreSQL run tests pg_dump instead."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("needs SQLite (the default test database)")


def _postgres_only() -> None:
    """These tests run pg_dump and pg_restore against the test server."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")


def _counts() -> dict[str, int]:
    """Rows of the counted tables, as the app sees them."""
    db.session.commit()
    counts = {name: db.session.scalar(select(func.count()).select_from(db.metadata.tables[name]))
              for name in COUNTED}
    db.session.commit()  # no read transaction left open: it would hold its locks while another app runs
    return counts


def _texts() -> dict:
    """Every text people wrote: sections' current headings and bodies, amendments' proposals, comments."""
    db.session.commit()
    sections = db.session.execute(select(Section.id, SectionVersion.heading, SectionVersion.body)
                                  .join(SectionVersion, SectionVersion.id == Section.current_version_id)).all()
    amendments = db.session.execute(select(Amendment.id, Amendment.proposed_heading, Amendment.proposed_body,
                                           Amendment.reason)).all()
    comments = db.session.execute(select(Comment.id, Comment.body)).all()
    db.session.commit()  # no read transaction left open: it would hold its locks while another app runs
    return {"sections": sorted(map(tuple, sections)), "amendments": sorted(map(tuple, amendments)),
            "comments": sorted(map(tuple, comments))}


def _run(runner, *args):
    """Run a command; it must never end in a traceback, whatever happens."""
    result = runner.invoke(args=list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def _error_line(result) -> str:
    """The command's one line of error, after checking that it failed with exactly one."""
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


def _manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST_FILE).read_text())


def _fake_program(folder: Path, name: str, script: str) -> None:
    """A stand-in for a PostgreSQL client program, found through PG_BIN_DIR."""
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def sqlite_only(app):
    """Ask for it before the data: a test for the other engine skips before writing anything."""
    _sqlite_only()


@pytest.fixture
def postgres_only(app):
    """Ask for it before the data: a test for the other engine skips before writing anything."""
    _postgres_only()


@pytest.fixture
def demo(make_document, make_user):
    """A small text with what a backup must carry: sections, an amendment, comments in several scripts."""
    from manifesto.amendments.services import propose_amendment
    from manifesto.discussion.comments import post_comment
    from manifesto.documents.services import current_sections

    document = make_document(phase="amendments", editor=make_user("admin"))
    author = make_user(email="amina@example.org")
    entry = current_sections(document)[0]
    propose_amendment(author, document.id, kind="modify", section_id=entry.section.id, heading=None,
                      body=entry.version.body + " Économie « solidaire », 日本語 🌍.", reason="Clearer.")
    post_comment(author, document.id, body="A comment — « with » non-ASCII text 🌍.", section_id=entry.section.id)
    db.session.commit()
    return document


# ------------------------------------------------------------------ both engines

def test_a_backup_holds_the_database_the_archive_and_a_manifest_that_describes_them(app, demo, runner, tmp_path):
    folder = tmp_path / "nested" / "backup"  # made, parents too
    result = _run(runner, "backup", str(folder))
    assert result.exit_code == 0, result.output
    database_file = SQLITE_FILE if db.engine.dialect.name == "sqlite" else PGDUMP_FILE
    assert sorted(path.name for path in folder.iterdir()) == sorted([MANIFEST_FILE, ARCHIVE_FILE, database_file])
    manifest = _manifest(folder)
    assert manifest["engine"] == db.engine.dialect.name
    assert manifest["database_file"] == database_file and manifest["database_missing"] is None
    assert manifest["counts"] == _counts() and manifest["counts"]["comments"] > 0
    migration = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert manifest["migration"] == manifest["migration_head"] == migration
    assert manifest["app_version"] == metadata.version("manifesto")
    assert manifest["created_at"].endswith("Z")
    assert [entry["name"] for entry in manifest["files"]] == [database_file, ARCHIVE_FILE]
    for entry in manifest["files"]:
        path = folder / entry["name"]
        assert (entry["bytes"], entry["sha256"]) == (path.stat().st_size, file_sha256(path))
    # Password hashes and email addresses are in there: for the owner's eyes only.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()} == {0o600}
    # The archive is the whole database's, email addresses included: a backup is as private as the database.
    assert (folder / ARCHIVE_FILE).read_bytes() == write_archive(include_emails=True)
    assert f"comments {manifest['counts']['comments']}" in result.output


def test_the_archive_in_a_backup_imports_to_the_same_texts(app, demo, runner, tmp_path):
    before, counts = _texts(), _counts()
    assert _run(runner, "backup", str(tmp_path / "b")).exit_code == 0
    archive = (tmp_path / "b" / ARCHIVE_FILE).read_bytes()
    empty_tables()
    assert _counts() == dict.fromkeys(COUNTED, 0)
    import_archive(archive)
    assert _texts() == before
    assert _counts() == counts
    assert write_archive(include_emails=True) == archive


def test_an_existing_backup_is_replaced_only_with_force(app, demo, runner, tmp_path, make_user):
    folder = tmp_path / "b"
    assert _run(runner, "backup", str(folder)).exit_code == 0
    first = _manifest(folder)
    line = _error_line(_run(runner, "backup", str(folder)))
    assert "already holds a backup" in line and "--force" in line
    assert _manifest(folder) == first  # untouched
    make_user()
    assert _run(runner, "backup", str(folder), "--force").exit_code == 0
    assert _manifest(folder)["counts"]["users"] == first["counts"]["users"] + 1


def test_a_folder_that_cannot_be_made_is_one_line_and_a_non_zero_exit(app, runner, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    line = _error_line(_run(runner, "backup", str(tmp_path / "a-file" / "backup")))
    assert "Cannot create the backup folder" in line and "a-file" in line


def test_a_full_disk_is_one_line_and_leaves_nothing_behind(app, demo, runner, tmp_path, monkeypatch):
    def fill_the_disk(stream, **_options):
        stream.write(b'{"format": "manifesto-archive", ')
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup, "write_archive_to", fill_the_disk)
    folder = tmp_path / "b"
    line = _error_line(_run(runner, "backup", str(folder)))
    assert "the disk is full" in line and "Nothing of it was kept" in line
    # The database copy made before it is gone too: a folder without a manifest is no backup.
    assert list(folder.iterdir()) == []


def test_a_backup_of_the_other_engine_points_to_the_archive(app, demo, runner, tmp_path):
    folder = tmp_path / "b"
    assert _run(runner, "backup", str(folder)).exit_code == 0
    manifest = _manifest(folder)
    manifest["engine"] = "postgresql" if manifest["engine"] == "sqlite" else "sqlite"
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))
    line = _error_line(_run(runner, "restore", str(folder)))
    assert "import-archive" in line and str(folder / ARCHIVE_FILE) in line


def test_a_folder_without_a_manifest_is_not_restored(app, runner, tmp_path):
    line = _error_line(_run(runner, "restore", str(tmp_path)))
    assert "not a complete backup" in line


def test_the_password_reaches_the_postgresql_tools_by_the_environment_only(app):
    url = make_url("postgresql+psycopg://manifesto:s3cret%20pass@db.internal:6432/convention?sslmode=require")
    conninfo, environment = backup._libpq_target(url)
    assert "s3cret" not in conninfo
    assert environment["PGPASSWORD"] == "s3cret pass"
    assert {"host=db.internal", "port=6432", "user=manifesto", "dbname=convention", "sslmode=require"} <= \
        set(conninfo.split())


# ------------------------------------------------------------------ SQLite

def test_a_sqlite_backup_is_one_committed_state_while_a_writer_goes_on(sqlite_only, app, demo, runner, tmp_path):
    """A thread posts comments (each with its audit event, in one transaction) during the whole backup."""
    from manifesto.discussion.comments import post_comment

    author_id = db.session.scalar(select(User.id).where(User.email == "amina@example.org"))
    section_id = db.session.scalar(select(Section.id).where(Section.document_id == demo.id).order_by(Section.id))
    document_id = demo.id
    posted = []
    more = threading.Condition()
    stop = threading.Event()
    failures = []

    def writer():
        with app.app_context():
            try:
                while not stop.is_set():
                    author = db.session.get(User, author_id)
                    comment = post_comment(author, document_id, body=f"Comment {len(posted)} during the backup.",
                                           section_id=section_id)
                    with more:
                        posted.append(comment.id)
                        more.notify_all()
            except Exception as error:  # the test must see it, not a silent thread
                failures.append(error)
                with more:
                    more.notify_all()
            finally:
                db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        with more:
            more.wait_for(lambda: posted or failures, timeout=30)
        before = _counts()["comments"]
        result = _run(runner, "backup", str(tmp_path / "b"))
        with more:  # the writer is still going once the backup is done
            target = len(posted) + 2
            more.wait_for(lambda: len(posted) >= target or failures, timeout=30)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not failures and result.exit_code == 0, (failures, result.output)
    after = _counts()["comments"]

    copy = sqlite3.connect(tmp_path / "b" / SQLITE_FILE)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
        comments = {row[0] for row in copy.execute("SELECT id FROM comments")}
        events = {row[0] for row in copy.execute(
            "SELECT object_id FROM audit_events WHERE action = 'comment.created'")}
    finally:
        copy.close()
    # Every comment with its event and no event without its comment: whole transactions, none cut in two.
    assert comments == events
    assert before <= len(comments) <= after
    assert _manifest(tmp_path / "b")["counts"]["comments"] == len(comments)


def test_a_sqlite_backup_leaves_out_what_is_not_committed_and_does_not_wait_for_it(sqlite_only, app, demo, runner,
                                                                                 tmp_path):
    title = demo.title
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # holds the write lock through the whole backup
        writer.execute("UPDATE documents SET title = 'Not committed'")
        result = _run(runner, "backup", str(tmp_path / "b"))
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "b" / SQLITE_FILE)
    try:
        assert copy.execute("SELECT title FROM documents").fetchall() == [(title,)]
    finally:
        copy.close()
    assert "Not committed" not in (tmp_path / "b" / ARCHIVE_FILE).read_text()


def test_a_sqlite_backup_restores_into_an_empty_instance_that_shows_the_same_text(sqlite_only, app, demo, runner,
                                                                                 tmp_path, make_app):
    counts, texts = _counts(), _texts()
    heading = texts["sections"][0][1]
    assert _run(runner, "backup", str(tmp_path / "b")).exit_code == 0

    (tmp_path / "new").mkdir()
    restored = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'new' / 'manifesto.sqlite'}")
    with restored.app_context():
        result = _run(restored.test_cli_runner(), "restore", str(tmp_path / "b"))
        assert result.exit_code == 0, result.output
        assert "Restored." in result.output and "db upgrade" not in result.output
        assert _counts() == counts
        assert _texts() == texts
        page = restored.test_client().get(f"/d/{demo.slug}/")
        assert page.status_code == 200 and heading in page.get_data(as_text=True)
        # Restoring twice would mix two databases: the instance is no longer empty.
        again = _run(restored.test_cli_runner(), "restore", str(tmp_path / "b"))
        assert "is not empty" in _error_line(again)
        db.session.remove()
        db.engine.dispose()


def test_a_sqlite_restore_refuses_a_database_another_process_has_open(sqlite_only, app, demo, runner, tmp_path,
                                                                     make_app):
    assert _run(runner, "backup", str(tmp_path / "b")).exit_code == 0
    target = tmp_path / "in-use.sqlite"
    other = sqlite3.connect(target)
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("CREATE TABLE anything (id INTEGER)")
    restored = make_app(DATABASE_URL=f"sqlite:///{target}")
    try:
        with restored.app_context():
            line = _error_line(_run(restored.test_cli_runner(), "restore", str(tmp_path / "b")))
            db.engine.dispose()
        assert "open in another process" in line and "stop the app" in line
        assert other.execute("SELECT name FROM sqlite_master").fetchall() == [("anything",)]  # untouched
    finally:
        other.close()


def test_a_damaged_copy_is_not_restored(sqlite_only, app, demo, runner, tmp_path, make_app):
    assert _run(runner, "backup", str(tmp_path / "b")).exit_code == 0
    copy = tmp_path / "b" / SQLITE_FILE
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    restored = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'new.sqlite'}")
    with restored.app_context():
        line = _error_line(_run(restored.test_cli_runner(), "restore", str(tmp_path / "b")))
        db.engine.dispose()
    assert "damaged" in line and SQLITE_FILE in line


# ------------------------------------------------------------------ PostgreSQL

@pytest.fixture
def scratch_database(app):
    """An empty database beside the test database, dropped afterwards; yields its URL."""
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {SCRATCH_DATABASE}"))
    try:
        yield db.engine.url.set(database=SCRATCH_DATABASE).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.postgres
def test_a_pg_dump_restores_into_an_empty_database_that_shows_the_same_text(postgres_only, app, demo, runner, tmp_path,
                                                                             make_app, scratch_database):
    counts, texts = _counts(), _texts()
    heading = texts["sections"][0][1]
    result = _run(runner, "backup", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert _manifest(tmp_path / "b")["pg_dump_version"]

    restored = make_app(DATABASE_URL=scratch_database)
    with restored.app_context():
        try:
            result = _run(restored.test_cli_runner(), "restore", str(tmp_path / "b"))
            assert result.exit_code == 0, result.output
            assert _counts() == counts
            assert _texts() == texts
            page = restored.test_client().get(f"/d/{demo.slug}/")
            assert page.status_code == 200 and heading in page.get_data(as_text=True)
            # The sequences came back too: the restored database takes new rows.
            from manifesto.accounts.services import register_user
            register_user("new@example.org", "New", PASSWORD, None, None)
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.mark.postgres
def test_a_pg_restore_refuses_a_database_that_has_tables(postgres_only, app, demo, runner, tmp_path):
    assert _run(runner, "backup", str(tmp_path / "b")).exit_code == 0
    line = _error_line(_run(runner, "restore", str(tmp_path / "b")))
    assert "is not empty" in line and "createdb" in line
    assert _counts()["documents"] == 1


@pytest.mark.postgres
def test_without_pg_dump_the_archive_is_still_written_and_the_exit_says_what_to_install(postgres_only, app, demo,
                                                                                         runner, tmp_path):
    (tmp_path / "empty").mkdir()
    app.config["PG_BIN_DIR"] = str(tmp_path / "empty")
    folder = tmp_path / "b"
    line = _error_line(_run(runner, "backup", str(folder)))
    server = db.session.execute(text("SHOW server_version_num")).scalar()
    assert "pg_dump was not found" in line and f"postgresql-client-{int(server) // 10000}" in line
    assert f"The JSON archive was still written: {folder / ARCHIVE_FILE}" in line
    assert sorted(path.name for path in folder.iterdir()) == [MANIFEST_FILE, ARCHIVE_FILE]
    manifest = _manifest(folder)
    assert (manifest["database_file"], manifest["database_missing"]) == (None, "pg_dump_not_found")
    assert "import-archive" in _error_line(_run(runner, "restore", str(folder)))


@pytest.mark.postgres
def test_a_pg_dump_older_than_the_server_is_refused_by_name(postgres_only, app, demo, runner, tmp_path):
    _fake_program(tmp_path / "bin", "pg_dump", 'echo "pg_dump (PostgreSQL) 9.6.24"\n')
    app.config["PG_BIN_DIR"] = str(tmp_path / "bin")
    line = _error_line(_run(runner, "backup", str(tmp_path / "b")))
    assert "(version 9.6) cannot dump this PostgreSQL" in line and "still written" in line
    assert _manifest(tmp_path / "b")["database_missing"] == "pg_dump_too_old"


@pytest.mark.postgres
def test_a_failing_pg_dump_is_one_line_and_its_partial_file_is_removed(postgres_only, app, demo, runner, tmp_path):
    _fake_program(tmp_path / "bin", "pg_dump", """
case "$1" in --version) echo "pg_dump (PostgreSQL) 99.1"; exit 0;; esac
for argument in "$@"; do case "$argument" in --file=*) echo partial > "${argument#--file=}";; esac; done
echo "pg_dump: error: could not write to output file: No space left on device" >&2
exit 1
""")
    app.config["PG_BIN_DIR"] = str(tmp_path / "bin")
    line = _error_line(_run(runner, "backup", str(tmp_path / "b")))
    assert "pg_dump failed (exit status 1)" in line and "No space left on device" in line
    assert list((tmp_path / "b").iterdir()) == []


@pytest.mark.postgres
def test_pg_dump_gets_the_password_in_its_environment_not_on_its_command_line(make_app, database_url, tmp_path):
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    # The test server trusts local connections, so any password opens it.
    app = make_app(DATABASE_URL=url.set(password="s3cret-pass").render_as_string(hide_password=False),
                   PG_BIN_DIR=str(tmp_path / "bin"))
    _fake_program(tmp_path / "bin", "pg_dump", f"""
case "$1" in --version) echo "pg_dump (PostgreSQL) 99.1"; exit 0;; esac
echo "$@" > {tmp_path / 'argv'}
echo "$PGPASSWORD" > {tmp_path / 'password'}
for argument in "$@"; do case "$argument" in --file=*) echo dump > "${{argument#--file=}}";; esac; done
""")
    with app.app_context():
        result = _run(app.test_cli_runner(), "backup", str(tmp_path / "b"))
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    argv = (tmp_path / "argv").read_text()
    assert "s3cret" not in argv and "--format=custom" in argv and "--snapshot=" in argv and "--no-password" in argv
    assert (tmp_path / "password").read_text().strip() == "s3cret-pass"
