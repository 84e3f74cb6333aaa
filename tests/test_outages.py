"""When the database fails: 503 pages that keep the user's text, retried reads, timeouts, recovery.

The PostgreSQL tests put a small TCP proxy between the app and the server,
so the database can be cut (connections refused), black-holed (accepted but
never answered) and brought back while the same app object keeps serving.
Connections are also killed with ``pg_terminate_backend``, found by the
app's own ``application_name`` so that nothing else is touched.
"""

from __future__ import annotations

import logging
import random
import re
import select
import socket
import threading
import time
import uuid

import pytest
from sqlalchemy import create_engine, event, func, select as sql_select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from manifesto.amendments.models import Amendment
from manifesto.documents import services as documents
from manifesto.extensions import db

SECRET = "never-show-this-password"


# ------------------------------------------------------------------ helpers

class TcpProxy:
    """Forward 127.0.0.1:<port> to the database; or refuse, or accept and never answer.

    Switching away from forwarding closes every connection already made, as
    a server that went away would.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.mode = "forward"
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while listener is self._listener and not self._stop.is_set():
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):  # closed under us: refusing now
                return
            self._track(client)
            if self.mode == "blackhole":
                continue  # held open, never read, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._drop(client)
                continue
            upstream.settimeout(None)
            self._track(upstream)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self._drop(source)
        self._drop(sink)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _cut(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)

    def forward(self) -> None:
        """Pass connections through to the database again."""
        self.mode = "forward"
        if self._listener is None:
            self._listen()

    def refuse(self) -> None:
        """The database is down: connections are refused, open ones are closed."""
        self.mode = "refuse"
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self._cut()

    def blackhole(self) -> None:
        """The database host hangs: connections are accepted and never answered."""
        self.mode = "blackhole"
        if self._listener is None:
            self._listen()
        self._cut()

    def close(self) -> None:
        self._stop.set()
        self.refuse()


def _postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def admin_engine(app):
    """A connection of the test's own to the database, in autocommit, for locks and kills."""
    _postgres_only()
    engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT",
                           connect_args={"application_name": "manifesto-tests-admin"})
    yield engine
    engine.dispose()


@pytest.fixture
def proxy(app):
    """A TCP proxy in front of the test database."""
    _postgres_only()
    url = db.engine.url
    tcp = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    yield tcp
    tcp.close()


@pytest.fixture
def app_logs(caplog, monkeypatch):
    """The app's log records. Alembic's fileConfig disabled the app's loggers when the schema was built."""
    for name in ("manifesto.web", "manifesto.errors", "manifesto.database", "manifesto.services"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    return caplog


def app_name() -> str:
    """An application_name no other connection has."""
    return f"manifesto-test-{uuid.uuid4().hex[:12]}"


def kill_connections(engine, name: str) -> int:
    """Terminate every backend of the app called ``name`` and wait until they are gone; return how many.

    Without the wait a backend may still answer one more query after the
    kill, and a kill "between requests" would land inside the next one.
    """
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(pg_terminate_backend(pid, 2000)) FROM pg_stat_activity "
                                 "WHERE application_name = :name AND pid <> pg_backend_pid()"),
                            {"name": name}).scalar()


def bounded(call, limit: float):
    """Run ``call()`` in a thread; fail (instead of hanging the run) if it takes over ``limit`` seconds.

    Returns (result, seconds taken). A request left hanging ends when the
    test releases what blocks it (the proxy closes, the lock is released).
    """
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = call()
        except Exception as error:  # handed to the test below
            outcome["error"] = error

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"still waiting after {limit} s: no timeout fired"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], elapsed


def proposal_form(entry, body: str) -> dict:
    """The form that proposes ``body`` as the new text of ``entry``'s section."""
    return {"kind": "modify", "section_id": str(entry.section.id), "body": body, "reason": "Because.",
            "base_version_id": str(entry.version.id), "action": "submit"}


def long_text(entry, tag: str) -> str:
    """A long proposal, different for every ``tag``."""
    return entry.version.body + f"\n\nProposal {tag}: " + " ".join(["cooperatives share the power"] * 60)


def proposals_saved(body: str) -> int:
    """How many amendments propose exactly ``body``."""
    db.session.commit()
    return db.session.scalar(sql_select(func.count()).select_from(Amendment).where(Amendment.proposed_body == body))


def assert_kept(page: str, body: str, action: str) -> None:
    """The 503 page hands the text back in a form to send again, never a password."""
    assert body.split("Proposal ")[1] in page, "the user's text is lost"
    assert f'<form method="post" action="{action}">' in page
    assert 'name="csrf_token"' in page and "Send again" in page
    assert SECRET not in page


# ------------------------------------------------------------------ an unreachable database

def test_unreachable_database_answers_503_pages_and_recovers_without_restart(
        make_app, proxy, make_document, users, login):
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    url = make_url(db.engine.url).set(host="127.0.0.1", port=proxy.port)
    app = make_app(DATABASE_URL=url.render_as_string(hide_password=False), DATABASE_CONNECT_TIMEOUT=2)
    visitor, member = app.test_client(), app.test_client()
    assert login(users["participant"], test_client=member).status_code == 302
    assert users["participant"].name in member.get("/d/doc/").get_data(as_text=True)
    assert visitor.get("/d/doc/").status_code == 200

    proxy.refuse()
    for client in (visitor, member):
        response = client.get("/d/doc/")
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page
        assert "The database cannot be reached" in page and 'href="/d/doc/"' in page
        assert int(response.headers["Retry-After"]) > 0
        assert users["participant"].name not in page and "Log out" not in page  # nobody looked the user up
    assert member.get("/healthz").status_code == 503
    # Pages that need no database still work, logged in or not.
    for client in (visitor, member):
        assert client.get("/no-such-page").status_code == 404

    body = long_text(entry, "during the outage")
    response = member.post("/d/doc/amendments/new", data=proposal_form(entry, body))
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert_kept(page, body, "/d/doc/amendments/new")
    assert "Nothing was saved" in page
    assert '<input type="hidden" name="base_version_id" value="%d">' % entry.version.id in page

    response = visitor.post("/login?next=/d/doc/", data={"email": "someone@example.org", "password": SECRET})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "someone@example.org" in page and SECRET not in page
    assert '<form method="post" action="/login?next=/d/doc/">' in page
    assert re.search(r'<label for="resend-password-1">Password[^<]*</label>\s*'
                     r'<input type="password" id="resend-password-1" name="password">', page)

    proxy.forward()
    assert visitor.get("/d/doc/").status_code == 200
    page = member.get("/d/doc/").get_data(as_text=True)
    assert users["participant"].name in page, "still logged in after the outage"
    assert member.get("/healthz").status_code == 200
    assert member.post("/d/doc/amendments/new", data=proposal_form(entry, body)).status_code == 302
    assert proposals_saved(body) == 1


def test_black_holed_database_answers_503_within_the_connect_timeout(make_app, proxy, document, users, login):
    url = make_url(db.engine.url).set(host="127.0.0.1", port=proxy.port)
    app = make_app(DATABASE_URL=url.render_as_string(hide_password=False), DATABASE_CONNECT_TIMEOUT=2)
    member = app.test_client()
    assert login(users["participant"], test_client=member).status_code == 302
    assert member.get("/d/doc/").status_code == 200

    proxy.blackhole()
    response, elapsed = bounded(lambda: member.get("/d/doc/"), 3.5)
    assert response.status_code == 503
    assert "The database is too slow" in response.get_data(as_text=True)
    assert 1.5 < elapsed, "the proxy did not black-hole the connection"
    response, elapsed = bounded(lambda: member.get("/healthz"), 3.5)
    assert response.status_code == 503

    proxy.forward()
    assert member.get("/d/doc/").status_code == 200


# ------------------------------------------------------------------ timeouts

def test_statement_timeout_turns_a_stuck_write_into_a_503(make_app, admin_engine, make_document, users, login):
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    app = make_app(DATABASE_STATEMENT_TIMEOUT=0.5)
    client = app.test_client()
    assert login(users["participant"], test_client=client).status_code == 302
    body = long_text(entry, "behind a lock")
    form = proposal_form(entry, body)  # read here: the request's thread has no app context
    document_id = document.id
    db.session.commit()  # the test's own snapshot must hold no lock
    with db.engine.connect() as other, other.begin():  # the admin engine autocommits: no lock would stay
        other.execute(text("SELECT id FROM documents WHERE id = :id FOR UPDATE"), {"id": document_id})
        response, elapsed = bounded(lambda: client.post("/d/doc/amendments/new", data=form), 5)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page
        assert_kept(page, body, "/d/doc/amendments/new")
        assert "The database is too slow" in page and "Nothing was saved" in page
        assert elapsed >= 0.5, "the write did not wait for the lock at all"

        # A read blocked by a lock on the whole table times out the same way.
        other.execute(text("LOCK TABLE documents IN ACCESS EXCLUSIVE MODE"))
        response, elapsed = bounded(lambda: client.get("/d/doc/"), 2)
        assert response.status_code == 503 and "The database is too slow" in response.get_data(as_text=True)
    assert proposals_saved(body) == 0
    assert client.get("/d/doc/").status_code == 200


def test_connections_carry_the_configured_timeouts_and_name(make_app, admin_engine):
    name = app_name()
    app = make_app(DATABASE_APPLICATION_NAME=name, DATABASE_STATEMENT_TIMEOUT=7,
                   DATABASE_IDLE_IN_TRANSACTION_TIMEOUT=30)
    with app.app_context():
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == "7s"
        assert db.session.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "30s"
        assert db.session.execute(text("SHOW application_name")).scalar() == name
        db.session.remove()


# ------------------------------------------------------------------ dropped connections

@pytest.fixture
def killable_app(make_app, admin_engine):
    """An app whose connections the test can find and terminate: (app, kill)."""
    name = app_name()
    # Its threads propose far more than a person may in an hour: the limits are another test's subject.
    app = make_app(DATABASE_APPLICATION_NAME=name, RATELIMIT_ENABLED=False)
    return app, lambda: kill_connections(admin_engine, name)


def _kill_own_connection(admin_engine):
    """Terminate the backend of the connection the current request's session uses."""
    pid = db.session.connection().connection.dbapi_connection.info.backend_pid
    with admin_engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid, 2000)"), {"pid": pid})  # and wait until it is gone


def test_a_connection_lost_after_the_page_was_built_still_answers_the_page(killable_app, admin_engine, document):
    app, _ = killable_app
    killed = []

    @app.after_request
    def kill_before_teardown(response):
        if not killed:
            _kill_own_connection(admin_engine)
            killed.append(True)
        return response

    client = app.test_client()
    response = client.get("/d/doc/")  # without our teardown, its rollback raises here
    assert killed and response.status_code == 200
    assert "Section 1" in response.get_data(as_text=True)
    assert client.get("/d/doc/").status_code == 200


def _kill_on_first_query(app, admin_engine, when, *, passing=()):
    """Terminate the connection under the first query of the next request for which ``when()`` is true.

    ``passing``: words of statements let through (work after the commit on a connection of its own).
    """
    state = {"armed": True, "kills": 0}

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def kill(conn, cursor, statement, parameters, context, executemany):
        if state["armed"] and when() and not any(word in statement for word in passing):
            state["armed"] = False
            state["kills"] += 1
            with admin_engine.connect() as admin:
                admin.execute(text("SELECT pg_terminate_backend(:pid, 2000)"),
                              {"pid": cursor.connection.info.backend_pid})

    return state


def test_a_read_whose_connection_drops_runs_once_more(killable_app, admin_engine, document, users, login):
    from flask import request

    app, _ = killable_app
    client = app.test_client()
    assert login(users["participant"], test_client=client).status_code == 302
    state = _kill_on_first_query(app, admin_engine, lambda: bool(request) and request.path == "/d/doc/")
    response = client.get("/d/doc/")
    assert state["kills"] == 1
    assert response.status_code == 200 and users["participant"].name in response.get_data(as_text=True)


def test_a_post_whose_connection_drops_is_not_run_again_and_keeps_the_text(
        killable_app, admin_engine, make_document, users, login):
    from flask import request

    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    app, _ = killable_app
    client = app.test_client()
    assert login(users["participant"], test_client=client).status_code == 302
    # The first query of the request loads the user, before any service runs.
    state = _kill_on_first_query(app, admin_engine, lambda: bool(request) and request.method == "POST")
    body = long_text(entry, "on a dying connection")
    response = client.post("/d/doc/amendments/new", data=proposal_form(entry, body))
    assert state["kills"] == 1
    assert response.status_code == 503
    assert_kept(response.get_data(as_text=True), body, "/d/doc/amendments/new")
    assert proposals_saved(body) == 0


def test_a_post_saved_before_its_connection_dropped_says_so_and_offers_no_second_send(
        killable_app, admin_engine, make_document, users, login):
    from flask import g, request

    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    app, _ = killable_app
    client = app.test_client()
    assert login(users["participant"], test_client=client).status_code == 302
    # The service has committed; the view's next query (reading the new code) loses its connection. (The
    # webhooks' question after the commit runs first, on a connection of its own: a failure there is logged.)
    state = _kill_on_first_query(app, admin_engine, lambda: bool(request) and bool(g.get("changes_saved")),
                                 passing=("FROM webhooks",))
    body = long_text(entry, "saved just in time")
    response = client.post("/d/doc/amendments/new", data=proposal_form(entry, body))
    page = response.get_data(as_text=True)
    assert state["kills"] == 1
    assert response.status_code == 503
    assert "Your change was saved" in page and "Do not send it again" in page
    assert "Send again" not in page and "Nothing was saved" not in page
    assert proposals_saved(body) == 1


def test_connections_killed_between_requests_are_never_seen(killable_app, make_document, users, login):
    document = make_document(phase="amendments", editor=users["admin"])
    entry = documents.current_sections(document)[0]
    app, kill = killable_app
    client = app.test_client()
    assert login(users["participant"], test_client=client).status_code == 302
    for i in range(5):
        assert client.get("/d/doc/").status_code == 200
        assert kill() >= 1
        assert client.get(f"/d/doc/sections/{entry.section.id}").status_code == 200
        kill()
        body = long_text(entry, f"between kills {i}")
        assert client.post("/d/doc/amendments/new", data=proposal_form(entry, body)).status_code == 302
        kill()
        assert proposals_saved(body) == 1


def test_connections_killed_during_requests_lose_no_read_and_no_write(killable_app, make_document, users, login,
                                                                      app_logs):
    """Threads read and propose while a killer terminates the app's connections at random moments.

    One fault at a time: the killer waits until every request that was
    running when it struck has finished, so each request meets at most one
    dropped connection (a read is retried once, not forever).
    """
    document = make_document(phase="amendments", editor=users["admin"])
    entries = documents.current_sections(document)
    # Threads have no app context: give them plain values, not ORM objects.
    sections = [(entry.section.id, entry.version.id, entry.version.body) for entry in entries]
    app, kill = killable_app
    rng = random.Random(6)
    readers, writers, rounds = 3, 3, 20
    clients = [app.test_client() for _ in range(readers + writers)]
    for client in clients:
        assert login(users["participant"], test_client=client).status_code == 302
    running: dict[tuple[int, int], float] = {}
    guard = threading.Lock()
    done = threading.Event()
    results: list[tuple[str, str, int, str]] = []  # (kind, url or proposed text, status, page)
    kills = []

    def timed(request_id, call):
        with guard:
            running[request_id] = time.monotonic()
        try:
            return call()
        except Exception as error:  # reported as a result: a crash must fail the test, not vanish in a thread
            return error
        finally:
            with guard:
                del running[request_id]

    def record(kind, what, response):
        if isinstance(response, Exception):
            results.append((kind, what, 0, repr(response)))
        else:
            results.append((kind, what, response.status_code, response.get_data(as_text=True)))

    def reader(n):
        client = clients[n]
        for i in range(rounds):
            url = rng.choice(["/d/doc/", "/d/doc/amendments/", f"/d/doc/sections/{sections[i % 3][0]}"])
            record("read", url, timed((n, i), lambda: client.get(url)))

    def writer(n):
        client = clients[n]
        for i in range(rounds):
            section_id, version_id, base = sections[i % 3]
            body = base + f"\n\nProposal writer {n} round {i}: " + " ".join(["cooperatives share the power"] * 60)
            form = {"kind": "modify", "section_id": str(section_id), "body": body, "reason": "Because.",
                    "base_version_id": str(version_id), "action": "submit"}
            record("write", body, timed((n, i), lambda: client.post("/d/doc/amendments/new", data=form)))

    def killer():
        while not done.is_set():
            time.sleep(rng.uniform(0.005, 0.05))
            struck = time.monotonic()
            kills.append(kill())
            while not done.is_set():  # one fault at a time
                with guard:
                    if all(started > struck for started in running.values()):
                        break
                time.sleep(0.005)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
    threads += [threading.Thread(target=writer, args=(n,)) for n in range(readers, readers + writers)]
    killing = threading.Thread(target=killer)
    started = time.monotonic()
    killing.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    killing.join(10)
    assert not any(thread.is_alive() for thread in threads + [killing]), "a request hung"
    assert time.monotonic() - started < 45
    assert len(results) == (readers + writers) * rounds
    assert sum(kills) >= 5, f"too few connections killed to prove anything: {kills}"
    # The faults must have hit requests, not only idle connections.
    # (The app logs a warning for every retried read, retried write, 503 and discarded session.)
    hits = [record.getMessage() for record in app_logs.records if record.name.startswith("manifesto.")]
    assert len(hits) >= 3, f"only {len(hits)} requests met a dropped connection: {hits}"

    for kind, what, status, page in results:
        if kind == "read":
            assert status == 200, (what, status, page[:300])
        elif status in (302, 303):
            assert proposals_saved(what) == 1, f"a proposal answered as saved is stored {proposals_saved(what)} times"
        else:
            assert status == 503, (status, page[:300])
            saved = proposals_saved(what)
            assert saved <= 1
            if "Your change was saved" in page:
                assert saved == 1
            else:
                assert_kept(page, what, "/d/doc/amendments/new")
                if saved:  # the commit went through but the connection died before it said so
                    assert "We cannot tell whether your change was saved" in page


# ------------------------------------------------------------------ SQLite

def test_a_sqlite_file_that_cannot_be_opened_answers_503(make_app, tmp_path):
    app = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/no-such-folder/manifesto.sqlite")
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "The database cannot be reached" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": "someone@example.org", "password": SECRET})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "someone@example.org" in page and SECRET not in page
    assert client.get("/healthz").status_code == 503


# ------------------------------------------------------------------ on every engine

def test_a_read_that_loses_its_connection_is_retried_once_on_every_engine(make_app, document):
    """The retry itself, with the driver's error faked: it must not depend on PostgreSQL to be tested."""
    from flask import request

    app = make_app()
    with app.app_context():
        engine = db.engine
    failures = {"left": 0, "seen": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def drop(conn, cursor, statement, parameters, context, executemany):
        if request and request.path == "/d/doc/" and failures["left"]:
            failures["left"] -= 1
            failures["seen"] += 1
            raise OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"),
                                   connection_invalidated=True)

    client = app.test_client()
    # Each with its own query string: the same address again would be a visitor's answer replayed beneath Flask.
    failures["left"] = 1
    assert client.get("/d/doc/?n=1").status_code == 200 and failures["seen"] == 1
    failures["left"] = 2  # retried once, not forever
    assert client.get("/d/doc/?n=2").status_code == 503 and failures["seen"] == 3
    failures["left"], failures["seen"] = 1, 0
    assert client.head("/d/doc/?n=3").status_code == 200 and failures["seen"] == 1


def test_the_503_page_never_reads_the_database(make_app, document, users, login):
    """A failure of the database in a view: the page, its header and its teardown run no query."""
    from flask import request

    from manifesto.services import DatabaseUnavailable

    app = make_app()
    with app.app_context():
        engine = db.engine
    queries_after_failure = []
    state = {"failed": False}

    @app.before_request
    def fail_on_post():
        if request.method == "POST" and request.path == "/d/doc/amendments/new":
            state["failed"] = True
            raise DatabaseUnavailable("busy", maybe_saved=True)

    @event.listens_for(engine, "before_cursor_execute")
    def watch(conn, cursor, statement, parameters, context, executemany):
        if state["failed"]:
            queries_after_failure.append(statement)

    client = app.test_client()
    assert login(users["participant"], test_client=client).status_code == 302
    entry = documents.current_sections(document)[0]
    body = long_text(entry, "when it is busy")
    response = client.post("/d/doc/amendments/new", data=proposal_form(entry, body))
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "Many people are saving at once" in page
    assert "We cannot tell whether your change was saved" in page
    assert_kept(page, body, "/d/doc/amendments/new")
    assert queries_after_failure == []
    # Every input of the form has a visible label, and the page carries no inline script or style.
    ids = re.findall(r'<(?:textarea|input)(?![^>]*type="hidden")[^>]*id="([^"]+)"', page)
    assert ids and all(f'<label for="{i}">' in page for i in ids)
    assert "<script" not in page and "style=" not in page and "<style" not in page
