"""The write transaction and the locking protocol: retries, order, no-key locks, fresh rows."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from manifesto.accounts import services as accounts
from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.audit.models import AuditEvent
from manifesto.audit.services import record_event
from manifesto.documents import services as documents
from manifesto.documents.models import Document, Section
from manifesto.extensions import db
from manifesto.locking import LockOrderError, lock_row, lock_rows
from manifesto.services import ConflictError, DatabaseUnavailable, PermissionDenied, ValidationError, writes

def _busy() -> OperationalError:
    """The error SQLite gives when another writer held the lock too long."""
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))


def _dropped() -> OperationalError:
    """The error a query gets when its connection died under it."""
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"),
                            connection_invalidated=True)


def _postgres_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture
def open_document(make_document, users):
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def amendment(open_document, users):
    entry = documents.current_sections(open_document)[0]
    return amendments.propose_amendment(users["participant"], open_document.id, kind="modify",
                                        section_id=entry.section.id, heading=None,
                                        body=entry.version.body + " Added.", reason="Why.")


# ------------------------------------------------------------------ retries

def test_a_busy_database_runs_the_whole_transaction_again(app, users, document):
    calls = []

    @writes
    def note(actor_id):
        calls.append(1)
        record_event(db.session.get(User, actor_id), "test.noted", db.session.get(Document, document.id),
                     document_id=document.id)
        db.session.flush()
        if len(calls) < 3:
            raise _busy()  # after the event was written: the retry must not keep it twice
        return "done"

    assert note(users["admin"].id) == "done"
    assert len(calls) == 3
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "test.noted")) == 1


def test_retries_are_bounded_and_end_in_a_busy_error(make_app):
    app = make_app(WRITE_ATTEMPTS=3, WRITE_RETRY_DELAY=0.001)
    calls = []

    @writes
    def always_busy():
        calls.append(1)
        raise _busy()

    with app.app_context():
        with pytest.raises(DatabaseUnavailable) as caught:
            always_busy()
    assert len(calls) == 3
    assert caught.value.reason == "busy" and not caught.value.maybe_saved


def test_a_connection_lost_before_the_commit_is_retried_once_more(app):
    calls = []

    @writes
    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise _dropped()
        return db.session.scalar(text("SELECT 1"))

    assert flaky() == 1 and len(calls) == 2


def test_a_connection_lost_during_the_commit_is_never_run_again(app, monkeypatch):
    calls, commits = [], []
    real_commit = db.session.commit

    def commit():
        commits.append(1)
        if len(commits) == 2:  # the first ends the view's read transaction; the second is the write
            raise _dropped()
        return real_commit()

    monkeypatch.setattr(db.session, "commit", commit)

    @writes
    def write():
        calls.append(1)

    with pytest.raises(DatabaseUnavailable) as caught:
        write()
    assert len(calls) == 1, "a commit whose fate is unknown must not be sent twice"
    assert caught.value.maybe_saved


def test_other_database_errors_are_not_retried(app):
    calls = []

    @writes
    def broken():
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        broken()
    assert len(calls) == 1


def test_a_real_deadlock_is_retried_until_both_writers_succeed(app, make_document, users):
    """Two transactions lock two documents in opposite orders: PostgreSQL kills one, which runs again."""
    _postgres_only()
    first, second = make_document(slug="one").id, make_document(slug="two").id
    admin_id = users["admin"].id
    db.session.commit()
    both_hold_one = threading.Barrier(2, timeout=10)
    results = []

    def worker(order):
        attempts = []

        @writes
        def cross():
            attempts.append(1)
            a, b = order
            db.session.execute(text("SELECT id FROM documents WHERE id = :id FOR UPDATE"), {"id": a})
            if len(attempts) == 1:
                both_hold_one.wait()
            db.session.execute(text("SELECT id FROM documents WHERE id = :id FOR UPDATE"), {"id": b})
            record_event(db.session.get(User, admin_id), "test.crossed", db.session.get(Document, a),
                         document_id=a)

        with app.app_context():
            try:
                cross()
                results.append(("ok", len(attempts)))
            except Exception as error:  # reported by the assertion below
                results.append(("error", repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(order,)) for order in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(kind for kind, _ in results) == ["ok", "ok"], results
    assert max(n for _, n in results) == 2, "one of them must have been chosen as the deadlock victim and retried"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "test.crossed")) == 2


# -------------------------------------------------------------- lock order

def test_locks_are_taken_only_inside_a_write_service(app, document):
    with pytest.raises(LockOrderError):
        lock_row(Document, document.id)


@pytest.mark.parametrize("steps, allowed", [
    (["document", "section", "amendment"], True),
    (["document", "amendment"], True),
    (["amendment"], True),
    (["document", "section", "amendment", "document"], True),  # a lock already held may be asked for again
    (["amendment", "document"], False),
    (["document", "amendment", "section"], False),
    (["section"], False),  # a section only under its document's lock
    (["amendment", "other amendment"], False),  # a second amendment only under its section's lock
    (["document", "section", "amendment", "other amendment"], True),
])
def test_the_lock_order_is_enforced(app, amendment, steps, allowed):
    other = amendments.propose_amendment(db.session.get(User, amendment.author_id), amendment.document_id,
                                         kind="delete", section_id=amendment.section_id, heading=None,
                                         body=None, reason="Other.")
    targets = {"document": (Document, amendment.document_id), "section": (Section, amendment.section_id),
               "amendment": (Amendment, amendment.id), "other amendment": (Amendment, other.id)}

    @writes
    def take():
        for step in steps:
            lock_row(*targets[step])

    if allowed:
        take()
    else:
        with pytest.raises(LockOrderError):
            take()


def test_one_call_locks_its_rows_in_ascending_order(app, make_document):
    ids = [make_document(slug=f"d{i}").id for i in range(3)]
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    @writes
    def take():
        return [d.id for d in lock_rows(Document, reversed(ids))]

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert take() == sorted(ids)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert any("ORDER BY documents.id" in s for s in statements)


def test_services_lock_rows_for_no_key_update(app, amendment, users):
    """FOR UPDATE would block the key-share locks that foreign-key checks take on the same rows."""
    _postgres_only()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        amendments.support_amendment(users["moderator"], amendment.document_id, amendment.id)
        amendments.decide_amendment(users["moderator"], amendment.document_id, amendment.id, decision="accept",
                                    reason="Good.", revision=amendment.revision)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    locking_statements = [s for s in statements if " FOR " in s]
    assert locking_statements
    assert all("FOR NO KEY UPDATE" in s for s in locking_statements), locking_statements


# ---------------------------------------------------------- fresh values

def test_a_lock_reloads_a_row_the_session_already_holds(app, amendment):
    """A locking SELECT alone would leave the session's older copy in place."""
    _postgres_only()
    db.session.commit()
    other = db.engine.connect()

    @writes
    def peek_then_lock():
        peeked = db.session.get(Amendment, amendment.id)
        assert peeked.revision == 1
        with other.begin():
            other.execute(text("UPDATE amendments SET revision = 7 WHERE id = :id"), {"id": amendment.id})
        locked = lock_row(Amendment, amendment.id)
        return locked is peeked, locked.revision

    try:
        assert peek_then_lock() == (True, 7)
    finally:
        other.close()


def test_a_decision_is_checked_against_the_locked_row(app, amendment, users, monkeypatch):
    """The author withdraws between the moment the moderator's request loaded it and the lock."""
    _postgres_only()
    db.session.commit()
    other = db.engine.connect()
    real_lock_section = documents.lock_section
    amendment_id, author_id = amendment.id, amendment.author_id

    def lock_section_then_withdraw(document, section_id):
        section = real_lock_section(document, section_id)
        db.session.get(Amendment, amendment_id)  # an earlier read of the row in the same transaction
        with other.begin():  # the author's withdrawal commits now, before the amendment's lock
            other.execute(text("UPDATE amendments SET status = 'withdrawn', revision = revision + 1 "
                               "WHERE id = :id"), {"id": amendment_id})
        return section

    monkeypatch.setattr(documents, "lock_section", lock_section_then_withdraw)
    try:
        with pytest.raises(ConflictError):
            amendments.decide_amendment(users["moderator"], amendment.document_id, amendment_id,
                                        decision="accept", reason="Looks good.", revision=1)
    finally:
        other.close()
    db.session.expire_all()
    decided = db.session.get(Amendment, amendment_id)
    assert decided.status == "withdrawn" and decided.decided_by_id is None
    assert author_id != users["moderator"].id


# ------------------------------------------------------------ accounts

def test_passwords_are_hashed_outside_the_write_transaction(app, make_user, monkeypatch):
    from manifesto import services

    seen = []
    real_hash = accounts.hash_password

    def spy(password):
        seen.append(services.in_write_transaction())
        return real_hash(password)

    monkeypatch.setattr(accounts, "hash_password", spy)
    user = make_user(password="first password!")
    accounts.change_password(user, "first password!", "second password!")
    assert seen == [False, False]


def test_a_password_changed_meanwhile_is_not_overwritten(app, make_user, monkeypatch):
    user = make_user(password="first password!")
    real_store = accounts._store_password

    def store_after_another_tab(user_id, checked_hash, new_hash):
        real_store(user_id, checked_hash, accounts.hash_password("from another tab"))
        return real_store(user_id, checked_hash, new_hash)

    monkeypatch.setattr(accounts, "_store_password", store_after_another_tab)
    with pytest.raises(ConflictError):
        accounts.change_password(user, "first password!", "second password!")
    db.session.expire_all()
    assert accounts.authenticate(user.email, "from another tab").id == user.id


def test_the_same_address_registered_twice_at_once_gives_a_message(app, make_user, monkeypatch):
    make_user(email="twice@example.org")
    monkeypatch.setattr(accounts, "get_user_by_email", lambda email: None)  # both passed the friendly check
    with pytest.raises(ValidationError) as caught:
        accounts.register_user("twice@example.org", "Second", "long enough password")
    assert caught.value.field == "email"


def test_two_admins_cannot_demote_each_other_at_once(app, make_user, monkeypatch):
    first, second = make_user("admin"), make_user("admin")
    accounts.set_role(first, second.id, "participant")
    # The second admin's request passed the early check before the first one landed; under the lock it is refused.
    monkeypatch.setattr(accounts, "_require_admin", lambda actor: None)
    with pytest.raises(PermissionDenied):
        accounts.set_role(db.session.get(User, second.id), first.id, "participant")
    db.session.expire_all()
    assert db.session.get(User, first.id).role == "admin"


def test_a_really_dropped_connection_is_retried_on_a_fresh_one(app, users, document):
    """The server ends the connection in the middle of a service; the objects it was given still work."""
    _postgres_only()
    actor = users["admin"]
    calls = []

    @writes
    def write():
        calls.append(db.session.scalar(text("SELECT pg_backend_pid()")))
        record_event(actor, "test.survived", db.session.get(Document, document.id), document_id=document.id)
        db.session.flush()
        if len(calls) == 1:
            db.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return actor.name

    assert write() == actor.name
    assert len(calls) == 2 and calls[0] != calls[1]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "test.survived")) == 1


def test_no_retry_starts_after_the_time_budget(make_app):
    """SQLite reports "busy" only after its busy timeout: retrying then would keep the user waiting for minutes."""
    app = make_app(WRITE_ATTEMPTS=10, WRITE_RETRY_WITHIN=0, WRITE_RETRY_DELAY=0.001)
    calls = []

    @writes
    def busy():
        calls.append(1)
        raise _busy()

    with app.app_context():
        with pytest.raises(DatabaseUnavailable):
            busy()
    assert len(calls) == 1


def test_after_commit_work_runs_once_and_only_after_the_commit(app, users, document):
    from manifesto.services import after_commit, in_write_transaction

    ran, attempts = [], []

    @writes
    def write():
        attempts.append(1)
        after_commit(lambda: ran.append((len(attempts), in_write_transaction())))
        if len(attempts) == 1:
            raise _busy()  # the first attempt never commits: its callback must not run

    write()
    assert ran == [(2, False)]


def test_after_commit_work_is_dropped_when_the_service_fails(app):
    from manifesto.services import after_commit

    ran = []

    @writes
    def refused():
        after_commit(lambda: ran.append(1))
        raise ValidationError("No.")

    with pytest.raises(ValidationError):
        refused()
    assert ran == []
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)  # outside a write service
