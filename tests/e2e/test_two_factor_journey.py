"""A delegate turns on two factors from the QR code page, logs out, and logs in again with a code from the app."""

from __future__ import annotations

import re
import time

import pyotp

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
