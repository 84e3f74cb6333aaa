"""Account mail in bulk: an import of many delegates queues one job in the request, and still one email per person.

Each email stays a job of its own (retried alone when its address fails);
only the queueing of many moves from the request to the worker. Mail goes
for real through the local SMTP server (``test_mail``'s fixtures).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_import import accounts, confirm, csv_of, upload
from test_invitations import link_in
from test_mail import Inbox, mail_config, smtp, start_server, text_of  # noqa: F401 - fixtures

from manifesto import jobs
from manifesto.accounts import importing
from manifesto.notifications import account_mail
from manifesto.services import utcnow

MANY = 50  # well above account_mail.QUEUE_IN_REQUEST (20), small enough to stay quick


def delegates(count: int, start: int = 0) -> list[str]:
    """CSV lines of ``count`` delegates, every other one writing in French."""
    return [f"Delegate {i},delegate-{i}@example.org,,,,{'fr' if i % 2 else ''}" for i in range(start, start + count)]


def addresses(count: int, start: int = 0) -> list[str]:
    """The addresses of :func:`delegates`, sorted."""
    return sorted(f"delegate-{i}@example.org" for i in range(start, start + count))


def received(inbox) -> list[str]:
    """Every recipient the SMTP server got a message for, sorted (repeats kept)."""
    return sorted(rcpt for rcpts, _message in inbox.messages for rcpt in rcpts)


@pytest.fixture
def admin(users, login):
    """The admin, logged in on the test client."""
    login(users["admin"])
    return users["admin"]


@pytest.fixture
def worker_queue(app, tmp_path):
    """The queue as in production: jobs wait in a SQLite file until a worker takes them (here, :func:`work`)."""
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    jobs.init_app(app)
    jobs.huey.flush()
    try:
        yield jobs.huey
    finally:
        jobs.huey.flush()
        app.config.update(QUEUE_MODE="immediate")
        jobs.init_app(app)


def work(queue) -> int:
    """Run the waiting jobs as a worker would, including those they queue; return how many ran."""
    ran = 0
    while (task := queue.dequeue()) is not None:
        queue.execute(task)
        ran += 1
    return ran


def test_a_large_import_mails_each_new_person_once_in_their_language(client, admin, smtp):
    confirm(client, upload(client, csv_of(*delegates(MANY))).get_data(as_text=True))
    smtp.wait(MANY)
    assert received(smtp) == addresses(MANY)  # everyone, nobody twice
    people = accounts()
    french, english = smtp.to(people["delegate-1@example.org"])[0], smtp.to(people["delegate-2@example.org"])[0]
    assert text_of(french).startswith("Bonjour Delegate 1") and text_of(english).startswith("Hello Delegate 2")
    assert link_in(french).startswith("/invitation/") and link_in(french) != link_in(english)


def test_the_request_queues_one_job_for_many_mails_and_one_per_mail_for_a_few(client, admin, smtp, worker_queue):
    confirm(client, upload(client, csv_of(*delegates(MANY))).get_data(as_text=True))
    assert worker_queue.pending_count() == 1 and smtp.messages == []  # the request queued one job, sent nothing
    assert work(worker_queue) == 1 + MANY  # the worker's batch job queued one job per email, which ran
    assert received(smtp) == addresses(MANY)

    few = account_mail.QUEUE_IN_REQUEST
    confirm(client, upload(client, csv_of(*delegates(MANY + few))).get_data(as_text=True))
    assert worker_queue.pending_count() == few  # a small transaction queues each email itself, as before
    assert work(worker_queue) == few
    assert received(smtp) == sorted(addresses(MANY) + addresses(few, start=MANY))


class Refusing(Inbox):
    """An SMTP server that refuses some recipients (550) until told otherwise."""

    def __init__(self, refused: set[str]):
        """Refuse the addresses in ``refused``."""
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse a listed address, accept the others."""
        if address in self.refused:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_failing_address_is_retried_alone_without_resending_the_others(app, admin, mail_config):
    inbox = Refusing({"delegate-7@example.org"})
    controller = start_server(mail_config, inbox)
    try:
        data = csv_of(*delegates(MANY))
        importing.import_delegates(admin, data, importing.file_digest(data))
        others = [address for address in addresses(MANY) if address != "delegate-7@example.org"]
        assert received(inbox) == others
        assert jobs.huey.scheduled_count() == 1  # one retry waits: the refused address's, alone
        inbox.refused.clear()
        assert jobs.run_scheduled_jobs(utcnow() + timedelta(seconds=61)) == 1
        assert received(inbox) == addresses(MANY)
        jobs.run_scheduled_jobs(utcnow() + timedelta(hours=2))
        assert received(inbox) == addresses(MANY)  # nobody twice
    finally:
        controller.stop()


def test_a_queue_that_fails_half_way_through_a_batch_loses_no_email_and_repeats_none(
        admin, smtp, worker_queue, monkeypatch):
    data = csv_of(*delegates(MANY))
    importing.import_delegates(admin, data, importing.file_digest(data))
    queue_one = account_mail.enqueue_account_mail
    calls = []

    def failing_once(event_id: int) -> None:
        """The queue's storage fails on the 30th email, once."""
        calls.append(event_id)
        if len(calls) == 30:
            raise OSError("database is locked")
        queue_one(event_id)

    monkeypatch.setattr(account_mail, "enqueue_account_mail", failing_once)
    work(worker_queue)  # the batch job queues 29 emails, then stops
    assert len(received(smtp)) == 29 and worker_queue.scheduled_count() == 1  # the rest waits, as one job
    assert jobs.run_scheduled_jobs(utcnow() + timedelta(seconds=61)) == 1
    work(worker_queue)
    assert received(smtp) == addresses(MANY)
