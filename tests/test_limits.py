"""Rate limits (accounts/limits.py): a script guessing passwords or posting waits longer and longer; a hall never does.

Time is the limits' own clock, moved by the test (``clock``): no test sleeps
or measures how long anything took.
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import socket
import subprocess
import time
import types
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from harness import PASSWORD, REDIS_URL, _config, redis_client, serve_app
from sqlalchemy import insert, select

from manifesto.accounts import limits
from manifesto.accounts.models import User
from manifesto.accounts.services import hash_password
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db, limiter
from manifesto.services import utcnow

WRONG = "not the right password at all"
HALL = "203.0.113.7"  # the venue's one NAT address


@pytest.fixture
def clock(monkeypatch):
    """The limits' clock, moved by hand: ``clock.advance(61)``."""
    import limits.storage.memory

    now = [1_900_000_000.0]
    fake = types.SimpleNamespace(time=lambda: now[0])
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    monkeypatch.setattr("manifesto.accounts.limits.time", fake)

    def advance(seconds: float) -> None:
        now[0] += seconds

    return types.SimpleNamespace(advance=advance)


def attempt(client, email: str, password: str = WRONG, address: str = "198.51.100.20", **headers):
    """One login POST from ``address``."""
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def retry_after(response) -> int:
    """The Retry-After header, in seconds."""
    return int(response.headers["Retry-After"])


def throttled_events() -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.login_throttled")
                              .order_by(AuditEvent.id)).all()


# ------------------------------------------------------------------ login, per account

def test_failed_logins_wait_longer_and_longer_and_never_for_good(client, make_user, clock):
    user = make_user()
    # Five wrong passwords in a minute are answered as usual.
    assert [attempt(client, user.email).status_code for _ in range(5)] == [400] * 5
    # The sixth waits for the oldest to leave the minute, even with the right password.
    refused = attempt(client, user.email, PASSWORD)
    assert refused.status_code == 429 and 0 < retry_after(refused) <= 60
    assert client.get("/account/password").status_code == 302  # not logged in
    first_wait = retry_after(refused)
    # After the minute: five more, and so on, until twenty in the hour.
    for _ in range(3):
        clock.advance(61)
        assert [attempt(client, user.email).status_code for _ in range(5)] == [400] * 5
    refused = attempt(client, user.email, PASSWORD)
    assert refused.status_code == 429
    clock.advance(61)  # the minute is over, the hour is not
    refused = attempt(client, user.email, PASSWORD)
    assert refused.status_code == 429 and retry_after(refused) > 10 * first_wait
    # The delay ends: the owner logs in.
    clock.advance(retry_after(refused) + 1)
    assert attempt(client, user.email, PASSWORD).status_code == 302
    assert client.get("/account/password").status_code == 200


def test_a_day_of_failures_waits_a_day_at_most(client, make_user, clock):
    user = make_user()
    for _ in range(5):  # 20 per hour, 100 per day
        for _ in range(4):
            assert [attempt(client, user.email).status_code for _ in range(5)] == [400] * 5
            clock.advance(61)
        clock.advance(3600)
    refused = attempt(client, user.email, PASSWORD)
    assert refused.status_code == 429 and 3600 < retry_after(refused) <= 24 * 3600
    clock.advance(24 * 3600)
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_an_unknown_email_is_answered_exactly_like_a_known_one(app, make_user, clock):
    known = make_user(email="known@example.org")
    answers = {}
    for email in (known.email, "nobody@example.org"):
        client = app.test_client()
        responses = [attempt(client, email) for _ in range(7)]
        answers[email] = [(r.status_code, r.headers.get("Retry-After"), _same_page(r, email)) for r in responses]
    assert answers[known.email] == answers["nobody@example.org"]
    assert [status for status, _, _ in answers[known.email]] == [400] * 5 + [429] * 2


def _same_page(response, email: str) -> str:
    """A page without what differs between any two browsers: the email typed, the request's id, the CSRF token."""
    page = response.get_data(as_text=True).replace(email, "EMAIL")
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    return re.sub(r'<p class="request-id">.*?</p>', "", page, flags=re.S)


def test_the_email_is_counted_as_accounts_store_it(client, make_user, clock):
    user = make_user(email="delegate@example.org")
    for typed in ("delegate@example.org", "Delegate@Example.org", " DELEGATE@example.org ", "delegate@EXAMPLE.ORG",
                  "delegate@example.org"):
        assert attempt(client, typed).status_code == 400
    assert attempt(client, user.email, PASSWORD).status_code == 429


def test_a_successful_login_clears_the_failures(app, make_user, clock):
    user = make_user()
    client = app.test_client()
    assert [attempt(client, user.email).status_code for _ in range(4)] == [400] * 4
    assert attempt(client, user.email, PASSWORD).status_code == 302
    other = app.test_client()
    # Counted from zero again: four more failures, the fifth still answered.
    assert [attempt(other, user.email).status_code for _ in range(5)] == [400] * 5
    assert attempt(other, user.email).status_code == 429


def test_a_reset_link_ends_the_delay_for_the_owner(app, client, make_user, clock):
    from manifesto.accounts import tokens

    user = make_user()
    for _ in range(5):
        attempt(client, user.email)
    assert attempt(client, user.email, PASSWORD).status_code == 429
    new = "a brand new passphrase of mine"
    token = tokens.make_token(user, tokens.RESET)
    assert client.post(f"/password/reset/{token}", data={"password": new, "confirm": new}).status_code == 302
    assert attempt(app.test_client(), user.email, new).status_code == 302


def test_a_refused_login_is_recorded_for_the_admins_once_per_window(client, make_user, clock):
    user = make_user()
    for _ in range(5):
        attempt(client, user.email)
    assert throttled_events() == []  # failures alone are the login's business
    for _ in range(3):
        assert attempt(client, user.email, address="198.51.100.77").status_code == 429
    events = throttled_events()
    assert len(events) == 1
    assert events[0].object_id == user.id and events[0].actor_id is None
    assert events[0].data == {"limit": "5 per 1 minute", "address": "198.51.100.0/24"}
    clock.advance(61)
    for _ in range(5):
        attempt(client, user.email)
    assert attempt(client, user.email).status_code == 429
    assert len(throttled_events()) == 2
    # An unknown email is refused the same way, and nobody is recorded.
    for _ in range(6):
        attempt(client, "nobody@example.org")
    assert len(throttled_events()) == 2


def test_a_form_the_login_refuses_before_checking_counts_too_but_a_get_never(client, make_user, clock):
    user = make_user()
    for _ in range(20):
        assert client.get("/login").status_code == 200
    for _ in range(5):
        assert client.post("/login", data={"email": user.email, "password": ""}).status_code == 400
    assert attempt(client, user.email, PASSWORD).status_code == 429


# ------------------------------------------------------------------ login, per address

@pytest.fixture
def delegates(app) -> list[str]:
    """800 accredited delegates with the test password, written in one statement (registering each is slow)."""
    password_hash = hash_password(PASSWORD)
    now = utcnow()
    rows = [{"email": f"delegate{n}@example.org", "name": f"Delegate {n}", "password_hash": password_hash,
             "role": "participant", "active": True, "email_verified_at": now, "locale": "en"}
            for n in range(800)]
    db.session.execute(insert(User), rows)
    db.session.commit()
    return [row["email"] for row in rows]


def test_800_delegates_behind_one_address_log_in_within_five_minutes(app, delegates, clock):
    statuses = {}
    for n, email in enumerate(delegates):
        delegate = app.test_client()
        if n % 8 == 0:  # one in eight mistypes first
            statuses.setdefault(attempt(delegate, email, address=HALL).status_code, []).append(email)
        response = attempt(delegate, email, PASSWORD, address=HALL)
        statuses.setdefault(response.status_code, []).append(email)
        if n % 160 == 159:
            clock.advance(59)  # all within five minutes
    assert sorted(statuses) == [302, 400]
    assert len(statuses[302]) == 800 and len(statuses[400]) == 100


def test_a_script_on_one_address_is_slowed_but_not_the_venue(make_app, make_user):
    app = make_app(RATELIMIT_LOGIN_PER_ADDRESS="3 per minute", RATELIMIT_EXEMPT_ADDRESSES=f"{HALL}, 2001:db8::/48")
    client = app.test_client()
    emails = [f"someone{n}@example.org" for n in range(8)]
    assert [attempt(client, email, address="198.51.100.9").status_code for email in emails[:4]] == [400] * 3 + [429]
    # The venue's addresses pass however many log in...
    assert {attempt(client, email, address=HALL).status_code for email in emails} == {400}
    assert {attempt(client, email, address="2001:db8::5").status_code for email in emails} == {400}
    # ...but not past the limit of one account.
    user = make_user()
    assert [attempt(client, user.email, address=HALL).status_code for _ in range(6)] == [400] * 5 + [429]


def test_the_address_is_the_one_the_trusted_proxy_saw(make_app):
    app = make_app(RATELIMIT_LOGIN_PER_ADDRESS="2 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()

    def through_proxy(client_address: str, email: str) -> int:
        return client.post("/login", data={"email": email, "password": WRONG},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"},
                           headers={"X-Forwarded-For": client_address}).status_code

    assert [through_proxy("198.51.100.1", f"a{n}@example.org") for n in range(3)] == [400, 400, 429]
    # Another client behind the same proxy is counted apart; a forged header earlier in the chain changes nothing.
    assert through_proxy("198.51.100.2", "b@example.org") == 400
    assert through_proxy("1.2.3.4, 198.51.100.1", "c@example.org") == 429


# ------------------------------------------------------------------ the 429 page

def test_the_429_page_keeps_what_was_typed_in_the_persons_language(client, make_user, clock):
    user = make_user()
    for _ in range(5):
        attempt(client, user.email)
    refused = client.post("/login", data={"email": user.email, "password": "a secret of mine", "next": "/d/doc/"},
                          environ_base={"REMOTE_ADDR": "198.51.100.20"}, headers={"Accept-Language": "fr"})
    assert refused.status_code == 429 and 0 < retry_after(refused) <= 60
    page = refused.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert re.search(r"dans (\d+ secondes|1 minute)", page)  # when, in words and in French
    assert f'value="{user.email}"' in page  # the email typed, ready to send again
    assert "a secret of mine" not in page  # the password is asked for again, never echoed
    assert 'type="password"' in page and 'name="password"' in page
    assert 'name="next" value="/d/doc/"' in page
    assert 'action="/login"' in page and "Renvoyer" in page
    assert 'href="/password/forgot"' in page  # the owner need not wait: a reset link ends the delay


def test_the_429_page_of_a_proposal_keeps_its_text(make_app, make_document, make_user, login):
    app = make_app(RATELIMIT_PROPOSALS="1 per hour")
    document = make_document(phase="amendments")
    author = make_user()
    client = app.test_client()
    login(author, test_client=client)
    from manifesto.documents import services as documents

    entry = documents.current_sections(document)[0]

    def propose(body: str):
        return client.post("/d/doc/amendments/new", data={
            "kind": "modify", "section_id": entry.section.id, "body": body, "heading": entry.version.heading,
            "reason": "Because.", "base_version_id": entry.version.id, "action": "submit"})

    # A preview saves nothing and does not count.
    assert client.post("/d/doc/amendments/new", data={
        "kind": "modify", "section_id": entry.section.id, "body": "Previewed.", "heading": "",
        "reason": "", "base_version_id": entry.version.id, "action": "preview"}).status_code == 200
    assert propose(entry.version.body + " First change.").status_code == 302
    refused = propose("My long <careful> wording.")
    assert refused.status_code == 429 and retry_after(refused) > 3500
    page = refused.get_data(as_text=True)
    assert "My long &lt;careful&gt; wording." in page and "proposed many amendments" in page
    assert 'action="/d/doc/amendments/new"' in page


# ------------------------------------------------------------------ per person

def test_comments_and_reports_are_limited_per_person(make_app, make_document, make_user, login):
    app = make_app(RATELIMIT_COMMENTS="2 per hour", RATELIMIT_REPORTS="1 per hour")
    document = make_document()
    from manifesto.documents import services as documents

    section = documents.current_sections(document)[0].section
    first, second = make_user(), make_user()
    clients = {}
    for person in (first, second):
        clients[person.id] = app.test_client()
        login(person, test_client=clients[person.id])
    url = f"/d/doc/sections/{section.id}/comments"

    def comment(person, body: str) -> int:
        return clients[person.id].post(url, data={"body": body}).status_code

    assert clients[first.id].get(url).status_code == 200  # reading the form counts for nothing
    assert [comment(first, f"Point {n}.") for n in range(3)] == [302, 302, 429]
    assert comment(second, "My own point.") == 302  # someone else is counted apart
    # A reply is a comment too.
    from manifesto.discussion.models import Comment

    theirs = db.session.scalars(select(Comment).where(Comment.author_id == second.id)).all()
    assert clients[first.id].post(f"/d/doc/comments/{theirs[0].id}/reply", data={"body": "A reply."}).status_code \
        == 429
    mine = db.session.scalars(select(Comment).where(Comment.author_id == first.id)).all()
    report = clients[second.id].post
    assert report(f"/d/doc/comments/{mine[0].id}/report", data={"reason": "Off topic."}).status_code == 302
    assert report(f"/d/doc/comments/{mine[1].id}/report", data={"reason": "Off topic."}).status_code == 429


def test_accounts_created_from_one_address_are_limited(make_app):
    """Each registration mails a link to the address typed: a script must not create thousands."""
    app = make_app(RATELIMIT_REGISTRATIONS_PER_ADDRESS="2 per hour")
    client = app.test_client()

    def register(n: int, name: str = "New delegate") -> int:
        return client.post("/register", data={"email": f"new{n}@example.org", "name": name,
                                              "password": "a phrase of several words", "confirm":
                                              "a phrase of several words"},
                           environ_base={"REMOTE_ADDR": "198.51.100.30"}).status_code

    assert register(1, name="") == 400  # a refused form counts for nothing
    assert [register(n) for n in (1, 2, 3)] == [302, 302, 429]
    other = app.test_client().post("/register", data={"email": "new4@example.org", "name": "Other",
                                                      "password": "a phrase of several words",
                                                      "confirm": "a phrase of several words"},
                                   environ_base={"REMOTE_ADDR": "198.51.100.31"})
    assert other.status_code == 302  # another address is counted apart


# ------------------------------------------------------------------ mail asked for

def test_reset_links_are_limited_per_email_and_per_address_whether_or_not_there_is_an_account(make_app, make_user):
    app = make_app(RATELIMIT_MAIL_PER_EMAIL="2 per hour", RATELIMIT_MAIL_PER_ADDRESS="5 per hour")
    user = make_user()
    client = app.test_client()

    def ask(email: str, address: str):
        return client.post("/password/forgot", data={"email": email}, environ_base={"REMOTE_ADDR": address})

    for email, address in ((user.email, "198.51.100.1"), ("nobody@example.org", "198.51.100.2")):
        answers = [ask(email, address) for _ in range(3)]
        assert [a.status_code for a in answers] == [302, 302, 429]
        assert retry_after(answers[-1]) > 3500
        assert f'value="{email}"' in answers[-1].get_data(as_text=True)  # kept, to send again later
    # Per address: many people asking from one place.
    assert [ask(f"person{n}@example.org", "198.51.100.3").status_code for n in range(6)] == [302] * 5 + [429]


def test_the_verification_link_again_is_limited_per_person(make_app, make_user, login):
    app = make_app(RATELIMIT_MAIL_PER_EMAIL="2 per hour")
    user = make_user()
    client = app.test_client()
    login(user, test_client=client)
    assert [client.post("/account/verify").status_code for _ in range(3)] == [302, 302, 429]


# ------------------------------------------------------------------ settings

def test_ratelimit_enabled_false_turns_every_limit_off(make_app, make_user):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN_PER_ADDRESS="1 per minute")
    user = make_user()
    client = app.test_client()
    assert {attempt(client, user.email).status_code for _ in range(12)} == {400}
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_an_empty_limit_turns_that_one_off(make_app, make_user):
    app = make_app(RATELIMIT_LOGIN_PER_ACCOUNT="", RATELIMIT_LOGIN_PER_ADDRESS="8 per minute")
    user = make_user()
    client = app.test_client()
    assert [attempt(client, user.email).status_code for _ in range(9)] == [400] * 8 + [429]


@pytest.mark.parametrize("setting, value, message", [
    ("RATELIMIT_COMMENTS", "lots per hour", "RATELIMIT_COMMENTS"),
    ("RATELIMIT_EXEMPT_ADDRESSES", "203.0.113.7, the venue", "'the venue' is not an address"),
])
def test_a_setting_that_cannot_be_read_stops_the_start(make_app, setting, value, message):
    with pytest.raises(ValueError, match=message):
        make_app(**{setting: value})


def test_the_counts_live_where_the_settings_say():
    assert limits.storage_uri({}) == "memory://"
    assert limits.storage_uri({"REDIS_URL": "redis://cache:6379/2"}) == "redis://cache:6379/2"
    assert limits.storage_uri({"REDIS_URL": "unix:///run/redis.sock"}) == "redis+unix:///run/redis.sock"
    assert limits.storage_uri({"REDIS_URL": "redis://cache", "RATELIMIT_STORAGE_URI": "memory://"}) == "memory://"


def test_every_limited_endpoint_exists_and_a_missing_one_fails_loudly(app, client, monkeypatch, make_app):
    assert limits.missing_endpoints(app) == []
    assert {endpoint for rule in limits.RULES for endpoint in rule.endpoints} >= {
        "accounts.login", "amendments.new", "discussion.comment_on_section", "discussion.report_comment"}
    renamed = limits.Rule("RATELIMIT_COMMENTS", ("discussion.comment_renamed",), limits._by_person, None, None, "")
    monkeypatch.setattr(limits, "RULES", limits.RULES + (renamed,))
    with pytest.raises(RuntimeError, match="discussion.comment_renamed"):
        make_app().test_client().get("/login")


def test_each_app_counts_apart(make_app, make_user):
    """One process builds many apps (the tests do): each has its own limiter and its own counts."""
    user = make_user()
    first, second = make_app(), make_app(RATELIMIT_ENABLED=False)
    assert [attempt(first.test_client(), user.email).status_code for _ in range(6)] == [400] * 5 + [429]
    assert attempt(second.test_client(), user.email).status_code == 400
    assert attempt(make_app().test_client(), user.email).status_code == 400
    assert attempt(first.test_client(), user.email).status_code == 429
    with first.app_context():
        assert limiter.enabled
    with second.app_context():
        assert not limiter.enabled


# ------------------------------------------------------------------ Redis

def _closed_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_logins_work_while_redis_is_down(make_app, make_user, caplog):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}/0")
    user = make_user()
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        assert attempt(client, user.email, PASSWORD).status_code == 302
    assert "falling back to in-memory storage" in caplog.text
    # Each process still counts in its own memory meanwhile.
    other = app.test_client()
    assert [attempt(other, user.email).status_code for _ in range(6)] == [400] * 5 + [429]


# ------------------------------------------------------------------ two app processes on one Redis

SERVER_PASSWORD = "a delegate's own long passphrase"


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the tests' Redis database, its keys removed afterwards."""
    client = redis_client()
    prefix = f"manifesto-test-limits-{time.monotonic_ns()}"
    yield prefix, client
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def _prepare(tmp_path: Path) -> str:
    """A SQLite database built by the migrations, with two accounts."""
    from flask_migrate import upgrade

    from manifesto import create_app
    from manifesto.accounts.services import register_user

    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    app = create_app(_config(url))
    with app.app_context():
        upgrade()
        for name in ("target", "bystander"):
            register_user(f"{name}@example.org", name.capitalize(), SERVER_PASSWORD, None, None)
        db.session.remove()
        db.engine.dispose()
    return url


def _serve(tmp_path: Path, name: str, url: str, prefix: str) -> tuple[subprocess.Popen, str]:
    """Start one app process (its own port and instance folder, limits on the shared Redis)."""
    return serve_app(tmp_path / f"instance-{name}", url, f"RATELIMIT_KEY_PREFIX = {prefix!r}\n"
                     "QUEUE_MODE = 'immediate'\nPAGE_CACHE = 'memory'\n")


def _log_in(base: str, email: str, password: str) -> tuple[int, dict]:
    """One login through the real form (a browser of its own, with the CSRF token): the status and headers."""
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with browser.open(base + "/login", timeout=10) as response:
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', response.read().decode()).group(1)
    fields = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    try:
        with browser.open(base + "/login", data=fields, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_failures_counted_by_one_process_throttle_the_login_on_the_other(tmp_path, redis_prefix):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs on a SQLite file of its own; the PostgreSQL run builds its schema by the same migrations")
    prefix, redis = redis_prefix
    url = _prepare(tmp_path)
    servers = [_serve(tmp_path, name, url, prefix) for name in ("a", "b")]
    try:
        (_, a), (_, b) = servers
        assert [_log_in(a, "target@example.org", WRONG)[0] for _ in range(5)] == [400] * 5
        status, headers = _log_in(b, "target@example.org", SERVER_PASSWORD)
        assert status == 429 and 0 < int(headers["Retry-After"]) <= 60
        assert _log_in(a, "target@example.org", SERVER_PASSWORD)[0] == 429
        assert _log_in(b, "bystander@example.org", SERVER_PASSWORD)[0] == 200  # logged in, on the home page
        assert list(redis.scan_iter(f"*{prefix}*")), "the counts are in Redis"
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=10)
