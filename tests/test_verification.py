"""Email verification: a self-registered account reads but does not act until it follows the mailed link.

Mail goes for real through the local SMTP server (``test_mail``'s fixtures).
"""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select
from test_mail import mail_config, smtp, text_of  # noqa: F401 - fixtures

from manifesto.accounts import rules, services
from manifesto.accounts.models import User
from manifesto.audit.models import AuditEvent
from manifesto.documents.serving import variant
from manifesto.extensions import db
from manifesto.services import PermissionDenied

PHRASE = "a phrase of several words"


def register(client, email="nadia@example.org", name="Nadia Diallo"):
    """Sign up on the register page, as a visitor does."""
    return client.post("/register", data={"email": email, "name": name, "password": PHRASE, "confirm": PHRASE},
                       follow_redirects=True)


def account(email="nadia@example.org") -> User:
    """The account, read afresh."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def link_in(message) -> str:
    """The path of the one link to our site in an email."""
    [url] = set(re.findall(r"https://manifesto\.test(/[^\s\"<>]+)", text_of(message)))
    return url


def actions(user) -> list[str]:
    """The audit actions about one account, oldest first."""
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "users",
                                                                   AuditEvent.object_id == user.id)
                                   .order_by(AuditEvent.id)))


def test_a_self_registered_account_reads_but_cannot_act_until_it_confirms(client, smtp):
    page = register(client).get_data(as_text=True)
    assert "We sent a link to nadia@example.org: follow it to confirm your address." in page
    user = account()
    assert not user.email_verified and not rules.is_member(user) and rules.is_unverified(user)
    with pytest.raises(PermissionDenied, match="Confirm your email address first"):
        services.set_export_credit(user, True)
    # The page says so, and the banner offers the link again.
    response = client.post("/account/credit", data={"credit": "y"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Confirm your email address first" in page
    assert 'action="/account/verify"' in page and "Send the link again</button>" in page
    assert not account().credit_in_exports
    assert client.get("/").status_code == 200  # reading is never refused to it

    smtp.wait(1)
    [mail] = smtp.to(user)
    assert mail["Subject"] == "Manifesto: Confirm your email address"
    assert "List-Unsubscribe" not in mail
    link = link_in(mail)
    page = client.get(link).get_data(as_text=True)
    assert "<h1>Confirm your email address</h1>" in page and "Confirm my address</button>" in page
    assert not account().email_verified  # opening the link (a mail scanner does) confirms nothing
    page = client.post(link, follow_redirects=True).get_data(as_text=True)
    assert "your email address nadia@example.org is confirmed" in page
    assert "Send the link again" not in page  # no banner any more
    user = account()
    assert user.email_verified and rules.is_member(user)
    assert services.set_export_credit(user, True).credit_in_exports
    assert actions(user) == ["user.registered", "user.signed_in", "user.verified", "user.credit_changed"]
    # The link worked once.
    response = client.post(link)
    assert response.status_code == 400 and "used already" in response.get_data(as_text=True)


def test_the_banner_sends_the_link_again(client, smtp):
    register(client)
    smtp.wait(1)
    response = client.post("/account/verify", data={"next": "/account/password"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    page = client.get("/account/password").get_data(as_text=True)
    assert "We sent a new link to nadia@example.org." in page
    smtp.wait(2)
    user = account()
    assert [m["Subject"] for m in smtp.to(user)] == ["Manifesto: Confirm your email address"] * 2
    assert "user.verification_requested" in actions(user)
    # Either link works (the address is the same and still unverified); then both are spent.
    first, second = (link_in(m) for m in smtp.to(user))
    assert client.post(second).status_code == 302
    assert client.post(first).status_code == 400


def test_asking_again_needs_a_login_and_a_verified_account_is_told_so(client, smtp, make_user, login):
    assert client.post("/account/verify").status_code == 302  # to the login page
    user = make_user()
    login(user)
    page = client.post("/account/verify", follow_redirects=True).get_data(as_text=True)
    assert "Your email address is confirmed already." in page
    time.sleep(0.3)
    assert smtp.messages == []


def test_a_verification_link_expired_or_tampered_with_is_refused(client, smtp, monkeypatch):
    register(client)
    smtp.wait(1)
    link = link_in(smtp.messages[0][1])
    response = client.post(link[:-4] + "AAAA")
    assert response.status_code == 400 and "This link is not valid." in response.get_data(as_text=True)
    later = int(time.time()) + 7 * 24 * 3600 + 1
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post(link)
    assert response.status_code == 400 and "This link has expired." in response.get_data(as_text=True)
    assert not account().email_verified


def test_accounts_made_by_admins_the_cli_or_seeds_are_verified_at_once(app, make_user, runner):
    assert make_user().email_verified
    runner.invoke(args=["create-user", "cli@example.org", "--name", "Cli", "--password", "from the command line"])
    assert account("cli@example.org").email_verified


def test_with_verification_off_a_new_account_acts_at_once_and_gets_no_mail(app, client, smtp):
    app.config["EMAIL_VERIFICATION"] = "off"
    page = register(client).get_data(as_text=True)
    assert "Welcome! Your account is ready." in page and "Send the link again" not in page
    user = account()
    assert rules.is_member(user)  # unverified, but nobody asks
    assert services.set_export_credit(user, True).credit_in_exports
    time.sleep(0.3)
    assert smtp.messages == []


def test_the_page_cache_sees_an_unverified_member_as_one_who_may_not_act(client, smtp, make_user):
    register(client)
    user = account()
    stand_in = rules.stand_in(user)
    assert not stand_in.email_verified and not rules.is_member(stand_in) and variant(user) == "inactive"
    verified = rules.stand_in(make_user())
    assert rules.is_member(verified) and variant(make_user()) == "member"
    assert rules.is_member(rules.stand_in(user)) is rules.is_member(user)


def test_the_banner_form_carries_a_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        page = client.get("/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/register", data={"email": "nadia@example.org", "name": "Nadia Diallo",
                                       "password": PHRASE, "confirm": PHRASE, "csrf_token": token})
        page = client.get("/account/password").get_data(as_text=True)
        banner = page[page.index('action="/account/verify"'):]
        assert 'name="csrf_token"' in banner[:400]
        assert client.post("/account/verify").status_code == 400  # without the token: refused
