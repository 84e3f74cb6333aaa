"""Several people acting at once: real concurrent transactions, never a lost change.

Each test holds a lock from outside (a row lock on PostgreSQL, the write lock
on SQLite), starts several threads that all act on the same stale view, then
lets them go at once. Exactly one may win; the others must get a clear
ConflictError, and nothing may be written twice.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select, text

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment, Support
from manifesto.documents import services as documents
from manifesto.documents.models import Section, SectionVersion
from manifesto.extensions import db
from manifesto.services import ConflictError, ServiceError

THREADS = 6


@contextmanager
def held_lock(table: str, row_id: int):
    """Hold a write lock from another connection while the block runs, then release it."""
    db.session.commit()  # the test's own snapshot must not hold anything
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn, conn.begin():
            conn.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id})
            yield
        return
    raw = engine.raw_connection()  # our own BEGIN, outside SQLAlchemy's transaction handling
    try:
        raw.cursor().execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            raw.cursor().execute("COMMIT")
    finally:
        raw.close()


def race(app, action, n=THREADS, lock=None):
    """Run ``action(i)`` in ``n`` threads released together; return (successes, conflicts, errors)."""
    results: list[tuple[str, object]] = []
    ready = threading.Barrier(n + 1)

    def worker(i):
        with app.app_context():
            ready.wait()
            try:
                action(i)
                results.append(("ok", i))
            except ConflictError as error:
                results.append(("conflict", error.message))
            except ServiceError as error:
                results.append(("refused", error.message))
            except Exception as error:  # a crash is a failure of the test, reported below
                results.append(("error", repr(error)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    with lock or nullcontext():
        for thread in threads:
            thread.start()
        ready.wait()
        time.sleep(0.3)  # let every thread reach the lock
    for thread in threads:
        thread.join(30)
    kinds = [kind for kind, _ in results]
    assert "error" not in kinds, results
    return kinds.count("ok"), kinds.count("conflict") + kinds.count("refused"), results


@contextmanager
def nullcontext():
    yield


@pytest.fixture
def open_document(make_document, users):
    return make_document(phase="amendments", editor=users["admin"])


@pytest.fixture
def open_amendment(open_document, users):
    """A submitted amendment adding a sentence to §1: (its section entry, its id)."""
    entry = documents.current_sections(open_document)[0]
    amendment = amendments.propose_amendment(users["participant"], open_document.id, kind="modify",
                                             section_id=entry.section.id, heading=None,
                                             body=entry.version.body + " Added.", reason="Why.")
    return entry, amendment.id


@pytest.fixture
def doc_id(open_document):
    """The document's id: threads must not touch the test's objects."""
    return open_document.id


def test_two_editors_on_one_section_never_overwrite_each_other(app, open_document, doc_id, users):
    entry = documents.current_sections(open_document)[0]
    section_id, moderator_id = entry.section.id, users["moderator"].id

    def edit(i):
        actor = db.session.get(User, moderator_id)
        documents.edit_section(actor, doc_id, section_id, heading="Section 1",
                               body=f"Text written by editor {i}.", reason=f"Editor {i}.", base_version=1)

    wins, refused, results = race(app, edit, lock=held_lock("sections", section_id))
    assert (wins, refused) == (1, THREADS - 1), results
    db.session.expire_all()
    assert db.session.get(Section, section_id).version_count == 2
    assert db.session.scalar(select(func.count()).select_from(SectionVersion)
                             .where(SectionVersion.section_id == section_id)) == 2


def test_two_moderators_deciding_at_once(app, open_amendment, doc_id, users, make_user):
    entry, amendment_id = open_amendment
    moderators = [make_user("moderator").id for _ in range(THREADS)]
    decisions = ["accept", "reject"] * THREADS

    def decide(i):
        actor = db.session.get(User, moderators[i])
        amendments.decide_amendment(actor, doc_id, amendment_id, decision=decisions[i],
                                    reason=f"Moderator {i}.", revision=1)

    wins, refused, results = race(app, decide, lock=held_lock("documents", doc_id))
    assert (wins, refused) == (1, THREADS - 1), results
    db.session.expire_all()
    decided = db.session.get(Amendment, amendment_id)
    section = db.session.get(Section, entry.section.id)
    assert section.version_count == (2 if decided.status == "accepted" else 1)


def test_a_decision_racing_an_edit(app, open_amendment, doc_id, users):
    entry, amendment_id = open_amendment
    author_id, moderator_id = users["participant"].id, users["moderator"].id
    original = entry.version.body

    def act(i):
        if i == 0:
            amendments.edit_amendment(db.session.get(User, author_id), doc_id, amendment_id,
                                      heading=None, body=original + " Edited instead.",
                                      reason="Changed my mind.", revision=1)
        else:
            amendments.decide_amendment(db.session.get(User, moderator_id), doc_id, amendment_id,
                                        decision="accept", reason="Fine.", revision=1)

    wins, refused, results = race(app, act, n=2, lock=held_lock("amendments", amendment_id))
    assert (wins, refused) == (1, 1), results
    db.session.expire_all()
    decided = db.session.get(Amendment, amendment_id)
    body = db.session.get(SectionVersion, db.session.get(Section, entry.section.id).current_version_id).body
    if decided.status == "accepted":
        assert body.endswith(" Added.")  # the version accepted is the version the moderator saw
    else:
        assert decided.proposed_body.endswith("Edited instead.") and body == entry.version.body


def test_simultaneous_supporters_are_all_counted(app, open_amendment, doc_id, users, make_user):
    entry, amendment_id = open_amendment
    supporters = [make_user().id for _ in range(THREADS)]

    def support(i):
        amendments.support_amendment(db.session.get(User, supporters[i]), doc_id, amendment_id)

    wins, refused, results = race(app, support, lock=held_lock("amendments", amendment_id))
    assert wins == THREADS, results
    db.session.expire_all()
    assert db.session.get(Amendment, amendment_id).support_count == THREADS
    assert db.session.scalar(select(func.count()).select_from(Support)) == THREADS


def test_simultaneous_proposals_get_distinct_codes(app, open_document, doc_id, users, make_user):
    entry = documents.current_sections(open_document)[0]
    authors = [make_user().id for _ in range(THREADS)]
    section_id, body = entry.section.id, entry.version.body

    def propose(i):
        amendments.propose_amendment(db.session.get(User, authors[i]), doc_id, kind="modify",
                                     section_id=section_id, heading=None, body=body + f" Idea {i}.",
                                     reason="Why.")

    wins, refused, results = race(app, propose, lock=held_lock("documents", doc_id))
    assert wins == THREADS, results
    numbers = db.session.scalars(select(Amendment.number)).all()
    assert sorted(numbers) == list(range(1, THREADS + 1))


def test_accepting_while_others_are_rebased_loses_nothing(app, open_document, doc_id, users, make_user):
    """Two accepts on one section at once: the loser is refused or rebased, never silently dropped."""
    entry = documents.current_sections(open_document)[0]
    body = entry.version.body
    a = amendments.propose_amendment(users["participant"], open_document.id, kind="modify",
                                     section_id=entry.section.id, heading=None,
                                     body=body.replace("cooperatives", "worker cooperatives"), reason="A.")
    b = amendments.propose_amendment(users["admin"], open_document.id, kind="modify",
                                     section_id=entry.section.id, heading=None,
                                     body=body.replace("democracy", "deep democracy"), reason="B.")
    moderator_id = users["moderator"].id
    targets = [a.id, b.id]
    a_id, b_id = a.id, b.id

    def accept(i):
        amendments.decide_amendment(db.session.get(User, moderator_id), doc_id, targets[i],
                                    decision="accept", reason="Yes.", revision=1)

    wins, refused, results = race(app, accept, n=2, lock=held_lock("documents", doc_id))
    db.session.expire_all()
    section = db.session.get(Section, entry.section.id)
    current = db.session.get(SectionVersion, section.current_version_id).body
    # The first accept always lands; the second was either refused (the rebase bumped its revision)
    # or, if it went first, the other was rebased and refused. Nothing lands without the other's change.
    assert wins == 1 and refused == 1, results
    loser = db.session.get(Amendment, b_id if "worker cooperatives" in current else a_id)
    assert loser.status == "submitted" and not loser.conflicted
    assert loser.base_version_id == section.current_version_id
    assert "worker cooperatives" in loser.proposed_body and "deep democracy" in loser.proposed_body


def test_supports_and_proposals_on_one_section_at_once(app, open_amendment, doc_id, users, make_user):
    """Different actions on the same rows: every one of them lands (they used to deadlock on PostgreSQL)."""
    entry, amendment_id = open_amendment
    people = [make_user().id for _ in range(THREADS)]
    section_id, body = entry.section.id, entry.version.body

    def act(i):
        actor = db.session.get(User, people[i])
        if i % 2:
            amendments.support_amendment(actor, doc_id, amendment_id)
        else:
            amendments.propose_amendment(actor, doc_id, kind="modify", section_id=section_id, heading=None,
                                         body=body + f" Proposal {i}.", reason="Why.")

    wins, refused, results = race(app, act, lock=held_lock("documents", doc_id))
    assert wins == THREADS, results
    db.session.expire_all()
    assert db.session.get(Amendment, amendment_id).support_count == THREADS // 2
    assert sorted(db.session.scalars(select(Amendment.number))) == list(range(1, THREADS // 2 + 2))


def test_supports_and_a_withdrawal_while_a_moderator_decides(app, open_amendment, doc_id, users, make_user):
    """The decision, the author's withdrawal and the supports meet: one of decide/withdraw wins, nothing fails."""
    entry, amendment_id = open_amendment
    supporters = [make_user().id for _ in range(THREADS - 2)]
    author_id, moderator_id = users["participant"].id, users["moderator"].id

    def act(i):
        if i == 0:
            amendments.decide_amendment(db.session.get(User, moderator_id), doc_id, amendment_id,
                                        decision="reject", reason="No.", revision=1)
        elif i == 1:
            amendments.withdraw_amendment(db.session.get(User, author_id), doc_id, amendment_id, revision=1)
        else:
            amendments.support_amendment(db.session.get(User, supporters[i - 2]), doc_id, amendment_id)

    wins, refused, results = race(app, act, lock=held_lock("amendments", amendment_id))
    db.session.expire_all()
    final = db.session.get(Amendment, amendment_id)
    assert final.status in ("rejected", "withdrawn")
    outcome = {i: kind for kind, i in results if kind == "ok"}
    assert (0 in outcome) != (1 in outcome), results  # exactly one of the decision and the withdrawal
    assert final.support_count == db.session.scalar(
        select(func.count()).select_from(Support).where(Support.amendment_id == amendment_id))
