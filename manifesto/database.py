"""Engine set-up and surviving database failures.

SQLite gets its pragmas and takes the write lock up front; PostgreSQL gets
timeouts so that a refusing, unreachable or stuck server costs a request a
few seconds and a 503 page, never a hung worker. Whatever the database does,
ending a request's session never turns a finished page into an error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import ORMExecuteState, Session

from .extensions import db
from .services import DatabaseUnavailable, in_write_transaction

log = logging.getLogger(__name__)

# What the database (not our code) raises when it is down, unreachable, too
# slow or too busy: these answer the 503 page. A DBAPIError of another class
# counts too when SQLAlchemy found its connection dead (``connection_invalidated``).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseUnavailable, exc.OperationalError, exc.InterfaceError, exc.TimeoutError, exc.PendingRollbackError)


def is_database_failure(error: BaseException) -> bool:
    """Tell whether ``error`` means the database failed us, as opposed to a bug or a constraint."""
    if isinstance(error, DATABASE_ERRORS):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def engine_options(uri: str, config: Mapping[str, Any]) -> dict:
    """Return create_engine options suited to the database in ``uri``."""
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": config["SQLITE_BUSY_TIMEOUT_MS"] / 1000, "check_same_thread": False}}
    # pre_ping replaces a pooled connection that died between requests before a view sees it.
    options: dict[str, Any] = {"pool_pre_ping": True}
    if config.get("DATABASE_POOL_TIMEOUT"):
        options["pool_timeout"] = config["DATABASE_POOL_TIMEOUT"]
    # Connections per process: workers x (size + overflow) x machines must stay under max_connections.
    if config.get("DATABASE_POOL_SIZE") is not None:
        options["pool_size"] = int(config["DATABASE_POOL_SIZE"])
    if config.get("DATABASE_MAX_OVERFLOW") is not None:
        options["max_overflow"] = int(config["DATABASE_MAX_OVERFLOW"])
    if url.get_backend_name() == "postgresql":
        # A parameter written into DATABASE_URL itself wins over the settings.
        options["connect_args"] = {name: value for name, value in postgresql_connect_args(config).items()
                                   if name not in url.query}
    return options


def postgresql_connect_args(config: Mapping[str, Any]) -> dict[str, Any]:
    """libpq parameters for the timeouts in ``config`` (seconds; 0 or None leaves one unset)."""
    args: dict[str, Any] = {"application_name": config.get("DATABASE_APPLICATION_NAME") or "manifesto"}
    if config.get("DATABASE_CONNECT_TIMEOUT"):
        args["connect_timeout"] = max(2, int(config["DATABASE_CONNECT_TIMEOUT"]))  # libpq's minimum
    server_settings = []
    if config.get("DATABASE_STATEMENT_TIMEOUT"):
        server_settings.append(f"-c statement_timeout={_ms(config['DATABASE_STATEMENT_TIMEOUT'])}")
    if config.get("DATABASE_IDLE_IN_TRANSACTION_TIMEOUT"):
        server_settings.append(
            f"-c idle_in_transaction_session_timeout={_ms(config['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT'])}")
    if server_settings:
        args["options"] = " ".join(server_settings)
    tcp_timeout = config.get("DATABASE_TCP_TIMEOUT")
    if tcp_timeout:
        # Statement timeouts are enforced by the server, so they cannot help when
        # the server's host is gone: then only TCP notices. Keepalives probe a
        # connection waiting for an answer; tcp_user_timeout bounds unacknowledged sends.
        idle = max(1, math.floor(tcp_timeout / 2))
        args.update(keepalives=1, keepalives_idle=idle, keepalives_count=3,
                    keepalives_interval=max(1, math.floor((tcp_timeout - idle) / 3)),
                    tcp_user_timeout=_ms(tcp_timeout))
    return args


def _ms(seconds: float) -> int:
    """Seconds as whole milliseconds, at least 1."""
    return max(1, round(seconds * 1000))


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


def discard_session() -> None:
    """End the current session, whatever state its connection is in.

    Closing a session rolls its transaction back, and on a connection that
    died that rollback raises. Then the session is closed by invalidation
    instead: its connections are thrown away, never returned to the pool.
    """
    try:
        db.session.remove()
    except exc.SQLAlchemyError as error:
        log.warning("Discarding a database session that could not be closed: %s", error)
        try:
            db.session.registry().invalidate()
        except exc.SQLAlchemyError:  # already invalidated as far as it can be
            log.debug("Invalidating the session failed too", exc_info=True)
        db.session.registry.clear()


def changes_saved() -> bool:
    """Tell whether this request has committed a change to the database.

    A POST whose page then fails must not claim that nothing was saved.
    """
    return bool(g.get("changes_saved"))


def _note_write(session: Session, *_args) -> None:
    """A flush sent changes: the transaction now holds something to save."""
    session.info["wrote"] = True


def _note_statement(state: ORMExecuteState) -> None:
    """An INSERT, UPDATE or DELETE run through the session counts as a change too."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _note_commit(session: Session) -> None:
    """The transaction that held changes is committed: they are saved."""
    if session.info.pop("wrote", False) and has_request_context():
        g.changes_saved = True


def _note_rollback(session: Session) -> None:
    """Rolled back: nothing of this transaction was saved."""
    session.info.pop("wrote", None)


def _track_saved_changes() -> None:
    """Listen (once per process) for what every session writes and commits."""
    listeners = (("after_flush", _note_write), ("do_orm_execute", _note_statement),
                 ("after_commit", _note_commit), ("after_rollback", _note_rollback))
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def init_database(app: Flask, db) -> None:
    """Attach engine listeners, and end every request's session safely.

    Call after ``db.init_app``: teardown functions run in reverse order, so
    ours runs before Flask-SQLAlchemy's, which then finds nothing left to close.
    """
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    _track_saved_changes()

    @app.teardown_appcontext
    def _end_session(_error: BaseException | None) -> None:
        """The page is finished: a connection that died under it must not turn it into a 500."""
        discard_session()
