"""Single sign-on by OpenID Connect, against a real provider the tests start (oidc-provider-mock, in this process).

The browser's round trip is played by two clients: the Flask test client for
our pages, and ``requests`` for the provider's (its authorization form is
answered as a person would, choosing who they are). The app talks to the
provider over real HTTP: discovery, the token request, the provider's keys.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import socket
import threading
import warnings
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from manifesto.accounts import sso
from manifesto.accounts.models import ExternalIdentity, User
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.locking import lock_row
from manifesto.services import ValidationError, utcnow, writes

from harness import PASSWORD

with warnings.catch_warnings():  # the provider still imports Authlib's deprecated modules; not our code
    from authlib.deprecate import AuthlibDeprecationWarning

    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    import oidc_provider_mock

CLIENT_ID = "manifesto"

# The provider (its thread shares the process's warning filters) signs ID tokens through an Authlib hook that
# Authlib deprecates; that is the mock's code, not ours, so only that warning is let through.
pytestmark = pytest.mark.filterwarnings(r"ignore:get_jwt_config\(self, grant\) is deprecated:DeprecationWarning")


@dataclass
class Provider:
    """The provider the tests run: its address and the token requests it received."""

    port: int
    token_requests: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def person(self, sub: str, **claims) -> None:
        """Say who ``sub`` is at the provider (the claims its ID token will carry)."""
        answer = requests.put(f"{self.url}/users/{sub}", json=claims, timeout=10)
        assert answer.status_code == 204, answer.text


@pytest.fixture(scope="module")
def provider():
    """An OpenID provider on a free port of this machine, for the module's tests."""
    app = oidc_provider_mock.app()
    record = Provider(port=0)
    inner = app.wsgi_app

    def recording(environ, start_response):
        """Keep what our app sends to the token endpoint (to check its PKCE verifier)."""
        if environ.get("PATH_INFO") == "/oauth2/token":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)  # the provider reads it again
            record.token_requests.append({key: values[0] for key, values in parse_qs(body.decode()).items()})
        return inner(environ, start_response)

    app.wsgi_app = recording
    server = make_server("127.0.0.1", 0, app, threaded=True)
    record.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def sso_app(make_app, provider):
    """Build an app signing on through the test provider, with extra settings."""

    def factory(**extra):
        settings = {"OIDC_ISSUER": provider.url, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": "secret",
                    "OIDC_NAME": "Party ID"}
        settings.update(extra)
        return make_app(**settings)

    return factory


@pytest.fixture
def app(sso_app):
    """The application, signing on through the test provider."""
    app = sso_app()
    with app.app_context():
        yield app


def start(client, next_url: str | None = None) -> str:
    """Press the login page's button; return the provider's address the browser is sent to."""
    response = client.post("/login/sso", data={"sso-next": next_url} if next_url is not None else {})
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def authorize(address: str, sub: str) -> str:
    """Answer the provider's form as ``sub``; return the address it sends the browser back to (ours)."""
    answer = requests.post(address, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def sign_on(client, provider: Provider, sub: str, next_url: str | None = None, **claims):
    """The whole round trip; returns our callback's response (not followed)."""
    provider.person(sub, **claims)
    return client.get(authorize(start(client, next_url), sub))


def messages(client) -> str:
    """The text of the login page the refusal leads to (its flashed message)."""
    return html.unescape(client.get("/login").text)


def logged_in(client) -> bool:
    """Whether the client's session is someone's (the account page answers instead of sending to the login page)."""
    return client.get("/account/password").status_code == 200


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def actions(user: User) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "users",
                                                                   AuditEvent.object_id == user.id)
                                   .order_by(AuditEvent.id)))


def invite(make_user, email: str) -> User:
    """An account imported from the delegates' list: invited, no usable password yet, address not yet proved."""
    user = make_user(email=email, name="Invited Delegate")
    user.password_hash = "!not-a-password"
    user.email_verified_at = None
    db.session.commit()
    return user


# ------------------------------------------------------------------ configured or not

def test_the_login_page_offers_the_button_only_when_configured(make_app, client):
    page = client.get("/login").text
    assert "Log in with Party ID" in page
    assert 'action="/login/sso"' in page
    assert 'name="password"' in page  # passwords stay beside it unless SSO_ONLY

    plain = make_app()
    with plain.app_context():
        other = plain.test_client()
        assert "Log in with" not in other.get("/login").text
        assert other.post("/login/sso").status_code == 404
        assert other.get("/login/sso/callback?state=x&code=y").status_code == 404


def test_the_button_needs_its_csrf_token(sso_app):
    app = sso_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        page = client.get("/login").text
        assert client.post("/login/sso").status_code == 400
        token = re.search(r'name="sso-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login/sso", data={"sso-csrf_token": token})
        assert response.status_code == 303


# ------------------------------------------------------------------ who comes in

def test_a_first_sign_on_creates_the_account_just_in_time_and_logs_in(client, provider):
    response = sign_on(client, provider, "ada", email="Ada@Example.org", email_verified=True,
                       given_name="Ada", family_name="Lovelace", locale="fr-FR")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert logged_in(client)

    user = db.session.scalar(select(User).where(User.email == "ada@example.org"))
    assert user.name == "Ada Lovelace"
    assert user.role == "participant"
    assert user.locale == "fr"
    assert user.email_verified
    assert user.password_hash.startswith("!")  # no password logs in to it
    identity = db.session.scalar(select(ExternalIdentity))
    assert (identity.user_id, identity.issuer, identity.subject) == (user.id, provider.url, "ada")
    assert actions(user)[0] == "user.registered"


def test_a_password_never_opens_an_account_made_by_sign_on(client, provider, login):
    sign_on(client, provider, "nopass", email="nopass@example.org", email_verified=True, name="No Pass")
    client.post("/logout")
    user = db.session.scalar(select(User).where(User.email == "nopass@example.org"))
    for guess in ("", user.password_hash, user.password_hash[1:], PASSWORD):
        login(user, password=guess)
        assert not logged_in(client)


def test_the_second_sign_on_finds_the_account_by_its_identity(client, provider):
    sign_on(client, provider, "grace", email="grace@example.org", email_verified=True, name="Grace Hopper")
    client.post("/logout")
    assert not logged_in(client)

    # The address changed at the provider: the identity, not the address, says who this is.
    response = sign_on(client, provider, "grace", email="g.hopper@example.org", email_verified=True, name="Grace")
    assert response.status_code == 303
    assert logged_in(client)
    assert count(User) == 1
    user = db.session.scalar(select(User))
    assert user.email == "grace@example.org"
    assert db.session.scalar(select(ExternalIdentity.last_login_at)) is not None


def test_an_invited_delegate_is_linked_by_the_verified_address(client, provider, make_user):
    delegate = invite(make_user, "delegate@example.org")

    response = sign_on(client, provider, "d-17", email="DELEGATE@example.org", email_verified=True, name="Someone")
    assert response.status_code == 303
    assert logged_in(client)
    assert count(User) == 1
    db.session.refresh(delegate)
    assert delegate.name == "Invited Delegate"  # the secretariat's list keeps its name
    assert delegate.email_verified
    identity = db.session.scalar(select(ExternalIdentity))
    assert (identity.user_id, identity.subject) == (delegate.id, "d-17")
    assert "user.invitation_accepted" in actions(delegate)
    assert "user.login_linked" not in actions(delegate)


def test_an_account_with_a_password_is_linked_too_and_keeps_it(client, provider, make_user, login):
    member = make_user(email="member@example.org")
    sign_on(client, provider, "m-1", email="member@example.org", email_verified=True)
    assert logged_in(client)
    assert "user.login_linked" in actions(member)
    assert "user.invitation_accepted" not in actions(member)

    client.post("/logout")
    login(member)
    assert logged_in(client)


def test_a_sign_on_counts_as_the_providers_authentication_second_factor_included(client, provider, make_user):
    moderator = make_user("moderator", email="mod@example.org")
    moderator.totp_secret = "JBSWY3DPEHPK3PXP"
    moderator.totp_enabled_at = utcnow()
    db.session.commit()

    response = sign_on(client, provider, "mod", email="mod@example.org", email_verified=True)
    assert response.headers["Location"] == "/"
    assert logged_in(client)  # no code asked: the provider is where the organisation enforces its factors


def test_required_two_factors_do_not_stop_a_moderator_who_came_by_sign_on(sso_app, provider, make_user):
    """TWO_FACTOR_REQUIRED leads password logins to the TOTP setup, never a sign-on's (no code would be asked)."""
    app = sso_app(TWO_FACTOR_REQUIRED=True)
    with app.app_context():
        make_user("moderator", email="mod@example.org")
        client = app.test_client()
        response = sign_on(client, provider, "mod", email="mod@example.org", email_verified=True)
        assert response.headers["Location"] == "/"
        assert client.get("/account/password").status_code == 200  # not sent to the setup
        other = app.test_client()
        other.post("/login", data={"email": "mod@example.org", "password": PASSWORD})
        assert other.get("/account/password").headers["Location"].endswith("/account/security#two-factor")


def test_an_unverified_address_is_refused_and_nothing_is_linked_or_created(client, provider, make_user):
    make_user(email="taken@example.org")

    for sub, email in (("intruder", "taken@example.org"), ("newcomer", "new@example.org")):
        response = sign_on(client, provider, sub, email=email, email_verified=False)
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/login")
        assert "has not confirmed your email address" in messages(client)
        assert not logged_in(client)
    assert count(ExternalIdentity) == 0
    assert count(User) == 1

    # No address at all is no better.
    sign_on(client, provider, "anonymous")
    assert "has not confirmed your email address" in messages(client)
    assert count(ExternalIdentity) == 0


def test_without_just_in_time_accounts_unknown_people_are_refused(sso_app, provider):
    for settings in ({"OIDC_CREATE_ACCOUNTS": False}, {"REGISTRATION": "invitation"}):
        app = sso_app(**settings)
        with app.app_context():
            client = app.test_client()
            sign_on(client, provider, "stranger", email="stranger@example.org", email_verified=True)
            assert ("No account is linked to this sign-on; ask the secretariat for an invitation."
                    in messages(client))
            assert not logged_in(client)
            assert count(User) == 0


def test_under_approval_a_new_account_waits_for_an_admin(sso_app, provider):
    app = sso_app(REGISTRATION="approval")
    with app.app_context():
        client = app.test_client()
        sign_on(client, provider, "waiting", email="waiting@example.org", email_verified=True)
        assert not logged_in(client)
        user = db.session.scalar(select(User))
        assert user.awaiting_approval
        # Signing on again changes nothing until an admin approves.
        sign_on(client, provider, "waiting", email="waiting@example.org", email_verified=True)
        assert "waiting for an admin's approval" in messages(client)
        assert not logged_in(client)


def test_a_deactivated_account_is_refused(client, provider, make_user):
    sign_on(client, provider, "gone", email="gone@example.org", email_verified=True)
    client.post("/logout")
    user = db.session.scalar(select(User))
    user.active = False
    db.session.commit()

    sign_on(client, provider, "gone", email="gone@example.org", email_verified=True)
    assert "This account has been deactivated" in messages(client)
    assert not logged_in(client)


# ------------------------------------------------------------------ the protocol's checks

def test_a_wrong_state_is_refused(app, client, provider):
    provider.person("eve", email="eve@example.org", email_verified=True)
    back = authorize(start(client), "eve")
    state = parse_qs(urlsplit(back).query)["state"][0]

    response = client.get(back.replace(f"state={state}", "state=forged"))
    assert response.headers["Location"].startswith("/login")
    assert "This sign-on was not started here" in messages(client)
    assert not logged_in(client)
    assert count(User) == 0

    # The provider's answer, carried to another browser (a login CSRF), is refused the same way.
    other = app.test_client()
    assert other.get(back).status_code == 303
    assert "This sign-on was not started here" in messages(other)
    assert not logged_in(other)
    assert count(User) == 0


def test_a_wrong_nonce_is_refused(client, provider):
    provider.person("mallory", email="mallory@example.org", email_verified=True)
    back = authorize(start(client), "mallory")
    state = parse_qs(urlsplit(back).query)["state"][0]
    with client.session_transaction() as session:
        kept = session[f"_state_sso_{state}"]
        kept["data"]["nonce"] = "another-sign-on"
        session[f"_state_sso_{state}"] = kept

    response = client.get(back)
    assert response.headers["Location"].startswith("/login")
    assert "failed a security check" in messages(client)
    assert not logged_in(client)
    assert count(User) == 0


def test_a_replayed_callback_is_refused(client, provider):
    provider.person("replay", email="replay@example.org", email_verified=True)
    back = authorize(start(client), "replay")
    state = parse_qs(urlsplit(back).query)["state"][0]
    with client.session_transaction() as session:
        kept = session[f"_state_sso_{state}"]
    assert client.get(back).status_code == 303
    assert logged_in(client)
    client.post("/logout")

    # The state is used up: the same answer again is refused here.
    client.get(back)
    assert "already used" in messages(client)
    assert not logged_in(client)

    # Even with the state put back (a copied session), the provider refuses a code used once.
    with client.session_transaction() as session:
        session[f"_state_sso_{state}"] = kept
    client.get(back)
    assert "did not accept this sign-on" in messages(client)
    assert not logged_in(client)


def test_the_code_is_bound_to_its_pkce_verifier(client, provider):
    provider.person("pkce", email="pkce@example.org", email_verified=True)
    address = start(client)
    query = parse_qs(urlsplit(address).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["openid email profile"]
    assert query["nonce"][0] and query["state"][0]
    provider.token_requests.clear()
    client.get(authorize(address, "pkce"))
    assert logged_in(client)

    (sent,) = provider.token_requests
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == query["code_challenge"][0]


def _id_token_from(base: str, client_id: str, nonce: str) -> dict:
    """A real ID token from the provider at ``base`` (our own round trip by requests), for ``client_id``."""
    redirect_uri = "http://localhost/login/sso/callback"
    answer = requests.post(f"{base}/oauth2/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid email",
        "state": "s", "nonce": nonce}, data={"sub": "tokened"}, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = requests.post(f"{base}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
        "client_id": client_id, "client_secret": "secret"}, timeout=10)
    assert token.status_code == 200, token.text
    return token.json()


def test_the_id_token_must_be_for_us_from_our_issuer(app, provider):
    metadata = sso._metadata()
    client = sso.provider()
    assert metadata["issuer"] == provider.url

    ours = _id_token_from(provider.url, CLIENT_ID, "n-1")
    assert sso._checked_id_token(client, ours, "n-1", metadata)["sub"] == "tokened"

    # Signed by the same provider, but issued to another client: not for us.
    theirs = _id_token_from(provider.url, "another-client", "n-2")
    with pytest.raises(ValidationError, match="security check"):
        sso._checked_id_token(client, theirs, "n-2", metadata)

    # Signed by the same keys, but by an issuer that is not the configured one (the provider names itself
    # after the address it was reached at).
    elsewhere = _id_token_from(f"http://127.0.0.1:{provider.port}", CLIENT_ID, "n-3")
    with pytest.raises(ValidationError, match="security check"):
        sso._checked_id_token(client, elsewhere, "n-3", metadata)


def test_a_provider_naming_another_issuer_is_not_trusted(sso_app, provider):
    app = sso_app(OIDC_ISSUER=f"http://127.0.0.1:{provider.port}/")  # a trailing slash is the same issuer
    with app.app_context():
        client = app.test_client()
        # Reached as 127.0.0.1 the provider calls itself that, so this one is consistent and works.
        provider.person("numeric", email="numeric@example.org", email_verified=True)
        address = start(client)
        assert address.startswith(f"http://127.0.0.1:{provider.port}/")
        client.get(authorize(address, "numeric"))
        assert logged_in(client)

    app = sso_app()
    with app.app_context():
        sso.provider().server_metadata.update({"issuer": "https://impostor.example", "_loaded_at": 0})
        client = app.test_client()
        response = client.post("/login/sso")
        assert response.headers["Location"].startswith("/login")
        assert "Party ID cannot be reached just now" in messages(client)


def test_a_refusal_at_the_provider_is_explained(client, provider):
    provider.person("shy", email="shy@example.org", email_verified=True)
    answer = requests.post(start(client), data={"action": "deny"}, allow_redirects=False, timeout=10)
    assert "error=access_denied" in answer.headers["Location"]
    client.get(answer.headers["Location"])
    assert "The sign-on was cancelled or refused at the provider." in messages(client)
    assert not logged_in(client)
    assert count(User) == 0


def test_a_provider_that_never_answers_is_given_up_on(sso_app):
    with socket.socket() as silent:  # accepts the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        app = sso_app(OIDC_ISSUER=f"http://127.0.0.1:{silent.getsockname()[1]}", OIDC_TIMEOUT=0.2)
        with app.app_context():
            client = app.test_client()
            response = client.post("/login/sso")
            assert response.headers["Location"] == "/login"
            assert "Party ID cannot be reached just now" in messages(client)


def test_a_provider_that_is_down_gives_a_message_on_the_login_page(sso_app):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = sso_app(OIDC_ISSUER=f"http://127.0.0.1:{port}")  # the app starts: nothing is fetched until a sign-on
    with app.app_context():
        client = app.test_client()
        assert "Log in with Party ID" in client.get("/login").text
        response = client.post("/login/sso", data={"sso-next": "/account/password"})
        assert response.status_code == 303
        assert response.headers["Location"] == "/login?next=/account/password"
        page = html.unescape(client.get(response.headers["Location"]).text)
        assert "Party ID cannot be reached just now. Try again in a moment." in page
        assert not logged_in(client)


# ------------------------------------------------------------------ where the person lands

def test_the_next_page_survives_the_round_trip(client, provider):
    response = sign_on(client, provider, "nexter", next_url="/account/password?tab=1",
                       email="nexter@example.org", email_verified=True)
    assert response.headers["Location"] == "/account/password?tab=1"

    # The login page's button carries the page the reader came from.
    client.post("/logout")
    assert 'name="sso-next" type="hidden" value="/account/password"' in client.get("/login?next=/account/password").text

    # Another site is never a next page.
    client.post("/logout")
    response = sign_on(client, provider, "nexter", next_url="//evil.example/", email="nexter@example.org",
                       email_verified=True)
    assert response.headers["Location"] == "/"


# ------------------------------------------------------------------ SSO_ONLY

def test_sso_only_hides_and_refuses_password_login_and_registration(sso_app, provider, make_user):
    app = sso_app(SSO_ONLY=True)
    with app.app_context():
        client = app.test_client()
        member = make_user(email="member@example.org")
        page = client.get("/login").text
        assert "Log in with Party ID" in page
        assert 'name="password"' not in page
        assert 'href="/register"' not in page  # not in the header either

        response = client.post("/login", data={"email": member.email, "password": PASSWORD})
        assert response.status_code == 303
        assert "signs you in through Party ID only" in messages(client)
        assert not logged_in(client)

        response = client.get("/register")
        assert response.headers["Location"].startswith("/login")
        client.post("/register", data={"email": "new@example.org", "name": "New", "password": "a" * 20 + "Zq!9x",
                                       "confirm": "a" * 20 + "Zq!9x"})
        assert count(User) == 1

        # No password is asked for, set by a mailed link, or chosen for an invitation either.
        for address in ("/password/forgot", "/password/reset/some-token", "/invitation/some-token"):
            for send in (client.get, client.post):
                response = send(address, data={"email": member.email})
                assert response.status_code == 303, address
                assert response.headers["Location"].startswith("/login")

        # The way in is the provider's.
        sign_on(client, provider, "only", email="member@example.org", email_verified=True)
        assert logged_in(client)


def test_sso_only_without_a_provider_does_not_start(make_app):
    with pytest.raises(RuntimeError, match="SSO_ONLY needs OIDC_ISSUER"):
        make_app(SSO_ONLY=True)


def test_an_identity_linked_at_the_same_moment_elsewhere_is_a_message_not_a_500(app, make_user):
    first, second = make_user(), make_user()
    db.session.add(ExternalIdentity(user_id=first.id, issuer="https://id.example", subject="twice"))
    db.session.commit()
    identity = sso.Identity(issuer="https://id.example", subject="twice", email=second.email,
                            email_verified=True, name=None, locale=None)

    @writes
    def link_as_a_racing_sign_on_would():
        """The second sign-on missed the first one's row when it looked; its insert meets the unique index."""
        account = lock_row(User, second.id)
        account.name = "Changed by the losing transaction"
        sso._link(account, identity, second.email)

    with pytest.raises(ValidationError, match="at this very moment"):
        link_as_a_racing_sign_on_would()
    assert db.session.scalars(select(ExternalIdentity.user_id)).all() == [first.id]
    assert db.session.get(User, second.id).name != "Changed by the losing transaction"
