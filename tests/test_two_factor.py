"""Two factors: setting up TOTP with the QR code, the login's code step, recovery codes, locks, admin resets."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
from sqlalchemy import select

from manifesto.accounts import twofactor
from manifesto.accounts.models import LoginSession, RecoveryCode, User
from manifesto.audit.models import AuditEvent
from manifesto.extensions import db
from harness import PASSWORD

# A fixed clock for the code checks: a time step is 30 s, and a test must not depend on when it runs.
NOW = datetime(2026, 12, 7, 9, 0, 10, tzinfo=timezone.utc)
STEP = timedelta(seconds=30)


@pytest.fixture
def clock(monkeypatch):
    """Freeze the time the code checks see; ``clock.move(seconds)`` moves it on."""

    class Clock:
        now = NOW

        def move(self, seconds: float) -> None:
            self.now = self.now + timedelta(seconds=seconds)

    frozen = Clock()
    monkeypatch.setattr(twofactor, "utcnow", lambda: frozen.now)
    return frozen


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


def turn_on(client, clock) -> tuple[str, list[str]]:
    """Set up two factors from the security page as a person would: read the key, type a code."""
    assert client.post("/account/security/two-factor/start").status_code == 302
    page = client.get("/account/security").get_data(as_text=True)
    words = re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    secret = words.replace(" ", "")
    # The code of the step before: the login can then use this step's and the next one's.
    response = client.post("/account/security/two-factor/confirm", data={"code": code_at(secret, clock.now - STEP)})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", response.get_data(as_text=True))
    return secret, codes


def password_step(client, user, **extra):
    return client.post("/login", data={"email": user.email, "password": PASSWORD, **extra})


def logged_in(client) -> bool:
    return client.get("/account/security").status_code == 200


@pytest.fixture
def member(app, make_user, client, login, clock):
    """A participant with two factors on, logged out, with their secret and recovery codes."""
    user = make_user()
    login(user)
    secret, codes = turn_on(client, clock)
    client.post("/logout")
    user.secret, user.codes = secret, codes
    return user


def test_setup_shows_a_qr_code_drawn_here_and_the_key_in_words(app, client, make_user, login, clock):
    user = make_user()
    login(user)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Set up two factors" in page and "<svg" not in page
    client.post("/account/security/two-factor/start")
    response = client.get("/account/security")
    page = response.get_data(as_text=True)
    account = db.session.get(User, user.id)
    assert account.totp_secret and account.totp_enabled_at is None  # not in force until confirmed
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "<title>QR code to scan" in svg
    assert "style=" not in svg and "<script" not in svg and "href" not in svg  # nothing the CSP would refuse
    assert "<img" not in page.split('id="two-factor"')[1]  # no remote image
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    words = re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', page).group(1)
    assert all(len(group) == 4 for group in words.split(" ")) and words.replace(" ", "") == account.totp_secret
    assert f"otpauth://totp/Manifesto:{user.email.replace('@', '%40')}?secret={account.totp_secret}" \
           f"&amp;issuer=Manifesto" in page
    # Two factors stay off until a code proves the app has the key.
    assert password_step(app.test_client(), user).headers["Location"].endswith("/")


def test_confirming_with_a_code_turns_it_on_and_shows_ten_recovery_codes_once(app, client, make_user, login, clock):
    user = make_user()
    login(user)
    client.post("/account/security/two-factor/start")
    secret = db.session.get(User, user.id).totp_secret
    wrong = client.post("/account/security/two-factor/confirm", data={"code": "000000"})
    assert wrong.status_code == 400 and "That code is wrong" in wrong.get_data(as_text=True)
    assert db.session.get(User, user.id).totp_enabled_at is None
    response = client.post("/account/security/two-factor/confirm", data={"code": code_at(secret, clock.now)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", response.get_data(as_text=True))
    assert len(set(codes)) == 10
    account = db.session.get(User, user.id)
    assert account.two_factor_enabled
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10
    assert not any(code in h or code.replace("-", "") in h for code in codes for h in stored)  # hashed
    page = client.get("/account/security").get_data(as_text=True)
    assert "10 unused recovery codes" in page and codes[0] not in page  # never shown again
    assert db.session.scalar(select(AuditEvent.actor_id).where(AuditEvent.action == "user.two_factor_enabled")) \
        == user.id


def test_a_login_asks_for_the_code_after_the_password(app, member, clock):
    client = app.test_client()
    response = password_step(client, member, next="/account/password", remember="y")
    assert response.headers["Location"].endswith("/login/code")
    assert not logged_in(client)  # the password alone does not log in
    page = client.get("/login/code").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and "recovery code" in page
    response = client.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    assert logged_in(client)
    row = db.session.scalars(select(LoginSession).where(LoginSession.user_id == member.id)
                             .order_by(LoginSession.id.desc())).first()
    assert row.method == "totp" and row.remember
    assert client.get_cookie("remember_token") is not None
    # The pending login is used up.
    assert client.get("/login/code").headers["Location"].endswith("/login")


def test_a_code_is_never_accepted_twice(app, member, clock):
    first = app.test_client()
    password_step(first, member)
    code = code_at(member.secret, clock.now)
    assert first.post("/login/code", data={"code": code}).status_code == 302
    second = app.test_client()  # someone who saw the code over a shoulder, within its 30 seconds
    password_step(second, member)
    response = second.post("/login/code", data={"code": code})
    assert response.status_code == 400 and "already used" in response.get_data(as_text=True)
    # An older step's code is refused too; the next one is fine.
    assert second.post("/login/code", data={"code": code_at(member.secret, clock.now - STEP)}).status_code == 400
    assert second.post("/login/code", data={"code": code_at(member.secret, clock.now + STEP)}).status_code == 302


def test_five_wrong_codes_lock_the_code_step_for_a_while(app, member, clock):
    client = app.test_client()
    password_step(client, member)
    for _ in range(4):
        response = client.post("/login/code", data={"code": "123456"})
        assert response.status_code == 400 and "That code is wrong" in response.get_data(as_text=True)
    response = client.post("/login/code", data={"code": "123456"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "codes are not accepted until" in page
    assert "Dec 7, 2026, 9:15" in page  # fifteen minutes (TOTP_LOCK_SECONDS) from the frozen clock
    right = code_at(member.secret, clock.now)
    assert client.post("/login/code", data={"code": right}).status_code == 400  # even the right code waits
    assert not logged_in(client)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login_code_locked"))
    assert event.object_id == member.id
    clock.move(901)
    assert client.post("/login/code", data={"code": code_at(member.secret, clock.now)}).status_code == 302


def test_a_right_code_resets_the_count_of_wrong_ones(app, member, clock):
    client = app.test_client()
    password_step(client, member)
    for _ in range(4):
        client.post("/login/code", data={"code": "123456"})
    assert db.session.get(User, member.id).totp_failures == 4
    assert client.post("/login/code", data={"code": code_at(member.secret, clock.now)}).status_code == 302
    assert db.session.get(User, member.id).totp_failures == 0


def test_a_recovery_code_works_once(app, member, clock):
    client = app.test_client()
    password_step(client, member)
    response = client.post("/login/code", data={"code": member.codes[3].upper().replace("-", " ")})
    assert response.status_code == 302
    assert logged_in(client)
    assert db.session.scalars(select(LoginSession.method).where(LoginSession.user_id == member.id)
                              .order_by(LoginSession.id.desc())).first() == "recovery"
    assert "9 unused recovery codes" in client.get("/account/security").get_data(as_text=True)
    client.post("/logout")
    password_step(client, member)
    again = client.post("/login/code", data={"code": member.codes[3]})
    assert again.status_code == 400 and "wrong or was already used" in again.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.recovery_code_used"))
    assert event.data == {"left": 9}


def test_a_pending_login_expires_after_ten_minutes(app, member, clock):
    client = app.test_client()
    password_step(client, member)
    with client.session_transaction() as session:
        session[twofactor.PENDING_KEY]["started_at"] -= 601
    response = client.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not logged_in(client)
    assert "took too long" in client.get("/login").get_data(as_text=True)


def test_a_password_changed_meanwhile_voids_the_pending_login(app, member, clock):
    from manifesto.accounts.services import change_password

    client = app.test_client()
    password_step(client, member)
    change_password(db.session.get(User, member.id), PASSWORD, "another-long-passphrase-here")
    response = client.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not logged_in(client)


def test_turning_it_off_needs_the_password(app, member, clock):
    client = app.test_client()
    password_step(client, member)
    client.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    wrong = client.post("/account/security/two-factor/disable", data={"off-password": "not-my-password-at-all"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    assert db.session.get(User, member.id).two_factor_enabled
    response = client.post("/account/security/two-factor/disable", data={"off-password": PASSWORD})
    assert response.status_code == 302
    account = db.session.get(User, member.id)
    assert not account.two_factor_enabled and account.totp_secret is None
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == member.id)).all() == []
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.two_factor_disabled"))
    assert event.actor_id == member.id and event.reason is None
    client.post("/logout")
    assert password_step(client, member).headers["Location"].endswith("/")  # the password alone again


def test_new_recovery_codes_replace_the_old_ones(app, member, clock):
    client = app.test_client()
    password_step(client, member)
    client.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    response = client.post("/account/security/two-factor/recovery-codes", data={"password": PASSWORD})
    fresh = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", response.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(member.codes)
    client.post("/logout")
    password_step(client, member)
    assert client.post("/login/code", data={"code": member.codes[0]}).status_code == 400
    assert client.post("/login/code", data={"code": fresh[0]}).status_code == 302


def test_an_admin_resets_a_second_factor_with_a_reason(app, member, users, login, clock):
    phone = app.test_client()
    password_step(phone, member)
    phone.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    admin = app.test_client()
    login(users["admin"], test_client=admin)
    page = admin.get(f"/admin/users/{member.id}/security").get_data(as_text=True)
    assert "Reset the second factor" in page and "10 unused recovery codes" in page
    blank = admin.post(f"/admin/users/{member.id}/security/reset", data={"reason": "   "})
    assert blank.status_code == 400 and db.session.get(User, member.id).two_factor_enabled
    too_long = admin.post(f"/admin/users/{member.id}/security/reset", data={"reason": "x" * 2001})
    assert too_long.status_code == 400 and db.session.get(User, member.id).two_factor_enabled
    response = admin.post(f"/admin/users/{member.id}/security/reset",
                          data={"reason": "Lost her phone; identity checked by a call."})
    assert response.status_code == 302
    account = db.session.get(User, member.id)
    assert not account.two_factor_enabled and account.totp_secret is None and account.totp_failures == 0
    assert not logged_in(phone)  # every session of the member ended
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.two_factor_disabled"))
    assert (event.actor_id, event.object_id, event.reason) == (users["admin"].id, member.id,
                                                               "Lost her phone; identity checked by a call.")
    log = admin.get("/admin/security").get_data(as_text=True)
    assert "user two factors turned off" in log and "Lost her phone; identity checked by a call." in log
    assert users["admin"].name in log and member.name in log
    # Not for anyone else.
    assert phone.post("/login", data={"email": member.email, "password": PASSWORD}).status_code == 302
    assert phone.get("/admin/security").status_code == 403
    assert phone.post(f"/admin/users/{member.id}/security/reset", data={"reason": "x"}).status_code == 403


def test_two_factors_required_lead_a_moderator_to_the_setup(make_app, clock):
    from manifesto.accounts.services import register_user

    app = make_app(TWO_FACTOR_REQUIRED=True)
    with app.app_context():
        moderator = register_user("mod@example.org", "Mo Derator", PASSWORD, role="moderator")
        participant = register_user("part@example.org", "Pa Rticipant", PASSWORD)
        client = app.test_client()
        response = password_step(client, moderator, next="/account/password")
        assert response.headers["Location"].endswith("/account/security#two-factor")
        for path in ("/", "/account/password", "/admin/security"):
            assert client.get(path).headers["Location"].endswith("/account/security#two-factor"), path
        page = client.get("/account/security").get_data(as_text=True)
        assert "Two factors are required for moderators and admins" in page
        with client.get("/static/style.css") as style:
            assert style.status_code == 200
        secret, _codes = turn_on(client, clock)
        assert client.get("/account/password").status_code == 200  # free once it is done
        refused = client.post("/account/security/two-factor/disable", data={"off-password": PASSWORD})
        assert refused.status_code == 400 and "must keep two factors on" in refused.get_data(as_text=True)
        assert db.session.get(User, moderator.id).two_factor_enabled
        assert client.post("/logout").status_code == 302
        other = app.test_client()
        assert password_step(other, participant).headers["Location"].endswith("/")
        assert other.get("/account/password").status_code == 200  # participants are not asked


def test_two_tabs_racing_with_one_code_log_in_only_once(app, member, clock):
    """The accepted step is stored under the account's row lock: of six tries with one code, one wins."""
    import threading

    from sqlalchemy import text

    from manifesto.services import ServiceError

    pending = {"user_id": member.id, "token": twofactor._token_digest(db.session.get(User, member.id))}
    code = code_at(member.secret, clock.now)
    results: list[str] = []
    ready = threading.Barrier(7)

    def tab():
        with app.app_context():
            ready.wait()
            try:
                twofactor.check_login_code(pending, code)
                results.append("in")
            except ServiceError as error:
                results.append(error.message)
            finally:
                db.session.remove()

    tabs = [threading.Thread(target=tab) for _ in range(6)]
    db.session.commit()
    engine = db.engine
    # Hold the account's row from outside while every tab starts, so that they all meet at the lock.
    if engine.dialect.name == "postgresql":
        holder = engine.connect()
        holder.begin()
        holder.execute(text("SELECT id FROM users WHERE id = :id FOR UPDATE"), {"id": member.id})
    else:
        holder = engine.raw_connection()
        holder.cursor().execute("BEGIN IMMEDIATE")
    for thread in tabs:
        thread.start()
    ready.wait()
    if engine.dialect.name == "postgresql":
        holder.commit()
    else:
        holder.cursor().execute("COMMIT")
    holder.close()
    for thread in tabs:
        thread.join(30)
    assert results.count("in") == 1, results
    assert len(results) == 6 and all("already used" in r for r in results if r != "in"), results


def test_changing_the_password_keeps_a_two_factor_login_and_nothing_skips_the_code(app, member, clock):
    from manifesto.accounts.signin import SecondFactorSkipped, sign_in

    client = app.test_client()
    password_step(client, member)
    client.post("/login/code", data={"code": code_at(member.secret, clock.now)})
    response = client.post("/account/password", data={"current_password": PASSWORD,
                                                       "new_password": "a-brand-new-long-passphrase",
                                                       "confirm": "a-brand-new-long-passphrase"})
    assert response.status_code == 302 and logged_in(client)
    newest = db.session.scalars(select(LoginSession).where(LoginSession.user_id == member.id)
                                .order_by(LoginSession.id.desc())).first()
    assert newest.method == "totp"  # the fresh session keeps how this browser proved itself
    with app.test_request_context("/"), pytest.raises(SecondFactorSkipped):
        sign_in(db.session.get(User, member.id), method="password")
