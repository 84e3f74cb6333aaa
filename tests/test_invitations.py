"""Invitations: an imported delegate gets an email with a link, an admin can send it again, the list shows who is waiting.

Mail goes for real through the local SMTP server (``test_mail``'s fixtures),
sent by the job queue after the import's commit.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from test_import import accounts, confirm, csv_of, events, upload
from test_mail import mail_config, smtp, text_of  # noqa: F401 - fixtures

from manifesto.accounts import importing
from manifesto.accounts.models import User
from manifesto.extensions import db
from manifesto.services import PermissionDenied, ValidationError, utcnow


@pytest.fixture
def admin(users, login):
    """The admin, logged in on the test client."""
    login(users["admin"])
    return users["admin"]


def invite(admin, *lines: str) -> None:
    """Import a file of delegates (the service, as the import button does)."""
    data = csv_of(*lines)
    importing.import_delegates(admin, data, importing.file_digest(data))


def age_invitation(email: str, minutes: int = 2) -> None:
    """Pretend the last invitation to ``email`` went out ``minutes`` ago."""
    db.session.execute(update(User).where(User.email == email)
                       .values(invited_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def accept(email: str) -> None:
    """The person chose a password by the invitation's link (as the link's page stores it)."""
    db.session.execute(update(User).where(User.email == email)
                       .values(password_hash="pbkdf2:sha256:1000$salt$" + "0" * 64, email_verified_at=utcnow()))
    db.session.commit()


def link_in(message) -> str:
    """The path of the one link to our site in an email."""
    [url] = set(re.findall(r"https://manifesto\.test(/[^\s\"<>]+)", text_of(message)))
    return url


# --- the list and the button ------------------------------------------------------------------------


def test_the_users_list_says_who_has_not_accepted_and_offers_to_send_again(client, admin, make_user):
    make_user(email="registered@example.org")
    invite(admin, "Amina,amina@example.org,,,,", "Kofi,kofi@example.org,,,,")
    accept("kofi@example.org")
    page = client.get("/admin/users").get_data(as_text=True)
    assert page.count("Invited, not yet accepted") == 1
    row = page[page.index(">Amina "):page.index("</tr>", page.index(">Amina "))]
    assert "Invited, not yet accepted" in row and "Send the invitation again" in row
    assert "Import delegates from a list" in page and "/admin/users.csv" in page


def test_sending_again_records_a_new_invitation_and_goes_back_to_the_same_page(client, admin):
    invite(admin, "Amina,amina@example.org,,,,")
    amina = accounts()["amina@example.org"]
    age_invitation(amina.email)
    aged = accounts()[amina.email].invited_at
    response = client.post(f"/admin/users/{amina.id}/invitation", data={"next": "/admin/users?q=amina"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users?q=amina")
    assert "A new invitation is on its way to Amina." in client.get("/admin/users?q=amina").get_data(as_text=True)
    again = events("user.invited")[-1]
    assert (again.object_id, again.actor_id, again.data) == (amina.id, admin.id, {"again": True})
    assert accounts()[amina.email].invited_at > aged


def test_one_invitation_a_minute_at_most(client, admin):
    invite(admin, "Amina,amina@example.org,,,,")
    amina = accounts()["amina@example.org"]
    response = client.post(f"/admin/users/{amina.id}/invitation", data={"next": "/admin/users"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "An invitation went to Amina less than a minute ago. Wait a minute before sending another." in page
    assert len(events("user.invited")) == 1
    age_invitation(amina.email)
    assert client.post(f"/admin/users/{amina.id}/invitation").status_code == 302
    assert len(events("user.invited")) == 2


def test_no_new_invitation_once_accepted_or_for_someone_never_invited(app, admin, make_user):
    invite(admin, "Amina,amina@example.org,,,,")
    accept("amina@example.org")
    age_invitation("amina@example.org")
    registered = make_user(email="registered@example.org", name="Reg")
    for user_id, name in ((accounts()["amina@example.org"].id, "Amina"), (registered.id, "Reg")):
        with pytest.raises(ValidationError, match=f"{name} has accepted the invitation already"):
            importing.resend_invitation(admin, user_id)
    assert len(events("user.invited")) == 1


def test_no_invitation_to_a_deactivated_account(app, admin):
    from manifesto.accounts import services

    invite(admin, "Amina,amina@example.org,,,,")
    amina = accounts()["amina@example.org"]
    age_invitation(amina.email)
    services.set_active(admin, amina.id, False)
    with pytest.raises(ValidationError, match="deactivated"):
        importing.resend_invitation(admin, amina.id)


@pytest.mark.parametrize("role", ["participant", "moderator"])
def test_only_admins_send_invitations(client, users, login, role):
    invite(users["admin"], "Amina,amina@example.org,,,,")
    amina = accounts()["amina@example.org"]
    age_invitation(amina.email)
    login(users[role])
    assert client.post(f"/admin/users/{amina.id}/invitation").status_code == 403
    with pytest.raises(PermissionDenied):
        importing.resend_invitation(users[role], amina.id)
    assert len(events("user.invited")) == 1


def test_an_unknown_account_is_not_found(client, admin):
    assert client.post("/admin/users/999999/invitation").status_code == 404


# --- the mail ---------------------------------------------------------------------------------------


def test_importing_mails_each_new_person_an_invitation_in_their_language(client, admin, smtp):
    page = upload(client, csv_of("Amina Diallo,amina@example.org,,,,fr", "Kofi Mensah,kofi@example.org,,,,"))
    confirm(client, page.get_data(as_text=True))
    smtp.wait(2)
    assert sorted(rcpt[0] for rcpt, _message in smtp.messages) == ["amina@example.org", "kofi@example.org"]
    [amina] = smtp.to(accounts()["amina@example.org"])
    [kofi] = smtp.to(accounts()["kofi@example.org"])
    assert text_of(amina).startswith("Bonjour Amina Diallo") and text_of(kofi).startswith("Hello Kofi Mensah")
    assert link_in(amina) != link_in(kofi)


def test_importing_again_sends_nothing_and_an_updated_file_invites_only_the_new_people(client, admin, smtp):
    first = csv_of("Amina,amina@example.org,,,participant,", "Kofi,kofi@example.org,,,,")
    confirm(client, upload(client, first).get_data(as_text=True))
    smtp.wait(2)
    confirm(client, upload(client, first).get_data(as_text=True))
    updated = csv_of("Amina Diallo,amina@example.org,,,moderator,", "Kofi,kofi@example.org,,,,",
                     "Fatou,fatou@example.org,,,,")
    confirm(client, upload(client, updated).get_data(as_text=True))
    smtp.wait(3)
    assert [rcpt[0] for rcpt, _message in smtp.messages[2:]] == ["fatou@example.org"]
    assert accounts()["amina@example.org"].role == "moderator"


def test_sending_again_mails_a_new_link(client, admin, smtp):
    invite(admin, "Amina,amina@example.org,,,,")
    smtp.wait(1)
    amina = accounts()["amina@example.org"]
    age_invitation(amina.email)
    client.post(f"/admin/users/{amina.id}/invitation")
    smtp.wait(2)
    assert len(smtp.to(amina)) == 2


def test_from_the_list_to_a_logged_in_delegate(client, admin, smtp):
    """Import, the mail, its link, a password chosen: the delegate is logged in, and the list says accepted."""
    invite(admin, "Amina Diallo,amina@example.org,,,,")
    smtp.wait(1)
    [message] = smtp.to(accounts()["amina@example.org"])
    path = link_in(message)
    assert path.startswith("/invitation/")
    client.post("/logout")
    assert "amina@example.org" in client.get(path).get_data(as_text=True)
    password = "a long passphrase of my own"
    done = client.post(path, data={"password": password, "confirm": password})
    assert done.status_code == 302
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Welcome, Amina Diallo! Your password is set." in page and "Log out" in page
    amina = accounts()["amina@example.org"]
    assert not importing.invitation_pending(amina) and amina.email_verified_at is not None
    used = client.get(path)
    assert used.status_code == 400 and "used already" in used.get_data(as_text=True)
    client.post("/logout")
    assert client.post("/login", data={"email": "amina@example.org", "password": password}).status_code == 302


# --- approval (REGISTRATION=approval) ---------------------------------------------------------------


def awaiting(user) -> None:
    """Put an account in the queue of those waiting for an admin's approval."""
    db.session.execute(update(User).where(User.id == user.id).values(awaiting_approval=True))
    db.session.commit()


def test_an_admin_approves_an_account_that_waits(client, admin, make_user):
    waiting = make_user(email="waiting@example.org", name="Waiting Person")
    awaiting(waiting)
    page = client.get("/admin/users").get_data(as_text=True)
    assert page.count("Awaiting approval") == 1 and "Approve<span" in page
    response = client.post(f"/admin/users/{waiting.id}/approval", data={"next": "/admin/users?page=1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/users?page=1")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Waiting Person may log in now." in page and "Awaiting approval" not in page
    assert accounts()["waiting@example.org"].awaiting_approval is False
    [approved] = events("user.approved")
    assert (approved.object_id, approved.actor_id) == (waiting.id, admin.id)


@pytest.mark.parametrize("role", ["participant", "moderator"])
def test_only_admins_approve(client, users, login, make_user, role):
    waiting = make_user(email="waiting@example.org")
    awaiting(waiting)
    login(users[role])
    assert client.post(f"/admin/users/{waiting.id}/approval").status_code == 403
    assert accounts()["waiting@example.org"].awaiting_approval is True
