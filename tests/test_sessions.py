"""Login sessions: each login a row, listed on the account's security page, ended one by one or all at once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from manifesto.accounts import sessions
from manifesto.accounts.models import LoginSession, User
from manifesto.accounts.services import set_active
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from manifesto.services import utcnow
from harness import PASSWORD

FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.5 Mobile/15E148 Safari/604.1")
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/126.0.0.0 Safari/537.36")


def browser(app, agent: str = FIREFOX_ANDROID, address: str = "203.0.113.57"):
    """A test client that says it is ``agent`` at ``address``."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    return client


def rows_of(user) -> list[LoginSession]:
    return list(db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)
                                   .order_by(LoginSession.id)))


def logged_in(client) -> bool:
    """Whether this browser is logged in (the security page answers instead of sending to the login)."""
    return client.get("/account/security").status_code == 200


@pytest.mark.parametrize("agent,device", [
    (FIREFOX_ANDROID, "Firefox on Android"),
    (SAFARI_IPHONE, "Safari on iPhone"),
    (CHROME_WINDOWS, "Chrome on Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
     "Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
    ("curl/8.5.0", None),
    ("", None),
])
def test_the_device_is_named_as_people_name_it(agent, device):
    assert sessions.describe_device(agent) == device


@pytest.mark.parametrize("address,network", [
    ("203.0.113.57", "203.0.113.0/24"),
    ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
    ("::ffff:198.51.100.7", "198.51.100.0/24"),
    ("not an address", None),
    (None, None),
])
def test_only_the_network_of_the_address_is_kept(address, network):
    assert sessions.approximate_address(address) == network


def test_each_login_is_a_session_listed_with_its_device_and_network(app, make_user, login):
    user = make_user()
    phone, laptop = browser(app), browser(app, CHROME_WINDOWS, "2001:db8:1234:5678::1")
    login(user, test_client=phone)
    login(user, test_client=laptop)
    first, second = rows_of(user)
    assert (first.device, first.address, first.method) == ("Firefox on Android", "203.0.113.0/24", "password")
    assert (second.device, second.address) == ("Chrome on Windows", "2001:db8:1234::/48")
    assert first.generation == user.session_token and first.ended_at is None
    # The cookie carries the key; the database only its hash.
    cookie = phone.get_cookie("session").value
    assert first.key_hash not in cookie and len(first.key_hash) == 64
    page = phone.get("/account/security").get_data(as_text=True)
    assert "Firefox on Android" in page and "Chrome on Windows" in page
    assert "203.0.113.0/24" in page and "203.0.113.57" not in page
    assert page.count(">this device<") == 1
    assert re.search(r"Firefox on Android <strong class=\"badge\">this device", page)
    assert "Log out everywhere else" in page and "Log out everywhere" in page
    assert 'href="/account/security"' in phone.get("/account/password").get_data(as_text=True)


def test_a_login_says_whether_the_device_is_new(app, make_user, login):
    user = make_user()
    login(user, test_client=browser(app))  # the first login ever: nothing to tell it apart from
    login(user, test_client=browser(app))  # same phone, same network
    login(user, test_client=browser(app, address="198.51.100.9"))  # the same phone elsewhere
    login(user, test_client=browser(app, CHROME_WINDOWS))  # another device
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.signed_in",
                                                         AuditEvent.object_id == user.id)
                                .order_by(AuditEvent.id)).all()
    assert [e.data["new_device"] for e in events] == [False, False, True, True]
    assert events[2].data == {"method": "password", "device": "Firefox on Android", "address": "198.51.100.0/24",
                              "new_device": True}
    assert events[0].actor_id == user.id


def test_ending_one_session_refuses_that_browser_at_its_next_request(app, make_user, login):
    user = make_user()
    mine, stolen = browser(app), browser(app, CHROME_WINDOWS)
    login(user, test_client=mine)
    login(user, test_client=stolen)
    assert logged_in(stolen)
    other = rows_of(user)[1]
    response = mine.post(f"/account/security/sessions/{other.id}/end")
    assert response.status_code == 302
    assert "Chrome on Windows is logged out" in mine.get("/account/security").get_data(as_text=True)
    assert not logged_in(stolen)
    assert logged_in(mine)
    db.session.refresh(other)
    assert other.ended_reason == "ended" and other.ended_at is not None
    assert "Chrome on Windows" not in mine.get("/account/security").get_data(as_text=True)


def test_nobody_ends_someone_elses_session(app, make_user, login):
    owner, intruder = make_user(), make_user()
    owners = browser(app)
    login(owner, test_client=owners)
    target = rows_of(owner)[0]
    intruders = browser(app)
    login(intruder, test_client=intruders)
    response = intruders.post(f"/account/security/sessions/{target.id}/end")
    assert response.status_code in (303, 404)
    assert logged_in(owners)
    db.session.refresh(target)
    assert target.ended_at is None


def test_log_out_everywhere_else_keeps_this_browser(app, make_user, login):
    user = make_user()
    clients = [browser(app, agent) for agent in (FIREFOX_ANDROID, SAFARI_IPHONE, CHROME_WINDOWS)]
    for client in clients:
        login(user, test_client=client)
    response = clients[0].post("/account/security/sessions/end-others")
    assert response.status_code == 302
    assert [logged_in(c) for c in clients] == [True, False, False]
    page = clients[0].get("/account/security").get_data(as_text=True)
    assert "Safari on iPhone" not in page and "1 session" in page


def test_log_out_everywhere_also_ends_remember_me_cookies(app, make_user):
    user = make_user()
    phone = browser(app)
    assert phone.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"}).status_code == 302
    remembered = phone.get_cookie("remember_token")
    assert remembered is not None

    def with_only_the_remember_cookie():
        """A browser that lost its session cookie but kept "keep me logged in"."""
        fresh = browser(app)
        fresh.set_cookie("remember_token", remembered.value, domain=remembered.domain)
        return fresh

    assert logged_in(with_only_the_remember_cookie())
    laptop = browser(app, CHROME_WINDOWS)
    laptop.post("/login", data={"email": user.email, "password": PASSWORD})
    response = laptop.post("/account/security/sessions/end-all")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not logged_in(laptop)
    assert not logged_in(phone)
    assert not logged_in(with_only_the_remember_cookie())
    assert all(row.ended_reason == "ended_everywhere" for row in rows_of(user))


def test_logging_out_ends_the_row_so_a_copied_cookie_is_refused(app, make_user, login):
    user = make_user()
    mine = browser(app)
    login(user, test_client=mine)
    copy = browser(app)
    copy.set_cookie("session", mine.get_cookie("session").value, domain=mine.get_cookie("session").domain)
    assert logged_in(copy)
    mine.post("/logout")
    assert not logged_in(copy)
    assert rows_of(user)[0].ended_reason == "logout"


def test_changing_the_password_ends_the_others_and_keeps_this_browser(app, make_user, login):
    user = make_user()
    mine, other = browser(app), browser(app, CHROME_WINDOWS)
    mine.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    login(user, test_client=other)
    response = mine.post("/account/password", data={"current_password": PASSWORD,
                                                     "new_password": "a-brand-new-long-passphrase",
                                                     "confirm": "a-brand-new-long-passphrase"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert logged_in(mine) and not logged_in(other)
    live = db.session.scalars(sessions.live_sessions_query(db.session.get(User, user.id))).all()
    assert len(live) == 1 and live[0].remember  # a fresh session for this browser, still remembered
    page = mine.get("/account/security").get_data(as_text=True)
    assert "Chrome on Windows" not in page and "this device" in page


def test_deactivating_an_account_ends_every_session(app, make_user, login, users):
    user = make_user()
    clients = [browser(app), browser(app, CHROME_WINDOWS)]
    for client in clients:
        login(user, test_client=client)
    set_active(users["admin"], user.id, False)
    assert [logged_in(c) for c in clients] == [False, False]
    set_active(users["admin"], user.id, True)
    assert [logged_in(c) for c in clients] == [False, False]  # reactivating does not revive them
    account = db.session.get(User, user.id)
    assert sessions.list_sessions_of(users["admin"], account) == []


def test_a_forged_or_old_style_identity_is_refused(app, make_user, login):
    user = make_user()
    with app.test_request_context("/"):
        assert sessions.load_user(f"{user.id}:{user.session_token}") is None  # the identity before sessions
        assert sessions.load_user(f"{user.id}:{'x' * 43}") is None
        assert sessions.load_user("abc:def") is None
        assert sessions.load_user(f"{2**40}:key") is None


def test_the_loader_costs_one_query(app, make_user, login, queries):
    user = make_user()
    client = browser(app)
    login(user, test_client=client)
    row = rows_of(user)[0]
    # The key is in the signed cookie only; recover it the way the loader would receive it.
    with client.session_transaction() as cookie:
        identity = cookie["_user_id"]
    assert identity.startswith(f"{user.id}:") and sessions.hash_key(identity.partition(":")[2]) == row.key_hash
    with app.test_request_context("/"):
        with queries() as counted:
            loaded = sessions.load_user(identity)
        assert loaded is not None and loaded.id == user.id
        assert counted.count == 1, counted.statements


def test_last_seen_is_written_at_most_every_five_minutes(app, make_user, login, queries):
    user = make_user()
    client = browser(app)
    login(user, test_client=client)
    row = rows_of(user)[0]
    with queries() as counted:
        client.get("/account/security")
    assert not any("UPDATE login_sessions" in s for s in counted.statements)  # seen just now: nothing written
    long_ago = utcnow() - timedelta(minutes=6)
    db.session.execute(update(LoginSession).where(LoginSession.id == row.id).values(last_seen_at=long_ago))
    db.session.commit()
    with queries() as counted:
        client.get("/account/security")
    assert sum("UPDATE login_sessions" in s for s in counted.statements) == 1
    db.session.refresh(row)
    assert row.last_seen_at.replace(tzinfo=None) > long_ago.replace(tzinfo=None) + timedelta(minutes=5)
    with queries() as counted:
        client.get("/account/security")
    assert not any("UPDATE login_sessions" in s for s in counted.statements)


def test_admins_see_a_members_sessions(app, make_user, login, users):
    member = make_user()
    login(member, test_client=browser(app))
    admin = browser(app)
    login(users["admin"], test_client=admin)
    page = admin.get(f"/admin/users/{member.id}/security").get_data(as_text=True)
    assert "Firefox on Android" in page and member.email in page
    member_client = browser(app)
    login(member, test_client=member_client)
    assert member_client.get(f"/admin/users/{member.id}/security").status_code == 403


def test_the_security_log_lists_account_events_newest_first_for_admins_only(app, make_user, login, users):
    from manifesto.accounts.services import set_role

    member = make_user(name="Lina Member")
    login(member, test_client=browser(app))
    set_role(users["admin"], member.id, "moderator")
    set_active(users["admin"], member.id, False)
    admin = browser(app)
    login(users["admin"], test_client=admin)
    page = admin.get("/admin/security").get_data(as_text=True)
    assert page.index("user deactivated") < page.index("user role changed") < page.index("user registered")
    assert "user signed in" not in page  # everyday logins only when asked for
    assert f'href="/admin/users/{member.id}/security">Lina Member</a>' in page
    with_logins = admin.get("/admin/security?sign_ins=1").get_data(as_text=True)
    assert "user signed in" in with_logins
    moderator = browser(app)
    login(users["moderator"], test_client=moderator)
    assert moderator.get("/admin/security").status_code == 403
