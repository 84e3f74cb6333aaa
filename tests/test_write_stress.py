"""Many people doing different things at once on a few sections: nothing fails, nothing is lost.

Threads run real transactions through the services, each a random mix of
what a convention does at the same moment: propose, edit, withdraw, support
and withdraw support, decide in every way, edit and revert sections. A
refusal a user would see (a conflict, a validation message) is fine; any
other exception is a failure. Afterwards the data must still add up.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import threading

import pytest
from sqlalchemy import func, select

from manifesto.accounts.models import User
from manifesto.amendments import services as amendments
from manifesto.amendments.models import DECIDED, Amendment, Collision, Kind, Status, Support
from manifesto.audit.models import AuditEvent
from manifesto.documents import services as documents
from manifesto.documents.models import Section, SectionVersion
from manifesto.extensions import db
from manifesto.services import ServiceError

THREADS = 8
ACTIONS = int(os.environ.get("STRESS_ACTIONS", "30"))
SEED = int(os.environ.get("STRESS_SEED", "20261129"))

WEIGHTS = {
    "propose": 14, "propose_draft": 3, "propose_delete": 1, "propose_insert": 2, "edit": 8, "submit_draft": 3,
    "withdraw": 3, "support": 16, "unsupport": 5, "decide": 12, "edit_section": 4, "revert_section": 2,
}


@pytest.fixture
def convention(make_document, make_user):
    """A document open for amendments (one supporter needed), three sections, delegates and moderators."""
    admin = make_user("admin")
    document = make_document(n_sections=3, phase="amendments", editor=admin)
    documents.update_document(admin, document.id, title=document.title, introduction=document.introduction,
                              phase="amendments", amendment_deadline=None, min_supporters=1)
    participants = [make_user().id for _ in range(6)]
    moderators = [make_user("moderator").id for _ in range(2)]
    return document.id, participants, moderators


class Delegate:
    """One thread's person-at-a-keyboard: looks at the current state, then acts on it."""

    def __init__(self, index: int, document_id: int, participants: list[int], moderators: list[int]):
        self.rng = random.Random(SEED * 31 + index)
        self.index = index
        self.document_id = document_id
        self.participants = participants
        self.moderators = moderators
        self.counter = 0

    def _user(self, ids: list[int]) -> User:
        return db.session.get(User, self.rng.choice(ids))

    def _amendments(self, *statuses: Status, kinds=None) -> list[Amendment]:
        stmt = select(Amendment).where(Amendment.document_id == self.document_id,
                                       Amendment.status.in_([s.value for s in statuses]))
        if kinds:
            stmt = stmt.where(Amendment.kind.in_(kinds))
        return list(db.session.scalars(stmt.order_by(Amendment.id)))

    def _sections(self) -> list[documents.SectionEntry]:
        document = documents.get_document_or_404("doc")
        return documents.current_sections(document)

    def _text(self) -> str:
        self.counter += 1
        return f"Idea {self.index}-{self.counter}."

    def act(self, action: str) -> None:
        """Do one action on a fresh view of the data; raise ServiceError when refused."""
        db.session.commit()  # a fresh view, as a new page load would give
        getattr(self, action)()

    def propose(self, submit: bool = True) -> None:
        entry = self.rng.choice(self._sections())
        amendments.propose_amendment(self._user(self.participants), self.document_id, kind="modify",
                                     section_id=entry.section.id, heading=None,
                                     body=entry.version.body + " " + self._text(), reason="Because.",
                                     base_version_id=entry.version.id, submit=submit)

    def propose_draft(self) -> None:
        self.propose(submit=False)

    def propose_delete(self) -> None:
        entry = self.rng.choice(self._sections())
        amendments.propose_amendment(self._user(self.participants), self.document_id, kind="delete",
                                     section_id=entry.section.id, heading=None, body=None, reason="Too long.")

    def propose_insert(self) -> None:
        entry = self.rng.choice(self._sections())
        amendments.propose_amendment(self._user(self.participants), self.document_id, kind="insert",
                                     section_id=entry.section.id, heading="A new section",
                                     body="New text. " + self._text(), reason="Missing.")

    def edit(self) -> None:
        candidates = self._amendments(Status.SUBMITTED, Status.DRAFT, kinds=["modify", "insert"])
        if not candidates:
            return
        amendment = self.rng.choice(candidates)
        heading, body = amendments.resolution_start(amendment)
        actor = db.session.get(User, amendment.author_id)
        if amendment.conflicted and self.rng.random() < 0.5:
            actor = self._user(self.moderators)
        amendments.edit_amendment(actor, self.document_id, amendment.id, heading=heading,
                                  body=(body or "") + " " + self._text(), reason="Clearer.",
                                  revision=amendment.revision)

    def submit_draft(self) -> None:
        drafts = self._amendments(Status.DRAFT)
        if not drafts:
            return
        amendment = self.rng.choice(drafts)
        heading, body = amendments.resolution_start(amendment)
        amendments.edit_amendment(db.session.get(User, amendment.author_id), self.document_id, amendment.id,
                                  heading=heading, body=(body or "") + " " + self._text(), reason="Ready.",
                                  revision=amendment.revision, submit=True)

    def withdraw(self) -> None:
        candidates = self._amendments(Status.SUBMITTED, Status.DRAFT)
        if candidates:
            amendment = self.rng.choice(candidates)
            amendments.withdraw_amendment(db.session.get(User, amendment.author_id), self.document_id,
                                          amendment.id, revision=amendment.revision, reason="Changed my mind.")

    def support(self) -> None:
        candidates = self._amendments(Status.SUBMITTED)
        if candidates:
            amendment = self.rng.choice(candidates)
            supporter = self.rng.choice([p for p in self.participants if p != amendment.author_id])
            amendments.support_amendment(db.session.get(User, supporter), self.document_id, amendment.id)

    def unsupport(self) -> None:
        rows = db.session.execute(select(Support.amendment_id, Support.user_id).join(Amendment).where(
            Amendment.document_id == self.document_id, Amendment.status == Status.SUBMITTED.value)).all()
        if rows:
            amendment_id, user_id = self.rng.choice(rows)
            amendments.withdraw_support(db.session.get(User, user_id), self.document_id, amendment_id)

    def decide(self) -> None:
        candidates = self._amendments(Status.SUBMITTED)
        if not candidates:
            return
        amendment = self.rng.choice(candidates)
        decision = self.rng.choice(["accept", "accept", "accept_modified", "reject", "obsolete", "merged"])
        others = [a for a in candidates if a.id != amendment.id and a.number]
        merged_into = self.rng.choice(others).code if others else "A-999"
        final_body = (amendment.proposed_body or "") + " As modified." if amendment.kind != Kind.DELETE else None
        amendments.decide_amendment(self._user(self.moderators), self.document_id, amendment.id,
                                    decision=decision, reason="Decided.", revision=amendment.revision,
                                    final_heading=amendment.proposed_heading, final_body=final_body,
                                    merged_into=merged_into)

    def edit_section(self) -> None:
        entry = self.rng.choice(self._sections())
        documents.edit_section(self._user(self.moderators), self.document_id, entry.section.id,
                               heading=entry.version.heading, body=entry.version.body + " " + self._text(),
                               reason="Moderators' edit.", base_version=entry.section.version_count)

    def revert_section(self) -> None:
        entry = self.rng.choice(self._sections())
        documents.revert_section(self._user(self.moderators), self.document_id, entry.section.id,
                                 to_number=1, reason="Back to the start.", base_version=entry.section.version_count)


def _run(app, convention) -> collections.Counter:
    document_id, participants, moderators = convention
    db.session.commit()
    outcomes: collections.Counter = collections.Counter()
    failures: list[str] = []
    start = threading.Barrier(THREADS)
    names, weights = zip(*WEIGHTS.items())

    def worker(index: int) -> None:
        delegate = Delegate(index, document_id, participants, moderators)
        with app.app_context():
            start.wait()
            for _ in range(ACTIONS):
                action = delegate.rng.choices(names, weights)[0]
                try:
                    delegate.act(action)
                    outcomes[(action, "ok")] += 1
                except ServiceError:
                    db.session.rollback()
                    outcomes[(action, "refused")] += 1
                except Exception as error:  # anything else is what this test is here to catch
                    db.session.rollback()
                    failures.append(f"{action}: {error!r}")
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    assert not failures, failures
    return outcomes


def _check_invariants(document_id: int) -> None:
    db.session.commit()
    # Support counts equal support rows.
    counted = dict(db.session.execute(select(Amendment.id, Amendment.support_count)
                                      .where(Amendment.document_id == document_id)).all())
    rows = dict(db.session.execute(select(Support.amendment_id, func.count()).group_by(Support.amendment_id)).all())
    assert {k: v for k, v in counted.items() if v} == rows

    # Codes are unique and gapless; drafts have none.
    numbered = db.session.execute(select(Amendment.number, Amendment.status).where(
        Amendment.document_id == document_id, Amendment.number.is_not(None))).all()
    numbers = sorted(n for n, _ in numbered)
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(status != Status.DRAFT for _, status in numbered)

    # Every decided amendment has exactly one decision in the audit trail.
    decided = {a.id: a.status for a in db.session.scalars(select(Amendment).where(
        Amendment.document_id == document_id, Amendment.status.in_([s.value for s in DECIDED])))}
    decisions = collections.Counter(db.session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.object_type == "amendments",
        AuditEvent.action.in_([f"amendment.{s.value}" for s in DECIDED]))))
    assert {i: decisions[i] for i in decided} == {i: 1 for i in decided}
    assert set(decisions) == set(decided)

    # Every section's version chain is intact and its pointer is the newest version.
    for section in db.session.scalars(select(Section).where(Section.document_id == document_id)):
        versions = list(db.session.scalars(select(SectionVersion).where(SectionVersion.section_id == section.id)
                                           .order_by(SectionVersion.number)))
        assert [v.number for v in versions] == list(range(1, section.version_count + 1))
        assert all(v.parent_id == p.id for p, v in zip(versions, versions[1:]))
        assert section.current_version_id == versions[-1].id

    # No open amendment sits on a stale base without being flagged.
    stale = db.session.execute(
        select(Amendment.id, Amendment.status)
        .join(Section, Section.id == Amendment.section_id)
        .where(Amendment.document_id == document_id, Amendment.kind != Kind.INSERT.value,
               Amendment.status.in_([Status.SUBMITTED.value, Status.DRAFT.value]),
               Amendment.base_version_id != Section.current_version_id,
               Amendment.conflicted.is_(False))).all()
    assert stale == []

    # Collisions only ever pair open, unconflicted amendments.
    open_ids = set(db.session.scalars(select(Amendment.id).where(
        Amendment.status == Status.SUBMITTED.value, Amendment.conflicted.is_(False))))
    for a, b in db.session.execute(select(Collision.amendment_id, Collision.other_id)).all():
        assert a in open_ids and b in open_ids


class _Retries(logging.Handler):
    """Counts the transactions the write wrapper had to run again."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_mixed_writes_at_once_never_fail_and_keep_the_data_consistent(app, convention):
    retries = _Retries()
    logger = logging.getLogger("manifesto.services")
    logger.addHandler(retries)
    try:
        outcomes = _run(app, convention)
    finally:
        logger.removeHandler(retries)
    print(sorted(outcomes.items()), f"{len(retries.messages)} retries")
    _check_invariants(convention[0])
    if db.engine.dialect.name == "postgresql":
        # Locks taken in one order cannot deadlock: the retry is a safety net, not the mechanism.
        assert not [m for m in retries.messages if "deadlock" in m], retries.messages
    done = {action for (action, result), n in outcomes.items() if result == "ok" and n}
    # Not a vacuous run: most kinds of action really happened.
    assert {"propose", "support", "decide", "edit_section"} <= done, outcomes
    assert sum(n for (_, result), n in outcomes.items() if result == "ok") >= THREADS * ACTIONS // 3, outcomes
