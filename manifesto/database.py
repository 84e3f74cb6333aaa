"""Engine set-up: SQLite pragmas and write locking, PostgreSQL as it comes."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .services import in_write_transaction


def engine_options(uri: str, busy_timeout_ms: int) -> dict:
    """Return create_engine options suited to the database in ``uri``."""
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Turn on WAL, a busy timeout and foreign keys, and take SQLite's write lock up front.

    pysqlite opens transactions lazily and on its own terms; we take over
    (isolation_level None) and emit BEGIN ourselves: BEGIN IMMEDIATE inside a
    service, so a writer waits for the lock at the start instead of failing
    with "database is locked" when it upgrades a read lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if in_write_transaction() else "BEGIN")


def init_database(app: Flask, db) -> None:
    """Attach engine listeners once the SQLAlchemy extension is set up."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
