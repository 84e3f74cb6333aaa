"""Webhooks (#17): signed deliveries to a real local receiver, retries, the address guard at each delivery,
switching a dead receiver off, the admins' pages and who may see them, and a slow receiver that slows nobody.

The receiver is an ``http.server`` on 127.0.0.1 started by the test (so these tests allow private addresses,
as an intranet set-up would) and checks each message as a receiver should: the timestamp is recent, the
HMAC-SHA256 signature matches, and a ``webhook-id`` it already accepted is refused (a replay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select

from manifesto import jobs
from manifesto.amendments import services as amendments
from manifesto.api.models import Webhook, WebhookDelivery
from manifesto.api.webhooks import services
from manifesto.audit.services import document_log
from manifesto.discussion import comments
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.services import PermissionDenied, ValidationError

TOLERANCE = 300  # seconds a receiver accepts between the message's timestamp and its clock


class Receiver:
    """A webhook receiver on 127.0.0.1: checks each message, answers as planned, and keeps what it got."""

    def __init__(self):
        self.secret: str | None = None
        self.plan: list[int | tuple[int, dict]] = []  # answers to give, in order; then 200
        self.sleep = 0.0
        self.received: list[dict] = []
        self.seen: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            """Answers POSTs."""

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                """Check the message, then answer."""
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.sleep:
                    time.sleep(receiver.sleep)
                refused = receiver.check(dict(self.headers.items()), body)
                status, headers = (400, {}) if refused else receiver.answer()
                if not refused and 200 <= status < 300:
                    receiver.seen.add(self.headers["webhook-id"])
                receiver.received.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                          "body": body, "status": status, "refused": refused})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self) -> tuple[int, dict]:
        """The next planned answer."""
        planned = self.plan.pop(0) if self.plan else 200
        return planned if isinstance(planned, tuple) else (planned, {})

    def check(self, headers: dict, body: bytes) -> str | None:
        """Why a receiver would refuse this message (None: it is genuine and new)."""
        headers = {k.lower(): v for k, v in headers.items()}
        message_id, stamp, signatures = (headers.get("webhook-id"), headers.get("webhook-timestamp"),
                                         headers.get("webhook-signature", ""))
        if not message_id or not stamp or not stamp.isdigit():
            return "missing headers"
        if abs(time.time() - int(stamp)) > TOLERANCE:
            return "too old"
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{message_id}.{stamp}.".encode() + body,
                                             hashlib.sha256).digest()).decode()
        if not any(hmac.compare_digest(part.removeprefix("v1,"), expected) for part in signatures.split()
                   if part.startswith("v1,")):
            return "bad signature"
        if message_id in self.seen:
            return "replay"
        return None

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app):
    """A receiver on 127.0.0.1, and the app allowed to reach it (an intranet set-up)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def world(make_document, users):
    """A document open for amendments, its admin and a participant."""
    document = make_document(phase="amendments", editor=users["admin"])
    return {"document": document, **users}


def _hook(world, receiver, events=(), url=None) -> Webhook:
    """Register the receiver for the document's events, as its admin."""
    made = services.create_webhook(world["admin"], world["document"].id, url=url or receiver.url,
                                   description="Test receiver", events=events)
    if receiver is not None:
        receiver.secret = made.secret
    return made.webhook


def _propose(world, submit: bool = True):
    """A participant proposes an amendment to the first section."""
    entry = documents.current_sections(world["document"])[0]
    return amendments.propose_amendment(world["participant"], world["document"].id, kind="modify",
                                        section_id=entry.section.id, heading=None,
                                        body=entry.version.body.replace("cooperatives", "worker cooperatives"),
                                        reason="Clearer.", submit=submit)


def _deliveries(webhook_id: int | None = None) -> list[WebhookDelivery]:
    """The deliveries, oldest first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    db.session.expire_all()
    return list(db.session.scalars(query))


def _later(seconds: float) -> datetime:
    """A moment ``seconds`` from now."""
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


# ------------------------------------------------------------------ delivery


def test_a_proposed_amendment_reaches_the_receiver_once_signed(app, world, receiver):
    webhook = _hook(world, receiver)
    amendment = _propose(world)
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert got["refused"] is None and got["status"] == 200
    headers = got["headers"]
    assert headers["webhook-id"].startswith("msg_") and headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json" and headers["user-agent"] == "Manifesto-Webhooks"
    message = json.loads(got["body"])
    assert message["type"] == "amendment.submitted"
    datetime.fromisoformat(message["timestamp"].replace("Z", "+00:00"))
    data = message["data"]
    assert data["document"] == "doc" and data["amendment"]["id"] == amendment.id
    assert data["amendment"]["code"] == amendment.code and data["amendment"]["status"] == "submitted"
    assert data["url"] == f"http://localhost/d/doc/amendments/{amendment.id}"
    assert data["api_url"] == f"http://localhost/api/v1/documents/doc/amendments/{amendment.id}"
    assert world["participant"].email not in got["body"].decode()  # never an email
    delivery, = _deliveries(webhook.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.message_id == headers["webhook-id"] and delivery.delivered_at is not None


def test_a_replayed_or_altered_message_is_refused_by_the_receivers_check(app, world, receiver):
    _hook(world, receiver)
    _propose(world)
    got = receiver.received[0]
    headers = {k: v for k, v in got["headers"].items() if k.startswith("webhook-") or k == "content-type"}
    assert requests.post(receiver.url, data=got["body"], headers=headers, timeout=5).status_code == 400
    assert receiver.received[-1]["refused"] == "replay"
    fresh = {**headers, "webhook-id": "msg_new"}  # a new id under the old signature: not genuine
    requests.post(receiver.url, data=got["body"], headers=fresh, timeout=5)
    assert receiver.received[-1]["refused"] == "bad signature"
    altered = got["body"].replace(b"submitted", b"accepted")
    requests.post(receiver.url, data=altered, headers={**headers, "webhook-id": "msg_x"}, timeout=5)
    assert receiver.received[-1]["refused"] == "bad signature"


def test_a_failed_delivery_is_tried_again_later_with_the_same_id(app, world, receiver):
    app.config.update(WEBHOOK_RETRY_DELAY=30.0)
    webhook = _hook(world, receiver)
    receiver.plan = [500]
    _propose(world)
    delivery, = _deliveries(webhook.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert "HTTP 500" in delivery.last_error and delivery.next_attempt_at is not None
    assert db.session.get(Webhook, webhook.id).failing_since is not None
    assert jobs.run_scheduled_jobs(_later(10)) == 0  # not before its time
    assert jobs.run_scheduled_jobs(_later(31)) == 1
    delivery, = _deliveries(webhook.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    first, second = receiver.received
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] and second["refused"] is None
    assert db.session.get(Webhook, webhook.id).failing_since is None  # a success clears it


def test_the_retry_delays_double_up_to_an_hour(app):
    app.config.update(WEBHOOK_RETRY_DELAY=30.0)
    assert [services.retry_delay(n) for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]


def test_attempts_run_out_and_the_delivery_has_failed(app, world, receiver):
    app.config.update(WEBHOOK_MAX_ATTEMPTS=2, WEBHOOK_RETRY_DELAY=1.0)
    webhook = _hook(world, receiver)
    receiver.plan = [503, 503, 503]
    _propose(world)
    jobs.run_scheduled_jobs(_later(5))
    delivery, = _deliveries(webhook.id)
    assert (delivery.status, delivery.attempts) == ("failed", 2)
    assert jobs.run_scheduled_jobs(_later(7200)) == 0


def test_a_redirect_is_never_followed(app, world, receiver):
    inside = Receiver()
    try:
        receiver.plan = [(302, {"Location": inside.url})] * 3
        webhook = _hook(world, receiver)
        _propose(world)
        delivery, = _deliveries(webhook.id)
        assert delivery.last_status_code == 302 and delivery.status == "pending"
        assert "redirects are not followed" in delivery.last_error
        assert inside.received == []
    finally:
        inside.close()


def test_the_connection_goes_to_the_address_checked_with_the_hosts_name(app, world, receiver, monkeypatch):
    real = socket.getaddrinfo

    def lookup(host, port, *args, **kwargs):
        """receiver.example is the local receiver; anything else as usual."""
        return real("127.0.0.1" if host == "receiver.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    _hook(world, receiver, url=f"http://receiver.example:{receiver.port}/hook")
    _propose(world)
    assert receiver.received[0]["headers"]["host"] == f"receiver.example:{receiver.port}"
    assert receiver.received[0]["refused"] is None


def test_the_address_is_checked_again_at_each_delivery_after_dns(app, world, receiver, monkeypatch):
    """DNS rebinding: the name was public when saved, and points inside when the message goes."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    answers = {"hooks.example.org": "93.184.216.34"}

    def lookup(host, port, *args, **kwargs):
        """The rebinding name server."""
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    webhook = _hook(world, receiver, url="http://hooks.example.org/hook")
    answers["hooks.example.org"] = "127.0.0.1"
    _propose(world)
    delivery, = _deliveries(webhook.id)
    assert delivery.last_error == "address refused: loopback" and delivery.last_status_code is None
    assert receiver.received == []


@pytest.mark.parametrize("url, resolved", [
    ("http://127.0.0.1:9/hook", None), ("http://10.1.2.3/hook", None), ("http://169.254.169.254/latest", None),
    ("http://[::1]/hook", None), ("http://sneaky.example.com/hook", "127.0.0.1"),
])
def test_saving_a_url_inside_the_network_is_refused_by_the_url_field(app, world, monkeypatch, url, resolved):
    if resolved:
        monkeypatch.setattr(socket, "getaddrinfo",
                            lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (resolved, port))])
    with pytest.raises(ValidationError) as refused:
        services.create_webhook(world["admin"], world["document"].id, url=url)
    assert refused.value.field == "url"


def test_the_metadata_address_is_refused_even_for_an_intranet(app, world):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    with pytest.raises(ValidationError):
        services.create_webhook(world["admin"], world["document"].id, url="http://169.254.169.254/latest/")


def test_only_wanted_and_visible_events_are_sent(app, world, receiver):
    webhook = _hook(world, receiver, events=["comment.posted"])
    amendment = _propose(world)  # not wanted
    _propose(world, submit=False)  # a draft: nobody sees it
    assert receiver.received == []
    comments.post_comment(world["participant"], world["document"].id, body="A fine idea.",
                          amendment_id=amendment.id)
    assert [json.loads(r["body"])["type"] for r in receiver.received] == ["comment.posted"]
    assert len(_deliveries(webhook.id)) == 1


def test_a_decision_and_the_version_it_wrote_are_told(app, world, receiver):
    _hook(world, receiver, events=["amendment.decided", "version.written"])
    amendment = _propose(world)
    amendments.decide_amendment(world["moderator"], world["document"].id, amendment.id, decision="accept",
                                reason="Agreed.", revision=db.session.get(type(amendment), amendment.id).revision)
    types = {json.loads(r["body"])["type"]: json.loads(r["body"])["data"] for r in receiver.received}
    assert types["amendment.decided"]["decision"] == "accepted"
    assert types["version.written"]["version"] == 2 and "reason" not in types["amendment.decided"]


def test_a_switched_off_webhook_gets_nothing(app, world, receiver):
    webhook = _hook(world, receiver)
    services.switch_webhook(world["admin"], world["document"].id, webhook.id, active=False)
    _propose(world)
    assert receiver.received == [] and _deliveries(webhook.id) == []


def test_a_receiver_failing_too_long_is_switched_off_and_its_admins_told(app, world, receiver, monkeypatch):
    app.config.update(WEBHOOK_RETRY_DELAY=10.0, WEBHOOK_DISABLE_AFTER=3600)
    mailed = []
    monkeypatch.setattr(services, "send_message", mailed.append)
    webhook = _hook(world, receiver)
    receiver.plan = [500] * 5
    _propose(world)
    assert db.session.get(Webhook, webhook.id).active
    # The receiver has been failing for two hours by the next attempt.
    db.session.get(Webhook, webhook.id).failing_since = datetime.now(timezone.utc) - timedelta(hours=2)
    db.session.commit()
    jobs.run_scheduled_jobs(_later(11))
    db.session.expire_all()
    hook = db.session.get(Webhook, webhook.id)
    assert not hook.active and hook.disabled_at is not None and hook.disabled_reason.startswith("failing since")
    assert jobs.run_scheduled_jobs(_later(7200)) == 0  # no more attempts
    assert _deliveries(webhook.id)[0].status == "failed"
    assert [m["To"] for m in mailed] == [f"{world['admin'].name} <{world['admin'].email}>"]
    assert "switched off" in mailed[0].get_body(("plain",)).get_content()
    assert "webhook.disabled" in [event.action for event in document_log(world["document"].id).items]


def test_a_slow_receiver_does_not_slow_the_users_action(app, world, receiver, tmp_path):
    receiver.sleep = 2.0
    _hook(world, receiver)
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    jobs.init_app(app)
    try:
        started = time.monotonic()
        _propose(world)
        assert time.monotonic() - started < 1.0 and receiver.received == []
        # The worker, later: the job that writes the deliveries, then the send.
        while jobs.pending_jobs():
            jobs.huey.execute(jobs.huey.dequeue())
        assert len(receiver.received) == 1 and receiver.received[0]["refused"] is None
    finally:
        jobs.huey.flush()
        app.config.update(QUEUE_MODE="immediate", QUEUE_FILE=None)
        jobs.init_app(app)


def test_without_webhooks_the_users_transaction_runs_no_webhook_query_and_queues_nothing(app, world, queries,
                                                                                         tmp_path):
    """The listener only notes ids; one query after the commit finds no receiver, so no job is queued."""
    app.config.update(QUEUE_MODE="worker", QUEUE_FILE=str(tmp_path / "queue.sqlite3"))
    jobs.init_app(app)
    try:
        with queries() as counted:
            _propose(world)
        webhook_queries = [s for s in counted.statements if "webhook" in s]
        assert len(webhook_queries) == 1 and webhook_queries[0].startswith("SELECT webhooks.events")
        assert counted.statements.index(webhook_queries[0]) == len(counted.statements) - 1  # after the commit
        assert not [job for job in jobs.huey.pending() if "webhook" in job.name]
    finally:
        jobs.huey.flush()
        app.config.update(QUEUE_MODE="immediate", QUEUE_FILE=None)
        jobs.init_app(app)


# ------------------------------------------------------------------ pages


def test_the_log_page_shows_deliveries_and_sends_one_again(app, world, receiver, client, login):
    app.config.update(WEBHOOK_MAX_ATTEMPTS=1)
    webhook = _hook(world, receiver)
    receiver.plan = [500]
    _propose(world)
    delivery, = _deliveries(webhook.id)
    assert delivery.status == "failed"
    login(world["admin"])
    page = client.get(f"/d/doc/webhooks/{webhook.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "amendment.submitted" in text and "HTTP 500" in text and webhook.secret in text
    response = client.post(f"/d/doc/webhooks/{webhook.id}/deliveries/{delivery.id}/again")
    assert response.status_code == 303
    delivery, = _deliveries(webhook.id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    assert receiver.received[-1]["refused"] is None


def test_an_admin_adds_tests_edits_switches_and_deletes_a_webhook(app, world, receiver, client, login):
    login(world["admin"])
    assert "webhooks" in client.get("/d/doc/settings").get_data(as_text=True)
    response = client.post("/d/doc/webhooks/new", data={"url": receiver.url, "description": "Site",
                                                         "events": ["comment.posted", "release.published"]})
    assert response.status_code == 302
    webhook = db.session.scalars(select(Webhook)).one()
    assert webhook.events == "release.published comment.posted" and webhook.secret.startswith("whsec_")
    assert len(base64.b64decode(webhook.secret.removeprefix("whsec_"))) == 32
    receiver.secret = webhook.secret
    assert client.post(f"/d/doc/webhooks/{webhook.id}/test").status_code == 303
    assert json.loads(receiver.received[-1]["body"])["type"] == "webhook.ping"
    assert receiver.received[-1]["refused"] is None
    old = webhook.secret
    client.post(f"/d/doc/webhooks/{webhook.id}/secret")
    db.session.expire_all()
    assert db.session.get(Webhook, webhook.id).secret != old
    response = client.post(f"/d/doc/webhooks/{webhook.id}/edit", data={
        "url": receiver.url, "description": "Changed", "all_events": "y", "revision": "2"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Webhook, webhook.id).events == ""
    client.post(f"/d/doc/webhooks/{webhook.id}/switch/off")
    db.session.expire_all()
    assert not db.session.get(Webhook, webhook.id).active
    client.post(f"/d/doc/webhooks/{webhook.id}/switch/on")
    assert client.post(f"/d/doc/webhooks/{webhook.id}/delete").status_code == 303
    assert db.session.scalars(select(Webhook)).all() == []
    log = client.get("/d/doc/log").get_data(as_text=True)
    for action in ("webhook added", "webhook secret replaced", "webhook changed", "webhook switched off",
                   "webhook switched on", "webhook deleted"):
        assert action in log


def test_a_refused_url_is_shown_by_its_field(app, world, client, login):
    login(world["admin"])
    response = client.post("/d/doc/webhooks/new", data={"url": "http://127.0.0.1/hook", "all_events": "y"})
    assert response.status_code == 400
    assert "inside the server" in response.get_data(as_text=True)
    assert db.session.scalars(select(Webhook)).all() == []


@pytest.mark.parametrize("role, status", [(None, 302), ("participant", 403), ("moderator", 403), ("admin", 200)])
def test_only_admins_see_the_webhook_pages(app, world, receiver, client, login, role, status):
    webhook = _hook(world, receiver)
    if role:
        login(world[role])
    for path in ("/d/doc/webhooks/", "/d/doc/webhooks/new", f"/d/doc/webhooks/{webhook.id}",
                 f"/d/doc/webhooks/{webhook.id}/edit"):
        assert client.get(path).status_code == status, path
    for path in (f"/d/doc/webhooks/{webhook.id}/test", f"/d/doc/webhooks/{webhook.id}/switch/off",
                 f"/d/doc/webhooks/{webhook.id}/secret", f"/d/doc/webhooks/{webhook.id}/delete"):
        assert client.post(path).status_code == (303 if status == 200 else status), path
    posted = client.post("/d/doc/webhooks/new", data={"url": receiver.url, "all_events": "y"})
    assert posted.status_code == (302 if status == 200 else status)


@pytest.mark.parametrize("role", ["participant", "moderator"])
def test_the_services_refuse_anyone_but_admins(app, world, receiver, role):
    webhook = _hook(world, receiver)
    with pytest.raises(PermissionDenied):
        services.create_webhook(world[role], world["document"].id, url=receiver.url)
    with pytest.raises(PermissionDenied):
        services.switch_webhook(world[role], world["document"].id, webhook.id, active=False)
    with pytest.raises(PermissionDenied):
        services.send_test(world[role], world["document"].id, webhook.id)


def test_hostile_addresses_on_the_pages_get_404_not_500(app, world, receiver, client, login):
    webhook = _hook(world, receiver)
    login(world["admin"])
    assert client.get("/d/doc/webhooks/99999999999").status_code == 404
    assert client.get("/d/nodoc/webhooks/").status_code == 404
    assert client.post(f"/d/doc/webhooks/{webhook.id}/deliveries/2147483647/again").status_code == 404
    assert client.post(f"/d/doc/webhooks/{webhook.id}/switch/maybe").status_code == 404
    assert client.post("/d/doc/webhooks/new", data={"url": "x" * 5000, "events": ["nope"]}).status_code == 400
    assert client.get(f"/d/doc/webhooks/{webhook.id}?page=-5").status_code == 200
