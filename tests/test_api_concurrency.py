"""Many API clients at once through a real app process: no 500, every refusal a clean problem, the data adds up.

Threads hold real tokens and send a random mix of what a convention's
scripts do at the same moment (support, withdraw support, propose, edit,
comment, decide) over HTTP to a real app process (Werkzeug's threaded
server, ``harness.serve_app``). A refusal a person would get from the pages
(409 someone changed it first, 422, 403 supporting what was decided
meanwhile) is fine; a 5xx or anything but problem details is a failure.
Afterwards the counts must still add up. It runs on PostgreSQL
(``TEST_DATABASE_URL``) and on the suite's SQLite file alike: SQLite
serialises the writers, PostgreSQL lets them meet on row locks.
"""

from __future__ import annotations

import collections
import json
import os
import random
import threading
import urllib.error
import urllib.request

import pytest
from harness import serve_app
from sqlalchemy import func, select

from manifesto.amendments.models import Amendment, Status, Support
from manifesto.api.tokens import create_token
from manifesto.discussion.models import Comment
from manifesto.documents import services as documents
from manifesto.extensions import db

THREADS = 8
ACTIONS = int(os.environ.get("API_STRESS_ACTIONS", "25"))
SEED = int(os.environ.get("STRESS_SEED", "20261207"))
WEIGHTS = {"support": 10, "unsupport": 4, "propose": 6, "comment": 5, "decide": 4, "edit": 4, "read": 3}
# Refusals a race may give, by action: anything else (a 5xx above all) fails the test.
CLEAN = {
    "support": {409, 422, 403},  # supported already; decided meanwhile (the service's 403)
    "unsupport": {409, 422},
    "propose": {409, 422},
    "comment": {403, 409, 422},  # a comment on an amendment hidden meanwhile would be 403 (none is hidden here)
    "decide": {409, 422},
    "edit": {409, 412, 422},
    "read": set(),
}


def _request(base: str, method: str, path: str, secret: str, body: dict | None = None) -> tuple[int, str, dict]:
    """One HTTP call: status, content type and the parsed JSON (an empty dict when none)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {secret}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw, status, kind = response.read(), response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        raw, status, kind = error.read(), error.code, error.headers.get("Content-Type", "")
    try:
        return status, kind, json.loads(raw) if raw else {}
    except ValueError:
        return status, kind, {"raw": raw[:300].decode(errors="replace")}


class Client:
    """One script of one person: picks an action, reads what it needs through the API, then acts."""

    def __init__(self, index: int, base: str, secret: str, moderator_secret: str, section_ids: list[int]):
        self.rng = random.Random(SEED * 31 + index)
        self.index, self.base, self.secret, self.moderator = index, base, secret, moderator_secret
        self.section_ids = section_ids
        self.counter = 0
        self.mine: set[int] = set()  # the amendments this person proposed

    def call(self, method: str, path: str, body: dict | None = None, *, secret: str | None = None):
        """A call under /api/v1/documents/doc."""
        return _request(self.base, method, "/api/v1/documents/doc" + path, secret or self.secret, body)

    def open_amendments(self) -> list[dict]:
        """The open amendments now (one page)."""
        status, _kind, data = self.call("GET", "/amendments?status=open&per_page=100")
        assert status == 200, data
        return data["items"]

    def act(self, action: str):
        """Do one action; its (status, content type, body), or None when there was nothing to act on."""
        self.counter += 1
        if action == "propose":
            section = self.rng.choice(self.section_ids)
            result = self.call("POST", "/amendments", {
                "kind": "insert", "section_id": section, "heading": f"Idea {self.index}-{self.counter}",
                "body": f"New text {self.index}-{self.counter}.", "reason": "Missing."})
            if result[0] == 201:
                self.mine.add(result[2]["id"])
            return result
        if action == "read":
            return self.call("GET", "/amendments?status=all&sort=support&desc=1&per_page=50")
        rows = self.open_amendments()
        # One's own amendments to edit; other people's to support, comment on, decide.
        rows = [row for row in rows if (row["id"] in self.mine) == (action == "edit")]
        if not rows:
            return None
        row = self.rng.choice(rows)
        if action == "support":
            return self.call("POST", f"/amendments/{row['id']}/supports")
        if action == "unsupport":
            return self.call("DELETE", f"/amendments/{row['id']}/supports")
        if action == "comment":
            return self.call("POST", "/comments", {"body": f"Comment {self.index}-{self.counter}.",
                                                   "amendment_id": row["id"]})
        if action == "edit":
            return self.call("PATCH", f"/amendments/{row['id']}", {
                "heading": f"Idea {self.index}-{self.counter}", "body": f"Edited {self.index}-{self.counter}.",
                "reason": "Clearer.", "revision": row["revision"]})
        decision = self.rng.choice(["accept", "reject", "obsolete"])
        return self.call("POST", f"/amendments/{row['id']}/decision",
                         {"decision": decision, "reason": "Decided.", "revision": row["revision"]},
                         secret=self.moderator)


@pytest.fixture
def convention(app, make_document, make_user):
    """A document open for amendments, its sections, and tokens of participants and a moderator."""
    admin = make_user("admin")
    document = make_document(n_sections=3, phase="amendments", editor=admin)
    sections = [entry.section.id for entry in documents.current_sections(document)]
    participants = [create_token(make_user(), name="script", scopes=("read", "propose", "comment"),
                                 expires_in_days=None).secret for _ in range(THREADS)]
    moderator = create_token(make_user("moderator"), name="script", scopes=("read", "moderate"),
                             expires_in_days=None).secret
    db.session.commit()
    return document.id, sections, participants, moderator


def test_api_clients_acting_at_once_get_clean_answers_and_the_counts_add_up(app, convention, database_url,
                                                                            tmp_path):
    document_id, sections, participants, moderator = convention
    process, base = serve_app(tmp_path / "instance", database_url,
                              "QUEUE_MODE = 'immediate'\nPAGE_CACHE = 'memory'\nRATELIMIT_ENABLED = False\n")
    outcomes: collections.Counter = collections.Counter()
    failures: list[str] = []
    start = threading.Barrier(THREADS)
    names, weights = zip(*WEIGHTS.items())

    def worker(index: int) -> None:
        client = Client(index, base, participants[index], moderator, sections)
        start.wait()
        for _ in range(ACTIONS):
            action = client.rng.choices(names, weights)[0]
            try:
                result = client.act(action)
            except Exception as error:  # a dropped connection is as much a failure as a 500
                failures.append(f"{action}: {error!r}")
                continue
            if result is None:
                outcomes[(action, "nothing")] += 1
                continue
            status, kind, data = result
            if status < 300:
                outcomes[(action, "ok")] += 1
            elif status in CLEAN[action] and kind.startswith("application/problem+json") and data.get("detail"):
                outcomes[(action, status)] += 1
            else:
                failures.append(f"{action}: {status} {kind} {data}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    print(sorted(outcomes.items(), key=str))
    assert not failures, failures
    done = {action for (action, result), n in outcomes.items() if result == "ok" and n}
    assert {"propose", "support", "comment", "decide"} <= done, outcomes

    db.session.commit()
    # Support counts equal support rows; codes are unique and gapless; comments are all there.
    counted = dict(db.session.execute(select(Amendment.id, Amendment.support_count)
                                      .where(Amendment.document_id == document_id)).all())
    rows = dict(db.session.execute(select(Support.amendment_id, func.count()).group_by(Support.amendment_id)).all())
    assert {k: v for k, v in counted.items() if v} == rows
    numbers = sorted(db.session.scalars(select(Amendment.number).where(Amendment.document_id == document_id,
                                                                      Amendment.number.is_not(None))))
    assert numbers == list(range(1, len(numbers) + 1))
    assert len(numbers) == outcomes[("propose", "ok")]
    assert db.session.scalar(select(func.count()).select_from(Comment)) == outcomes[("comment", "ok")]
    decided = db.session.scalar(select(func.count()).select_from(Amendment).where(
        Amendment.status.in_([Status.ACCEPTED.value, Status.REJECTED.value, Status.OBSOLETE.value])))
    assert decided == outcomes[("decide", "ok")]
