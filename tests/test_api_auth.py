"""Who is calling the API, through real requests: tokens and their refusals, never the cookie, the rate limits."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from harness import bearer, PASSWORD
from manifesto.accounts import services as accounts
from manifesto.accounts.models import User
from manifesto.api import tokens
from manifesto.api.models import ApiToken
from manifesto.documents import services as documents
from manifesto.extensions import db
from manifesto.services import as_utc, utcnow

PROBLEM = "application/problem+json"
DOCUMENTS = "/api/v1/documents"


def assert_unauthorized(response, error: str) -> dict:
    """A 401 problem with the RFC 6750 challenge naming ``error``; its body."""
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == PROBLEM
    assert response.headers["WWW-Authenticate"] == f'Bearer realm="manifesto", error="{error}"'
    problem = response.get_json()
    assert problem["status"] == 401 and problem["type"].endswith("#problem-unauthorized") and problem["detail"]
    return problem


def comment(client, document, headers) -> object:
    """Start a thread on the document's first section: a write that needs the ``comment`` scope."""
    section = documents.current_sections(document)[0].section
    return client.post(f"/api/v1/documents/{document.slug}/comments", headers=headers,
                       json={"section_id": section.id, "body": "A thought from a script."})


# ------------------------------------------------------------------ no token, bad headers

def test_without_a_token_public_data_is_read(client, document):
    response = client.get(DOCUMENTS)
    assert response.status_code == 200
    assert [item["slug"] for item in response.get_json()["items"]] == ["doc"]
    assert client.get(f"{DOCUMENTS}/doc").status_code == 200


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Bearer ", "Bearer    ", "Token abc",
                                    "mfst_" + "a" * 43, ""])
def test_an_authorization_header_that_is_not_a_bearer_token_is_refused(client, document, header):
    problem = assert_unauthorized(client.get(DOCUMENTS, headers={"Authorization": header}), "invalid_request")
    assert "Authorization: Bearer" in problem["detail"]


@pytest.mark.parametrize("secret", [
    "ghp_" + "a" * 36,               # someone else's token format
    "mfst_" + "a" * 43,              # ours, but unknown
    "mfst_short",                    # too short to be one
    "mfst_" + "a" * 200,             # too long
    "mfst_" + "a" * 40 + "%%%",      # characters a token never has
    "mfst_" + "é" * 43,
])
def test_a_token_that_is_not_one_of_ours_is_refused(client, document, make_token, users, secret):
    make_token(users["participant"])
    problem = assert_unauthorized(client.get(DOCUMENTS, headers=bearer(secret)), "invalid_token")
    assert "API tokens page" in problem["detail"]


def test_the_scheme_is_case_insensitive_but_the_token_is_not(client, document, make_token, users):
    secret = make_token(users["participant"])
    assert client.get(DOCUMENTS, headers={"Authorization": f"bearer {secret}"}).status_code == 200
    assert client.get(DOCUMENTS, headers={"Authorization": f"BEARER  {secret} "}).status_code == 200
    assert_unauthorized(client.get(DOCUMENTS, headers=bearer(secret.upper())), "invalid_token")


def test_revoked_and_expired_tokens_are_refused_alike(client, document, make_token, users):
    person = users["participant"]
    revoked, expired, fine = (make_token(person, name=name, expires_in_days=7) for name in ("r", "e", "f"))
    tokens.revoke_token(person, db.session.scalar(select(ApiToken.id).where(ApiToken.name == "r")))
    db.session.execute(update(ApiToken).where(ApiToken.name == "e").values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    details = {assert_unauthorized(client.get(DOCUMENTS, headers=bearer(secret)), "invalid_token")["detail"]
               for secret in (revoked, expired, "mfst_" + "b" * 43)}
    assert len(details) == 1  # the answer never tells which: a guesser learns nothing
    assert client.get(DOCUMENTS, headers=bearer(fine)).status_code == 200


def test_a_deactivated_accounts_token_is_refused_and_works_again_when_reactivated(client, document, make_token,
                                                                                   users):
    person = users["participant"]
    secret = make_token(person)
    accounts.set_active(users["admin"], person.id, False, reason="Spam.")
    db.session.commit()
    assert_unauthorized(client.get(DOCUMENTS, headers=bearer(secret)), "invalid_token")
    assert_unauthorized(comment(client, document, bearer(secret)), "invalid_token")
    accounts.set_active(users["admin"], person.id, True)
    db.session.commit()
    assert client.get(DOCUMENTS, headers=bearer(secret)).status_code == 200


def test_an_unverified_accounts_token_reads_but_may_not_write(make_app, make_user, make_document, make_token):
    app = make_app(EMAIL_VERIFICATION="required")
    with app.app_context():
        document = make_document()
        person = make_user()
        secret = make_token(person)
        client = app.test_client()
        assert comment(client, document, bearer(secret)).status_code == 201  # verified: it may
        db.session.execute(update(User).where(User.id == person.id).values(email_verified_at=None))
        db.session.commit()
        assert client.get(DOCUMENTS, headers=bearer(secret)).status_code == 200
        refused = comment(client, document, bearer(secret))
        assert refused.status_code == 403 and refused.headers["Content-Type"] == PROBLEM
        # The service's refusal (the same words as the page's), not the token's: the token has the scope.
        assert refused.get_json()["type"].endswith("#problem-forbidden")


# ------------------------------------------------------------------ scopes

def test_a_token_without_read_cannot_read_but_a_visitor_can(client, document, make_token, users):
    secret = make_token(users["participant"], scopes=("comment",))
    refused = client.get(DOCUMENTS, headers=bearer(secret))
    assert refused.status_code == 403 and refused.headers["Content-Type"] == PROBLEM
    assert refused.headers["WWW-Authenticate"] == \
        'Bearer realm="manifesto", error="insufficient_scope", scope="read"'
    assert refused.get_json()["type"].endswith("#problem-insufficient-scope")
    assert "“read”" in refused.get_json()["detail"]
    assert comment(client, document, bearer(secret)).status_code == 201  # what it was made for


def test_a_write_needs_its_scope_and_a_token(client, document, make_token, users):
    secret = make_token(users["participant"], scopes=("read", "propose"))
    refused = comment(client, document, bearer(secret))
    assert refused.status_code == 403 and 'scope="comment"' in refused.headers["WWW-Authenticate"]
    assert_unauthorized(comment(client, document, {}), "invalid_request")


# ------------------------------------------------------------------ never the cookie

@pytest.fixture
def csrf_app(make_app):
    """CSRF on, as in production; per-token and per-address limits told apart by their size."""
    app = make_app(WTF_CSRF_ENABLED=True, RATELIMIT_API_PER_TOKEN="50 per minute",
                   RATELIMIT_API_PER_ADDRESS="40 per minute")
    with app.app_context():
        yield app


def test_the_session_cookie_is_ignored(csrf_app, make_user, make_document, make_token):
    document = make_document()
    person = make_user()
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"email": person.email, "password": PASSWORD,
                                       "csrf_token": csrf}).status_code == 302
    assert client.get("/account/tokens").status_code == 200  # logged in on the pages
    # Under /api/v1 the same browser is a visitor: counted per address, not per person.
    response = client.get(DOCUMENTS)
    assert response.status_code == 200 and response.headers["RateLimit-Limit"] == "40"
    # A write with only the cookie is refused for want of a token (401), never for want of a CSRF token (400).
    assert_unauthorized(comment(client, document, {}), "invalid_request")
    # And with a token, no CSRF token is needed either.
    assert comment(client, document, bearer(make_token(person))).status_code == 201
    assert client.get("/account/tokens").status_code == 200  # the pages' login is untouched


def test_an_api_answer_never_sets_the_session_cookie(client, users, login, document):
    """The API never reads the cookie, so it must not write it either: its public answers may sit in a shared
    cache, which varies them by Authorization, not by Cookie, and would hand one person's session to the next."""
    login(users["participant"])
    for path in (DOCUMENTS, "/api/v1/xyz"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path


# ------------------------------------------------------------------ rate limits

def test_every_answer_says_how_much_is_left(client, document, make_token, users):
    secret = make_token(users["participant"])
    first, second = (client.get(DOCUMENTS, headers=bearer(secret)) for _ in range(2))
    for response in (first, second):
        for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"):
            assert name in response.headers, name
    assert int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
    # Refusals count and say so too.
    assert "RateLimit-Remaining" in client.get("/api/v1/documents/nothing-here", headers=bearer(secret)).headers


def test_each_token_has_its_own_limit(make_app, make_user, make_document, make_token):
    app = make_app(RATELIMIT_API_PER_TOKEN="3 per minute")
    with app.app_context():
        make_document()
        person = make_user()
        one, two = make_token(person, name="one"), make_token(person, name="two")
        client = app.test_client()
        answers = [client.get(DOCUMENTS, headers=bearer(one)) for _ in range(4)]
        assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
        assert [answer.headers["RateLimit-Remaining"] for answer in answers[:3]] == ["2", "1", "0"]
        refused = answers[3]
        assert refused.headers["Content-Type"] == PROBLEM
        assert refused.get_json()["type"].endswith("#problem-rate-limited")
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit-Limit"] == "3" and refused.headers["RateLimit-Remaining"] == "0"
        # Another token of the same person, and visitors, are not held back by it.
        assert client.get(DOCUMENTS, headers=bearer(two)).status_code == 200
        assert client.get(DOCUMENTS).status_code == 200


def test_visitors_are_limited_by_address(make_app, make_document, make_user, make_token):
    app = make_app(RATELIMIT_API_PER_ADDRESS="2 per minute")
    with app.app_context():
        make_document()
        secret = make_token(make_user())
        client = app.test_client()
        here = {"REMOTE_ADDR": "198.51.100.7"}
        assert [client.get(DOCUMENTS, environ_base=here).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get(DOCUMENTS, environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 200
        # A token from the same address counts in its own bucket.
        assert client.get(DOCUMENTS, environ_base=here, headers=bearer(secret)).status_code == 200


def test_ratelimit_enabled_false_turns_the_api_limits_off(make_app, make_document, make_user, make_token):
    app = make_app(RATELIMIT_ENABLED=False, RATELIMIT_API_PER_TOKEN="1 per minute",
                   RATELIMIT_API_PER_ADDRESS="1 per minute")
    with app.app_context():
        make_document()
        secret = make_token(make_user())
        client = app.test_client()
        answers = [client.get(DOCUMENTS, headers=bearer(secret)) for _ in range(3)] \
            + [client.get(DOCUMENTS) for _ in range(3)]
        assert {answer.status_code for answer in answers} == {200}
        assert not any("RateLimit-Limit" in answer.headers for answer in answers)


# ------------------------------------------------------------------ last used

class Clock:
    """The time the token checks see, moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_last_used_is_written_at_most_every_five_minutes(client, document, make_token, users, monkeypatch):
    secret = make_token(users["participant"])
    clock = Clock(datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1))
    monkeypatch.setattr(tokens, "utcnow", clock)

    def last_used():
        value = db.session.scalar(select(ApiToken.last_used_at))
        return as_utc(value) if value is not None else None

    assert last_used() is None
    start = clock.now
    assert client.get(DOCUMENTS, headers=bearer(secret)).status_code == 200
    assert last_used() == start
    clock.now = start + timedelta(minutes=4, seconds=59)
    assert client.get(DOCUMENTS, headers=bearer(secret)).status_code == 200
    assert last_used() == start
    clock.now = start + timedelta(minutes=5, seconds=1)
    assert client.get(DOCUMENTS, headers=bearer(secret)).status_code == 200
    assert last_used() == clock.now
    # A refused call (an unknown document) still used the token.
    clock.now = clock.now + timedelta(minutes=6)
    assert client.get(f"{DOCUMENTS}/nothing-here", headers=bearer(secret)).status_code == 404
    assert last_used() == clock.now


# ------------------------------------------------------------------ unknown addresses and methods

@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/xyz", 404),
    ("GET", "/api/v1/", 404),
    ("POST", "/api/v1/nothing/here", 404),
    ("DELETE", DOCUMENTS, 405),
    ("PUT", f"{DOCUMENTS}/doc", 405),
])
def test_unknown_addresses_and_methods_answer_problem_details(client, document, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.headers["Content-Type"] == PROBLEM
    assert response.get_json()["status"] == status
    if status == 405:
        assert "GET" in response.headers["Allow"]
