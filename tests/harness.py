"""What tests share besides fixtures: the test password, the app settings, a query counter, a markup checker.

Test modules import these from here (``from harness import ...``), never
from ``conftest``: with conftest.py files in several folders, "conftest" can
name the wrong one.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from manifesto.extensions import db

PASSWORD = "correct-horse-battery"
# The tests' own Redis database (the page cache's and the rate limits' process tests use it).
REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_client(url: str = REDIS_URL):
    """A client of the tests' Redis, or a skip with the reason when no Redis answers there."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    return client


def free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_app(instance: Path, database_url: str, settings: str, redis_url: str = REDIS_URL,
              ) -> tuple[subprocess.Popen, str]:
    """Start a real app process (``flask run``) on its own port, with ``settings`` as its instance/config.py.

    Every process started for one test shares the database, Redis and secret key, as two machines
    of one site do. Waits until it answers; raises with its log when it does not start.
    """
    instance.mkdir()
    (instance / "config.py").write_text(settings)
    port = free_port()
    env = {**os.environ, "MANIFESTO_INSTANCE_PATH": str(instance), "DATABASE_URL": database_url,
           "REDIS_URL": redis_url, "SECRET_KEY": "one key for both machines"}
    env.pop("RATELIMIT_STORAGE_URI", None)
    log = instance / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "manifesto", "run", "--port", str(port),
                                    "--no-reload", "--with-threads"], env=env, stdout=output, stderr=output)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return process, base
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text())
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server at {instance} did not start")


def empty_tables() -> None:
    """Delete every row (and, on PostgreSQL, reset the id sequences), as in a freshly made database."""
    db.session.commit()
    tables = db.metadata.sorted_tables
    if db.engine.dialect.name == "postgresql":
        _empty_postgresql(tables)
    else:
        db.session.execute(text("UPDATE sections SET current_version_id = NULL"))
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


def _empty_postgresql(tables) -> None:
    """Empty only the tables a test wrote to, then restart every id sequence.

    A TRUNCATE of all tables costs about 70 ms on this machine whatever they hold (it makes new files
    for each), which over some 3,000 tests was minutes of the suite; one query finds the few tables a
    test filled, and deleting their rows takes about a millisecond. Content states last, as every
    commit locks them last (audit/states.py): a write still committing in another connection finishes
    instead of deadlocking with the deletes.
    """
    probe = " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables)
    filled = set(db.session.execute(text(probe)).scalars())
    ordered = sorted(reversed(tables), key=lambda t: t.name == "content_states")

    def delete_rows() -> None:
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
        if "sections" in filled:
            db.session.execute(text("UPDATE sections SET current_version_id = NULL"))
        for table in ordered:
            if table.name in filled:
                db.session.execute(table.delete())

    try:
        with db.session.begin_nested():
            delete_rows()
    except OperationalError:
        # Something still holds a lock on the tables: say what (it is a leak to find), end it, empty them.
        db.session.rollback()
        blockers = db.session.execute(text(
            "SELECT pid, state, application_name, xact_start, left(query, 200) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state IN ('idle in transaction', 'idle in transaction (aborted)')")).all()
        print(f"\nempty_tables: deleting waited on {len(blockers)} idle transaction(s): {blockers}",
              file=sys.stderr)
        for blocker in blockers:
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": blocker.pid})
        delete_rows()
    sequences = db.session.execute(text(
        "SELECT quote_ident(sequence_name) FROM information_schema.sequences "
        "WHERE sequence_schema = current_schema()")).scalars().all()
    if sequences:
        db.session.execute(text("SELECT " + ", ".join(f"setval('{name}', 1, false)" for name in sequences)))


def skip_without(reason: str) -> None:
    """Skip, saying what to install; in CI (``MANIFESTO_REQUIRE_PDF``, set by .ci/run) fail instead."""
    if os.environ.get("MANIFESTO_REQUIRE_PDF"):
        pytest.fail(f"CI must run the PDF tests: {reason}")
    pytest.skip(reason)


def require_pdf() -> None:
    """Skip (or, in CI, fail) where WeasyPrint cannot run, saying what to install."""
    from manifesto.exports.pdf import pdf_unavailable_reason

    reason = pdf_unavailable_reason()
    if reason is not None:
        skip_without(reason)


def _config(database_url: str, **extra) -> dict:
    """Test settings: cheap password hashing, CSRF off unless a test turns it on."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # A test that hashes with Argon2id (PASSWORD_HASH_METHOD="argon2id") does it cheaply too.
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1,
        "SERVER_NAME": "localhost",
        # Limits on, as in production, counted in each test app's own memory (never a shared Redis).
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(extra)
    return config


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block: ``with count_queries() as q: ...; q.count``."""

    class Counter:
        count = 0
        statements: list[str] = []

    counter = Counter()
    counter.statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not re.match(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", statement, re.I):
            counter.count += 1
            counter.statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


LIVE_TAGS = {"script", "img", "svg", "iframe", "math", "style", "object", "embed", "link", "meta", "base", "form"}
# The page's own scripts: external, from our static folder, loaded after the page (never user text).
OUR_SCRIPTS = {"/static/passage.js", "/static/enhance.js", "/static/live.js"}


def read_events(response, until, timeout=5.0) -> list[dict]:
    """The events of a stream (dicts of its fields, comments as {"comment": ...}) until ``until(events)`` or timeout.

    A streamed test response is read as a browser would: data lines joined by newlines.
    """
    events, buffer, deadline = [], "", time.monotonic() + timeout
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = {}
            for line in block.split("\n"):
                name, _, value = line.partition(":")
                name, value = name or "comment", value.removeprefix(" ")
                # Several data lines are one value, joined by newlines (as the browser joins them).
                fields[name] = fields[name] + "\n" + value if name == "data" and name in fields else value
            events.append(fields)
        if until(events) or time.monotonic() > deadline:
            break
    return events


def notices_during(app, streams, act, delay: float = 0.3) -> list[list[dict]]:
    """The first events with data each stream hears while ``act()`` runs in ``app``'s context after ``delay`` s.

    ``streams`` are streamed test responses, already subscribed; they are closed afterwards.
    """
    import threading

    def later():
        time.sleep(delay)
        with app.app_context():
            act()

    writer = threading.Thread(target=later)
    writer.start()
    try:
        return [[e for e in read_events(stream, until=lambda e: any("data" in x for x in e)) if "data" in e]
                for stream in streams]
    finally:
        writer.join()
        for stream in streams:
            stream.close()


def live_markup(page: str, allowed_forms: bool = True) -> list[str]:
    """Find markup in a page that could run or load something an attacker wrote.

    Parses the HTML rather than grepping it: escaped text (``&lt;script&gt;``)
    and attribute values are harmless, live tags and ``on*`` attributes are not.
    """
    from html.parser import HTMLParser

    found: list[str] = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script" and dict(attrs) == {"src": dict(attrs).get("src"), "defer": None} \
                    and (dict(attrs).get("src") or "").split("?")[0] in OUR_SCRIPTS:  # ?v=<content hash>
                return
            if tag in LIVE_TAGS and not (allowed_forms and tag in {"form", "link", "meta"}):
                found.append(f"<{tag}>")
            for name, value in attrs:
                if name.startswith("on"):
                    found.append(f"<{tag} {name}>")
                if name in {"href", "src", "action", "formaction"} and value and \
                        re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "data:", "vbscript:")):
                    found.append(f"<{tag} {name}={value}>")

    Finder().feed(page)
    return found


@contextmanager
def migrated_demo_app(path, *, also=None):
    """An app on a SQLite file of its own at ``path``, built by the migrations, holding the demo (and what ``also`` adds).

    For tests that move the schema down and up again: they cannot share the
    suite's database. The PostgreSQL run skips them (the suite's own schema
    there is built by the same migrations).
    """
    from flask_migrate import upgrade

    from manifesto import create_app
    from manifesto.seed.demo import seed_demo

    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs on a SQLite file of its own; the PostgreSQL run builds its schema by the same migrations")
    app = create_app(_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
        seed_demo(password="demo-password-1")
        if also is not None:
            also()
        db.session.commit()
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def bearer(secret: str | None) -> dict[str, str]:
    """The header an API call sends its token in (none for None)."""
    return {"Authorization": f"Bearer {secret}"} if secret else {}
