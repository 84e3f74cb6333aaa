"""Who may register (``REGISTRATION``): anyone, only invited people, or anyone once an admin approves."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select
from test_mail import mail_config, smtp, text_of  # noqa: F401 - fixtures

from manifesto.accounts import services
from manifesto.accounts.models import User
from manifesto.extensions import db
from manifesto.services import PermissionDenied

PHRASE = "a phrase of several words"
FORM = {"email": "nadia@example.org", "name": "Nadia Diallo", "password": PHRASE, "confirm": PHRASE}


def accounts() -> int:
    """How many accounts exist."""
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(User))


def test_by_invitation_the_page_says_so_and_a_post_is_refused_with_nothing_written(app, client):
    app.config["REGISTRATION"] = "invitation"
    page = client.get("/register").get_data(as_text=True)
    assert "Registration here is by invitation only." in page and 'name="password"' not in page
    before = accounts()
    response = client.post("/register", data=FORM)
    assert response.status_code == 403
    assert "Registration here is by invitation only." in response.get_data(as_text=True)
    assert accounts() == before
    # Nothing invites a visitor to a page that would refuse them.
    assert 'href="/register"' not in client.get("/login").get_data(as_text=True)
    with pytest.raises(PermissionDenied):
        services.register_user("x@example.org", "X", PHRASE, self_registered=True)
    # Admins, the command line and imports still create accounts.
    assert services.register_user("x@example.org", "X", PHRASE).email_verified


def test_open_registration_logs_the_new_person_in(app, client):
    assert client.post("/register", data=FORM).status_code == 302
    assert client.get("/account/password").status_code == 200


@pytest.fixture
def approval(app, client):
    """REGISTRATION=approval, and Nadia has registered."""
    app.config["REGISTRATION"] = "approval"
    page = client.get("/register").get_data(as_text=True)
    assert "An admin approves each new account before it can log in." in page
    response = client.post("/register", data=FORM, follow_redirects=True)
    assert "An admin approves it before you can log in" in response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == "nadia@example.org"))


def test_by_approval_the_account_waits_and_says_so_only_to_the_right_password(client, approval, login):
    assert approval.awaiting_approval
    assert client.get("/account/password").status_code == 302  # not logged in
    wrong = login(approval, password="not the right one at all")
    assert "The email address or the password is wrong." in wrong.get_data(as_text=True)
    assert "approval" not in wrong.get_data(as_text=True)
    right = login(approval, password=PHRASE)
    assert right.status_code == 400
    assert "Your account waits for an admin&#39;s approval." in right.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302


def test_an_admin_approves_and_the_person_is_told_and_logs_in(app, client, smtp, approval, users, login):
    with pytest.raises(PermissionDenied):
        services.approve_account(users["moderator"], approval.id)
    user = services.approve_account(users["admin"], approval.id)
    assert not user.awaiting_approval
    smtp.wait(2)  # the verification link (from the registration) and the approval
    subjects = [m["Subject"] for m in smtp.to(user)]
    assert subjects == ["Manifesto: Confirm your email address", "Manifesto: Your account is approved"]
    assert "you can log in now" in text_of(smtp.to(user)[1])
    assert login(approval, password=PHRASE).status_code == 302
    # Approving twice changes nothing and mails nothing.
    services.approve_account(users["admin"], approval.id)
    time.sleep(0.3)
    assert len(smtp.messages) == 2


def test_a_reset_link_does_not_let_an_account_in_before_its_approval(client, smtp, approval):
    client.post("/password/forgot", data={"email": approval.email})
    smtp.wait(2)  # the verification link, then the reset link
    [reset] = [m for m in smtp.to(approval) if m["Subject"] == "Manifesto: Choose a new password"]
    link = re.search(r"https://manifesto\.test(/password/reset/\S+)", text_of(reset)).group(1)
    phrase = "another phrase of several words"
    response = client.post(link, data={"password": phrase, "confirm": phrase}, follow_redirects=True)
    assert "Your account waits for an admin&#39;s approval." in response.get_data(as_text=True)
    assert client.get("/account/password").status_code == 302  # not logged in
