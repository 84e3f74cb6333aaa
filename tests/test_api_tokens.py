"""API tokens' pages: making one (its secret shown once), the list, revoking, the admins' list, the cap."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from harness import bearer
from manifesto.api import tokens
from manifesto.api.models import ApiToken
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.services import as_utc, utcnow

SECRET = re.compile(r"mfst_[A-Za-z0-9_-]{43}")


def make(client, name="Our website", scopes=("read",), expires="30", **extra):
    """Post the form of the tokens page as a person would."""
    return client.post("/account/tokens", data={"name": name, "scopes": list(scopes), "expires_in_days": expires,
                                                **extra})


def secret_of(response) -> str:
    """The secret the answer to the form shows (exactly one)."""
    found = set(SECRET.findall(response.get_data(as_text=True)))
    assert len(found) == 1, found
    return found.pop()


def documents_call(client, secret):
    return client.get("/api/v1/documents", headers=bearer(secret))


# ------------------------------------------------------------------ making one

def test_the_secret_is_shown_once_and_works(client, users, login):
    person = users["participant"]
    login(person)
    response = make(client, name="Review script", scopes=("read", "comment"), expires="90")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = secret_of(response)
    assert 'readonly' in page and 'for="token-secret"' in page  # a labelled field to copy from
    assert f'curl -H "Authorization: Bearer {secret}" http://localhost/api/v1/documents' in page
    # It works at once, as its owner.
    answer = documents_call(client, secret)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    # Never again: not on the list, not in the session (nor a flash), not by reloading.
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in listing and secret[:9] + "…" in listing and "Review script" in listing
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))
    token = db.session.scalar(select(ApiToken))
    assert (token.name, token.scopes, token.user_id) == ("Review script", "read comment", person.id)
    assert token.expires_at is not None and timedelta(days=89) < as_utc(token.expires_at) - utcnow() <= timedelta(days=90)


def test_the_database_holds_only_the_hash(client, users, login):
    login(users["participant"])
    secret = secret_of(make(client))
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:9]
    row = db.session.execute(select(ApiToken.__table__)).one()
    assert not any(isinstance(value, str) and secret in value for value in row)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("user.api_token%"))).all()
    assert [event.action for event in events] == ["user.api_token_created"]
    assert secret not in repr(events[0].data)


def test_never_is_a_choice_and_the_page_explains_each_scope(client, users, login):
    login(users["participant"])
    page = client.get("/account/tokens").get_data(as_text=True)
    for scope in ("read", "propose", "comment", "moderate"):
        assert re.search(rf'<input[^>]*aria-describedby="scopes-\d-help"[^>]*value="{scope}"', page) \
            or re.search(rf'<input[^>]*value="{scope}"[^>]*aria-describedby="scopes-\d-help"', page), scope
    assert "a token never does more than your account may" in page
    assert '<label for="name">' in page and '<label for="expires_in_days">' in page
    make(client, name="Forever", expires="never")
    assert db.session.scalar(select(ApiToken.expires_at)) is None
    assert "never" in client.get("/account/tokens").get_data(as_text=True)


@pytest.mark.parametrize("data, field, message", [
    ({"name": "x" * 81, "scopes": ["read"]}, "name", "at most 80 characters"),
    ({"name": "My careful <name>", "scopes": []}, "scopes", "Choose at least one thing the token may do."),
    ({"name": "", "scopes": ["read"]}, "name", "Give the token a name"),
    ({"name": "Strange", "scopes": ["read", "admin"]}, "scopes", "Unknown scope: admin."),
])
def test_refusals_are_shown_by_their_field_and_the_text_is_kept(client, users, login, data, field, message):
    login(users["participant"])
    response = client.post("/account/tokens", data={**data, "expires_in_days": "30"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error and message in error.group(1)
    if data["name"]:
        assert f'value="{data["name"].replace("<", "&lt;").replace(">", "&gt;")}"' in page
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0
    assert not SECRET.search(page)


def test_an_expiry_not_offered_is_refused(client, users, login):
    login(users["participant"])
    assert make(client, expires="100000").status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0


def test_fifty_tokens_at_most_then_revoke_one(client, users, login, make_token):
    person = users["participant"]
    for n in range(tokens.MAX_TOKENS):
        make_token(person, name=f"Token {n}")
    login(person)
    refused = make(client, name="One too many")
    assert refused.status_code == 400
    assert "You have 50 tokens; revoke one you no longer use first." in refused.get_data(as_text=True)
    first = db.session.scalar(select(ApiToken.id).order_by(ApiToken.id))
    assert client.post(f"/account/tokens/{first}/revoke").status_code == 303
    assert make(client, name="Now it fits").status_code == 200


def test_accounts_that_may_not_act_cannot_make_tokens(make_app, make_user, login):
    app = make_app(EMAIL_VERIFICATION="required")
    with app.app_context():
        person = make_user()
        db.session.execute(update(type(person)).where(type(person).id == person.id).values(email_verified_at=None))
        db.session.commit()
        client = app.test_client()
        login(person, test_client=client)
        page = client.get("/account/tokens").get_data(as_text=True)
        assert "Only active accounts with a confirmed email address can make tokens." in page
        assert make(client).status_code == 403
        assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 0


def test_visitors_are_sent_to_log_in(client):
    response = client.get("/account/tokens")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert make(client).status_code == 302


def test_the_account_page_links_to_the_tokens(client, users, login):
    login(users["participant"])
    page = client.get("/account/password").get_data(as_text=True)
    assert 'href="/account/tokens"' in page and "API tokens" in page


# ------------------------------------------------------------------ revoking

def test_revoking_stops_the_token_at_once(client, users, login, make_token):
    person = users["participant"]
    secret = make_token(person, name="Leaked", scopes=("read",))
    assert documents_call(client, secret).status_code == 200
    login(person)
    token = db.session.scalar(select(ApiToken))
    page = client.get("/account/tokens").get_data(as_text=True)
    # A confirmation step that needs no script: the button is inside a <details>.
    assert re.search(r"<details>\s*<summary>Revoke", page)
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/tokens")
    refused = documents_call(client, secret)
    assert refused.status_code == 401 and refused.headers["Content-Type"] == "application/problem+json"
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "The token “Leaked” is revoked" in page and "Revoked" in page
    assert "Yes, revoke" not in page
    # Revoking again changes nothing and records nothing more.
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "user.api_token_revoked")) == 1


def test_nobody_else_can_revoke_yours(client, users, make_user, login, make_token):
    owner = users["participant"]
    secret = make_token(owner)
    token_id = db.session.scalar(select(ApiToken.id))
    for other in (make_user(), users["moderator"]):
        login(other)
        assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
        assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 403
        assert secret[:9] not in client.get("/account/tokens").get_data(as_text=True)
    assert client.post("/account/tokens/999999/revoke").status_code == 404
    assert documents_call(client, secret).status_code == 200


def test_an_admin_revokes_anyones_token_and_the_log_says_so(client, users, login, make_token):
    owner = users["participant"]
    secret = make_token(owner, name="Old script")
    token_id = db.session.scalar(select(ApiToken.id))
    login(users["admin"])
    listing = client.get("/admin/tokens").get_data(as_text=True)
    assert owner.name in listing and "Old script" in listing and secret[:9] + "…" in listing
    assert secret not in listing
    response = client.post(f"/admin/tokens/{token_id}/revoke")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/tokens")
    assert documents_call(client, secret).status_code == 401
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.api_token_revoked"))
    assert event.actor_id == users["admin"].id and event.object_id == owner.id
    assert event.data["by_admin"] is True
    log = client.get("/admin/security").get_data(as_text=True)
    assert "API token revoked" in log and "Token “Old script”, revoked by an admin." in log
    assert "API token made" in log
    # The owner sees it revoked in their own list.
    login(owner)
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)


@pytest.mark.parametrize("role, status", [(None, 302), ("participant", 403), ("moderator", 403), ("admin", 200)])
def test_the_admins_list_is_for_admins(client, users, login, role, status):
    if role:
        login(users[role])
    response = client.get("/admin/tokens")
    assert response.status_code == status
    if role is None:
        assert "/login" in response.headers["Location"]


def test_the_admins_list_leaves_out_revoked_ones_when_asked_and_is_linked(client, users, login, make_token):
    make_token(users["participant"], name="Kept")
    make_token(users["moderator"], name="Gone")
    gone = db.session.scalar(select(ApiToken).where(ApiToken.name == "Gone"))
    tokens.revoke_token(users["moderator"], gone.id)
    db.session.commit()
    login(users["admin"])
    everything = client.get("/admin/tokens").get_data(as_text=True)
    assert "Kept" in everything and "Gone" in everything and "2 tokens" in everything
    live = client.get("/admin/tokens?live=1").get_data(as_text=True)
    assert "Kept" in live and "Gone" not in live
    for page in ("/admin/users", "/admin/security"):
        assert 'href="/admin/tokens"' in client.get(page).get_data(as_text=True), page


# ------------------------------------------------------------------ expiry, CSRF

def test_an_expired_token_is_refused_and_listed_as_expired(client, users, login, make_token):
    person = users["participant"]
    secret = make_token(person, expires_in_days=7)
    assert documents_call(client, secret).status_code == 200
    db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    refused = documents_call(client, secret)
    assert refused.status_code == 401 and "invalid_token" in refused.headers["WWW-Authenticate"]
    login(person)
    assert "Expired" in client.get("/account/tokens").get_data(as_text=True)


@pytest.fixture
def csrf_app(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_the_forms_need_their_csrf_token(csrf_app, make_user, make_token):
    client = csrf_app.test_client()
    admin = make_user("admin")
    secret = make_token(admin)
    token_id = db.session.scalar(select(ApiToken.id))
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": admin.email, "password": "correct-horse-battery",
                                       "csrf_token": token}).status_code == 302
    page = client.get("/account/tokens").get_data(as_text=True)
    assert len(re.findall(r'<form[^>]*method="post"', page)) == page.count('name="csrf_token"')
    # Without the token: refused (400), nothing made, nothing revoked.
    assert make(client, name="Forged").status_code == 400
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 400
    assert client.post(f"/admin/tokens/{token_id}/revoke").status_code == 400
    assert db.session.scalar(select(db.func.count()).select_from(ApiToken)) == 1
    assert documents_call(client, secret).status_code == 200
    # With it, both work.
    assert make(client, name="Real", csrf_token=csrf_token(page)).status_code == 200
    assert client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(page)}).status_code == 303
    assert documents_call(client, secret).status_code == 401


def test_the_lists_load_in_a_fixed_number_of_queries(client, users, make_user, login, make_token, queries):
    """However many tokens and owners, the pages cost the same."""
    def cost(url: str) -> int:
        with queries() as counted:
            assert client.get(url).status_code == 200
        return counted.count

    admin = users["admin"]
    make_token(admin)
    make_token(make_user())
    login(admin)
    few = (cost("/admin/tokens"), cost("/account/tokens"))
    for _ in range(6):
        make_token(make_user())
        make_token(admin)
    assert (cost("/admin/tokens"), cost("/account/tokens")) == few
