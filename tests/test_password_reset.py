"""Back in by a mailed link: a forgotten password, and an invitation to choose one.

Mail goes for real through the local SMTP server (``test_mail``'s fixtures),
sent by the job queue after the commit; the tests follow the link it carries.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from harness import PASSWORD
from itsdangerous.timed import TimestampSigner
from sqlalchemy import select
from test_mail import mail_config, smtp, text_of  # noqa: F401 - fixtures

from manifesto.accounts import passwords, services, tokens, twofactor
from manifesto.accounts.models import User
from manifesto.audit.models import AuditEvent
from manifesto.audit.services import record_event
from manifesto.extensions import db
from manifesto.services import utcnow, writes

NEW = "a new phrase for the new term"


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


def ask_for_reset(client, email: str):
    """Fill in "Forgot your password?" and follow the answer to the login page."""
    return client.post("/password/forgot", data={"email": email}, follow_redirects=True)


def reset_link(client, smtp, user) -> str:
    """Ask for a reset link for ``user`` and return its path from the email."""
    before = len(smtp.to(user))
    ask_for_reset(client, user.email)
    smtp.wait(1)
    messages = smtp.to(user)
    assert len(messages) == before + 1
    return link_in(messages[-1])


# ------------------------------------------------------------------ asking


def test_the_login_page_leads_to_the_reset_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<a href="/password/forgot">Forgot your password?</a>' in page
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "<h1>Forgot your password?</h1>" in page and 'name="email"' in page


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(client, smtp, make_user):
    user = make_user(email="amina@example.org")
    known = ask_for_reset(client, "Amina@Example.org")
    unknown = ask_for_reset(client, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    say = "we sent a link to it. The link works for one hour, once."
    known_page = known.get_data(as_text=True).replace("Amina@Example.org", "ADDRESS")
    unknown_page = unknown.get_data(as_text=True).replace("nobody@example.org", "ADDRESS")
    assert say in known_page and say in unknown_page
    assert re.sub(r'value="[^"]*"', "", known_page) == re.sub(r'value="[^"]*"', "", unknown_page)
    smtp.wait(1)
    time.sleep(0.3)  # a second (wrong) email would have arrived by now
    assert [rcpt for rcpt, _message in smtp.messages] == [["amina@example.org"]]
    assert actions(user) == ["user.registered", "user.reset_requested"]


def test_a_deactivated_account_gets_no_link(client, smtp, users, make_user):
    user = make_user()
    services.set_active(users["admin"], user.id, False)
    ask_for_reset(client, user.email)
    time.sleep(0.3)
    assert smtp.messages == [] and "user.reset_requested" not in actions(user)


def test_a_malformed_address_is_said_next_to_the_field(client):
    response = client.post("/password/forgot", data={"email": "not an address"})
    assert response.status_code == 400 and 'id="email-error"' in response.get_data(as_text=True)


# ------------------------------------------------------------------ the link


def test_the_reset_mail_sets_a_new_password_ends_every_other_session_and_logs_in(app, client, smtp, make_user,
                                                                                   login):
    user = make_user(name="Amina Diallo", email="amina@example.org")
    other = app.test_client()
    login(user, test_client=other)
    assert other.get("/account/password").status_code == 200
    link = reset_link(client, smtp, user)
    [mail] = smtp.to(user)
    assert mail["Subject"] == "Manifesto: Choose a new password"
    assert "works for 1 hour, once" in text_of(mail) and "List-Unsubscribe" not in mail
    assert mail.get_body(("html",)).get_content().count(f'href="https://manifesto.test{link}"') == 1

    page = client.get(link).get_data(as_text=True)
    assert "<h1>Choose a new password</h1>" in page and "amina@example.org" in page
    # The policy applies, with the account's own name and address.
    response = client.post(link, data={"password": "amina.diallo2024!", "confirm": "amina.diallo2024!"})
    assert response.status_code == 400 and "your name, your email address" in response.get_data(as_text=True)
    response = client.post(link, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # logged in here
    assert other.get("/account/password").status_code == 302  # the other session ended
    assert services.authenticate(user.email, NEW).id == user.id
    assert login(user, test_client=app.test_client()).status_code == 400  # the old password is gone
    assert actions(user)[-2:] == ["user.password_reset", "user.signed_in"]
    smtp.wait(2)
    notice = smtp.to(user)[-1]
    assert notice["Subject"] == "Manifesto: Your password was changed"
    assert "Every other device logged in to the account was logged out." in text_of(notice)


def test_a_reset_link_works_once(client, smtp, make_user):
    user = make_user()
    link = reset_link(client, smtp, user)
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    client.post("/logout")
    for response in (client.get(link), client.post(link, data={"password": NEW + "!", "confirm": NEW + "!"})):
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "This link was used already, or a newer one replaced it. Ask for a new one." in page
        assert '<a href="/password/forgot">Ask for a new link</a>' in page
    assert services.authenticate(user.email, NEW).id == user.id


def test_a_newer_password_retires_an_unused_link(client, smtp, make_user):
    user = make_user()
    link = reset_link(client, smtp, user)
    services.change_password(user, PASSWORD, NEW)
    assert "used already, or a newer one replaced it" in client.get(link).get_data(as_text=True)


def test_a_reset_link_expires_after_an_hour(client, smtp, make_user, monkeypatch):
    user = make_user()
    link = reset_link(client, smtp, user)
    later = int(time.time()) + 3601
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post(link, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 400
    assert "This link has expired. Ask for a new one." in response.get_data(as_text=True)
    assert services.authenticate(user.email, PASSWORD).id == user.id  # nothing changed


@pytest.mark.parametrize("tamper", [lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
                                    lambda t: t[:20], lambda t: "x" * 500, lambda t: "nonsense"])
def test_a_tampered_or_cut_link_is_refused(client, smtp, make_user, tamper):
    user = make_user()
    token = reset_link(client, smtp, user).rsplit("/", 1)[1]
    response = client.get(f"/password/reset/{tamper(token)}")
    assert response.status_code == 400
    assert "This link is not valid. Copy the whole link from the email, or ask for a new one." \
        in response.get_data(as_text=True)


def test_an_invitation_link_is_no_reset_link(client, make_user):
    user = make_user()
    invitation = tokens.make_token(user, tokens.INVITATION)
    assert client.get(f"/password/reset/{invitation}").status_code == 400


def test_with_two_factors_the_reset_does_not_log_in(client, smtp, make_user):
    user = make_user()
    db.session.get(User, user.id).totp_enabled_at = utcnow()
    db.session.commit()
    link = reset_link(client, smtp, user)
    # Two factors on: eight characters are enough.
    response = client.post(link, data={"password": "violet-kettle", "confirm": "violet-kettle"},
                           follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/login"
    assert "Log in with it and a code from your authenticator app." in page
    assert client.get("/account/password").status_code == 302  # not logged in: the code is still to come
    assert services.authenticate(user.email, "violet-kettle").id == user.id


# ------------------------------------------------------------------ invitations


@writes
def _invite(admin_id: int, user_id: int) -> None:
    """Record an invitation as the import does (the listener mails it)."""
    record_event(db.session.get(User, admin_id), "user.invited", db.session.get(User, user_id))


@pytest.fixture
def invited(users, make_user):
    """An account created for a delegate who has not chosen a password yet, and its invitation mail sent."""
    user = make_user(name="Kofi Mensah", email="kofi@example.org")
    account = db.session.get(User, user.id)
    account.password_hash, account.email_verified_at = passwords.unusable_hash(), None
    db.session.commit()
    _invite(users["admin"].id, user.id)
    return db.session.get(User, user.id)


def test_an_invited_person_chooses_a_password_from_the_link_and_is_logged_in(client, smtp, invited, login, users):
    smtp.wait(1)
    [mail] = smtp.to(invited)
    assert mail["Subject"] == "Manifesto: You are invited to take part"
    assert f"{users['admin'].name} invited you to take part" in text_of(mail)
    assert login(invited, password="").status_code == 400  # no password works before
    link = link_in(mail)
    page = client.get(link).get_data(as_text=True)
    assert "Welcome, Kofi Mensah" in page and "kofi@example.org" in page
    response = client.post(link, data={"password": "kofi-mensah-2026", "confirm": "kofi-mensah-2026"})
    assert response.status_code == 400 and "your name, your email address" in response.get_data(as_text=True)
    response = client.post(link, data={"password": NEW, "confirm": NEW}, follow_redirects=True)
    assert "Welcome, Kofi Mensah! Your password is set." in response.get_data(as_text=True)
    assert client.get("/account/password").status_code == 200
    db.session.expire_all()
    account = db.session.get(User, invited.id)
    assert account.email_verified and services.authenticate(account.email, NEW).id == account.id
    assert actions(account)[-3:] == ["user.invited", "user.invitation_accepted", "user.signed_in"]
    # Used twice: refused, with the way forward.
    client.post("/logout")
    page = client.get(link).get_data(as_text=True)
    assert "used already" in page and "If you chose your password already, log in with it." in page


def test_an_expired_or_tampered_invitation_is_refused(client, smtp, invited, monkeypatch):
    smtp.wait(1)
    link = link_in(smtp.to(invited)[0])
    assert "This link is not valid" in client.get(link[:-3] + "xyz").get_data(as_text=True)
    later = int(time.time()) + 15 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post(link, data={"password": NEW, "confirm": NEW})
    assert response.status_code == 400 and "This link has expired." in response.get_data(as_text=True)
    assert not passwords.is_usable(db.session.get(User, invited.id).password_hash)


def test_a_forgotten_password_link_also_lets_an_invited_person_in(client, smtp, invited):
    """Lost the invitation? "Forgot your password?" sends a link that works the same way."""
    smtp.wait(1)
    link = reset_link(client, smtp, invited)
    assert client.post(link, data={"password": NEW, "confirm": NEW}).status_code == 302
    assert db.session.get(User, invited.id).email_verified


# ------------------------------------------------------------------ security notices


def test_a_changed_password_is_told_by_mail(smtp, make_user):
    user = make_user()
    services.change_password(user, PASSWORD, NEW)
    smtp.wait(1)
    [notice] = smtp.to(user)
    assert notice["Subject"] == "Manifesto: Your password was changed"
    assert "If this was not you, choose a new password at once" in text_of(notice)
    assert "https://manifesto.test/login" in text_of(notice) and "List-Unsubscribe" not in notice


def test_two_factors_turned_on_and_reset_by_an_admin_are_told_by_mail(smtp, make_user, users):
    user = make_user()
    secret = twofactor.start_setup(user).totp_secret
    twofactor.confirm_setup(db.session.get(User, user.id), pyotp.TOTP(secret).now())
    smtp.wait(1)
    assert smtp.to(user)[-1]["Subject"] == "Manifesto: Two factors are on for your account"
    twofactor.reset_by_admin(users["admin"], user.id, "She lost her phone at the venue.")
    smtp.wait(2)
    notice = smtp.to(user)[-1]
    assert notice["Subject"] == "Manifesto: Two factors are off for your account"
    assert "An admin turned it off. The reason given: She lost her phone at the venue." in text_of(notice)


def test_a_login_from_a_new_device_is_told_by_mail_and_a_known_one_is_not(app, smtp, make_user, login):
    user = make_user()
    phone = {"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile Safari/604.1"}
    laptop = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"}
    for headers in (laptop, laptop):
        client = app.test_client()
        assert client.post("/login", data={"email": user.email, "password": PASSWORD},
                           headers=headers).status_code == 302
    time.sleep(0.3)
    assert smtp.messages == []  # the first device, then the same one again
    app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}, headers=phone)
    smtp.wait(1)
    [notice] = smtp.to(user)
    assert notice["Subject"] == "Manifesto: A new device logged in to your account"
    assert "If this was you, there is nothing to do." in text_of(notice)
