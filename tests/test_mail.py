"""Email, for real: a local SMTP server (aiosmtpd) receives what the app sends.

Immediate emails with their unsubscribe link and RFC 8058 headers,
unsubscribing without logging in, digests sent exactly once (even by two runs
at the same moment), retries when the mail server is down, a slow server
that never slows the user's action, Redis as the queue's storage, and the
production worker started with huey_consumer.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from harness import PASSWORD
from sqlalchemy import func, select, update

from manifesto import jobs
from manifesto.amendments import services as amendments
from manifesto.amendments.models import Amendment
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.notifications import services
from manifesto.notifications.digests import send_digests
from manifesto.notifications.models import Digest, Notification
from manifesto.services import utcnow

SITE = "https://manifesto.test"


class Inbox:
    """An SMTP handler that keeps every message it receives."""

    def __init__(self, delay: float = 0.0):
        """Start empty; answer every message after ``delay`` seconds."""
        self.messages = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        """Keep the message (after ``delay`` seconds, to play a slow server)."""
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, user) -> list:
        """The messages received for one person."""
        return [message for rcpt, message in self.messages if user.email in rcpt]

    def wait(self, count: int, timeout: float = 20.0) -> None:
        """Wait until ``count`` messages have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, self.messages


def free_port() -> int:
    """A TCP port on the loopback that nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, inbox: Inbox) -> Controller:
    """An SMTP server on 127.0.0.1:port."""
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def mail_config(app):
    """Point the app at a local SMTP port (nothing listens yet) and give links a public address."""
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SENDER="Manifesto <noreply@manifesto.test>",
                      SITE_URL=SITE, MAIL_TIMEOUT=5)
    return port


@pytest.fixture
def smtp(mail_config):
    """A running local SMTP server the app sends to."""
    inbox = Inbox()
    controller = start_server(mail_config, inbox)
    yield inbox
    controller.stop()


@pytest.fixture
def world(make_document, users, make_user):
    """An open amendment by Amina, followed by Fatou, and a moderator."""
    document = make_document(phase="amendments", editor=users["admin"])
    entries = documents.current_sections(document)
    author = make_user(name="Amina Author", email="amina@example.org")
    follower = make_user(name="Fatou Follower", email="fatou@example.org")
    amendment = amendments.propose_amendment(author, document.id, kind="modify", section_id=entries[0].section.id,
                                             heading=None, body=entries[0].version.body.replace("energy", "solar"),
                                             reason="Better.")
    services.follow(follower, "amendment", amendment.id)
    return {"document": document, "entries": entries, "author": author, "follower": follower,
            "amendment": amendment, "moderator": users["moderator"]}


def decide(world, amendment=None, decision="reject", reason="Not now."):
    """A moderator decides the world's amendment (or another one)."""
    amendment = amendment or world["amendment"]
    db.session.expire_all()
    return amendments.decide_amendment(world["moderator"], world["document"].id, amendment.id, decision=decision,
                                       reason=reason, revision=db.session.get(Amendment, amendment.id).revision)


def states(user) -> list[str]:
    """The email states of someone's notifications, oldest first, read in a fresh transaction.

    (On SQLite a transaction keeps reading its first snapshot, so a poll must not stay in one.)
    """
    db.session.commit()
    return list(db.session.scalars(select(Notification.email_state).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def text_of(message) -> str:
    """The plain-text part of an email."""
    return message.get_body(("plain",)).get_content()


def support(world, make_user, n: int = 1) -> None:
    """``n`` new supporters of the world's amendment (notifications for its author, in the digest)."""
    for _ in range(n):
        amendments.support_amendment(make_user(), world["document"].id, world["amendment"].id)


# --- immediate email ----------------------------------------------------------------------------


def test_an_immediate_notification_arrives_with_its_unsubscribe_link_and_headers(client, login, smtp, world):
    login(world["moderator"])
    response = client.post(f"/d/doc/amendments/{world['amendment'].id}/decide",
                           data={"decision": "reject", "reason": "Out of scope <b>for now</b>.", "revision": 1})
    assert response.status_code == 302
    [message] = smtp.to(world["author"])
    assert len(smtp.messages) == 1  # the follower's kind waits for the digest; the moderator gets nothing
    assert message["To"] == "Amina Author <amina@example.org>"
    assert message["From"] == "Manifesto <noreply@manifesto.test>"
    assert message["Subject"].startswith(f"Manifesto: {world['moderator'].name} rejected your amendment A-001")
    body = text_of(message)
    assert "Reason: Out of scope <b>for now</b>." in body  # plain text, as written
    assert f"{SITE}/d/doc/amendments/{world['amendment'].id}#history" in body
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{SITE}/notifications/unsubscribe/") and unsubscribe.endswith(">")
    assert unsubscribe[1:-1] in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"].endswith("@manifesto.test>")
    html = message.get_body(("html",)).get_content()
    assert "Out of scope &lt;b&gt;for now&lt;/b&gt;." in html and "<b>for" not in html
    assert states(world["author"]) == ["sent"]


def test_a_placeholder_address_from_an_archive_gets_no_mail(client, login, smtp, world):
    """Accounts restored without emails have addresses in .invalid: nothing is sent there, nothing fails."""
    world["author"].email = f"user-{world['author'].id}@archive.invalid"
    db.session.commit()
    login(world["moderator"])
    response = client.post(f"/d/doc/amendments/{world['amendment'].id}/decide",
                           data={"decision": "reject", "reason": "Not now.", "revision": 1})
    assert response.status_code == 302
    assert smtp.messages == []
    assert states(world["author"]) == ["sent"]  # settled, not retried for ever


def test_without_a_mail_server_emails_go_to_the_log_and_nothing_fails(app, world, caplog):
    app.config.update(MAIL_SERVER=None)
    with caplog.at_level("WARNING", logger="manifesto.mail"):
        decide(world)
    assert "MAIL_SERVER is not set" in caplog.text and "rejected your amendment A-001" in caplog.text
    assert "List-Unsubscribe: <http://localhost/notifications/unsubscribe/" in caplog.text
    assert states(world["author"]) == ["sent"]


def test_links_in_emails_never_come_from_the_host_header(client, login, app, smtp, world):
    app.config.update(SERVER_NAME=None, SITE_URL=None)  # any Host reaches the app, as behind a careless proxy
    evil = {"Host": "evil.example"}
    client.post("/login", data={"email": world["moderator"].email, "password": PASSWORD}, headers=evil)
    response = client.post(f"/d/doc/amendments/{world['amendment'].id}/decide", headers=evil, data={
        "decision": "reject", "reason": "No.", "revision": 1})
    assert response.status_code == 302 and response.headers["Location"].endswith("/amendments/1")
    [message] = smtp.to(world["author"])
    assert "evil.example" not in message.as_string()
    assert "http://127.0.0.1:5000/d/doc/amendments/" in text_of(message)  # set SITE_URL in production


# --- unsubscribing ------------------------------------------------------------------------------


def _unsubscribe_path(message) -> str:
    """The path of an email's List-Unsubscribe address."""
    return urlsplit(message["List-Unsubscribe"][1:-1]).path


def test_the_unsubscribe_link_works_without_logging_in(client, smtp, world, make_user):
    decide(world)
    [message] = smtp.to(world["author"])
    path = _unsubscribe_path(message)
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "amina@example.org" in text and "Yes, unsubscribe" in text
    assert services.delivery_settings(world["author"])["decision"].value == "immediate"  # a GET changes nothing
    done = client.post(path, data={"scope": "link"})
    assert done.status_code == 200 and "will no longer get emails about" in done.get_data(as_text=True)
    db.session.expire_all()
    assert services.delivery_settings(world["author"])["decision"].value == "app"
    assert services.delivery_settings(world["author"])["conflict"].value == "immediate"  # only that kind
    # The next decision reaches the notification centre, not the inbox.
    other = amendments.propose_amendment(world["author"], world["document"].id, kind="modify",
                                         section_id=world["entries"][1].section.id, heading=None,
                                         body=world["entries"][1].version.body.replace("democracy", "self-rule"),
                                         reason="Also.")
    decide(world, other)
    assert len(smtp.to(world["author"])) == 1 and states(world["author"])[-1] == "none"


def test_one_click_unsubscribe_as_mail_programs_send_it(app, client, smtp, world):
    app.config["WTF_CSRF_ENABLED"] = True  # mail programs send no CSRF token, and need none
    decide(world)
    [message] = smtp.to(world["author"])
    response = client.post(_unsubscribe_path(message), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    db.session.expire_all()
    assert services.delivery_settings(world["author"])["decision"].value == "app"


def test_stop_every_email_from_the_confirmation_page(client, smtp, world):
    decide(world)
    path = _unsubscribe_path(smtp.to(world["author"])[0])
    client.post(path, data={"scope": "all"})
    db.session.expire_all()
    assert {d.value for d in services.delivery_settings(world["author"]).values()} == {"app"}


@pytest.mark.parametrize("token", ["x", "eyJ1Ijo0LCJzIjoiZGVjaXNpb24ifQ.forged", "%00", "a" * 500])
def test_a_forged_or_damaged_unsubscribe_link_changes_nothing(client, world, token):
    assert client.get(f"/notifications/unsubscribe/{token}").status_code == 404
    assert client.post(f"/notifications/unsubscribe/{token}", data={"scope": "all"}).status_code == 404
    assert services.delivery_settings(world["author"])["decision"].value == "immediate"


def test_a_token_signed_with_another_key_or_for_another_purpose_is_refused(app, client, world):
    from itsdangerous import URLSafeSerializer

    foreign = URLSafeSerializer("another-secret", salt="manifesto.unsubscribe").dumps({"u": world["author"].id,
                                                                                       "s": "all"})
    other_salt = URLSafeSerializer(app.config["SECRET_KEY"], salt="else").dumps({"u": world["author"].id, "s": "all"})
    for token in (foreign, other_salt):
        assert client.post(f"/notifications/unsubscribe/{token}").status_code == 404


# --- digests ------------------------------------------------------------------------------------


def test_a_digest_gathers_everything_waiting_and_goes_once(runner, smtp, world, make_user):
    support(world, make_user, 3)
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0, result.output
    assert "Digests sent: 1" in result.output
    [digest] = smtp.to(world["author"])
    assert digest["Subject"] == "Manifesto: your digest, 3 updates"
    body = text_of(digest)
    assert body.count("supports your amendment A-001") == 3
    assert f"{SITE}/d/doc/amendments/{world['amendment'].id}#support" in body
    assert "/notifications/unsubscribe/" in digest["List-Unsubscribe"]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert states(world["author"]) == ["digested"] * 3

    again = runner.invoke(args=["send-digests"])
    assert again.exit_code == 0 and "Digests sent: 0" in again.output
    assert len(smtp.messages) == 1

    support(world, make_user, 1)  # only what arrived since the last digest
    runner.invoke(args=["send-digests"])
    latest = smtp.to(world["author"])[-1]
    assert latest["Subject"] == "Manifesto: your digest, 1 update" and len(smtp.messages) == 2
    assert db.session.scalar(select(func.count(Digest.id)).where(Digest.sent_at.is_not(None))) == 2


def test_unsubscribing_from_the_digest(client, runner, smtp, world, make_user):
    support(world, make_user, 1)
    runner.invoke(args=["send-digests"])
    client.post(_unsubscribe_path(smtp.to(world["author"])[0]))
    db.session.expire_all()
    settings = services.delivery_settings(world["author"])
    assert settings["support"].value == "app" and settings["decision"].value == "immediate"
    support(world, make_user, 1)
    runner.invoke(args=["send-digests"])
    assert len(smtp.messages) == 1


def test_two_runs_at_the_same_moment_send_each_digest_once(app, smtp, world, make_user):
    people = [make_user(name=f"Reader {i}") for i in range(6)]
    section = world["entries"][1].section  # no amendment on it: only its followers hear
    for person in people:
        services.follow(person, "section", section.id)
    documents.edit_section(world["moderator"], world["document"].id, section.id,
                           heading="Section 2", body="A new text.", reason="Shorter.", base_version=1)
    start = threading.Barrier(2)
    errors = []

    def run():
        """One run of send-digests, started together with the other."""
        try:
            with app.app_context():
                start.wait()
                send_digests()
        except Exception as error:  # pragma: no cover - shown by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    received = sorted(rcpt[0] for rcpt, _ in smtp.messages)
    assert received == sorted(p.email for p in people)  # everyone once, nobody twice
    assert db.session.scalar(select(func.count(Digest.id))) == 6


# --- a mail server that is down or slow ---------------------------------------------------------


def test_a_mail_server_that_is_down_fails_no_action_and_the_email_is_retried(client, login, mail_config, world):
    login(world["moderator"])
    response = client.post(f"/d/doc/amendments/{world['amendment'].id}/decide",
                           data={"decision": "reject", "reason": "No.", "revision": 1})
    assert response.status_code == 302  # the decision is saved although no mail server answers
    db.session.expire_all()
    assert db.session.get(Amendment, world["amendment"].id).status == "rejected"
    assert states(world["author"]) == ["queued"] and jobs.huey.scheduled_count() == 1
    assert jobs.run_scheduled_jobs(utcnow() + timedelta(seconds=30)) == 0  # not due yet (60 s)
    assert jobs.run_scheduled_jobs(utcnow() + timedelta(seconds=61)) == 1  # still down: tried and queued again
    assert states(world["author"]) == ["queued"] and jobs.huey.scheduled_count() == 1

    inbox = Inbox()
    controller = start_server(mail_config, inbox)
    try:
        assert jobs.run_scheduled_jobs(utcnow() + timedelta(seconds=200)) == 1  # the delay doubled
        assert len(inbox.to(world["author"])) == 1 and states(world["author"]) == ["sent"]
        assert jobs.huey.scheduled_count() == 0
        jobs.run_scheduled_jobs(utcnow() + timedelta(hours=2))
        assert len(inbox.messages) == 1  # never twice
    finally:
        controller.stop()


def test_a_digest_whose_send_fails_is_retried_without_duplicating(runner, mail_config, world, make_user):
    support(world, make_user, 2)
    failed = runner.invoke(args=["send-digests"])
    assert failed.exit_code == 1 and "failed and queued for retry: 1" in failed.output
    assert states(world["author"]) == ["digested", "digested"]
    again = runner.invoke(args=["send-digests"])  # the next run does not send it a second time
    assert again.exit_code == 0 and "Digests sent: 0" in again.output
    inbox = Inbox()
    controller = start_server(mail_config, inbox)
    try:
        assert jobs.run_scheduled_jobs(utcnow() + timedelta(seconds=61)) == 1
        [digest] = inbox.to(world["author"])
        assert digest["Subject"] == "Manifesto: your digest, 2 updates"
        jobs.run_scheduled_jobs(utcnow() + timedelta(hours=2))
        runner.invoke(args=["send-digests"])
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_mail_left_unsent_for_hours_is_taken_over_by_the_next_run(runner, smtp, world, make_user):
    support(world, make_user, 1)
    digest_id = db.session.scalar(select(func.max(Digest.id)))
    assert digest_id is None
    # A digest claimed long ago whose worker died, and an immediate email whose job was lost.
    long_ago = utcnow() - timedelta(hours=7)
    with db.session.begin_nested():
        digest = Digest(user_id=world["author"].id, items=1, created_at=long_ago)
        db.session.add(digest)
        db.session.flush()
        db.session.execute(update(Notification).values(email_state="digested", digest_id=digest.id))
        lost = Notification(user_id=world["follower"].id, kind="decision", object_type="amendments", object_id=1,
                            summary="A decision whose job was lost.", link="/d/doc/", created_at=long_ago,
                            email_state="queued")
        db.session.add(lost)
    db.session.commit()
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0 and "taken over after an earlier failure: 1" in result.output
    assert "late emails sent: 1" in result.output
    assert len(smtp.to(world["author"])) == 1 and len(smtp.to(world["follower"])) == 1
    runner.invoke(args=["send-digests"])
    assert len(smtp.messages) == 2


def test_a_slow_mail_server_does_not_slow_the_action(app, client, login, mail_config, world, tmp_path):
    """The real in-process worker thread (the default outside tests) sends while the user moves on."""
    inbox = Inbox(delay=4.0)
    controller = start_server(mail_config, inbox)
    app.config.update(QUEUE_MODE="thread", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    jobs.init_app(app)
    try:
        login(world["moderator"])
        started = time.monotonic()
        response = client.post(f"/d/doc/amendments/{world['amendment'].id}/decide",
                               data={"decision": "reject", "reason": "No.", "revision": 1})
        elapsed = time.monotonic() - started
        assert response.status_code == 302 and elapsed < 3.0, elapsed  # the server takes 4 s to answer
        inbox.wait(1)
        assert len(inbox.to(world["author"])) == 1
        deadline = time.monotonic() + 10
        while states(world["author"]) != ["sent"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert states(world["author"]) == ["sent"]
    finally:
        jobs.stop_worker_thread()
        controller.stop()
        app.config.update(QUEUE_MODE="immediate")
        jobs.init_app(app)


# --- where jobs wait, and who runs them ---------------------------------------------------------


def _redis_reachable() -> bool:
    """Whether the local Redis answers."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_reachable(), reason="needs Redis on 127.0.0.1:6379")
def test_with_redis_url_jobs_wait_in_redis_for_a_worker(app, smtp, world):
    from huey.storage import RedisStorage

    app.config.update(QUEUE_MODE="worker", REDIS_URL="redis://127.0.0.1:6379/15")
    jobs.init_app(app)
    try:
        assert isinstance(jobs.huey.storage, RedisStorage)
        jobs.huey.flush()
        decide(world)
        assert smtp.messages == [] and states(world["author"]) == ["queued"]
        assert jobs.huey.pending_count() == 1
        task = jobs.huey.dequeue()
        jobs.huey.execute(task)
        assert len(smtp.to(world["author"])) == 1 and states(world["author"]) == ["sent"]
    finally:
        jobs.huey.flush()
        app.config.update(QUEUE_MODE="immediate", REDIS_URL=None)
        jobs.init_app(app)


def test_an_unknown_queue_mode_fails_at_start_up(make_app):
    with pytest.raises(ValueError, match="QUEUE_MODE"):
        make_app(QUEUE_MODE="sometimes")


def test_the_production_worker_started_with_huey_consumer_sends_the_mail(app, smtp, mail_config, world, tmp_path):
    queue_file = str(tmp_path / "queue.sqlite3")
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=queue_file)
    jobs.init_app(app)
    try:
        decide(world)
        assert smtp.messages == [] and jobs.pending_jobs() == 1
        env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": app.config["SECRET_KEY"],
               "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_config), "SITE_URL": SITE,
               "QUEUE_MODE": "worker", "QUEUE_FILE": queue_file}
        worker = subprocess.Popen([sys.executable, "-m", "huey.bin.huey_consumer",
                                   "manifesto.worker.huey", "-k", "thread", "-w", "1"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            smtp.wait(1, timeout=30)
        finally:
            worker.terminate()
            output = worker.communicate(timeout=30)[0].decode(errors="replace")
        assert len(smtp.to(world["author"])) == 1, output
        assert states(world["author"]) == ["sent"]
    finally:
        app.config.update(QUEUE_MODE="immediate")
        jobs.init_app(app)
