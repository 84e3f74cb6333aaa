"""Registration, login, logout, passwords, the safe ``next``, and account admin."""

from __future__ import annotations

import pytest

from manifesto.accounts.models import User
from manifesto.extensions import db
from tests.conftest import PASSWORD


def register(client, **overrides):
    data = {"email": "new@example.org", "name": "Nadia Diallo", "organisation": "Coop Sahel",
            "country": "Senegal", "password": PASSWORD, "confirm": PASSWORD}
    data.update(overrides)
    return client.post("/register", data=data)


def test_register_creates_account_and_logs_in(client):
    response = register(client)
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "new@example.org"))
    assert user.role == "participant" and user.organisation == "Coop Sahel"
    assert user.password_hash != PASSWORD
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Nadia Diallo" in page and "Log out" in page


def test_register_duplicate_email_any_case_keeps_input(client, make_user):
    make_user(email="taken@example.org")
    response = register(client, email="TAKEN@example.org", name="Kept Name")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already exists" in page
    assert 'value="Kept Name"' in page and 'value="TAKEN@example.org"' in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize("field,value,message", [
    ("password", "short", "at least 15"),
    ("email", "not-an-email", "valid email"),
    ("name", "", "This field is required"),
    ("name", "x" * 121, "121"),
])
def test_register_rejects_bad_input_next_to_field(client, field, value, message):
    overrides = {field: value}
    if field == "password":
        overrides["confirm"] = value
    response = register(client, **overrides)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message.lower() in page.lower() or "field" in page.lower()
    assert 'class="error"' in page
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_register_mismatched_passwords(client):
    response = register(client, confirm="something-else-entirely")
    assert response.status_code == 400
    assert "The two passwords differ." in response.get_data(as_text=True)


def test_login_and_logout(client, make_user, login):
    user = make_user()
    assert login(user).status_code == 302
    assert user.name in client.get("/account/password").get_data(as_text=True)
    assert client.get("/logout").status_code == 405  # only POST logs out
    assert client.post("/logout").status_code == 302
    assert client.get("/account/password").status_code == 302


def test_login_wrong_password_says_so_without_revealing_accounts(client, make_user, login):
    user = make_user()
    wrong = login(user, password="not-the-password")
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever-123"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "The email address or the password is wrong." in response.get_data(as_text=True)


def test_login_email_is_case_insensitive(client, make_user):
    user = make_user(email="case@example.org")
    response = client.post("/login", data={"email": "CASE@Example.org", "password": PASSWORD})
    assert response.status_code == 302, user


@pytest.mark.parametrize("target,allowed", [
    ("/d/doc/", True),
    ("/account/password?x=1", True),
    ("http://evil.example/", False),
    ("https://evil.example/d/doc/", False),
    ("//evil.example/", False),
    ("/\\evil.example/", False),
    ("\\\\evil.example", False),
    ("javascript:alert(1)", False),
    ("/\tevil", False),
    ("", False),
])
def test_login_next_is_safe(client, make_user, login, target, allowed):
    response = login(make_user(), next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    if allowed:
        assert location.endswith(target)
    else:
        assert location in ("/", "http://localhost/")


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, make_user, login, users):
    user = make_user()
    assert login(user).status_code == 302
    from manifesto.accounts.services import set_active

    set_active(users["admin"], user.id, False)
    assert client.get("/account/password").status_code == 302  # existing session ends
    response = login(user)
    assert response.status_code == 400
    assert "deactivated" in response.get_data(as_text=True)
    assert db.session.get(User, user.id) is not None  # the account and its contributions stay


def test_change_password_logs_out_other_sessions(app, client, make_user, login):
    user = make_user()
    other = app.test_client()
    login(user)
    login(user, test_client=other)
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": "a-new-long-password",
                                                       "confirm": "a-new-long-password"})
    assert response.status_code == 302
    assert client.get("/account/password").status_code == 200  # this session goes on
    assert other.get("/account/password").status_code == 302  # the other one ends
    client.post("/logout")
    assert login(user, password="a-new-long-password").status_code == 302


def test_change_password_wrong_current(client, make_user, login):
    login(make_user())
    response = client.post("/account/password", data={"current_password": "wrong-password-x",
                                                       "new_password": "a-new-long-password",
                                                       "confirm": "a-new-long-password"})
    assert response.status_code == 400
    assert "not your current password" in response.get_data(as_text=True)


def test_admin_changes_roles_and_deactivates(client, users, login):
    login(users["admin"])
    participant = users["participant"]
    assert client.post(f"/admin/users/{participant.id}/role", data={"role": "moderator"}).status_code == 302
    assert db.session.get(User, participant.id).role == "moderator"
    client.post(f"/admin/users/{participant.id}/active", data={"active": "0"})
    assert db.session.get(User, participant.id).active is False
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Deactivated" in page and "Reactivate" in page


def test_admin_cannot_remove_last_admin_or_deactivate_self(client, users, login):
    admin = users["admin"]
    login(admin)
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "participant"}, follow_redirects=True)
    assert "last admin" in response.get_data(as_text=True)
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "cannot deactivate your own" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).role == "admin" and db.session.get(User, admin.id).active


def test_unknown_role_is_refused(client, users, login):
    login(users["admin"])
    response = client.post(f"/admin/users/{users['participant'].id}/role", data={"role": "superuser"},
                           follow_redirects=True)
    assert "Choose one of the listed roles" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["participant", "moderator"])
def test_only_admins_manage_accounts(client, users, login, role):
    login(users[role])
    target = users["participant"] if role == "moderator" else users["moderator"]
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{target.id}/role", data={"role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{target.id}/active", data={"active": "0"}).status_code == 403
    assert db.session.get(User, target.id).role != "admin"


def test_registration_and_role_changes_are_audited(client, users, login):
    from manifesto.audit.models import AuditEvent

    login(users["admin"])
    client.post(f"/admin/users/{users['participant'].id}/role", data={"role": "moderator"})
    events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "user.role_changed")).all()
    assert [(e.from_state, e.to_state, e.actor_id) for e in events] == [("participant", "moderator", users["admin"].id)]
