"""Two factors in the browser: a delegate turns them on from the QR code page, logs out, logs in again with a code.

The issue's whole journey starts earlier: the secretariat imports its list of
delegates through the admin page, the invitation goes out by mail (through a
local SMTP server), and the delegate chooses her password from its link.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from e2e_helpers import OVERFLOWING, PASSWORD, axe_violations, describe, expect, log_in


def test_a_delegate_turns_on_two_factors_and_logs_in_with_a_code(new_page, live_server):
    from manifesto.accounts.services import register_user

    with live_server.context():
        register_user("delegate-2fa@example.org", "Dalia Delegate", PASSWORD, "Coop Andes", "Peru")
    page = new_page()
    log_in(page, "delegate-2fa@example.org")
    page.get_by_role("link", name="Dalia Delegate").click()
    page.get_by_role("link", name="security of your account").click()
    expect(page.get_by_role("heading", name="Security of your account", level=1)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="this device")).to_contain_text("Chrome")
    page.get_by_role("button", name="Set up two factors").click()

    # The QR code is drawn in the page, and the key is also written out for typing by hand.
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    words = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} )*[A-Z2-7]{1,4}", words), words
    violations = axe_violations(page)
    assert not violations, describe(violations)
    page.set_viewport_size({"width": 360, "height": 740})  # a phone: the QR code and the key fit
    overflow = page.evaluate(OVERFLOWING)
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow
    page.set_viewport_size({"width": 1280, "height": 900})
    app = pyotp.TOTP(words.replace(" ", ""))
    page.get_by_label("Code").fill(app.now())
    page.get_by_role("button", name="Turn two factors on").click()
    expect(page.get_by_role("heading", name="Your recovery codes", level=1)).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$"))) \
        .to_have_count(10)

    page.get_by_role("button", name="Log out").click()
    page.goto("/login")
    page.get_by_label("Email").fill("delegate-2fa@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your code", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)  # not logged in on the password alone
    # The code setup used is never accepted again: the app's next code is (one step ahead is allowed).
    page.get_by_label("Code").fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto("/account/security")
    expect(page.get_by_role("row").filter(has_text="this device")).to_contain_text("Password and a code from an app")


# --- the journey: an invited delegate ----------------------------------------------------------------------


@pytest.fixture
def mailbox(live_server):
    """A local SMTP server the live app sends to for this test, its links pointing at the live server."""
    from test_mail import Inbox, free_port, start_server

    port = free_port()
    inbox = Inbox()
    controller = start_server(port, inbox)
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_TIMEOUT": 5, "SITE_URL": live_server.url}
    before = {name: live_server.app.config.get(name) for name in settings}
    live_server.app.config.update(settings)
    yield inbox
    live_server.app.config.update(before)
    controller.stop()


def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    violations = axe_violations(page)
    assert not violations, f"{page.url}\n{describe(violations)}"


def test_an_invited_delegate_chooses_a_password_turns_on_two_factors_and_logs_in_with_a_code(
        new_page, live_server, mailbox):
    from test_mail import text_of

    from manifesto.accounts.services import register_user

    with live_server.context():
        register_user("secretariat-invites@example.org", "Sami Secretariat", PASSWORD, role="admin")
    delegate, colleague = "invited-delegate@example.org", "invited-colleague@example.org"

    # The secretariat uploads its list and sees what importing it would do, row by row, before anything is written.
    admin = new_page()
    log_in(admin, "secretariat-invites@example.org")
    admin.get_by_role("link", name="Accounts").click()
    admin.get_by_role("link", name="Import delegates from a list").click()
    expect(admin.get_by_role("heading", name="Import delegates from a list", level=1)).to_be_visible()
    assert_accessible(admin)
    data = ("name,email,organisation,country,role,language\r\n"
            f"Ines Invited,{delegate},Coop Andes,Peru,participant,en\r\n"
            f"Colette Colleague,{colleague},Coop Andes,Peru,participant,fr\r\n").encode()
    admin.get_by_label("CSV file of delegates").set_input_files(
        files=[{"name": "delegates.csv", "mimeType": "text/csv", "buffer": data}])
    admin.get_by_role("button", name="Preview the import").click()
    expect(admin.get_by_role("heading", name="Preview of the import", level=1)).to_be_visible()
    rows = admin.locator("table.import-preview tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=delegate)).to_contain_text("New account; an invitation is sent")
    expect(rows.filter(has_text=colleague)).to_contain_text("New account; an invitation is sent")
    with live_server.context():
        from manifesto.accounts.models import User
        from manifesto.extensions import db

        assert db.session.query(User).filter_by(email=delegate).count() == 0  # a preview writes nothing
    assert_accessible(admin)
    admin.get_by_role("button", name="Import 2 rows").click()
    expect(admin.get_by_text("2 accounts created, their owners invited by email.")).to_be_visible()
    # The list is paged and the other browser tests' accounts share this server: find her by her address.
    admin.goto(f"/admin/users?q={delegate}")
    expect(admin.get_by_role("row").filter(has_text=delegate)).to_contain_text("Invited, not yet accepted")

    # The invitation comes by mail, through the SMTP server, with its link to the live server.
    mailbox.wait(2)
    [invitation] = [message for rcpt, message in mailbox.messages if delegate in rcpt]
    assert invitation["Subject"].endswith("You are invited to take part")
    [link] = set(re.findall(re.escape(live_server.url) + r"(/invitation/[^\s\"<>]+)", text_of(invitation)))

    # The delegate opens it, on her own browser.
    page = new_page()
    page.goto(link)
    expect(page.get_by_role("heading", name="Welcome, Ines Invited", level=1)).to_be_visible()
    expect(page.get_by_text(delegate)).to_be_visible()
    assert_accessible(page)
    page.set_viewport_size({"width": 360, "height": 740})  # a phone, where many delegates open their mail
    overflow = page.evaluate(OVERFLOWING)
    assert overflow["scrollWidth"] <= overflow["clientWidth"], overflow
    page.set_viewport_size({"width": 1280, "height": 900})

    # A common password is refused, said by the field, and the page stays usable.
    page.get_by_label("New password", exact=True).fill("passwordpassword1")
    page.get_by_label("Repeat the new password").fill("passwordpassword1")
    page.get_by_role("button", name="Set my password").click()
    password = page.get_by_label("New password", exact=True)
    error = page.locator("#password-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("on the list of the most common passwords")
    expect(password).to_have_attribute("aria-invalid", "true")
    assert "password-error" in password.get_attribute("aria-describedby").split()
    expect(password).to_have_value("")  # the refused password is not sent back
    expect(page.get_by_role("button", name="Log out", exact=True)).to_have_count(0)
    assert_accessible(page)
    chosen = "a long passphrase of my own"
    password.fill(chosen)
    page.get_by_label("Repeat the new password").fill(chosen)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_text("Welcome, Ines Invited! Your password is set.")).to_be_visible()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()

    # Two factors, from the QR code page: the key's words typed into an app.
    page.goto("/account/security")
    page.get_by_role("button", name="Set up two factors").click()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")).to_be_visible()
    words = page.locator("code.secret").inner_text()
    app = pyotp.TOTP(words.replace(" ", ""))
    page.get_by_label("Code").fill(app.now())
    page.get_by_role("button", name="Turn two factors on").click()
    expect(page.get_by_role("heading", name="Your recovery codes", level=1)).to_be_visible()
    codes = page.locator("ol.recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes), codes
    assert_accessible(page)
    page.get_by_role("link", name="I have kept them: back to the security page").click()
    expect(page.get_by_role("heading", name="Security of your account", level=1)).to_be_visible()

    # Out, and back in with the password and a code.
    page.get_by_role("button", name="Log out", exact=True).click()
    page.goto("/login")
    page.get_by_label("Email").fill(delegate)
    page.get_by_label("Password").fill(chosen)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your code", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_have_count(0)
    assert_accessible(page)
    page.get_by_label("Code").fill(app.at(time.time() + 30))  # the code used for the setup is never taken again
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out", exact=True)).to_be_visible()
    page.goto("/account/security")
    expect(page.get_by_role("row").filter(has_text="this device")).to_contain_text("Password and a code from an app")

    # The invitation link is spent; the secretariat's list says she accepted.
    page.goto(link)
    expect(page.get_by_text("used already")).to_be_visible()
    admin.reload()
    expect(admin.get_by_role("row").filter(has_text=delegate)).not_to_contain_text("Invited, not yet accepted")
